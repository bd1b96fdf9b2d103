/* cache.h: the capacity of one core's caches: which lines it still has in L1, in L2, or in its share of the L3. */
#ifndef MMSIM_CACHE_H
#define MMSIM_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/machine.h"

/*
 * CACHE_GROUP: sets stored together in one block. A core touches few of its
 * L2 and L3 sets (1,030 distinct lines of 16,384 and 32,768 in a 384-core
 * mmap run), so a level keeps only the lines it holds: memory follows the
 * lines touched, not the capacity. 48: a group's directory entry fills one
 * 64-byte host line.
 */
#define CACHE_GROUP 48

/*
 * struct cache_group: the directory entry of CACHE_GROUP consecutive sets:
 * set j's n[j] codes, most recently used first, follow those of sets
 * 0..j-1 in `code`, which has room for cap codes (NULL until the first).
 */
struct cache_group {
	uint32_t *code;
	uint16_t cap, total;
	uint8_t n[CACHE_GROUP];
};

/*
 * CACHE_DENSE_LINES: a level of at most this many lines (an L1: 768 on
 * epyc9965) keeps them all in one array, set after set, code 0 an empty way:
 * it fills at once, and one array costs a host cache miss fewer than groups.
 */
#define CACHE_DENSE_LINES 1024

/*
 * struct cache_level: a set-associative LRU array of line codes
 * (cache_code): dense, or in groups made on first use. sets 0: absent.
 */
struct cache_level {
	uint32_t *dense;
	struct cache_group *grp;
	uint32_t sets, ways;
	uint32_t mask; /* sets - 1 when sets is a power of two (a set is then picked without a division), else 0 */
};

/* struct cache_intern: codes handed to tags with no direct one (cache_code), by open addressing; key 0 is a free slot. */
struct cache_intern {
	uint64_t *key;
	uint32_t *code;
	uint32_t n, cap;
};

/*
 * struct cache: one core's L1, L2 and share of its CCX's L3 (cache.l3.kib /
 * topo.cores_per_ccx), of lines named by physical address, inclusive: a line found in a lower level is copied
 * into the levels above it. Capacity only: the coherence model (sim/coh.h)
 * says whether the core may hold a line at all; this says how far away a
 * line it may hold has gone. Touched only by the owning core.
 */
struct cache {
	struct cache_level l[3];
	struct cache_intern in;
	uint64_t last; /* the tag touched last: first in its L1 set, so touching it again changes nothing */
	bool on;
};

/* Where a line was found: L1, L2, L3 share, or not at all (memory). */
enum cache_where { CACHE_L1 = 1, CACHE_L2, CACHE_L3, CACHE_MEM };

/* Tag spaces: a physical line of the guest (data, or a page-table entry: pfn and byte offset), a host page-table line. */
#define CACHE_TAG_DATA(pfn, va) (((uint64_t)(pfn) << 6 | ((va) >> 6 & 63)) | 1ull << 62)
#define CACHE_TAG_HOST(level, line) ((uint64_t)(line) | (uint64_t)(level) << 56 | 1ull << 61)

/*
 * cache_code: the 32-bit code the arrays keep for `tag` (never 0): direct for
 * the tags of the first 2^25 frames (128 GiB) and of host lines of guest frames below 2^32;
 * any other tag gets the next free code of ch's intern table. One tag, one code.
 */
uint32_t cache_code(struct cache *ch, uint64_t tag);

/* cache_init: size the arrays from m (all absent when cache.l1.kib is 0). cache_fini frees them. */
void cache_init(struct cache *ch, const struct machine *m);
void cache_fini(struct cache *ch);

/*
 * cache_touch: the core uses the line `tag`: returns where it was, and
 * leaves it most recently used in every level (evicting each set's least
 * recently used line where it was absent). With the model off: CACHE_L1.
 */
enum cache_where cache_touch_slow(struct cache *ch, uint64_t tag);
static inline enum cache_where cache_touch(struct cache *ch, uint64_t tag)
{
	if (!ch->on || tag == ch->last)
		return CACHE_L1;
	return cache_touch_slow(ch, tag);
}

/* cache_cost: the load-to-use latency of a line found at `w` on machine m (L1: coh.hit; memory: coh.mem). */
cycles_t cache_cost(const struct machine *m, enum cache_where w);

#endif
