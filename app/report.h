/* report.h: the result record of a run or replay (flat keys, so a sweep can write it as one CSV row). */
#ifndef MMSIM_REPORT_H
#define MMSIM_REPORT_H

#include "app/cli.h"
#include "vm/boot.h"
#include "vm/exec.h"

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
};

/* report_emit: every key of a finished run (the executor and the system still alive). */
void report_emit(struct em *e, const struct report_in *in);

#endif
