/* hostmap.c: page-table edits on the host with no simulated cost, for tests, benchmarks and fixtures (never for designs). */
#include "mmu/mmu.h"

int mmu_map_host(struct mmu_space *sp, uint64_t va, uint64_t pfn, uint64_t flags, int level)
{
	struct pm *pm = sp->mmu->pm;
	struct pm_ptpage *p = sp->root;
	for (int l = sp->mmu->o.levels; l > level; l--) {
		unsigned i = (unsigned)PT_INDEX(va, l);
		uint64_t e = pte_load(p, i);
		if (!(e & PTE_P)) {
			struct pm_ptpage *n = pm_pt_alloc(pm, NULL, l - 1);
			if (!n)
				return -1;
			e = PTE_MK(n->pfn, PTE_P | PTE_RW | PTE_US);
			pte_store(p, i, e);
		} else if (e & PTE_PS) {
			return -1;
		}
		p = pm_pt(pm, PTE_PFN(e));
	}
	pte_store(p, (unsigned)PT_INDEX(va, level), PTE_MK(pfn, flags | PTE_P | (level > 1 ? PTE_PS : 0)));
	return 0;
}
