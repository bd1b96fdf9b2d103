/* vm.h: the one interface every address-space design implements: constants, the operations table, address spaces and the simulated kernel. */
#ifndef MMSIM_VM_H
#define MMSIM_VM_H

#include <errno.h>

#include "mmu/mmu.h"
#include "sim/emit.h"
#include "sim/hist.h"

/* Linux's values, so traces can pass raw arguments through. */
#define VM_PROT_NONE 0
#define VM_PROT_READ 1
#define VM_PROT_WRITE 2
#define VM_PROT_EXEC 4
#define VM_PROT_MASK 7
#define VM_PROT_SEM 0x8		   /* accepted and ignored on x86 */
#define VM_PROT_GROWSDOWN 0x01000000 /* mprotect: extend down to the start of a grows-down mapping */
#define VM_PROT_GROWSUP 0x02000000   /* mprotect: no mapping grows up on x86: EINVAL */

#define VM_MAP_SHARED 0x01
#define VM_MAP_PRIVATE 0x02
#define VM_MAP_SHARED_VALIDATE 0x03
#define VM_MAP_TYPE 0x0f
#define VM_MAP_FIXED 0x10
#define VM_MAP_ANONYMOUS 0x20
#define VM_MAP_GROWSDOWN 0x100
#define VM_MAP_DENYWRITE 0x800
#define VM_MAP_EXECUTABLE 0x1000
#define VM_MAP_LOCKED 0x2000
#define VM_MAP_NORESERVE 0x4000
#define VM_MAP_POPULATE 0x8000
#define VM_MAP_NONBLOCK 0x10000
#define VM_MAP_STACK 0x20000
#define VM_MAP_HUGETLB 0x40000
#define VM_MAP_FIXED_NOREPLACE 0x100000

#define VM_MADV_NORMAL 0
#define VM_MADV_RANDOM 1
#define VM_MADV_SEQUENTIAL 2
#define VM_MADV_WILLNEED 3
#define VM_MADV_DONTNEED 4
#define VM_MADV_FREE 8
#define VM_MADV_REMOVE 9
#define VM_MADV_DONTFORK 10
#define VM_MADV_DOFORK 11
#define VM_MADV_MERGEABLE 12
#define VM_MADV_UNMERGEABLE 13
#define VM_MADV_HUGEPAGE 14
#define VM_MADV_NOHUGEPAGE 15
#define VM_MADV_DONTDUMP 16
#define VM_MADV_DODUMP 17
#define VM_MADV_WIPEONFORK 18
#define VM_MADV_KEEPONFORK 19
#define VM_MADV_COLD 20
#define VM_MADV_PAGEOUT 21
#define VM_MADV_POPULATE_READ 22
#define VM_MADV_POPULATE_WRITE 23
#define VM_MADV_DONTNEED_LOCKED 24
#define VM_MADV_COLLAPSE 25
#define VM_MADV_HWPOISON 100
#define VM_MADV_SOFT_OFFLINE 101
#define VM_MADV_GUARD_INSTALL 102
#define VM_MADV_GUARD_REMOVE 103

#define VM_MLOCK_ONFAULT 1 /* mlock2 */
#define VM_MCL_CURRENT 1   /* mlockall */
#define VM_MCL_FUTURE 2
#define VM_MCL_ONFAULT 4
#define VM_MS_ASYNC 1 /* msync */
#define VM_MS_INVALIDATE 2
#define VM_MS_SYNC 4
#define VM_FALLOC_KEEP_SIZE 1 /* fallocate */
#define VM_FALLOC_PUNCH_HOLE 2

/* Lock states of a mapping (the design's mlock operation): VM_LOCKED, VM_LOCKONFAULT. */
#define VM_LOCK_ON 1u
#define VM_LOCK_ONFAULT 2u
#define VM_LOCK_ALL 4u /* mlock: every mapping of the space (mlockall, munlockall), holes ignored */

#define VM_MREMAP_MAYMOVE 1
#define VM_MREMAP_FIXED 2
#define VM_MREMAP_DONTUNMAP 4

