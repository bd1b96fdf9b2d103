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
	struct wl_params wp; /* wp.paper: --method paper */
	uint64_t reps;	     /* --reps: repetitions under --method paper (0: the artifact's 4096 / threads) */
};

/* point_reps: how many times the point's measured run is repeated (1 under --method loop). */
uint64_t point_reps(const struct point *pt);

/*
 * point_key: the key of everything that decides the point's results (the
 * build, the machine's numbers, every option, the workload's parameters), as
 * the sweep's resume compares it.
 */
void point_key(const struct point *pt, char out[17]);

#define POINT_OPT_METHOD 0x120
#define POINT_OPT_REPS 0x121

/* The workload options run and sweep share (getopt_long entries; point_wl_opt handles them). */
#define POINT_WL_OPTS                                                                               \
	{ "ops", required_argument, 0, 'n' }, { "fixed", no_argument, 0, 'X' },                    \
		{ "processes", no_argument, 0, 'P' }, { "size", required_argument, 0, 'z' },                 \
		{ "method", required_argument, 0, POINT_OPT_METHOD }, { "reps", required_argument, 0, POINT_OPT_REPS }
#define POINT_WL_HELP                                                                                    \
	"  --ops K           requests per thread (default: the workload's)\n"                               \
	"  --fixed           MAP_FIXED placement, for workloads that offer it (mmap)\n"                     \
	"  --processes       every thread in its own process (will-it-scale's processes mode),\n"        \
	"                    for workloads that offer it; else all threads share one process\n"          \
	"  --size BYTES      the workload's size (K, M, G suffixes), for workloads that take one\n"        \
	"  --method M        loop (default): every thread issues --ops requests, all counted, and\n"       \
	"                    throughput is ops / measured window. paper (the five paper workloads):\n"    \
	"                    the CortenMM artifact's method: 32 timed requests per thread, throughput\n"  \
	"                    = threads / mean latency of the last 16, each point repeated\n"             \
	"  --reps N          repetitions under --method paper, each a fresh process on the same\n"      \
	"                    machine (default: the artifact's 4096 / threads, at least 1)\n"

/* point_wl_opt: one of POINT_WL_OPTS into pt->wp (and pt->reps): 0, CLI_NOT_MINE (-1) if not one of them, or 2 after a bad value. */
int point_wl_opt(const char *cmd, struct point *pt, int opt, const char *arg);

/*
 * point_run: build the system, run the workload, emit the report into e
 * (between em_begin and em_end, done by the caller), tear down. Returns 0,
 * 1 if frames leaked (a design bug, reported on stderr), or 2 on a bad option.
 */
int point_run(struct point *pt, struct em *e, const char *cmd);

#endif
