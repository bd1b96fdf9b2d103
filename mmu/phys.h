/* phys.h: simulated physical memory: frame metadata, a per-core-cached frame allocator, and PT pages holding real x86-64 tables. */
#ifndef MMSIM_PHYS_H
#define MMSIM_PHYS_H

#include "mmu/pte.h"
#include "sim/coh.h"

/* Frame flags. */
#define PM_USED (1u << 0) /* allocated */
#define PM_PT (1u << 1)	  /* holds a page table */

/*
 * struct pm_frame: metadata of one 4 KiB frame; frames have no data bytes.
 * `ref` counts the references that keep the frame alive (mappings, the page
 * cache, pending frees); its owner decides what they are. `owner` is a
 * free-form tag for display (an address-space or file id).
 */
struct pm_frame {
	_Atomic uint32_t ref;
	_Atomic uint16_t flags;
	uint16_t level; /* PT pages: the level of the table */
	uint32_t owner;
	uint32_t pad;
};

/*
 * struct pm_ptpage: the host side of a PT page: the 512 real entries, one
 * modelled line per 8 entries, and a slot for the design's descriptor.
 * Allocated the first time its frame becomes a PT page and kept (attached
 * to the pfn) until pm_destroy, so a stale pointer never reaches freed host
 * memory; the frame flag PM_PT says whether it is a page table right now.
 */
struct pm_ptpage {
	uint64_t e[PT_ENTRIES]; /* first member: cache-line aligned (8 entries a host line, as a modelled one) */
	struct coh_line lines[PT_ENTRIES / 8];
	uint64_t pfn;
	void *desc; /* owned by the design that allocated the page */
};

/*
 * Frames moved between a core's cache and the zone at once: Linux's pcp
 * batch, from zone_batchsize() in mm/page_alloc.c: min(zone pages / 1024,
 * 1 MiB / PAGE_SIZE) / 4 = 64 for any zone of 1 GiB or more, then
 * rounddown_pow_of_two(64 + 64 / 2) - 1 = 63. (Linux 6.7 and later may also
 * scale a refill up by pcp->alloc_factor; that is not modelled.)
 */
#define PM_PCP_BATCH 63

/*
 * The most zeroed frames a core keeps for page tables (pm_pt_pool_fill):
 * Asterinas's OSTD keeps 12 (ostd/src/mm/page_table/zeroed_pt_pool.rs,
 * MAX_POOL_SIZE, CortenMM-Artifact f39c207).
 */
#define PM_PT_POOL_MAX 12

struct pm_pcp {
	uint32_t n;
	uint64_t pfn[2 * PM_PCP_BATCH];
	uint32_t npool;			/* zeroed frames kept for page tables (pm_pt_pool_fill) */
	uint64_t pool[PM_PT_POOL_MAX];
};

struct pm {
	uint64_t nframes;
	struct pm_frame *frames;
	struct pm_ptpage **pt; /* by pfn */
	struct pm_pcp *pcp;    /* per core */
	uint32_t ncores;

	/* the zone: guarded by `mu` on the host, modelled by `zone_lock` */
	pthread_mutex_t mu;
	uint64_t *free;
	uint64_t nfree, free_cap, next_fresh;
	struct coh_line zone_lock;

	_Atomic int64_t in_use, pt_in_use, peak;
	_Atomic int64_t pooled; /* of in_use: zeroed frames waiting in the cores' PT pools */
};

/* pm_create: `nframes` frames (frame 0 is reserved: pfn 0 means "none"). */
struct pm *pm_create(uint64_t nframes, uint32_t ncores);
void pm_destroy(struct pm *pm);

/*
 * pm_alloc: take a free frame with ref = 1, charging kern.frame_alloc to c
 * (plus the zone lock when the core's cache is empty). c may be NULL
 * (outside any core: no charge). Returns 0 when memory is exhausted.
 * Zeroing is not included: the caller charges pm_zero() when it zeroes.
 */
uint64_t pm_alloc(struct pm *pm, struct sim_core *c);

/*
 * pm_alloc_huge: 512 contiguous frames starting at a 2 MiB-aligned pfn,
 * each with ref = 1 (they are freed one by one like any frame). Only never
 * used memory is contiguous here: there is no buddy allocator, so when it
 * runs out this returns 0 and the caller falls back to 4 KiB pages.
 */
uint64_t pm_alloc_huge(struct pm *pm, struct sim_core *c);

/* pm_free: return a frame whose references are gone. */
void pm_free(struct pm *pm, struct sim_core *c, uint64_t pfn);

