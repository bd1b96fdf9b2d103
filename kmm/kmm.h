/* kmm.h: the shared kernel layer for designs that keep VMAs and Linux-style page tables (Linux's mm/memory.c): walks, range edits, flush batches, fault resolution. */
#ifndef MMSIM_KMM_H
#define MMSIM_KMM_H

#include "sim/lock.h"
#include "sim/watch.h"
#include "vm/vm.h"
#include "kmm/rules.h"
#include "kmm/leaf.h"

/*
 * struct kmm: the page-table half of an mm_struct, embedded in a design's
 * own mm. Everything here is design-independent: which VMA covers which
 * address is the design's business, and the design tells this layer what it
 * needs through struct kmm_vma.
 *
 * Contract with the design (what Linux's mm/memory.c assumes of mmap_lock):
 * - no two calls that edit the entries of overlapping ranges run at once
 *   (the design serializes them: mmap_lock, or range locks);
 * - kmm_free_tables(start, end, floor, ceiling) is called only while no
 *   VMA lies in [floor, ceiling) outside [start, end), and no other call may
 *   install an entry there meanwhile;
 * - a fault on a VMA runs only while that VMA cannot change (its per-VMA
 *   lock, or the design's range lock over it).
 * Tables are installed under page_table_lock; PTE pages have split locks
 * (struct kmm_ptd); entries are read and written as modelled lines.
 */
struct kmm_stats {
	_Atomic uint64_t pt_pages;    /* PT pages allocated */
	_Atomic uint64_t shootdowns;  /* flush batches that interrupted other cores */
	_Atomic uint64_t cow_copies;  /* copy-on-write faults that copied */
	_Atomic uint64_t cow_reuses;  /* copy-on-write faults that reused the only reference */
	_Atomic uint64_t thp_faults;  /* faults that mapped a 2 MiB page */
};

struct kmm {
	struct vm_as *as;
	struct lk_spin page_table_lock; /* mm->page_table_lock: table installs, PMD entries */
	struct kmm_stats st;
	/* RSS as a percpu_counter: per-core deltas, folded into the shared count every batch */
	int32_t *rss_delta; /* per core */
	_Atomic int64_t rss;
	struct coh_line rss_line;
	/*
	 * range_locked: set by a design whose range locks give each
	 * kmm_free_tables call its [floor, ceiling) exclusively (no VMA there,
	 * no fault can install a table there). It then frees without
	 * page_table_lock, as Linux's free_pgtables does, so that disjoint
	 * munmaps share no lock. Tables are still installed under it.
	 */
	bool range_locked;
	/* thp: KMM_THP_* (the design's --thp option): when a first anonymous fault maps a 2 MiB page. */
	unsigned thp;
	/* guards: a guard marker was ever installed here (fork then copies markers of VMAs without anon_vma too) */
	bool guards;
	/*
	 * unmerged: Linux may have left neighbours here that it would merge if
	 * they were made now (a forked child whose VMAs lost their locks or
	 * anon_vmas, a VMA MREMAP_DONTUNMAP left behind): the merge check is off.
	 */
	bool unmerged;
	/* tlb_flush: KMM_FLUSH_* (the design's --tlb-flush option): how kmm_flush_finish reaches remote TLBs. */
	unsigned tlb_flush;
};

/*
 * KMM_PTE_GUARD: a guard marker (MADV_GUARD_INSTALL, Linux's PTE_MARKER_GUARD):
 * a non-present entry that no fault fills: every access is SIGSEGV. It is
 * not a frame (pte_mapped is false); munmap removes it, DONTNEED keeps it.
 */
#define KMM_PTE_GUARD PTE_SW1

/* Transparent huge pages, as /sys/kernel/mm/transparent_hugepage/enabled. */
enum { KMM_THP_NEVER, KMM_THP_MADVISE, KMM_THP_ALWAYS };
extern const char *const kmm_thp_choices[];
/* KMM_OPT_THP: the --thp option, for the opts table of a design built on this layer. */
#define KMM_OPT_THP                                                                                        	{ .name = "thp", .type = VM_OPT_ENUM, .def = KMM_THP_NEVER, .choices = kmm_thp_choices,              	  .bare = KMM_THP_ALWAYS,                                                                              	  .help = "transparent huge pages: never, madvise (MADV_HUGEPAGE ranges only) or always; bare --thp: always" }

