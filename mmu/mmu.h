/* mmu.h: the simulated MMU: per-core TLBs and walkers, address-space contexts (root, PCID, cpumask), shootdown mechanism and the TLB coherence checker. */
#ifndef MMSIM_MMU_H
#define MMSIM_MMU_H

#include "mmu/npt.h"
#include "mmu/phys.h"
#include "mmu/tlb.h"

/* Paging-structure caches: a few fully associative entries per non-leaf level. */
struct psc_entry {
	uint64_t tag;  /* va >> LEVEL_SHIFT(level) of the entry, with pcid; 0 = empty */
	uint64_t next; /* pfn of the table this entry points to */
	uint32_t gen;
	uint8_t allow; /* permissions accumulated from the root down to this entry */
	uint16_t pcid;
	uint64_t lru;
};

struct psc_level {
	struct psc_entry *e;
	uint32_t n;
	uint64_t stamp;
};

/*
 * Per-core MMU counters. Written only by the owning core's thread (or on
 * its behalf by an interrupt handler while it does not run).
 */
struct mmu_cpu_stats {
	uint64_t accesses;	  /* mmu_access calls */
	uint64_t l1_hits;	  /* satisfied by the L1 D/I TLB */
	uint64_t l2_hits;	  /* L1 miss, STLB hit */
	uint64_t walks;		  /* page walks started */
	uint64_t walk_reads;	  /* PTEs read by walks */
	cycles_t walk_cycles;	  /* cycles spent walking, line costs included */
	uint64_t psc_hits;	  /* walks shortened by a paging-structure cache */
	uint64_t ad_updates;	  /* accessed/dirty bits set by the walker */
	uint64_t faults;	  /* accesses that raised a page fault */
	uint64_t invlpg;	  /* INVLPGs executed on this core */
	uint64_t flush_pcid;	  /* single-PCID flushes on this core */
	uint64_t flush_full;	  /* full flushes on this core */
	uint64_t shootdowns;	  /* shootdowns this core initiated */
	uint64_t shootdown_targets; /* remote cores those shootdowns interrupted */
	cycles_t shootdown_wait;  /* cycles the initiator spent sending and waiting for acks */
	uint64_t broadcasts;	  /* broadcast invalidations (INVLPGB + TLBSYNC, or RAR) this core initiated */
	uint64_t broadcast_targets; /* remote cores that had the space and were reached by them */
	cycles_t broadcast_wait;  /* cycles the initiator spent issuing them and waiting for completion */
	uint64_t ctx_switches;	  /* address-space switches */
	uint64_t tlb_violations;  /* TLB hits that gave more than the page table allows */
	uint64_t checked_hits;	  /* TLB hits the checker compared */
	uint64_t npt_walks;	  /* nested paging: host walks (a guest frame the nested TLB did not hold) */
	uint64_t npt_reads;	  /* nested paging: host entries those walks read */
	uint64_t ntlb_hits;	  /* nested paging: guest frames the nested TLB translated */
};

struct mmu;
struct mmu_space;
struct mmu_inval;

/* struct mmu_cpu: one core's MMU state. Touched only by that core, or by IPI handlers on its behalf. */
struct mmu_cpu {
	struct sim_core *core;
	struct mmu *mmu;
	struct mmu_space *cur; /* address space loaded in CR3, or NULL */
	uint64_t cr3;	       /* root pfn */
	uint16_t pcid;
	struct tlb tlb;
	struct psc_level psc[6]; /* by level 2..5 */
	struct npt npt;		 /* nested paging's host-translation caches (mmu/npt.h) */
	uint32_t *psc_gens;	 /* PCID_COUNT generations for the PSCs, strided: read them with mmu_psc_gen */
	uint32_t *pcid_owners;	 /* PCID_COUNT: id of the space that last used each PCID here, strided: mmu_pcid_owner */
	_Atomic cycles_t irq_busy_until; /* when this core's interrupt handling frees up */
	/* SIM_DET: invalidations other cores' shootdowns left while this core did not run, applied in order before it does */
	struct mmu_inval **pend;
	uint32_t npend, pend_cap;
	struct mmu_cpu_stats st;
} __attribute__((aligned(CACHELINE)));

/* mmu_psc_gen, mmu_pcid_owner: where cpu keeps the PSC generation and the last space of pcid (laid out as tlb_gen). */
static inline uint32_t *mmu_psc_gen(const struct mmu_cpu *cpu, uint16_t pcid)
{
	return &cpu->psc_gens[(size_t)pcid * cpu->tlb.pstride];
}
static inline uint32_t *mmu_pcid_owner(const struct mmu_cpu *cpu, uint16_t pcid)
{
	return &cpu->pcid_owners[(size_t)pcid * cpu->tlb.pstride];
}

/* Options, apart from state. */
struct mmu_opts {
	uint64_t nframes; /* simulated physical memory in 4 KiB frames */
	int levels;	  /* 4, or 5 for LA57 */
	bool check;	  /* run the TLB coherence checker on every TLB hit */
};

