/* tlb.h: the first steps every design's TLB flush takes (count it, flush this core, name the cores to interrupt); whom to interrupt and when stay the design's. */
#ifndef MMSIM_KMM_TLB_H
#define MMSIM_KMM_TLB_H

#include "vm/vm.h"

/*
 * kmm_flush_start: a design is about to flush fl for as on cpu: count it,
 * flush this core's TLB if it runs as, and put the cores as has run on in
 * targets. pages: the pages whose translations changed, each once (what
 * vm_core_stats.pages_flushed counts, full flush or not); span: the pages
 * of the range [lo, hi) they lie in. Debug builds panic when pages > span
 * (a count the batch cannot have). Returns false when remote shootdowns are
 * skipped (vm_opts.skip_shootdown, mutation testing): the caller then
 * interrupts nobody.
 */
bool kmm_flush_start(struct vm_as *as, struct mmu_cpu *cpu, const struct mmu_flush *fl, uint64_t pages, uint64_t span,
		     uint64_t targets[SIM_MASK_WORDS]);

/*
 * kmm_flush_remote: the remote part of a flush that kmm_flush_start began:
 * by IPIs (mmu_shootdown, early_ack as the design acknowledges) or by the
 * machine's broadcast invalidation (mmu_broadcast), as policy
 * (KMM_FLUSH_*) says. auto is Linux 6.15's rule (arch/x86/mm/tlb.c,
 * flush_tlb_mm_range and consider_global_asid): an mm with a global ASID is
 * flushed by broadcast; others by IPIs, after which the mm gets a global
 * ASID if it is loaded on more than 3 CPUs (mm_active_cpus_exceeds(mm, 3))
 * and the check is due, once every 32 jiffies, when (pid & 31) == (jiffies &
 * 31). On a machine without broadcast, auto is IPIs. Returns the number of
 * remote cores reached.
 */
uint32_t kmm_flush_remote(struct vm_as *as, struct mmu_cpu *cpu, const uint64_t targets[SIM_MASK_WORDS],
			  const struct mmu_flush *fl, bool early_ack, unsigned policy);

#endif
