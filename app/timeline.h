/* timeline.h: per-core timelines of simulated time (mmsim timeline): record spans during a run, then write and draw them. */
#ifndef MMSIM_TIMELINE_H
#define MMSIM_TIMELINE_H

#include "sim/sim.h"

/* What `mmsim timeline` asks of the run it wraps (options apart from state). */
struct tl_req {
	const char *dir;	     /* output directory for data, script, PNG and SVG */
	double from_us, to_us;	     /* window in simulated µs from the start of the run (to_us 0: to the end) */
	uint64_t max_spans;	     /* spans kept over all cores */
};

/* Set by `mmsim timeline` before it runs `mmsim run` or `mmsim replay`; NULL otherwise. */
extern const struct tl_req *tl_request;

/* tl_attach: give every core a recording watch (before the run). */
void tl_attach(struct sim *s, const struct tl_req *r);
/* tl_finish: write the spans of every core and draw them under `heading`; detach and free the watches. Returns 0 or 2. */
int tl_finish(struct sim *s, const struct tl_req *r, const char *heading, const char *cmd);

#endif
