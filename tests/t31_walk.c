/* t31_walk.c: the page walker through mmu_access on a real sim: leaf sizes, 4 and 5 levels, hand-computed costs, paging-structure caches, fault codes and A/D bits. */
#include "tests/harness.h"
#include "sim/coh.h"

#include <stdio.h>
#include <string.h>

static struct machine M;

#define KB4 (1ull << 12)
#define MB2 (1ull << 21)
#define GB1 (1ull << 30)

/* Costs on the test machine. */
#define L1HIT 1ull	    /* tlb.l1.hit */
#define L2HIT 7ull	    /* tlb.l2.hit: charged once the L1 misses */
#define STEP 3ull	    /* walk.step */
#define RD 1ull		    /* PTE read of a line this core owns: coh.hit */
#define AT (1ull + 10ull)   /* atomic A/D update on an owned line: coh.hit + coh.atomic */
#define LVL (RD + STEP + AT) /* one level whose entry gets its A bit set */
#define LVL_A (RD + STEP)    /* one level whose entry already has A (and D if needed) */

#define UF (PTE_P | PTE_RW | PTE_US) /* flags of a plain user entry */

/*
 * Checks made inside a sim body are recorded and asserted afterwards on
 * the main thread (Check's failure path must not run on a core thread).
 */
struct rec {
	int line;
	const char *what;
	uint64_t got, exp;
};

#define MAX_REC 512

struct wt {
	uint32_t ncores;
	int levels;
	const struct machine *m;
	void (*fn)(struct wt *, struct sim_core *);
	struct mmu *mmu;
	struct mmu_space sp;
	uint64_t fake_pfn; /* next pfn handed out for huge leaves */
	_Atomic int nrec;
	struct rec rec[MAX_REC];
};

static void rec_eq(struct wt *w, int line, const char *what, uint64_t got, uint64_t exp)
{
	int i = atomic_fetch_add(&w->nrec, 1);
	if (i < MAX_REC)
		w->rec[i] = (struct rec){ line, what, got, exp };
}

#define EQ(got, exp) rec_eq(w, __LINE__, #got " == " #exp, (uint64_t)(got), (uint64_t)(exp))
#define TRUE(cond) rec_eq(w, __LINE__, #cond, (uint64_t)!!(cond), 1)

static void body(struct sim_core *c, void *arg)
{
	struct wt *w = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	if (c->id == 0) {
		ASSERT(mmu_space_init(w->mmu, &w->sp, c) == 0);
		mmu_switch(cpu, &w->sp);
	} else {
		/* Let core 0 build its tables first (it runs until its clock passes ours). */
		sim_advance(c, 1000000);
		sim_sync(c);
		mmu_switch(cpu, &w->sp);
	}
	w->fn(w, c);
}

/* Run fn on `ncores` cores (SIM_DET) with an MMU of `levels` levels, then assert every recorded check. */
static void run_on(uint32_t ncores, int levels, const struct machine *m, void (*fn)(struct wt *, struct sim_core *))
{
	static struct wt w; /* large: keep it off the stack */
	memset(&w, 0, sizeof(w));
	w.ncores = ncores;
	w.levels = levels;
	w.m = m;
	w.fn = fn;
	w.fake_pfn = 1ull << 30; /* far above the frames the allocator hands out, 1 GiB aligned */
	struct sim *s = test_sim(ncores, SIM_DET, m);
	struct mmu_opts o = { .nframes = 1 << 14, .levels = levels, .check = false };
	w.mmu = mmu_create(s, &o);
	sim_run(s, body, &w);
	int n = atomic_load(&w.nrec), bad = 0;
	ck_assert_int_le(n, MAX_REC);
	for (int i = 0; i < n; i++)
		if (w.rec[i].got != w.rec[i].exp) {
			fprintf(stderr, "t31_walk.c:%d: %s: got %llu (%#llx), expected %llu (%#llx)\n", w.rec[i].line,
				w.rec[i].what, (unsigned long long)w.rec[i].got, (unsigned long long)w.rec[i].got,
				(unsigned long long)w.rec[i].exp, (unsigned long long)w.rec[i].exp);
			bad++;
		}
	mmu_space_fini(&w.sp, NULL);
	mmu_destroy(w.mmu);
	sim_destroy(s);
	ck_assert_int_gt(n, 0);
	for (int i = 0; i < n; i++)
		ck_assert_msg(w.rec[i].got == w.rec[i].exp, "line %d: %s: got %llu (%#llx), expected %llu (%#llx)",
			      w.rec[i].line, w.rec[i].what, (unsigned long long)w.rec[i].got,
			      (unsigned long long)w.rec[i].got, (unsigned long long)w.rec[i].exp,
			      (unsigned long long)w.rec[i].exp);
	ck_assert_int_eq(bad, 0);
}

static void run(int levels, void (*fn)(struct wt *, struct sim_core *)) { run_on(1, levels, &M, fn); }

/* ---- building tables by hand ---- */