/* How remote TLBs are invalidated (the --tlb-flush option; kmm_flush_remote). */
enum { KMM_FLUSH_IPI, KMM_FLUSH_BROADCAST, KMM_FLUSH_AUTO };
extern const char *const kmm_tlb_flush_choices[];
/* kmm_tlb_flush_check: a vm_opt.check: broadcast needs a machine with INVLPGB or RAR (auto falls back to IPIs, as Linux does). */
const char *kmm_tlb_flush_check(uint64_t value, const struct machine *m);
/* KMM_OPT_TLB_FLUSH: the --tlb-flush option, for the opts table of any design that flushes through kmm_flush_remote. */
#define KMM_OPT_TLB_FLUSH                                                                                           \
	{ .name = "tlb-flush", .type = VM_OPT_ENUM, .def = KMM_FLUSH_IPI, .choices = kmm_tlb_flush_choices,           \
	  .bare = KMM_FLUSH_BROADCAST, .check = kmm_tlb_flush_check,                                                  \
	  .help = "remote TLB invalidation: ipi (interrupts, as Linux 6.13), broadcast (INVLPGB or RAR always) or "    \
		  "auto (Linux 6.15: broadcast once the mm is active on more than 3 CPUs); bare --tlb-flush: broadcast" }

/* PT-page descriptor: the split page-table lock of a PTE page. */
struct kmm_ptd {
	struct lk_spin ptl;
};

/* kmm_init / kmm_fini: set up and release the layer's state (not the tables: kmm_destroy_tables). thp: KMM_THP_*; tlb_flush: KMM_FLUSH_*. */
void kmm_init(struct kmm *k, struct vm_as *as, unsigned thp, unsigned tlb_flush);
void kmm_fini(struct kmm *k);
/* kmm_teardown: a design's destroy, host only: every entry zapped (its frames dropped), every table below the root freed, then kmm_fini. */
void kmm_teardown(struct kmm *k);

/* kmm_rss_add: percpu_counter_add with batch max(32, 2 * nr_cpus) (lib/percpu_counter.c, compute_batch_value). */
void kmm_rss_add(struct kmm *k, struct mmu_cpu *cpu, int32_t n);

/* kmm_stats_emit: the layer's counters (struct kmm_stats) into a design's stats record, after the design's own. */
void kmm_stats_emit(struct kmm *k, struct em *e);

static inline void kmm_stat_inc(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }

/* ---- flush batches (mmu_gather): pages to invalidate, then frames and tables to free ---- */

#define KMM_FLUSH_CEILING 33 /* tlb_single_page_flush_ceiling */

struct kmm_flush {
	uint64_t start, end; /* range of pages whose entries changed */
	bool any;
	bool full;	     /* flush everything of the space (fork's flush_tlb_mm), whatever the range */
	uint64_t pages;	     /* pages named by kmm_flush_page (each changed entry's pages once): the count */
	uint64_t *frames;    /* frame references to drop after the flush */
	uint32_t nframes, cap;
	struct pm_ptpage **tables; /* PT pages to free after the flush */
	uint32_t ntables, tcap;
};

/* kmm_flush_page: the entry of va changed: name its page (once per batch) and, if put_pfn, drop that frame after the flush. */
void kmm_flush_page(struct kmm_flush *f, uint64_t va, uint64_t put_pfn);
void kmm_flush_table(struct kmm_flush *f, struct pm_ptpage *p);
/*
 * kmm_flush_finish: invalidate (locally and by shootdown to every core the
 * space ran on: a full flush when f->full, beyond KMM_FLUSH_CEILING pages or
 * when tables go; else each page of [start, end), as flush_tlb_mm_range),
 * then release frames and tables. Counts f->pages (vm_core_stats.pages_flushed).
 * cpu NULL: host teardown, no flush.
 */
void kmm_flush_finish(struct kmm *mm, struct mmu_cpu *cpu, struct kmm_flush *f);

/* ---- page tables (pt.c) ---- */

/* A slot: the entry mapping an address. */
struct kmm_slot {
	struct pm_ptpage *p; /* the table holding the entry */
	unsigned idx;
	int level;	     /* 1: a PTE; 2: a huge PMD */
};
/* kmm_walk: find (allocating tables if alloc) the slot mapping va; with want_pmd, stop at the PMD. false on OOM or a missing table. */
bool kmm_walk(struct kmm *mm, struct mmu_cpu *cpu, uint64_t va, bool alloc, bool want_pmd, struct kmm_slot *s);
/* The lock guarding a slot (the PTE page's split lock, or page_table_lock for a PMD). */
struct lk_spin *kmm_lock_of(struct kmm *mm, const struct kmm_slot *s);
/* Entry writes and reads, charged as line accesses (cpu NULL: no charge). */
void kmm_set(struct mmu_cpu *cpu, const struct kmm_slot *s, uint64_t e);
uint64_t kmm_get(struct mmu_cpu *cpu, const struct kmm_slot *s);