/* x86-64 Linux layout constants. */
#define VM_TASK_SIZE 0x7ffffffff000ull	 /* top of the 47-bit user space, less one guard page */
#define VM_MMAP_MIN_ADDR 0x10000ull	 /* vm.mmap_min_addr default */
#define VM_MMAP_BASE 0x7f0000000000ull	 /* top of the mmap area (deterministic: no randomization) */
#define VM_STACK_TOP 0x7ffffffde000ull	 /* top of the main stack */
#define VM_BRK_BASE 0x555555600000ull	 /* start of the brk heap */
#define VM_STACK_GUARD_GAP (256ull << 12) /* stack_guard_gap default: 256 pages */

/* Outcome of a fault or an access. */
enum vm_fault {
	VM_FAULT_OK = 0,   /* resolved: retry the access */
	VM_FAULT_SEGV = 1, /* no mapping, or no permission: SIGSEGV */
	VM_FAULT_BUS = 2,  /* beyond the end of a file: SIGBUS */
	VM_FAULT_OOM = 3,  /* out of simulated memory */
};

/*
 * struct vm_map: one mapping as the design's query reports it to the calls
 * written once in vm/as.c (mincore, msync, populate, MADV_REMOVE, ...).
 */
#define VM_MAPF_SHARED (1u << 0)
#define VM_MAPF_GROWSDOWN (1u << 1)
#define VM_MAPF_LOCKED (1u << 2)    /* VM_LOCKED */
#define VM_MAPF_LOCKONFAULT (1u << 3) /* VM_LOCKONFAULT */
struct vm_map {
	uint64_t start, end;
	uint32_t prot;	/* VM_PROT_* */
	uint32_t flags; /* VM_MAPF_* */
	struct vm_file *file; /* NULL: anonymous (shared anonymous memory is a shmem file) */
	uint64_t pgoff;	      /* file page of start */
};

/* Kinds of mapping, as reported by the layout visitor. */
enum vm_kind { VM_KIND_ANON = 0, VM_KIND_FILE = 1 };

/* ---- simulated files and their page cache (vm/file.c) ---- */

/*
 * struct vm_file: a file (a memfd, a library, a data file) with a page
 * cache. pages[i] is the frame caching page i, or 0. The cache holds one
 * frame reference per cached page. Guarded by `lock` (host) and modelled
 * by `tree_lock` (the mapping's xarray lock).
 */
struct vm_file {
	uint32_t id;
	uint64_t size; /* bytes */
	uint64_t npages_cap;
	uint64_t *pages;
	pthread_mutex_t lock;
	struct coh_line tree_line; /* the page cache's index */
	_Atomic int refs;
	char name[64];
	uint8_t *falloc; /* per page: allocated by fallocate, not yet up to date (mincore: not resident); NULL until one */
	uint64_t nfalloc;
};

/* ---- what the layout visitor reports ---- */

/* Flags of a range. */
#define VM_RANGE_SHARED (1u << 0)
#define VM_RANGE_STACK (1u << 1)
#define VM_RANGE_HEAP (1u << 2)

struct vm_range {
	uint64_t start, end;
	uint32_t prot;	/* VM_PROT_* */
	uint32_t flags; /* VM_RANGE_* */
	enum vm_kind kind;
	struct vm_file *file; /* NULL for anonymous ranges (and in the reference model) */
	uint32_t file_id;     /* the file's id, for comparisons */
	uint64_t pgoff;	      /* file offset of `start`, in pages (file mappings) */
};

typedef void (*vm_visit_fn)(void *arg, const struct vm_range *r);

/* ---- options (apart from state) ---- */

/*
 * struct vm_opt: one option a design declares (its `opts` table). On the
 * command line it is --NAME or --NAME=VALUE; in results it is the key NAME
 * with '-' as '_'. Values are uint64_t: 0/1 for a bool, the choice's index
 * for an enum, the number for a u64. vm/opt.c parses, formats and checks
 * them; a design reads its own as sys->o.dopt[i], i its index in `opts`.
 */
enum vm_opt_type {
	VM_OPT_BOOL, /* bare --NAME: 1; =on|off|yes|no|true|false|1|0 */
	VM_OPT_ENUM, /* =one of `choices`; bare --NAME: `bare` */
	VM_OPT_U64,  /* =N (K, M, G suffixes) within [min, max] */
};
struct vm_opt {
	const char *name;
	enum vm_opt_type type;
	uint64_t def; /* the default */
	const char *help;
	const char *const *choices; /* VM_OPT_ENUM: NULL-terminated */
	uint64_t bare;		    /* VM_OPT_ENUM: the value of a bare --NAME */
	uint64_t min, max;	    /* VM_OPT_U64 */
	/*
	 * check (optional): whether value suits the machine; NULL if it does,
	 * else why not (one line). vm_opts_check calls it, before a system boots.
	 */
	const char *(*check)(uint64_t value, const struct machine *m);
};
#define VM_DOPT_MAX 8 /* options a design may declare */

