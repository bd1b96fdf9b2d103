/* mmu.c: MMU construction, address-space contexts, CR3 switches and counters. */
#include "mmu/mmu.h"

#include <string.h>

static void psc_init(struct psc_level *pl, uint32_t n)
{
	pl->n = n;
	pl->e = n ? xzalloc(sizeof(struct psc_entry) * n) : NULL;
}

struct mmu *mmu_create(struct sim *s, const struct mmu_opts *o)
{
	if (o->levels != 4 && o->levels != 5)
		panic("mmu_create: %d paging levels (4 or 5)", o->levels);
	struct mmu *mmu = xzalloc(sizeof(*mmu));
	mmu->o = *o;
	mmu->m = s->m;
	mmu->sim = s;
	mmu->pm = pm_create(o->nframes, s->o.ncores);
	mmu->cpus = xaligned_zalloc(CACHELINE, sizeof(struct mmu_cpu) * s->o.ncores);
	atomic_store(&mmu->next_space_id, 1);
	/* Beside the TLBs, two PCID tables: the PSC generations and the PCIDs' owners (see struct tlb_arena). */
	tlb_arena_init(&mmu->tlb_arena, s->m, s->o.ncores, 2);
	s->on_resume = mmu_pending_apply;
	for (uint32_t i = 0; i < s->o.ncores; i++) {
		struct mmu_cpu *cpu = &mmu->cpus[i];
		cpu->core = &s->cores[i];
		cpu->mmu = mmu;
		s->cores[i].hw = cpu;
		tlb_init_in(&cpu->tlb, s->m, &mmu->tlb_arena);
		psc_init(&cpu->psc[2], s->m->psc_pde);
		psc_init(&cpu->psc[3], s->m->psc_pdpt);
		psc_init(&cpu->psc[4], s->m->psc_pml4);
		psc_init(&cpu->psc[5], o->levels == 5 ? s->m->psc_pml5 : 0);
		npt_init(&cpu->npt, s->m);
		cpu->psc_gens = tlb_arena_pcid(&mmu->tlb_arena, 0, i); /* generation 0 first */
		cpu->pcid_owners = tlb_arena_pcid(&mmu->tlb_arena, 1, i);
	}
	return mmu;
}

void mmu_destroy(struct mmu *mmu)
{
	if (!mmu)
		return;
	for (uint32_t i = 0; i < mmu->sim->o.ncores; i++) {
		struct mmu_cpu *cpu = &mmu->cpus[i];
		mmu_pending_drop(cpu);
		tlb_destroy(&cpu->tlb);
		for (int l = 0; l < 6; l++)
			xfree(cpu->psc[l].e);
		npt_fini(&cpu->npt);
		cpu->core->hw = NULL;
	}
	tlb_arena_fini(&mmu->tlb_arena);
	pm_destroy(mmu->pm);
	xfree(mmu->cpus);
	xfree(mmu);
}

int mmu_space_init(struct mmu *mmu, struct mmu_space *sp, struct sim_core *c)
{
	memset(sp, 0, sizeof(*sp));
	sp->mmu = mmu;
	sp->id = atomic_fetch_add(&mmu->next_space_id, 1);
	sp->pcid = (uint16_t)(sp->id % (PCID_COUNT - 1) + 1);
	sp->root = pm_pt_alloc(mmu->pm, c, mmu->o.levels);
	if (!sp->root)
		return -1;
	mmu->pm->frames[sp->root->pfn].owner = sp->id;
	sp->win_cap = 8;
	sp->win = xzalloc(sizeof(struct mmu_window) * sp->win_cap);
	return 0;
}

void mmu_space_fini(struct mmu_space *sp, struct sim_core *c)
{
	if (sp->root)
		pm_pt_free(sp->mmu->pm, c, sp->root);
	sp->root = NULL;
	xfree(sp->win);
	sp->win = NULL;
}

/* Forget a PCID on this core if another space used it here last: its entries are someone else's. */
static void pcid_claim(struct mmu_cpu *cpu, struct mmu_space *sp)
{
	if (*mmu_pcid_owner(cpu, sp->pcid) == sp->id)
		return;
	*mmu_pcid_owner(cpu, sp->pcid) = sp->id;
	tlb_flush_pcid(&cpu->tlb, sp->pcid);
	if (++*mmu_psc_gen(cpu, sp->pcid) == 0)
		*mmu_psc_gen(cpu, sp->pcid) = 1;
	cpu->st.flush_pcid++;
	sim_advance(cpu->core, cpu->mmu->m->flush_pcid);
}

void mmu_switch(struct mmu_cpu *cpu, struct mmu_space *sp)
{
	struct sim_core *c = cpu->core;
	const struct machine *m = cpu->mmu->m;
	uint32_t w = c->id / 64;
	uint64_t bit = 1ull << (c->id % 64);
	cpu->st.ctx_switches++;
	if (!(atomic_load_explicit(&sp->ran_on[w], memory_order_relaxed) & bit)) {
		coh_atomic(c, &sp->cpumask_line);
		atomic_fetch_or(&sp->ran_on[w], bit);
	}
	__atomic_store_n(&cpu->cur, sp, __ATOMIC_RELAXED); /* read by other cores (kmm's global-ASID check) */
	cpu->cr3 = sp->root->pfn;
	/* The CR3 write itself is part of kern.ctx_switch, charged by the caller. */
	if (m->pcid) {
		cpu->pcid = sp->pcid;
		pcid_claim(cpu, sp);
	} else {
		/* Without PCIDs every space runs as PCID 0 and a switch flushes it. */
		cpu->pcid = 0;
		tlb_flush_pcid(&cpu->tlb, 0);
		if (++*mmu_psc_gen(cpu, 0) == 0)
			*mmu_psc_gen(cpu, 0) = 1;
		cpu->st.flush_full++;
		sim_advance(c, m->flush_full);
	}
}

void mmu_stats_sum(const struct mmu *mmu, struct mmu_cpu_stats *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t *o = (uint64_t *)out;
	for (uint32_t i = 0; i < mmu->sim->o.ncores; i++) {
		const uint64_t *c = (const uint64_t *)&mmu->cpus[i].st;
		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			o[k] += c[k];
	}
}
