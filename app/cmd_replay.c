/* cmd_replay.c: `mmsim replay`: a trace (binary, text, perf or strace) run against a design, with its checks, layout and reports. */
#include "app/report.h"
#include "app/args.h"
#include "app/trace_cmd.h"
#include "io/out.h"
#include "app/timeline.h"
#include "sim/util.h"
#include "traces/judge.h"
#include "traces/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- mmsim replay ---- */

static struct ev_src *rp_spawn(void *ctx, uint32_t tid) { return tr_src_open(ctx, tid); }

/* ---- the layout summary: placement-independent, so that designs can be compared ---- */

struct lay_run {
	uint32_t kind, file, prot, flags;
	uint64_t pgoff, pages;
};

struct lay {
	struct lay_run *r;
	size_t n, cap;
};

static void lay_visit(void *arg, const struct vm_range *v)
{
	struct lay *l = arg;
	if (l->n == l->cap)
		l->r = xrealloc(l->r, sizeof(*l->r) * (l->cap = l->cap ? l->cap * 2 : 64));
	l->r[l->n++] = (struct lay_run){ v->kind, v->kind == VM_KIND_FILE ? v->file_id : 0, v->prot,
					 v->flags & (VM_RANGE_SHARED | VM_RANGE_STACK),
					 v->kind == VM_KIND_FILE ? v->pgoff : 0, (v->end - v->start) >> PAGE_SHIFT };
}

