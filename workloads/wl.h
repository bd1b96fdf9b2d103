/* wl.h: synthetic workloads: each is a generator of per-thread event streams, run by the same executor as traces. */
#ifndef MMSIM_WL_H
#define MMSIM_WL_H

#include "vm/exec.h"

/* Parameters every workload takes (options apart from state). */
struct wl_params {
	uint32_t threads;   /* one per core in `mmsim run` */
	uint64_t ops;	    /* requests per thread (0: the workload's default) */
	uint64_t seed;
	bool high_contention; /* --contention high: share one region instead of disjoint slots */
	bool fixed;	      /* --fixed: MAP_FIXED placement where a workload offers both */
	bool processes;	      /* --processes: initial thread i runs alone in process i+1 (else all in process 1) */
	uint64_t size;	      /* --size: bytes, the workload's own meaning (0: its default) */
	bool paper;	      /* --method paper: the CortenMM artifact's method (workloads with WL_PAPER) */
	/*
	 * neighbour (mmap, unfixed; set by calibrate when the host's own mmap
	 * merged): thread 0 first maps two anonymous pages, where the design's
	 * mmap(NULL) puts them, so that the requests' mappings land right under
	 * an anonymous mapping and merge with it, and each munmap splits it, as in
	 * a glibc process whose first anonymous mapping sits under its libraries.
	 */
	bool neighbour;
};

/* What a workload offers beyond --ops (wl_def.flags). */
#define WL_CONTENTION (1u << 0) /* --contention high applies */
#define WL_PROCESSES (1u << 1)	/* --processes applies (its threads share no memory they rely on) */
#define WL_FIXED (1u << 2)	/* --fixed applies (MAP_FIXED placement instead of the design's choice) */
#define WL_PAPER (1u << 3)	/* --method paper applies (paper_art.c: the CortenMM artifact's method) */
/*
 * The workload emits EV_THREAD or EV_FORK: its new threads run the same
 * step (wl_spawn). Initial threads are tids 1..threads, so a workload picks
 * new tids above that (gen_child_tid).
 */
#define WL_SPAWNS (1u << 4)

/* The artifact's method (--method paper): requests per thread, and how many of the last ones count. */
#define WL_PAPER_REQS 32
#define WL_PAPER_LAST 16

struct gen;

struct wl_def {
	const char *name;
	const char *summary; /* one line */
	const char *help;    /* what it does, what it imitates, what counts as an op */
	uint64_t default_ops;
	uint64_t default_size; /* bytes; 0: the workload takes no --size */
	uint32_t flags;	       /* WL_* */
	/*
	 * step: the generator every thread runs (struct gen, gen.c); it finds
	 * arg, the workload's own parameters (may be NULL), at g->w->arg.
	 * Under --method paper, paper_step instead (workloads with WL_PAPER).
	 */
	bool (*step)(struct gen *g, struct ev *e);
	bool (*paper_step)(struct gen *g, struct ev *e);
	const void *arg;
	/* check (optional): false, with a one-line message in buf, if p (ops and size filled in) cannot run. */
	bool (*check)(const struct wl_params *p, char *buf, size_t n);
};

const struct wl_def *wl_find(const char *name);
const struct wl_def *const *wl_all(void);
/* wl_thread: the event source of initial thread i (tid i+1) of w. */
struct ev_src *wl_thread(const struct wl_def *w, const struct wl_params *p, uint32_t i);
/*
 * wl_spawn: the event source of thread `tid` of w (WL_SPAWNS), which w's
 * own EV_THREAD or EV_FORK created (tid2; from gen_child_tid: the
 * generator's i and child are decoded from it). Called by the executor on
 * a simulated core, one call per new thread.
 */
struct ev_src *wl_spawn(const struct wl_def *w, const struct wl_params *p, uint32_t tid);

/*
 * wl_check: whether p suits w (contention, processes and size where w
 * offers them, size range, w's own check). Returns 0, or -1 with a one-line
 * message in buf.
 */
int wl_check(const struct wl_def *w, const struct wl_params *p, char *buf, size_t n);
/* wl_contention: the contention level as reported ("low", "high"), or "-" where w has none. */
const char *wl_contention(const struct wl_def *w, const struct wl_params *p);
/* wl_ops, wl_size: the effective requests per thread and size (p's, or w's defaults). */
uint64_t wl_ops(const struct wl_def *w, const struct wl_params *p);
uint64_t wl_size(const struct wl_def *w, const struct wl_params *p);
/* wl_describe: the parameter line of `mmsim workloads NAME` and `mmsim run --help` (defaults, what applies). */
void wl_describe(const struct wl_def *w, char *buf, size_t n);

/* ---- building blocks for generators (gen.c) ---- */

#define WL_RW (VM_PROT_READ | VM_PROT_WRITE)
#define WL_ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)

