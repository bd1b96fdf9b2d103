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

#endif
