/* point.c: run one simulation point and report it. */
#include "sim/cli/point.h"

#include <stdio.h>

int point_run(struct point *pt, struct em *e, const char *cmd)
{
	struct boot *b = sys_boot(&pt->s, &pt->o, cmd);
	if (!b)
		return 2;
	pt->wp.threads = pt->o.cores;
	pt->wp.seed = pt->o.seed;
	struct ex *x = ex_create(b->sys);
	for (uint32_t i = 0; i < pt->o.cores; i++)
		ex_add_thread(x, 1, i + 1, pt->w->thread(&pt->wp, i), i);
	ex_run(x);
	report_emit(e, &(struct report_in){ &pt->o, b, x, pt->w->name, pt->wp.high_contention ? "high" : "low",
					     pt->wp.fixed, pt->wp.ops ? pt->wp.ops : pt->w->default_ops });
	ex_destroy(x);
	int64_t leaked = boot_destroy(b);
	if (leaked) {
		fprintf(stderr, "mmsim %s: %lld frames still in use after teardown (a leak in design '%s')\n", cmd,
			(long long)leaked, pt->s.design);
		return 1;
	}
	return 0;
}
