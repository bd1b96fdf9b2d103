/* report.h: the result record of a run or replay (flat keys, so a sweep can write it as one CSV row). */
#ifndef MMSIM_REPORT_H
#define MMSIM_REPORT_H

#include "app/sysopts.h"
#include "vm/boot.h"
#include "vm/exec.h"
#include "workloads/wl.h"

/* How a point was measured (--method), and what the repetitions add up to. */
struct report_method {
	const char *name;	/* "loop" or "paper" */
	uint64_t reps;		/* repetitions run (1 for loop) */
	uint64_t ops, events;	/* over every repetition */
	cycles_t window;	/* the repetitions' measured windows, summed */
	uint64_t samples;	/* paper: threads x repetitions whose request latencies were summed */
	double req_cycles[WL_PAPER_REQS]; /* paper: sum over samples of request j's latency, in cycles */
};

struct report_in {
	const struct cli_common *o;
	struct boot *b;
	struct ex *x;
	const char *workload;
	const char *contention; /* "low", "high", or NULL where it does not apply */
	bool fixed;		/* workload placed its mappings with MAP_FIXED */
	uint64_t ops_per_thread;
	bool processes;		/* one process per initial thread (else all threads in one) */
	uint64_t size;		/* the workload's --size in bytes (0: it takes none) */
	const char *config_key; /* report_key of everything that decides the results (sweep resume), or NULL */
	const struct report_method *method; /* NULL: one loop-method run, its figures from x */
};

/*
 * report_config: the part of a point's configuration every command shares,
 * canonically, into buf: the build, the machine's digest, the mode and its
 * knob, seed, cores, and the system and design options.
 */
void report_config(const struct cli_common *o, const struct sysopts *s, char *buf, size_t n);
/* report_key: a short key (16 hex digits) of a canonical configuration string. */
void report_key(const char *config, char out[17]);

/* report_emit: every key of a finished run (the executor and the system still alive). */
void report_emit(struct em *e, const struct report_in *in);

#endif