struct mmu {
	struct mmu_opts o;
	const struct machine *m;
	struct sim *sim;
	struct pm *pm;
	struct mmu_cpu *cpus;
	struct tlb_arena tlb_arena; /* every core's TLB arrays */
	_Atomic uint32_t next_space_id;
};

/* A window in which stale TLB entries for [start, end) are legitimate (an operation in flight). */
struct mmu_window {
	uint64_t start, end;
	bool used;
};

#define MMU_MAX_WINDOWS 1024

/*
 * struct mmu_space: the hardware view of one address space: its root PT
 * page, PCID and the cores it has run on. The design owns the tables.
 */
struct mmu_space {
	struct mmu *mmu;
	uint32_t id;
	uint16_t pcid;
	struct pm_ptpage *root;
	_Atomic uint64_t ran_on[SIM_MASK_WORDS]; /* cores that loaded this space (never cleared) */
	_Atomic bool global_pcid; /* its PCID is the same on every core (Linux's global ASID): broadcast invalidation may serve it */
	struct coh_line cpumask_line;		 /* the modelled line of that mask */
	/* checker windows */
	_Atomic uint32_t nwin;
	_Atomic uint8_t win_lock;
	struct mmu_window *win;
	uint32_t win_cap;
};

struct mmu *mmu_create(struct sim *s, const struct mmu_opts *o);
void mmu_destroy(struct mmu *mmu);
static inline struct mmu_cpu *mmu_cpu_of(struct sim_core *c) { return (struct mmu_cpu *)c->hw; }

/*
 * mmu_space_init: allocate a root table for a new address space (charged to c,
 * which may be NULL). mmu_space_fini: free the root (the design has freed
 * everything below it) and forget the PCID on every core.
 */
int mmu_space_init(struct mmu *mmu, struct mmu_space *sp, struct sim_core *c);
void mmu_space_fini(struct mmu_space *sp, struct sim_core *c);

/*
 * mmu_switch: load `sp` on this core (CR3 write): sets the cpumask bit,
 * keeps TLB entries when PCIDs are on, else flushes. Charges the CR3 write.
 */
void mmu_switch(struct mmu_cpu *cpu, struct mmu_space *sp);

/*
 * mmu_access: one user-mode access by this core. Returns 0 when it
 * completes, or the x86 page-fault error code (PF_U set, so never 0) when
 * it faults; the caller runs the fault handler and retries. Charges TLB
 * latency, and on a miss the walk: each PTE read is a coherent line read,
 * and A/D updates are atomics on the PTE's line.
 */
uint32_t mmu_access_slow(struct mmu_cpu *cpu, uint64_t va, enum mmu_acc acc);
void mmu_check_hit(struct mmu_cpu *cpu, uint64_t va, const struct tlb_entry *e);

/*
 * mmu_data_touch: the access's data line takes its place in the core's
 * caches (pfn: the frame the translation gave, its 4 KiB piece for a huge
 * page). Its latency is not charged (mmsim times translation, not data);
 * its footprint pushes PTE and lock lines out, as on real hardware.
 */
static inline void mmu_data_touch(struct sim_core *c, uint64_t pfn, uint64_t va)
{
	cache_touch(&c->cache, CACHE_TAG_DATA(pfn, va));
}

static inline uint32_t mmu_access(struct mmu_cpu *cpu, uint64_t va, enum mmu_acc acc)
{
	struct sim_core *c = cpu->core;
	sim_irq_poll(c);
	cpu->st.accesses++;
	static const uint8_t need[3] = { ALLOW_R, ALLOW_W, ALLOW_X };
	struct tlb_array *a = acc == ACC_X ? cpu->tlb.l1i[PG_4K] : cpu->tlb.l1d[PG_4K];
	struct tlb_entry *e = tlb_find(a, va, PG_4K, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid));
	if (likely(e && (e->allow & need[acc]))) {
		cpu->st.l1_hits++;
		sim_advance(c, cpu->mmu->m->tlb_l1_hit);
		mmu_data_touch(c, e->pfn, va);
		if (cpu->mmu->o.check)
			mmu_check_hit(cpu, va, e);
		return 0;
	}
	return mmu_access_slow(cpu, va, acc);
}

/* ---- host walks (mmu/hostwalk.c): no charges, no A/D updates; for checkers, invariant checks, tests and display ---- */

/*
 * struct mmu_hostwalk: what mmu_walk_host read: at each level l from the
 * top down to `bottom`, the entry e[l] in the table p[l]; leaf, the leaf's
 * level (0: the walk ended at a non-present table entry, or a missing table).
 */
struct mmu_hostwalk {
	uint64_t e[6];
	const struct pm_ptpage *p[6];
	int bottom, leaf;
};
/*
 * mmu_walk_host: walk sp's tables for va. Returns the leaf entry that maps
 * va (pte_is_leaf: present, PROT_NONE or empty), or 0 when the walk ends
 * at a non-present table entry. w (may be NULL) gets the path.
 */
