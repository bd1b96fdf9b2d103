/* cmd_run.c: `mmsim run`: a built-in workload on N cores against a design; also `mmsim designs` and `mmsim workloads`. */
#include "app/point.h"

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

static int cmd_run(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim run --design NAME --workload NAME [--cores N] [--ops K] [OPTIONS]\n\n"
		"Runs a built-in workload, one thread per simulated core, against a design, and\n"
		"prints throughput in operations per simulated second, latency percentiles per\n"
		"call, TLB and shootdown counters, lock waiting and metadata memory.\n"
		"'mmsim workloads' lists the workloads and what counts as an op in each.\n\n"
		"  --workload NAME   the workload (default pf)\n"
		"  --ops K           requests per thread (default: the workload's)\n"
		"  --contention L    low (default: disjoint slots) or high (one shared region)\n"
		"  --fixed           MAP_FIXED placement, for workloads that offer it (mmap)\n"
		"  --processes       every thread in its own process (will-it-scale's processes mode),\n"
		"                    for workloads that offer it; else all threads share one process\n"
		"  --size BYTES      the workload's size (K, M, G suffixes), for workloads that take one\n"
		"  --csv             print a CSV header and one row instead of a table\n"
		"  -o, --output FILE write the result to FILE\n" SYS_HELP CLI_COMMON_HELP;
	static const struct option opts[] = { CLI_COMMON_OPTS, SYS_OPTS,
					      { "workload", required_argument, 0, 'w' },
					      { "ops", required_argument, 0, 'n' },
					      { "contention", required_argument, 0, 'C' },
					      { "fixed", no_argument, 0, 'X' },
					      { "processes", no_argument, 0, 'P' },
					      { "size", required_argument, 0, 'z' },
					      { "csv", no_argument, 0, 'V' },
					      { "output", required_argument, 0, 'o' },
					      { 0, 0, 0, 0 } };
	const char *cmd = "run", *wname = "pf", *outpath = NULL;
	bool csvout = false;
	struct cli_common o;
	cli_common_defaults(&o);
	struct sysopts so;
	sys_defaults(&so);
	struct wl_params wp = { 0 };
	int opt, r;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", sys_getopt_table(opts), NULL)) != -1) {
		if ((r = cli_common_opt(&o, cmd, opt, optarg)) > 0 || (r == 0 && (r = sys_opt(&so, cmd, opt, optarg)) > 0))
			continue;
		if (r < 0)
			return 2;
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			print_workloads(true);
			return 0;
		case 'w':
			wname = optarg;
			break;
		case 'n':
			if (cli_u64(cmd, "ops", optarg, 1, 1ull << 32, &wp.ops))
				return 2;
			break;
		case 'X':
			wp.fixed = true;
			break;
		case 'P':
			wp.processes = true;
			break;
		case 'z':
			if (cli_bytes(cmd, "size", optarg, 1, UINT64_MAX, &wp.size))
				return 2;
			break;
		case 'V':
			csvout = true;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'C':
			if (!strcmp(optarg, "high"))
				wp.high_contention = true;
			else if (strcmp(optarg, "low"))
				return cli_error(cmd, "--contention: '%s' is not a level (low or high)", optarg);
			break;
		default:
			return cli_bad_option(cmd);
		}
	}
	if (optind < argc)
		return cli_error(cmd, "unexpected argument '%s'", argv[optind]);
	const struct wl_def *w = wl_find(wname);
	if (!w)
		return cli_error(cmd, "--workload: no workload '%s' (try 'mmsim workloads')", wname);
	if (cli_common_finish(&o, cmd) || sys_check(&so, cmd))
		return 2;
	char msg[256];
	wp.threads = o.cores;
	if (wl_check(w, &wp, msg, sizeof(msg)))
		return cli_error(cmd, "%s", msg);
	FILE *out = stdout;
	if (outpath && !(out = fopen(outpath, "w")))
		return cli_error(cmd, "-o: cannot write '%s': %s", outpath, strerror(errno));
	struct point pt = { .o = o, .s = so, .w = w, .wp = wp };
	struct em e;
	em_init(&e, out, csvout ? EM_CSV : o.json ? EM_JSON : EM_TABLE);
	e.csv_header = true;
	em_begin(&e);
	int status = point_run(&pt, &e, cmd);
	em_end(&e);
	if (out != stdout && fclose(out))
		return cli_error(cmd, "-o: error writing '%s'", outpath);
	return status;
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