static int lay_cmp(const void *a, const void *b)
{
	const struct lay_run *x = a, *y = b;
#define C(f)                            \
	if (x->f != y->f)               \
		return x->f < y->f ? -1 : 1
	C(kind);
	C(file);
	C(prot);
	C(flags);
	C(pgoff);
#undef C
	return 0;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/*
 * One block per process: anonymous pages counted per (protection, shared,
 * stack), and file pages as runs of (file, offset) per protection. Both are
 * the same whichever addresses a design chose. Blocks are sorted.
 */
static int write_layout(struct ex *x, struct out *out)
{
	uint32_t np = ex_nprocs(x);
	char **blocks = xzalloc(sizeof(char *) * (np ? np : 1));
	for (uint32_t i = 0; i < np; i++) {
		struct lay l = { 0 };
		vm_layout(ex_as(x, i), 0, VM_TASK_SIZE + PAGE_SIZE, lay_visit, &l);
		qsort(l.r, l.n, sizeof(*l.r), lay_cmp);
		/* merge: anonymous runs of equal attributes; file runs that continue each other */
		size_t m = 0;
		for (size_t j = 0; j < l.n; j++) {
			struct lay_run *p = m ? &l.r[m - 1] : NULL, *c = &l.r[j];
			if (p && p->kind == c->kind && p->file == c->file && p->prot == c->prot && p->flags == c->flags &&
			    (c->kind == VM_KIND_ANON || p->pgoff + p->pages == c->pgoff))
				p->pages += c->pages;
			else
				l.r[m++] = *c;
		}
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		fputs("process\n", f);
		for (size_t j = 0; j < m; j++) {
			const struct lay_run *r = &l.r[j];
			fprintf(f, "  %s %c%c%c %s%s", r->kind == VM_KIND_FILE ? "file" : "anon", r->prot & 1 ? 'r' : '-',
				r->prot & 2 ? 'w' : '-', r->prot & 4 ? 'x' : '-',
				r->flags & VM_RANGE_SHARED ? "shared" : "private", r->flags & VM_RANGE_STACK ? " stack" : "");
			if (r->kind == VM_KIND_FILE)
				fprintf(f, " file=%u pgoff=0x%llx", r->file, (unsigned long long)r->pgoff);
			fprintf(f, " pages=%llu\n", (unsigned long long)r->pages);
		}
		fclose(f);
		blocks[i] = buf;
		xfree(l.r);
	}
	qsort(blocks, np, sizeof(*blocks), str_cmp);
	for (uint32_t i = 0; i < np; i++) {
		fputs(blocks[i], out->f);
		free(blocks[i]);
	}
	xfree(blocks);
	return 0;
}

/*
 * The timing reality check: per call type, the recorded latency (perf's
 * own cost per call, measured by the recipe, taken off) against the
 * simulated one: median, p90 and the ratio of medians. A report only.
 */
static void emit_timing(struct em *e, struct jd *jd, uint64_t overhead_ns)
{
	struct jd_timing t[EV_KINDS];
	uint32_t n = jd_timing(jd, t);
	em_u64(e, "timing_perf_overhead_ns", overhead_ns);
	for (uint32_t i = 0; i < n; i++) {
		char k[64];
#define K(what) (snprintf(k, sizeof(k), "timing_%s_%s", t[i].kind, what), k)
		em_u64(e, K("calls"), t[i].n);
		em_f64(e, K("recorded_median_ns"), t[i].rec_median);
		em_f64(e, K("recorded_p90_ns"), t[i].rec_p90);
		em_f64(e, K("simulated_median_ns"), t[i].sim_median);
		em_f64(e, K("simulated_p90_ns"), t[i].sim_p90);
		em_f64(e, K("ratio"), t[i].rec_median > 0 ? t[i].sim_median / t[i].rec_median : 0);
#undef K
	}
}

/* Option codes beyond the letters the common and system options use. */
enum { OPT_MISMATCHES = 0x200, OPT_MAX };

/* The state `mmsim replay` parses into. */
struct replay_args {
	const char *layout, *mismatches;
	uint64_t max;
	struct tr_import_opts io;
};

/* replay_opt: the options of `mmsim replay` itself (cli_args.opt). */
static int replay_opt(void *ctx, int opt, const char *arg)
{
	struct replay_args *a = ctx;
	switch (opt) {
	case 'Y': a->layout = arg; return 0;
	case 'N': a->io.no_compute = true; return 0;
	case OPT_MISMATCHES: a->mismatches = arg; return 0;
	case OPT_MAX: return cli_u64("replay", "max", arg, 1, UINT64_MAX, &a->max) ? 2 : 0;
	}
	return CLI_NOT_MINE;
}

static int cmd_replay(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim replay TRACE --design NAME [--cores N] [--json] [OPTIONS]\n\n"
		"Replays a trace against a design: every recorded thread runs on the simulated\n"
		"cores (round robin; threads sharing a core are time-sliced), every process has\n"
		"its own address space, recorded faults are replayed as accesses, and each\n"
		"fault's outcome is checked against the recording. TRACE is a binary trace, its\n"
		"text form, or perf script / strace output (imported on the fly). Prints the\n"
		"same result record as 'mmsim run', plus faults and fault_outcome_mismatches.\n\n"
		"  --layout FILE     after the replay, write each process's final layout (pages\n"
		"                    per protection and kind, independent of addresses) to FILE\n"
		"  --mismatches FILE write every mismatch (fault outcome or call result) to FILE,\n"
		"                    one per line (JSON lines with --json): its thread, event number\n"
		"                    and input line, what the recording says, what the design did and\n"
		"                    why, and the last memory call on that page\n"
		"  --max N           list at most N mismatches (default 1000; all are counted)\n"
		"  --no-compute      perf/strace input: drop the compute gaps\n"
		"  (without --cores: the CPUs the recording ran on, else its thread count, at most\n"
		"  the machine's cores; the result's cores_from says which)\n" SYS_HELP CLI_COMMON_HELP;
	static const struct option opts[] = { { "layout", required_argument, 0, 'Y' },
					      { "mismatches", required_argument, 0, OPT_MISMATCHES },
					      { "max", required_argument, 0, OPT_MAX },
					      { "no-compute", no_argument, 0, 'N' },
					      { 0, 0, 0, 0 } };
	/* argv[0] names the command in messages ("mmsim timeline" when timeline runs it). */
	const char *cmd = strncmp(argv[0], "mmsim ", 6) ? argv[0] : argv[0] + 6;
	struct replay_args ra = { 0 };
	struct cli_common o;
	cli_common_defaults(&o);
	struct sysopts so;
	sys_defaults(&so);
	struct cli_args ca = { .cmd = cmd, .help = help, .opts = opts, .opt = replay_opt, .ctx = &ra, .common = &o,
			       .sys = &so, .min_args = 1, .max_args = 1, .args_name = "one TRACE" };
	int rc0 = cli_parse(&ca, argc, argv);
	if (rc0 >= 0)
		return rc0;
	const char *layout = ra.layout, *mism = ra.mismatches;
	struct tr_import_opts io = ra.io;
	const char *in = argv[optind];
	char err[4200];
	const struct tr_importer *f = tr_detect(in, err, sizeof(err));
	if (!f)
		return cli_fail(cmd, "%s", err);
	char tmp[4200] = "";
	const char *path = in;
	double import_secs = 0;
	if (!f->native) {
		snprintf(tmp, sizeof(tmp), "%s/mmsim-replay-XXXXXX", util_tmpdir());
		int fd = mkstemp(tmp);
		if (fd < 0)
			return cli_fail(cmd, "%s: cannot make a temporary file: %s", tmp, strerror(errno));
		close(fd);
		struct tr_import_stats st;
		if (trace_convert(cmd, f, in, tmp, &io, &st, &import_secs)) {
			unlink(tmp);
			return 1;
		}
		path = tmp;
	}
	int ret = 1;
	/* The layout file is opened before the replay, so a path that cannot be written is refused first. */
	struct out lay;
	if (layout && out_open(&lay, layout, err, sizeof(err))) {
		layout = NULL;
		ret = cli_fail(cmd, "--layout: %s", err);
		goto out;
	}
	struct out mout;
	if (mism && out_open(&mout, mism, err, sizeof(err))) {
		mism = NULL;
		ret = cli_fail(cmd, "--mismatches: %s", err);
		goto out;
	}
	/* The whole trace is checked before anything is simulated. */
	struct tr_reader *rd = tr_open_checked(path, err, sizeof(err));
	if (!rd) {
		ret = cli_fail(cmd, "%s", err);
		goto out;
	}
	const struct tr_header *h = tr_reader_header(rd);
	/* Without --cores: as many cores as the recording ran on (else its threads), at most the machine's. */
	const char *cores_from = "--cores";
	if (!o.cores_set) {
		o.cores = h->cpus ? h->cpus : h->nthreads;
		cores_from = h->cpus ? "the CPUs the recording ran on" : "the recording's threads";
		if (o.cores > machine_max_cores(&o.m)) {
			o.cores = machine_max_cores(&o.m);
			cores_from = h->cpus ? "the CPUs the recording ran on, capped at the machine's cores"
					     : "the recording's threads, capped at the machine's cores";
		}
		if (!o.cores)
			o.cores = 1;
	}
	struct boot *b = sys_boot(&so, &o, cmd);
	if (!b) {
		tr_close(rd);
		goto out;
	}
	struct tr_replay *rp = tr_replay_new(path, h);
	struct ex *x = ex_create(b->sys);
	x->spawn = rp_spawn;
	x->spawn_ctx = rp;
	/* Every event judged: results in full, the mismatches listed, call latencies sampled. */
	tr_replay_judge_on(rp, o.mode == SIM_DET, mism ? (ra.max ? ra.max : 1000) : 0, o.m.freq_ghz, h->syscall_ns);
	x->judge = tr_replay_judge;
	x->judge_ctx = rp;
	uint64_t overhead_ns = h->syscall_ns;
	/* Files exist from the start, with the sizes the recording saw. */
	for (uint32_t i = 0; i < h->nfiles; i++)
		ex_file(x, h->files[i].id, h->files[i].size ? h->files[i].size : PAGE_SIZE);
	uint32_t core = 0, procs = 0;
	for (uint32_t i = 0; i < h->nthreads; i++)
		if (!h->threads[i].parent)
			ex_add_thread(x, h->threads[i].pid, h->threads[i].tid, tr_src_open(rp, h->threads[i].tid),
				      core++ % o.cores);
	for (uint32_t i = 0; i < h->nthreads; i++) {
		bool seen = false;
		for (uint32_t j = 0; j < i && !seen; j++)
			seen = h->threads[j].pid == h->threads[i].pid;
		procs += !seen;
	}
	uint32_t nthreads = h->nthreads, h_cpus = h->cpus;
	tr_close(rd);
	if (tl_request)
		tl_attach(b->sim, tl_request);
	ex_run(x);
	const char *base = strrchr(in, '/');
	int tl_status = 0;
	if (tl_request) {
		char heading[256];
		snprintf(heading, sizeof(heading), "%s, %s, %u cores", so.design, base ? base + 1 : in, o.cores);
		tl_status = tl_finish(b->sim, tl_request, heading, cmd);
	}
	if (x->err[0]) {
		ret = cli_fail(cmd, "%s", x->err);
	} else {
		struct em e;
		em_init(&e, stdout, o.json ? EM_JSON : EM_TABLE);
		em_begin(&e);
		report_emit(&e, &(struct report_in){ .o = &o, .b = b, .x = x, .workload = base ? base + 1 : in });
		em_str(&e, "trace", in);
		em_str(&e, "trace_format", f->name);
		em_str(&e, "cores_from", cores_from);
		em_u64(&e, "trace_cpus", h_cpus);
		em_u64(&e, "trace_threads", nthreads);
		em_u64(&e, "trace_processes", procs);
		struct tr_replay_stats rs;
		tr_replay_stats(rp, &rs);
		em_u64(&e, "trace_events", rs.events);
		em_u64(&e, "faults", rs.faults);
		em_u64(&e, "sync_waits", rs.sync_waits);
		em_u64(&e, "sync_timeouts", rs.sync_timeouts);
		struct jd *jd = tr_replay_jd(rp);
		emit_timing(&e, jd, overhead_ns);
		em_f64(&e, "host_import_seconds", import_secs);
		em_u64(&e, "host_max_rss_kb", trace_max_rss_kb());
		em_end(&e);
		ret = tl_status;
		if (mism) {
			jd_write(jd, mout.f, o.json);
			mism = NULL;
			if (out_commit(&mout, err, sizeof(err)))
				ret = cli_fail(cmd, "--mismatches: %s", err);
		}
		if (layout) {
			write_layout(x, &lay);
			layout = NULL;
			if (out_commit(&lay, err, sizeof(err)))
				ret = cli_fail(cmd, "--layout: %s", err);
		}
	}
	ex_destroy(x);
	tr_replay_free(rp);
	int64_t leaked = boot_destroy(b);
	if (leaked) {
		fprintf(stderr, "mmsim replay: %lld frames still in use after teardown (a leak in design '%s')\n",
			(long long)leaked, so.design);
		ret = 1;
	}
out:
	if (layout)
		out_abort(&lay);
	if (mism)
		out_abort(&mout);
	if (tmp[0])
		unlink(tmp);
	return ret;
}

const struct cli_cmd cli_cmd_replay = { "replay", "replay a trace against a design", cmd_replay };
