/* stats.c: the median of repeated host measurements, its distribution-free 95% confidence interval, the stopping rule. */
#include "hostm/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void hm_estimate(const double *v, uint32_t n, double tol, struct hm_est *out)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	if (!n)
		return;
	double *s = malloc(sizeof(double) * n);
	if (!s)
		return;
	memcpy(s, v, sizeof(double) * n);
	qsort(s, n, sizeof(double), cmp);
	out->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	out->min = s[0];
	out->max = s[n - 1];
	/*
	 * The median's 95% interval runs from the r-th to the t-th smallest
	 * sample, r = n/2 - 1.96 sqrt(n)/2 and t = 1 + n/2 + 1.96 sqrt(n)/2
	 * (1-based, normal approximation of the binomial; e.g. Conover,
	 * Practical Nonparametric Statistics, 3rd ed., section 3.2). Below 8
	 * samples r < 1: no interval.
	 */
	double h = 1.96 * sqrt((double)n) / 2;
	long r = (long)floor(n / 2.0 - h), t = (long)ceil(1 + n / 2.0 + h);
	if (r < 1 || t > (long)n) {
		out->lo = out->min;
		out->hi = out->max;
		out->rel = INFINITY;
	} else {
		out->lo = s[r - 1];
		out->hi = s[t - 1];
		double d = fmax(out->median - out->lo, out->hi - out->median);
		out->rel = out->median > 0 ? d / out->median : INFINITY;
	}
	out->ok = isfinite(out->rel) && out->rel <= tol;
	free(s);
}

struct hm_est hm_measure(double (*sample)(void *arg), void *arg, const struct hm_plan *plan, double *v)
{
	struct hm_est e = { 0 };
	for (uint32_t n = 0; n < plan->max;) {
		v[n++] = sample(arg);
		if (n >= plan->min || n == plan->max) {
			hm_estimate(v, n, plan->tol, &e);
			if (e.ok)
				break;
		}
	}
	return e;
}

bool hm_verdict(const struct hm_est *est, const char *const *names, size_t n, bool force, char *why, size_t whylen)
{
	if (whylen)
		why[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (est[i].ok)
			continue;
		snprintf(why, whylen, "%s: the 95%% interval of its median is +-%.0f%% after %u samples", names[i],
			 isfinite(est[i].rel) ? 100 * est[i].rel : 999.0, est[i].n);
		return force;
	}
	return true;
}