/* Options of the simulated kernel, for every design. */
struct vm_opts {
	bool skip_shootdown; /* mutation testing only: designs skip remote shootdowns (the checker must fire) */
	uint64_t dopt[VM_DOPT_MAX]; /* the design's own options, by index in its `opts` (vm_opts_init sets defaults) */
};

/* ---- per-core kernel counters ---- */

enum vm_op {
	VM_OP_MMAP,
	VM_OP_MUNMAP,
	VM_OP_MPROTECT,
	VM_OP_MADVISE,
	VM_OP_MREMAP,
	VM_OP_BRK,
	VM_OP_FORK,
	VM_OP_FAULT,
	/* Reported only when made (their keys are not in results of workloads that make none). */
	VM_OP_MLOCK,   /* mlock, mlock2, munlock, mlockall, munlockall */
	VM_OP_MSYNC,   /* msync */
	VM_OP_MINCORE, /* mincore */
	VM_OP_FILE,    /* ftruncate, fallocate */
	VM_OP_COUNT
};
#define VM_OP_ALWAYS (VM_OP_FAULT + 1) /* the first VM_OP_ALWAYS kinds are always in results */
extern const char *const vm_op_names[VM_OP_COUNT];

/* Written only by the core that counts them; summed after the run. */
struct vm_core_stats {
	uint64_t calls[VM_OP_COUNT];  /* calls of each mm operation (faults: handler runs) */
	uint64_t errors[VM_OP_COUNT]; /* calls that returned an error */
	struct hist lat[VM_OP_COUNT]; /* cycles per call, syscall/trap entry included */
	uint64_t accesses;	      /* vm_access calls */
	uint64_t segv, bus;	      /* accesses that ended in SIGSEGV / SIGBUS */
	uint64_t frames_zeroed;	      /* frames cleared for anonymous faults */
	uint64_t frames_copied;	      /* copy-on-write copies */
	/*
	 * pages_flushed: 4 KiB pages whose translation a design changed (cleared,
	 * moved, write-protected, cleaned) and flushed, each counted once per
	 * flush batch, whether the batch went out page by page or as a full
	 * flush. It counts what had to be invalidated, not how: a page-by-page
	 * flush also invalidates the unchanged pages between the changed ones
	 * (as flush_tlb_mm_range does), and a full flush drops the whole space
	 * (fork's flush_tlb_mm counts the entries fork write-protected, not the
	 * address space). So it never exceeds the pages of the ranges flushed,
	 * nor, for fork, the pages mapped in the child; debug builds check both
	 * (kmm_flush_start per batch, vm/as.c per call). Written by the flushing
	 * core in kmm_flush_start; the hardware's side is in mmu_cpu_stats
	 * (invlpg, flush_full).
	 */
	uint64_t pages_flushed;
	uint64_t full_flushes; /* flush batches that became full flushes (kmm_flush_start) */
};

/* ---- the simulated kernel: everything shared by the address spaces ---- */

struct vm_design;

struct vm_sys {
	struct sim *sim;
	struct mmu *mmu;
	struct pm *pm;
	const struct machine *m;
	const struct vm_design *d;
	struct vm_opts o;
	uint64_t zero_pfn; /* the shared zero page */
	struct vm_core_stats *cst; /* per core */
	_Atomic uint32_t next_file_id, next_pid;
	cycles_t tick_period;
	cycles_t *next_tick; /* per core */
	void *dstate;	     /* design-wide state (for example LATR queues), owned by the design */
	/* every live address space, for the calls on files (ftruncate, fallocate) that reach all that map one */
	pthread_mutex_t spaces_mu;
	struct vm_as **spaces;
	uint32_t nspaces, spaces_cap;
	void (*dstate_free)(struct vm_sys *sys);
};

/* vm_tick_check: run the design's tick if this core's clock passed its next tick. Call between events. */
void vm_tick_slow(struct vm_sys *sys, struct mmu_cpu *cpu);
static inline void vm_tick_check(struct vm_sys *sys, struct mmu_cpu *cpu)
{
	if (unlikely(cpu->core->clock >= sys->next_tick[cpu->core->id]))
		vm_tick_slow(sys, cpu);
}

