/* cmd_plot.c: `mmsim plot`: turn a results CSV into PNG and SVG figures with the gnuplot scripts of plots/. */
#include "app/args.h"
#include "io/csv.h"
#include "io/out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct mmsim_preset {
	const char *name;
	const char *text;
};
extern const struct mmsim_preset mmsim_plots[]; /* the plots/ scripts (*.gp), compiled in */

static const char *script(const char *name)
{
	for (const struct mmsim_preset *p = mmsim_plots; p->name; p++)
		if (!strcmp(p->name, name))
			return p->text;
	panic("no compiled-in plot script %s", name);
}

#define MAXV 64

/* Distinct values of a column, in first-seen order. */
struct vals {
	const char *v[MAXV];
	int n;
};

static int vals_add(struct vals *s, const char *v)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], v))
			return i;
	if (s->n == MAXV)
		return -1;
	s->v[s->n] = v;
	return s->n++;
}

struct cols {
	int design, workload, contention, cores, ops_s, sim_cycles, ops, ipis, l1, spin, sleep, walk, shoot, zero, walks;
};

static double num(const struct csv *t, uint32_t r, int c) { return c < 0 ? 0 : strtod(t->rows[r][c], NULL); }

int cli_gnuplot(const char *cmd, const char *dir, const char *name, const char *vars)
{
	/*
	 * The saved script runs on its own (gnuplot DIR/NAME.gp draws DIR/NAME.png):
	 * it starts with the variables this run used, each only if not given
	 * with -e, so the script can also be rerun for SVG or another folder.
	 */
	char path[4096], err[4200];
	snprintf(path, sizeof(path), "%s/%s.gp", dir, name);
	struct out o;
	if (out_open(&o, path, err, sizeof(err)))
		return cli_fail(cmd, "%s", err);
	fprintf(o.f, "# Written by mmsim plot; rerun with: gnuplot %s.gp (from %s), or gnuplot -e \"termtype='svg'; out='x.svg'\" %s.gp\n",
		name, dir, name);
	fprintf(o.f, "if (!exists(\"datadir\")) datadir = 'data'\nif (!exists(\"termtype\")) termtype = 'pngcairo'\n"
		     "if (!exists(\"out\")) out = '%s.' . (termtype eq 'svg' ? 'svg' : 'png')\n", name);
	for (const char *v = vars; *v;) {
		const char *end = strchr(v, ';');
		size_t len = end ? (size_t)(end - v) : strlen(v);
		while (len && *v == ' ')
			v++, len--;
		const char *eq = memchr(v, '=', len);
		if (eq) {
			int klen = (int)(eq - v);
			while (klen && v[klen - 1] == ' ')
				klen--;
			fprintf(o.f, "if (!exists(\"%.*s\")) %.*s\n", klen, v, (int)len, v);
		}
		v += len + (end ? 1 : 0);
		if (!end)
			break;
	}
	fputs(script(name), o.f);
	if (out_commit(&o, err, sizeof(err)))
		return cli_fail(cmd, "%s", err);
	static const char *const kinds[2][2] = { { "pngcairo", "png" }, { "svg", "svg" } };
	for (int k = 0; k < 2; k++) {
		/* gnuplot draws into a temporary file beside the figure, renamed once it succeeded. */
		char e[8192 + 4096 * 2 + 64], fig[4200], tmp[4300];
		snprintf(fig, sizeof(fig), "%s/%s.%s", dir, name, kinds[k][1]);
		snprintf(tmp, sizeof(tmp), "%s/.%s.%s.tmp", dir, name, kinds[k][1]);
		snprintf(e, sizeof(e), "datadir='%s/data'; out='%s'; termtype='%s'; %s", dir, tmp, kinds[k][0], vars);
		pid_t pid = fork();
		if (pid < 0)
			return cli_fail(cmd, "cannot start gnuplot: %s", strerror(errno));
		if (pid == 0) {
			execlp("gnuplot", "gnuplot", "-e", e, path, (char *)NULL);
			fprintf(stderr, "mmsim %s: cannot run gnuplot (%s): install gnuplot-nox\n", cmd, strerror(errno));
			_exit(127);
		}
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			unlink(tmp);
			return cli_fail(cmd, "gnuplot failed on %s (%s)", name, kinds[k][1]);
		}
		if (rename(tmp, fig)) {
			unlink(tmp);
			return cli_fail(cmd, "%s: %s", fig, strerror(errno));
		}
	}
	return 0;
}

/* open_data: start writing DIR/data/NAME (whole or not at all: close_data commits it). NULL after a message. */
static struct out *open_data(const char *cmd, const char *dir, const char *name)
{
	char path[4096], err[4200];
	snprintf(path, sizeof(path), "%s/data/%s", dir, name);
	struct out *o = xzalloc(sizeof(*o));
	if (out_open(o, path, err, sizeof(err))) {
		cli_fail(cmd, "%s", err);
		xfree(o);
		return NULL;
	}
	return o;
}

