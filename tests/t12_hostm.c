/* t12_hostm.c: the statistics of calibration on fake samples: the median's 95% interval, the stopping rule, and refusing noisy measurements unless forced. */
#include "hostm/stats.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 1..10 in a shuffled order: median 5.5; the interval runs from the 1st to the 10th smallest (r = 1, t = 10). */
START_TEST(median_interval_ranks)
{
	double v[10] = { 7, 3, 10, 1, 5, 9, 2, 8, 6, 4 };
	struct hm_est e;
	hm_estimate(v, 10, 0.10, &e);
	ck_assert_double_eq(e.median, 5.5);
	ck_assert_double_eq(e.lo, 1);
	ck_assert_double_eq(e.hi, 10);
	ck_assert_double_eq_tol(e.rel, 4.5 / 5.5, 1e-12);
	ck_assert(!e.ok);
	ck_assert_double_eq(v[0], 7); /* the caller's samples are not reordered */
	/* 41 samples: ranks floor(20.5 - 6.27) = 14 and ceil(21.5 + 6.27) = 28 (1-based) */
	double w[41];
	for (int i = 0; i < 41; i++)
		w[i] = 100 + i;
	hm_estimate(w, 41, 0.10, &e);
	ck_assert_double_eq(e.median, 120);
	ck_assert_double_eq(e.lo, 113);
	ck_assert_double_eq(e.hi, 127);
	ck_assert(e.ok); /* +-7/120 = 6% */
}
END_TEST

START_TEST(too_few_samples)
{
	double v[7] = { 100, 100, 100, 100, 100, 100, 100 };
	struct hm_est e;
	hm_estimate(v, 7, 0.10, &e);
	ck_assert(!e.ok); /* no interval below 8 samples, however tight */
	ck_assert(isinf(e.rel));
	double u[8] = { 100, 100, 100, 100, 100, 100, 100, 100 };
	hm_estimate(u, 8, 0.10, &e);
	ck_assert(e.ok);
	ck_assert_double_eq(e.rel, 0);
}
END_TEST

/* Fake samplers: a tight one (100 +- 1) and a noisy one (alternating 50 and 150). */
static int calls;
static double tight(void *arg)
{
	(void)arg;
	return 100 + (calls++ % 3) - 1;
}
static double noisy(void *arg)
{
	(void)arg;
	return calls++ % 2 ? 150 : 50;
}

START_TEST(stops_when_tight_gives_up_when_noisy)
{
	struct hm_plan p = { 8, 30, 0.10 };
	double v[30];
	calls = 0;
	struct hm_est e = hm_measure(tight, NULL, &p, v);
	ck_assert(e.ok);
	ck_assert_uint_eq(e.n, 8); /* stopped at the minimum */
	ck_assert_int_eq(calls, 8);
	calls = 0;
	e = hm_measure(noisy, NULL, &p, v);
	ck_assert(!e.ok);
	ck_assert_uint_eq(e.n, 30); /* gave up at the bound */
	ck_assert_int_eq(calls, 30);
}
END_TEST

START_TEST(verdict_refuses_noise_unless_forced)
{
	struct hm_plan p = { 8, 12, 0.10 };
	double v[12];
	struct hm_est est[3];
	calls = 0;
	est[0] = hm_measure(tight, NULL, &p, v);
	est[1] = hm_measure(noisy, NULL, &p, v);
	est[2] = hm_measure(tight, NULL, &p, v);
	const char *names[3] = { "syscall", "read-fault", "zero" };
	char why[200];
	ck_assert(hm_verdict(est, names, 1, false, why, sizeof(why))); /* the tight one alone */
	ck_assert_str_eq(why, "");
	ck_assert(!hm_verdict(est, names, 3, false, why, sizeof(why)));
	ck_assert_msg(strstr(why, "read-fault") && strstr(why, "12 samples"), "%s", why);
	ck_assert(hm_verdict(est, names, 3, true, why, sizeof(why))); /* --force writes, and still says why */
	ck_assert_msg(strstr(why, "read-fault"), "%s", why);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hostm");
	TCase *tc = tcase_create("stats");
	tcase_add_test(tc, median_interval_ranks);
	tcase_add_test(tc, too_few_samples);
	tcase_add_test(tc, stops_when_tight_gives_up_when_noisy);
	tcase_add_test(tc, verdict_refuses_noise_unless_forced);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
