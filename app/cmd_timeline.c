/* cmd_timeline.c: `mmsim timeline`: run a workload (or replay a trace) with every core's time recorded, and draw it. */
#include "app/cli.h"
#include "app/timeline.h"

#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cli_cmd_run, cli_cmd_replay;

static const char *help =
	"usage: mmsim timeline -o DIR [--from US] [--to US] [--max-spans N] [--trace FILE] [RUN OPTIONS]\n\n"
	"Runs a workload as 'mmsim run' does (or, with --trace, replays a trace as 'mmsim replay'\n"
	"does) with every core's simulated time recorded, then draws one row per core: time in\n"
	"mm calls, fault handling, page walks, lock spinning and sleeping, sending shootdowns and\n"
	"handling their IPIs, and waiting at barriers; user code is white. It shows why 'linux'\n"
	"cores wait where 'cortenmm-adv' cores do not. Writes DIR/timeline.png and .svg, with the\n"
	"data and the gnuplot script beside them.\n\n"
	"  -o, --output DIR  where to write (made if missing)\n"
	"  --from US         start of the window, in simulated microseconds from the start (default 0)\n"
	"  --to US           end of the window (default: the end of the run)\n"
	"  --max-spans N     spans kept over all cores (default 400000); the rest are dropped\n"
	"  --trace FILE      replay this trace instead of running a workload\n"
	"Every other option goes to 'mmsim run' (or 'mmsim replay'): --design, --workload,\n"
	"--cores, --ops, --contention, ... For example:\n"
	"  mmsim timeline -o tl-linux --design linux --workload mmap --cores 8 --ops 32\n"
	"  mmsim timeline -o tl-adv --design cortenmm-adv --workload mmap --cores 8 --ops 32\n";

/* The value of option `name` at argv[*i] ("--name V" or "--name=V"), advancing *i; NULL if argv[*i] is not it. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int parse_us(const char *cmd, const char *opt, const char *v, double *out)
{
	char *end;
	*out = strtod(v, &end);
	if (*end || end == v || *out < 0 || *out > 1e12)
		return cli_error(cmd, "%s: '%s' is not a time in microseconds", opt, v);
	return 0;
}

static int cmd_timeline(int argc, char **argv)
{
	const char *cmd = "timeline", *trace = NULL;
	struct tl_req r = { .max_spans = 400000 };
	char **rest = xzalloc(sizeof(char *) * (size_t)(argc + 2));
	int nrest = 1, status = 2;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(help, stdout);
			status = 0;
			goto out;
		} else if ((v = opt_value(argc, argv, &i, "--output", &missing)) || (v = opt_value(argc, argv, &i, "-o", &missing))) {
			r.dir = v;
		} else if ((v = opt_value(argc, argv, &i, "--from", &missing))) {
			if (parse_us(cmd, "--from", v, &r.from_us))
				goto out;
		} else if ((v = opt_value(argc, argv, &i, "--to", &missing))) {
			if (parse_us(cmd, "--to", v, &r.to_us))
				goto out;
		} else if ((v = opt_value(argc, argv, &i, "--max-spans", &missing))) {
			if (cli_u64(cmd, "max-spans", v, 1000, 100000000, &r.max_spans))
				goto out;
		} else if ((v = opt_value(argc, argv, &i, "--trace", &missing))) {
			trace = v;
		} else if (missing) {
			status = cli_error(cmd, "%s needs a value", argv[i]);
			goto out;
		} else {
			rest[nrest++] = argv[i];
		}
		if (missing) {
			status = cli_error(cmd, "%s needs a value", argv[i]);
			goto out;
		}
	}
	if (!r.dir) {
		status = cli_error(cmd, "give the output directory with -o DIR (see --help)");
		goto out;
	}
	if (r.to_us && r.to_us <= r.from_us) {
		status = cli_error(cmd, "--to must be after --from");
		goto out;
	}
	const struct cli_cmd *c = trace ? &cli_cmd_replay : &cli_cmd_run;
	rest[0] = "mmsim timeline"; /* the run or replay it drives speaks as timeline */
	if (trace)
		rest[nrest++] = (char *)trace;
	tl_request = &r;
	status = c->run(nrest, rest);
	tl_request = NULL;
out:
	xfree(rest);
	return status;
}

const struct cli_cmd cli_cmd_timeline = { "timeline", "draw where each core's simulated time goes in a run or replay",
					  cmd_timeline };
