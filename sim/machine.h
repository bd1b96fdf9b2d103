/* machine.h: the machine description (topology, coherence, TLB geometry, kernel and IPI costs) as one cost table. */
#ifndef MMSIM_MACHINE_H
#define MMSIM_MACHINE_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#include "sim/util.h"

typedef uint64_t cycles_t;

struct tlb_geom {
	uint32_t entries, ways; /* ways == entries: fully associative; 0 entries: absent */
};

/*
 * struct machine: every hardware and kernel-path number of the simulated
 * machine. Filled only by machine_load*(); read-only afterwards, shared by
 * all cores. Times are in core cycles. docs/machine-format.md documents the
 * keys; the presets in mmu/presets/ cite a source for each number.
 */
struct machine {
	char name[64];
	char description[160];
	double freq_ghz;

	/* topology */
	uint32_t cores_per_ccx, ccx_per_socket, sockets;

	/* coherence */
	cycles_t coh_hit, coh_atomic, coh_mem;
	cycles_t coh_xfer_ccx, coh_xfer_socket, coh_xfer_remote, coh_inval_sharer;

	/* TLBs and walks */
	struct tlb_geom l1d_4k, l1d_2m, l1d_1g, l1i_4k, l1i_2m, l2, l2_1g;
	cycles_t tlb_l1_hit, tlb_l2_hit;
	uint32_t psc_pml5, psc_pml4, psc_pdpt, psc_pde;
	cycles_t walk_step;
	/* cache capacity (where lines sit: L1, L2, this core's share of its CCX's L3); l1_kib 0: not modelled */
	uint32_t cache_l1_kib, cache_l1_ways, cache_l2_kib, cache_l2_ways, cache_l3_kib, cache_l3_ways;
	cycles_t cache_l2_hit, cache_l3_hit;
	/* nested paging: each guest-physical address a walk uses is translated by a host walk */
	bool npt;
	uint32_t npt_host_level; /* level of the host's leaves: 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB) */
	uint32_t npt_tlb, npt_psc; /* nested TLB entries (guest frame -> host frame), host paging-structure cache entries per level */
	bool pcid;
	cycles_t invlpg, flush_pcid, flush_full;

	/* kernel paths */
	cycles_t syscall, trap, zero_page, frame_alloc, frame_free, node_visit;
	cycles_t slab_alloc, slab_free; /* one kernel object from / back to its slab cache (kern.slab_*) */
	cycles_t mt_node; /* the maple tree's own work per node it visits, builds or re-gaps (kern.mt_node) */
	cycles_t vma_call; /* the VMA layer's own code in one call that changes VMAs (kern.vma_call) */
	cycles_t ctx_switch, wakeup;
	uint32_t tick_hz;

	/* IPIs */
	cycles_t ipi_send, ipi_send_extra, ipi_deliver, ipi_handler, ipi_ack;

	/* broadcast TLB invalidation (mmu/shootdown.c mmu_broadcast) */
	uint32_t bcast;	       /* MACHINE_BCAST_*: what the hardware has */
	cycles_t bcast_issue;  /* initiator: one INVLPGB, or writing one RAR payload */
	uint32_t bcast_pages;  /* pages one INVLPGB or RAR payload covers */
};

/* tlb.broadcast: none, AMD INVLPGB + TLBSYNC (Zen 3 and later), or Intel Remote Action Request. */
enum { MACHINE_BCAST_NONE, MACHINE_BCAST_INVLPGB, MACHINE_BCAST_RAR };
extern const char *const machine_bcast_names[];

/*
 * machine_load: fill *m from a preset name or a file path. A name without a
 * '/' and without a ".machine" suffix is looked up among the compiled-in
 * presets first. On error returns -1 and writes "FILE:LINE: reason" to err.
 */
int machine_load(struct machine *m, const char *name_or_path, char *err, size_t errlen);

/* machine_load_text: as machine_load, from text; `origin` names it in errors. */
int machine_load_text(struct machine *m, const char *text, const char *origin, char *err,
		      size_t errlen);

/*
 * machine_digest: a hash of every value of m (machine_load zeroes the
 * struct first, so padding is zero): two descriptions with the same numbers
 * have the same digest, and any edited number changes it.
 */
static inline uint64_t machine_digest(const struct machine *m) { return util_fnv64(m, sizeof(*m), UTIL_FNV64_INIT); }

/* The keys, in file order: machine_nkeys of them, each named by machine_key_name. */
size_t machine_nkeys(void);
const char *machine_key_name(size_t i);

/*
 * machine_preset_raw: the value of `key` as preset `preset` writes it (with
 * its unit, e.g. "100 ns" or "5 cyc"; its base's value if it sets none).
 * 0, or -1 when there is no such preset or key.
 */
int machine_preset_raw(const char *preset, const char *key, char *out, size_t n);

/* Compiled-in presets: NULL-terminated list of names, and the text of one. */
const char *const *machine_preset_names(void);
const char *machine_preset_text(const char *name);

/* machine_max_cores: cores the topology can hold. */
static inline uint32_t machine_max_cores(const struct machine *m)
{
	return m->cores_per_ccx * m->ccx_per_socket * m->sockets;
}

/* Cycles <-> seconds. */
static inline double machine_seconds(const struct machine *m, cycles_t c)
{
	return (double)c / (m->freq_ghz * 1e9);
}

/* The CortenMM paper's machine: 2 x EPYC 9965, 384 cores. */
#define MACHINE_DEFAULT "epyc9965"

#endif
