/* cmd_calibrate.c: `mmsim calibrate -o FILE`: measure this host's kernel and hardware, write a machine file, validate it. */
#define _GNU_SOURCE
#include "app/calib.h"
#include "app/cli.h"
#include "io/out.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static const char *help =
	"usage: mmsim calibrate -o FILE [--quick] [--force] [--tolerance PCT] [--base PRESET]\n"
	"       mmsim calibrate --recorded-program ROUNDS\n\n"
	"Measures this host's real kernel and hardware and writes a machine description\n"
	"(the format --machine reads) in which every value says where it came from:\n"
	"CPUID, a measurement (benchmark, median of N, 95% confidence interval, host,\n"
	"date), a fit, or kept from a named preset. Each measurement is repeated until\n"
	"the 95% confidence interval of its median is within +-10%, or given up after a\n"
	"bound; a file is not written from measurements too noisy to trust (unless\n"
	"--force). Fitted on one set of benchmarks (clock, system call, page zeroing, a\n"
	"zero-page read fault, cache-line transfer, shootdown, the TLB reach curve);\n"
	"validated on another that was not fitted: the five operations of the paper's\n"
	"microbenchmarks, real against `mmsim run --design linux --machine FILE`, and a\n"
	"recording: `mmsim record` (perf) of a small program, replayed on FILE, each\n"
	"call's recorded latency against the simulated one (skipped, saying why, where\n"
	"the host cannot record).\n"
	"Real timings on a shared machine move a lot: quote medians, on a quiet host.\n\n"
	"  -o, --output FILE  the machine file to write (whole or not at all)\n"
	"  --quick            few samples and reach-curve points (a smoke test: CI)\n"
	"  --force            write the file even if some measurement stayed too noisy\n"
	"  --tolerance PCT    the 95% CI of each median must be within +-PCT% (default 10)\n"
	"  --base PRESET      preset whose values are kept where nothing is measured\n"
	"                     (default: epyc9965 on AMD Zen 5, zen4 on other AMD, goldencove on Intel)\n"
	"  --recorded-program ROUNDS\n"
	"                     run the program the recording validation records (ROUNDS\n"
	"                     rounds of mmap, write, mprotect, munmap) and exit\n"
	"  --help             this text\n";

static const char *const names_fit[CM_NFIT] = { "clock",	  "syscall",	   "zero",	    "read-fault",
						"mprotect", "mprotect-virt", "line-transfer", "munmap-shared" };

static void show(const char *name, const struct cal_m *m, const char *unit)
{
	fprintf(stderr, "  %-14s %9.2f %-4s median of %2u, 95%% CI %.2f-%.2f (+-%.0f%%)%s\n", name, m->e.median, unit, m->e.n,
		m->e.lo, m->e.hi, isfinite(m->e.rel) ? 100 * m->e.rel : 999.0, m->e.ok ? "" : "  NOISY: gave up");
}

static void measure(struct calib *c, struct cal_m *m, const char *name, const char *bench, double (*fn)(void *),
		    void *arg, bool fit, const char *unit)
{
	double *v = xmalloc(sizeof(double) * c->plan.max);
	m->name = name;
	m->bench = bench;
	m->fit = fit;
	m->e = hm_measure(fn, arg, &c->plan, v);
	m->done = true;
	xfree(v);
	show(name, m, unit);
}

/* The derived reach-curve costs of one curve t[]: STLB hit (128 against 32 pages), walk (8192 against 2048), L1 step. */
static void derive(const struct calib *c, const double *t, double *stlb, double *walk, uint32_t *lo, uint32_t *hi)
{
	int i32 = calib_chase_index(c, 32), i128 = calib_chase_index(c, 128), i2k = calib_chase_index(c, 2048),
	    i8k = calib_chase_index(c, 8192);
	*stlb = t[i128] - t[i32];
	*walk = t[i8k] - t[i2k];
	*lo = *hi = 0;
	for (uint32_t i = 1; i < c->nchase && c->chase_n[i] <= 256; i++)
		if (t[i] > t[0] + *stlb / 2) {
			*lo = c->chase_n[i - 1];
			*hi = c->chase_n[i];
			break;
		}
}

