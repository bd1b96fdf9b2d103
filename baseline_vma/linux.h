/* linux.h: the Linux-like design's internals: VMAs and the mm (mmap_lock, per-VMA locks); page tables are kmm/kmm.h's. */
#ifndef MMSIM_LINUX_H
#define MMSIM_LINUX_H

#include "baseline_vma/mtree.h"
#include "kmm/kmm.h"
#include "sim/lock.h"
#include "sim/watch.h"
#include "vm/vm.h"
#include "kmm/rules.h"

/* Indexes of the design options (linux_opts in linux.c): as->sys->o.dopt[LINUX_OPT_*]. */
enum { LINUX_OPT_THP, LINUX_OPT_TLB_FLUSH };


/*
 * struct lvma: one VMA. start/end/pgoff change only under mmap_lock held
 * for writing plus the VMA write lock, and are read with atomics by the
 * lock-free fault path, which revalidates under the VMA read lock.
 */
struct lvma {
	_Atomic uint64_t start, end;
	uint32_t flags; /* VR_* */
	struct vm_file *file;
	uint64_t pgoff;
	_Atomic uint32_t av;  /* anon_vma identity (0: none yet); atomic: a fault sets it under page_table_lock while madvise and other faults read it (Linux: READ_ONCE) */
	_Atomic uint8_t chain; /* anon_vma_chain length, set with av */
	_Atomic bool detached;
	struct lk_rwsem lock;	   /* the per-VMA lock */
	_Atomic uint64_t lock_seq; /* equals mm_lock_seq while write-locked */
	struct coh_line line;	   /* the VMA's fields, as a modelled line */
	struct sim_rcu_head rcu;
};

struct lmm_stats {
	uint64_t vma_lock_faults;    /* faults handled under a per-VMA lock */
	uint64_t mmap_lock_faults;   /* faults handled under mmap_lock (fallback or variant) */
	uint64_t splits, merges;     /* VMA splits and merges */
};

struct lmm {
	struct vm_as *as;
	bool per_vma_locks;
	struct lk_rwsem mmap_lock;
	_Atomic uint64_t mm_lock_seq;
	struct coh_line seq_line;    /* mm->mm_lock_seq's line */
	struct kmm pt;		     /* page tables, page_table_lock, RSS (kmm/kmm.h) */
	struct mtree mt;
	uint32_t map_count;
	_Atomic uint32_t next_av;
	_Atomic uint64_t nvmas;
	struct lmm_stats st;
	_Atomic uint64_t vma_lock_faults, mmap_lock_faults; /* counted by concurrent faults */
};

static inline struct lmm *lmm_of(struct vm_as *as) { return as->priv; }
static inline uint64_t lv_start(const struct lvma *v) { return atomic_load_explicit(&v->start, memory_order_relaxed); }
static inline uint64_t lv_end(const struct lvma *v) { return atomic_load_explicit(&v->end, memory_order_relaxed); }
static inline uint64_t lv_pages(const struct lvma *v) { return (lv_end(v) - lv_start(v)) >> PAGE_SHIFT; }

/* ---- VMAs (vma.c): every change with mmap_lock held for writing (and the VMA write-locked); lookups charge cpu's core (NULL: none) ---- */

/* linux_tree_init: the empty maple tree of mm. */
void linux_tree_init(struct lmm *mm);
/* linux_find: the VMA holding addr or the first above it (NULL: none); linux_prev: the last one starting below addr. */
struct lvma *linux_find(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr);
struct lvma *linux_prev(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr);
struct vr_attr linux_attr(const struct lvma *v);
/* linux_vma_new: a VMA with attributes a (not in the tree; born write-locked); linux_tree_insert adds it. */
struct lvma *linux_vma_new(struct lmm *mm, struct mmu_cpu *cpu, const struct vr_attr *a, struct vm_file *f);
void linux_tree_insert(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v);
/* linux_set_start: move v's start (its key in the tree) and pgoff. */
void linux_set_start(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t start, uint64_t pgoff);
/* linux_place_new: make the free [a.start, a.end) a mapping, merging as vma_merge_new_range; the VMA holding it. */
struct lvma *linux_place_new(struct lmm *mm, struct mmu_cpu *cpu, struct vr_attr a, struct vm_file *f);
/* linux_modify: give [a, b) inside v the flags nf, splitting and merging as vma_modify_flags; the VMA holding [a, b). */
struct lvma *linux_modify(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t a, uint64_t b, uint32_t nf);
/* linux_grow: move v's end up over free space; linux_absorb: v takes the VMA n right after it. */
void linux_grow(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t end);
void linux_absorb(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, struct lvma *n);
/*
 * linux_unmap: unmap [start, end). With `downgrade` (munmap), the page-table
 * teardown runs with mmap_lock downgraded to reading, and the caller then
 * holds it for reading. Returns whether it downgraded.
 */
bool linux_unmap(struct lmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool downgrade);
/* linux_topdown: vm_unmapped_area, top-down below the mmap base (0: nothing fits); linux_range_free: the x86 hint rule. */
uint64_t linux_topdown(struct lmm *mm, struct mmu_cpu *cpu, uint64_t len);
bool linux_range_free(struct lmm *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t len);
/* mmap_lock for writing, and its release (which releases every VMA write lock: mm_lock_seq moves). */
void linux_mmap_write_lock(struct lmm *mm, struct mmu_cpu *cpu);
void linux_mmap_write_unlock(struct lmm *mm, struct mmu_cpu *cpu);
/* linux_vma_write_lock: vma_start_write: wait for the VMA's readers, then hold it until mmap_write_unlock. */
void linux_vma_write_lock(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v);
/* linux_anon_prepare: give v an anon_vma, a compatible neighbour's or a new one. mmap_lock held. */
void linux_anon_prepare(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v);
/* struct lvma_list, linux_collect: gather VMAs from mt_for_each (free .v with xfree). */
struct lvma_list {
	struct lvma **v;
	uint32_t n, cap;
};
void linux_collect(void *arg, void *v);

/* ---- faults (fault.c) ---- */
enum vm_fault linux_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err);

/* ---- invariants (check.c) ---- */
int linux_check(struct vm_as *as, uint64_t start, uint64_t end, char *why, size_t n);

#endif
