/* hostwalk.c: walks of a space's page tables on the host (no charges, no A/D updates): one address, or every entry over a range; for checkers, invariant checks, tests and display. */
#include "mmu/mmu.h"

uint64_t mmu_walk_host(const struct mmu_space *sp, uint64_t va, struct mmu_hostwalk *w)
{
	const struct pm *pm = sp->mmu->pm;
	const struct pm_ptpage *p = sp->root;
	if (w)
		w->leaf = 0;
	for (int l = sp->mmu->o.levels; l >= 1 && p; l--) {
		uint64_t e = pte_load(p, (unsigned)PT_INDEX(va, l));
		if (w) {
			w->e[l] = e;
			w->p[l] = p;
			w->bottom = l;
		}
		if (pte_is_leaf(e, l)) {
			if (w)
				w->leaf = l;
			return e;
		}
		if (!(e & PTE_P))
			return 0;
		p = pm_pt(pm, PTE_PFN(e));
	}
	return 0;
}

uint64_t mmu_translate_host(const struct mmu_space *sp, uint64_t va, int *level)
{
	struct mmu_hostwalk w;
	uint64_t e = mmu_walk_host(sp, va, &w);
	if (!(e & PTE_P))
		return 0;
	uint64_t keep = PTE_RW | PTE_US, nx = 0; /* RW and US must be set at every level; NX anywhere counts */
	for (int l = sp->mmu->o.levels; l >= w.leaf; l--) {
		keep &= w.e[l];
		nx |= w.e[l] & PTE_NX;
	}
	if (level)
		*level = w.leaf;
	return (e & ~(PTE_RW | PTE_US)) | keep | nx;
}

/* visit_level: the entries of table p (at `level`, mapping from `base`) that meet [start, end). False: stopped. */
static bool visit_level(const struct pm *pm, const struct pm_ptpage *p, int level, uint64_t base, uint64_t start,
			uint64_t end, mmu_visit_fn fn, void *arg)
{
	uint64_t span = LEVEL_SIZE(level);
	unsigned i0 = base < start ? (unsigned)((start - base) / span) : 0;
	for (unsigned i = i0; i < PT_ENTRIES; i++) {
		uint64_t va = base + i * span;
		if (va >= end)
			break;
		uint64_t e = pte_load(p, i);
		if (!e)
			continue;
		int r = fn(arg, p, i, level, va, e);
		if (r < 0)
			return false;
		const struct pm_ptpage *c = pte_is_table(e, level) ? pm_pt(pm, PTE_PFN(e)) : NULL;
		if (r > 0 && c && !visit_level(pm, c, level - 1, va, start, end, fn, arg))
			return false;
	}
	return true;
}

void mmu_visit_host(const struct mmu_space *sp, uint64_t start, uint64_t end, mmu_visit_fn fn, void *arg)
{
	if (start < end)
		visit_level(sp->mmu->pm, sp->root, sp->mmu->o.levels, 0, start, end, fn, arg);
}
