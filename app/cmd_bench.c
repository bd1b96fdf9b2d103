/* cmd_bench.c: micro-drivers of the engine alone: atomics on shared or private lines, and an rwsem loop. */
#include "app/cli.h"
#include "sim/drivers.h"

#include <stdio.h>
#include <string.h>

static int finish(struct cli_common *o, struct sim *s, uint64_t ops, const char *bench,
		  void (*extra)(struct em *, void *), void *extra_arg)
{
	struct em e;
	em_init(&e, stdout, o->json ? EM_JSON : EM_TABLE);
	em_begin(&e);
	em_str(&e, "bench", bench);
	if (extra)
		extra(&e, extra_arg);
	cli_emit_common(&e, o, s, ops);
	cli_emit_sim_stats(&e, s);
	em_end(&e);
	return 0;
}

static void lines_extra(struct em *e, void *p) { em_str(e, "pattern", *(bool *)p ? "shared" : "private"); }

static int cmd_bench_lines(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim bench-lines [--cores N] [--pattern shared|private] [--ops K] [OPTIONS]\n\n"
		"Every core does K locked read-modify-writes (atomic increments), either on one\n"
		"shared cache line or each on a line of its own. Shows the coherence model alone:\n"
		"a shared line's transfers serialize, so aggregate throughput stays flat as cores\n"
		"are added; private lines scale linearly.\n\n"
		"  --pattern P       shared (default) or private\n"
		"  --ops K           atomics per core (default 1000)\n" CLI_COMMON_HELP;
	static const struct option opts[] = { CLI_COMMON_OPTS,
					      { "pattern", required_argument, 0, 'p' },
					      { "ops", required_argument, 0, 'n' },
					      { 0, 0, 0, 0 } };
	const char *cmd = "bench-lines";
	struct cli_common o;
	cli_common_defaults(&o);
	bool shared = true;
	uint64_t ops = 1000;
	int opt, r;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((r = cli_common_opt(&o, cmd, opt, optarg)) > 0)
			continue;
		if (r < 0)
			return 2;
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			return 0;
		case 'p':
			if (!strcmp(optarg, "shared"))
				shared = true;
			else if (!strcmp(optarg, "private"))
				shared = false;
			else
				return cli_error(cmd, "--pattern: '%s' is not a pattern (shared or private)", optarg);
			break;
		case 'n':
			if (cli_u64(cmd, "ops", optarg, 1, 1000000000, &ops))
				return 2;
			break;
		default:
			return cli_bad_option(cmd);
		}
	}
	if (optind < argc)
		return cli_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_common_finish(&o, cmd))
		return 2;
	struct sim_opts so = { .ncores = o.cores, .mode = o.mode, .quantum = o.quantum, .lookahead = o.lookahead, .m = &o.m };
	struct sim *s = sim_create(&so);
	uint64_t total = drv_lines(s, shared, ops);
	finish(&o, s, total, "lines", lines_extra, &shared);
	sim_destroy(s);
	return 0;
}

struct rw_extra {
	uint32_t write_pct;
	cycles_t cs;
};

static void rwsem_extra(struct em *e, void *p)
{
	struct rw_extra *x = p;
	em_u64(e, "write_pct", x->write_pct);
	em_u64(e, "critical_section_cycles", x->cs);
}

static int cmd_bench_rwsem(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim bench-rwsem [--cores N] [--readers | --writers | --write-pct P] [OPTIONS]\n\n"
		"Every core loops acquire/release on one simulated reader-writer semaphore\n"
		"(the shape of Linux's mmap_lock). Even pure readers do an atomic on the\n"
		"count's cache line, so they collapse like a shared line.\n\n"
		"  --readers         all acquisitions for reading (default)\n"
		"  --writers         all acquisitions for writing\n"
		"  --write-pct P     P percent of acquisitions for writing\n"
		"  --cs CYC          cycles of work inside the critical section (default 0)\n"
		"  --ops K           acquisitions per core (default 1000)\n" CLI_COMMON_HELP;
	static const struct option opts[] = { CLI_COMMON_OPTS,
					      { "readers", no_argument, 0, 'r' },
					      { "writers", no_argument, 0, 'w' },
					      { "write-pct", required_argument, 0, 'p' },
					      { "cs", required_argument, 0, 'x' },
					      { "ops", required_argument, 0, 'n' },
					      { 0, 0, 0, 0 } };
	const char *cmd = "bench-rwsem";
	struct cli_common o;
	cli_common_defaults(&o);
	uint64_t ops = 1000, pct = 0, cs = 0;
	int opt, r;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((r = cli_common_opt(&o, cmd, opt, optarg)) > 0)
			continue;
		if (r < 0)
			return 2;
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			return 0;
		case 'r':
			pct = 0;
			break;
		case 'w':
			pct = 100;
			break;
		case 'p':
			if (cli_u64(cmd, "write-pct", optarg, 0, 100, &pct))
				return 2;
			break;
		case 'x':
			if (cli_u64(cmd, "cs", optarg, 0, 1000000000, &cs))
				return 2;
			break;
		case 'n':
			if (cli_u64(cmd, "ops", optarg, 1, 1000000000, &ops))
				return 2;
			break;
		default:
			return cli_bad_option(cmd);
		}
	}
	if (optind < argc)
		return cli_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_common_finish(&o, cmd))
		return 2;
	struct sim_opts so = { .ncores = o.cores, .mode = o.mode, .quantum = o.quantum, .lookahead = o.lookahead, .m = &o.m };
	struct sim *s = sim_create(&so);
	uint64_t total = drv_rwsem(s, ops, (uint32_t)pct, cs);
	struct rw_extra x = { (uint32_t)pct, cs };
	finish(&o, s, total, "rwsem", rwsem_extra, &x);
	sim_destroy(s);
	return 0;
}

const struct cli_cmd cli_cmd_bench_lines = { "bench-lines",
					      "atomics on one shared or on private cache lines (coherence model)",
					      cmd_bench_lines };
const struct cli_cmd cli_cmd_bench_rwsem = { "bench-rwsem", "cores looping on one reader-writer semaphore",
					      cmd_bench_rwsem };
