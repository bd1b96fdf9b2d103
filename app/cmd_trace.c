/* cmd_trace.c: the trace commands but replay: `mmsim import`, `record`, `trace-dump` and `trace-compile`. */
#include "app/report.h"
#include "app/trace_cmd.h"
#include "app/args.h"
#include "io/out.h"
#include "app/timeline.h"
#include "sim/util.h"
#include "traces/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ---- */

uint64_t trace_max_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_maxrss;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

/* The default output of an import or compile: NAME.mmtrace in the current directory, NAME from the input. */
static void default_out(const char *in, char *out, size_t n)
{
	const char *b = strrchr(in, '/');
	b = b ? b + 1 : in;
	char name[1024];
	snprintf(name, sizeof(name), "%s", b);
	static const char *const sufs[] = { ".xz", ".zst", ".txt", ".perf", ".strace", ".text", NULL };
	for (int i = 0; sufs[i]; i++)
		if (ends_with(name, sufs[i]) && strlen(name) > strlen(sufs[i]))
			name[strlen(name) - strlen(sufs[i])] = 0;
	snprintf(out, n, "%s.mmtrace", name);
}


int trace_convert(const char *cmd, const struct tr_importer *imp, const char *in, const char *out,
		   const struct tr_import_opts *io, struct tr_import_stats *st, double *secs)
{
	char err[1024];
	double t0 = util_clock_sec(CLOCK_MONOTONIC);
	if (tr_import(imp, in, out, io, st, err, sizeof(err))) {
		cli_fail(cmd, "%s", err);
		return -1;
	}
	*secs = util_clock_sec(CLOCK_MONOTONIC) - t0;
	return 0;
}

/*
 * print_import: the summary import and record print on stdout (a table, or
 * JSON): the input (named `in`), output, format, what the import found and
 * its host cost, and perf's cost per call when perf_cost_ns is given.
 */
static void print_import(bool json, const char *in, const char *out, const char *fmt, const struct tr_import_stats *st,
			 double secs, const uint64_t *perf_cost_ns)
{
	struct em em, *e = &em;
	em_init(e, stdout, json ? EM_JSON : EM_TABLE);
	em_begin(e);
	em_str(e, "input", in);
	em_str(e, "output", out);
	em_str(e, "format", fmt);
	/* The counts, by their keys in the summary (struct tr_import_stats says what each counts). */
	const struct {
		const char *key;
		uint64_t v;
	} counts[] = { { "lines", st->lines },		 { "events", st->events },
		       { "faults", st->faults },	 { "syscalls", st->syscalls },
		       { "signals", st->signals },	 { "threads", st->threads },
		       { "processes", st->processes },	 { "files", st->files },
		       { "absolute_addresses", st->absolute }, { "dropped_calls", st->dropped },
		       { "duplicate_lines", st->duplicates }, { "sleeps", st->sleeps },
		       { "unjudged_faults", st->unjudged } };
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++)
		em_u64(e, counts[i].key, counts[i].v);
	em_f64(e, "host_seconds", secs);
	em_f64(e, "host_lines_per_sec", secs > 0 ? (double)st->lines / secs : 0);
	em_u64(e, "host_max_rss_kb", trace_max_rss_kb());
	if (perf_cost_ns)
		em_u64(e, "perf_cost_per_call_ns", *perf_cost_ns);
	em_end(e);
}

/* ---- mmsim import ---- */

/* The options import and record share (imp_opt handles them), and their help. */
#define IMP_OPTS CLI_OPT_OUTPUT, { "no-compute", no_argument, 0, 'N' }, { "json", no_argument, 0, 'j' }
#define IMP_HELP                                                                  \
	"  --no-compute      drop the compute gaps between a thread's events\n"       \
	"  --json            print the import summary as one JSON object\n"           \
	"  --help            this text\n"

/* The state `mmsim import` and `mmsim record` parse into. */
struct imp_args {
	const char *out, *keep, *buffer;
	uint64_t null_calls;
	struct tr_import_opts io;
	bool json;
};