/* direction: a 2-thread/1-thread ratio in words (5% either way counts as flat: real medians move that much). */
static const char *direction(double r) { return r > 1.05 ? "up" : r < 0.95 ? "down" : "flat"; }

static void report(struct calib *c, const struct machine *m)
{
	double real[CAL_MAX_CHASE];
	printf("TLB reach curve: page-stride pointer chase, one access per page in a random cyclic order (ns per access;\n"
	       "real: median over samples, data included; simulated: translation only, mmsim charges no data latency)\n");
	printf("%8s %12s %14s %14s\n", "pages", "real", "sim (native)", "sim (file)");
	for (uint32_t i = 0; i < c->nchase; i++) {
		real[i] = c->chase[i].e.median;
		printf("%8u %12.2f %14.2f %14.2f\n", c->chase_n[i], real[i], c->sim_chase_native[i], c->sim_chase[i]);
	}
	double rs, rw, ss, sw;
	uint32_t rlo, rhi, slo, shi;
	derive(c, real, &rs, &rw, &rlo, &rhi);
	derive(c, c->sim_chase, &ss, &sw, &slo, &shi);
	printf("  L1 DTLB step: real between %u and %u pages, simulated between %u and %u (CPUID: %u entries)\n", rlo, rhi,
	       slo, shi, c->cpu.l1d_4k.entries);
	printf("  STLB hit (128 against 32 pages): real %.2f ns, simulated %.2f ns, ratio %.2f\n", rs, ss, rs > 0 ? ss / rs : NAN);
	printf("  walk (8192 against 2048 pages): real %.2f ns, simulated %.2f ns, ratio %.2f%s\n", rw, sw, rw > 0 ? sw / rw : NAN,
	       m->npt ? " (nested paging on)" : "");
	printf("\nValidation (not fitted): 1 thread, real kernel against mmsim run --design linux --machine FILE\n");
	printf("mmap's requests on the host %s (/proc/self/maps)%s\n",
	       c->mmap_merges == 1 ? "merge with the anonymous mapping beside them"
	       : c->mmap_merges == 0 ? "merge with no mapping" : "merge or not: unknown",
	       c->mmap_merges == 1 ? "; the simulated program maps one there first" : "");
	printf("%-12s %12s %20s %12s %8s\n", "op", "real ns/op", "95% CI", "mmsim ns/op", "ratio");
	for (int i = 0; i < HM_NOPS; i++) {
		const struct cal_m *o = &c->ops[i];
		char ci[40];
		snprintf(ci, sizeof(ci), "%.0f-%.0f%s", o->e.lo, o->e.hi, o->e.ok ? "" : " noisy");
		printf("%-12s %12.0f %20s %12.0f %8.2f\n", hm_op_names[i], o->e.median, ci, c->sim_ops[i],
		       o->e.median > 0 ? c->sim_ops[i] / o->e.median : NAN);
	}
	if (!c->ops2[0].done)
		return;
	printf("\nTwo threads against one (latency of a request, 2 threads / 1 thread; the direction should agree:\n"
	       "up above 1.05, down below 0.95, flat between)\n");
	printf("%-12s %12s %12s %12s %12s %4s\n", "op", "real 2T ns", "real 2T/1T", "mmsim 2T ns", "mmsim 2T/1T", "same");
	for (int i = 0; i < HM_NOPS; i++) {
		double r = c->ops2[i].e.median / c->ops[i].e.median, s = c->sim_ops2[i] / c->sim_ops[i];
		const char *dr = direction(r), *ds = direction(s);
		printf("%-12s %12.0f %5.2f %-6s %12.0f %5.2f %-6s %4s\n", hm_op_names[i], c->ops2[i].e.median, r, dr,
		       c->sim_ops2[i], s, ds, dr == ds ? "yes" : "no");
	}
}

