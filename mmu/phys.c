/* phys.c: frame allocator (per-core caches over a locked zone, as Linux's pcp lists) and PT-page bookkeeping. */
#include "mmu/phys.h"

struct pm *pm_create(uint64_t nframes, uint32_t ncores)
{
	if (nframes < 16)
		panic("pm_create: %llu frames is too few", (unsigned long long)nframes);
	struct pm *pm = xzalloc(sizeof(*pm));
	pm->nframes = nframes;
	/* Large zeroed arrays: the host only backs the parts that get touched. */
	pm->frames = xzalloc(sizeof(struct pm_frame) * nframes);
	pm->pt = xzalloc(sizeof(struct pm_ptpage *) * nframes);
	pm->free_cap = 1024;
	pm->free = xzalloc(sizeof(uint64_t) * pm->free_cap);
	pm->pcp = xzalloc(sizeof(struct pm_pcp) * ncores);
	pm->ncores = ncores;
	pm->next_fresh = 1;
	pthread_mutex_init(&pm->mu, NULL);
	return pm;
}

void pm_destroy(struct pm *pm)
{
	if (!pm)
		return;
	for (uint64_t i = 0; i < pm->next_fresh; i++) /* frames beyond were never handed out */
		xfree(pm->pt[i]);
	pthread_mutex_destroy(&pm->mu);
	xfree(pm->free);
	xfree(pm->pcp);
	xfree(pm->pt);
	xfree(pm->frames);
	xfree(pm);
}

static uint64_t zone_take(struct pm *pm)
{
	if (pm->nfree)
		return pm->free[--pm->nfree];
	if (pm->next_fresh < pm->nframes)
		return pm->next_fresh++;
	return 0;
}

static void zone_give(struct pm *pm, uint64_t pfn)
{
	if (pm->nfree == pm->free_cap) {
		pm->free_cap *= 2;
		pm->free = xrealloc(pm->free, sizeof(uint64_t) * pm->free_cap);
	}
	pm->free[pm->nfree++] = pfn;
}

static void mark_alloc(struct pm *pm, uint64_t pfn)
{
	struct pm_frame *f = &pm->frames[pfn];
	if (atomic_load(&f->flags) & PM_USED)
		panic("frame %llu allocated twice", (unsigned long long)pfn);
	atomic_store(&f->ref, 1);
	atomic_store(&f->flags, PM_USED);
	f->owner = 0;
	int64_t n = atomic_fetch_add(&pm->in_use, 1) + 1;
	int64_t p = atomic_load(&pm->peak);
	while (n > p && !atomic_compare_exchange_weak(&pm->peak, &p, n))
		;
}

/* alloc_one: pm_alloc; `charge` false leaves out kern.frame_alloc (a frame of a batch already charged). */
static uint64_t alloc_one(struct pm *pm, struct sim_core *c, bool charge)
{
	uint64_t pfn = 0;
	if (c) {
		struct pm_pcp *pcp = &pm->pcp[c->id];
		if (charge)
			sim_advance(c, c->sim->m->frame_alloc);
		if (!pcp->n) {
			/* Refill a batch under the zone lock (a modelled line, so refills contend). */
			coh_atomic(c, &pm->zone_lock);
			pthread_mutex_lock(&pm->mu);
			while (pcp->n < PM_PCP_BATCH) {
				uint64_t f = zone_take(pm);
				if (!f)
					break;
				pcp->pfn[pcp->n++] = f;
			}
			pthread_mutex_unlock(&pm->mu);
			coh_write(c, &pm->zone_lock);
		}
		if (pcp->n)
			pfn = pcp->pfn[--pcp->n];
	} else {
		pthread_mutex_lock(&pm->mu);
		pfn = zone_take(pm);
		pthread_mutex_unlock(&pm->mu);
	}
	if (pfn)
		mark_alloc(pm, pfn);
	return pfn;
}

uint64_t pm_alloc(struct pm *pm, struct sim_core *c) { return alloc_one(pm, c, true); }

uint64_t pm_alloc_huge(struct pm *pm, struct sim_core *c)
{
	pthread_mutex_lock(&pm->mu);
	uint64_t first = (pm->next_fresh + 511) & ~511ull;
	if (first + 512 > pm->nframes) {
		pthread_mutex_unlock(&pm->mu);
		return 0;
	}
	for (uint64_t f = pm->next_fresh; f < first; f++) /* the skipped frames stay usable */
		zone_give(pm, f);
	pm->next_fresh = first + 512;
	pthread_mutex_unlock(&pm->mu);
	if (c) {
		sim_advance(c, c->sim->m->frame_alloc);
		coh_atomic(c, &pm->zone_lock);
	}
	for (uint64_t i = 0; i < 512; i++)
		mark_alloc(pm, first + i);
	return first;
}