/* imp_opt: the options of import and record (cli_args.opt). */
static int imp_opt(void *ctx, int opt, const char *arg)
{
	struct imp_args *a = ctx;
	switch (opt) {
	case 'o': a->out = arg; return 0;
	case 'P': a->keep = arg; return 0;
	case 'N': a->io.no_compute = true; return 0;
	case 'j': a->json = true; return 0;
	case 'B': {
		uint64_t v;
		if (cli_u64("record", "buffer", arg, 1, 1u << 20, &v))
			return 2;
		if (v & (v - 1))
			return cli_error("record", "--buffer: %s pages is not a power of 2 (perf record -m needs one)", arg);
		a->buffer = arg;
		return 0;
	}
	case 'Z': return cli_u64("record", "null-calls", arg, 1, 1u << 24, &a->null_calls) ? 2 : 0;
	}
	return CLI_NOT_MINE;
}

/*
 * imp_parse: parse the command line of import or record into *ia (zeroed
 * here): `cmd`'s own option table `opts` (IMP_OPTS and more), getopt's
 * `shortopts`, and min..max operands named `args_name`. Returns cli_parse's
 * result: -1 to go on (operands at optind), else the exit status.
 */
static int imp_parse(struct imp_args *ia, const char *cmd, const char *help, const struct option *opts,
		     const char *shortopts, int min, int max, const char *args_name, int argc, char **argv)
{
	*ia = (struct imp_args){ 0 };
	struct cli_args ca = { .cmd = cmd, .help = help, .opts = opts, .shortopts = shortopts, .opt = imp_opt,
			       .ctx = ia, .min_args = min, .max_args = max, .args_name = args_name };
	return cli_parse(&ca, argc, argv);
}

static int cmd_import(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim import perf|strace|text|binary FILE [-o OUT] [--no-compute] [--json]\n\n"
		"Turns a recording into an mmsim trace (docs/trace-format.md): 'perf' reads\n"
		"`perf script --show-mmap-events --show-task-events` output of the recipe in\n"
		"docs/trace-format.md (or 'mmsim record'), 'strace' reads `strace -f -ttt -e\n"
		"trace=%memory,process` output, 'text' the text form of a trace (as\n"
		"trace-compile), 'binary' a binary trace (a checked copy). FILE may be plain,\n"
		".xz or .zst.\n\n"
		"  -o, --output OUT  the trace to write (default: NAME.mmtrace from FILE's name)\n" IMP_HELP;
	static const struct option opts[] = { IMP_OPTS, { 0, 0, 0, 0 } };
	const char *cmd = "import";
	struct imp_args ia;
	int rc0 = imp_parse(&ia, cmd, help, opts, "o:", 2, 2, "a format (perf, strace, text or binary) and one FILE",
			    argc, argv);
	if (rc0 >= 0)
		return rc0;
	const char *out = ia.out;
	const struct tr_importer *f = tr_importer_find(argv[optind]);
	if (!f)
		return cli_error(cmd, "'%s' is not a format to import (perf, strace, text or binary)", argv[optind]);
	const char *in = argv[optind + 1];
	char outbuf[1100];
	if (!out) {
		default_out(in, outbuf, sizeof(outbuf));
		out = outbuf;
	}
	struct tr_import_stats st;
	double secs;
	if (trace_convert(cmd, f, in, out, &ia.io, &st, &secs))
		return 1;
	print_import(ia.json, in, out, f->name, &st, secs, NULL);
	return 0;
}

/* ---- mmsim trace-dump, trace-compile ---- */

