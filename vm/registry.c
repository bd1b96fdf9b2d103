/* registry.c: the list of designs, by name. Adding a design: one line here and its library in CMake. */
#include "vm/vm.h"

#include <string.h>

extern const struct vm_design vm_design_linux, vm_design_linux_mmap_lock, vm_design_cortenmm_rw,
	vm_design_cortenmm_adv, vm_design_skiplist;

static const struct vm_design *const designs[] = {
	&vm_design_linux,
	&vm_design_linux_mmap_lock,
	&vm_design_cortenmm_rw,
	&vm_design_cortenmm_adv,
	&vm_design_skiplist,
	NULL,
};

const struct vm_design *const *vm_designs(void) { return designs; }

const struct vm_design *vm_design_find(const char *name)
{
	for (const struct vm_design *const *d = designs; *d; d++)
		if (!strcmp((*d)->name, name))
			return *d;
	return NULL;
}
