/* cmd_sweep.c: `mmsim sweep` (designs x workloads x contention x cores, resumable, or a job list) and `mmsim merge`. */
#include "app/args.h"
#include "app/point.h"
#include "io/csv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIST 64

/* Split a comma-separated list in place. Returns the count, or -1 if too long or empty items. */
static int split_list(char *s, char **out)
{
	int n = 0;
	for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
		if (n == MAX_LIST || !*t)
			return -1;
		out[n++] = t;
	}
	return n;
}

/* The columns that identify a point (resume skips a point whose row already exists). */
static const char *const key_cols[] = { "machine", "design", "workload", "contention", "fixed", "processes",
					"size_bytes", "cores", "ops_per_thread", "seed", "mode", "design_options" };

static const char *tf(bool b) { return b ? "true" : "false"; }

static void point_key(const struct point *pt, char *out, size_t n)
{
	const struct vm_design *d = vm_design_find(pt->s.design);
	struct vm_opts vo;
	char dopts[512] = "";
	if (!sys_vm_opts(&pt->s, d, &vo, "sweep"))
		vm_opts_str(d, &vo, dopts, sizeof(dopts));
	snprintf(out, n, "%s|%s|%s|%s|%s|%s|%llu|%u|%llu|%llu|%s|%s", pt->o.m.name, pt->s.design, pt->w->name,
		 wl_contention(pt->w, &pt->wp), tf(pt->wp.fixed), tf(pt->wp.processes),
		 (unsigned long long)wl_size(pt->w, &pt->wp), pt->o.cores, (unsigned long long)wl_ops(pt->w, &pt->wp),
		 (unsigned long long)pt->o.seed, pt->o.mode == SIM_DET ? "det" : "par", dopts);
}

/* How many of the nt contention levels apply to a workload: all, or one if it has none. */
static int levels(const char *workload, int nt) { return (wl_find(workload)->flags & WL_CONTENTION) ? nt : 1; }

static bool row_key(const struct csv *t, uint32_t r, char *out, size_t n)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(key_cols); i++) {
		int c = csv_col(t, key_cols[i]);
		if (c < 0)
			return false;
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? "|" : "", t->rows[r][c]);
		if (o >= n)
			return false;
	}
	return true;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The state `mmsim sweep` parses into. */
struct sweep_args {
	const char *outpath, *jobsdir;
	char dbuf[512], wbuf[512], cbuf[512], tbuf[64];
	struct wl_params wp; /* ops, fixed, processes, size (threads and contention are per point) */
};

/* sweep_opt: the options of `mmsim sweep` itself (cli_args.opt); --cores is a list here. */
static int sweep_opt(void *ctx, int opt, const char *arg)
{
	struct sweep_args *a = ctx;
	switch (opt) {
	case 'c': snprintf(a->cbuf, sizeof(a->cbuf), "%s", arg); return 0;
	case 'D': snprintf(a->dbuf, sizeof(a->dbuf), "%s", arg); return 0;
	case 'W': snprintf(a->wbuf, sizeof(a->wbuf), "%s", arg); return 0;
	case 'C': snprintf(a->tbuf, sizeof(a->tbuf), "%s", arg); return 0;
	case 'o': a->outpath = arg; return 0;
	case 'J': a->jobsdir = arg; return 0;
	}
	return point_wl_opt("sweep", &a->wp, opt, arg);
}

