/* explain.h: teaching mode: a simulated machine driven by hand, one command at a time, that says what every step does. */
#ifndef MMSIM_EXPLAIN_H
#define MMSIM_EXPLAIN_H

#include <stdio.h>

#include "app/sysopts.h"
#include "sim/watch.h"

#define XS_MAX_PROCS 64
#define XS_MAX_ARGS 24
#define XS_MAX_NAMES 64
#define XS_NAME_LEN 32
#define XS_MAX_FILES 16
#define XS_FILE_SIZE (64ull << 20) /* a file is this big unless its first mapping reaches further */

/* Names given to mmap results ("mmap 16K as buf"), usable as addresses ("buf+0x1000"). */
struct xs_names {
	char name[XS_MAX_NAMES][XS_NAME_LEN];
	uint64_t val[XS_MAX_NAMES];
	uint32_t n;
};

/* One parsed command line: words, and the core it runs on (`on CORE`, default: the session's current core). */
struct xcmd {
	char *argv[XS_MAX_ARGS];
	int argc;
	int core; /* -1: not given */
	const char *line;
};

/*
 * struct xs: one teaching session. The system is rebuilt from `hist` (the
 * commands that changed state) when the design or an option changes.
 */
struct xs {
	struct cli_common o;
	struct sysopts so;
	struct boot *b;
	struct vm_as *procs[XS_MAX_PROCS]; /* process i+1; NULL once it exited */
	uint32_t nprocs;
	uint32_t *cur; /* per core: index of its process */
	FILE *out;
	bool quiet;    /* replaying history: say nothing */
	char **hist;
	size_t nhist, hist_cap;
	char *last_locks; /* the lock lines of the last command */
	uint64_t errors;
	struct xs_names names;
	struct vm_file *files[XS_MAX_FILES]; /* by id (1..): created on first use */
	uint32_t core;	  /* the default core for commands without `on CORE` */
	cycles_t *hist_cycles; /* per history entry: cycles it took (for `design` comparisons) */
	bool interactive;
	bool replaying;	  /* rebuilding from hist: record cycles at replay_idx */
	size_t replay_idx;
	cycles_t last_cycles; /* of the last command that ran operations */
	char dval[SYS_MAX_DOPTS][32]; /* values of the design options set with `set` (so.dopt points here) */
};

/* xs_open: boot the machine for s->o/s->so with process 1 on every core. Returns 0, or 2 with a message. */
int xs_open(struct xs *s);
void xs_close(struct xs *s);

/* xs_exec: run one command line (may be a comment or blank). Errors are one line on s->out; the session goes on. */
void xs_exec(struct xs *s, const char *line);

/* xs_err: print "error: ..." and count it. Returns -1. */
int xs_err(struct xs *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- running work on simulated cores (explain_run.c) ---- */

/* A piece of work for one core: fn runs on that core inside sim_run, narrated. */
struct xjob {
	uint32_t core;
	void (*fn)(struct xs *s, struct xjob *j, struct mmu_cpu *cpu);
	void *arg;
	long result;
	cycles_t t0, t1; /* the core's clock before and after */
	char *text;	 /* its narration */
};

/* xs_run_jobs: run the jobs at once (each on its own core, starting together), then RCU-quiesce. */
void xs_run_jobs(struct xs *s, struct xjob *jobs, uint32_t n);
/* xs_as: the address space core c runs now. */
struct vm_as *xs_as(struct xs *s, uint32_t core);
/* xs_file: the session's file `id` (1..XS_MAX_FILES), created with at least `size` bytes. */
struct vm_file *xs_file(struct xs *s, uint32_t id, uint64_t size);

/* ---- showing state (explain_show.c) ---- */

/* A snapshot of one address space's page table and layout, as lines, for diffs. */
struct xsnap {
	char **line;
	uint64_t *key; /* sort keys */
	size_t n, cap;
};
void xsnap_pt(struct xs *s, struct vm_as *as, struct xsnap *out);
void xsnap_layout(struct xs *s, struct vm_as *as, struct xsnap *out);
/* xsnap_diff: print "- old" / "+ new" lines under `title` (nothing if equal); at most `max` lines. */
void xsnap_diff(struct xs *s, const char *title, const struct xsnap *a, const struct xsnap *b, size_t max);
void xsnap_free(struct xsnap *x);

int xs_show(struct xs *s, struct xcmd *c);
/* xs_split_address: print the address split into its table indices and offset. */
void xs_split_address(struct xs *s, uint64_t va);

#endif
