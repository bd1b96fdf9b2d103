/* stats.h: repeated host measurements: the median, its 95% confidence interval, and when to stop or give up. */
#ifndef MMSIM_HM_STATS_H
#define MMSIM_HM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * struct hm_est: what a set of samples says. median and the bounds lo..hi
 * of the 95% confidence interval of the median (distribution-free, from
 * order statistics); rel is the larger distance from the median to a
 * bound, as a fraction of the median. ok: enough samples (at least 8, the
 * fewest for which the interval exists) and rel within the tolerance.
 */
struct hm_est {
	double median, lo, hi, rel, min, max;
	uint32_t n;
	bool ok;
};

/* hm_estimate: the estimate of v[0..n) (v is not changed) for tolerance tol (0.10 for +-10%). */
void hm_estimate(const double *v, uint32_t n, double tol, struct hm_est *out);

/* A plan: at least min samples, at most max, stop as soon as the interval is within tol. */
struct hm_plan {
	uint32_t min, max;
	double tol;
};

/*
 * hm_measure: call sample(arg) (one sample: nanoseconds per operation of one
 * timed batch) until the plan says stop; samples go to v (room for plan->max).
 * Returns the estimate; ok false means it gave up at plan->max.
 */
struct hm_est hm_measure(double (*sample)(void *arg), void *arg, const struct hm_plan *plan, double *v);

/*
 * hm_verdict: may a file be written from these estimates? true when all are
 * ok, or when force is set (a warning names the noisy ones); false otherwise,
 * with why naming the first noisy one. names[i] labels est[i].
 */
bool hm_verdict(const struct hm_est *est, const char *const *names, size_t n, bool force, char *why, size_t whylen);

#endif
