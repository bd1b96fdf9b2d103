/* sysopts.c: parsing and use of the options that build a simulated system. */
#include "app/sysopts.h"

void sys_defaults(struct sysopts *s)
{
	*s = (struct sysopts){ .design = "linux", .frames = 1ull << 22, .levels = 4 };
}

int sys_opt(struct sysopts *s, const char *cmd, int opt, const char *arg)
{
	uint64_t v;
	switch (opt) {
	case 'd': s->design = arg; return 1;
	case 'T': s->thp = true; return 1;
	case 'Z': s->lazy = true; return 1;
	case 'K': s->no_check = true; return 1;
	case 'S': s->no_slices = true; return 1;
	case '5': s->levels = 5; return 1;
	case 'F':
		if (cli_u64(cmd, "frames", arg, 4096, 1ull << 32, &v))
			return -1;
		s->frames = v;
		return 1;
	}
	return 0;
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
	bo.sim.mode = o->mode;
	bo.sim.quantum = o->quantum;
	bo.sim.lookahead = o->lookahead;
	bo.mmu.nframes = s->frames;
	bo.mmu.levels = s->levels;
	bo.mmu.check = !s->no_check;
	bo.vm.thp_always = s->thp;
	bo.vm.lazy_flush = s->lazy;
	bo.vm.no_slices = s->no_slices;
	return boot_create(&bo);
}
