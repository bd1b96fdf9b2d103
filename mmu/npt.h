/* npt.h: nested paging (AMD NPT, Intel EPT): the host walk that translates each guest-physical frame a guest walk uses. */
#ifndef MMSIM_NPT_H
#define MMSIM_NPT_H

#include <stdint.h>

#include "sim/machine.h"

/* A small fully associative LRU array of tags (the nested TLB, or one level of the host's paging-structure cache). */
struct npt_level {
	uint64_t *tag, *lru; /* tag 0: empty */
	uint32_t n;
	uint64_t stamp;
};

/*
 * struct npt: one core's caches of host translations: the nested TLB
 * (guest frame -> host frame, npt.tlb.entries) and the host walk's
 * paging-structure caches (npt.psc.entries per host level above the leaf).
 * The host's tables are the hypervisor's, never written while the guest
 * runs: their lines have no coherence state, only a place in the core's
 * caches (sim/cache.h). Touched only by the owning core.
 */
struct npt {
	struct npt_level tlb, psc[5]; /* psc by host level 2..4 */
};

struct mmu_cpu;

void npt_init(struct npt *n, const struct machine *m);
void npt_fini(struct npt *n);

/*
 * npt_translate: the guest walk is about to use guest frame gpfn (a page
 * table, or the data page at the end): with npt on, charge the host walk
 * that translates it, starting from the longest host cache hit (each host
 * entry read costs where its line sits in the cache, plus walk.step), and
 * count it in cpu->st. Nothing when the machine has npt = no.
 */
void npt_translate(struct mmu_cpu *cpu, uint64_t gpfn);

#endif
