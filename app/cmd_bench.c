/* cmd_bench.c: micro-drivers of the engine alone: atomics on shared or private lines, and an rwsem loop. */
#include "app/args.h"
#include "sim/drivers.h"

#include <stdio.h>
#include <string.h>

/* --ops K, which both commands take (bench_opt handles it): the loops per core. */
#define BENCH_OPS_OPT { "ops", required_argument, 0, 'n' }
#define BENCH_OPS_DEFAULT 1000

/* What bench_main parses: --ops, then the command's own options (own, with its ctx). */
struct bench_parse {
	const char *cmd;
	uint64_t ops;
	int (*own)(void *ctx, int opt, const char *arg);
	void *ctx;
};

/* bench_opt: --ops, or the command's own option (cli_args.opt of both commands). */
static int bench_opt(void *p, int opt, const char *arg)
{
	struct bench_parse *b = p;
	if (opt == 'n')
		return cli_u64(b->cmd, "ops", arg, 1, 1000000000, &b->ops) ? 2 : 0;
	return b->own(b->ctx, opt, arg);
}

/*
 * bench_main: the body of both commands: parse ca's options (its own, which
 * include BENCH_OPS_OPT, and the common ones), run `run` with --ops on a
 * fresh sim and print `bench`'s figures with extra's own fields first (both
 * get ca->ctx, the command's parsed options). The exit status.
 */
static int bench_main(struct cli_args *ca, const char *bench, uint64_t (*run)(struct sim *, uint64_t ops, void *),
		      void (*extra)(struct em *, void *), int argc, char **argv)
{
	struct cli_common o;
	cli_common_defaults(&o);
	struct bench_parse b = { .cmd = ca->cmd, .ops = BENCH_OPS_DEFAULT, .own = ca->opt, .ctx = ca->ctx };
	struct cli_args a = *ca;
	a.common = &o;
	a.opt = bench_opt;
	a.ctx = &b;
	int rc = cli_parse(&a, argc, argv);
	if (rc >= 0)
		return rc;
	struct sim_opts so = { .ncores = o.cores, .mode = o.mode, .quantum = o.quantum, .lookahead = o.lookahead, .m = &o.m };
	struct sim *s = sim_create(&so);
	uint64_t total = run(s, b.ops, ca->ctx);
	struct em e;
	em_init(&e, stdout, o.json ? EM_JSON : EM_TABLE);
	em_begin(&e);
	em_str(&e, "bench", bench);
	extra(&e, ca->ctx);
	cli_emit_common(&e, &o, s, total);
	cli_emit_sim_stats(&e, s);
	em_end(&e);
	sim_destroy(s);
	return 0;
}

struct lines_args {
	bool shared;
};

static void lines_extra(struct em *e, void *p) { em_str(e, "pattern", ((struct lines_args *)p)->shared ? "shared" : "private"); }

static uint64_t lines_run(struct sim *s, uint64_t ops, void *p) { return drv_lines(s, ((struct lines_args *)p)->shared, ops); }

/* lines_opt: the options of bench-lines itself (cli_args.opt). */
static int lines_opt(void *ctx, int opt, const char *arg)
{
	struct lines_args *a = ctx;
	switch (opt) {
	case 'p':
		if (strcmp(arg, "shared") && strcmp(arg, "private"))
			return cli_error("bench-lines", "--pattern: '%s' is not a pattern (shared or private)", arg);
		a->shared = !strcmp(arg, "shared");
		return 0;
	}
	return CLI_NOT_MINE;
}

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
	static const struct option opts[] = { { "pattern", required_argument, 0, 'p' },
					      BENCH_OPS_OPT,
					      { 0, 0, 0, 0 } };
	struct lines_args x = { .shared = true };
	struct cli_args ca = { .cmd = "bench-lines", .help = help, .opts = opts, .opt = lines_opt, .ctx = &x };
	return bench_main(&ca, "lines", lines_run, lines_extra, argc, argv);
}

struct rwsem_args {
	uint64_t pct, cs;
	const char *mix; /* the option that set pct, to refuse a second one */
};

static void rwsem_extra(struct em *e, void *p)
{
	struct rwsem_args *a = p;
	em_u64(e, "write_pct", (uint32_t)a->pct);
	em_u64(e, "critical_section_cycles", a->cs);
}

static uint64_t rwsem_run(struct sim *s, uint64_t ops, void *p)
{
	struct rwsem_args *a = p;
	return drv_rwsem(s, ops, (uint32_t)a->pct, a->cs);
}

/* set_mix: --readers, --writers and --write-pct each set the mix; two of them contradict. */
static int set_mix(struct rwsem_args *a, const char *opt)
{
	if (a->mix && strcmp(a->mix, opt))
		return cli_error("bench-rwsem", "%s and %s: choose one", a->mix, opt);
	a->mix = opt;
	return 0;
}

/* rwsem_opt: the options of bench-rwsem itself (cli_args.opt). */
static int rwsem_opt(void *ctx, int opt, const char *arg)
{
	struct rwsem_args *a = ctx;
	switch (opt) {
	case 'r': a->pct = 0; return set_mix(a, "--readers");
	case 'w': a->pct = 100; return set_mix(a, "--writers");
	case 'p': return cli_u64("bench-rwsem", "write-pct", arg, 0, 100, &a->pct) ? 2 : set_mix(a, "--write-pct");
	case 'x': return cli_u64("bench-rwsem", "cs", arg, 0, 1000000000, &a->cs) ? 2 : 0;
	}
	return CLI_NOT_MINE;
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
	static const struct option opts[] = { { "readers", no_argument, 0, 'r' },
					      { "writers", no_argument, 0, 'w' },
					      { "write-pct", required_argument, 0, 'p' },
					      { "cs", required_argument, 0, 'x' },
					      BENCH_OPS_OPT,
					      { 0, 0, 0, 0 } };
	struct rwsem_args x = { 0 };
	struct cli_args ca = { .cmd = "bench-rwsem", .help = help, .opts = opts, .opt = rwsem_opt, .ctx = &x };
	return bench_main(&ca, "rwsem", rwsem_run, rwsem_extra, argc, argv);
}

const struct cli_cmd cli_cmd_bench_lines = { "bench-lines",
					      "atomics on one shared or on private cache lines (coherence model)",
					      cmd_bench_lines };
const struct cli_cmd cli_cmd_bench_rwsem = { "bench-rwsem", "cores looping on one reader-writer semaphore",
					      cmd_bench_rwsem };
