/* cm.h: CortenMM internals: PT-page descriptors with per-PTE metadata, range-locked cursors (rw and adv protocols), per-core address slices. */
#ifndef MMSIM_CM_H
#define MMSIM_CM_H

#include "sim/lock.h"
#include "sim/rcu.h"
#include "sim/watch.h"
#include "vm/vm.h"
#include "kmm/rules.h"
#include "kmm/leaf.h"

/* Indexes of the design options (cm_opts in cm.c): as->sys->o.dopt[CM_OPT_*]. */
enum { CM_OPT_LAZY_FLUSH, CM_OPT_NO_SLICES, CM_OPT_TLB_FLUSH, CM_OPT_NO_PT_POOL };

/*
 * Every cursor first tops up its core's pool of zeroed page-table frames
 * when it holds this many or fewer (to PM_PT_POOL_MAX), before taking any
 * lock: Asterinas's PREFILL_SIZE, ostd/src/mm/page_table/zeroed_pt_pool.rs,
 * called from Cursor::new in cortenmm-rw and cortenmm-adv (CortenMM-Artifact
 * f39c207). A PT page made under a lock then comes from the pool.
 */
#define CM_PT_POOL_LOW 4

/*
 * There are no VMAs. What Linux keeps in a VMA, CortenMM keeps per PTE: the
 * status of each virtual page. A page with a frame has a present PTE (or a
 * PROT_NONE one) and a status saying what kind of memory it is; a page
 * without a frame has only the status. A status at a higher level covers
 * the whole 2 MiB or 1 GiB range of its entry, and is pushed down one
 * level when part of that range is touched or changed.
 */
enum cm_kind {
	CM_INVALID = 0, /* nothing mapped */
	CM_ANON,	/* private (or shared) anonymous memory */
	CM_FILE,	/* a file mapping, private or shared (VR_SHARED in flags) */
};

/*
 * struct cm_meta: one entry's status. `pgoff` is the page offset of the
 * first page the entry covers (a file offset, or Linux's anonymous vm_pgoff,
 * kept so that mremap and merging behave as Linux's). `av` says whether
 * the page's mapping, as Linux's VMA, has an anon_vma (CM_AV_*): set on
 * every page of a mapping once one of its pages had a private frame.
 */
#define CM_AV_NONE 0
#define CM_AV_OWN 1    /* an anon_vma of its own (a chain of one: Linux merges it with a mapping that has none) */
#define CM_AV_FORKED 2 /* inherited through fork (a longer chain: Linux merges it with no mapping that has none) */
struct cm_meta {
	uint64_t pgoff;
	struct vm_file *file;
	uint32_t flags; /* VR_*, and CM_GUARD */
	uint8_t av;	/* CM_AV_* */
	uint8_t kind;	/* enum cm_kind */
	uint8_t pad[2];
};

/*
 * CM_GUARD: in a page's status flags, a guard marker (MADV_GUARD_INSTALL):
 * every access is SIGSEGV, and no frame is ever mapped there. It is the
 * page's, not its mapping's: Linux keeps it in the PTE, so it neither splits
 * a VMA nor decides a merge (cm_continues and cm_attr leave it out).
 */
#define CM_GUARD (1u << 31)

/*
 * struct cm_pt: the descriptor of one PT page.
 * Invariants: `meta` is NULL or PT_ENTRIES entries; `nchild` and `nmeta`
 * count the entries that point to a child table and that have a status;
 * an entry that points to a child table has an INVALID status (the
 * statuses live in the child), and the child's descriptor names this page
 * as its parent, one level down, at the entry's address;
 * `stray` is set, under the page's lock, once it is unlinked from its
 * parent, and the page is freed only after a grace period (adv) or a flush.
 */
struct cm_pt {
	struct pm_ptpage *p;
	struct cm_pt *parent;
	uint64_t base; /* address of the first byte entry 0 maps */
	int level;
	struct lk_rwsem rw;   /* CortenMM_rw: the page's reader-writer lock */
	struct lk_mcs mcs;    /* CortenMM_adv: the page's MCS lock */
	_Atomic bool stray;
	uint16_t nchild;      /* entries that point to a child table (at most PT_ENTRIES) */
	uint16_t nmeta;	      /* entries whose status is not INVALID */
	struct cm_meta *meta; /* allocated with the first status, freed with the page */
	struct sim_rcu_head rcu;
	struct cm_as *mm;
};

