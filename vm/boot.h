/* boot.h: put a whole simulated system together (cores, MMU, kernel, design) and take it apart with leak checks. */
#ifndef MMSIM_BOOT_H
#define MMSIM_BOOT_H

#include "vm/vm.h"

struct boot_opts {
	struct sim_opts sim;	/* cores, mode, quantum, lookahead, machine */
	struct mmu_opts mmu;	/* frames, levels, checker */
	struct vm_opts vm;	/* design options */
	const struct vm_design *design;
};

struct boot {
	struct sim *sim;
	struct mmu *mmu;
	struct vm_sys *sys;
};

/* boot_defaults: 4 GiB of frames, 4 levels, checker on. */
void boot_defaults(struct boot_opts *o, const struct machine *m, const struct vm_design *d, uint32_t ncores);

/* boot_create: cores, MMU and kernel with the design (the engine registers parallel-mode core threads with liburcu). */
struct boot *boot_create(const struct boot_opts *o);

/*
 * boot_destroy: waits for RCU callbacks, then checks frame accounting: with
 * every address space and file gone, only the zero page may remain. Returns
 * the number of leaked frames (0 if all is well) before freeing everything.
 */
int64_t boot_destroy(struct boot *b);

#endif