/*
 * The table holding level-`level` entries for va, creating missing tables
 * (on core c) linked with `link` flags.
 */
static struct pm_ptpage *table_for(struct wt *w, struct sim_core *c, uint64_t va, int level, uint64_t link)
{
	struct pm *pm = w->mmu->pm;
	struct pm_ptpage *p = w->sp.root;
	for (int l = w->levels; l > level; l--) {
		unsigned i = (unsigned)PT_INDEX(va, l);
		uint64_t e = pte_load(p, i);
		if (!(e & PTE_P)) {
			struct pm_ptpage *n = pm_pt_alloc(pm, c, l - 1);
			ASSERT(n);
			e = PTE_MK(n->pfn, link);
			pte_store(p, i, e);
		}
		p = pm_pt(pm, PTE_PFN(e));
		ASSERT(p);
	}
	return p;
}

/* Map va with a leaf at `level` (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) with `flags` (PS added for huge leaves). Returns the leaf pfn. */
static uint64_t map_leaf(struct wt *w, struct sim_core *c, uint64_t va, int level, uint64_t flags, uint64_t link)
{
	struct pm_ptpage *t = table_for(w, c, va, level, link);
	uint64_t pfn;
	if (level == 1) {
		pfn = pm_alloc(w->mmu->pm, c);
		ASSERT(pfn != 0);
	} else {
		uint64_t align = 1ull << (9 * (level - 1));
		w->fake_pfn = (w->fake_pfn + align - 1) & ~(align - 1);
		pfn = w->fake_pfn;
		w->fake_pfn += align;
		flags |= PTE_PS;
	}
	pte_store(t, (unsigned)PT_INDEX(va, level), PTE_MK(pfn, flags));
	return pfn;
}

static uint64_t map4k(struct wt *w, struct sim_core *c, uint64_t va, uint64_t flags)
{
	return map_leaf(w, c, va, 1, flags, UF);
}

/* The entry at `level` for va (0 if a table above is missing). */
static uint64_t entry_at(struct wt *w, uint64_t va, int level)
{
	struct pm *pm = w->mmu->pm;
	struct pm_ptpage *p = w->sp.root;
	for (int l = w->levels; l >= level; l--) {
		uint64_t e = pte_load(p, (unsigned)PT_INDEX(va, l));
		if (l == level)
			return e;
		if (!(e & PTE_P))
			return 0;
		p = pm_pt(pm, PTE_PFN(e));
		if (!p)
			return 0;
	}
	return 0;
}

static void set_entry(struct wt *w, uint64_t va, int level, uint64_t e)
{
	struct pm *pm = w->mmu->pm;
	struct pm_ptpage *p = w->sp.root;
	for (int l = w->levels; l > level; l--)
		p = pm_pt(pm, PTE_PFN(pte_load(p, (unsigned)PT_INDEX(va, l))));
	pte_store(p, (unsigned)PT_INDEX(va, level), e);
}

/* mmu_access, returning the fault code and the cycles it cost in *cost. */
static uint32_t acc(struct sim_core *c, uint64_t va, enum mmu_acc a, cycles_t *cost)
{
	cycles_t t0 = c->clock;
	uint32_t err = mmu_access(mmu_cpu_of(c), va, a);
	if (cost)
		*cost = c->clock - t0;
	return err;
}

static struct tlb_entry *l1d_entry(struct mmu_cpu *cpu, uint64_t va, enum pg_size sz)
{
	return tlb_find(cpu->tlb.l1d[sz], va, sz, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid));
}

/* ---- leaves, levels and costs ---- */

static void t_cold_4k_read(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 0x7f1234567000ull;
	uint64_t pfn = map4k(w, c, va, UF);
	struct mmu_cpu_stats s0 = cpu->st;
	cycles_t cost;
	EQ(acc(c, va + 0x10, ACC_R, &cost), 0);
	/* tlb.l2.hit, then 4 levels of (read + step + A-bit atomic). */
	EQ(cost, L2HIT + 4 * LVL);
	EQ(cost, 67);
	EQ(cpu->st.walks - s0.walks, 1);
	EQ(cpu->st.walk_reads - s0.walk_reads, 4);
	EQ(cpu->st.ad_updates - s0.ad_updates, 4);
	EQ(cpu->st.psc_hits - s0.psc_hits, 0);
	EQ(cpu->st.walk_cycles - s0.walk_cycles, 4 * LVL);
	EQ(cpu->st.faults - s0.faults, 0);
	/* The TLBs now hold it: L1D and STLB. */
	struct tlb_entry *e = l1d_entry(cpu, va, PG_4K);
	TRUE(e != NULL);
	if (e) {
		EQ(e->pfn, pfn);
		EQ(e->size, PG_4K);
		EQ(e->allow & (ALLOW_R | ALLOW_RW | ALLOW_X), ALLOW_R | ALLOW_RW | ALLOW_X);
		EQ(e->allow & ALLOW_W, 0); /* clean page */
	}
	TRUE(tlb_find(cpu->tlb.l2[PG_4K], va, PG_4K, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid)) != NULL);
	/* Second access: an L1 hit. */
	EQ(acc(c, va + 0x800, ACC_R, &cost), 0);
	EQ(cost, L1HIT);
	EQ(cpu->st.l1_hits - s0.l1_hits, 1);
	EQ(cpu->st.walks - s0.walks, 1);
	EQ(cpu->st.accesses - s0.accesses, 2);
	/* A set at every level; D clear on the leaf. */
	for (int l = 1; l <= 4; l++)
		EQ(entry_at(w, va, l) & PTE_A, PTE_A);
	EQ(entry_at(w, va, 1) & PTE_D, 0);
}
START_TEST(cold_4k_read) { run(4, t_cold_4k_read); }
END_TEST

