/* explain_log.h: teaching mode's structured log: each step's lines (the words the terminal prints) and what changed in the machine, as JSON; the terminal and the page are its two renderers. */
#ifndef MMSIM_EXPLAIN_LOG_H
#define MMSIM_EXPLAIN_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include "mmu/mmu.h"
#include "sim/watch.h"

struct xs;
struct xjob;
struct xstate;

/* ---- JSON text (explain_json.c) ---- */

/* struct jb: a growing JSON text. Zeroed is empty. */
struct jb {
	char *s;
	size_t n, cap;
};
void jb_raw(struct jb *b, const char *s);
void jb_printf(struct jb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jb_vprintf(struct jb *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* jb_str: s as a JSON string; '<' is written \u003c, so the text can sit inside an HTML <script>. */
void jb_str(struct jb *b, const char *s);
/* jb_take: the text (NUL-terminated, "" if empty), leaving b empty. The caller frees it. */
char *jb_take(struct jb *b);
void jb_free(struct jb *b);

/* ---- lines ---- */

/* What a line of a step is (the page styles and links them by kind; the terminal prints them all alike). */
enum xl_kind {
	XL_COMMENT, /* a comment or blank line of the script, echoed: the lesson's own explanation */
	XL_ECHO,    /* "mmsim> COMMAND" */
	XL_OP,	    /* the heading of one core's operation: "core 0, process 1: mmap(...) = ...   [N cycles]" */
	XL_NOTE,    /* a line of a core's narration: a sub-step */
	XL_LOCK,    /* a narration line naming a lock just taken, and the wait: a sub-step */
	XL_TEXT,    /* anything else a command prints */
	XL_DIFF,    /* the page-table and layout changes after an operation */
	XL_ERROR,   /* "error: ..." */
	XL_KINDS
};
extern const char xl_kind_code[XL_KINDS]; /* one letter per kind, as the JSON has it */

/* One line of a step, exactly as the terminal prints it (without the newline). */
struct xl_line {
	char *text;
	cycles_t t;    /* XL_NOTE, XL_LOCK: the core's clock when it happened */
	int32_t core;  /* the core it is about, or -1 */
	uint32_t seq;  /* XL_NOTE, XL_LOCK: which of its core's narration events in the step it says (0, 1, ...) */
	uint8_t kind;  /* enum xl_kind */
	uint8_t depth; /* XL_NOTE, XL_LOCK: nesting of the narration */
};

/* How a touch's access to one page went. */
enum xl_out {
	XO_L1,	  /* L1 TLB hit */
	XO_L2,	  /* L1 miss, STLB hit */
	XO_WALK,  /* missed both: the page walk found it */
	XO_FAULT, /* missed, the walk faulted, the kernel fixed it and the retry succeeded */
	XO_FAIL,  /* the access failed (SIGSEGV, SIGBUS, out of memory) */
};

/* A run of n pages from va that one touch looked up with the same outcome. */
struct xl_look {
	uint64_t va, n;
	uint8_t acc; /* enum mmu_acc */
	uint8_t out; /* enum xl_out */
};

/* What one core did during the current step (from its jobs). */
struct xl_act {
	bool ran;
	char *what; /* its operation and result in words, or NULL */
	cycles_t t0, t1;
	struct watch_ev *ev; /* locks, IPIs and narration (its text is in the lines) */
	size_t nev;
	struct tl_span *spans;
	size_t nspans;
	struct xl_look *look;
	size_t nlook;
};

/* One step: the lines of a command (or of comments only, at the end of a script). */
struct xl_step {
	char *cmd; /* the command line; NULL: comments only */
	struct xl_line *l;
	size_t n, cap;
};

/*
 * struct xlog: the log of one session. A step begins with the comments
 * before a command and ends after the command ran: then the machine is
 * compared with the end of the last step, the step is rendered on `term`
 * (if set) and, with `keep`, turned into JSON and kept for the page.
 */
struct xlog {
	FILE *term;
	bool keep;
	struct xl_step cur;
	struct xl_act *act;	 /* per core */
	struct mmu_cpu_stats *st0; /* per core: its counters when the step's command began */
	uint32_t ncores;
	struct jb changes;	 /* the current step's changes of state (JSON members) */
	bool synced;		 /* the state was compared during this step already */
	bool told;		 /* a step said which processes there are and which core runs which */
	bool rebuilt;		 /* the machine was rebuilt during this step */
	cycles_t t0;		 /* the machine's present when the step's command began */
	char *design;		 /* "linux (thp=never)": the design the steps run on now */
	char *first_design;	 /* ... and the one the first step ran on */
	bool design_changed;	 /* ... since the last step */
	struct jb partial;	 /* xl_printf's unfinished line */
	int pkind, pcore;
	struct xstate *prev;	 /* the machine at the end of the last step */
	char **steps;		 /* the kept steps, as JSON objects */
	size_t nsteps, steps_cap;
	uint64_t nlines;	 /* lines rendered so far */
};

/* xl_printf: text for the current step; each finished line becomes a line of kind k about `core` (-1: none). */
void xl_printf(struct xs *s, enum xl_kind k, int core, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* xl_input: a line of input: a comment or blank line (echoed) or a command, which begins a step. */
void xl_input(struct xs *s, const char *line, bool command);
/*
 * xl_job: take what job j recorded into the current step: its activity,
 * and its narration as lines if `lines` (the lock lines also appended to
 * `locks`, as `show locks` lists them, unless NULL). Frees j's records.
 */
void xl_job(struct xs *s, struct xjob *j, bool lines, struct jb *locks);
/* xl_said: whether job j narrated anything. */
bool xl_said(const struct xjob *j);
/* xl_sync: compare the machine with the last step's end and record the changes; with `print`, say the page-table and layout ones. */
void xl_sync(struct xs *s, bool print);
/* xl_design: the machine was (re)built with this design and options: the steps from now on run on it. */
void xl_design(struct xs *s);
/* xl_end: the current command is done: end its step. */
void xl_end(struct xs *s);
/* xl_finish: the input ended: trailing comments make a last step. */
void xl_finish(struct xs *s);
/* xl_run_json: the kept log of this session as one JSON object ({"design": ..., "steps": [...]}), appended to b. */
void xl_run_json(struct xs *s, struct jb *b);
/* xl_machine_json: the machine's description (cores, TLB geometry, levels, clock) as JSON members, appended to b. */
void xl_machine_json(struct xs *s, struct jb *b);
void xl_free(struct xs *s);

/* ---- the machine's state for changes (explain_snap.c) ---- */

/* xstate_take: the machine now: every process's page table and layout, every core's TLB and process. */
struct xstate *xstate_take(struct xs *s);
/*
 * xstate_diff: what changed from a (NULL: nothing) to b, as JSON members
 * appended to out ("procs", "cur", "pt", "lay", "tlb"; with `all`, "procs"
 * and "cur" even if unchanged); unless `said` is NULL, the page-table and
 * layout changes also as the terminal says them (lines appended to said).
 */
void xstate_diff(struct xs *s, const struct xstate *a, const struct xstate *b, struct jb *out, struct jb *said, bool all);
void xstate_free(struct xstate *x);

#endif
