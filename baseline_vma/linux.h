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
enum { LINUX_OPT_THP };


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
	uint32_t av;   /* anon_vma identity (0: none yet) */
	uint8_t chain; /* anon_vma_chain length */
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

/* ---- faults (fault.c) ---- */
enum vm_fault linux_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err);
enum vm_fault linux_handle_fault(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t va, uint32_t err);
void linux_anon_prepare(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v);
struct lvma *linux_find(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr);
struct lvma *linux_prev(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr);
void linux_vma_write_lock(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v);
void linux_mmap_write_unlock(struct lmm *mm, struct mmu_cpu *cpu);

#endif
