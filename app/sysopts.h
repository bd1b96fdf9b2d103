/* sysopts.h: the command-line options that build a simulated system (design, THP, lazy flushes, checker, memory), shared by run, replay and sweep. */
#ifndef MMSIM_SYSOPTS_H
#define MMSIM_SYSOPTS_H

#include "app/cli.h"
#include "vm/boot.h"

struct sysopts {
	const char *design;
	bool thp, lazy, no_check, no_slices;
	uint64_t frames;
	int levels;
};

#define SYS_OPTS                                                                                                    \
	{ "design", required_argument, 0, 'd' }, { "thp", no_argument, 0, 'T' }, { "lazy-flush", no_argument, 0, 'Z' }, \
		{ "no-check", no_argument, 0, 'K' }, { "frames", required_argument, 0, 'F' },                      \
		{ "la57", no_argument, 0, '5' }, { "no-slices", no_argument, 0, 'S' }
#define SYS_HELP                                                                                  \
	"  --design NAME     address-space design (default linux; 'mmsim designs' lists them)\n"   \
	"  --thp             back aligned anonymous memory with 2 MiB pages\n"                      \
	"  --lazy-flush      LATR-style lazy remote TLB flushes (designs that support it)\n"         \
	"  --no-slices       CortenMM: allocate addresses top-down, not from per-core slices\n"     \
	"  --no-check        turn off the TLB coherence checker (faster)\n"                         \
	"  --frames N        simulated physical memory in 4 KiB frames (default 4194304 = 16 GiB)\n" \
	"  --la57            5-level page tables\n"

void sys_defaults(struct sysopts *s);
/* sys_opt: handle one getopt result: 1 handled, 0 not ours, -1 bad value (message printed). */
int sys_opt(struct sysopts *s, const char *cmd, int opt, const char *arg);
/* sys_boot: build the system for `o` (cores, machine, mode) and `s`; NULL with a message on error. */
struct boot *sys_boot(const struct sysopts *s, const struct cli_common *o, const char *cmd);

#endif
