/* calls.h: what the system-call wrappers of vm/ share (entry and exit bookkeeping, populate, the calls written once over a design's query); not for designs. */
#ifndef MMSIM_VM_CALLS_H
#define MMSIM_VM_CALLS_H

#include "vm/vm.h"

/* struct vm_call: entry and exit bookkeeping of one call. */
struct vm_call {
	struct vm_as *as;
	struct mmu_cpu *cpu;
	enum vm_op op;
	cycles_t t0;
	uint32_t win[2];
	uint64_t lo, hi; /* the union of the windows: what the call may have changed */
	int nwin;
	uint64_t flushed0;    /* this core's pages_flushed at entry */
	uint64_t flush_bound; /* the most pages the call may flush; UINT64_MAX: the windows' pages */
};

/* vm_call_enter: charge kern.syscall, count the call in flight, begin its timeline span. */
void vm_call_enter(struct vm_call *k, struct vm_as *as, struct mmu_cpu *cpu, enum vm_op op);
/* vm_call_window: open a TLB-checker window over [start, start + len) (at most two per call). */
void vm_call_window(struct vm_call *k, uint64_t start, uint64_t len);
/* vm_call_leave: close the windows, count the call, its error and latency, settle; returns r. */
long vm_call_leave(struct vm_call *k, long r);

/*
 * vm_populate: __mm_populate over [a, b): mapping by mapping (the design's
 * query), fault in every page through the design's fault (a write fault for
 * private writable memory), skipping VM_LOCKONFAULT mappings (and, with
 * only_locked, every mapping not locked). PROT_NONE, or a fault that fails,
 * stops a mapping with -EFAULT: returned at once unless ignore_errors.
 */
int vm_populate(struct vm_as *as, struct mmu_cpu *cpu, uint64_t a, uint64_t b, bool ignore_errors, bool only_locked);
/* vm_madv_populate: MADV_POPULATE_READ / _WRITE over [a, b): -ENOMEM at a hole, -EINVAL without the right, -EFAULT if a fault fails. */
int vm_madv_populate(struct vm_as *as, struct mmu_cpu *cpu, uint64_t a, uint64_t b, bool write);
/* vm_madv_remove: MADV_REMOVE over [a, b): a hole punched in each shared file mapping's file. */
int vm_madv_remove(struct vm_as *as, struct mmu_cpu *cpu, uint64_t a, uint64_t b);

#endif
