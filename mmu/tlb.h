/* tlb.h: set-associative TLB arrays with LRU, PCID tags and O(1) per-PCID flushes; one core's L1 D/I TLBs and STLB. */
#ifndef MMSIM_TLB_H
#define MMSIM_TLB_H

#include "mmu/pte.h"
#include "sim/machine.h"
#include "sim/util.h"

#define PCID_COUNT 4096

/* What a cached translation allows. */
#define ALLOW_R 1u
#define ALLOW_W 2u /* writable and already dirty: a write may complete from the TLB */
#define ALLOW_X 4u
#define ALLOW_RW 8u /* writable in the page table (D may still be clear) */

/*
 * struct tlb_entry: one cached translation. tag 0 means empty. The entry
 * is live only while `gen` equals its core's generation for the PCID, so
 * flushing a PCID is one increment.
 */
struct tlb_entry {
	uint64_t tag;
	uint64_t pfn; /* first 4 KiB frame of the page */
	uint32_t gen;
	uint8_t allow;
	uint8_t size; /* enum pg_size */
	uint16_t pcid;
	uint64_t lru;
};

/*
 * struct tlb_array: `sets` x `ways` entries. Arrays of more than
 * TLB_SCAN_WAYS ways (fully associative ones) also keep a hash index from
 * tag to slot so a lookup stays O(1).
 */
#define TLB_SCAN_WAYS 16
struct tlb_array {
	struct tlb_entry *e;
	uint32_t sets, ways, set_mask;
	uint32_t *hidx; /* slot+1 by hash of tag, 0 empty; NULL for set-scanned arrays */
	uint32_t hmask;
	/* hashed arrays: LRU order as a list of slots, most recent at head; empty slots at the tail */
	uint32_t *prev, *next;
	uint32_t head, tail;
	uint64_t stamp;
	const char *name;
};

/* tlb_lru_touch: make slot s the most recently used of a hashed array. */
static inline void tlb_lru_touch(struct tlb_array *a, uint32_t s)
{
	if (a->head == s)
		return;
	/* unlink (s is not the head, so it has a prev) */
	a->next[a->prev[s]] = a->next[s];
	if (a->tail == s)
		a->tail = a->prev[s];
	else
		a->prev[a->next[s]] = a->prev[s];
	/* push front */
	a->next[s] = a->head;
	a->prev[a->head] = s;
	a->head = s;
}

static inline uint64_t tlb_tag(uint64_t va, enum pg_size sz, uint16_t pcid)
{
	return ((va >> PG_SHIFT(sz)) << 15) | ((uint64_t)sz << 13) | ((uint64_t)pcid << 1) | 1;
}

static inline uint32_t tlb_hash(uint64_t tag) { return (uint32_t)((tag * 0x9E3779B97F4A7C15ull) >> 40); }

/* tlb_find: the live entry for tag, or NULL. Updates LRU on a hit. gen: the PCID's current generation. */
static inline struct tlb_entry *tlb_find(struct tlb_array *a, uint64_t va, enum pg_size sz, uint16_t pcid,
					 uint32_t gen)
{
	if (!a->e)
		return NULL;
	uint64_t tag = tlb_tag(va, sz, pcid);
	struct tlb_entry *e;
	if (likely(!a->hidx)) {
		e = &a->e[((va >> PG_SHIFT(sz)) & a->set_mask) * a->ways];
		for (uint32_t w = 0; w < a->ways; w++, e++)
			if (e->tag == tag) {
				if (e->gen != gen)
					return NULL;
				e->lru = ++a->stamp;
				return e;
			}
		return NULL;
	}
	for (uint32_t h = tlb_hash(tag) & a->hmask;; h = (h + 1) & a->hmask) {
		uint32_t s = a->hidx[h];
		if (!s)
			return NULL;
		e = &a->e[s - 1];
		if (e->tag == tag) {
			if (e->gen != gen)
				return NULL;
			tlb_lru_touch(a, s - 1);
			return e;
		}
	}
}

/*
 * struct tlb: one core's TLBs. l1d[sz]/l1i[sz] may point at the same array
 * when a CPU keeps several page sizes in one structure (a zero-entry size
 * in the machine file). The STLB holds 4 KiB and 2 MiB pages; 1 GiB pages
 * go to l2_1g, or to nothing if that has no entries.
 */
struct tlb {
	struct tlb_array arrays[7];
	struct tlb_array *l1d[3], *l1i[3], *l2[3];
	uint32_t *gen; /* PCID_COUNT generations */
};

void tlb_init(struct tlb *t, const struct machine *m);
void tlb_destroy(struct tlb *t);

/* tlb_fill: insert a translation into `a`, evicting the LRU entry of its set. */
void tlb_fill(struct tlb *t, struct tlb_array *a, uint64_t va, enum pg_size sz, uint16_t pcid, uint64_t pfn,
	      uint8_t allow);

/* tlb_invlpg: drop every entry (any size, any level) for the page holding va in `pcid`. Returns entries dropped. */
uint32_t tlb_invlpg(struct tlb *t, uint64_t va, uint16_t pcid);
/* tlb_flush_pcid: drop every entry of `pcid` (O(1)). */
void tlb_flush_pcid(struct tlb *t, uint16_t pcid);
/* tlb_flush_all: drop everything. */
void tlb_flush_all(struct tlb *t);

/* tlb_count_live: live entries of `pcid` in all arrays (tests and `show tlb`). */
uint32_t tlb_count_live(const struct tlb *t, uint16_t pcid);

#endif
