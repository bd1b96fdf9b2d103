/* cmd_run.c: `mmsim run`: a built-in workload on N cores against a design; also `mmsim designs` and `mmsim workloads`. */
#include "app/args.h"
#include "app/point.h"
#include "io/out.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The workloads, one a line; with params, each one's defaults and options (wl_describe). */
static void print_workloads(bool params)
{
	if (params)
		printf("\nWorkloads ('mmsim workloads NAME' describes one), with their defaults:\n");
	for (const struct wl_def *const *w = wl_all(); *w; w++) {
		char d[128];
		wl_describe(*w, d, sizeof(d));
		if (params)
			printf("  %-12s %s\n", (*w)->name, d);
		else
			printf("%-12s %s\n", (*w)->name, (*w)->summary);
	}
}

/* The state `mmsim run` parses into. */
struct run_args {
	const char *wname, *outpath;
	bool csvout;
	struct point pt; /* pt.wp and pt.reps, from the options */
};

/* run_opt: the options of `mmsim run` itself (cli_args.opt). */
static int run_opt(void *ctx, int opt, const char *arg)
{
	struct run_args *a = ctx;
	switch (opt) {
	case 'w': a->wname = arg; return 0;
	case 'V': a->csvout = true; return 0;
	case 'o': a->outpath = arg; return 0;
	case 'C':
		if (!strcmp(arg, "high"))
			a->pt.wp.high_contention = true;
		else if (strcmp(arg, "low"))
			return cli_error("run", "--contention: '%s' is not a level (low or high)", arg);
		return 0;
	}
	return point_wl_opt("run", &a->pt, opt, arg);
}

static void run_help_more(void) { print_workloads(true); }

static int cmd_run(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim run --design NAME --workload NAME [--cores N] [--ops K] [OPTIONS]\n\n"
		"Runs a built-in workload, one thread per simulated core, against a design, and\n"
		"prints throughput in operations per simulated second, latency percentiles per\n"
		"call, TLB and shootdown counters, lock waiting and metadata memory.\n"
		"'mmsim workloads' lists the workloads and what counts as an op in each.\n\n"
		"  --workload NAME   the workload (default pf)\n"
		"  --contention L    low (default: disjoint slots) or high (one shared region)\n" POINT_WL_HELP
		"  --csv             print a CSV header and one row instead of a table\n"
		"  -o, --output FILE write the result to FILE\n" SYS_HELP CLI_COMMON_HELP;
	static const struct option opts[] = { POINT_WL_OPTS,
					      { "workload", required_argument, 0, 'w' },
					      { "contention", required_argument, 0, 'C' },
					      { "csv", no_argument, 0, 'V' },
					      CLI_OPT_OUTPUT,
					      { 0, 0, 0, 0 } };
	/* argv[0] names the command in messages ("mmsim timeline" when timeline runs it). */
	const char *cmd = strncmp(argv[0], "mmsim ", 6) ? argv[0] : argv[0] + 6;
	struct run_args a = { .wname = "pf" };
	struct cli_common o;
	cli_common_defaults(&o);
	struct sysopts so;
	sys_defaults(&so);
	struct cli_args ca = { .cmd = cmd, .help = help, .help_more = run_help_more, .opts = opts, .shortopts = "o:",
			       .opt = run_opt, .ctx = &a, .common = &o, .sys = &so };
	int rc = cli_parse(&ca, argc, argv);
	if (rc >= 0)
		return rc;
	if (a.csvout && o.json)
		return cli_error(cmd, "--csv and --json: choose one");
	const struct wl_def *w = wl_find(a.wname);
	if (!w)
		return cli_error(cmd, "--workload: no workload '%s' (try 'mmsim workloads')", a.wname);
	char msg[256];
	a.pt.wp.threads = o.cores;
	if (wl_check(w, &a.pt.wp, msg, sizeof(msg)))
		return cli_error(cmd, "%s", msg);
	struct out out;
	char err[4200];
	if (out_open(&out, a.outpath, err, sizeof(err)))
		return cli_fail(cmd, "%s", err);
	struct point pt = { .o = o, .s = so, .w = w, .wp = a.pt.wp, .reps = a.pt.reps };
	struct em e;
	em_init(&e, out.f, a.csvout ? EM_CSV : o.json ? EM_JSON : EM_TABLE);
	e.csv_header = true;
	em_begin(&e);
	int status = point_run(&pt, &e, cmd);
	em_end(&e);
	return cli_out_finish(cmd, &out, status);
}

static int cmd_designs(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: mmsim designs [--names]\n\nLists the registered address-space designs, each with its own options\n"
		       "(given to run, replay, sweep, timeline and explain as --OPTION or --OPTION=VALUE).\n\n"
		       "  --names   only the names, one a line (for scripts)\n");
		return 0;
	}
	bool names = argc > 1 && !strcmp(argv[1], "--names");
	if (argc > 2 || (argc > 1 && !names))
		return cli_error("designs", "unexpected argument '%s' (see --help)", argv[argc - 1]);
	for (const struct vm_design *const *d = vm_designs(); *d; d++) {
		printf(names ? "%s\n" : "%-16s %s\n", (*d)->name, (*d)->summary);
		if (names)
			continue;
		for (int i = 0; i < vm_opt_count(*d); i++) {
			const struct vm_opt *op = &(*d)->opts[i];
			char arg[128] = "", def[64];
			if (op->type == VM_OPT_ENUM) {
				size_t at = (size_t)snprintf(arg, sizeof(arg), "[=");
				for (int k = 0; op->choices[k] && at < sizeof(arg); k++)
					at += (size_t)snprintf(arg + at, sizeof(arg) - at, "%s%s", k ? "|" : "", op->choices[k]);
				snprintf(arg + at, at < sizeof(arg) ? sizeof(arg) - at : 0, "]");
			} else if (op->type == VM_OPT_U64) {
				snprintf(arg, sizeof(arg), "=N");
			} else {
				snprintf(arg, sizeof(arg), "[=on|off]");
			}
			struct vm_opts o;
			vm_opts_init(&o, *d);
			printf("    --%s%s  %s (default %s)\n", op->name, arg, op->help, vm_opt_value(*d, &o, i, def, sizeof(def)));
		}
	}
	return 0;
}

static int cmd_workloads(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: mmsim workloads [NAME]\n\nLists the built-in workloads, or describes one.\n");
		return 0;
	}
	if (argc > 2)
		return cli_error("workloads", "unexpected argument '%s' (one workload at a time)", argv[2]);
	if (argc > 1) {
		const struct wl_def *w = wl_find(argv[1]);
		if (!w)
			return cli_error("workloads", "no workload '%s'", argv[1]);
		char d[128];
		wl_describe(w, d, sizeof(d));
		printf("%s: %s\n\n%s\nParameters (defaults): %s\n", w->name, w->summary, w->help, d);
		return 0;
	}
	print_workloads(false);
	return 0;
}

const struct cli_cmd cli_cmd_run = { "run", "run a built-in workload against a design", cmd_run };
const struct cli_cmd cli_cmd_designs = { "designs", "list the address-space designs", cmd_designs };
const struct cli_cmd cli_cmd_workloads = { "workloads", "list or describe the built-in workloads", cmd_workloads };