static void t_cold_4k_write(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 0x1000;
	map4k(w, c, va, UF);
	struct mmu_cpu_stats s0 = cpu->st;
	cycles_t cost;
	EQ(acc(c, va, ACC_W, &cost), 0);
	/* The leaf's A and D are one atomic. */
	EQ(cost, L2HIT + 4 * LVL);
	EQ(cpu->st.ad_updates - s0.ad_updates, 4);
	EQ(entry_at(w, va, 1) & (PTE_A | PTE_D), PTE_A | PTE_D);
	for (int l = 2; l <= 4; l++)
		EQ(entry_at(w, va, l) & (PTE_A | PTE_D), PTE_A); /* D only on the leaf */
	struct tlb_entry *e = l1d_entry(cpu, va, PG_4K);
	TRUE(e && (e->allow & ALLOW_W));
	EQ(acc(c, va + 8, ACC_W, &cost), 0);
	EQ(cost, L1HIT);
	EQ(acc(c, va + 16, ACC_R, &cost), 0);
	EQ(cost, L1HIT);
	EQ(cpu->st.walks - s0.walks, 1);
}
START_TEST(cold_4k_write) { run(4, t_cold_4k_write); }
END_TEST

static void t_cold_4k_fetch(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 0x400000;
	map4k(w, c, va, UF);
	struct mmu_cpu_stats s0 = cpu->st;
	cycles_t cost;
	EQ(acc(c, va, ACC_X, &cost), 0);
	EQ(cost, L2HIT + 4 * LVL);
	/* Cached in the L1 ITLB, not the L1 DTLB. */
	TRUE(tlb_find(cpu->tlb.l1i[PG_4K], va, PG_4K, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid)) != NULL);
	TRUE(l1d_entry(cpu, va, PG_4K) == NULL);
	EQ(acc(c, va + 4, ACC_X, &cost), 0);
	EQ(cost, L1HIT);
	/* A data read misses the L1 DTLB and hits the STLB: tlb.l2.hit, no walk. */
	EQ(acc(c, va + 8, ACC_R, &cost), 0);
	EQ(cost, L2HIT);
	EQ(cpu->st.l2_hits - s0.l2_hits, 1);
	EQ(cpu->st.walks - s0.walks, 1);
	/* ... which filled the L1 DTLB. */
	EQ(acc(c, va + 12, ACC_R, &cost), 0);
	EQ(cost, L1HIT);
}
START_TEST(cold_4k_fetch) { run(4, t_cold_4k_fetch); }
END_TEST

static void t_leaf_2m(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 0x40000000ull + 3 * MB2; /* 1 GiB + 6 MiB */
	uint64_t pfn = map_leaf(w, c, va, 2, UF, UF);
	struct mmu_cpu_stats s0 = cpu->st;
	cycles_t cost;
	EQ(acc(c, va + 0x12345, ACC_R, &cost), 0);
	EQ(cost, L2HIT + 3 * LVL);
	EQ(cpu->st.walk_reads - s0.walk_reads, 3);
	struct tlb_entry *e = l1d_entry(cpu, va, PG_2M);
	TRUE(e != NULL);
	if (e) {
		EQ(e->pfn, pfn);
		EQ(e->size, PG_2M);
	}
	TRUE(tlb_find(cpu->tlb.l2[PG_2M], va, PG_2M, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid)) != NULL);
	/* Anywhere in the 2 MiB page: an L1 hit (through the 2M array), no walk. */
	EQ(acc(c, va, ACC_R, &cost), 0);
	EQ(cost, L1HIT);
	EQ(acc(c, va + MB2 - 1, ACC_R, &cost), 0);
	EQ(cost, L1HIT);
	EQ(cpu->st.walks - s0.walks, 1);
	EQ(cpu->st.l1_hits - s0.l1_hits, 2);
	EQ(entry_at(w, va, 2) & (PTE_A | PTE_D | PTE_PS), PTE_A | PTE_PS);
	/* The next 2 MiB is not mapped. */
	EQ(acc(c, va + MB2, ACC_R, NULL), PF_U);
	int level = 0;
	EQ(mmu_translate_host(&w->sp, va + 0x5000, &level), entry_at(w, va, 2));
	EQ(level, 2);
}
START_TEST(leaf_2m) { run(4, t_leaf_2m); }
END_TEST

