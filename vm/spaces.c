/* spaces.c: the system's list of live address spaces, and the holds that another process's calls (unmap_file from ftruncate, fallocate, MADV_REMOVE) take on a space against its teardown. */
#include "vm/calls.h"

void vm_spaces_add(struct vm_as *as)
{
	struct vm_sys *sys = as->sys;
	pthread_mutex_lock(&sys->spaces_mu);
	if (sys->nspaces == sys->spaces_cap)
		sys->spaces = xrealloc(sys->spaces, sizeof(*sys->spaces) * (sys->spaces_cap = sys->spaces_cap ? sys->spaces_cap * 2 : 8));
	sys->spaces[sys->nspaces++] = as;
	pthread_mutex_unlock(&sys->spaces_mu);
}

void vm_spaces_remove(struct vm_as *as, struct mmu_cpu *cpu)
{
	struct vm_sys *sys = as->sys;
	pthread_mutex_lock(&sys->spaces_mu);
	for (uint32_t i = 0; i < sys->nspaces; i++)
		if (sys->spaces[i] == as) {
			sys->spaces[i] = sys->spaces[--sys->nspaces];
			break;
		}
	as->dying = true;
	/* Another process's unmap_file inside this space finishes first (as unmap_mapping_range holds i_mmap_rwsem). */
	while (as->unmapping) {
		if (!cpu)
			panic("vm_as_destroy: space of process %u torn down by the host while a call is inside it", as->pid);
		as->reaper = cpu->core;
		pthread_mutex_unlock(&sys->spaces_mu);
		sim_block(cpu->core);
		pthread_mutex_lock(&sys->spaces_mu);
	}
	pthread_mutex_unlock(&sys->spaces_mu);
}

bool vm_spaces_torn_down(struct vm_as *as)
{
	pthread_mutex_lock(&as->sys->spaces_mu);
	as->torn_down = true;
	bool last = !as->pins;
	pthread_mutex_unlock(&as->sys->spaces_mu);
	return last;
}

struct vm_as **vm_spaces_hold(struct vm_sys *sys, uint32_t *n)
{
	pthread_mutex_lock(&sys->spaces_mu);
	*n = sys->nspaces;
	struct vm_as **v = xmalloc(sizeof(*v) * (*n ? *n : 1));
	for (uint32_t i = 0; i < *n; i++) {
		v[i] = sys->spaces[i];
		v[i]->pins++;
	}
	pthread_mutex_unlock(&sys->spaces_mu);
	return v;
}

bool vm_as_enter_unmap(struct vm_as *as)
{
	pthread_mutex_lock(&as->sys->spaces_mu);
	bool go = !as->dying;
	as->unmapping += go;
	pthread_mutex_unlock(&as->sys->spaces_mu);
	return go;
}

void vm_as_leave_unmap(struct vm_as *as, struct mmu_cpu *cpu)
{
	pthread_mutex_lock(&as->sys->spaces_mu);
	struct sim_core *w = --as->unmapping ? NULL : as->reaper;
	if (w)
		as->reaper = NULL;
	pthread_mutex_unlock(&as->sys->spaces_mu);
	if (w)
		sim_wake(cpu->core, w, cpu->core->clock);
}

void vm_as_unpin(struct vm_as *as)
{
	pthread_mutex_lock(&as->sys->spaces_mu);
	bool last = !--as->pins && as->torn_down;
	pthread_mutex_unlock(&as->sys->spaces_mu);
	if (last)
		xfree(as);
}

