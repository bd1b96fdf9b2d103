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
 * tag to slot so a lookup stays O(1). The others are scanned:
 * - laid out in groups of 4 ways (tlb_at): ways 0-3 of every set, then ways
 *   4-7, ... (one way per group when the ways are not a multiple of 4), and
 *   `used` counts the ways of each set ever filled, the rest being empty:
 *   a young TLB touches only its first rows (on a virtual machine each
 *   fresh host page a core touches costs microseconds), a full set still
 *   sits in a few runs of adjacent lines;
 * - `fp` keeps a 16-bit fingerprint of each way's tag, set by set, so a
 *   lookup (an access, or an INVLPG a shootdown runs on a remote core) reads
 *   one line of fingerprints and only the entry that matches.
 */
#define TLB_SCAN_WAYS 16
struct tlb_array {
	struct tlb_entry *e;
	uint8_t *used;	/* scanned arrays: ways of each set filled at least once (they come first) */
	uint16_t *fp;	/* scanned arrays: fingerprint of each way's tag (tlb_fp), set-major; 0 when empty */
	uint32_t gshift; /* scanned arrays: log2 of the ways per group (2, or 0) */
	uint32_t nsize[3]; /* entries holding a translation of each page size (live or stale): 0 skips a lookup */
	uint16_t *slot_pcid; /* hashed arrays: 1 + the PCID of each slot's entry, 0 if empty (a PCID flush scans this) */
	uint32_t sets, ways, set_mask;
	uint32_t *hidx; /* by hash of tag: TLB_HIDX(tag, slot), 0 empty; NULL for set-scanned arrays */
	uint32_t hmask;
	/* hashed arrays: LRU order as a list of slots, most recent at head; empty slots at the tail (see lru_prev) */
	uint32_t *prev, *next;
	uint32_t head, tail;
	uint64_t stamp;
	const char *name;
};

/*
 * The LRU links of hashed arrays are stored XOR their initial values (slot
 * s between s - 1 and s + 1, the head at 0, the tail at the last slot), so
 * zeroed memory is the initial list and making a TLB touches none of it.
 */
static inline uint32_t lru_init_prev(uint32_t s) { return s ? s - 1 : 0; }
static inline uint32_t lru_init_next(const struct tlb_array *a, uint32_t s)
{
	return s + 1 < a->sets * a->ways ? s + 1 : 0;
}
static inline uint32_t lru_prev(const struct tlb_array *a, uint32_t s) { return a->prev[s] ^ lru_init_prev(s); }
static inline uint32_t lru_next(const struct tlb_array *a, uint32_t s) { return a->next[s] ^ lru_init_next(a, s); }
static inline void lru_set_prev(struct tlb_array *a, uint32_t s, uint32_t v) { a->prev[s] = v ^ lru_init_prev(s); }
static inline void lru_set_next(struct tlb_array *a, uint32_t s, uint32_t v) { a->next[s] = v ^ lru_init_next(a, s); }

/* tlb_lru_touch: make slot s the most recently used of a hashed array. */
static inline void tlb_lru_touch(struct tlb_array *a, uint32_t s)
{
	if (a->head == s)
		return;
	/* unlink (s is not the head, so it has a prev) */
	lru_set_next(a, lru_prev(a, s), lru_next(a, s));
	if (a->tail == s)
		a->tail = lru_prev(a, s);
	else
		lru_set_prev(a, lru_next(a, s), lru_prev(a, s));
	/* push front */
	lru_set_next(a, s, a->head);
	lru_set_prev(a, a->head, s);
	a->head = s;
}

/* tlb_at: entry `way` of `set` in a scanned array. */
static inline struct tlb_entry *tlb_at(const struct tlb_array *a, uint32_t set, uint32_t way)
{
	uint32_t g = a->gshift;
	return &a->e[((((size_t)way >> g) * a->sets + set) << g) + (way & ((1u << g) - 1))];
}

/* tlb_fp: the fingerprint of a tag (never 0; bits independent of tlb_hash's). */
static inline uint16_t tlb_fp(uint64_t tag) { return (uint16_t)((tag * 0xC2B2AE3D27D4EB4Full) >> 48) | 1; }

/* A used cell of a hash index: the tag's fingerprint above 1 + the slot, so a probe reads an entry only when they match. */
#define TLB_HIDX(tag, slot) ((uint32_t)tlb_fp(tag) << 16 | ((slot) + 1))
#define TLB_HIDX_SLOT(v) (((v) & 0xffffu) - 1)