static void t_leaf_1g(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 7 * GB1;
	uint64_t pfn = map_leaf(w, c, va, 3, UF, UF);
	struct mmu_cpu_stats s0 = cpu->st;
	cycles_t cost;
	EQ(acc(c, va + 0x2345678, ACC_W, &cost), 0);
	EQ(cost, L2HIT + 2 * LVL);
	EQ(cpu->st.walk_reads - s0.walk_reads, 2);
	struct tlb_entry *e = l1d_entry(cpu, va, PG_1G);
	TRUE(e != NULL);
	if (e) {
		EQ(e->pfn, pfn);
		EQ(e->size, PG_1G);
		TRUE(e->allow & ALLOW_W);
	}
	TRUE(tlb_find(cpu->tlb.l2[PG_1G], va, PG_1G, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid)) != NULL);
	EQ(acc(c, va + GB1 - 8, ACC_W, &cost), 0);
	EQ(cost, L1HIT);
	EQ(cpu->st.walks - s0.walks, 1);
	EQ(entry_at(w, va, 3) & (PTE_A | PTE_D), PTE_A | PTE_D);
	/* A fetch from a 1 GiB page: no 1 GiB ITLB entries, so the 2 MiB piece is cached in the L1 ITLB. */
	uint64_t x = va + 5 * MB2 + 0x100;
	EQ(acc(c, x, ACC_X, &cost), 0);
	EQ(cost, L2HIT); /* STLB-1G hit */
	e = tlb_find(cpu->tlb.l1i[PG_2M], x, PG_2M, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid));
	TRUE(e != NULL);
	if (e)
		EQ(e->pfn, pfn + 5 * 512);
	EQ(acc(c, x + 0x1000, ACC_X, &cost), 0);
	EQ(cost, L1HIT);
	int level = 0;
	EQ(mmu_translate_host(&w->sp, va + 12345, &level), entry_at(w, va, 3));
	EQ(level, 3);
}
START_TEST(leaf_1g) { run(4, t_leaf_1g); }
END_TEST

static void t_five_levels(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	/* Above 2^48 (not reachable with 4 levels) and with a non-zero PML5 index. */
	uint64_t va = (3ull << 48) + (5ull << 39) + 0x1234000ull;
	uint64_t pfn = map4k(w, c, va, UF);
	uint64_t v2 = (9ull << 48) + 11 * MB2;
	map_leaf(w, c, v2, 2, UF, UF);
	struct mmu_cpu_stats s0 = cpu->st;
	cycles_t cost;
	EQ(acc(c, va, ACC_R, &cost), 0);
	EQ(cost, L2HIT + 5 * LVL);
	EQ(cost, 82);
	EQ(cpu->st.walk_reads - s0.walk_reads, 5);
	EQ(cpu->st.ad_updates - s0.ad_updates, 5);
	struct tlb_entry *e = l1d_entry(cpu, va, PG_4K);
	TRUE(e && e->pfn == pfn);
	EQ(acc(c, va + 100, ACC_R, &cost), 0);
	EQ(cost, L1HIT);
	/* A 2 MiB leaf under a different PML5 entry: 4 levels read. */
	EQ(acc(c, v2 + 0x3000, ACC_R, &cost), 0);
	EQ(cost, L2HIT + 4 * LVL);
	EQ(cpu->st.walk_reads - s0.walk_reads, 9);
	for (int l = 1; l <= 5; l++)
		EQ(entry_at(w, va, l) & PTE_A, PTE_A);
	int level = 0;
	EQ(mmu_translate_host(&w->sp, va, &level), entry_at(w, va, 1));
	EQ(level, 1);
	/* The same va with its PML5 index dropped is a different (unmapped) address. */
	EQ(acc(c, va & ((1ull << 48) - 1), ACC_R, NULL), PF_U);
}
START_TEST(five_levels) { run(5, t_five_levels); }
END_TEST

static void t_prefilled_a(struct wt *w, struct sim_core *c)
{
	/* Entries that already have A (and D) need no atomic: only reads and steps. */
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 0x200000000ull, vb = va + 0x40000000ull;
	map_leaf(w, c, va, 1, UF | PTE_A | PTE_D, UF | PTE_A);
	map_leaf(w, c, vb, 1, UF | PTE_A, UF | PTE_A);
	struct mmu_cpu_stats s0 = cpu->st;
	cycles_t cost;
	EQ(acc(c, va, ACC_W, &cost), 0);
	EQ(cost, L2HIT + 4 * LVL_A);
	EQ(cost, 23);
	EQ(cpu->st.ad_updates - s0.ad_updates, 0);
	/* vb (another PDPT entry): a write sets D on the leaf only, one atomic. PSC: PML4 hit, 3 levels read. */
	s0 = cpu->st;
	EQ(acc(c, vb, ACC_W, &cost), 0);
	EQ(cost, L2HIT + 3 * LVL_A + AT);
	EQ(cpu->st.ad_updates - s0.ad_updates, 1);
	EQ(cpu->st.walk_reads - s0.walk_reads, 3);
	EQ(cpu->st.psc_hits - s0.psc_hits, 1);
	EQ(entry_at(w, vb, 1) & PTE_D, PTE_D);
}
START_TEST(prefilled_a) { run(4, t_prefilled_a); }
END_TEST

