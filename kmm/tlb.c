/* tlb.c: the first steps of every design's TLB flush, written once (kmm/tlb.h). */
#include "kmm/tlb.h"

bool kmm_flush_start(struct vm_as *as, struct mmu_cpu *cpu, const struct mmu_flush *fl, uint64_t pages, uint64_t span,
		     uint64_t targets[SIM_MASK_WORDS])
{
#ifndef NDEBUG
	if (pages > span)
		panic("design %s, process %u: a flush batch counts %llu pages, more than the %llu of the range it names",
		      as->d->name, as->pid, (unsigned long long)pages, (unsigned long long)span);
#else
	(void)span;
#endif
	struct vm_core_stats *st = vm_cst(as, cpu);
	st->pages_flushed += pages;
	st->full_flushes += fl->full;
	if (cpu->cur == &as->hw)
		mmu_flush_local(cpu, fl);
	if (as->sys->o.skip_shootdown)
		return false;
	for (int w = 0; w < SIM_MASK_WORDS; w++)
		targets[w] = atomic_load_explicit(&as->hw.ran_on[w], memory_order_acquire);
	return true;
}
