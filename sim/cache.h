/* cache.h: the capacity of one core's caches: which lines it still has in L1, in L2, or in its share of the L3. */
#ifndef MMSIM_CACHE_H
#define MMSIM_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/machine.h"

/*
 * struct cache_level: a set-associative array of line tags, each set kept
 * in LRU order (most recent first); tag 0 is an empty way. sets 0: absent.
 */
struct cache_level {
	uint64_t *tags;
	uint32_t sets, ways;
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
	uint64_t last; /* the tag touched last: first in its L1 set, so touching it again changes nothing */
	bool on;
};

/* Where a line was found: L1, L2, L3 share, or not at all (memory). */
enum cache_where { CACHE_L1 = 1, CACHE_L2, CACHE_L3, CACHE_MEM };

/* Tag spaces: a physical line of the guest (data, or a page-table entry: pfn and byte offset), a host page-table line. */
#define CACHE_TAG_DATA(pfn, va) (((uint64_t)(pfn) << 6 | ((va) >> 6 & 63)) | 1ull << 62)
#define CACHE_TAG_HOST(level, line) ((uint64_t)(line) | (uint64_t)(level) << 56 | 1ull << 61)

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
