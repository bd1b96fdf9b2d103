/* hist.h: log-linear latency histograms (about 3% relative precision) with deterministic percentiles. */
#ifndef MMSIM_HIST_H
#define MMSIM_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 5 /* 32 sub-buckets per power of two */
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) << HIST_SUB_BITS)

/* struct hist: counts of values (cycles). Written by one core; merged after the run. */
struct hist {
	uint64_t n, sum, max;
	uint32_t *b; /* HIST_BUCKETS counters, allocated on first record */
};

void hist_record(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
/* hist_pct: the value at percentile p (0..100): the upper bound of the bucket holding it. */
uint64_t hist_pct(const struct hist *h, double p);
void hist_free(struct hist *h);

#endif