/*
 * struct vm_as: one address space (one process). `hw` is what the MMU sees
 * (root table, PCID, cpumask); `priv` is the design's own state. brk and
 * layout bases follow Linux's mm_struct and are kept by the design.
 */
struct vm_as {
	struct vm_sys *sys;
	const struct vm_design *d;
	void *priv;
	struct mmu_space hw;
	uint32_t pid;
	uint64_t start_brk, brk;
	uint64_t mmap_base;
	_Atomic uint32_t inflight; /* calls and faults running on this space now (debug checks run at 0) */
	/* mlockall(MCL_FUTURE): VM_LOCK_* bits every new mapping (mmap, brk) gets; written by vm_mlockall, read by designs */
	_Atomic uint32_t def_lock;
	bool ever_locked; /* a mapping of this space was ever locked (so mprotect and mremap look for locked ones) */
	/*
	 * Another process's call into this space (unmap_file from vm_ftruncate,
	 * vm_fallocate, MADV_REMOVE) against its teardown, under sys->spaces_mu:
	 * pins, lists of the spaces that name it (the struct stays until the last
	 * goes); unmapping, unmap_file calls inside it now; dying, set by
	 * vm_as_destroy, which waits (reaper) until unmapping is 0 and lets no new
	 * one in; torn_down, once the design's state is gone.
	 */
	uint32_t pins, unmapping;
	bool dying, torn_down;
	struct sim_core *reaper;
};

/*
 * struct vm_design: the operations of one address-space design (an ops
 * table, liburcu style). Each member's contract says:
 *   caller  who calls it, and on which core;
 *   beside  what may run at the same time on the same address space;
 *   waits   whether it may wait in simulated time (take simulated locks,
 *           sim_block, send IPIs and wait for them);
 *   leaves  what must hold when it returns;
 *   need    required, or optional (NULL allowed).
 *
 * Common to every call made "on a core": it runs inside sim_run on the
 * core `cpu`, for a thread of the process owning `as`, after the vm_*
 * wrapper (vm/as.c) charged syscall or trap entry, checked the arguments
 * that need no state (alignment, zero length, overflow, unknown flags:
 * vm_check_*) and opened the TLB-checker window over the affected range.
 * The design takes its own locks (simulated ones, on modelled lines),
 * edits the real simulated page table, issues its own TLB shootdowns
 * through mmu/, charges what it does, and returns with no lock held and
 * no shootdown pending (lazy schemes excepted: a frame whose stale TLB
 * entries may remain is not freed until they are gone). Errors are
 * negative errno values, exactly as Linux returns them.
 *
 * "Host only" calls run outside sim_run or while no core touches `as`:
 * they charge nothing and take no simulated lock.
 */
struct vm_design {
	const char *name;
	const char *summary;
	bool has_vmas; /* keeps VMAs, so VMA boundaries are comparable with Linux */
	/* opts: the design's own options, NULL-terminated (by name); NULL if it has none. At most VM_DOPT_MAX. */
	const struct vm_opt *opts;

	/*
	 * create: set up as->priv for an empty address space (as->hw exists,
	 * with an empty root table).
	 * caller vm_as_create, on the host (cpu NULL) or on a core (fork, exec).
	 * beside nothing: `as` is not visible yet. waits no.
	 * leaves as->priv ready; 0, or -ENOMEM with nothing allocated. need required.
	 */
	int (*create)(struct vm_as *as, struct mmu_cpu *cpu);
	/*
	 * destroy: unmap everything, drop every frame reference, free every PT
	 * page except the root, and all private state.
	 * caller vm_as_destroy (after vm_check_as), on a core (exec, exit) or
	 * the host (cpu NULL: no charges, no shootdowns).
	 * beside nothing: no thread uses `as` any more, and no core has it
	 * loaded except possibly `cpu`. waits yes (on a core).
	 * leaves no frame, PT page or metadata of `as` in use (RCU-deferred
	 * frees may still be pending; they run before the system is torn down).
	 * need required.
	 */
	void (*destroy)(struct vm_as *as, struct mmu_cpu *cpu);

