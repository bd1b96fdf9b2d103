/* point.c: run one simulation point and report it. */
#include "app/point.h"
#include "app/timeline.h"

#include <stdio.h>
#include <string.h>

/* The executor's source of streams for threads the workload creates (wl_def.spawn). */
static struct ev_src *spawn(void *ctx, uint32_t tid)
{
	struct point *pt = ctx;
	return pt->w->spawn(&pt->wp, tid);
}

void point_key(const struct point *pt, char out[17])
{
	struct wl_params wp = pt->wp;
	wp.threads = pt->o.cores;
	char cfg[2048];
	size_t at;
	report_config(&pt->o, &pt->s, cfg, sizeof(cfg));
	at = strlen(cfg);
	snprintf(cfg + at, sizeof(cfg) - at, ";workload=%s;contention=%s;fixed=%d;processes=%d;size=%llu;ops=%llu",
		 pt->w->name, wl_contention(pt->w, &wp), wp.fixed, wp.processes, (unsigned long long)wl_size(pt->w, &wp),
		 (unsigned long long)wl_ops(pt->w, &wp));
	report_key(cfg, out);
}

int point_run(struct point *pt, struct em *e, const char *cmd)
{
	pt->wp.threads = pt->o.cores;
	pt->wp.seed = pt->o.seed;
	char msg[256];
	if (wl_check(pt->w, &pt->wp, msg, sizeof(msg)))
		return cli_error(cmd, "%s", msg);
	struct boot *b = sys_boot(&pt->s, &pt->o, cmd);
	if (!b)
		return 2;
	struct ex *x = ex_create(b->sys);
	if (pt->w->spawn) {
		x->spawn = spawn;
		x->spawn_ctx = pt;
	}
	for (uint32_t i = 0; i < pt->o.cores; i++)
		ex_add_thread(x, pt->wp.processes ? i + 1 : 1, i + 1, pt->w->thread(&pt->wp, i), i);
	if (tl_request)
		tl_attach(b->sim, tl_request);
	ex_run(x);
	int tl_status = 0;
	if (tl_request) {
		char h[256];
		snprintf(h, sizeof(h), "%s, %s, %u cores", pt->s.design, pt->w->name, pt->o.cores);
		tl_status = tl_finish(b->sim, tl_request, h, cmd);
	}
	char key[17];
	point_key(pt, key);
	report_emit(e, &(struct report_in){ &pt->o, b, x, pt->w->name, wl_contention(pt->w, &pt->wp), pt->wp.fixed,
					     wl_ops(pt->w, &pt->wp), pt->wp.processes, wl_size(pt->w, &pt->wp), key });
	ex_destroy(x);
	int64_t leaked = boot_destroy(b);
	if (leaked) {
		fprintf(stderr, "mmsim %s: %lld frames still in use after teardown (a leak in design '%s')\n", cmd,
			(long long)leaked, pt->s.design);
		return 1;
	}
	return tl_status;
}

int point_wl_opt(const char *cmd, struct wl_params *wp, int opt, const char *arg)
{
	switch (opt) {
	case 'n': return cli_u64(cmd, "ops", arg, 1, 1ull << 32, &wp->ops) ? 2 : 0;
	case 'X': wp->fixed = true; return 0;
	case 'P': wp->processes = true; return 0;
	case 'z': return cli_bytes(cmd, "size", arg, 1, UINT64_MAX, &wp->size) ? 2 : 0;
	}
	return -1;
}
