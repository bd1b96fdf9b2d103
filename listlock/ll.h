/* ll.h: the `listlock` design's internals: one lock per address space over a sorted array of VMAs; page tables are kmm/kmm.h's. */
#ifndef MMSIM_LL_H
#define MMSIM_LL_H

#include "kmm/kmm.h"
#include "kmm/maps.h"
#include "sim/lock.h"
#include "sim/watch.h"
#include "vm/vm.h"

/* Indexes of the design options (ll_opts in design.c): as->sys->o.dopt[LL_OPT_*]. */
enum { LL_OPT_THP, LL_OPT_TLB_FLUSH };

/*
 * The whole design in one sentence: every mm call and every page fault of
 * a process takes the process's one lock (`lock`, a simulated mutex on a
 * modelled line) and holds it to the end, so nothing in here ever runs
 * beside anything else, and no field needs an atomic, a per-VMA lock or RCU.
 * It is Linux before 2.6 in spirit (one mm semaphore, no per-VMA locks,
 * faults serialized with mmap and munmap) and a baseline that scales with
 * nothing: two threads that fault on pages far apart still take turns.
 *
 * The VMAs are an array of pointers sorted by start address, with no two
 * overlapping: found by binary search, inserted and removed by moving the
 * pointers after them. A VMA's address is its handle (kmm_maps_ops); it
 * stays valid until the VMA is removed.
 */
struct llvma {
	uint64_t start, end;
	uint32_t flags; /* VR_* */
	struct vm_file *file;
	uint64_t pgoff;
	uint32_t av;   /* anon_vma identity (0: none yet) */
	uint8_t chain; /* anon_vma_chain length */
};

struct llmm {
	struct vm_as *as;
	struct lk_mutex lock; /* the one lock: every mm call and every fault */
	struct kmm pt;	      /* page tables, page_table_lock, RSS (kmm/kmm.h) */
	struct llvma **v;     /* the VMAs, sorted by start, disjoint */
	uint32_t n, cap;
	struct coh_line line; /* the array, as one modelled line: read by a search, written by a change */
	_Atomic uint32_t next_av; /* the next new anon_vma identity (atomic for kmm_vma_fork) */
	uint64_t searches, probes, splits, merges; /* counted under the lock */
};

static inline struct llmm *ll_of(struct vm_as *as) { return as->priv; }

/* ---- the sorted array (list.c); cpu NULL: host only, no charge; every change with the lock held ---- */

/* ll_index: the index of the first VMA that ends above addr (n: none), by binary search. */
uint32_t ll_index(struct llmm *mm, struct mmu_cpu *cpu, uint64_t addr);
/* ll_from: the VMA that holds addr or the first above it; NULL if none. */
struct llvma *ll_from(struct llmm *mm, struct mmu_cpu *cpu, uint64_t addr);
/* ll_before: the last VMA that starts below addr; NULL if none. */
struct llvma *ll_before(struct llmm *mm, struct mmu_cpu *cpu, uint64_t addr);
struct vr_attr ll_attr(const struct llvma *v);
/* ll_attr_of: v's attributes in *buf, or NULL without a VMA (for kmm's rules, which take NULL for none). */
const struct vr_attr *ll_attr_of(const struct llvma *v, struct vr_attr *buf);
/* ll_set: give v a new range and pgoff (its place in the order unchanged: it only grows over free space or shrinks). */
void ll_set(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v, uint64_t start, uint64_t end, uint64_t pgoff);
/* ll_append: a new VMA with attributes a at the end of the array (fork's copy, in address order). */
void ll_append(struct llmm *mm, struct mmu_cpu *cpu, const struct vr_attr *a, struct vm_file *f);
/* ll_place_new: make the free [a.start, a.end) a mapping, merging as vma_merge_new_range; the VMA holding it. */
struct llvma *ll_place_new(struct llmm *mm, struct mmu_cpu *cpu, struct vr_attr a, struct vm_file *f);
/* ll_modify: give [a, b) inside v the flags nf, splitting and merging as vma_modify_flags; the VMA holding [a, b). */
struct llvma *ll_modify(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v, uint64_t a, uint64_t b, uint32_t nf);
/* ll_absorb: v takes the VMA n right after it (its range, and its anon_vma if v has none); n is freed. */
void ll_absorb(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v, struct llvma *n);
/* ll_unmap: unmap [start, end): split the VMAs at its ends, remove those inside, zap, free tables, flush. */
void ll_unmap(struct llmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end);
/* ll_topdown: vm_unmapped_area, top-down below the mmap base (0: nothing fits). */
uint64_t ll_topdown(struct llmm *mm, struct mmu_cpu *cpu, uint64_t len);
/* ll_anon_prepare: anon_vma_prepare: give v a compatible neighbour's anon_vma, or a new one. */
void ll_anon_prepare(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v);
/* ll_free_all: host teardown of every VMA (the tables are gone already). */
void ll_free_all(struct llmm *mm);

/* ---- the calls (calls.c): each takes the lock, applies Linux's rules (kmm/maps.h), releases it ---- */

VM_OP(mmap) ll_mmap;
VM_OP(munmap) ll_munmap;
VM_OP(mprotect) ll_mprotect;
VM_OP(madvise) ll_madvise;
VM_OP(mremap) ll_mremap;
VM_OP(brk) ll_brk;
VM_OP(fork) ll_fork;
VM_OP(fault) ll_fault;
VM_OP(query) ll_query;
VM_OP(mlock) ll_mlock;
VM_OP(unmap_file) ll_unmap_file;

/* ---- invariants (check.c) ---- */
VM_OP(check) ll_check;

#endif