static int calibrate(struct calib *c, const char *outpath)
{
	const char *cmd = "calibrate";
	/* The output first: a path that cannot be written fails before minutes of measuring. */
	struct out o;
	char err[4200];
	if (out_open(&o, outpath, err, sizeof(err)))
		return cli_fail(cmd, "%s", err);
	int ncpu = hm_ncpus();
	if (hm_pin(0))
		fprintf(stderr, "mmsim calibrate: cannot pin to CPU 0; measuring unpinned\n");
	fprintf(stderr, "mmsim calibrate: %s, %s; %d CPUs; preset kept where nothing is measured: %s\n",
		c->cpu.brand[0] ? c->cpu.brand : c->cpu.vendor, c->cpu.is_vm ? "a virtual machine" : "bare metal", ncpu, c->base);
	fprintf(stderr, "fitted from:\n");
	measure(c, &c->m[CM_CLOCK], names_fit[CM_CLOCK], "median of 15 runs of 400k dependent adds against CLOCK_MONOTONIC", hm_clock_sample, NULL,
		true, "GHz");
	measure(c, &c->m[CM_SYSCALL], names_fit[CM_SYSCALL], "getppid(), median of 1000 timed calls", hm_syscall, NULL, true, "ns");
	measure(c, &c->m[CM_ZERO], names_fit[CM_ZERO], "rep stosb of 4 KiB, median of 512 timed pages over 64 MiB", hm_zero, NULL, true, "ns");
	measure(c, &c->m[CM_RFAULT], names_fit[CM_RFAULT], "read of an untouched page (zero-page fault), median of 512", hm_read_fault,
		NULL, true, "ns");
	measure(c, &c->m[CM_MPROTECT], names_fit[CM_MPROTECT], "mprotect of one touched page, median of 256",
		hm_mprotect, NULL, true, "ns");
	measure(c, &c->m[CM_MPROTECT_UNTOUCHED], names_fit[CM_MPROTECT_UNTOUCHED],
		"mprotect of one untouched page, median of 256", hm_mprotect, (void *)1, true, "ns");
	hm_pin(0);
	calib_chase_points(c);
	for (uint32_t i = 0; i < c->nchase; i++) {
		char nm[32];
		snprintf(nm, sizeof(nm), "chase %u", c->chase_n[i]);
		c->chase[i].name = NULL;
		measure(c, &c->chase[i], "", "", hm_chase, &c->chase_n[i], true, "ns");
		fprintf(stderr, "    (%s pages)\n", nm + 6);
		c->chase[i].name = "reach curve";
		c->chase[i].bench = "page-stride pointer chase";
	}
	fprintf(stderr, "validation (not fitted):\n");
	static enum hm_op ops[HM_NOPS] = { HM_MMAP, HM_MMAP_PF, HM_PF, HM_MUNMAP_VIRT, HM_MUNMAP };
	c->mmap_merges = hm_mmap_merges();
	for (int i = 0; i < HM_NOPS; i++)
		measure(c, &c->ops[i], hm_op_names[i], hm_op_names[i], hm_op, &ops[i], false, "ns");
	for (int i = 0; i < HM_NOPS && ncpu >= 2; i++)
		measure(c, &c->ops2[i], hm_op_names[i], hm_op_names[i], hm_op2, &ops[i], false, "ns (2 threads)");
	/* The pair benchmarks last: before them, this process has never run on CPU 1. */
	fprintf(stderr, "fitted from (two CPUs):\n");
	if (ncpu >= 2) {
		measure(c, &c->m[CM_PINGPONG], names_fit[CM_PINGPONG], "ping-pong of one line between CPUs 0 and 1, median of 15 runs of 1000",
			hm_pingpong, NULL, true, "ns");
		measure(c, &c->m[CM_SHARED_MUNMAP], names_fit[CM_SHARED_MUNMAP],
			"munmap of one touched page with a second thread spinning on CPU 1, median of 512", hm_munmap_shared, NULL, true,
			"ns");
	} else {
		fprintf(stderr, "  (one CPU: no line transfer or shootdown measured; those keys are kept from %s)\n", c->base);
	}

	/* Refuse before writing anything if a fitted measurement stayed too noisy. */
	struct hm_est est[CM_NFIT + CAL_MAX_CHASE];
	const char *nm[CM_NFIT + CAL_MAX_CHASE];
	size_t n = 0;
	for (int i = 0; i < CM_NFIT; i++)
		if (c->m[i].done && c->m[i].fit) {
			est[n] = c->m[i].e;
			nm[n++] = c->m[i].name;
		}
	for (uint32_t i = 0; i < c->nchase; i++) {
		est[n] = c->chase[i].e;
		nm[n++] = "a point of the reach curve";
	}
	char why[256];
	if (!hm_verdict(est, nm, n, c->force, why, sizeof(why))) {
		out_abort(&o);
		return cli_fail(cmd, "too noisy to write a machine file: %s (rerun on a quieter host, or --force)", why);
	}
	if (why[0])
		fprintf(stderr, "mmsim calibrate: warning: --force: %s; the file says which values are noisy\n", why);

	struct machine m;
	char *text = calib_text(c, &m, err, sizeof(err));
	if (!text) {
		out_abort(&o);
		return cli_fail(cmd, "the fitted file does not load: %s", err);
	}
	for (int i = 0; i < HM_NOPS; i++) {
		c->sim_ops[i] = calib_sim_op(&m, hm_op_names[i], 1, c->mmap_merges == 1);
		c->sim_ops2[i] = c->ops2[i].done ? calib_sim_op(&m, hm_op_names[i], 2, c->mmap_merges == 1) : NAN;
	}
	report(c, &m);
	calib_rec_validate(text, c->quick ? 200 : 2000);

	out_write(&o, text, strlen(text));
	free(text);
	if (out_commit(&o, err, sizeof(err)))
		return cli_fail(cmd, "%s", err);
	fprintf(stderr, "mmsim calibrate: wrote %s\n", outpath);
	return 0;
}