static void t_remote_tables(struct wt *w, struct sim_core *c)
{
	/* Tables built (and so cached) by core 0, walked by core 1 of the same CCX. */
	static const uint64_t va = 0x5000;
	if (c->id == 0) {
		map4k(w, c, va, UF);
		return;
	}
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	cycles_t cost;
	EQ(acc(c, va, ACC_R, &cost), 0);
	/*
	 * Per level: the read moves the line from core 0 (coh.xfer_ccx 20), step 3,
	 * then the A-bit atomic invalidates core 0's copy (xfer_ccx 20) + coh.atomic 10.
	 */
	EQ(cost, L2HIT + 4 * (20 + STEP + 20 + 10));
	EQ(cost, 219);
	EQ(cpu->st.walk_reads, 4);
	/* Core 1 now owns those lines: a second page in the same PT costs a local read + atomic (PSC hit). */
	map4k(w, c, va + KB4, UF);
	EQ(acc(c, va + KB4, ACC_R, &cost), 0);
	EQ(cost, L2HIT + LVL);
}
START_TEST(remote_tables) { run_on(2, 4, &M, t_remote_tables); }
END_TEST

/* ---- paging-structure caches ---- */

static void t_psc(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 0x10000000ull;	       /* 256 MiB */
	uint64_t same_pt = va + 7 * KB4;       /* same PT (same 2 MiB) */
	uint64_t same_pd = va + 5 * MB2;       /* same PD, another PT */
	uint64_t same_pdpt = va + 2 * GB1;     /* same PDPT, another PD */
	uint64_t same_pml4 = va + (3ull << 39); /* another PDPT */
	map4k(w, c, va, UF);
	map4k(w, c, same_pt, UF);
	map4k(w, c, same_pd, UF);
	map4k(w, c, same_pdpt, UF);
	map4k(w, c, same_pml4, UF);
	struct mmu_cpu_stats s0 = cpu->st;
	cycles_t cost;
	EQ(acc(c, va, ACC_R, &cost), 0);
	EQ(cpu->st.walk_reads - s0.walk_reads, 4);
	EQ(cpu->st.psc_hits - s0.psc_hits, 0);

	/* Same PD entry: the PDE cache gives the PT; one level read. */
	s0 = cpu->st;
	EQ(acc(c, same_pt, ACC_R, &cost), 0);
	EQ(cpu->st.walk_reads - s0.walk_reads, 1);
	EQ(cpu->st.psc_hits - s0.psc_hits, 1);
	EQ(cost, L2HIT + LVL);

	/* Same PDPT entry: the PDPT cache gives the PD; two levels read. */
	s0 = cpu->st;
	EQ(acc(c, same_pd, ACC_R, &cost), 0);
	EQ(cpu->st.walk_reads - s0.walk_reads, 2);
	EQ(cpu->st.psc_hits - s0.psc_hits, 1);
	EQ(cost, L2HIT + 2 * LVL);

	/* Same PML4 entry: three levels read. */
	s0 = cpu->st;
	EQ(acc(c, same_pdpt, ACC_R, &cost), 0);
	EQ(cpu->st.walk_reads - s0.walk_reads, 3);
	EQ(cpu->st.psc_hits - s0.psc_hits, 1);
	EQ(cost, L2HIT + 3 * LVL);

	/* Another PML4 entry: a full walk. */
	s0 = cpu->st;
	EQ(acc(c, same_pml4, ACC_R, &cost), 0);
	EQ(cpu->st.walk_reads - s0.walk_reads, 4);
	EQ(cpu->st.psc_hits - s0.psc_hits, 0);
	EQ(cost, L2HIT + 4 * LVL);

	/* Every translation is the right one (checked in the STLB: four of them share set 0 of the 2-way L1D). */
	uint64_t vas[] = { va, same_pt, same_pd, same_pdpt, same_pml4 };
	for (unsigned i = 0; i < ARRAY_SIZE(vas); i++) {
		struct tlb_entry *e = tlb_find(cpu->tlb.l2[PG_4K], vas[i], PG_4K, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid));
		TRUE(e != NULL);
		if (e)
			EQ(e->pfn, PTE_PFN(entry_at(w, vas[i], 1)));
	}
}
START_TEST(psc_shortens_walks) { run(4, t_psc); }
END_TEST