	/*
	 * mmap: map [addr, addr + len) (or where the design chooses, without
	 * MAP_FIXED/MAP_FIXED_NOREPLACE) with prot and flags; f is the file, or
	 * NULL for anonymous memory (shared anonymous memory arrives as a shmem
	 * file).
	 * caller vm_mmap, on a core. beside any call or fault of another thread
	 * of the process (the design's locks order them). waits yes.
	 * leaves the new mapping, replacing what MAP_FIXED overlapped (its pages
	 * unmapped and flushed everywhere); no frame allocated unless
	 * MAP_POPULATE asks. Returns the address, or -errno. need required.
	 */
	long (*mmap)(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
		     struct vm_file *f, uint64_t off);
	/*
	 * munmap, mprotect, madvise: on [addr, addr + len), page aligned and
	 * non-empty. Partial ranges split mappings as Linux does.
	 * caller vm_munmap / vm_mprotect / vm_madvise, on a core. beside any
	 * call or fault of another thread. waits yes.
	 * leaves (munmap) nothing mapped there and no TLB entry for it on any
	 * core; (mprotect) every PTE and the design's metadata at the new
	 * protection, no TLB entry granting more on any core; (madvise) the
	 * advice's effect (DONTNEED: the next touch reads zeroes or the file).
	 * 0 or -errno. need required.
	 */
	int (*munmap)(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len);
	int (*mprotect)(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot);
	int (*madvise)(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice);
	/*
	 * mremap: grow, shrink or move [old, old + old_len) to new_len bytes
	 * (flags: MREMAP_MAYMOVE, _FIXED, _DONTUNMAP; new_addr with _FIXED).
	 * caller vm_mremap, on a core. beside any call or fault of another
	 * thread. waits yes. leaves the pages moved with their frames (no copy),
	 * the old range unmapped and flushed (unless DONTUNMAP). Returns the new
	 * address, or -errno. need required.
	 */
	long (*mremap)(struct vm_as *as, struct mmu_cpu *cpu, uint64_t old, uint64_t old_len, uint64_t new_len,
		       int flags, uint64_t new_addr);
	/*
	 * brk: move the program break to newbrk (0 or below start_brk: query).
	 * caller vm_brk, on a core. beside any call or fault of another thread.
	 * waits yes. leaves as->brk updated and the heap grown or shrunk (pages
	 * above a shrunk break unmapped and flushed). Returns the new (or
	 * unchanged) break, as Linux does. need required.
	 */
	long (*brk)(struct vm_as *as, struct mmu_cpu *cpu, uint64_t newbrk);

	/*
	 * query: the mapping holding addr, or the first above it, into *m;
	 * false if there is none. A design without VMAs reports the maximal
	 * run of pages that Linux would keep in one VMA.
	 * caller the wrappers of vm/as.c (mincore, msync, populate, mprotect's
	 * PROT_GROWSDOWN, MADV_REMOVE, MAP_FIXED_NOREPLACE), on a core.
	 * beside any call or fault of another thread (it takes the design's
	 * locks for reading, and the answer may be stale once it returns).
	 * waits yes. leaves `as` unchanged. need required.
	 */
	bool (*query)(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, struct vm_map *m);
	/*
	 * mlock: give every mapping in [addr, addr + len) the lock state `to`
	 * (VM_LOCK_ON, | VM_LOCK_ONFAULT; 0 unlocks), splitting and merging as
	 * Linux's apply_vma_lock_flags; with VM_LOCK_ALL in `to`, every mapping
	 * of the space (apply_mlockall_flags; addr and len are ignored). Pages
	 * are not faulted in here (the wrapper populates afterwards).
	 * caller vm_mlock, vm_munlock, vm_mlockall, vm_munlockall, on a core.
	 * beside any call or fault of another thread. waits yes.
	 * leaves the lock state changed up to the first hole; 0, or -ENOMEM if
	 * addr is not mapped or a hole lies in the range. need required.
	 */
	int (*mlock)(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, unsigned to);
	/*
	 * unmap_file: remove the entries of `as` that map pages [lo, hi) of f
	 * (unmap_mapping_range): the page-cache pages, and with even_cows the
	 * private copies made from them too; guard markers stay. Mappings stay.
	 * caller vm_ftruncate, vm_fallocate, MADV_REMOVE, on a core, for every
	 * address space. beside any call or fault of another thread. waits yes.
	 * leaves no entry there and no TLB entry for it on any core. need required.
	 */
	void (*unmap_file)(struct vm_as *as, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi,
			   bool even_cows);