static int cmd_calibrate(int argc, char **argv)
{
	const char *cmd = "calibrate";
	static const struct option opts[] = { CLI_OPT_OUTPUT, { "quick", no_argument, 0, 'Q' },
					      { "force", no_argument, 0, 'f' },	    { "base", required_argument, 0, 'b' },
					      { "tolerance", required_argument, 0, 't' },
					      { "recorded-program", required_argument, 0, 'P' },
					      { "help", no_argument, 0, 'h' },	    { 0, 0, 0, 0 } };
	static struct calib c;
	memset(&c, 0, sizeof(c));
	const char *out = NULL;
	double tol = 10;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'Q':
			c.quick = true;
			break;
		case 'f':
			c.force = true;
			break;
		case 'b':
			c.base = optarg;
			break;
		case 't': {
			char *end;
			tol = strtod(optarg, &end);
			if (end == optarg || *end || !(tol > 0 && tol <= 100))
				return cli_error(cmd, "--tolerance: '%s' is not a percentage in (0, 100]", optarg);
			break;
		}
		case 'P': {
			char *end;
			unsigned long r = strtoul(optarg, &end, 10);
			if (end == optarg || *end || r < 1 || r > 1000000)
				return cli_error(cmd, "--recorded-program: '%s' is not a round count in 1..1000000", optarg);
			if (hm_program((unsigned)r))
				return cli_fail(cmd, "--recorded-program: the host refused a call: %s", strerror(errno));
			return 0;
		}
		case 'h':
			fputs(help, stdout);
			return 0;
		case ':':
			return cli_error(cmd, "%s needs a value", argv[optind - 1]);
		default:
			return cli_error(cmd, "unknown option '%s' (try 'mmsim calibrate --help')", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!out)
		return cli_error(cmd, "-o FILE is required (the machine file to write)");
	hm_cpu_read(&c.cpu);
	if (!c.base)
		/* Intel: Golden Cove; AMD family 0x1A (Zen 5): epyc9965; other AMD: zen4. */
		c.base = !strcmp(c.cpu.vendor, "GenuineIntel") ? "goldencove" : c.cpu.family == 0x1a ? "epyc9965" : "zen4";
	if (!machine_preset_text(c.base))
		return cli_error(cmd, "--base: no preset '%s' (try 'mmsim machine list')", c.base);
	c.plan = c.quick ? (struct hm_plan){ 8, 10, tol / 100 } : (struct hm_plan){ 10, 41, tol / 100 };
	if (gethostname(c.host, sizeof(c.host) - 1))
		strcpy(c.host, "unknown-host");
	struct utsname u;
	if (!uname(&u))
		snprintf(c.kernel, sizeof(c.kernel), "%s %s", u.sysname, u.release);
	time_t now = time(NULL);
	strftime(c.date, sizeof(c.date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	return calibrate(&c, out);
}

const struct cli_cmd cli_cmd_calibrate = { "calibrate", "measure this host and write a machine file fitted to it",
					   cmd_calibrate };
