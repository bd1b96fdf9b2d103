/* judge.h: a replay's judge (traces/judge.c): results against the recording, the mismatch list, the last call on each page, and recorded against simulated latency per call type. */
#ifndef MMSIM_TRACES_JUDGE_H
#define MMSIM_TRACES_JUDGE_H

#include "traces/trace.h"

struct jd;

/* Where an event is: its thread (trace and recorded ids), its number in the thread (from 1) and its input line. */
struct jd_pos {
	uint32_t tid, rtid;
	uint64_t n, line;
};

/*
 * jd_new: a judge. inspect: the design's layout may be read while the
 * replay runs (deterministic mode: one core at a time); keep: mismatches
 * kept with their detail (the others are counted).
 */
struct jd *jd_new(bool inspect, uint64_t keep);
void jd_free(struct jd *j);
/*
 * jd_check: the event e at pos ran on as with result r at address addr
 * (resolved). 0 if it agrees with the recording (or is not checked), 1 a
 * fault outcome differs, 2 a call's result differs. Memory calls are
 * logged (the last call on a page). Safe from several cores at once.
 */
int jd_check(struct jd *j, const struct jd_pos *pos, struct vm_as *as, const struct ev *e, uint64_t addr, long r);
/* jd_sample: one call of kind took rec_ns in the recording and sim_ns simulated. */
void jd_sample(struct jd *j, uint8_t kind, uint64_t rec_ns, uint64_t sim_ns);
/* jd_mismatches: how many mismatches there were (kept or not). */
uint64_t jd_mismatches(const struct jd *j);
/* jd_write: every kept mismatch, one per line (json: JSON objects), in the order they happened. */
void jd_write(const struct jd *j, FILE *f, bool json);

/* One call type's latencies (ns): recorded (after perf's cost) and simulated. */
struct jd_timing {
	const char *kind;
	uint64_t n;
	double rec_median, rec_p90, sim_median, sim_p90;
};
/* jd_timing: the call types with samples, in kind order, into out (room for EV_KINDS); their count. */
uint32_t jd_timing(struct jd *j, struct jd_timing *out);

#endif
