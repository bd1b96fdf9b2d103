/* hist.h: log-linear latency histograms (about 3% relative precision) with deterministic percentiles. */
#ifndef MMSIM_HIST_H
#define MMSIM_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 5 /* 32 sub-buckets per power of two */
#define HIST_GROUPS (64 - HIST_SUB_BITS + 1)
#define HIST_BUCKETS (HIST_GROUPS << HIST_SUB_BITS)

/*
 * struct hist: counts of values (cycles). Written by one core; merged after
 * the run. The buckets come in groups, one per power of two, each allocated
 * the first time a value falls in it: a core's latencies span a few powers
 * of two, so a histogram takes a few hundred bytes, not HIST_BUCKETS counters
 * (fresh host pages are what a short run of many cores pays most for).
 */
struct hist {
	uint64_t n, sum, max;
	uint32_t **g; /* HIST_GROUPS pointers (allocated on first record), each NULL or 2^HIST_SUB_BITS counters */
};

void hist_record(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
/* hist_pct: the value at percentile p (0..100): the upper bound of the bucket holding it. */
uint64_t hist_pct(const struct hist *h, double p);
void hist_free(struct hist *h);

#endif