/* The two conversions: a command's name, its operand, its help, and what it runs (see convert). */
static const struct conv_cmd {
	const char *cmd, *what, *help;
	bool default_name;
	int (*conv)(const char *in, const char *out, char *err, size_t errlen);
} conv_cmds[] = {
	{ "trace-dump", "TRACE",
	  "usage: mmsim trace-dump TRACE [-o OUT]\n\nWrites a binary mmsim trace in its text form (docs/trace-format.md), "
	  "which\n'mmsim trace-compile' turns back into the same trace.\n\n"
	  "  -o, --output OUT  write here instead of standard output\n  --help            this text\n",
	  false, tr_dump },
	{ "trace-compile", "TEXT file",
	  "usage: mmsim trace-compile TEXT [-o OUT]\n\nTurns the text form of a trace (docs/trace-format.md; plain, .xz or "
	  ".zst)\ninto the binary form. Errors name the line.\n\n"
	  "  -o, --output OUT  the trace to write (default: NAME.mmtrace from TEXT's name)\n  --help            this text\n",
	  true, tr_compile },
};

/*
 * convert: the body of both commands: one input file (named c->what in the
 * error) and -o OUT, then c->conv(in, out). With c->default_name, no -o
 * writes NAME.mmtrace beside the input's name. The exit status.
 */
static int convert(const struct conv_cmd *c, int argc, char **argv)
{
	const char *out = NULL;
	int rc = cli_opt_output(c->cmd, c->help, argc, argv, &out, c->what);
	if (rc >= 0)
		return rc;
	char outbuf[1100], err[1024];
	if (!out && c->default_name) {
		default_out(argv[optind], outbuf, sizeof(outbuf));
		out = outbuf;
	}
	return c->conv(argv[optind], out, err, sizeof(err)) ? cli_fail(c->cmd, "%s", err) : 0;
}

static int cmd_dump(int argc, char **argv)
{
	return convert(&conv_cmds[0], argc, argv);
}

static int cmd_compile(int argc, char **argv)
{
	return convert(&conv_cmds[1], argc, argv);
}

/* ---- mmsim record ---- */

