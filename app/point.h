/* point.h: one simulation point (design x workload x contention x cores), as run, sweep and the job lists run it. */
#ifndef MMSIM_POINT_H
#define MMSIM_POINT_H

#include "app/report.h"
#include "app/sysopts.h"
#include "workloads/wl.h"

struct point {
	struct cli_common o; /* machine, mode, seed, cores, ... */
	struct sysopts s;    /* design and system options */
	const struct wl_def *w;
	struct wl_params wp;
};

/*
 * point_run: build the system, run the workload, emit the report into e
 * (between em_begin and em_end, done by the caller), tear down. Returns 0,
 * 1 if frames leaked (a design bug, reported on stderr), or 2 on a bad option.
 */
int point_run(struct point *pt, struct em *e, const char *cmd);

#endif