void pm_free(struct pm *pm, struct sim_core *c, uint64_t pfn)
{
	struct pm_frame *f = &pm->frames[pfn];
	if (pfn == 0 || pfn >= pm->nframes)
		panic("pm_free: bad pfn %llu", (unsigned long long)pfn);
	uint16_t fl = atomic_load(&f->flags);
	if (!(fl & PM_USED))
		panic("frame %llu freed twice", (unsigned long long)pfn);
	if (fl & PM_PT)
		atomic_fetch_sub(&pm->pt_in_use, 1);
	atomic_store(&f->flags, 0);
	atomic_store(&f->ref, 0);
	atomic_fetch_sub(&pm->in_use, 1);
	if (c) {
		struct pm_pcp *pcp = &pm->pcp[c->id];
		sim_advance(c, c->sim->m->frame_free);
		if (pcp->n == 2 * PM_PCP_BATCH) {
			coh_atomic(c, &pm->zone_lock);
			pthread_mutex_lock(&pm->mu);
			while (pcp->n > PM_PCP_BATCH)
				zone_give(pm, pcp->pfn[--pcp->n]);
			pthread_mutex_unlock(&pm->mu);
			coh_write(c, &pm->zone_lock);
		}
		pcp->pfn[pcp->n++] = pfn;
	} else {
		pthread_mutex_lock(&pm->mu);
		zone_give(pm, pfn);
		pthread_mutex_unlock(&pm->mu);
	}
}

void pm_get(struct pm *pm, uint64_t pfn)
{
	uint32_t old = atomic_fetch_add(&pm->frames[pfn].ref, 1);
	if (unlikely(old == 0))
		panic("pm_get on free frame %llu", (unsigned long long)pfn);
}

void pm_put(struct pm *pm, struct sim_core *c, uint64_t pfn)
{
	uint32_t old = atomic_fetch_sub(&pm->frames[pfn].ref, 1);
	if (unlikely(old == 0))
		panic("pm_put on free frame %llu", (unsigned long long)pfn);
	if (old == 1)
		pm_free(pm, c, pfn);
}

/* pt_make: frame pfn (allocated and zeroed) becomes a PT page for `level`, its lines in c's cache. */
static struct pm_ptpage *pt_make(struct pm *pm, struct sim_core *c, uint64_t pfn, int level)
{
	struct pm_ptpage *p = pm->pt[pfn];
	if (!p) {
		p = xaligned_zalloc(CACHELINE, sizeof(*p)); /* 10 KiB with jemalloc; page alignment would take 12 */
		p->pfn = pfn;
		pm->pt[pfn] = p;
	} else {
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			pte_store(p, i, 0);
		for (unsigned i = 0; i < PT_ENTRIES / 8; i++)
			coh_line_init(&p->lines[i]);
		p->desc = NULL;
	}
	/* A freshly zeroed page sits in the allocating core's cache. */
	if (c)
		for (unsigned i = 0; i < PT_ENTRIES / 8; i++)
			p->lines[i].owner = p->lines[i].last = (uint16_t)(c->id + 1);
	pm->frames[pfn].level = (uint16_t)level;
	atomic_fetch_add(&pm->pt_in_use, 1);
	atomic_store_explicit(&pm->frames[pfn].flags, PM_USED | PM_PT, memory_order_release);
	return p;
}

struct pm_ptpage *pm_pt_alloc(struct pm *pm, struct sim_core *c, int level)
{
	uint64_t pfn = pm_alloc(pm, c);
	if (!pfn)
		return NULL;
	struct pm_ptpage *p = pt_make(pm, c, pfn, level);
	if (c)
		pm_zero(c);
	return p;
}

bool pm_pt_pool_fill(struct pm *pm, struct sim_core *c, uint32_t low, uint32_t max)
{
	struct pm_pcp *pcp = &pm->pcp[c->id];
	if (max > PM_PT_POOL_MAX)
		panic("pm_pt_pool_fill: a pool of %u frames (at most %d)", max, PM_PT_POOL_MAX);
	if (pcp->npool > low)
		return true;
	bool first = true;
	while (pcp->npool < max) {
		uint64_t pfn = alloc_one(pm, c, first); /* one allocation charged for the segment */
		if (!pfn)
			return false;
		first = false;
		pm_zero(c);
		pcp->pool[pcp->npool++] = pfn;
		atomic_fetch_add(&pm->pooled, 1);
	}
	return true;
}

struct pm_ptpage *pm_pt_alloc_pooled(struct pm *pm, struct sim_core *c, int level)
{
	struct pm_pcp *pcp = c ? &pm->pcp[c->id] : NULL;
	if (!pcp || !pcp->npool)
		return pm_pt_alloc(pm, c, level);
	uint64_t pfn = pcp->pool[--pcp->npool];
	atomic_fetch_sub(&pm->pooled, 1);
	return pt_make(pm, c, pfn, level);
}

void pm_pt_free(struct pm *pm, struct sim_core *c, struct pm_ptpage *p)
{
	uint64_t pfn = p->pfn;
	if (!(atomic_load(&pm->frames[pfn].flags) & PM_PT))
		panic("pm_pt_free: frame %llu is not a PT page", (unsigned long long)pfn);
	atomic_store(&pm->frames[pfn].ref, 1);
	pm_put(pm, c, pfn);
}
