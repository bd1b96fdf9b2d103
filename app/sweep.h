/* sweep.h: running a sweep's points: resumable, side by side on the host's cores, rows in order; or as a job list. */
#ifndef MMSIM_SWEEP_H
#define MMSIM_SWEEP_H

#include "app/point.h"

/* One point of a sweep, with the key of everything that decides its results (point_key). */
struct sweep_pt {
	struct point pt;
	char key[17];
};

/*
 * sweep_run: run the points not already in the CSV at outpath (rows whose
 * config_key matches are kept, so a rerun resumes), up to `jobs` at a time
 * in child processes, appending each row whole in the points' order, so the
 * file reads as a sequential sweep's would. Progress on stderr when it is a
 * terminal. Returns 0, 1 if a point or a write failed (said on stderr), or 2
 * if the existing file cannot be resumed from.
 */
int sweep_run(struct sweep_pt *pts, int n, const char *outpath, int jobs, const char *cmd);

/*
 * sweep_emit_jobs: print one self-contained `mmsim run` command per point,
 * each writing DIR/point-NNNN.csv, after making DIR. 0, or 1 with a message.
 */
int sweep_emit_jobs(const struct sweep_pt *pts, int n, const char *dir, const char *cmd);

#endif
