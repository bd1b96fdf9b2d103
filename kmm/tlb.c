/* tlb.c: the first steps of every design's TLB flush, written once (kmm/tlb.h). */
#include "kmm/tlb.h"
#include "kmm/kmm.h"

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

const char *const kmm_tlb_flush_choices[] = { "ipi", "broadcast", "auto", NULL };

const char *kmm_tlb_flush_check(uint64_t value, const struct machine *m)
{
	if (value == KMM_FLUSH_BROADCAST && m->bcast == MACHINE_BCAST_NONE)
		return "this machine has no broadcast TLB invalidation (tlb.broadcast = none: neither AMD INVLPGB nor "
		       "Intel RAR); use --tlb-flush=ipi or auto";
	return NULL;
}

/* consider_global_asid: Linux 6.15's check, on the simulated clock (jiffies at kern.tick_hz). */
static void consider_global_asid(struct vm_as *as, struct mmu_cpu *cpu)
{
	const struct machine *m = cpu->mmu->m;
	uint64_t jiffies = (uint64_t)((double)cpu->core->clock * m->tick_hz / (m->freq_ghz * 1e9));
	if ((as->pid & 0x1f) != (jiffies & 0x1f))
		return;
	uint32_t active = 0;
	for (uint32_t i = 0; i < cpu->mmu->sim->o.ncores && active <= 3; i++)
		active += __atomic_load_n(&cpu->mmu->cpus[i].cur, __ATOMIC_RELAXED) == &as->hw; /* racy, as READ_ONCE is */
	if (active > 3)
		atomic_store(&as->hw.global_pcid, true);
}

uint32_t kmm_flush_remote(struct vm_as *as, struct mmu_cpu *cpu, const uint64_t targets[SIM_MASK_WORDS],
			  const struct mmu_flush *fl, bool early_ack, unsigned policy)
{
	bool hw = cpu->mmu->m->bcast != MACHINE_BCAST_NONE;
	if (hw && (policy == KMM_FLUSH_BROADCAST || (policy == KMM_FLUSH_AUTO && atomic_load(&as->hw.global_pcid))))
		return mmu_broadcast(cpu, targets, fl);
	uint32_t k = mmu_shootdown(cpu, targets, fl, early_ack);
	if (hw && k && policy == KMM_FLUSH_AUTO)
		consider_global_asid(as, cpu);
	return k;
}
