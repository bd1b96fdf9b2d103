/* explain.h: teaching mode: a simulated machine driven by hand, one command at a time, that says what every step does. */
#ifndef MMSIM_EXPLAIN_H
#define MMSIM_EXPLAIN_H

#include <stdio.h>

#include "app/explain_log.h"
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
	struct xlog log; /* every step, as lines and changes; the terminal renders it (explain_log.h) */
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

/* xs_err: say "error: ..." and count it. Returns -1. */
int xs_err(struct xs *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* xs_printf: text for the current step (line kind XL_TEXT, about no core); see xl_printf. */
#define xs_printf(s, ...) xl_printf((s), XL_TEXT, -1, __VA_ARGS__)

/* ---- running work on simulated cores (explain_run.c) ---- */

/* A piece of work for one core: fn runs on that core inside sim_run, watched. */
struct xjob {
	uint32_t core;
	void (*fn)(struct xs *s, struct xjob *j, struct mmu_cpu *cpu);
	void *arg;
	long result;
	cycles_t t0, t1;	 /* the core's clock before and after */
	struct watch_ev *ev;	 /* what it did: narration, locks, IPIs (sim/watch.h) */
	size_t nev;
	struct tl_span *spans;	 /* where its time went */
	size_t nspans;
	struct xl_look *look;	 /* touch: its TLB lookups, by runs of pages */
	size_t nlook;
	char *what;		 /* the operation and its result in words ("munmap(0x..., 0x1000) = 0"), or NULL */
};

/* xjob_free: free what a job recorded (explain_log.c, which takes the records over). */
void xjob_free(struct xjob *j);

/* xs_run_jobs: run the jobs at once (each on its own core, starting together), then RCU-quiesce. */
void xs_run_jobs(struct xs *s, struct xjob *jobs, uint32_t n);
/* xs_as: the address space core c runs now. */
struct vm_as *xs_as(struct xs *s, uint32_t core);
/* xs_file: the session's file `id` (1..XS_MAX_FILES), created with at least `size` bytes. */
struct vm_file *xs_file(struct xs *s, uint32_t id, uint64_t size);

/* ---- snapshots of the machine (explain_snap.c) ---- */

enum xent_kind { XE_TABLE, XE_PAGE, XE_NONE, XE_RANGE };

/*
 * struct xent: what one snapshot line shows. A page-table line is one
 * present entry (XE_TABLE pointing at a table, XE_PAGE mapping a page) or a
 * run i..j of non-present entries with one status (XE_NONE); a layout line
 * (XE_RANGE) is one mapping.
 */
struct xent {
	uint64_t va, end; /* what the line covers */
	uint64_t pte;	  /* page table: the entry (XE_NONE: the first of the run) */
	uint64_t page;	  /* page table: pfn of the PT page that holds it */
	uint64_t pgoff;	  /* layout: the file offset in pages */
	char *status;	  /* page table: the design's metadata, NULL if none */
	uint32_t pid, prot, flags, file;
	uint16_t i, j;	  /* page table: first and last index */
	uint8_t level;	  /* page table: 1..5 */
	uint8_t kind;	  /* enum xent_kind */
	uint8_t rkind;	  /* layout: enum vm_range_kind */
};

/* One line of a snapshot: its text (as `show` and the diffs print it), sort key and contents. */
struct xline {
	uint64_t key;
	char *text;
	struct xent e;
};

/* A snapshot of one address space's page table or layout, for views and diffs. */
struct xsnap {
	struct xline *l;
	size_t n, cap;
};
void xsnap_pt(struct xs *s, struct vm_as *as, struct xsnap *out);
void xsnap_layout(struct xs *s, struct vm_as *as, struct xsnap *out);
/* xsnap_sort: order the lines by key, then text (the order diffs compare in). */
void xsnap_sort(struct xsnap *x);
/*
 * xsnap_diff_each: call fn for every line of sorted `a` not in sorted `b`
 * (sign '-') and of `b` not in `a` (sign '+'), in key order.
 */
void xsnap_diff_each(const struct xsnap *a, const struct xsnap *b, void (*fn)(void *ctx, char sign, const struct xline *l),
		     void *ctx);
void xsnap_free(struct xsnap *x);

/* One live TLB entry of one core. */
struct xtlb {
	uint64_t va, pfn;
	uint16_t pcid;
	uint8_t arr;   /* index in struct tlb's arrays */
	uint8_t size;  /* enum pg_size */
	uint8_t allow; /* ALLOW_* */
};

/* xsnap_tlb: core's live TLB entries, sorted by array, PCID, size and address; *n of them (free the result). */
struct xtlb *xsnap_tlb(struct xs *s, uint32_t core, size_t *n);

/* ---- showing state (explain_show.c) ---- */

int xs_show(struct xs *s, struct xcmd *c);
/* xs_split_address: say the address split into its table indices and offset (a line about `core`, -1: none). */
void xs_split_address(struct xs *s, uint64_t va, int core);

#endif
