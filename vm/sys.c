/* sys.c: the simulated kernel shared by all address spaces: zero page, per-core counters, design options. */
#include "vm/vm.h"

#include <string.h>

const char *const vm_op_names[VM_OP_COUNT] = { "mmap", "munmap", "mprotect", "madvise", "mremap", "brk",
					       "fork", "fault", "mlock", "msync", "mincore", "file" };

struct vm_sys *vm_sys_create(struct sim *s, struct mmu *mmu, const struct vm_design *d, const struct vm_opts *o)
{
	struct vm_sys *sys = xzalloc(sizeof(*sys));
	sys->sim = s;
	sys->mmu = mmu;
	sys->pm = mmu->pm;
	sys->m = s->m;
	sys->d = d;
	if (o)
		sys->o = *o;
	sys->zero_pfn = pm_alloc(sys->pm, NULL);
	if (!sys->zero_pfn)
		panic("no memory for the zero page");
	sys->pm->frames[sys->zero_pfn].owner = 0xffffffffu;
	sys->cst = xzalloc(sizeof(struct vm_core_stats) * s->o.ncores);
	sys->tick_period = (cycles_t)(s->m->freq_ghz * 1e9 / s->m->tick_hz);
	sys->next_tick = xzalloc(sizeof(cycles_t) * s->o.ncores);
	for (uint32_t i = 0; i < s->o.ncores; i++)
		sys->next_tick[i] = sys->tick_period;
	pthread_mutex_init(&sys->spaces_mu, NULL);
	atomic_store(&sys->next_file_id, 1);
	atomic_store(&sys->next_pid, 1);
	return sys;
}

void vm_sys_destroy(struct vm_sys *sys)
{
	if (!sys)
		return;
	if (sys->dstate_free)
		sys->dstate_free(sys);
	xfree(sys->next_tick);
	pthread_mutex_destroy(&sys->spaces_mu);
	xfree(sys->spaces);
	for (uint32_t i = 0; i < sys->sim->o.ncores; i++)
		for (int k = 0; k < VM_OP_COUNT; k++)
			hist_free(&sys->cst[i].lat[k]);
	xfree(sys->cst);
	pm_put(sys->pm, NULL, sys->zero_pfn);
	xfree(sys);
}

void vm_stats_sum(const struct vm_sys *sys, struct vm_core_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < sys->sim->o.ncores; i++) {
		const struct vm_core_stats *c = &sys->cst[i];
		for (int k = 0; k < VM_OP_COUNT; k++) {
			out->calls[k] += c->calls[k];
			out->errors[k] += c->errors[k];
			hist_merge(&out->lat[k], &c->lat[k]);
		}
		out->accesses += c->accesses;
		out->segv += c->segv;
		out->bus += c->bus;
		out->frames_zeroed += c->frames_zeroed;
		out->frames_copied += c->frames_copied;
		out->pages_flushed += c->pages_flushed;
		out->full_flushes += c->full_flushes;
	}
}

void vm_stats_free(struct vm_core_stats *st)
{
	for (int k = 0; k < VM_OP_COUNT; k++)
		hist_free(&st->lat[k]);
}

void vm_tick_slow(struct vm_sys *sys, struct mmu_cpu *cpu)
{
	cycles_t *next = &sys->next_tick[cpu->core->id];
	while (*next <= cpu->core->clock)
		*next += sys->tick_period;
	if (sys->d->tick)
		sys->d->tick(sys, cpu);
}