/* path of an executable named `name` on PATH (or name itself if it holds a '/'), or false. */
static bool which(const char *name, char *out, size_t n)
{
	if (strchr(name, '/')) {
		snprintf(out, n, "%s", name);
		return access(out, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t k = strcspn(path, ":");
		snprintf(out, n, "%.*s/%s", (int)k, path, name);
		if (k && access(out, X_OK) == 0)
			return true;
		path += k + (path[k] == ':');
	}
	return false;
}

/* run: argv with stdout inherited (cli_spawn). run_append: with stdout appended to out_path. */
static int run(char *const *argv, const char *out_path) { return cli_spawn(argv, out_path, NULL, false); }
static int run_append(char *const *argv, const char *out_path) { return cli_spawn(argv, out_path, NULL, true); }

/* Copy the file src to dst. 0, or -1 (errno set). */
static int copy_file(const char *src, const char *dst)
{
	FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
	char buf[1 << 16];
	size_t n;
	bool bad = !in || !out;
	while (!bad && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		bad = fwrite(buf, 1, n, out) != n;
	bad |= in && ferror(in);
	if (in)
		fclose(in);
	if (out)
		bad |= fclose(out) != 0;
	return bad ? -1 : 0;
}

static const char *const tracefs_dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing", NULL };

/* Whether the kernel offers the tracepoints the recipe records; otherwise print what to do. */
static bool check_kernel(const char *cmd)
{
	static const char *const events[] = { "exceptions/page_fault_user", "raw_syscalls/sys_enter",
					      "raw_syscalls/sys_exit", "signal/signal_deliver",
					      "sched/sched_process_fork", NULL };
	const char *fs = NULL;
	bool denied = false;
	for (int i = 0; tracefs_dirs[i]; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/events", tracefs_dirs[i]);
		if (access(p, R_OK | X_OK) == 0) {
			fs = tracefs_dirs[i];
			break;
		}
		denied |= errno == EACCES;
	}
	if (!fs) {
		if (denied)
			cli_error(cmd, "cannot read the kernel's tracing directory (/sys/kernel/tracing): run as root, or "
				       "make tracefs readable (mount -o remount,mode=755 /sys/kernel/tracing)");
		else
			cli_error(cmd, "no tracefs: mount it (mount -t tracefs nodev /sys/kernel/tracing); the kernel "
				       "needs CONFIG_TRACEPOINTS and CONFIG_FTRACE_SYSCALLS");
		return false;
	}
	for (int i = 0; events[i]; i++) {
		char p[300];
		snprintf(p, sizeof(p), "%s/events/%s", fs, events[i]);
		if (access(p, F_OK)) {
			cli_error(cmd, "this kernel has no %s tracepoint (%s): recording needs an x86-64 kernel with "
				       "CONFIG_TRACEPOINTS and CONFIG_FTRACE_SYSCALLS",
				  events[i], p);
			return false;
		}
	}
	if (geteuid() != 0) {
		FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
		int level = 2;
		if (f) {
			if (fscanf(f, "%d", &level) != 1)
				level = 2;
			fclose(f);
		}
		if (level > -1) {
			cli_error(cmd, "kernel.perf_event_paranoid is %d: recording tracepoints as a user needs -1 "
				       "(sudo sysctl kernel.perf_event_paranoid=-1) or CAP_PERFMON, or run as root",
				  level);
			return false;
		}
	}
	return true;
}

/* The recipe's filter: the calls the importers follow (docs/trace-format.md). */
static char recipe_filter[] =
	"id == 3 || id == 9 || id == 10 || id == 11 || id == 12 || id == 25 || id == 26 || id == 27 || id == 28 || "
	"id == 29 || id == 30 || id == 56 || id == 57 || id == 58 || id == 59 || id == 60 || id == 67 || id == 77 || "
	"id == 149 || id == 150 || id == 151 || id == 152 || id == 231 || id == 285 || id == 325 || id == 329 || "
	"id == 435";
#define NULL_CALL_NR 110 /* getppid: the null call whose recorded latency is perf's own cost */
#define NULL_CALLS 2000

/*
 * perf record of the recipe into data, with filter (repeated after each
 * raw_syscalls event: a filter binds to one event) and a ring buffer of
 * `pages` pages per CPU (0: perf's default), running cmd. perf's exit status.
 */
static int perf_record(char *perf, char *filter, const char *pages, char *data, char **cmd, int ncmd)
{
	char **av = xzalloc(sizeof(char *) * (size_t)(ncmd + 40));
	int k = 0;
	static char a_record[] = "record", a_d[] = "-d", a_e[] = "-e", a_pf[] = "exceptions:page_fault_user",
		    a_enter[] = "raw_syscalls:sys_enter", a_exit[] = "raw_syscalls:sys_exit", a_filter[] = "--filter",
		    a_sig[] = "signal:signal_deliver", a_fork[] = "sched:sched_process_fork",
		    a_pexit[] = "sched:sched_process_exit", a_pexec[] = "sched:sched_process_exec", a_o[] = "-o",
		    a_m[] = "-m", a_dd[] = "--", a_sw[] = "--switch-events";
	char *pre[] = { perf,	a_record, a_d,	    a_e, a_pf,	   a_e, a_enter, a_filter, filter, a_e,	    a_exit, a_filter,
			filter, a_e,	  a_sig,    a_e, a_fork,   a_e, a_pexit, a_e,	   a_pexec, a_sw, a_o,    data };
	for (size_t i = 0; i < ARRAY_SIZE(pre); i++)
		av[k++] = pre[i];
	if (pages) {
		av[k++] = a_m;
		av[k++] = (char *)pages;
	}
	av[k++] = a_dd;
	for (int i = 0; i < ncmd; i++)
		av[k++] = cmd[i];
	av[k] = NULL;
	int rc = run(av, NULL);
	xfree(av);
	return rc;
}

/* perf script of data into text (after what text holds already), with the records the importer reads. */
static int perf_script(char *perf, char *data, const char *text)
{
	static char a_script[] = "script", a_i[] = "-i", a_mm[] = "--show-mmap-events", a_task[] = "--show-task-events",
		    a_lost[] = "--show-lost-events", a_ns[] = "--ns", a_sw[] = "--show-switch-events";
	char *sv[] = { perf, a_script, a_i, data, a_mm, a_task, a_lost, a_sw, a_ns, NULL };
	return run_append(sv, text);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * perf's own cost per recorded system call: the median recorded latency of
 * NULL_CALLS getppid calls made under the same recipe (filtered to that
 * call) by `mmsim record --null-calls`. 0 if it cannot be measured.
 */
static uint64_t null_call_cost(char *perf, const char *dir, const char *pages)
{
	char data[4200], text[4200], self[4096], nr[32], n[32], filter[64];
	snprintf(data, sizeof(data), "%s/null.data", dir);
	snprintf(text, sizeof(text), "%s/null.txt", dir);
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return 0;
	self[len] = 0;
	snprintf(n, sizeof(n), "%d", NULL_CALLS);
	snprintf(filter, sizeof(filter), "id == %d", NULL_CALL_NR);
	static char a_rec[] = "record", a_null[] = "--null-calls";
	char *cmd[] = { self, a_rec, a_null, n };
	uint64_t cost = 0;
	if (!perf_record(perf, filter, pages, data, cmd, 4) && !perf_script(perf, data, text)) {
		FILE *f = fopen(text, "r");
		uint64_t *d = xmalloc(sizeof(uint64_t) * NULL_CALLS), enter = 0;
		size_t nd = 0;
		char line[512];
		snprintf(nr, sizeof(nr), "NR %d ", NULL_CALL_NR);
		while (f && fgets(line, sizeof(line), f) && nd < NULL_CALLS) {
			char *b = strstr(line, "]"), *call = strstr(line, nr);
			unsigned long long sec, frac;
			int p0 = 0, p1 = 0;
			if (!b || !call || sscanf(b + 1, " %llu.%n%9llu%n:", &sec, &p0, &frac, &p1) != 2)
				continue;
			for (int i = p1 - p0; i < 9; i++)
				frac *= 10; /* (perf script --ns prints 9 digits) */
			uint64_t t = sec * 1000000000ull + frac;
			if (strstr(line, "sys_enter:"))
				enter = t;
			else if (strstr(line, "sys_exit:") && enter && t >= enter)
				d[nd++] = t - enter, enter = 0;
		}
		if (f)
			fclose(f);
		if (nd) {
			qsort(d, nd, sizeof(*d), cmp_u64);
			cost = d[nd / 2];
		}
		xfree(d);
	}
	unlink(data);
	unlink(text);
	return cost;
}

static int cmd_record(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim record -o OUT [--perf-text FILE] [--buffer PAGES] [--no-compute] -- CMD [ARGS...]\n\n"
		"Records CMD with Linux perf (the recipe of docs/trace-format.md: every mm\n"
		"system call, user page fault, signal and task event, each thread's switches\n"
		"off and onto its CPU (time blocked becomes sleep in the replay), and the\n"
		"kernel's mapping records), measures perf's own cost per recorded call on a\n"
		"null call (getppid), runs perf script, and imports the result into the trace\n"
		"OUT. A recording that lost events is refused: record again with a larger\n"
		"--buffer.\n"
		"Needs perf (Debian: apt-get install linux-perf) and root, or\n"
		"kernel.perf_event_paranoid=-1. The perf program can be chosen with $MMSIM_PERF.\n\n"
		"  -o, --output OUT  the trace to write\n"
		"  --perf-text FILE  also keep perf script's text here\n"
		"  --buffer PAGES    perf's ring buffer per CPU, in pages (perf record -m; a power\n"
		"                    of 2; default perf's own)\n" IMP_HELP;
	static const struct option opts[] = { IMP_OPTS,
					      { "perf-text", required_argument, 0, 'P' },
					      { "buffer", required_argument, 0, 'B' },
					      { "null-calls", required_argument, 0, 'Z' },
					      { 0, 0, 0, 0 } };
	const char *cmd = "record";
	struct imp_args ia;
	int rc0 = imp_parse(&ia, cmd, help, opts, "+o:", 0, 1 << 30, "CMD", argc, argv);
	if (rc0 >= 0)
		return rc0;
	if (ia.null_calls) {
		/* The recipe's calibration target (not for users): null calls, nothing else. */
		for (uint64_t i = 0; i < ia.null_calls; i++)
			syscall(NULL_CALL_NR);
		return 0;
	}
	const char *out = ia.out, *keep = ia.keep;
	if (!out)
		return cli_error(cmd, "-o OUT is required");
	if (optind >= argc)
		return cli_error(cmd, "expected the command to record after --");
	char perf[4096];
	const char *pname = getenv("MMSIM_PERF") && *getenv("MMSIM_PERF") ? getenv("MMSIM_PERF") : "perf";
	if (!which(pname, perf, sizeof(perf)))
		return cli_fail(cmd, "perf is not installed (%s not found): install it (Debian: apt-get install "
				      "linux-perf; Ubuntu: apt-get install linux-tools-$(uname -r))",
				 pname);
	if (!check_kernel(cmd))
		return 1;
	char dir[4096], data[4200], text[4200];
	snprintf(dir, sizeof(dir), "%s/mmsim-record-XXXXXX", util_tmpdir());
	if (!mkdtemp(dir))
		return cli_fail(cmd, "%s: cannot make a directory: %s", dir, strerror(errno));
	snprintf(data, sizeof(data), "%s/perf.data", dir);
	snprintf(text, sizeof(text), "%s/perf.txt", dir);
	int rc = perf_record(perf, recipe_filter, ia.buffer, data, argv + optind, argc - optind);
	struct stat sb;
	int ret = 1;
	if (rc < 0 || stat(data, &sb) || sb.st_size == 0) {
		cli_error(cmd, "perf record failed (exit status %d); its messages are above", rc);
		goto out;
	}
	if (rc)
		fprintf(stderr, "mmsim record: note: the recorded command exited with status %d\n", rc);
	/* perf's cost per call goes first in the text, as a comment the importer reads. */
	uint64_t cost = null_call_cost(perf, dir, ia.buffer);
	FILE *tf = fopen(text, "w");
	if (!tf || (cost && fprintf(tf, "%s%llu ns\n", TR_PERF_COST_NOTE, (unsigned long long)cost) < 0) || fclose(tf)) {
		cli_error(cmd, "%s: cannot write: %s", text, strerror(errno));
		goto out;
	}
	rc = perf_script(perf, data, text);
	if (rc) {
		cli_error(cmd, "perf script failed (exit status %d); its messages are above", rc);
		goto out;
	}
	/* Kept before the import, so that a recording the importer refuses can still be read. */
	if (keep && copy_file(text, keep))
		fprintf(stderr, "mmsim record: could not copy perf script's text to %s: %s\n", keep, strerror(errno));
	struct tr_import_stats st;
	double secs;
	if (trace_convert(cmd, tr_importer_find("perf"), text, out, &ia.io, &st, &secs)) {
		fprintf(stderr, "mmsim record: %s\n", keep ? "perf script's text is kept (--perf-text); the line numbers above are its lines"
							 : "--perf-text FILE keeps perf script's text, which the line numbers above refer to");
		ret = 1;
		goto out;
	}
	print_import(ia.json, keep ? keep : "perf script output", out, "perf", &st, secs, &cost);
	ret = 0;
out:
	unlink(data);
	unlink(text);
	rmdir(dir);
	return ret;
}

const struct cli_cmd cli_cmd_import = { "import", "turn perf script or strace output into a trace", cmd_import };
const struct cli_cmd cli_cmd_record = { "record", "record a program with perf into a trace", cmd_record };
const struct cli_cmd cli_cmd_trace_dump = { "trace-dump", "write a binary trace as text", cmd_dump };
const struct cli_cmd cli_cmd_trace_compile = { "trace-compile", "turn a text trace into a binary trace", cmd_compile };