uint64_t mmu_walk_host(const struct mmu_space *sp, uint64_t va, struct mmu_hostwalk *w);
/*
 * mmu_translate_host: as the hardware would translate va: the present leaf
 * entry (0 if none) and its level, with RW and US cleared unless every
 * level has them and NX set if any level has it.
 */
uint64_t mmu_translate_host(const struct mmu_space *sp, uint64_t va, int *level);
/*
 * mmu_visit_host: call fn for every non-zero entry of sp's tables that maps
 * part of [start, end), in address order, a table entry before the entries
 * of its table. fn returns 1 to go on (into the table, for a table entry),
 * 0 to go on without descending, -1 to stop the walk.
 */
typedef int (*mmu_visit_fn)(void *arg, const struct pm_ptpage *p, unsigned i, int level, uint64_t va, uint64_t e);
void mmu_visit_host(const struct mmu_space *sp, uint64_t start, uint64_t end, mmu_visit_fn fn, void *arg);

/*
 * mmu_map_host: install a leaf for va at `level` (1: 4 KiB, 2: 2 MiB, 3: 1 GiB)
 * pointing at pfn, creating tables as needed, on the host with no simulated
 * cost. For tests, benchmarks and fixtures only: designs write their tables
 * through charged accesses. Returns -1 if memory runs out or a huge leaf is in the way.
 */
int mmu_map_host(struct mmu_space *sp, uint64_t va, uint64_t pfn, uint64_t flags, int level);

/* ---- invalidation mechanism (the policy belongs to each design) ---- */

#define MMU_FLUSH_MAX 64

/* A batch of invalidations for one address space: `n` pages, or all of its entries if `full`. */
struct mmu_flush {
	struct mmu_space *sp;
	bool full;
	uint32_t n;
	uint64_t va[MMU_FLUSH_MAX];
};

/* mmu_flush_cost: cycles a core spends executing `f` (INVLPG each page, or one PCID flush). */
cycles_t mmu_flush_cost(const struct mmu *mmu, const struct mmu_flush *f);

/* mmu_flush_local: execute f on this core's TLBs and paging-structure caches; charges its cost. */
void mmu_flush_local(struct mmu_cpu *cpu, const struct mmu_flush *f);

/*
 * mmu_shootdown: execute f on every core in `targets` other than this one,
 * by IPI, and wait for their acknowledgements. The sender pays ipi.send
 * (+ ipi.send_extra per further target); each target takes the interrupt
 * ipi.deliver later, once its earlier interrupts are done, and is charged
 * ipi.handler plus the flush. With early_ack the target acknowledges on
 * entry, else after flushing; the ack takes ipi.ack to arrive. The sender's
 * clock ends at the last ack. Does not flush this core: call
 * mmu_flush_local for that. Returns the number of remote targets.
 */
uint32_t mmu_shootdown(struct mmu_cpu *cpu, const uint64_t *targets, const struct mmu_flush *f, bool early_ack);

/*
 * mmu_broadcast: execute f on every core in `targets` other than this one
 * by the machine's broadcast invalidation (machine.bcast, which must not be
 * none), with no interrupt on any target. INVLPGB: the sender issues one
 * INVLPGB per tlb.bcast_pages pages (one for a full flush) at
 * tlb.bcast_issue each, then TLBSYNC waits until the farthest core of the
 * machine has invalidated: two fabric crossings (coh.xfer_remote with 2
 * sockets or more, else coh.xfer_socket, else coh.xfer_ccx) plus the flush
 * on that core. RAR: one payload (tlb.bcast_issue), then an APIC message per
 * target (ipi.send, ipi.send_extra, ipi.deliver), the flush done by the
 * target's microcode, and the completion back (ipi.ack); no handler entry.
 * Targets' clocks do not move. Does not flush this core. Returns the
 * number of remote targets.
 */
uint32_t mmu_broadcast(struct mmu_cpu *cpu, const uint64_t *targets, const struct mmu_flush *f);

/*
 * mmu_pending_apply: apply, in order, the invalidations left for core c while
 * it did not run (the engine's sim.on_resume in SIM_DET). mmu_pending_drop:
 * forget them (teardown).
 */
void mmu_pending_apply(struct sim_core *c);
void mmu_pending_drop(struct mmu_cpu *cpu);

/* ---- checker windows ---- */

/* Open a window over [start, end) in sp; returns a handle for mmu_window_close. */
uint32_t mmu_window_open(struct mmu_space *sp, uint64_t start, uint64_t end);
void mmu_window_close(struct mmu_space *sp, uint32_t handle);
bool mmu_window_covers(struct mmu_space *sp, uint64_t va);

/* Sum of every core's MMU counters. */
void mmu_stats_sum(const struct mmu *mmu, struct mmu_cpu_stats *out);

#endif
