/* point.c: run one simulation point and report it. */
#include "app/point.h"
#include "app/timeline.h"

#include <stdio.h>
#include <string.h>

/* The executor's source of streams for threads the workload creates (WL_SPAWNS). */
static struct ev_src *spawn(void *ctx, uint32_t tid)
{
	struct point *pt = ctx;
	return wl_spawn(pt->w, &pt->wp, tid);
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
	at = strlen(cfg);
	if (wp.paper) /* only then: the keys of loop points stay what they were */
		snprintf(cfg + at, sizeof(cfg) - at, ";method=paper;reps=%llu", (unsigned long long)point_reps(pt));
	report_key(cfg, out);
}

uint64_t point_reps(const struct point *pt)
{
	if (!pt->wp.paper)
		return 1;
	if (pt->reps)
		return pt->reps;
	uint64_t r = 4096 / (pt->o.cores ? pt->o.cores : 1); /* common.h: runs = TOT_THREAD_RUNS / num_threads */
	return r ? r : 1;
}

/*
 * add_latencies: fold one repetition's request timestamps into m (paper
 * method): request j of a thread took from the end of request j-1 (or the
 * thread's start, EV_MARK) to its own end, as common.h's request_end()
 * measures it. Returns -1 if a thread did not finish all its requests.
 */
static int add_latencies(const struct point *pt, const struct ex *x, struct report_method *m)
{
	for (uint32_t i = 0; i < pt->o.cores; i++) {
		const struct ex_core_stats *c = &x->cst[i];
		if (c->nreq != WL_PAPER_REQS)
			return -1;
		cycles_t prev = c->mark;
		for (uint32_t j = 0; j < WL_PAPER_REQS; j++) {
			m->req_cycles[j] += (double)(c->req_end[j] - prev);
			prev = c->req_end[j];
		}
	}
	m->samples += pt->o.cores;
	return 0;
}

int point_run(struct point *pt, struct em *e, const char *cmd)
{
	pt->wp.threads = pt->o.cores;
	pt->wp.seed = pt->o.seed;
	char msg[256];
	if (wl_check(pt->w, &pt->wp, msg, sizeof(msg)))
		return cli_error(cmd, "%s", msg);
	if (pt->reps && !pt->wp.paper)
		return cli_error(cmd, "--reps: only the paper's method repeats a point (add --method paper)");
	struct boot *b = sys_boot(&pt->s, &pt->o, cmd);
	if (!b)
		return 2;
	if (tl_request)
		tl_attach(b->sim, tl_request);
	struct report_method m = { .name = pt->wp.paper ? "paper" : "loop", .reps = point_reps(pt) };
	struct ex *x = NULL;
	int status = 0;
	/* Each repetition is a fresh process (pid r + 1, as the artifact forks one per run) on the same machine. */
	for (uint64_t r = 0; r < m.reps && !status; r++) {
		if (x)
			ex_destroy(x);
		x = ex_create(b->sys);
		x->req_cap = pt->wp.paper ? WL_PAPER_REQS : 0;
		if (pt->w->flags & WL_SPAWNS) {
			x->spawn = spawn;
			x->spawn_ctx = pt;
		}
		for (uint32_t i = 0; i < pt->o.cores; i++)
			ex_add_thread(x, pt->wp.processes ? i + 1 : (uint32_t)r + 1, i + 1, wl_thread(pt->w, &pt->wp, i), i);
		ex_run(x);
		struct ex_core_stats tot;
		cycles_t window;
		ex_totals(x, &tot, &window);
		m.ops += tot.ops;
		m.events += tot.events;
		m.window += window;
		if (pt->wp.paper && add_latencies(pt, x, &m)) {
			fprintf(stderr, "mmsim %s: a thread of repetition %llu did not issue its %d requests\n", cmd,
				(unsigned long long)r + 1, WL_PAPER_REQS);
			status = 1;
		}
	}
	int tl_status = 0;
	if (tl_request) {
		char h[256];
		snprintf(h, sizeof(h), "%s, %s, %u cores", pt->s.design, pt->w->name, pt->o.cores);
		tl_status = tl_finish(b->sim, tl_request, h, cmd);
	}
	char key[17];
	point_key(pt, key);
	if (!status)
		report_emit(e, &(struct report_in){ &pt->o, b, x, pt->w->name, wl_contention(pt->w, &pt->wp), pt->wp.fixed,
						     wl_ops(pt->w, &pt->wp), pt->wp.processes, wl_size(pt->w, &pt->wp), key,
						     &m });
	ex_destroy(x);
	int64_t leaked = boot_destroy(b);
	if (leaked) {
		fprintf(stderr, "mmsim %s: %lld frames still in use after teardown (a leak in design '%s')\n", cmd,
			(long long)leaked, pt->s.design);
		return 1;
	}
	return status ? status : tl_status;
}

int point_wl_opt(const char *cmd, struct point *pt, int opt, const char *arg)
{
	struct wl_params *wp = &pt->wp;
	switch (opt) {
	case POINT_OPT_METHOD:
		if (!strcmp(arg, "paper"))
			wp->paper = true;
		else if (!strcmp(arg, "loop"))
			wp->paper = false;
		else
			return cli_error(cmd, "--method: '%s' is not a method (loop or paper)", arg);
		return 0;
	case POINT_OPT_REPS: return cli_u64(cmd, "reps", arg, 1, 1u << 20, &pt->reps) ? 2 : 0;
	case 'n': return cli_u64(cmd, "ops", arg, 1, 1ull << 32, &wp->ops) ? 2 : 0;
	case 'X': wp->fixed = true; return 0;
	case 'P': wp->processes = true; return 0;
	case 'z': return cli_bytes(cmd, "size", arg, 1, UINT64_MAX, &wp->size) ? 2 : 0;
	}
	return -1;
}
