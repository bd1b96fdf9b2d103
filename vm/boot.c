/* boot.c: system assembly: sim + mmu + vm_sys, teardown with frame accounting. */
#include "vm/boot.h"
#include "sim/rcu.h"

void boot_defaults(struct boot_opts *o, const struct machine *m, const struct vm_design *d, uint32_t ncores)
{
	*o = (struct boot_opts){ 0 };
	o->sim.ncores = ncores;
	o->sim.mode = SIM_DET;
	o->sim.m = m;
	o->mmu.nframes = 1u << 20;
	o->mmu.levels = 4;
	o->mmu.check = true;
	o->design = d;
	if (d)
		vm_opts_init(&o->vm, d);
}

struct boot *boot_create(const struct boot_opts *o)
{
	struct boot *b = xzalloc(sizeof(*b));
	b->sim = sim_create(&o->sim);
	b->mmu = mmu_create(b->sim, &o->mmu);
	b->sys = vm_sys_create(b->sim, b->mmu, o->design, &o->vm);
	return b;
}

int64_t boot_destroy(struct boot *b)
{
	if (!b)
		return 0;
	sim_rcu_barrier(); /* deferred frees (VMAs, tree nodes, stray PT pages) run now */
	int64_t in_use = pm_in_use(b->mmu->pm) - 1; /* the zero page */
	vm_sys_destroy(b->sys);
	sim_rcu_barrier(); /* and what the teardown deferred, while the MMU is still there */
	mmu_destroy(b->mmu);
	sim_destroy(b->sim);
	xfree(b);
	return in_use;
}