struct cm_stats {
	_Atomic uint64_t cursors, retries, pushdowns, big_marks, pt_alloc, pt_free, dfs_locks;
	_Atomic uint64_t cow_copies, cow_reuses, slice_allocs;
	_Atomic uint64_t cover_level[6]; /* cursors by the level of their covering page */
};

#define CM_SLICE_SHIFT 36 /* each core's slice of the address space: 64 GiB */
#define CM_SLICE_BASE 0x100000000000ull

struct cm_as {
	struct vm_as *as;
	bool adv;
	struct cm_pt *root;
	_Atomic uint64_t *slice_next;	/* per core: next free address in its slice (written by that core; fork reads all) */
	struct lk_spin alloc_lock;	/* --no-slices: the one top-down allocator */
	struct lk_spin brk_lock;	/* serializes brk, which reads and writes as->brk */
	_Atomic uint64_t meta_bytes, desc_bytes;
	struct cm_stats st;
	/* files the statuses point at: one reference each, dropped at teardown */
	pthread_mutex_t files_mu;
	struct vm_file **files;
	uint32_t nfiles;
};

static inline struct cm_as *cm_of(struct vm_as *as) { return as->priv; }
static inline struct cm_pt *cm_pt_of(struct pm_ptpage *p) { return p->desc; }

/* ---- cursors (cursor.c) ---- */

/*
 * CM_LOCKS_INLINE: page locks a cursor records in itself; past that (an adv
 * cursor over a range with more existing tables below it, such as a
 * browser's terabyte PROT_NONE reservation over mapped memory) the list
 * moves to the heap and grows.
 */
#define CM_LOCKS_INLINE 1024

/* Flushes: more than this many pages, or a range wider than this, become one full flush. */
#define CM_FLUSH_MAX 32

/* A flush batch: pages whose translations changed, then frames and tables to release. */
struct cm_flush {
	uint64_t va[CM_FLUSH_MAX];
	uint32_t n;
	bool full;
	bool any;	 /* a page was named: lo and hi hold (a batch may turn full for a freed table before) */
	uint64_t lo, hi; /* span of the pages named */
	uint64_t pages;	 /* pages named, each changed entry's pages once: what the counters count */
	bool sync;	 /* an entry lost rights but kept its frame (mprotect, copy-on-write, MADV_FREE): no lazy flush */
	uint64_t *frames;
	uint32_t nframes, cap;
	struct cm_pt **tables;
	uint32_t ntables, tcap;
};

/*
 * struct cm_cursor: a locked range. Between cm_lock and cm_unlock the
 * holder may query and change every page in [start, end) and nobody else
 * can; everything it changes becomes visible atomically at unlock (TLB
 * flushes are issued, dispatched and waited for then).
 */
struct cm_cursor {
	struct cm_as *mm;
	struct mmu_cpu *cpu;
	uint64_t start, end;
	struct cm_pt *cover;
	struct cm_pt **locked;		     /* rw: read-locked ancestors then the cover; adv: cover then DFS */
	uint32_t nlocked, nread;	     /* rw: the first nread are read locks */
	uint32_t cap;			     /* room in locked: CM_LOCKS_INLINE in locks_inline, or more on the heap */
	struct cm_pt *locks_inline[CM_LOCKS_INLINE];
	bool noalloc;			     /* adv: a missing child is not made; its parent covers (cm_lock_look) */
	const struct coh_line *last;	     /* the PTE line read last (scans pay once per line) */
	struct cm_flush fl;
};

void cm_lock(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end);
/*
 * cm_lock_look: as cm_lock, for a cursor that will only look (and change
 * statuses that exist): it never allocates PT pages, so locking a range
 * where nothing is mapped leaves the page table as it was.
 */
void cm_lock_look(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end);
void cm_unlock(struct cm_cursor *k);