/* tlb_entry_at: entry k in set order (set k / ways, way k % ways; the slot in a hashed array), for listings. */
static inline const struct tlb_entry *tlb_entry_at(const struct tlb_array *a, uint32_t k)
{
	return a->hidx ? &a->e[k] : tlb_at(a, k / a->ways, k % a->ways);
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
	if (!a->e || !a->nsize[sz])
		return NULL;
	uint64_t tag = tlb_tag(va, sz, pcid);
	struct tlb_entry *e;
	if (likely(!a->hidx)) {
		uint32_t set = (uint32_t)((va >> PG_SHIFT(sz)) & a->set_mask);
		const uint16_t *f = &a->fp[(size_t)set * a->ways], want = tlb_fp(tag);
		for (uint32_t w = 0, n = a->used[set]; w < n; w++) {
			if (f[w] != want)
				continue;
			e = tlb_at(a, set, w);
			if (e->tag == tag) {
				if (e->gen != gen)
					return NULL;
				e->lru = ++a->stamp;
				return e;
			}
		}
		return NULL;
	}
	uint32_t want = TLB_HIDX(tag, 0) & ~0xffffu;
	for (uint32_t h = tlb_hash(tag) & a->hmask;; h = (h + 1) & a->hmask) {
		uint32_t v = a->hidx[h];
		if (!v)
			return NULL;
		if ((v & ~0xffffu) != want)
			continue;
		e = &a->e[TLB_HIDX_SLOT(v)];
		if (e->tag == tag) {
			if (e->gen != gen)
				return NULL;
			tlb_lru_touch(a, TLB_HIDX_SLOT(v));
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
	uint32_t *gens;	   /* PCID_COUNT generations, one every `pstride` words: read them with tlb_gen */
	uint32_t pstride; /* 1 on the heap; in an arena, the cores' count (struct tlb_arena) */
	bool in_arena;	   /* the arrays belong to a tlb_arena (tlb_destroy leaves them) */
	/*
	 * A filter for INVLPG, host-side only: bit (va >> 21) % 512 is set when
	 * a page of that 2 MiB region is filled, `big` when a 1 GiB page is;
	 * both are cleared only with every entry (tlb_flush_all). A clear bit
	 * means no entry, live or stale, can hold va: a remote INVLPG for a page
	 * this core never touched (most of a shootdown's targets) reads one word.
	 */
	uint64_t regions[8];
	bool big;
};

/* tlb_gen: where this TLB keeps the generation of pcid. */
static inline uint32_t *tlb_gen(const struct tlb *t, uint16_t pcid) { return &t->gens[(size_t)pcid * t->pstride]; }

/*
 * struct tlb_arena: the TLB arrays of many cores in one mapping, in three
 * parts. The hot part holds what every core reads from its first accesses
 * on (L1 TLBs, hash indexes, per-set counts and fingerprints); it is made
 * present at once, with one system call. The lazy part holds the entries of
 * the scanned arrays (the STLB: the bulk), touched page by page as they fill
 * and always written before they are read. The PCID part holds tables of one
 * word per PCID per core (the TLBs' generations, and the caller's:
 * tlb_arena_pcid), transposed: the n cores' words for one PCID sit together,
 * so a run with a few address spaces touches a page or two of each table in
 * all, where a table per core touched a page per core (a fresh page costs
 * 10-30 us on this project's virtual machine, whether faulted in or made
 * present in bulk and touched later: the hypervisor maps it then). Measured
 * here: a page fault about 10 us, 21 us when a read maps the zero page first,
 * a page made present in bulk about 2.5 us. Handed out in order, freed at once.
 */
struct tlb_arena {
	char *base[3];	   /* 0: the hot part, present at once; 1: the lazy part; 2: the PCID tables */
	size_t size[3], used[2];
	uint32_t ncores, ntlbs; /* the cores it holds, the TLBs made in it so far */
	void *map;	   /* the mapping, and its size */
	size_t map_size;
};

/*
 * tlb_arena_init: room for n cores' TLBs of machine m, and `tables` more PCID
 * tables. tlb_arena_fini: unmap it (after tlb_destroy of each TLB).
 * tlb_arena_pcid: core c's words of PCID table k (0 <= k < tables): the word
 * of PCID p is at [p * n], zero at first.
 */
void tlb_arena_init(struct tlb_arena *ar, const struct machine *m, uint32_t n, uint32_t tables);
void tlb_arena_fini(struct tlb_arena *ar);
uint32_t *tlb_arena_pcid(struct tlb_arena *ar, uint32_t k, uint32_t c);

/* tlb_init: empty TLBs of machine m's geometry, from the heap; tlb_init_in: from arena ar (NULL: the heap), core after core. */
void tlb_init(struct tlb *t, const struct machine *m);
void tlb_init_in(struct tlb *t, const struct machine *m, struct tlb_arena *ar);
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
