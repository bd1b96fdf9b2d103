/* common.c: option parsing, error messages and the common result keys shared by every mmsim subcommand. */
#include "app/cli.h"
#include "io/out.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

/* say: "mmsim CMD: message" on stderr. */
static void say(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "mmsim %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(cmd, fmt, ap);
	va_end(ap);
	return 2;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(cmd, fmt, ap);
	va_end(ap);
	return 1;
}

int cli_out_finish(const char *cmd, struct out *o, int status)
{
	if (status) {
		out_abort(o);
		return status;
	}
	char err[1024];
	return out_commit(o, err, sizeof(err)) ? cli_fail(cmd, "%s", err) : 0;
}

int cli_u64(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	if (!arg || !isdigit((unsigned char)*arg)) {
		cli_error(cmd, "--%s: '%s' is not a number (expected %llu..%llu)", opt, arg ? arg : "",
			  (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 0);
	if (errno || *end) {
		cli_error(cmd, "--%s: '%s' is not a number (expected %llu..%llu)", opt, arg,
			  (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	if (v < min || v > max) {
		cli_error(cmd, "--%s: %llu is out of range (expected %llu..%llu)", opt, v,
			  (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_bytes(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	char num[32];
	size_t n = arg ? strlen(arg) : 0;
	const char *units = "KMG", *u = n ? strchr(units, arg[n - 1] & ~0x20) : NULL;
	if (!u || n >= sizeof(num) || n < 2)
		return cli_u64(cmd, opt, arg, min, max, out);
	memcpy(num, arg, n - 1);
	num[n - 1] = 0;
	uint64_t v, shift = 10 * (uint64_t)(u - units + 1);
	if (cli_u64(cmd, opt, num, 0, UINT64_MAX >> shift, &v))
		return -1;
	v <<= shift;
	if (v < min || v > max) {
		cli_error(cmd, "--%s: %s is out of range (expected %llu..%llu bytes)", opt, arg, (unsigned long long)min,
			  (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_bad_option(const char *cmd)
{
	/* getopt has printed what was wrong, prefixed with argv[0] = "mmsim CMD". */
	fprintf(stderr, "Try 'mmsim %s --help'.\n", cmd);
	return 2;
}

void cli_common_defaults(struct cli_common *o)
{
	memset(o, 0, sizeof(*o));
	o->machine_name = MACHINE_DEFAULT;
	o->mode = SIM_DET;
	o->quantum = 0;
	o->cores = 1;
	o->seed = 1;
}

int cli_common_opt(struct cli_common *o, const char *cmd, int opt, const char *arg)
{
	uint64_t v;
	switch (opt) {
	case 'M':
		o->machine_name = arg;
		return 1;
	case 'm':
		if (!strcmp(arg, "det") || !strcmp(arg, "deterministic"))
			o->mode = SIM_DET;
		else if (!strcmp(arg, "par") || !strcmp(arg, "parallel"))
			o->mode = SIM_PAR;
		else
			return cli_error(cmd, "--mode: '%s' is not a mode (det or par)", arg), -1;
		return 1;
	case 'q':
		if (cli_u64(cmd, "quantum", arg, 1, 1000000000, &v))
			return -1;
		o->quantum = v;
		o->quantum_set = true;
		return 1;
	case 'c':
		if (cli_u64(cmd, "cores", arg, 1, SIM_MAX_CORES, &v))
			return -1;
		o->cores = (uint32_t)v;
		o->cores_set = true;
		return 1;
	case CLI_OPT_JSON:
		o->json = true;
		return 1;
	case 'L':
		if (cli_u64(cmd, "lookahead", arg, 0, 1000000000, &v))
			return -1;
		o->lookahead = v;
		o->lookahead_set = true;
		return 1;
	case 's':
		if (cli_u64(cmd, "seed", arg, 0, UINT64_MAX, &v))
			return -1;
		o->seed = v;
		return 1;
	}
	return 0;
}

int cli_common_finish(struct cli_common *o, const char *cmd)
{
	char err[512];
	if (o->quantum_set && o->mode != SIM_PAR) {
		cli_error(cmd, "--quantum applies to parallel mode only (add --mode par, or drop it)");
		return -1;
	}
	if (o->lookahead_set && o->mode != SIM_DET) {
		cli_error(cmd, "--lookahead applies to deterministic mode only (drop it with --mode par)");
		return -1;
	}
	if (machine_load(&o->m, o->machine_name, err, sizeof(err))) {
		cli_error(cmd, "--machine: %s", err);
		return -1;
	}
	if (o->cores > machine_max_cores(&o->m)) {
		cli_error(cmd, "--cores: %u is more than machine '%s' has (%u = %u sockets x %u CCX x %u cores)",
			  o->cores, o->m.name, machine_max_cores(&o->m), o->m.sockets, o->m.ccx_per_socket,
			  o->m.cores_per_ccx);
		return -1;
	}
	return 0;
}

void cli_emit_common(struct em *e, const struct cli_common *o, const struct sim *s, uint64_t ops)
{
	cycles_t mk = sim_makespan(s);
	double secs = machine_seconds(&o->m, mk);
	em_str(e, "machine", o->m.name);
	em_str(e, "mode", o->mode == SIM_DET ? "det" : "par");
	if (o->mode == SIM_PAR)
		em_u64(e, "quantum", s->o.quantum);
	else
		em_u64(e, "lookahead", o->lookahead);
	em_u64(e, "seed", o->seed);
	em_u64(e, "cores", o->cores);
	em_u64(e, "ops", ops);
	em_u64(e, "sim_cycles", mk);
	em_f64(e, "sim_seconds", secs);
	em_f64(e, "ops_per_sim_sec", secs > 0 ? (double)ops / secs : 0);
	em_f64(e, "host_seconds", s->host_seconds);
	em_f64(e, "host_cpu_seconds", s->host_cpu_seconds);
}

void cli_emit_sim_stats(struct em *e, const struct sim *s)
{
	struct sim_core_stats st;
	sim_stats_sum(s, &st);
	em_u64(e, "line_hits", st.line_hits);
	em_u64(e, "line_transfers", st.line_xfers);
	em_u64(e, "line_mem_fills", st.line_mem);
	em_u64(e, "line_wait_cycles", st.line_wait);
	em_u64(e, "lock_acquires", st.lock_acquires);
	em_u64(e, "lock_contended", st.lock_contended);
	em_u64(e, "lock_spin_cycles", st.spin);
	em_u64(e, "lock_sleep_cycles", st.sleep);
	em_u64(e, "irqs_sent", st.irqs_sent);
	em_u64(e, "irqs_taken", st.irqs_taken);
	em_u64(e, "irq_cycles", st.irq_cycles);
	em_u64(e, "sched_handoffs", st.handoffs);
	em_u64(e, "host_barrier_waits", st.barriers);
}

/* redirect: the child's descriptor fd to path (appended or truncated); false on failure. */
static bool redirect(int fd, const char *path, bool append)
{
	int f = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
	if (f < 0 || dup2(f, fd) < 0)
		return false;
	close(f);
	return true;
}

int cli_spawn(char *const *argv, const char *out_path, const char *err_path, bool append)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if ((out_path && !redirect(1, out_path, append)) || (err_path && !redirect(2, err_path, false)))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