static int cmd_sweep(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim sweep --designs A,B,... --workloads X,Y,... --cores 1,2,4,... [OPTIONS]\n\n"
		"Runs every point of designs x workloads x contention levels x core counts in\n"
		"deterministic mode and writes one CSV row per point, with the configuration and every\n"
		"stat. Rerun with the same output, it resumes: points already there are skipped.\n"
		"Progress goes to stderr when it is a terminal.\n\n"
		"  --designs LIST     designs (default linux,cortenmm-adv; 'mmsim designs')\n"
		"  --workloads LIST   workloads (default pf,mmap; 'mmsim workloads')\n"
		"  --cores LIST       core counts (default 1,2,4,8)\n"
		"  --contention LIST  low, high or low,high (default low; workloads without contention\n"
		"                     levels run once)\n"
		"  --ops K            requests per thread (default: each workload's)\n"
		"  --fixed            MAP_FIXED placement where a workload offers it\n"
		"  --processes        every thread in its own process (workloads that offer it)\n"
		"  --size BYTES       the workloads' size (K, M, G suffixes), where they take one\n"
		"  -o, --output FILE  the results CSV (default results.csv)\n"
		"  --emit-jobs DIR    print one self-contained `mmsim run` command per point instead,\n"
		"                     each writing DIR/point-N.csv, for GNU parallel or a Slurm array;\n"
		"                     then 'mmsim merge DIR/point-*.csv -o results.csv'\n"
		"  --machine, --seed, --lookahead, --no-check, --frames, --la57: as for 'mmsim run'\n"
		"  --OPTION[=VALUE]   a design option ('mmsim designs'): applies to the designs of\n"
		"                     the sweep that take it (one of them must)\n"
		"  --help             this text\n";
	static const struct option opts[] = { POINT_WL_OPTS,
					      { "designs", required_argument, 0, 'D' },
					      { "workloads", required_argument, 0, 'W' },
					      { "cores", required_argument, 0, 'c' },
					      { "contention", required_argument, 0, 'C' },
					      { "output", required_argument, 0, 'o' },
					      { "emit-jobs", required_argument, 0, 'J' },
					      { 0, 0, 0, 0 } };
	const char *cmd = "sweep";
	struct sweep_args a = { .outpath = "results.csv" };
	snprintf(a.dbuf, sizeof(a.dbuf), "linux,cortenmm-adv");
	snprintf(a.wbuf, sizeof(a.wbuf), "pf,mmap");
	snprintf(a.cbuf, sizeof(a.cbuf), "1,2,4,8");
	snprintf(a.tbuf, sizeof(a.tbuf), "low");
	struct cli_common o;
	cli_common_defaults(&o);
	struct sysopts so;
	sys_defaults(&so);
	so.lenient = true; /* a design option applies to the designs that take it (checked below) */
	struct cli_args ca = { .cmd = cmd, .help = help, .opts = opts, .shortopts = "o:", .opt = sweep_opt, .ctx = &a,
			       .common = &o, .sys = &so };
	int rc = cli_parse(&ca, argc, argv);
	if (rc >= 0)
		return rc;
	const char *outpath = a.outpath, *jobsdir = a.jobsdir;
	uint64_t ops = a.wp.ops, size = a.wp.size;
	bool fixed = a.wp.fixed, processes = a.wp.processes;
	char *dbuf = a.dbuf, *wbuf = a.wbuf, *cbuf = a.cbuf, *tbuf = a.tbuf;
	if (o.mode != SIM_DET)
		return cli_error(cmd, "--mode: sweeps run in deterministic mode");
	char *designs[MAX_LIST], *workloads[MAX_LIST], *cores_s[MAX_LIST], *conts[MAX_LIST];
	int nd = split_list(dbuf, designs), nw = split_list(wbuf, workloads), nc = split_list(cbuf, cores_s),
	    nt = split_list(tbuf, conts);
	if (nd < 1 || nw < 1 || nc < 1 || nt < 1)
		return cli_error(cmd, "empty or too long list in --designs, --workloads, --cores or --contention");
	uint32_t cores[MAX_LIST];
	for (int i = 0; i < nc; i++) {
		uint64_t v;
		if (cli_u64(cmd, "cores", cores_s[i], 1, SIM_MAX_CORES, &v))
			return 2;
		cores[i] = (uint32_t)v;
	}
	for (int i = 0; i < nd; i++)
		if (!vm_design_find(designs[i]))
			return cli_error(cmd, "--designs: no design '%s' (try 'mmsim designs')", designs[i]);
	/* A design option applies to the designs that take it; each must be taken by one at least. */
	if (sys_check_dopts(&so, designs, nd, cmd))
		return 2;
	for (int i = 0; i < nd; i++) {
		struct vm_opts vo;
		if (sys_vm_opts(&so, vm_design_find(designs[i]), &vo, cmd))
			return 2;
	}
	for (int i = 0; i < nt; i++)
		if (strcmp(conts[i], "low") && strcmp(conts[i], "high"))
			return cli_error(cmd, "--contention: '%s' is not a level (low or high)", conts[i]);
	for (int i = 0; i < nw; i++) {
		const struct wl_def *w = wl_find(workloads[i]);
		if (!w)
			return cli_error(cmd, "--workloads: no workload '%s' (try 'mmsim workloads')", workloads[i]);
		for (int c = 0; c < nc; c++) {
			struct wl_params wp = { .threads = cores[c], .ops = ops, .fixed = fixed, .processes = processes,
						.size = size };
			char msg[256];
			if (wl_check(w, &wp, msg, sizeof(msg)))
				return cli_error(cmd, "%s", msg);
		}
	}
	for (int i = 0; i < nc; i++)
		if (cores[i] > machine_max_cores(&o.m))
			return cli_error(cmd, "--cores: %u is more than machine '%s' has (%u)", cores[i], o.m.name,
					 machine_max_cores(&o.m));

	/* A job list for GNU parallel or Slurm: one command per point. */
	if (jobsdir) {
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			snprintf(self, sizeof(self), "mmsim");
		else
			self[n] = 0;
		int idx = 0;
		for (int d = 0; d < nd; d++)
			for (int w = 0; w < nw; w++)
				for (int t = 0; t < levels(workloads[w], nt); t++)
					for (int c = 0; c < nc; c++) {
						printf("%s run --design %s --workload %s", self, designs[d], workloads[w]);
						if (wl_find(workloads[w])->flags & WL_CONTENTION)
							printf(" --contention %s", conts[t]);
						printf(" --cores %u --machine %s --seed %llu --lookahead %llu", cores[c],
						       o.machine_name, (unsigned long long)o.seed, (unsigned long long)o.lookahead);
						if (ops)
							printf(" --ops %llu", (unsigned long long)ops);
						if (fixed)
							printf(" --fixed");
						if (processes)
							printf(" --processes");
						if (size)
							printf(" --size %llu", (unsigned long long)size);
						if (so.no_check)
							printf(" --no-check");
						char dargs[512];
						sys_dopts_args(&so, vm_design_find(designs[d]), dargs, sizeof(dargs));
						printf("%s", dargs);
						printf(" --csv -o %s/point-%04d.csv\n", jobsdir, idx++);
					}
		return 0;
	}

	/* Resume: the keys of the rows already written. */
	struct csv done = { 0 };
	char err[512];
	FILE *probe = fopen(outpath, "r");
	bool have_file = probe != NULL;
	if (probe)
		fclose(probe);
	if (have_file && csv_load(&done, outpath, err, sizeof(err)))
		return cli_error(cmd, "cannot resume from %s", err);
	char **keys = xzalloc(sizeof(char *) * (done.nrows + 1));
	for (uint32_t i = 0; i < done.nrows; i++) {
		char k[512];
		if (!row_key(&done, i, k, sizeof(k))) {
			csv_free(&done);
			return cli_error(cmd, "%s: not a results file of this version (columns missing); use another -o",
					 outpath);
		}
		keys[i] = xstrdup(k);
	}
	FILE *out = fopen(outpath, "a");
	if (!out)
		return cli_error(cmd, "-o: cannot write '%s': %s", outpath, strerror(errno));
	bool header = done.nrows == 0 && !done.head;
	int total = 0, at = 0, ran = 0, skipped = 0, status = 0;
	for (int w = 0; w < nw; w++)
		total += nd * nc * levels(workloads[w], nt);
	bool tty = isatty(2);
	double t0 = now();
	for (int d = 0; d < nd; d++)
		for (int w = 0; w < nw; w++)
			for (int t = 0; t < levels(workloads[w], nt); t++)
				for (int c = 0; c < nc; c++) {
					at++;
					struct point pt = { .o = o, .s = so, .w = wl_find(workloads[w]) };
					pt.s.design = designs[d];
					pt.o.cores = cores[c];
					pt.wp.ops = ops;
					pt.wp.fixed = fixed;
					pt.wp.processes = processes;
					pt.wp.size = size;
					pt.wp.high_contention = (pt.w->flags & WL_CONTENTION) && !strcmp(conts[t], "high");
					pt.wp.threads = cores[c];
					char k[512];
					point_key(&pt, k, sizeof(k));
					bool seen = false;
					for (uint32_t i = 0; i < done.nrows && !seen; i++)
						seen = !strcmp(keys[i], k);
					if (seen) {
						skipped++;
						continue;
					}
					if (tty)
						fprintf(stderr, "\r[%d/%d] %s %s %s %u cores (%.0f s so far)\033[K", at, total,
							designs[d], workloads[w], wl_contention(pt.w, &pt.wp), cores[c], now() - t0);
					struct em e;
					em_init(&e, out, EM_CSV);
					e.csv_header = header;
					em_begin(&e);
					int r2 = point_run(&pt, &e, cmd);
					em_end(&e);
					fflush(out);
					header = false;
					ran++;
					if (r2)
						status = r2;
				}
	if (tty)
		fprintf(stderr, "\r\033[K");
	fprintf(stderr, "mmsim sweep: %d points run, %d already in %s, %.1f host seconds\n", ran, skipped, outpath,
		now() - t0);
	for (uint32_t i = 0; i < done.nrows; i++)
		xfree(keys[i]);
	xfree(keys);
	csv_free(&done);
	if (fclose(out))
		return cli_error(cmd, "-o: error writing '%s'", outpath);
	return status;
}