	/*
	 * fault: an access by `cpu` at va faulted with x86 error code `err`
	 * (PF_*: present, write, user, fetch).
	 * caller vm_access, on the faulting core, after the trap entry charge.
	 * beside any call or fault of another thread. waits yes.
	 * leaves a PTE that lets the retried access through (VM_FAULT_OK), or
	 * nothing changed and SEGV / BUS / OOM. A design that finds the fault
	 * already resolved by another core returns VM_FAULT_OK. need required.
	 */
	enum vm_fault (*fault)(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err);

	/*
	 * fork: make `child` (created, empty) a copy-on-write copy of `parent`.
	 * caller vm_fork, on the forking core. beside calls and faults of the
	 * parent's other threads. waits yes.
	 * leaves private writable pages read-only in both (the next write copies,
	 * or reuses a frame nobody else holds), shared mappings shared, the
	 * parent's TLBs flushed of the write permissions it lost. 0 or -ENOMEM.
	 * need required.
	 */
	int (*fork)(struct vm_as *parent, struct vm_as *child, struct mmu_cpu *cpu);

	/*
	 * layout: call fn for every mapped range overlapping [start, end), in
	 * address order. Designs with VMAs report one range per VMA; others
	 * report maximal ranges of equal attributes.
	 * caller the oracles, replay's layout, teaching mode: host only.
	 * beside nothing. waits no. leaves `as` unchanged. need required.
	 */
	void (*layout)(struct vm_as *as, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg);

	/*
	 * tick: the scheduler tick on `cpu` (kern.tick_hz), for work a design
	 * defers to it (LATR-style lazy flushes).
	 * caller vm_tick_check, on `cpu`'s own core, between events, with no
	 * lock held. beside any call or fault on other cores. waits yes.
	 * leaves the deferred work due on this core done. need optional.
	 */
	void (*tick)(struct vm_sys *sys, struct mmu_cpu *cpu);

	/*
	 * describe_entry: the design's own metadata for entry i of PT page p
	 * (at `level`), in words, into buf; false if it keeps none there.
	 * caller teaching mode: host only. beside nothing. waits no.
	 * leaves `as` unchanged. need optional.
	 */
	bool (*describe_entry)(struct vm_as *as, const struct pm_ptpage *p, int level, unsigned i, char *buf, size_t n);

	/*
	 * stats: the design's own counters into the emitter (each key's meaning
	 * in a comment where it is counted); metadata_bytes: bytes of mapping
	 * metadata now (VMAs, tree nodes, per-PTE metadata; not page tables).
	 * caller the result record: host only, after sim_run. beside nothing.
	 * waits no. need required.
	 */
	void (*stats)(struct vm_as *as, struct em *e);
	uint64_t (*metadata_bytes)(struct vm_as *as);

	/*
	 * check: verify the design's own invariants where they concern
	 * [start, end) (0, VM_TASK_SIZE: everywhere): for example VMAs sorted,
	 * disjoint and merged where Linux would merge; CortenMM's child counts,
	 * metadata agreeing with PTEs, no stray page reachable; a skiplist's
	 * level order. Should cost about the range, not the whole space.
	 * caller vm_check_as: when an address space is destroyed (the end of
	 * every run, replay, test and conformance sequence) and, in debug
	 * builds and deterministic mode, over the changed range after every
	 * call and fault. Host only: no charges. beside nothing: no call or
	 * fault on `as` is in flight. waits no. leaves `as` unchanged; 0, or
	 * -1 with the first violation in `why`. need optional.
	 */
	int (*check)(struct vm_as *as, uint64_t start, uint64_t end, char *why, size_t n);
};

/* VM_OP(member): the type of the operation `member`, to declare one that another file of a design defines: `VM_OP(fault) cm_fault;`. */
#define VM_OP(member) __typeof__(*((struct vm_design *)0)->member)

/* ---- registry (generated by cmake/designs.cmake from the design folders) ---- */

const struct vm_design *vm_design_find(const char *name);
/* NULL-terminated list of every registered design. */
const struct vm_design *const *vm_designs(void);

/* ---- design options (vm/opt.c) ---- */

