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
 * vm_spaces_hold: the system's live address spaces now, each pinned (its
 * struct outlives a teardown that begins meanwhile); free the array after
 * vm_as_unpin of each. vm_as_enter_unmap: whether an unmap_file may go into
 * as (false once it is dying); vm_as_leave_unmap after it (wakes a teardown
 * waiting for it, at cpu's clock).
 */
struct vm_as **vm_spaces_hold(struct vm_sys *sys, uint32_t *n);
/*
 * vm_spaces_add: as is live (vm_as_create). vm_spaces_remove: as leaves the
 * list and is dying; waits (on cpu's core) for the unmap_file calls inside
 * it. vm_spaces_torn_down: its design state is gone; whether the caller
 * frees the struct now (no hold names it) or the last vm_as_unpin does.
 */
void vm_spaces_add(struct vm_as *as);
void vm_spaces_remove(struct vm_as *as, struct mmu_cpu *cpu);
bool vm_spaces_torn_down(struct vm_as *as);
bool vm_as_enter_unmap(struct vm_as *as);
void vm_as_leave_unmap(struct vm_as *as, struct mmu_cpu *cpu);
void vm_as_unpin(struct vm_as *as);

/*
 * vm_call_settle: a call or fault on `as` is over. In debug builds and in
 * deterministic mode, when no other call on `as` is in flight (the design's
 * structures are then whole), check the design's invariants over [lo, hi).
 */
void vm_call_settle(struct vm_as *as, uint64_t lo, uint64_t hi);

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
