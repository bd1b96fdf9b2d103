/* cmd_sweep.c: `mmsim sweep` (designs x workloads x contention x cores, resumable, or a job list) and `mmsim merge`. */
#include "app/args.h"
#include "app/sweep.h"
#include "io/csv.h"
#include "io/out.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIST 64

/*
 * split_list: split the comma-separated list s of option --opt in place into
 * out. Returns the count, or -1 after a message: empty, an empty item, an
 * item given twice, or more than MAX_LIST items.
 */
static int split_list(const char *cmd, const char *opt, char *s, char **out)
{
	int n = 0;
	for (char *t = s, *end;; t = end + 1) {
		end = strchr(t, ',');
		if (end)
			*end = 0;
		if (!*t)
			return cli_error(cmd, "--%s: an empty item in the list", opt), -1;
		if (n == MAX_LIST)
			return cli_error(cmd, "--%s: more than %d items", opt, MAX_LIST), -1;
		for (int i = 0; i < n; i++)
			if (!strcmp(out[i], t))
				return cli_error(cmd, "--%s: '%s' is in the list twice", opt, t), -1;
		out[n++] = t;
		if (!end)
			return n;
	}
}

/* How many of the nt contention levels apply to a workload: all, or one if it has none. */
static int levels(const char *workload, int nt) { return (wl_find(workload)->flags & WL_CONTENTION) ? nt : 1; }

/* The state `mmsim sweep` parses into. */
struct sweep_args {
	const char *outpath, *jobsdir;
	char dbuf[512], wbuf[512], cbuf[512], tbuf[64];
	struct point pt; /* pt.wp (ops, fixed, processes, size, method) and pt.reps; threads and contention are per point */
	uint64_t jobs;
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
	case 'j': return cli_u64("sweep", "jobs", arg, 1, 1024, &a->jobs) ? 2 : 0;
	case CLI_OPT_JSON: return cli_error("sweep", "--json: a sweep writes CSV rows (mmsim run --json prints one point)");
	}
	return point_wl_opt("sweep", &a->pt, opt, arg);
}

static int cmd_sweep(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim sweep --designs A,B,... --workloads X,Y,... --cores 1,2,4,... [OPTIONS]\n\n"
		"Runs every point of designs x workloads x contention levels x core counts in\n"
		"deterministic mode and writes one CSV row per point, with the configuration and every\n"
		"stat. Rerun with the same output, it resumes: a point whose row is there with the same\n"
		"config_key (the build, the machine's numbers, every option) is skipped; any change\n"
		"runs it again. A row is appended whole or not at all.\n"
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
		"  --method loop|paper, --reps N: how each point is measured, as for 'mmsim run'\n"
		"  -o, --output FILE  the results CSV (default results.csv)\n"
		"  -j, --jobs N       points run side by side, each in its own process (default: the\n"
		"                     host's cores); rows are written in the same order as with -j 1\n"
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
					      CLI_OPT_OUTPUT,
					      { "emit-jobs", required_argument, 0, 'J' },
					      { "jobs", required_argument, 0, 'j' },
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
	struct cli_args ca = { .cmd = cmd, .help = help, .opts = opts, .shortopts = "o:j:", .opt = sweep_opt, .ctx = &a,
			       .common = &o, .sys = &so };
	int rc = cli_parse(&ca, argc, argv);
	if (rc >= 0)
		return rc;
	const char *outpath = a.outpath, *jobsdir = a.jobsdir;
	uint64_t ops = a.pt.wp.ops, size = a.pt.wp.size;
	bool fixed = a.pt.wp.fixed, processes = a.pt.wp.processes, paper = a.pt.wp.paper;
	if (a.pt.reps && !paper)
		return cli_error(cmd, "--reps: only the paper's method repeats a point (add --method paper)");
	if (jobsdir && a.jobs)
		return cli_error(cmd, "--jobs and --emit-jobs: the job list is run by GNU parallel or Slurm, not here");
	char *dbuf = a.dbuf, *wbuf = a.wbuf, *cbuf = a.cbuf, *tbuf = a.tbuf;
	if (o.mode != SIM_DET)
		return cli_error(cmd, "--mode: sweeps run in deterministic mode");
	char *designs[MAX_LIST], *workloads[MAX_LIST], *cores_s[MAX_LIST], *conts[MAX_LIST];
	int nd, nw, nc, nt;
	if ((nd = split_list(cmd, "designs", dbuf, designs)) < 0 || (nw = split_list(cmd, "workloads", wbuf, workloads)) < 0 ||
	    (nc = split_list(cmd, "cores", cbuf, cores_s)) < 0 || (nt = split_list(cmd, "contention", tbuf, conts)) < 0)
		return 2;
	uint32_t cores[MAX_LIST];
	for (int i = 0; i < nc; i++) {
		uint64_t v;
		if (cli_u64(cmd, "cores", cores_s[i], 1, SIM_MAX_CORES, &v))
			return 2;
		cores[i] = (uint32_t)v;
		for (int k = 0; k < i; k++)
			if (cores[k] == cores[i])
				return cli_error(cmd, "--cores: %u is in the list twice", cores[i]);
	}
	for (int i = 0; i < nd; i++)
		if (!vm_design_find(designs[i]))
			return cli_error(cmd, "--designs: no design '%s' (try 'mmsim designs')", designs[i]);
	/* A design option applies to the designs that take it; each must be taken by one at least. */
	if (sys_check_dopts(&so, designs, nd, cmd))
		return 2;
	for (int i = 0; i < nd; i++) {
		struct vm_opts vo;
		char err[512];
		if (sys_vm_opts(&so, vm_design_find(designs[i]), &vo, cmd))
			return 2;
		if (vm_opts_check(vm_design_find(designs[i]), &vo, &o.m, err, sizeof(err)))
			return cli_error(cmd, "%s", err);
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
						.size = size, .paper = paper };
			char msg[256];
			if (wl_check(w, &wp, msg, sizeof(msg)))
				return cli_error(cmd, "%s", msg);
		}
	}
	for (int i = 0; i < nc; i++)
		if (cores[i] > machine_max_cores(&o.m))
			return cli_error(cmd, "--cores: %u is more than machine '%s' has (%u)", cores[i], o.m.name,
					 machine_max_cores(&o.m));

	/* The points, in order: designs x workloads x contention levels x core counts. */
	int total = 0;
	for (int w = 0; w < nw; w++)
		total += nd * nc * levels(workloads[w], nt);
	struct sweep_pt *pts = xzalloc(sizeof(*pts) * (size_t)total);
	int k = 0;
	for (int d = 0; d < nd; d++)
		for (int w = 0; w < nw; w++)
			for (int t = 0; t < levels(workloads[w], nt); t++)
				for (int c = 0; c < nc; c++, k++) {
					struct point *pt = &pts[k].pt;
					*pt = (struct point){ .o = o, .s = so, .w = wl_find(workloads[w]), .wp = a.pt.wp, .reps = a.pt.reps };
					pt->s.design = designs[d];
					pt->s.lenient = true;
					pt->o.cores = cores[c];
					pt->wp.high_contention = (pt->w->flags & WL_CONTENTION) && !strcmp(conts[t], "high");
					pt->wp.threads = cores[c];
					point_key(pt, pts[k].key);
				}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int jobs = a.jobs ? (int)a.jobs : ncpu > 0 ? (int)ncpu : 1;
	int status = jobsdir ? sweep_emit_jobs(pts, total, jobsdir, cmd) : sweep_run(pts, total, outpath, jobs, cmd);
	xfree(pts);
	return status;
}