/* vm_opts_init: every option of d at its default, skip_shootdown off. */
void vm_opts_init(struct vm_opts *o, const struct vm_design *d);
/* vm_opt_find: the index of d's option NAME, or -1. */
int vm_opt_find(const struct vm_design *d, const char *name);
/*
 * vm_opt_set: parse VALUE (NULL for a bare --NAME) for d's option NAME into o.
 * 0, or -1 with the reason in err (no such option for d, or a bad value).
 */
int vm_opt_set(struct vm_opts *o, const struct vm_design *d, const char *name, const char *value, char *err,
	       size_t errlen);
/* vm_opt_value: option i's value as text ("on", "always", "65536"), into buf. */
const char *vm_opt_value(const struct vm_design *d, const struct vm_opts *o, int i, char *buf, size_t n);
/*
 * vm_opts_str: every option of d as NAME=VALUE, space-separated, in table
 * order ("" for a design without options): the canonical form for result
 * records, job lines and resume keys.
 */
void vm_opts_str(const struct vm_design *d, const struct vm_opts *o, char *buf, size_t n);
/*
 * vm_opts_check: every option of d in o against the machine (vm_opt.check).
 * 0, or -1 with "--NAME=VALUE: reason" in err.
 */
int vm_opts_check(const struct vm_design *d, const struct vm_opts *o, const struct machine *m, char *err, size_t n);
/* vm_opt_count: how many options d declares. */
int vm_opt_count(const struct vm_design *d);

/* ---- the simulated kernel (vm/sys.c) ---- */

struct vm_sys *vm_sys_create(struct sim *s, struct mmu *mmu, const struct vm_design *d, const struct vm_opts *o);
void vm_sys_destroy(struct vm_sys *sys);
/* Sum of every core's counters (histograms merged); free with vm_stats_free. */
void vm_stats_sum(const struct vm_sys *sys, struct vm_core_stats *out);
void vm_stats_free(struct vm_core_stats *st);

/* ---- address spaces (vm/as.c) ---- */

/* vm_as_create: a new, empty address space of the system's design. Host or core. NULL on OOM. */
struct vm_as *vm_as_create(struct vm_sys *sys, struct mmu_cpu *cpu);
/* vm_as_destroy: check the design's invariants everywhere (vm_check_as), then tear down; afterwards none of its frames or PT pages are in use. */
void vm_as_destroy(struct vm_as *as, struct mmu_cpu *cpu);

/*
 * The system calls, as a thread on `cpu` makes them: charge kern.syscall,
 * validate stateless arguments, open the checker window, call the design,
 * record latency. Return values as Linux's.
 */
long vm_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
	     struct vm_file *f, uint64_t off);
int vm_munmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len);
int vm_mprotect(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot);
int vm_madvise(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice);
long vm_mremap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr);
long vm_brk(struct vm_as *as, struct mmu_cpu *cpu, uint64_t newbrk);

/*
 * vm_brk_place: where the program loader put the start of brk (Linux's ELF
 * loader: the page after the image's bss, moved by a random offset under
 * full ASLR). A space starts with VM_BRK_BASE; a replay moves it to the
 * recorded start, so that a program recorded without ASLR (a debugger's
 * inferior, setarch -R, randomize_va_space=0), whose image is loaded across
 * VM_BRK_BASE, gets its heap where the kernel put it and not inside its
 * text. Moves start_brk and brk to base only while the heap is empty (brk ==
 * start_brk) and base is a page-aligned user address; returns whether it moved.
 * Precondition: no other thread of the space is in a call.
 */
bool vm_brk_place(struct vm_as *as, uint64_t base);
/*
 * Calls beyond the mapping calls (issue 18), with Linux's semantics and
 * errno: mlock/mlock2 (flags: MLOCK_ONFAULT), munlock, mlockall (MCL_*),
 * munlockall, msync (MS_*), mincore (vec, one byte per page, may be NULL),
 * and file size changes, which act on every address space that maps the
 * file (pages beyond a shrunk end are unmapped, and later accesses there are
 * SIGBUS): ftruncate to `size` bytes and fallocate (mode FALLOC_FL_*).
 */
int vm_mlock(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int flags);
int vm_munlock(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len);
int vm_mlockall(struct vm_as *as, struct mmu_cpu *cpu, int flags);
int vm_munlockall(struct vm_as *as, struct mmu_cpu *cpu);
int vm_msync(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int flags);
int vm_mincore(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, uint8_t *vec);
int vm_ftruncate(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t size);
int vm_fallocate(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, int mode, uint64_t off, uint64_t len);