static int cmd_merge(int argc, char **argv)
{
	static const char *help = "usage: mmsim merge FILE... -o OUT\n\n"
				  "Joins the CSV files of separately run points (from 'mmsim sweep --emit-jobs') into\n"
				  "one results file with one header. Every input must have the same columns.\n";
	const char *cmd = "merge", *outpath = NULL;
	int rc = cli_opt_output(cmd, help, argc, argv, &outpath);
	if (rc >= 0)
		return rc;
	if (!outpath)
		return cli_error(cmd, "-o OUT is required");
	if (optind == argc)
		return cli_error(cmd, "no input files");
	FILE *out = fopen(outpath, "w");
	if (!out)
		return cli_error(cmd, "-o: cannot write '%s': %s", outpath, strerror(errno));
	struct csv first = { 0 };
	for (int i = optind; i < argc; i++) {
		struct csv t;
		char err[512];
		if (csv_load(&t, argv[i], err, sizeof(err))) {
			fclose(out);
			csv_free(&first);
			return cli_error(cmd, "%s", err);
		}
		if (!first.head) {
			first = t;
			for (uint32_t c = 0; c < t.ncols; c++) {
				if (c)
					fputc(',', out);
				csv_write_field(out, t.head[c]);
			}
			fputc('\n', out);
		} else {
			bool same = t.ncols == first.ncols;
			for (uint32_t c = 0; same && c < t.ncols; c++)
				same = !strcmp(t.head[c], first.head[c]);
			if (!same) {
				fclose(out);
				csv_free(&t);
				csv_free(&first);
				return cli_error(cmd, "%s: its columns differ from %s's", argv[i], argv[optind]);
			}
		}
		for (uint32_t r = 0; r < t.nrows; r++) {
			for (uint32_t c = 0; c < t.ncols; c++) {
				if (c)
					fputc(',', out);
				csv_write_field(out, t.rows[r][c]);
			}
			fputc('\n', out);
		}
		if (t.head != first.head)
			csv_free(&t);
	}
	csv_free(&first);
	if (fclose(out))
		return cli_error(cmd, "-o: error writing '%s'", outpath);
	return 0;
}

const struct cli_cmd cli_cmd_sweep = { "sweep", "run designs x workloads x core counts into a results CSV", cmd_sweep };
const struct cli_cmd cli_cmd_merge = { "merge", "join per-point CSV files into one results file", cmd_merge };