static void t_psc_refill(struct wt *w, struct sim_core *c)
{
	/*
	 * Walks that start from a paging-structure-cache hit must keep the
	 * caches pointing at the right tables. r1 and r3 are two 2 MiB regions
	 * under one PD, each with its own PT; r1's PT maps four pages, r3's one.
	 */
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t r1 = 0x30000000ull, r3 = r1 + 2 * MB2;
	uint64_t p1[4];
	for (int i = 0; i < 4; i++)
		p1[i] = map4k(w, c, r1 + (uint64_t)(i + 1) * 16 * KB4, UF);
	uint64_t p3 = map4k(w, c, r3 + 3 * KB4, UF);
	cycles_t cost;
	EQ(acc(c, r1 + 16 * KB4, ACC_R, &cost), 0); /* full walk */
	EQ(acc(c, r3 + 3 * KB4, ACC_R, &cost), 0);  /* PDPT-cache hit, then PD and PT */
	struct mmu_cpu_stats s0 = cpu->st;
	for (int i = 1; i < 4; i++) {
		/* PDE-cache hit for r1: read r1's PT. */
		uint64_t va = r1 + (uint64_t)(i + 1) * 16 * KB4;
		EQ(acc(c, va, ACC_R, &cost), 0);
		struct tlb_entry *e = l1d_entry(cpu, va, PG_4K);
		TRUE(e != NULL);
		if (e)
			EQ(e->pfn, p1[i]);
	}
	EQ(cpu->st.walk_reads - s0.walk_reads, 3);
	EQ(cpu->st.faults - s0.faults, 0);
	/* And r3 again, from its PDE-cache entry. */
	tlb_invlpg(&cpu->tlb, r3, cpu->pcid);
	EQ(acc(c, r3 + 3 * KB4, ACC_R, &cost), 0);
	struct tlb_entry *e = l1d_entry(cpu, r3 + 3 * KB4, PG_4K);
	TRUE(e && e->pfn == p3);
}
START_TEST(psc_refill_keeps_tables) { run(4, t_psc_refill); }
END_TEST

/* ---- fault codes ---- */

static void t_not_present(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 0x600000;
	map4k(w, c, va, UF);
	uint64_t hole = va + KB4; /* PT entry is zero */
	struct mmu_cpu_stats s0 = cpu->st;
	cycles_t cost;
	EQ(acc(c, hole, ACC_R, &cost), PF_U);
	/* The upper levels got their A bits; the empty PT entry is read, not updated. */
	EQ(cost, L2HIT + 3 * LVL + LVL_A);
	EQ(acc(c, hole, ACC_W, NULL), PF_U | PF_W);
	EQ(acc(c, hole, ACC_X, NULL), PF_U | PF_I);
	EQ(cpu->st.faults - s0.faults, 3);
	EQ(cpu->st.walks - s0.walks, 3);
	EQ(entry_at(w, hole, 1), 0); /* untouched */
	/* Not present at the top: one read. */
	s0 = cpu->st;
	EQ(acc(c, 5ull << 39, ACC_R, &cost), PF_U);
	EQ(cpu->st.walk_reads - s0.walk_reads, 1);
	/* Nothing was cached for the faulting pages. */
	TRUE(l1d_entry(cpu, hole, PG_4K) == NULL);
	TRUE(tlb_find(cpu->tlb.l2[PG_4K], hole, PG_4K, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid)) == NULL);
	/* Clearing P on a PD entry: not present at level 2. */
	set_entry(w, va, 2, entry_at(w, va, 2) & ~PTE_P);
	tlb_invlpg(&cpu->tlb, va, cpu->pcid);
	(*mmu_psc_gen(cpu, cpu->pcid))++; /* drop the PSCs too, as INVLPG does */
	EQ(acc(c, va, ACC_W, NULL), PF_U | PF_W);
}
START_TEST(fault_not_present) { run(4, t_not_present); }
END_TEST

