/* pt.c: CortenMM's PT-page descriptors: making and freeing them (at once, or after a grace period), their per-PTE statuses, and the teardown of a space's tables. */
#include "cortenmm/cm.h"

#include <string.h>

static struct pm *pm_of(struct cm_as *mm) { return mm->as->sys->pm; }

struct cm_pt *cm_pt_new(struct cm_as *mm, struct mmu_cpu *cpu, int level, struct cm_pt *parent)
{
	struct sim_core *c = cpu ? cpu->core : NULL;
	struct pm_ptpage *p = mm->as->sys->o.dopt[CM_OPT_NO_PT_POOL] ? pm_pt_alloc(pm_of(mm), c, level)
								       : pm_pt_alloc_pooled(pm_of(mm), c, level);
	if (!p)
		panic("cortenmm: out of simulated memory for page tables");
	struct cm_pt *d = xaligned_zalloc(CACHELINE, sizeof(*d));
	d->p = p;
	d->level = level;
	d->parent = parent;
	d->mm = mm;
	lk_rwsem_init(&d->rw);
	lk_mcs_init(&d->mcs);
	if (cpu) { /* the new descriptor's lock words start in the allocating core's cache */
		d->rw.count.owner = d->rw.count.last = (uint16_t)(cpu->core->id + 1);
		d->mcs.tail.owner = d->mcs.tail.last = (uint16_t)(cpu->core->id + 1);
	}
	p->desc = d;
	atomic_fetch_add(&mm->desc_bytes, sizeof(*d));
	atomic_fetch_add(&mm->st.pt_alloc, 1);
	return d;
}

void cm_meta_set(struct cm_pt *d, unsigned i, const struct cm_meta *m)
{
	bool was = d->meta && d->meta[i].kind != CM_INVALID;
	bool now = m && m->kind != CM_INVALID;
	if (now) {
		if (!d->meta) { /* the metadata array comes with the first status */
			d->meta = xzalloc(sizeof(struct cm_meta) * PT_ENTRIES);
			atomic_fetch_add(&d->mm->meta_bytes, sizeof(struct cm_meta) * PT_ENTRIES);
		}
		d->meta[i] = *m;
	} else if (d->meta) {
		memset(&d->meta[i], 0, sizeof(d->meta[i]));
	}
	d->nmeta = (uint16_t)(d->nmeta + now - was);
}

struct cm_meta cm_meta_get(const struct cm_pt *d, unsigned i)
{
	struct cm_meta m = { 0 };
	if (d->meta)
		m = d->meta[i];
	return m;
}

void cm_pt_free(struct cm_pt *d)
{
	struct cm_as *mm = d->mm;
	if (d->meta)
		atomic_fetch_sub(&mm->meta_bytes, sizeof(struct cm_meta) * PT_ENTRIES);
	atomic_fetch_sub(&mm->desc_bytes, sizeof(*d));
	atomic_fetch_add(&mm->st.pt_free, 1);
	xfree(d->meta);
	d->p->desc = NULL;
	pm_pt_free(pm_of(mm), NULL, d->p);
	xfree(d);
}

static void pt_free_rcu(struct sim_rcu_head *h) { cm_pt_free(caa_container_of(h, struct cm_pt, rcu)); }

void cm_pt_free_later(struct cm_pt *d) { sim_rcu_defer(&d->rcu, pt_free_rcu); }

/* destroy_rec: drop every frame reference under d and free its child tables (and d, unless it is the root). */
static void destroy_rec(struct cm_as *mm, struct cm_pt *d)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = pte_load(d->p, i);
		if (pte_is_table(e, d->level)) {
			destroy_rec(mm, cm_child(mm, e));
		} else if (pte_mapped(e)) {
			unsigned n = d->level == 2 ? PT_ENTRIES : 1;
			for (unsigned j = 0; j < n; j++)
				if (PTE_PFN(e) + j != mm->as->sys->zero_pfn)
					pm_put(pm_of(mm), NULL, PTE_PFN(e) + j);
		}
		pte_store(d->p, i, 0);
	}
	if (d != mm->root)
		cm_pt_free(d);
}

void cm_destroy_tables(struct cm_as *mm) { destroy_rec(mm, mm->root); }