/* write_row: one CSV row of n fields. */
static void write_row(FILE *f, char *const *fields, uint32_t n)
{
	for (uint32_t c = 0; c < n; c++) {
		if (c)
			fputc(',', f);
		csv_write_field(f, fields[c]);
	}
	fputc('\n', f);
}

static int cmd_merge(int argc, char **argv)
{
	static const char *help = "usage: mmsim merge FILE... -o OUT\n\n"
				  "Joins the CSV files of separately run points (from 'mmsim sweep --emit-jobs') into\n"
				  "one results file with one header. Every input must have the same columns. OUT is\n"
				  "written whole or not at all, and may not be one of the inputs.\n";
	const char *cmd = "merge", *outpath = NULL;
	int rc = cli_opt_output_req(cmd, help, argc, argv, &outpath, "OUT", NULL);
	if (rc >= 0)
		return rc;
	for (int i = optind; i < argc; i++)
		if (out_same_file(outpath, argv[i]))
			return cli_error(cmd, "-o %s is also an input: write the merge elsewhere", outpath);
	struct out out;
	char err[4200];
	if (out_open(&out, outpath, err, sizeof(err)))
		return cli_fail(cmd, "%s", err);
	struct csv first = { 0 };
	int status = 0;
	for (int i = optind; i < argc && !status; i++) {
		struct csv t;
		if (csv_load(&t, argv[i], err, sizeof(err))) {
			status = cli_fail(cmd, "%s", err);
			break;
		}
		if (!t.head || csv_col(&t, "config_key") < 0 || csv_col(&t, "design") < 0) {
			status = cli_fail(cmd, "%s: not a results file of mmsim (no header with design and config_key)",
					  argv[i]);
			csv_free(&t);
			break;
		}
		if (!first.head) {
			first = t;
			write_row(out.f, t.head, t.ncols);
		} else {
			bool same = t.ncols == first.ncols;
			for (uint32_t c = 0; same && c < t.ncols; c++)
				same = !strcmp(t.head[c], first.head[c]);
			if (!same)
				status = cli_fail(cmd, "%s: its columns differ from %s's", argv[i], argv[optind]);
		}
		for (uint32_t r = 0; r < t.nrows && !status; r++)
			write_row(out.f, t.rows[r], t.ncols);
		if (t.head != first.head)
			csv_free(&t);
	}
	csv_free(&first);
	return cli_out_finish(cmd, &out, status);
}

const struct cli_cmd cli_cmd_sweep = { "sweep", "run designs x workloads x core counts into a results CSV", cmd_sweep };
const struct cli_cmd cli_cmd_merge = { "merge", "join per-point CSV files into one results file", cmd_merge };
