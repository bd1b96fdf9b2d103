/* args.c: the one command-line parser every mmsim command uses (see args.h). */
#include "app/args.h"
#include "app/cli.h"

#include <stdio.h>
#include <string.h>

#define ARGS_TABLE_MAX 128

/* append: copy a {0}-terminated option table to t[*n...]. */
static void append(struct option *t, int *n, const struct option *o)
{
	for (; o && o->name; o++) {
		if (*n == ARGS_TABLE_MAX - 1)
			panic("option table too long");
		t[(*n)++] = *o;
	}
}

int cli_parse(const struct cli_args *a, int argc, char **argv)
{
	static const struct option common[] = { CLI_COMMON_OPTS, { 0, 0, 0, 0 } };
	static const struct option sys[] = { SYS_OPTS, { 0, 0, 0, 0 } };
	static const struct option help[] = { { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	struct option base[ARGS_TABLE_MAX];
	int n = 0;
	append(base, &n, a->opts);
	if (a->common)
		append(base, &n, common);
	else
		append(base, &n, help);
	if (a->sys)
		append(base, &n, sys);
	base[n] = (struct option){ 0, 0, 0, 0 };
	const struct option *table = a->sys ? sys_getopt_table(base) : base;
	int opt, r;
	optind = 1;
	while ((opt = getopt_long(argc, argv, a->shortopts ? a->shortopts : "", table, NULL)) != -1) {
		if (opt == 'h') {
			fputs(a->help, stdout);
			if (a->help_more)
				a->help_more();
			return 0;
		}
		if (opt == '?' || opt == ':')
			return cli_bad_option(a->cmd);
		if (a->opt && (r = a->opt(a->ctx, opt, optarg)) != CLI_NOT_MINE) {
			if (r)
				return r;
			continue;
		}
		if (a->common && (r = cli_common_opt(a->common, a->cmd, opt, optarg)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		/* a design option with a value, given as --NAME VALUE (getopt's optional arguments need --NAME=VALUE) */
		if (a->sys && !optarg && sys_opt_wants_value(opt) && optind < argc && argv[optind][0] != '-')
			optarg = argv[optind++];
		if (a->sys && (r = sys_opt(a->sys, a->cmd, opt, optarg)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		return cli_bad_option(a->cmd);
	}
	int nargs = argc - optind;
	if (nargs > a->max_args) {
		if (a->max_args == 0)
			return cli_error(a->cmd, "unexpected argument '%s'", argv[optind]);
		return cli_error(a->cmd, "expected %s%s, got %d arguments ('%s' is one too many)",
				 a->min_args == a->max_args ? "" : "at most ", a->args_name, nargs, argv[optind + a->max_args]);
	}
	if (nargs < a->min_args)
		return cli_error(a->cmd, "expected %s (see --help)", a->args_name);
	if (a->common && cli_common_finish(a->common, a->cmd))
		return 2;
	if (a->sys && sys_check(a->sys, a->cmd))
		return 2;
	return -1;
}

/* output_opt: -o/--output OUT (cli_opt_output's handler). */
static int output_opt(void *ctx, int opt, const char *arg)
{
	if (opt != 'o')
		return CLI_NOT_MINE;
	*(const char **)ctx = arg;
	return 0;
}

/* parse_output: --help and -o/--output OUT (*out); cli_parse's result. */
static int parse_output(const char *cmd, const char *help, int argc, char **argv, const char **out)
{
	static const struct option opts[] = { CLI_OPT_OUTPUT, { 0, 0, 0, 0 } };
	struct cli_args a = { .cmd = cmd, .help = help, .opts = opts, .shortopts = "o:", .opt = output_opt, .ctx = out,
			      .max_args = 1 << 30 };
	return cli_parse(&a, argc, argv);
}

/* operands: the operands after parse_output: one named `one`, or (one NULL) one or more input files. -1, or 2 after the message. */
static int operands(const char *cmd, int argc, const char *one)
{
	if (one && optind + 1 != argc)
		return cli_error(cmd, "expected one %s", one);
	if (!one && optind == argc)
		return cli_error(cmd, "no input files");
	return -1;
}

int cli_opt_output(const char *cmd, const char *help, int argc, char **argv, const char **out, const char *one)
{
	int rc = parse_output(cmd, help, argc, argv, out);
	return rc >= 0 ? rc : operands(cmd, argc, one);
}

int cli_opt_output_req(const char *cmd, const char *help, int argc, char **argv, const char **out, const char *what,
		       const char *one)
{
	int rc = parse_output(cmd, help, argc, argv, out);
	if (rc < 0 && !*out)
		return cli_error(cmd, "-o %s is required", what);
	return rc >= 0 ? rc : operands(cmd, argc, one);
}