/* Range operations; callers serialize them per range (see the contract). cpu may be NULL (host teardown). */
void kmm_zap(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, struct kmm_flush *f);
/* What kmm_zap_mode removes: everything (munmap), all but guard markers (DONTNEED), or only page-cache frames (a hole punched: private copies and markers stay). */
enum kmm_zap { KMM_ZAP_ALL, KMM_ZAP_KEEP_MARKERS, KMM_ZAP_CACHE };
void kmm_zap_mode(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, enum kmm_zap mode,
		  struct kmm_flush *f);
/* kmm_guard: install guard markers over [start, end) (what was mapped there goes), or remove them. 0 or -ENOMEM. */
int kmm_guard(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool install, struct kmm_flush *f);
void kmm_protect(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, uint32_t vflags,
		 struct kmm_flush *f);
void kmm_clean(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, struct kmm_flush *f);
/* kmm_free_tables: free tables covering only [floor, ceiling) within [start, end) (free_pgtables; ceiling 0: no limit). */
void kmm_free_tables(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, uint64_t floor,
		     uint64_t ceiling, struct kmm_flush *f);
/* kmm_move: move the entries of [old, old + len) to new (move_page_tables). false on OOM. */
bool kmm_move(struct kmm *mm, struct mmu_cpu *cpu, uint64_t old, uint64_t new_addr, uint64_t len, struct kmm_flush *f);
/* kmm_copy: fork's copy_page_range for [start, end): private pages become copy-on-write in both; guard markers are copied (with markers_only, nothing else). */
bool kmm_copy(struct kmm *dst, struct kmm *src, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool private_,
	      bool markers_only, struct kmm_flush *f);
/*
 * kmm_advise: madvise's page-table work on [start, end) inside the VMA v:
 * DONTNEED zaps, FREE cleans, GUARD_*
 * install or remove markers; other advice does nothing here. 0, or -EINVAL
 * where Linux refuses the VMA (vr_advice_refused, MADV_COLLAPSE's rule).
 * Reads only v's start, flags, file and pgoff (madvise may run beside faults
 * that give the VMA its anon_vma).
 */
struct kmm_vma;
int kmm_advise(struct kmm *mm, struct mmu_cpu *cpu, const struct kmm_vma *v, uint64_t start, uint64_t end, int advice,
	       struct kmm_flush *f);
/* kmm_split_huge: turn the huge PMD mapping va into a PTE table. */
bool kmm_split_huge(struct kmm *mm, struct mmu_cpu *cpu, uint64_t va);
/* kmm_destroy_tables: free every table below the root (teardown; entries must be gone). */
void kmm_destroy_tables(struct kmm *mm, struct mmu_cpu *cpu);

/* ---- fault resolution (fault.c) ---- */

/*
 * struct kmm_vma: what fault resolution needs of the VMA it runs in, as the
 * design sees it while the VMA cannot change. anon_prepare gives the VMA an
 * anon_vma (anon_vma_prepare); it returns false when it cannot do so under
 * the locks held, and the fault then returns KMM_FAULT_RETRY.
 */
struct kmm_vma {
	uint64_t start, end;
	uint32_t flags; /* VR_* */
	struct vm_file *file;
	uint64_t pgoff;
	bool has_av;	/* has an anon_vma already */
	bool (*anon_prepare)(void *arg, struct mmu_cpu *cpu);
	void *arg;
};

/* Fault result beyond enum vm_fault: retry with stronger locks (Linux's VM_FAULT_RETRY). */
#define KMM_FAULT_RETRY ((enum vm_fault)100)
/* Flag in the error code given to kmm_fault: only the per-VMA lock is held, so a write fault needing an anon_vma retries. */
#define KMM_PF_VMA_LOCKED 0x80000000u

/*
 * kmm_fault: resolve a fault at va (x86 error code err, plus
 * KMM_PF_VMA_LOCKED) in v: access check, anonymous (zero page, THP), file,
 * private-file and copy-on-write faults. Frames are allocated and zeroed
 * before the PTE lock is taken, as Linux does. Runs on cpu's core.
 */
enum vm_fault kmm_fault(struct kmm *mm, struct mmu_cpu *cpu, struct kmm_vma *v, uint64_t va, uint32_t err);

#endif
