/* sysopts.h: the command-line options that build a simulated system (design, the design's own options, checker, memory), shared by run, replay, sweep, timeline and explain. */
#ifndef MMSIM_SYSOPTS_H
#define MMSIM_SYSOPTS_H

#include "app/cli.h"
#include "vm/boot.h"

#define SYS_MAX_DOPTS 16 /* design options one command line may give */

/*
 * struct sysopts: what the command line said. Design options are kept as
 * given (--NAME or --NAME=VALUE) until the design is known (sys_vm_opts).
 */
struct sysopts {
	const char *design;
	bool no_check;
	uint64_t frames;
	int levels;
	struct {
		const char *name, *value; /* value NULL: a bare --NAME */
	} dopt[SYS_MAX_DOPTS];
	int ndopt;
	bool lenient; /* sweeps: a design skips the options it does not take (sys_check_dopts checked that some does) */
};

#define SYS_OPTS                                                                                             \
	{ "design", required_argument, 0, 'd' }, { "no-check", no_argument, 0, 'K' },                       \
		{ "frames", required_argument, 0, 'F' }, { "la57", no_argument, 0, '5' }
#define SYS_HELP                                                                                  \
	"  --design NAME     address-space design (default linux; 'mmsim designs' lists them)\n"   \
	"  --OPTION[=VALUE]  one of the design's own options, such as --thp or --lazy-flush\n"     \
	"                    ('mmsim designs' lists each design's; others are refused)\n"          \
	"  --no-check        turn off the TLB coherence checker (faster)\n"                         \
	"  --frames N        simulated physical memory in 4 KiB frames (default 4194304 = 16 GiB)\n" \
	"  --la57            5-level page tables\n"

void sys_defaults(struct sysopts *s);
/*
 * sys_getopt_table: `base` (a command's getopt_long table, {0}-terminated)
 * followed by every registered design's options (optional argument). The
 * result lives until the next call.
 */
const struct option *sys_getopt_table(const struct option *base);
/*
 * sys_opt_wants_value: whether getopt code opt is a design option that some
 * design takes with a value (not a bool), so that `--NAME VALUE` may give it
 * its value as `--NAME=VALUE` does.
 */
bool sys_opt_wants_value(int opt);

/* sys_opt: handle one getopt result: 1 handled, 0 not ours, -1 bad value (message printed). */
int sys_opt(struct sysopts *s, const char *cmd, int opt, const char *arg);
/*
 * sys_vm_opts: d's options (defaults, then those given) into *o. -1 with a
 * message if an option is not d's (unless s->lenient) or its value is bad.
 */
int sys_vm_opts(const struct sysopts *s, const struct vm_design *d, struct vm_opts *o, const char *cmd);
/* sys_check_dopts: every design option given is taken by at least one of designs[0..n); -1 with a message if not. */
int sys_check_dopts(const struct sysopts *s, char **designs, int n, const char *cmd);
/* sys_dopts_args: the design options given that d takes, as " --NAME=VALUE" command-line words, into buf. */
void sys_dopts_args(const struct sysopts *s, const struct vm_design *d, char *buf, size_t n);
/* sys_check: the design exists and takes every design option given, with good values; -1 with a message if not. */
int sys_check(const struct sysopts *s, const char *cmd);
/* sys_boot: build the system for `o` (cores, machine, mode) and `s`; NULL with a message on error. */
struct boot *sys_boot(const struct sysopts *s, const struct cli_common *o, const char *cmd);

#endif
