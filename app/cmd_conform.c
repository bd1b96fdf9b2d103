/* cmd_conform.c: `mmsim conform`: replay kernel ground truth (a recorded file, or one recorded now on this kernel with --live) against the reference model or a design. */
#include "app/args.h"
#include "conform/gt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The recorder: --recorder, else $MMSIM_GTREC, else mmsim-gtrec beside this program. */
static void recorder_path(const char *given, char *out, size_t n)
{
	const char *env = getenv("MMSIM_GTREC");
	if (given || (env && *env)) {
		snprintf(out, n, "%s", given ? given : env);
		return;
	}
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[len > 0 ? len : 0] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		slash[1] = 0;
	snprintf(out, n, "%.*smmsim-gtrec", (int)(n > 16 ? n - 16 : 0), slash ? self : "./");
}

/* Run the recorder into path. 0, or 2 with a message. */
static int record(const char *cmd, const char *rec, const char *path, uint64_t seed, uint64_t nseq, uint64_t ncalls)
{
	char s[32], q[32], c[32];
	snprintf(s, sizeof(s), "%llu", (unsigned long long)seed);
	snprintf(q, sizeof(q), "%llu", (unsigned long long)nseq);
	snprintf(c, sizeof(c), "%llu", (unsigned long long)ncalls);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return cli_fail(cmd, "fork: %s", strerror(errno));
	if (pid == 0) {
		execl(rec, rec, "--seed", s, "--sequences", q, "--calls", c, "-o", path, (char *)NULL);
		fprintf(stderr, "mmsim %s: cannot run the recorder %s: %s (build it, or give --recorder)\n", cmd, rec,
			strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return WIFEXITED(st) && WEXITSTATUS(st) == 127 ? 1 : cli_fail(cmd, "the recorder %s failed", rec);
	return 0;
}

static void emit_report(struct em *e, const char *prefix, const struct gt_report *rep, bool design)
{
	char k[64];
#define EMIT(name, v)                                              \
	do {                                                       \
		snprintf(k, sizeof(k), "%s%s", prefix, name);      \
		em_u64(e, k, v);                                   \
	} while (0)
	EMIT("result_mismatches", rep->result_mismatches);
	EMIT("layout_mismatches", rep->layout_mismatches);
	EMIT("resident_mismatches", rep->resident_mismatches);
	EMIT("vma_boundary_mismatches", rep->vma_boundary_mismatches);
	if (design) {
		EMIT("unsupported_calls", rep->unsupported_calls);
		EMIT("tlb_coherence_violations", rep->tlb_violations);
		snprintf(k, sizeof(k), "%sleaked_frames", prefix);
		em_i64(e, k, rep->leaked_frames);
	}
#undef EMIT
}

static bool failed(const struct gt_report *rep)
{
	return rep->result_mismatches || rep->layout_mismatches || rep->resident_mismatches || rep->tlb_violations ||
	       rep->leaked_frames;
}

static void print_msgs(const char *who, const struct gt_report *rep)
{
	for (uint32_t i = 0; i < rep->nmsgs; i++)
		fprintf(stderr, "%s: %s\n", who, rep->msgs[i]);
}

/* The state `mmsim conform` parses into. */
struct conform_args {
	const char *design, *keep, *rec_given;
	bool verbose, live;
	uint64_t nseq, ncalls;
};

/* conform_opt: the options of `mmsim conform` itself (cli_args.opt). */
static int conform_opt(void *ctx, int opt, const char *arg)
{
	struct conform_args *a = ctx;
	switch (opt) {
	case 'd': a->design = arg; return 0;
	case 'v': a->verbose = true; return 0;
	case 'l': a->live = true; return 0;
	case 'S': return cli_u64("conform", "sequences", arg, 1, 100000, &a->nseq) ? 2 : 0;
	case 'C': return cli_u64("conform", "calls", arg, 1, 10000, &a->ncalls) ? 2 : 0;
	case 'k': a->keep = arg; return 0;
	case 'r': a->rec_given = arg; return 0;
	}
	return CLI_NOT_MINE;
}

static int cmd_conform(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim conform --design NAME FILE [--json] [--verbose]\n"
		"       mmsim conform --live [--design NAME] [--sequences N] [--calls N] [--seed N]\n"
		"                     [--keep FILE] [--recorder PATH] [--json] [--verbose]\n\n"
		"Replays recorded Linux ground truth against a design, or against the reference model\n"
		"with --design reference, and compares after every call: the result or errno, the\n"
		"per-page protection and kind, residency (mincore), and (for designs with VMAs) the\n"
		"VMA boundaries. FILE is a recording such as tests/data/linux-6.18-seed1.txt.zst\n"
		"(9,000 calls a real kernel executed).\n\n"
		"--live records now, on the kernel this runs on: mmsim-gtrec (built beside mmsim) runs\n"
		"random sequences of mmap, munmap, mprotect, madvise (every advice), mremap, touches,\n"
		"fork, mlock, munlock, mlockall, msync, mincore, ftruncate and fallocate and writes\n"
		"what the kernel did, with its version and THP, KSM, overcommit and memlock settings;\n"
		"then the reference model, set up as that kernel, replays it (and the design, with\n"
		"--design). Residency that memory pressure or a daemon decides (after FREE, COLD,\n"
		"PAGEOUT, MERGEABLE, COLLAPSE) counts as right either way. Calls a design has no\n"
		"operation for (mlock, msync, ftruncate, ...) count as unsupported and mismatch.\n"
		"Each sequence's first mismatch is described (--verbose: always, on stderr). Exits 1\n"
		"if any result, layout or residency differs.\n\n"
		"  --design NAME     a design (see 'mmsim designs'), or 'reference'\n"
		"  --live            record on this kernel, then replay (the reference model always)\n"
		"  --sequences N     --live: sequences to record (default 100)\n"
		"  --calls N         --live: calls per sequence (default 30)\n"
		"  --keep FILE       --live: keep the recording in FILE (default: removed at the end)\n"
		"  --recorder PATH   --live: the recorder (default: $MMSIM_GTREC, else mmsim-gtrec\n"
		"                    beside mmsim)\n"
		"  --verbose         describe the first mismatches\n" CLI_COMMON_HELP;
	static const struct option opts[] = { { "design", required_argument, 0, 'd' },
					      { "verbose", no_argument, 0, 'v' },
					      { "live", no_argument, 0, 'l' },
					      { "sequences", required_argument, 0, 'S' },
					      { "calls", required_argument, 0, 'C' },
					      { "keep", required_argument, 0, 'k' },
					      { "recorder", required_argument, 0, 'r' },
					      { 0, 0, 0, 0 } };
	const char *cmd = "conform";
	struct conform_args a = { .nseq = 100, .ncalls = 30 };
	struct cli_common o;
	cli_common_defaults(&o);
	struct cli_args ca = { .cmd = cmd, .help = help, .opts = opts, .opt = conform_opt, .ctx = &a, .common = &o,
			       .max_args = 1, .args_name = "one ground-truth FILE" };
	int r = cli_parse(&ca, argc, argv);
	if (r >= 0)
		return r;
	const char *design = a.design, *keep = a.keep, *rec_given = a.rec_given;
	bool verbose = a.verbose, live = a.live;
	uint64_t nseq = a.nseq, ncalls = a.ncalls;
	if (!live && !design)
		return cli_error(cmd, "--design is required (a design name, or 'reference'), or --live");
	if (live ? optind != argc : optind + 1 != argc)
		return cli_error(cmd, live ? "--live takes no FILE" : "expected one ground-truth FILE");
	if (!live && (keep || rec_given))
		return cli_error(cmd, "--keep and --recorder go with --live");
	if (design && strcmp(design, "reference") && !vm_design_find(design))
		return cli_error(cmd, "--design: no design '%s' (try 'mmsim designs')", design);
	char path[PATH_MAX], rec[PATH_MAX];
	if (live) {
		if (keep)
			snprintf(path, sizeof(path), "%s", keep);
		else
			snprintf(path, sizeof(path), "%s/mmsim-live-%d.txt", util_tmpdir(), (int)getpid());
		recorder_path(rec_given, rec, sizeof(rec));
		if ((r = record(cmd, rec, path, o.seed, nseq, ncalls)))
			return r;
	} else {
		snprintf(path, sizeof(path), "%s", argv[optind]);
	}
	struct gt g;
	char err[512];
	r = gt_load(&g, path, err, sizeof(err));
	if (live && !keep)
		unlink(path);
	if (r)
		return cli_fail(cmd, "%s", err);
	if (!g.n) {
		gt_free(&g);
		return cli_fail(cmd, "%s: no sequence in it: not ground truth", path);
	}
	/* The reference model (always with --live), then the design. */
	bool run_ref = live || !strcmp(design, "reference");
	bool run_design = design && strcmp(design, "reference");
	struct gt_report ref = { 0 }, des = { 0 };
	if (run_ref) {
		struct gt_target *t = gt_ref_target(&g);
		gt_replay(&g, t, &ref);
		gt_ref_target_free(t);
	}
	if (run_design && gt_replay_design(&g, design, &o.m, &des, err, sizeof(err))) {
		gt_free(&g);
		return cli_error(cmd, "--design: %s", err);
	}
	struct em e;
	em_init(&e, stdout, o.json ? EM_JSON : EM_TABLE);
	em_begin(&e);
	em_str(&e, "design", design ? design : "reference");
	em_str(&e, "file", live ? (keep ? keep : "(live, removed)") : path);
	if (g.kernel[0])
		em_str(&e, "kernel", g.kernel);
	em_u64(&e, "sequences", run_ref ? ref.sequences : des.sequences);
	em_u64(&e, "calls", run_ref ? ref.calls : des.calls);
	if (live) {
		emit_report(&e, "reference_", &ref, false);
		if (run_design)
			emit_report(&e, "design_", &des, true);
	} else {
		emit_report(&e, "", run_ref ? &ref : &des, run_design);
	}
	em_end(&e);
	bool bad = (run_ref && failed(&ref)) || (run_design && failed(&des));
	if (verbose || (!o.json && bad)) {
		if (run_ref && (verbose || failed(&ref)))
			print_msgs("reference", &ref);
		if (run_design && (verbose || failed(&des)))
			print_msgs(design, &des);
	}
	gt_free(&g);
	return bad ? 1 : 0;
}

const struct cli_cmd cli_cmd_conform = { "conform", "replay Linux ground truth (recorded, or --live on this kernel) against a design",
					 cmd_conform };