/* pm_get/pm_put: take or drop a reference; pm_put frees the frame on the last one. */
void pm_get(struct pm *pm, uint64_t pfn);
void pm_put(struct pm *pm, struct sim_core *c, uint64_t pfn);
static inline uint32_t pm_ref(const struct pm *pm, uint64_t pfn)
{
	return atomic_load_explicit(&pm->frames[pfn].ref, memory_order_acquire);
}

/* pm_zero: charge clearing one 4 KiB frame. */
static inline void pm_zero(struct sim_core *c) { sim_advance(c, c->sim->m->zero_page); }

/*
 * pm_pt_alloc: allocate a zeroed PT page for table level `level` (charges
 * allocation and zeroing). Returns NULL when memory is exhausted.
 * pm_pt_free: free it; the caller guarantees no walker can reach it any more
 * (unlinked, and TLBs/paging-structure caches flushed or a grace period passed).
 */
struct pm_ptpage *pm_pt_alloc(struct pm *pm, struct sim_core *c, int level);

/*
 * A per-core pool of zeroed frames for page tables, as Asterinas keeps so
 * that no page-table lock is held while a frame is allocated and zeroed.
 * pm_pt_pool_fill: if c's pool holds `low` or fewer frames, allocate frames
 * until it holds `max` (at most PM_PT_POOL_MAX) and zero each, charged to c
 * now: call it before taking any lock. One allocation is charged for the
 * batch (Asterinas takes them as one segment). Returns false when memory is
 * exhausted (the pool keeps what it got).
 * pm_pt_alloc_pooled: pm_pt_alloc, but a frame from c's pool when it has
 * one, with no allocation or zeroing charged (it was paid at the fill).
 * Pooled frames count in none of pm_in_use's frames until they are taken.
 */
bool pm_pt_pool_fill(struct pm *pm, struct sim_core *c, uint32_t low, uint32_t max);
/* pm_pt_pool_count: how many zeroed frames c's pool holds now. */
static inline uint32_t pm_pt_pool_count(const struct pm *pm, const struct sim_core *c) { return pm->pcp[c->id].npool; }
struct pm_ptpage *pm_pt_alloc_pooled(struct pm *pm, struct sim_core *c, int level);
void pm_pt_free(struct pm *pm, struct sim_core *c, struct pm_ptpage *p);

/* pm_pt: the PT page at pfn, or NULL if that frame is not a page table now. */
static inline struct pm_ptpage *pm_pt(const struct pm *pm, uint64_t pfn)
{
	if (unlikely(pfn >= pm->nframes))
		return NULL;
	if (!(atomic_load_explicit(&pm->frames[pfn].flags, memory_order_acquire) & PM_PT))
		return NULL;
	return pm->pt[pfn];
}

/* Entry access: relaxed atomics, since hardware walkers read tables that software is writing. */
static inline uint64_t pte_load(const struct pm_ptpage *p, unsigned i)
{
	return __atomic_load_n(&p->e[i], __ATOMIC_RELAXED);
}
static inline void pte_store(struct pm_ptpage *p, unsigned i, uint64_t v)
{
	__atomic_store_n(&p->e[i], v, __ATOMIC_RELEASE);
}
static inline bool pte_cas(struct pm_ptpage *p, unsigned i, uint64_t old, uint64_t v)
{
	return __atomic_compare_exchange_n(&p->e[i], &old, v, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}
static inline struct coh_line *pte_line(struct pm_ptpage *p, unsigned i) { return &p->lines[i / 8]; }
/* pte_tag: entry i's line by its physical address, for the capacity model (sim/cache.h). */
static inline uint64_t pte_tag(const struct pm_ptpage *p, unsigned i) { return CACHE_TAG_DATA(p->pfn, (uint64_t)i * 8); }
/* pte_access: core c reads, writes or updates atomically the line of entry i: coherence and capacity (a sync point). */
static inline cycles_t pte_access(struct sim_core *c, struct pm_ptpage *p, unsigned i, enum coh_op op)
{
	return coh_access_at(c, pte_line(p, i), op, pte_tag(p, i));
}

/* Counts. */
/* pm_in_use: frames mappings and page tables hold (not those waiting in PT pools); pm_pt_in_use: of them, page tables. */
static inline int64_t pm_in_use(const struct pm *pm) { return atomic_load(&pm->in_use) - atomic_load(&pm->pooled); }
static inline int64_t pm_pt_in_use(const struct pm *pm) { return atomic_load(&pm->pt_in_use); }

#endif