/* close_data: commit what open_data started; 0, or 1 after a message. */
static int close_data(const char *cmd, struct out *o)
{
	char err[4200];
	int bad = out_commit(o, err, sizeof(err));
	xfree(o);
	return bad ? cli_fail(cmd, "%s", err) : 0;
}

static int cmd_plot(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim plot RESULTS.csv -o DIR\n\n"
		"Draws, as PNG and SVG in DIR (with the data and gnuplot scripts beside them, to edit\n"
		"and rerun):\n"
		"  scaling    throughput versus cores, one panel per workload and contention level\n"
		"  latency    single-core time per operation, per workload and design\n"
		"  breakdown  where simulated core time goes at the largest core count\n"
		"  tlb        IPIs per operation and L1 TLB hit rate versus cores\n"
		"One line per design; a design run with --tlb-flush other than ipi is a line of its own\n"
		"(linux+broadcast, linux+auto).\n"
		"Needs gnuplot (Debian: gnuplot-nox).\n";
	const char *cmd = "plot", *dir = NULL;
	int rc = cli_opt_output_req(cmd, help, argc, argv, &dir, "DIR", "results CSV");
	if (rc >= 0)
		return rc;
	struct csv t;
	char err[512];
	if (csv_load(&t, argv[optind], err, sizeof(err)))
		return cli_fail(cmd, "%s", err);
	struct cols c = { csv_col(&t, "design"),	    csv_col(&t, "workload"),	csv_col(&t, "contention"),
			  csv_col(&t, "cores"),		    csv_col(&t, "ops_per_sim_sec"), csv_col(&t, "sim_cycles"),
			  csv_col(&t, "ops"),		    csv_col(&t, "ipis"),	csv_col(&t, "tlb_l1_hit_rate"),
			  csv_col(&t, "lock_spin_cycles"), csv_col(&t, "lock_sleep_cycles"), csv_col(&t, "walk_cycles"),
			  csv_col(&t, "shootdown_wait_cycles"), csv_col(&t, "zero_cycles"), csv_col(&t, "walks") };
	if (c.design < 0 || c.workload < 0 || c.contention < 0 || c.cores < 0 || c.ops_s < 0) {
		csv_free(&t);
		return cli_fail(cmd, "%s: not a results file (design, workload, contention, cores, ops_per_sim_sec needed)",
				 argv[optind]);
	}
	if (!t.nrows) {
		csv_free(&t);
		return cli_fail(cmd, "%s: no rows", argv[optind]);
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/data", dir);
	if (out_mkdirs(path)) {
		csv_free(&t);
		return cli_fail(cmd, "cannot create %s: %s", path, strerror(errno));
	}

	struct vals designs = { 0 }, panels = { 0 };
	char *panel_of[t.nrows], *series_of[t.nrows];
	int dopts = csv_col(&t, "design_options");
	for (uint32_t r = 0; r < t.nrows; r++) {
		/* one line per design, and per --tlb-flush other than the default (ipi): "linux+broadcast" */
		const char *tf = dopts >= 0 ? strstr(t.rows[r][dopts], "tlb-flush=") : NULL;
		size_t tn = tf ? strcspn(tf += 10, " ") : 0;
		bool other = tn && strncmp(tf, "ipi", tn);
		char sname[256];
		snprintf(sname, sizeof(sname), "%s%s%.*s", t.rows[r][c.design], other ? "+" : "", other ? (int)tn : 0,
			 other ? tf : "");
		series_of[r] = xstrdup(sname);
		vals_add(&designs, series_of[r]);
		char p[256];
		snprintf(p, sizeof(p), "%s-%s", t.rows[r][c.workload], t.rows[r][c.contention]);
		panel_of[r] = xstrdup(p);
		vals_add(&panels, panel_of[r]);
	}
	int status = 0;
	double *ymax = xzalloc(sizeof(double) * (size_t)(panels.n + 1)); /* the tlb figure's y range, per panel */
	/* scaling and tlb: one data file per panel and design, sorted by cores */
	for (int p = 0; p < panels.n && !status; p++)
		for (int d = 0; d < designs.n && !status; d++) {
			char name[512];
			snprintf(name, sizeof(name), "scaling-%s-%s.dat", panels.v[p], designs.v[d]);
			struct out *fs = open_data(cmd, dir, name);
			snprintf(name, sizeof(name), "tlb-%s-%s.dat", panels.v[p], designs.v[d]);
			struct out *ft = fs ? open_data(cmd, dir, name) : NULL;
			if (!fs || !ft) {
				status = 1;
				if (fs)
					out_abort(fs), xfree(fs);
				break;
			}
			fprintf(fs->f, "# cores ops_per_sim_sec\n");
			fprintf(ft->f, "# cores walks_per_op ipis_per_op l1_hit_rate\n");
			for (uint32_t cores = 1; cores <= SIM_MAX_CORES; cores++)
				for (uint32_t r = 0; r < t.nrows; r++) {
					if (strcmp(panel_of[r], panels.v[p]) || strcmp(series_of[r], designs.v[d]) ||
					    (uint32_t)num(&t, r, c.cores) != cores)
						continue;
					double ops = num(&t, r, c.ops), w = ops > 0 ? num(&t, r, c.walks) / ops : 0,
					       ipi = ops > 0 ? num(&t, r, c.ipis) / ops : 0;
					ymax[p] = MAX(ymax[p], MAX(w, ipi));
					fprintf(fs->f, "%u %.6g\n", cores, num(&t, r, c.ops_s));
					fprintf(ft->f, "%u %.6g %.6g %.6g\n", cores, w, ipi, num(&t, r, c.l1));
				}
			status = close_data(cmd, fs) | close_data(cmd, ft);
		}
	/* latency: ns per op at the fewest cores of each panel, per design */
	struct out *ol = status ? NULL : open_data(cmd, dir, "latency.dat");
	if (ol) {
		FILE *fl = ol->f;
		fprintf(fl, "panel");
		for (int d = 0; d < designs.n; d++)
			fprintf(fl, " %s", designs.v[d]);
		fputc('\n', fl);
		for (int p = 0; p < panels.n; p++) {
			fprintf(fl, "%s", panels.v[p]);
			for (int d = 0; d < designs.n; d++) {
				double best = 0, mincores = 1e9;
				for (uint32_t r = 0; r < t.nrows; r++)
					if (!strcmp(panel_of[r], panels.v[p]) && !strcmp(series_of[r], designs.v[d]) &&
					    num(&t, r, c.cores) < mincores) {
						mincores = num(&t, r, c.cores);
						double ops_s = num(&t, r, c.ops_s);
						best = ops_s > 0 ? mincores * 1e9 / ops_s : 0;
					}
				fprintf(fl, " %.6g", best);
			}
			fputc('\n', fl);
		}
		status = close_data(cmd, ol);
	} else if (!status) {
		status = 1;
	}
	/* breakdown: at the most cores of each panel, fractions of core time */
	struct out *ob = status ? NULL : open_data(cmd, dir, "breakdown.dat");
	if (ob) {
		FILE *fb = ob->f;
		fprintf(fb, "point lock-spin lock-sleep walks shootdowns zeroing other\n");
		for (int p = 0; p < panels.n; p++)
			for (int d = 0; d < designs.n; d++) {
				int best = -1;
				for (uint32_t r = 0; r < t.nrows; r++)
					if (!strcmp(panel_of[r], panels.v[p]) && !strcmp(series_of[r], designs.v[d]) &&
					    (best < 0 || num(&t, r, c.cores) > num(&t, (uint32_t)best, c.cores)))
						best = (int)r;
				if (best < 0)
					continue;
				uint32_t r = (uint32_t)best;
				double total = num(&t, r, c.sim_cycles) * num(&t, r, c.cores);
				if (total <= 0)
					continue;
				double part[5] = { num(&t, r, c.spin), num(&t, r, c.sleep), num(&t, r, c.walk),
						   num(&t, r, c.shoot), num(&t, r, c.zero) };
				double sum = 0;
				fprintf(fb, "%s/%s@%g", designs.v[d], panels.v[p], num(&t, r, c.cores));
				for (int i = 0; i < 5; i++) {
					double f = MIN(part[i] / total, 1.0 - sum);
					sum += f;
					fprintf(fb, " %.5f", f);
				}
				fprintf(fb, " %.5f\n", MAX(0.0, 1.0 - sum));
			}
		status = close_data(cmd, ob);
	} else if (!status) {
		status = 1;
	}
	/* run gnuplot */
	if (!status) {
		char list[4096] = "", dl[2048] = "", ym[2048] = "", vars[8192];
		for (int p = 0; p < panels.n; p++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", p ? " " : "", panels.v[p]);
		for (int d = 0; d < designs.n; d++)
			snprintf(dl + strlen(dl), sizeof(dl) - strlen(dl), "%s%s", d ? " " : "", designs.v[d]);
		for (int p = 0; p < panels.n; p++) /* a panel of zeros still gets a range (no empty-range warning) */
			snprintf(ym + strlen(ym), sizeof(ym) - strlen(ym), "%s%.6g", p ? " " : "", ymax[p] > 0 ? ymax[p] : 1);
		int cols = panels.n < 3 ? panels.n : panels.n <= 4 ? 2 : 3, rows = (panels.n + cols - 1) / cols;
		snprintf(vars, sizeof(vars), "panels='%s'; designs='%s'; rows=%d; cols=%d; ndesigns=%d; ymaxes='%s'", list, dl,
			 rows, cols, designs.n, ym);
		static const char *const figs[] = { "scaling", "latency", "breakdown", "tlb" };
		for (size_t i = 0; i < ARRAY_SIZE(figs) && !status; i++)
			status = cli_gnuplot(cmd, dir, figs[i], vars);
	}
	for (uint32_t r = 0; r < t.nrows; r++)
		xfree(panel_of[r]), xfree(series_of[r]);
	xfree(ymax);
	csv_free(&t);
	if (!status)
		printf("mmsim plot: wrote %s/{scaling,latency,breakdown,tlb}.{png,svg}\n", dir);
	return status;
}

const struct cli_cmd cli_cmd_plot = { "plot", "draw the figures of a results CSV (gnuplot, PNG and SVG)", cmd_plot };