/* Status of the page at va (INVALID if none); *pte gets its entry (0 if none), *level the level it lives at. */
struct cm_meta cm_query(struct cm_cursor *k, uint64_t va, uint64_t *pte);

/* cm_mark: give every page of [a, b) status m (m.pgoff is that of a), dropping what was mapped there. */
void cm_mark(struct cm_cursor *k, uint64_t a, uint64_t b, const struct cm_meta *m);
/* cm_unmap: as cm_mark with INVALID, and free the tables that become empty. */
void cm_unmap(struct cm_cursor *k, uint64_t a, uint64_t b);
/* cm_zap: drop the frames of [a, b) but keep the statuses (MADV_DONTNEED). */
void cm_zap(struct cm_cursor *k, uint64_t a, uint64_t b);
/* cm_clean: clear the accessed and dirty bits of the frames in [a, b) (MADV_FREE: reclaim may take them). */
void cm_clean(struct cm_cursor *k, uint64_t a, uint64_t b);
/* cm_release_frame: drop a frame reference once this cursor's flush is done. */
void cm_release_frame(struct cm_cursor *k, uint64_t pfn);
/* cm_flush_range: name n pages from va in this cursor's flush. */
void cm_flush_range(struct cm_cursor *k, uint64_t va, unsigned n);
/* cm_map: install frame pfn for the page va with PTE bits `bits` (P, RW, NX, ...). */
void cm_map(struct cm_cursor *k, uint64_t va, uint64_t pfn, uint64_t bits);

/*
 * cm_walk: visit every entry overlapping [a, b) in address order, at the
 * level where its status lives: fn(arg, lo, hi, meta, pte) for each run
 * [lo, hi) of one status. Entries are visited, not pushed down.
 */
typedef bool (*cm_walk_fn)(void *arg, uint64_t lo, uint64_t hi, const struct cm_meta *m, uint64_t pte, int level);
void cm_walk(struct cm_cursor *k, uint64_t a, uint64_t b, cm_walk_fn fn, void *arg);

/* cm_set: replace the status of [a, b) by f(old) page-range-wise (pushing down where needed), updating PTE bits. */
typedef void (*cm_set_fn)(void *arg, struct cm_meta *m);
void cm_set(struct cm_cursor *k, uint64_t a, uint64_t b, cm_set_fn f, void *arg);

/* cm_host_walk: cm_walk from the root on the host (no locks, no charges): layout and checks. */
void cm_host_walk(struct cm_as *mm, uint64_t a, uint64_t b, cm_walk_fn fn, void *arg);

/* ---- PT-page descriptors (pt.c) ---- */

/* cm_pt_new: a new, empty PT page at `level` under parent, with its descriptor (charged to cpu if given). */
struct cm_pt *cm_pt_new(struct cm_as *mm, struct mmu_cpu *cpu, int level, struct cm_pt *parent);
/* cm_meta_set: entry i's status := m (NULL or INVALID: none), keeping nmeta; cm_meta_get: entry i's status. */
void cm_meta_set(struct cm_pt *d, unsigned i, const struct cm_meta *m);
struct cm_meta cm_meta_get(const struct cm_pt *d, unsigned i);
/* cm_pt_free: free an unlinked PT page and its descriptor now; cm_pt_free_later: after a grace period (lock-free walkers). */
void cm_pt_free(struct cm_pt *d);
void cm_pt_free_later(struct cm_pt *d);
/* cm_destroy_tables: teardown (host): drop every frame reference and free every table below the root. */
void cm_destroy_tables(struct cm_as *mm);
/* cm_child: the descriptor of the table a table entry e points to. */
static inline struct cm_pt *cm_child(const struct cm_as *mm, uint64_t e) { return cm_pt_of(pm_pt(mm->as->sys->pm, PTE_PFN(e))); }

/* ---- LATR (latr.c): lazy remote flushes ---- */

