/* args.h: one command-line parser for every mmsim command: its own options, the common ones, the system and design ones, --help and operands. */
#ifndef MMSIM_ARGS_H
#define MMSIM_ARGS_H

#include "app/sysopts.h"

/* What a command's own option handler returns when the option is not its own. */
#define CLI_NOT_MINE (-1)

/*
 * struct cli_args: how one command reads its command line. `opt` sees
 * every option first (so a command may take over a common one, as sweep
 * does --cores); it returns 0 when handled, CLI_NOT_MINE, or an exit
 * status after printing why (cli_error returns 2).
 */
struct cli_args {
	const char *cmd;	    /* the name in messages: "mmsim CMD: ..." */
	const char *help;	    /* printed by --help */
	void (*help_more)(void);    /* printed after it, if set */
	const struct option *opts;  /* the command's own options, {0}-terminated; NULL if none */
	const char *shortopts;	    /* getopt's short options ("o:"), or NULL */
	int (*opt)(void *ctx, int opt, const char *arg);
	void *ctx;
	struct cli_common *common;  /* takes --cores, --machine, --mode, ...; NULL: not taken */
	struct sysopts *sys;	    /* takes --design, the design options, --frames, ...; NULL: not taken */
	int min_args, max_args;	    /* operands allowed after the options */
	const char *args_name;	    /* what the operands are, for messages ("TRACE") */
};

/*
 * cli_parse: parse argv (argv[0] is "mmsim CMD"). Returns -1 to go on (the
 * operands are argv[optind..argc), common options finished: the machine is
 * loaded and the cores checked; system and design options checked), or the
 * exit status: 0 after --help, 2 after a usage error (reported on stderr).
 */
int cli_parse(const struct cli_args *a, int argc, char **argv);

/*
 * cli_opt_output: parse the command line of a command whose only options
 * are --help and -o/--output OUT (*out, left alone when absent), and whose
 * operands are one `one` ("TRACE": "expected one TRACE" otherwise) or, with
 * one NULL, one or more input files ("no input files" otherwise). Returns
 * -1 to go on (the operands start at optind), or the exit status: 0 after
 * --help, 2 after a bad option or operands (reported).
 */
int cli_opt_output(const char *cmd, const char *help, int argc, char **argv, const char **out, const char *one);
/* cli_opt_output_req: cli_opt_output for a command whose -o is required: its absence is a usage error naming `what` (OUT, DIR), checked before the operands. */
int cli_opt_output_req(const char *cmd, const char *help, int argc, char **argv, const char **out, const char *what,
		       const char *one);

#endif