static void t_protection(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t ro = 0x1000000, sup = ro + KB4, nx = ro + 2 * KB4;
	uint64_t ro_pd = 0x8000000000ull; /* another PML4 entry; read-only at its PD entry */
	uint64_t sup_pdpt = 0x10000000000ull, nx_pd = 0x18000000000ull;
	map4k(w, c, ro, PTE_P | PTE_US);
	map4k(w, c, sup, PTE_P | PTE_RW);
	map4k(w, c, nx, UF | PTE_NX);
	map4k(w, c, ro_pd, UF);
	set_entry(w, ro_pd, 2, entry_at(w, ro_pd, 2) & ~PTE_RW);
	map4k(w, c, sup_pdpt, UF);
	set_entry(w, sup_pdpt, 3, entry_at(w, sup_pdpt, 3) & ~PTE_US);
	map4k(w, c, nx_pd, UF);
	set_entry(w, nx_pd, 2, entry_at(w, nx_pd, 2) | PTE_NX);
	struct mmu_cpu_stats s0 = cpu->st;

	/* Read-only leaf: reads and fetches work, a write faults. */
	EQ(acc(c, ro, ACC_R, NULL), 0);
	EQ(acc(c, ro, ACC_X, NULL), 0);
	EQ(acc(c, ro, ACC_W, NULL), PF_P | PF_W | PF_U);
	EQ(entry_at(w, ro, 1) & PTE_D, 0);
	/* The write did not leave a writable entry behind. */
	struct tlb_entry *e = l1d_entry(cpu, ro, PG_4K);
	TRUE(e == NULL || !(e->allow & (ALLOW_W | ALLOW_RW)));
	EQ(acc(c, ro, ACC_W, NULL), PF_P | PF_W | PF_U);
	/* Read-only higher up: same. */
	EQ(acc(c, ro_pd, ACC_R, NULL), 0);
	EQ(acc(c, ro_pd, ACC_W, NULL), PF_P | PF_W | PF_U);

	/* Supervisor page: every user access faults as a protection fault. */
	EQ(acc(c, sup, ACC_R, NULL), PF_P | PF_U);
	EQ(acc(c, sup, ACC_W, NULL), PF_P | PF_W | PF_U);
	EQ(acc(c, sup, ACC_X, NULL), PF_P | PF_I | PF_U);
	EQ(acc(c, sup_pdpt, ACC_R, NULL), PF_P | PF_U);

	/* NX: reads and writes work, a fetch faults. */
	EQ(acc(c, nx, ACC_R, NULL), 0);
	EQ(acc(c, nx, ACC_W, NULL), 0);
	EQ(acc(c, nx, ACC_X, NULL), PF_P | PF_I | PF_U);
	e = tlb_find(cpu->tlb.l1i[PG_4K], nx, PG_4K, cpu->pcid, *tlb_gen(&cpu->tlb, cpu->pcid));
	TRUE(e == NULL);
	EQ(acc(c, nx_pd, ACC_R, NULL), 0);
	EQ(acc(c, nx_pd, ACC_X, NULL), PF_P | PF_I | PF_U);

	EQ(cpu->st.faults - s0.faults, 9);
}
START_TEST(fault_protection) { run(4, t_protection); }
END_TEST

static void t_rsvd(struct wt *w, struct sim_core *c)
{
	/* PS in a PML4 entry is reserved: a protection-style fault with RSVD. */
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 2ull << 39;
	struct pm_ptpage *pdpt = pm_pt_alloc(w->mmu->pm, c, 3);
	pte_store(w->sp.root, (unsigned)PT_INDEX(va, 4), PTE_MK(pdpt->pfn, UF | PTE_PS));
	EQ(acc(c, va, ACC_R, NULL), PF_RSVD | PF_P | PF_U);
	EQ(acc(c, va, ACC_W, NULL), PF_RSVD | PF_P | PF_W | PF_U);
	EQ(cpu->st.faults, 2);
	EQ(cpu->st.walk_reads, 2);
}
START_TEST(fault_rsvd_ps_level4) { run(4, t_rsvd); }
END_TEST

static void t_rsvd5(struct wt *w, struct sim_core *c)
{
	/* 5 levels: PS at level 5 and at level 4 are both reserved. */
	uint64_t v5 = 1ull << 48, v4 = 2ull << 48;
	struct pm_ptpage *p4 = pm_pt_alloc(w->mmu->pm, c, 4);
	pte_store(w->sp.root, (unsigned)PT_INDEX(v5, 5), PTE_MK(p4->pfn, UF | PTE_PS));
	struct pm_ptpage *t4 = table_for(w, c, v4, 4, UF);
	struct pm_ptpage *p3 = pm_pt_alloc(w->mmu->pm, c, 3);
	pte_store(t4, (unsigned)PT_INDEX(v4, 4), PTE_MK(p3->pfn, UF | PTE_PS));
	EQ(acc(c, v5, ACC_R, NULL), PF_RSVD | PF_P | PF_U);
	EQ(acc(c, v4, ACC_X, NULL), PF_RSVD | PF_P | PF_I | PF_U);
}
START_TEST(fault_rsvd_ps_level5) { run(5, t_rsvd5); }
END_TEST

/* ---- accessed and dirty bits ---- */

