/* cli.h: shared pieces of the mmsim command line: option parsing, errors, and the common result keys. */
#ifndef MMSIM_CLI_H
#define MMSIM_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/emit.h"
#include "sim/machine.h"
#include "sim/sim.h"

/* A subcommand: `run` gets argv with argv[0] = the subcommand name. Returns the exit status. */
struct cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Options every simulation command takes (apart from state). */
struct cli_common {
	const char *machine_name;
	struct machine m;
	enum sim_mode mode;
	cycles_t quantum;
	cycles_t lookahead;
	uint32_t cores;
	bool cores_set; /* --cores was given */
	bool json;
	uint64_t seed;
	bool quantum_set, lookahead_set; /* given on the command line (each means something in one mode only) */
};

/* getopt codes of common options that have no short form (above any character). */
#define CLI_OPT_JSON 0x101

/* -o/--output FILE, the same option in every command that writes a file (its code 'o'; shortopts "o:"). */
#define CLI_OPT_OUTPUT { "output", required_argument, 0, 'o' }

/* Long options of cli_common, and their help text; a command appends its own. */
#define CLI_COMMON_OPTS                                                                      \
	{ "machine", required_argument, 0, 'M' }, { "mode", required_argument, 0, 'm' },       \
		{ "quantum", required_argument, 0, 'q' }, { "cores", required_argument, 0, 'c' }, \
		{ "json", no_argument, 0, CLI_OPT_JSON }, { "seed", required_argument, 0, 's' },  \
		{ "lookahead", required_argument, 0, 'L' },                                       \
		{ "help", no_argument, 0, 'h' }
#define CLI_COMMON_HELP                                                                           \
	"  --cores N         simulated cores (default 1; at most the machine's core count)\n"        \
	"  --machine NAME    machine preset or description file (default " MACHINE_DEFAULT ";\n"      \
	"                    'mmsim machine list' shows the presets)\n"                              \
	"  --mode det|par    deterministic (default: bit-identical results) or parallel scheduling\n" \
	"  --quantum CYC     parallel mode: largest clock skew between cores (default: one\n"         \
	"                    intra-CCX line transfer, so sharing is interleaved finely enough)\n"  \
	"  --lookahead CYC   deterministic mode: a core runs on while within CYC cycles of the\n"    \
	"                    next core (default 0: exact time order; larger is faster, laxer)\n" \
	"  --seed N          random seed (default 1)\n"                                               \
	"  --json            print one JSON object instead of a table\n"                              \
	"  --help            this text\n"

void cli_common_defaults(struct cli_common *o);
/* Handle one getopt result for a common option: 1 handled, 0 not common, -1 bad value (message printed). */
int cli_common_opt(struct cli_common *o, const char *cmd, int opt, const char *arg);
/* Load the machine and check the core count. Prints an error and returns -1 on failure. */
int cli_common_finish(struct cli_common *o, const char *cmd);

/*
 * Exit statuses of every command: 0 success; 1 the work failed (an input
 * that cannot be read or is corrupt, an output that cannot be written, a
 * check that found a mismatch, a leak); 2 a usage error (a bad option,
 * argument or value), before anything was done.
 * cli_error: "mmsim CMD: message" on stderr; returns 2 (a usage error).
 * cli_fail: the same message; returns 1 (the work failed).
 */
int cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_u64(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out);
/* cli_bytes: like cli_u64, for a byte count with an optional K, M or G suffix (binary units). */
int cli_bytes(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out);
/*
 * cli_spawn: run argv (argv[0] a path) and wait for it: its stdout to
 * out_path (appended to if append; NULL: inherited), its stderr to err_path
 * (NULL: inherited). Its exit status, 128 + the signal that killed it, or -1
 * if it could not be started.
 */
int cli_spawn(char *const *argv, const char *out_path, const char *err_path, bool append);

/*
 * cli_out_finish: end the output o of a command whose work returned status:
 * on failure (status != 0) the output is abandoned and status returned; else
 * it is committed, and a commit that fails is reported (exit status 1).
 */
struct out;
int cli_out_finish(const char *cmd, struct out *o, int status);
/* cli_bad_option: after getopt reported a bad option (argv[0] is "mmsim CMD"), point at --help; returns 2. */
int cli_bad_option(const char *cmd);


/* Emit the configuration and the keys every run reports (cores, ops, sim_cycles, ops_per_sim_sec, host_*). */
void cli_emit_common(struct em *e, const struct cli_common *o, const struct sim *s, uint64_t ops);
/* Emit the engine counters (lines, locks, interrupts). */
void cli_emit_sim_stats(struct em *e, const struct sim *s);

/*
 * cli_gnuplot: write the compiled-in plots/NAME.gp to DIR and run gnuplot on
 * it twice, for DIR/NAME.png and DIR/NAME.svg, with `vars` (gnuplot
 * assignments) after datadir='DIR/data', out and termtype. 0, or 2 with a message.
 */
int cli_gnuplot(const char *cmd, const char *dir, const char *name, const char *vars);

extern const struct cli_cmd *const cli_cmds[];
/* The build's identity: the version and git commit (app/version.c, generated at build time). */
extern const char mmsim_build_id[];

#endif