/* vm_fork: returns the child address space, or NULL on OOM. */
struct vm_as *vm_fork(struct vm_as *parent, struct mmu_cpu *cpu);

/*
 * vm_access: one user access by the thread on `cpu`, which must have `as`
 * loaded (vm_switch). Walks, faults and retries as needed; returns
 * VM_FAULT_OK, or SEGV/BUS. Never aborts the simulation.
 */
enum vm_fault vm_access(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, enum mmu_acc acc);

/* vm_switch: run `as` on this core (CR3 load; charges kern.ctx_switch when it changes). */
void vm_switch(struct vm_as *as, struct mmu_cpu *cpu);

/*
 * vm_resident: what mincore reports for the page at va: a present PTE, or
 * for a file mapping a page in the file's page cache. Host only.
 */
bool vm_resident(struct vm_as *as, uint64_t va);
/* vm_mapped_pages: the 4 KiB pages as's page table maps (present or PROT_NONE leaves; a huge leaf counts its pages). Host only, no charge. */
uint64_t vm_mapped_pages(const struct vm_as *as);

/*
 * vm_check_as: the design's invariant check over [start, end); panics with
 * the design's name and the violation if it fails. Host only, with no
 * operation on `as` in flight.
 */
void vm_check_as(struct vm_as *as, uint64_t start, uint64_t end);

/* vm_layout: the design's layout visitor (host only). */
void vm_layout(struct vm_as *as, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg);

/*
 * Stateless argument checks, in Linux's order, shared by the wrappers and
 * the reference model. Each returns 0 to go on (with lengths rounded up to
 * pages), VM_CHECK_NOOP when Linux returns 0 without doing anything, or
 * -errno.
 */
#define VM_CHECK_NOOP 1
int vm_check_mmap(uint64_t addr, uint64_t *len, int prot, int flags, bool anon, uint64_t off);
int vm_check_munmap(uint64_t addr, uint64_t *len);
int vm_check_mprotect(uint64_t addr, uint64_t *len, int prot);
int vm_check_madvise(uint64_t addr, uint64_t *len, int advice);
int vm_check_mremap(uint64_t old, uint64_t *old_len, uint64_t *new_len, int flags, uint64_t new_addr);
/* vm_check_mmap_kind: do_mmap's checks of the kind of mapping (after the address is known): 0 or -errno. */
int vm_check_mmap_kind(int flags, bool anon);
/* vm_advice_known: does Linux 6.18 (THP and KSM configured, no CONFIG_MEMORY_FAILURE) know this advice? */
bool vm_advice_known(int advice);

/* ---- files (vm/file.c) ---- */

struct vm_file *vm_file_create(struct vm_sys *sys, const char *name, uint64_t size);
void vm_file_put(struct vm_sys *sys, struct vm_file *f);
void vm_file_get(struct vm_file *f);
/* A page-cache frame's owner is VM_OWNER_FILE | its file's id (an anonymous frame's: its process's pid). */
#define VM_OWNER_FILE 0x80000000u
static inline bool vm_frame_is_file(const struct vm_sys *sys, uint64_t pfn)
{
	return sys->pm->frames[pfn].owner & VM_OWNER_FILE;
}
/* vm_file_page: the frame caching page `idx`, read in (allocated, zeroed) if absent; takes no reference. 0 on OOM. */
uint64_t vm_file_page(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t idx);
/* vm_file_cached: whether page idx is in the page cache. */
bool vm_file_cached(struct vm_file *f, uint64_t idx);
/* vm_file_drop: remove pages [lo, hi) from the page cache (truncation, hole punch), dropping its references. */
void vm_file_drop(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi);
/*
 * vm_file_allocate: fallocate's allocation of pages [lo, hi): a page not
 * cached becomes allocated but not up to date (not resident); one that was
 * allocated so before is cleared and cached now, as shmem does.
 */
void vm_file_allocate(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi);
static inline uint64_t vm_file_npages(const struct vm_file *f) { return (f->size + PAGE_SIZE - 1) >> PAGE_SHIFT; }

/* Helpers for designs. */
static inline struct vm_core_stats *vm_cst(struct vm_as *as, struct mmu_cpu *cpu)
{
	return &as->sys->cst[cpu->core->id];
}
static inline uint64_t vm_page_up(uint64_t x) { return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

#endif
