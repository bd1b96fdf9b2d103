/* sysopts.c: parsing and use of the options that build a simulated system, the designs' own options included. */
#include "app/sysopts.h"

#include <string.h>

/* getopt codes of design options: SYS_DOPT_CODE + index in the union of every design's option names. */
#define SYS_DOPT_CODE 0x1000
#define SYS_TABLE_MAX 128

static struct option table[SYS_TABLE_MAX];
static const char *names[SYS_TABLE_MAX]; /* the union of design option names, by code - SYS_DOPT_CODE */
static int nnames;

void sys_defaults(struct sysopts *s)
{
	*s = (struct sysopts){ .design = "linux", .frames = 1ull << 22, .levels = 4 };
}

const struct option *sys_getopt_table(const struct option *base)
{
	int n = 0;
	while (base[n].name) {
		if (n == SYS_TABLE_MAX - 1)
			panic("getopt table too long");
		table[n] = base[n];
		n++;
	}
	nnames = 0;
	for (const struct vm_design *const *d = vm_designs(); *d; d++)
		for (int i = 0; i < vm_opt_count(*d); i++) {
			const char *nm = (*d)->opts[i].name;
			bool seen = false;
			for (int k = 0; k < nnames && !seen; k++)
				seen = !strcmp(names[k], nm);
			if (seen)
				continue;
			if (n == SYS_TABLE_MAX - 1)
				panic("getopt table too long");
			names[nnames] = nm;
			table[n++] = (struct option){ nm, optional_argument, 0, SYS_DOPT_CODE + nnames };
			nnames++;
		}
	table[n] = (struct option){ 0, 0, 0, 0 };
	return table;
}

bool sys_opt_wants_value(int opt)
{
	if (opt < SYS_DOPT_CODE || opt >= SYS_DOPT_CODE + nnames)
		return false;
	const char *nm = names[opt - SYS_DOPT_CODE];
	for (const struct vm_design *const *d = vm_designs(); *d; d++) {
		int i = vm_opt_find(*d, nm);
		if (i >= 0 && (*d)->opts[i].type != VM_OPT_BOOL)
			return true;
	}
	return false;
}

int sys_opt(struct sysopts *s, const char *cmd, int opt, const char *arg)
{
	uint64_t v;
	if (opt >= SYS_DOPT_CODE && opt < SYS_DOPT_CODE + nnames) {
		const char *nm = names[opt - SYS_DOPT_CODE];
		for (int i = 0; i < s->ndopt; i++)
			if (!strcmp(s->dopt[i].name, nm)) {
				bool same = (!arg && !s->dopt[i].value) || (arg && s->dopt[i].value && !strcmp(arg, s->dopt[i].value));
				if (same)
					return 1;
				cli_error(cmd, "--%s given twice with different values", nm);
				return -1;
			}
		if (s->ndopt == SYS_MAX_DOPTS) {
			cli_error(cmd, "too many design options (at most %d)", SYS_MAX_DOPTS);
			return -1;
		}
		s->dopt[s->ndopt].name = names[opt - SYS_DOPT_CODE];
		s->dopt[s->ndopt].value = arg;
		s->ndopt++;
		return 1;
	}
	switch (opt) {
	case 'd': s->design = arg; return 1;
	case 'K': s->no_check = true; return 1;
	case '5': s->levels = 5; return 1;
	case 'F':
		if (cli_u64(cmd, "frames", arg, 4096, 1ull << 32, &v))
			return -1;
		s->frames = v;
		return 1;
	}
	return 0;
}

int sys_vm_opts(const struct sysopts *s, const struct vm_design *d, struct vm_opts *o, const char *cmd)
{
	vm_opts_init(o, d);
	for (int i = 0; i < s->ndopt; i++) {
		char err[512];
		if (s->lenient && vm_opt_find(d, s->dopt[i].name) < 0)
			continue;
		if (vm_opt_set(o, d, s->dopt[i].name, s->dopt[i].value, err, sizeof(err))) {
			cli_error(cmd, "%s", err);
			return -1;
		}
	}
	return 0;
}

int sys_check_dopts(const struct sysopts *s, char **designs, int n, const char *cmd)
{
	for (int i = 0; i < s->ndopt; i++) {
		bool taken = false;
		for (int k = 0; k < n && !taken; k++) {
			const struct vm_design *d = vm_design_find(designs[k]);
			taken = d && vm_opt_find(d, s->dopt[i].name) >= 0;
		}
		if (!taken) {
			cli_error(cmd, "--%s: no design of this sweep takes it ('mmsim designs' lists each design's options)",
				  s->dopt[i].name);
			return -1;
		}
	}
	return 0;
}

void sys_dopts_args(const struct sysopts *s, const struct vm_design *d, char *buf, size_t n)
{
	size_t at = 0;
	buf[0] = 0;
	for (int i = 0; i < s->ndopt && at < n; i++)
		if (vm_opt_find(d, s->dopt[i].name) >= 0)
			at += (size_t)snprintf(buf + at, n - at, " --%s%s%s", s->dopt[i].name, s->dopt[i].value ? "=" : "",
					       s->dopt[i].value ? s->dopt[i].value : "");
}

int sys_check(const struct sysopts *s, const char *cmd)
{
	const struct vm_design *d = vm_design_find(s->design);
	if (!d) {
		cli_error(cmd, "--design: no design '%s' (try 'mmsim designs')", s->design);
		return -1;
	}
	struct vm_opts o;
	return sys_vm_opts(s, d, &o, cmd);
}

struct boot *sys_boot(const struct sysopts *s, const struct cli_common *o, const char *cmd)
{
	const struct vm_design *d = vm_design_find(s->design);
	if (!d) {
		cli_error(cmd, "--design: no design '%s' (try 'mmsim designs')", s->design);
		return NULL;
	}
	struct boot_opts bo;
	boot_defaults(&bo, &o->m, d, o->cores);
	if (sys_vm_opts(s, d, &bo.vm, cmd))
		return NULL;
	char err[512];
	if (vm_opts_check(d, &bo.vm, &o->m, err, sizeof(err))) {
		cli_error(cmd, "%s", err);
		return NULL;
	}
	bo.sim.mode = o->mode;
	bo.sim.quantum = o->quantum;
	bo.sim.lookahead = o->lookahead;
	bo.mmu.nframes = s->frames;
	bo.mmu.levels = s->levels;
	bo.mmu.check = !s->no_check;
	return boot_create(&bo);
}