/* cm_latr_defer: defer a remote flush to the targets' next ticks, taking the cursor's frames and tables; false if there is nobody to tell. */
void cm_latr_init(struct vm_sys *sys);
bool cm_latr_defer(struct cm_cursor *k, const struct mmu_flush *fl, const uint64_t *targets, uint64_t lo, uint64_t hi);
void cm_latr_tick(struct vm_sys *sys, struct mmu_cpu *cpu);
void cm_latr_drain(struct vm_sys *sys, struct vm_as *as);
uint64_t cm_latr_deferred(struct vm_sys *sys);

/* cm_meta_describe (describe.c): a status in words ("anon rw- private, pgoff 0x10, anon_vma 3"). */
void cm_meta_describe(const struct cm_meta *m, char *buf, size_t n);

/* ---- runs of statuses and the mappings they make (runs.c) ---- */

/* A run: [lo, hi) of one status (pgoff is that of lo); pte: the entry there. */
struct cm_run {
	uint64_t lo, hi, pte;
	struct cm_meta m;
};

struct cm_runs {
	struct cm_run *r;
	uint32_t n, cap;
	uint32_t max; /* stop after this many (0: all) */
};

/* cm_runs_of: the runs of [a, b) inside k's range (free .r). cm_take_run: the cm_walk_fn that gathers them. */
struct cm_runs cm_runs_of(struct cm_cursor *k, uint64_t a, uint64_t b);
bool cm_take_run(void *arg, uint64_t lo, uint64_t hi, const struct cm_meta *m, uint64_t pte, int level);
/* cm_continues: do two consecutive runs belong to one mapping as Linux would see it (one VMA)? */
bool cm_continues(const struct cm_run *p, const struct cm_run *q);
/* cm_attr: the mapping a status makes, as Linux's rules see it, from lo to hi. */
struct vr_attr cm_attr(const struct cm_meta *m, uint64_t lo, uint64_t hi);
/* cm_all_free: nothing mapped in [a, b). */
bool cm_all_free(struct cm_cursor *k, uint64_t a, uint64_t b);
/* cm_guard_ok: no grows-down mapping starts in the stack guard gap above [a, a + len) (the x86 hint rule). */
bool cm_guard_ok(struct cm_cursor *k, uint64_t a, uint64_t len);
/* cm_extent_end: where the mapping holding addr ends (scanning [addr, limit)). cm_extent_around: the mapping holding va, within k's range. */
uint64_t cm_extent_end(struct cm_cursor *k, uint64_t addr, uint64_t limit);
void cm_extent_around(struct cm_cursor *k, uint64_t va, uint64_t *s, uint64_t *e);
/* cm_any_av: does a page of [a, b) have an anon_vma or an anonymous frame? */
bool cm_any_av(struct cm_cursor *k, uint64_t a, uint64_t b);
/* cm_lock_around: lock a cursor over whole mappings around [a, b): *elo, *ehi where the ones holding a and b - 1 start and end. */
void cm_lock_around(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t b, uint64_t *elo,
		    uint64_t *ehi);
/* cm_file_hold: mm keeps one reference to each file its statuses name (dropped at teardown). */
void cm_file_hold(struct cm_as *mm, struct vm_file *f);

/* ---- placement (place.c) ---- */

/* cm_place: lock a free range for len bytes: the hint if Linux would honour it, else a fresh candidate. Its address with k held, or 0. */
uint64_t cm_place(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t addr, uint64_t len);

/* ---- the operations (calls.c, remap.c, fault.c, fork.c), the check (check.c), lifetime and tables (design.c) ---- */
VM_OP(mmap) cm_mmap;
VM_OP(munmap) cm_munmap;
VM_OP(mprotect) cm_mprotect;
VM_OP(madvise) cm_madvise;
VM_OP(brk) cm_brk;
VM_OP(mremap) cm_mremap;
VM_OP(fault) cm_fault;
VM_OP(fork) cm_fork;
VM_OP(check) cm_check;
VM_OP(query) cm_query_op;
VM_OP(mlock) cm_mlock;
VM_OP(unmap_file) cm_unmap_file;
/* cm_propagate_av: the first private frame (or guard) of the mapping holding page: mark all its pages as having an anon_vma. */
void cm_propagate_av(struct cm_as *mm, struct mmu_cpu *cpu, uint64_t page);

#endif
