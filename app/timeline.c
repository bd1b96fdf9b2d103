/* timeline.c: recording per-core spans of simulated time during a run, and drawing them with plots/timeline.gp. */
#include "app/timeline.h"
#include "app/cli.h"
#include "io/out.h"
#include "sim/watch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const struct tl_req *tl_request;

void tl_attach(struct sim *s, const struct tl_req *r)
{
	uint32_t n = s->o.ncores;
	for (uint32_t i = 0; i < n; i++) {
		struct sim_watch *w = xzalloc(sizeof(*w));
		w->record = true;
		w->max = MAX(r->max_spans / n, 64);
		s->cores[i].watch = w;
	}
}

int tl_finish(struct sim *s, const struct tl_req *r, const char *heading, const char *cmd)
{
	uint32_t n = s->o.ncores;
	const double per_us = s->m->freq_ghz * 1e3;
	cycles_t from = (cycles_t)(r->from_us * per_us), to = r->to_us > 0 ? (cycles_t)(r->to_us * per_us) : UINT64_MAX;
	int status = 0;
	char path[4096];
	snprintf(path, sizeof(path), "%s/data", r->dir);
	if (out_mkdirs(path))
		status = cli_fail(cmd, "cannot make %s: %s", path, strerror(errno));
	struct out o[TL_KINDS];
	FILE *f[TL_KINDS] = { 0 };
	int opened = 0;
	for (int k = 0; k < TL_KINDS && !status; k++) {
		char err[4200];
		snprintf(path, sizeof(path), "%s/data/tl-%d.dat", r->dir, k);
		if (out_open(&o[k], path, err, sizeof(err))) {
			status = cli_fail(cmd, "%s", err);
			break;
		}
		f[k] = o[k].f;
		opened++;
		/* a span on no core, so gnuplot has a point (and a legend entry) for every kind */
		fprintf(f[k], "# core start_us end_us: %s\n-1 0 0\n", tl_names[k]);
	}
	uint64_t kept = 0, dropped = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct sim_watch *w = s->cores[i].watch;
		if (!w)
			continue;
		s->cores[i].watch = NULL;
		dropped += w->dropped;
		for (size_t j = 0; j < w->nspans && !status; j++) {
			const struct tl_span *sp = &w->spans[j];
			if (sp->end <= from || sp->start >= to)
				continue;
			cycles_t a = MAX(sp->start, from), b = MIN(sp->end, to);
			fprintf(f[sp->kind], "%u %.4f %.4f\n", i, (double)a / per_us, (double)b / per_us);
			kept++;
		}
		watch_free(w);
	}
	for (int k = 0; k < opened; k++) {
		char err[4200];
		if (status)
			out_abort(&o[k]);
		else if (out_commit(&o[k], err, sizeof(err)))
			status = cli_fail(cmd, "%s", err);
	}
	if (status)
		return status;
	if (!kept)
		fprintf(stderr, "mmsim %s: no span fell in the window: the figure shows user time only\n", cmd);
	if (dropped)
		fprintf(stderr,
			"mmsim %s: %llu spans past --max-spans (%llu) were dropped: the timeline ends early on some cores; "
			"narrow it with --from/--to, or raise --max-spans\n",
			cmd, (unsigned long long)dropped, (unsigned long long)r->max_spans);
	char vars[1024], h[512];
	snprintf(h, sizeof(h), "%s", heading);
	for (char *c = h; *c; c++)
		if (*c == '\'' || *c == '\\')
			*c = ' ';
	snprintf(vars, sizeof(vars), "ncores=%u; heading='%s'", n, h);
	status = cli_gnuplot(cmd, r->dir, "timeline", vars);
	if (!status)
		fprintf(stderr, "mmsim %s: wrote %s/timeline.png and %s/timeline.svg (%llu spans)\n", cmd, r->dir, r->dir,
			(unsigned long long)kept);
	return status;
}