#define GEN_QUEUE 16

/* A queued event, repeated `count` times with addr advancing by `stride` (a sweep over pages). */
struct gen_item {
	struct ev e;
	uint64_t count, stride;
};

/*
 * A generator is a small state machine: `step` fills the next event from
 * its counters, or queues several with gen_push/gen_sweep (they come out
 * after *e, if step set it). step returns false at the end of the stream
 * (what is still queued is dropped). gen_src wraps one as an ev_src.
 */
struct gen {
	struct ev_src src;
	struct wl_params p;
	uint32_t i;	 /* initial thread index (of a spawned thread: of the thread that began its chain) */
	uint64_t child;	 /* 0 for an initial thread; n for the n-th spawned thread of chain i (gen_child_tid) */
	uint64_t n;	 /* events emitted */
	uint64_t k;	 /* the workload's own counter */
	uint64_t rng;
	int phase;
	bool (*step)(struct gen *g, struct ev *e);
	const struct wl_def *w; /* the workload: its step's parameters (w->arg), its defaults */
	uint64_t u[8];	 /* per-workload scratch */
	uint64_t *data;	 /* per-workload array (xmalloc'ed by the step; freed with the generator), or NULL */
	struct gen_item q[GEN_QUEUE];
	uint32_t qh, qn;
};

uint64_t gen_rand(struct gen *g);
/* gen_push: queue e; gen_sweep: queue e `count` times, addr advancing by `stride`. Panic when the queue is full. */
void gen_push(struct gen *g, struct ev e);
void gen_sweep(struct gen *g, struct ev e, uint64_t count, uint64_t stride);
/* gen_start: queue the start of the measured phase: a barrier of all initial threads, then EV_MARK. */
void gen_start(struct gen *g);
/*
 * gen_begin: the first step of a looping generator. On its first call
 * (phase 0) it moves g to phase 1, queues setup's events (setup may be
 * NULL) and then the start (gen_start), and returns true: the step returns
 * true too. Every later call returns false: the step goes on to a loop.
 */
bool gen_begin(struct gen *g, void (*setup)(struct gen *g));
/* The workload's effective --ops and --size (bytes, rounded up to whole pages): the options, else its defaults. */
uint64_t gen_ops(const struct gen *g);
uint64_t gen_size(const struct gen *g);
/*
 * gen_region: a region id private to this thread's chain: regions of
 * different chains never collide, even in one process. j < 2^20.
 */
uint32_t gen_region(const struct gen *g, uint64_t j);
/* gen_region_of: the same, for chain i (to name another thread's region in a shared process). */
uint32_t gen_region_of(uint32_t i, uint64_t j);
/* gen_child_tid: the tid (and, for forks, pid) of the n-th (n >= 1) thread spawned in chain g->i. */
uint32_t gen_child_tid(const struct gen *g, uint64_t n);
/* gen_check_ids: a wl_def.check for workloads that number regions, files or threads by op (ops < 2^20). */
bool gen_check_ids(const struct wl_params *p, char *buf, size_t n);
/* gen_file: a file id private to chain i (files are global in the executor), j < 2^20. */
uint32_t gen_file(const struct gen *g, uint64_t j);

/* The artifact-method generators of the five paper workloads (paper_art.c), their wl_def.paper_step. */
bool art_mmap_step(struct gen *g, struct ev *e);
bool art_mmap_pf_step(struct gen *g, struct ev *e);
bool art_pf_step(struct gen *g, struct ev *e);
bool art_munmap_virt_step(struct gen *g, struct ev *e);
bool art_munmap_step(struct gen *g, struct ev *e);

/* Event makers. */
struct ev ev_mmap(uint32_t new_region, uint64_t hint, uint64_t len, int prot, int flags);
struct ev ev_mmap_file(uint32_t new_region, uint64_t len, int prot, int flags, uint32_t file, uint64_t off);
struct ev ev_munmap(uint32_t region, uint64_t off, uint64_t len);
struct ev ev_mprotect(uint32_t region, uint64_t off, uint64_t len, int prot);
struct ev ev_madvise(uint32_t region, uint64_t off, uint64_t len, int advice);
struct ev ev_access(uint32_t region, uint64_t off, int acc);
/* ev_brk: set the break to start_brk + off (off > 0). */
struct ev ev_brk(uint64_t off);
/* ev_compute_ns: a gap of user work, in nanoseconds. */
struct ev ev_compute_ns(uint64_t ns);
struct ev ev_thread(uint32_t tid);
struct ev ev_fork(uint32_t pid, uint32_t tid);
struct ev ev_barrier(uint32_t id);
struct ev ev_simple(enum ev_kind k);
/* ev_op: e flagged as one operation of the workload's throughput. */
struct ev ev_op(struct ev e);

#endif
