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
};

struct wl_def {
	const char *name;
	const char *summary; /* one line */
	const char *help;    /* what it does, what it imitates, what counts as an op */
	uint64_t default_ops;
	/* thread: the event source of thread i. */
	struct ev_src *(*thread)(const struct wl_params *p, uint32_t i);
};

const struct wl_def *wl_find(const char *name);
const struct wl_def *const *wl_all(void);

/* ---- building blocks for generators (gen.c) ---- */

/*
 * A generator is a small state machine: `step` fills the next event from
 * its counters. gen_src wraps one as an ev_src.
 */
struct gen {
	struct ev_src src;
	struct wl_params p;
	uint32_t i;	 /* thread index */
	uint64_t n;	 /* events emitted */
	uint64_t k;	 /* the workload's own counter */
	uint64_t rng;
	int phase;
	bool (*step)(struct gen *g, struct ev *e);
	uint64_t u[8];	 /* per-workload scratch */
};

struct ev_src *gen_new(const struct wl_params *p, uint32_t i, bool (*step)(struct gen *, struct ev *));
uint64_t gen_rand(struct gen *g);

/* Event makers. */
struct ev ev_mmap(uint32_t new_region, uint64_t hint, uint64_t len, int prot, int flags);
struct ev ev_munmap(uint32_t region, uint64_t off, uint64_t len);
struct ev ev_mprotect(uint32_t region, uint64_t off, uint64_t len, int prot);
struct ev ev_madvise(uint32_t region, uint64_t off, uint64_t len, int advice);
struct ev ev_access(uint32_t region, uint64_t off, int acc);
struct ev ev_barrier(uint32_t id);
struct ev ev_simple(enum ev_kind k);

#endif
