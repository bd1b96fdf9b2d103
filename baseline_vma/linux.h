/* linux.h: the Linux-like design's internals: VMAs, the mm (mmap_lock, per-VMA locks, page-table locks) and flush batches. */
#ifndef MMSIM_LINUX_H
#define MMSIM_LINUX_H

#include "baseline_vma/mtree.h"
#include "sim/lock.h"
#include "sim/watch.h"
#include "vm/vm.h"
#include "vm/vmrules.h"


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

/* PT-page descriptor: the split page-table lock of a PTE page. */
struct lptd {
	struct lk_spin ptl;
};

struct lmm_stats {
	uint64_t vma_lock_faults;    /* faults handled under a per-VMA lock */
	uint64_t mmap_lock_faults;   /* faults handled under mmap_lock (fallback or variant) */
	uint64_t splits, merges;     /* VMA splits and merges */
	uint64_t pt_pages;	     /* PT pages allocated */
	uint64_t shootdowns;	     /* flush batches that interrupted other cores */
	uint64_t cow_copies, cow_reuses;
	uint64_t thp_faults;	     /* faults that mapped a 2 MiB page */
};

struct lmm {
	struct vm_as *as;
	bool per_vma_locks;
	struct lk_rwsem mmap_lock;
	_Atomic uint64_t mm_lock_seq;
	struct coh_line seq_line;    /* mm->mm_lock_seq's line */
	struct lk_spin page_table_lock;
	struct mtree mt;
	uint32_t map_count;
	_Atomic uint32_t next_av;
	_Atomic uint64_t nvmas;
	struct lmm_stats st;
	_Atomic uint64_t vma_lock_faults, mmap_lock_faults; /* counted by concurrent faults */
	/* RSS as a percpu_counter: per-core deltas, folded into the shared count every batch */
	int32_t *rss_delta;	/* per core */
	_Atomic int64_t rss;
	struct coh_line rss_line;
};

/* percpu_counter_batch: max(32, 2 * nr_cpus) (lib/percpu_counter.c, compute_batch_value). */
void linux_rss_add(struct lmm *mm, struct mmu_cpu *cpu, int32_t n);

static inline struct lmm *lmm_of(struct vm_as *as) { return as->priv; }
static inline uint64_t lv_start(const struct lvma *v) { return atomic_load_explicit(&v->start, memory_order_relaxed); }
static inline uint64_t lv_end(const struct lvma *v) { return atomic_load_explicit(&v->end, memory_order_relaxed); }
static inline uint64_t lv_pages(const struct lvma *v) { return (lv_end(v) - lv_start(v)) >> PAGE_SHIFT; }

/* ---- flush batches (mmu_gather): pages to invalidate, then frames and tables to free ---- */

#define LINUX_FLUSH_CEILING 33 /* tlb_single_page_flush_ceiling */

struct lflush {
	uint64_t start, end; /* range of pages whose entries changed */
	bool any;
	uint64_t *frames;    /* frame references to drop after the flush */
	uint32_t nframes, cap;
	struct pm_ptpage **tables; /* PT pages to free after the flush */
	uint32_t ntables, tcap;
};

void lflush_page(struct lflush *f, uint64_t va, uint64_t put_pfn);
void lflush_table(struct lflush *f, struct pm_ptpage *p);
/* lflush_finish: invalidate (locally and by shootdown to the mm's cpumask), then release frames and tables. */
void lflush_finish(struct lmm *mm, struct mmu_cpu *cpu, struct lflush *f);

/* ---- page tables (pt.c) ---- */

/* The PTE for va: *pp gets its PT page (NULL if a table is missing and !alloc); returns the entry index. A huge PMD is returned in *huge. */
struct lpt_slot {
	struct pm_ptpage *p; /* the table holding the entry */
	unsigned idx;
	int level;	     /* 1: a PTE; 2: a huge PMD */
};
/* lpt_walk: find (allocating tables if alloc) the slot mapping va. false on OOM or a missing table. */
bool lpt_walk(struct lmm *mm, struct mmu_cpu *cpu, uint64_t va, bool alloc, bool want_pmd, struct lpt_slot *s);
/* The lock guarding a slot (the PTE page's split lock, or page_table_lock for a PMD). */
struct lk_spin *lpt_lock_of(struct lmm *mm, const struct lpt_slot *s);
/* Entry writes, charged as line writes. */
void lpt_set(struct mmu_cpu *cpu, const struct lpt_slot *s, uint64_t e);
uint64_t lpt_get(struct mmu_cpu *cpu, const struct lpt_slot *s);

/* Leaf bits for a VMA's protection. */
uint64_t lpt_prot_bits(uint32_t vflags, bool writable_now);

/* Range operations; callers hold mmap_lock (or the VMA lock) as Linux does. cpu may be NULL (host teardown). */
void lpt_zap(struct lmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, struct lflush *f);
void lpt_protect(struct lmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, uint32_t vflags,
		 struct lflush *f);
void lpt_clean(struct lmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, struct lflush *f);
/* lpt_free_tables: free tables covering only [floor, ceiling) within [start, end) (free_pgtables). */
void lpt_free_tables(struct lmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, uint64_t floor,
		     uint64_t ceiling, struct lflush *f);
/* lpt_move: move the entries of [old, old + len) to new (move_page_tables). */
bool lpt_move(struct lmm *mm, struct mmu_cpu *cpu, uint64_t old, uint64_t new_addr, uint64_t len, struct lflush *f);
/* lpt_copy: fork's copy_page_range for [start, end): private pages become copy-on-write in both. */
bool lpt_copy(struct lmm *dst, struct lmm *src, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool private_,
	      struct lflush *f);
/* lpt_split_huge: turn the huge PMD mapping va into a PTE table. */
bool lpt_split_huge(struct lmm *mm, struct mmu_cpu *cpu, uint64_t va);
/* lpt_destroy: free every table below the root (teardown; entries must be gone). */
void lpt_destroy(struct lmm *mm, struct mmu_cpu *cpu);

/* ---- faults (fault.c) ---- */
enum vm_fault linux_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err);
enum vm_fault linux_handle_fault(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t va, uint32_t err);
void linux_anon_prepare(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v);
struct lvma *linux_find(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr);
struct lvma *linux_prev(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr);
void linux_vma_write_lock(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v);
void linux_mmap_write_unlock(struct lmm *mm, struct mmu_cpu *cpu);

#endif