static void t_ad(struct wt *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = 0x7000000;
	map4k(w, c, va, UF);
	cycles_t cost;
	EQ(acc(c, va, ACC_R, &cost), 0);
	EQ(entry_at(w, va, 1) & (PTE_A | PTE_D), PTE_A);
	struct tlb_entry *e = l1d_entry(cpu, va, PG_4K);
	TRUE(e != NULL);
	if (e) {
		TRUE(e->allow & ALLOW_RW);    /* writable in the tables */
		TRUE(!(e->allow & ALLOW_W)); /* but not dirty: a write cannot complete from the TLB */
	}
	/* A write re-walks (from the PDE cache) to set D: one read, one atomic. */
	struct mmu_cpu_stats s0 = cpu->st;
	EQ(acc(c, va + 4, ACC_W, &cost), 0);
	EQ(cpu->st.walks - s0.walks, 1);
	EQ(cpu->st.l1_hits - s0.l1_hits, 0);
	EQ(cpu->st.l2_hits - s0.l2_hits, 0);
	EQ(cpu->st.ad_updates - s0.ad_updates, 1);
	EQ(cpu->st.walk_reads - s0.walk_reads, 1);
	EQ(cost, L2HIT + RD + STEP + AT);
	EQ(entry_at(w, va, 1) & (PTE_A | PTE_D), PTE_A | PTE_D);
	e = l1d_entry(cpu, va, PG_4K);
	TRUE(e && (e->allow & ALLOW_W));
	/* Now writes hit. */
	EQ(acc(c, va + 8, ACC_W, &cost), 0);
	EQ(cost, L1HIT);
	EQ(cpu->st.walks - s0.walks, 1);

	/* If software clears D (and flushes), the next write sets it again. */
	set_entry(w, va, 1, entry_at(w, va, 1) & ~PTE_D);
	tlb_invlpg(&cpu->tlb, va, cpu->pcid);
	EQ(acc(c, va, ACC_R, NULL), 0);
	EQ(entry_at(w, va, 1) & PTE_D, 0);
	EQ(acc(c, va, ACC_W, NULL), 0);
	EQ(entry_at(w, va, 1) & PTE_D, PTE_D);

	/* A read-only page: a failed write sets no D. */
	uint64_t ro = va + KB4;
	map4k(w, c, ro, PTE_P | PTE_US);
	EQ(acc(c, ro, ACC_W, NULL), PF_P | PF_W | PF_U);
	EQ(entry_at(w, ro, 1) & PTE_D, 0);
}
START_TEST(accessed_dirty) { run(4, t_ad); }
END_TEST

/* ---- the host translation ---- */

static void t_translate_host(struct wt *w, struct sim_core *c)
{
	uint64_t v4 = 0x123456000ull, v2 = 0x2000000000ull + 7 * MB2, v1 = 0x3000000000ull + 4 * GB1;
	map4k(w, c, v4, UF);
	map_leaf(w, c, v2, 2, UF, UF);
	map_leaf(w, c, v1, 3, UF | PTE_NX, UF);
	/* After real accesses (A/D set), host translation returns the leaf as stored. */
	EQ(acc(c, v4, ACC_W, NULL), 0);
	EQ(acc(c, v2, ACC_R, NULL), 0);
	EQ(acc(c, v1, ACC_R, NULL), 0);
	uint64_t vas[3] = { v4, v2 + 0x1234, v1 + 0x7654321 };
	int want[3] = { 1, 2, 3 };
	for (int i = 0; i < 3; i++) {
		int level = 0;
		uint64_t e = mmu_translate_host(&w->sp, vas[i], &level);
		EQ(e, entry_at(w, vas[i], want[i]));
		EQ(level, want[i]);
		TRUE(e & PTE_A);
	}
	EQ(mmu_translate_host(&w->sp, v4, NULL), entry_at(w, v4, 1));
	/* No charges and no A/D updates on the host path. */
	uint64_t v5 = v4 + KB4;
	map4k(w, c, v5, UF);
	cycles_t t0 = c->clock;
	uint64_t e5 = mmu_translate_host(&w->sp, v5, NULL);
	EQ(c->clock, t0);
	EQ(e5 & PTE_A, 0);
	EQ(entry_at(w, v5, 1) & PTE_A, 0);
	/* Unmapped: 0. */
	EQ(mmu_translate_host(&w->sp, v5 + KB4, NULL), 0);
	/* RW and US are kept only if every level has them; NX from any level. */
	set_entry(w, v4, 3, entry_at(w, v4, 3) & ~PTE_RW);
	uint64_t e = mmu_translate_host(&w->sp, v4, NULL);
	EQ(e & PTE_RW, 0);
	EQ(e & PTE_PFN_MASK, entry_at(w, v4, 1) & PTE_PFN_MASK);
	set_entry(w, v2, 4, entry_at(w, v2, 4) | PTE_NX);
	e = mmu_translate_host(&w->sp, v2, NULL);
	EQ(e & PTE_NX, PTE_NX);
	EQ(e & (PTE_RW | PTE_US), PTE_RW | PTE_US);
	EQ(mmu_translate_host(&w->sp, v1, NULL) & PTE_NX, PTE_NX);
}
START_TEST(translate_host) { run(4, t_translate_host); }
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t31_walk");
	TCase *tc = tcase_create("walk");
	tcase_add_test(tc, cold_4k_read);
	tcase_add_test(tc, cold_4k_write);
	tcase_add_test(tc, cold_4k_fetch);
	tcase_add_test(tc, leaf_2m);
	tcase_add_test(tc, leaf_1g);
	tcase_add_test(tc, five_levels);
	tcase_add_test(tc, prefilled_a);
	tcase_add_test(tc, remote_tables);
	tcase_add_test(tc, psc_shortens_walks);
	tcase_add_test(tc, psc_refill_keeps_tables);
	tcase_add_test(tc, fault_not_present);
	tcase_add_test(tc, fault_protection);
	tcase_add_test(tc, fault_rsvd_ps_level4);
	tcase_add_test(tc, fault_rsvd_ps_level5);
	tcase_add_test(tc, accessed_dirty);
	tcase_add_test(tc, translate_host);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
