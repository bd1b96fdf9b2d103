/* t32_shootdown.c: the invalidation mechanism: local flushes, IPI shootdowns (effect and exact cost, SIM_DET and SIM_PAR) and the TLB coherence checker. */
#include "tests/harness.h"

#include <stdio.h>
#include <string.h>

static struct machine M;

#define KB4 (1ull << 12)
#define UF (PTE_P | PTE_RW | PTE_US)

/* IPI costs of the test machine. */
#define SEND 100ull
#define SEND_EXTRA 50ull
#define DELIVER 500ull
#define HANDLER 300ull
#define ACK 100ull
#define INVLPG 100ull
#define FLUSH_PCID 200ull

/* Times (cycles) at which the cores act, far apart so the order in simulated time is clear. */
#define T_CACHE 0	 /* everybody loads the translation */
#define T_CHANGE 50000	 /* core 0 changes the tables (and shoots down) */
#define T_AFTER 100000	 /* the others look again */
#define T_LATE 150000
#define T_LATER 200000

/*
 * Checks made on core threads are recorded and asserted on the main thread
 * after sim_run (Check's failure path must not run on a core thread).
 */
struct rec {
	int line;
	const char *what;
	uint64_t got, exp;
};

#define MAX_REC 512

struct st {
	uint32_t ncores;
	enum sim_mode mode;
	void (*fn)(struct st *, struct sim_core *);
	struct sim *sim;
	struct mmu *mmu;
	struct mmu_space sp;
	uint64_t va[8];
	uint64_t pfn[8];
	cycles_t sender_cost, cost2;
	_Atomic int nrec;
	struct rec rec[MAX_REC];
};

static void rec_eq(struct st *w, int line, const char *what, uint64_t got, uint64_t exp)
{
	int i = atomic_fetch_add(&w->nrec, 1);
	if (i < MAX_REC)
		w->rec[i] = (struct rec){ line, what, got, exp };
}

#define EQ(got, exp) rec_eq(w, __LINE__, #got " == " #exp, (uint64_t)(got), (uint64_t)(exp))
#define TRUE(cond) rec_eq(w, __LINE__, #cond, (uint64_t)!!(cond), 1)

/* Put c at simulated time t (it must not be past it) and let every earlier core run first. */
static void advance_to(struct sim_core *c, cycles_t t)
{
	ASSERT(c->clock <= t);
	sim_advance(c, t - c->clock);
	sim_sync(c);
}

static void body(struct sim_core *c, void *arg)
{
	struct st *w = arg;
	mmu_switch(mmu_cpu_of(c), &w->sp);
	w->fn(w, c);
}

static void rec_check(struct st *w)
{
	int n = atomic_load(&w->nrec), bad = 0;
	ck_assert_int_le(n, MAX_REC);
	ck_assert_int_gt(n, 0);
	for (int i = 0; i < n; i++)
		if (w->rec[i].got != w->rec[i].exp) {
			fprintf(stderr, "t32_shootdown.c:%d: %s: got %llu, expected %llu\n", w->rec[i].line,
				w->rec[i].what, (unsigned long long)w->rec[i].got, (unsigned long long)w->rec[i].exp);
			bad++;
		}
	for (int i = 0; i < n; i++)
		ck_assert_msg(w->rec[i].got == w->rec[i].exp, "line %d: %s: got %llu, expected %llu", w->rec[i].line,
			      w->rec[i].what, (unsigned long long)w->rec[i].got, (unsigned long long)w->rec[i].exp);
	ck_assert_int_eq(bad, 0);
}

/*
 * Set up `ncores` cores in `mode`, an MMU (checker on if `check`) and one
 * space with 4 KiB pages at w->va[0..npages) mapped on the host, then run fn.
 * The caller asserts on the sim and MMU afterwards and calls teardown().
 */
static struct st *setup(uint32_t ncores, enum sim_mode mode, bool check, uint32_t npages,
			void (*fn)(struct st *, struct sim_core *))
{
	static struct st w;
	memset(&w, 0, sizeof(w));
	w.ncores = ncores;
	w.mode = mode;
	w.fn = fn;
	w.sim = test_sim(ncores, mode, &M);
	struct mmu_opts o = { .nframes = 1 << 12, .levels = 4, .check = check };
	w.mmu = mmu_create(w.sim, &o);
	ck_assert_int_eq(mmu_space_init(w.mmu, &w.sp, NULL), 0);
	for (uint32_t i = 0; i < npages; i++) {
		w.va[i] = 0x7f0000000000ull + i * KB4;
		w.pfn[i] = pm_alloc(w.mmu->pm, NULL);
		ck_assert_uint_ne(w.pfn[i], 0);
		ck_assert_int_eq(mmu_map_host(&w.sp, w.va[i], w.pfn[i], UF, 1), 0);
	}
	return &w;
}

static void run(struct st *w)
{
	sim_run(w->sim, body, w);
	rec_check(w);
}

static void teardown(struct st *w)
{
	mmu_space_fini(&w->sp, NULL);
	mmu_destroy(w->mmu);
	sim_destroy(w->sim);
}

/* The leaf table of va in w's space. */
static struct pm_ptpage *leaf_table(struct st *w, uint64_t va)
{
	struct pm_ptpage *p = w->sp.root;
	for (int l = 4; l > 1; l--)
		p = pm_pt(w->mmu->pm, PTE_PFN(pte_load(p, (unsigned)PT_INDEX(va, l))));
	return p;
}

static void set_leaf(struct st *w, uint64_t va, uint64_t e) { pte_store(leaf_table(w, va), (unsigned)PT_INDEX(va, 1), e); }
static uint64_t get_leaf(struct st *w, uint64_t va) { return pte_load(leaf_table(w, va), (unsigned)PT_INDEX(va, 1)); }

static bool cached(struct mmu_cpu *cpu, uint64_t va)
{
	uint32_t gen = *tlb_gen(&cpu->tlb, cpu->pcid);
	return tlb_find(cpu->tlb.l1d[PG_4K], va, PG_4K, cpu->pcid, gen) ||
	       tlb_find(cpu->tlb.l2[PG_4K], va, PG_4K, cpu->pcid, gen);
}

static void mask_all_but(uint64_t *m, uint32_t ncores, uint32_t self)
{
	memset(m, 0, sizeof(uint64_t) * SIM_MASK_WORDS);
	for (uint32_t i = 0; i < ncores; i++)
		if (i != self)
			m[i / 64] |= 1ull << (i % 64);
}

static cycles_t expected_sender(uint32_t k, cycles_t flush, bool early)
{
	if (!k)
		return 0; /* nothing sent */
	return SEND + (k - 1) * SEND_EXTRA + DELIVER + (early ? 0 : HANDLER + flush) + ACK;
}

/* ---- the basic shootdown, in both modes ---- */

static void t_basic(struct st *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = w->va[0];
	/* Everybody caches the translation. */
	EQ(mmu_access(cpu, va, ACC_R), 0);
	TRUE(cached(cpu, va));
	if (c->id == 0) {
		advance_to(c, T_CHANGE);
		/* Unmap, flush here, shoot down everybody else. */
		set_leaf(w, va, 0);
		struct mmu_flush f = { .sp = &w->sp, .n = 1, .va = { va } };
		mmu_flush_local(cpu, &f);
		EQ(c->clock, T_CHANGE + INVLPG);
		TRUE(!cached(cpu, va));
		uint64_t targets[SIM_MASK_WORDS];
		mask_all_but(targets, w->ncores, 0);
		cycles_t t0 = c->clock;
		EQ(mmu_shootdown(cpu, targets, &f, false), w->ncores - 1);
		w->sender_cost = c->clock - t0;
		/* The sender's own next access faults. */
		EQ(mmu_access(cpu, va, ACC_R), PF_U);
	} else {
		advance_to(c, T_AFTER);
		/* The IPI ran here while this core waited: handler + one INVLPG were charged to it. */
		EQ(c->clock, T_AFTER + HANDLER + INVLPG);
		TRUE(!cached(cpu, va));
		uint64_t walks = cpu->st.walks;
		EQ(mmu_access(cpu, va, ACC_R), PF_U);
		EQ(cpu->st.walks, walks + 1);
	}
}

static void basic(uint32_t ncores, enum sim_mode mode)
{
	struct st *w = setup(ncores, mode, true, 1, t_basic);
	run(w);
	uint32_t k = ncores - 1;
	ck_assert_uint_eq(w->sender_cost, expected_sender(k, INVLPG, false));
	struct mmu_cpu *s = &w->mmu->cpus[0];
	ck_assert_uint_eq(s->st.shootdowns, 1);
	ck_assert_uint_eq(s->st.shootdown_targets, k);
	ck_assert_uint_eq(s->st.shootdown_wait, expected_sender(k, INVLPG, false));
	ck_assert_uint_eq(w->sim->cores[0].st.irqs_sent, k);
	ck_assert_uint_eq(w->sim->cores[0].st.irq_cycles, 0);
	for (uint32_t i = 1; i < ncores; i++) {
		ck_assert_uint_eq(w->sim->cores[i].st.irq_cycles, HANDLER + INVLPG);
		ck_assert_uint_eq(w->sim->cores[i].st.irqs_taken, 1);
		ck_assert_uint_eq(w->mmu->cpus[i].st.invlpg, 1);
		ck_assert_uint_eq(w->mmu->cpus[i].st.faults, 1);
		ck_assert_uint_eq(tlb_count_live(&w->mmu->cpus[i].tlb, w->sp.pcid), 0);
	}
	/* The protocol was followed: the checker saw no stale hit. */
	struct mmu_cpu_stats sum;
	mmu_stats_sum(w->mmu, &sum);
	ck_assert_uint_eq(sum.tlb_violations, 0);
	teardown(w);
}

START_TEST(basic_det_2) { basic(2, SIM_DET); }
END_TEST
START_TEST(basic_det_4) { basic(4, SIM_DET); }
END_TEST
START_TEST(basic_det_8) { basic(8, SIM_DET); }
END_TEST
START_TEST(basic_par_2) { basic(2, SIM_PAR); }
END_TEST
START_TEST(basic_par_4) { basic(4, SIM_PAR); }
END_TEST
START_TEST(basic_par_8) { basic(8, SIM_PAR); }
END_TEST

/* ---- exact costs ---- */

struct cost_case {
	uint32_t ncores, sender;
	uint64_t targets; /* bit mask (may include the sender, which is skipped) */
	uint32_t npages;  /* 0: a full (PCID) flush */
	bool early;
};

static struct cost_case CC;

static void t_cost(struct st *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	if (c->id != CC.sender)
		return;
	advance_to(c, T_CHANGE);
	struct mmu_flush f = { .sp = &w->sp, .full = CC.npages == 0, .n = CC.npages };
	for (uint32_t i = 0; i < CC.npages; i++)
		f.va[i] = w->va[i];
	uint64_t targets[SIM_MASK_WORDS] = { CC.targets };
	cycles_t t0 = c->clock;
	uint32_t k = mmu_shootdown(cpu, targets, &f, CC.early);
	w->sender_cost = c->clock - t0;
	EQ(k, (uint32_t)popcount64(CC.targets & ~(1ull << CC.sender)));
}

static void cost_case(uint32_t ncores, uint32_t sender, uint64_t targets, uint32_t npages, bool early)
{
	CC = (struct cost_case){ ncores, sender, targets, npages, early };
	struct st *w = setup(ncores, SIM_DET, false, 4, t_cost);
	run(w);
	uint64_t remote = targets & ~(1ull << sender);
	uint32_t k = (uint32_t)popcount64(remote);
	cycles_t flush = npages ? npages * INVLPG : FLUSH_PCID;
	ck_assert_msg(w->sender_cost == expected_sender(k, flush, early),
		      "%u cores, sender %u, targets %#llx, %u pages, early %d: cost %llu, expected %llu", ncores, sender,
		      (unsigned long long)targets, npages, early, (unsigned long long)w->sender_cost,
		      (unsigned long long)expected_sender(k, flush, early));
	for (uint32_t i = 0; i < ncores; i++) {
		bool t = remote >> i & 1;
		ck_assert_msg(w->sim->cores[i].st.irq_cycles == (t ? HANDLER + flush : 0), "core %u irq_cycles %llu", i,
			      (unsigned long long)w->sim->cores[i].st.irq_cycles);
		ck_assert_uint_eq(w->sim->cores[i].st.irqs_taken, t ? 1 : 0);
	}
	ck_assert_uint_eq(w->mmu->cpus[sender].st.shootdown_targets, k);
	teardown(w);
}

START_TEST(cost_one_target)
{
	cost_case(2, 0, 0x2, 1, false);
	ck_assert_uint_eq(expected_sender(1, INVLPG, false), 1100); /* 100 + 500 + 300 + 100 + 100 */
}
END_TEST

START_TEST(cost_k_targets)
{
	/* k targets: the last is sent (k-1) x send_extra after the first and acks last. */
	cost_case(4, 0, 0xe, 1, false);	 /* k = 3 */
	cost_case(8, 0, 0xfe, 1, false); /* k = 7 */
	ck_assert_uint_eq(expected_sender(7, INVLPG, false), 100 + 6 * 50 + 500 + 300 + 100 + 100);
	/* Sender in the middle, mask including itself: it is skipped. */
	cost_case(8, 3, 0xff, 1, false);
	cost_case(8, 5, 0x24, 1, false); /* cores 2 and 5: k = 1 */
	cost_case(8, 6, 0x0a, 1, false); /* cores 1 and 3 */
}
END_TEST

START_TEST(cost_pages_and_full)
{
	cost_case(4, 0, 0xe, 3, false); /* 3 INVLPGs per target */
	cost_case(4, 1, 0xd, 0, false); /* a PCID flush */
	ck_assert_uint_eq(expected_sender(3, FLUSH_PCID, false), 100 + 2 * 50 + 500 + 300 + 200 + 100);
}
END_TEST

START_TEST(cost_early_ack)
{
	/* With early ack the sender does not wait for handler + flush; targets are still charged for them. */
	cost_case(2, 0, 0x2, 1, true);
	ck_assert_uint_eq(expected_sender(1, INVLPG, true), 700);
	cost_case(8, 0, 0xfe, 4, true);
	cost_case(4, 2, 0xf, 0, true);
}
END_TEST

START_TEST(cost_no_targets)
{
	/* Only the sender in the mask: no IPI, no charge. */
	cost_case(4, 2, 0x4, 1, false);
}
END_TEST

static void t_cost_empty(struct st *w, struct sim_core *c)
{
	if (c->id != 0)
		return;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	advance_to(c, T_CHANGE);
	uint64_t targets[SIM_MASK_WORDS] = { 0x2 };
	struct mmu_flush f = { .sp = &w->sp, .n = 0 };
	cycles_t t0 = c->clock;
	EQ(mmu_shootdown(cpu, targets, &f, false), 0); /* nothing to flush: nothing sent */
	mmu_flush_local(cpu, &f);
	EQ(c->clock, t0);
}

START_TEST(cost_empty_flush)
{
	struct st *w = setup(2, SIM_DET, false, 1, t_cost_empty);
	run(w);
	ck_assert_uint_eq(w->sim->cores[1].st.irq_cycles, 0);
	ck_assert_uint_eq(w->sim->cores[0].st.irqs_sent, 0);
	teardown(w);
}
END_TEST

static void t_queue(struct st *w, struct sim_core *c)
{
	/*
	 * Cores 0 and 2 shoot down core 1 almost together: core 2's IPI arrives
	 * while core 1 still runs core 0's handler, so it starts when that ends.
	 */
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	if (c->id == 1)
		return;
	advance_to(c, T_CHANGE + (c->id == 2 ? 10 : 0));
	struct mmu_flush f = { .sp = &w->sp, .n = 1, .va = { w->va[0] } };
	uint64_t targets[SIM_MASK_WORDS] = { 0x2 };
	cycles_t t0 = c->clock;
	EQ(mmu_shootdown(cpu, targets, &f, false), 1);
	if (c->id == 0)
		w->sender_cost = c->clock - t0;
	else
		w->cost2 = c->clock - t0;
}

START_TEST(cost_queued_behind_earlier_irq)
{
	struct st *w = setup(3, SIM_DET, false, 1, t_queue);
	run(w);
	cycles_t work = HANDLER + INVLPG;
	ck_assert_uint_eq(w->sender_cost, SEND + DELIVER + work + ACK);
	/* Core 0's handler runs [T+600, T+1000); core 2's IPI arrives at T+10+600 and waits for it. */
	cycles_t start2 = T_CHANGE + SEND + DELIVER + work;
	ck_assert_uint_eq(w->cost2, start2 + work + ACK - (T_CHANGE + 10));
	ck_assert_uint_eq(w->sim->cores[1].st.irq_cycles, 2 * work);
	teardown(w);
}
END_TEST

/* ---- local flushes ---- */

static void t_local(struct st *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	for (int i = 0; i < 3; i++)
		EQ(mmu_access(cpu, w->va[i], ACC_R), 0);
	EQ(tlb_count_live(&cpu->tlb, cpu->pcid), 6); /* L1D + STLB each */
	/* INVLPG one page: it and only it is gone; costs tlb.invlpg. */
	struct mmu_flush f = { .sp = &w->sp, .n = 1, .va = { w->va[1] } };
	cycles_t t0 = c->clock;
	mmu_flush_local(cpu, &f);
	EQ(c->clock - t0, INVLPG);
	TRUE(cached(cpu, w->va[0]));
	TRUE(!cached(cpu, w->va[1]));
	TRUE(cached(cpu, w->va[2]));
	EQ(cpu->st.invlpg, 1);
	/* It also dropped the paging-structure caches: the next walk (page 3, same PT) reads all 4 levels. */
	uint64_t reads = cpu->st.walk_reads, psc = cpu->st.psc_hits;
	EQ(mmu_access(cpu, w->va[3], ACC_R), 0);
	EQ(cpu->st.walk_reads - reads, 4);
	EQ(cpu->st.psc_hits - psc, 0);
	/* ... and refilled them: page 1 again is a one-level walk. */
	reads = cpu->st.walk_reads;
	EQ(mmu_access(cpu, w->va[1], ACC_R), 0);
	EQ(cpu->st.walk_reads - reads, 1);
	/* A full flush drops everything of the PCID and costs tlb.flush_pcid. */
	struct mmu_flush full = { .sp = &w->sp, .full = true };
	t0 = c->clock;
	mmu_flush_local(cpu, &full);
	EQ(c->clock - t0, FLUSH_PCID);
	EQ(tlb_count_live(&cpu->tlb, cpu->pcid), 0);
	reads = cpu->st.walk_reads;
	EQ(mmu_access(cpu, w->va[0], ACC_R), 0);
	EQ(cpu->st.walk_reads - reads, 4);
}

START_TEST(flush_local)
{
	struct st *w = setup(1, SIM_DET, false, 4, t_local);
	run(w);
	ck_assert_uint_eq(w->mmu->cpus[0].st.flush_pcid, 2); /* the first mmu_switch claimed the PCID, plus one */
	teardown(w);
}
END_TEST

/* ---- the TLB coherence checker ---- */

enum ck_mode { CK_SKIP, CK_SHOOT, CK_WINDOW };
static enum ck_mode CKM;

static void t_checker(struct st *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = w->va[0];
	if (c->id == 1) {
		/* Write twice: the first sets D, so the second is a checked L1 hit that may write. */
		EQ(mmu_access(cpu, va, ACC_W), 0);
		EQ(mmu_access(cpu, va, ACC_W), 0);
		EQ(cpu->st.checked_hits, 1);
		EQ(cpu->st.tlb_violations, 0);
		advance_to(c, T_AFTER);
		uint64_t hits = cpu->st.l1_hits;
		if (CKM == CK_SHOOT) {
			/* The entry is gone: the write walks and faults. */
			EQ(mmu_access(cpu, va, ACC_W), PF_P | PF_W | PF_U);
			EQ(cpu->st.l1_hits, hits);
		} else {
			/* Stale entry: the write completes from the TLB, more than the table allows. */
			EQ(mmu_access(cpu, va, ACC_W), 0);
			EQ(cpu->st.l1_hits, hits + 1);
			EQ(cpu->st.checked_hits, 2);
		}
		EQ(cpu->st.tlb_violations, CKM == CK_SKIP ? 1 : 0);
		if (CKM == CK_WINDOW) {
			/* Shot down before the window closed: a write faults now. */
			advance_to(c, T_LATER);
			EQ(mmu_access(cpu, va, ACC_W), PF_P | PF_W | PF_U);
			EQ(cpu->st.tlb_violations, 0);
		}
	} else if (c->id == 0) {
		advance_to(c, T_CHANGE);
		uint32_t win = 0;
		if (CKM == CK_WINDOW)
			win = mmu_window_open(&w->sp, va, va + KB4);
		/* Make the page read-only. */
		set_leaf(w, va, get_leaf(w, va) & ~PTE_RW);
		struct mmu_flush f = { .sp = &w->sp, .n = 1, .va = { va } };
		uint64_t targets[SIM_MASK_WORDS] = { 0x2 };
		if (CKM == CK_SHOOT) {
			mmu_flush_local(cpu, &f);
			EQ(mmu_shootdown(cpu, targets, &f, false), 1);
		}
		if (CKM == CK_WINDOW) {
			TRUE(mmu_window_covers(&w->sp, va));
			TRUE(!mmu_window_covers(&w->sp, va + KB4));
			advance_to(c, T_LATE);
			mmu_flush_local(cpu, &f);
			EQ(mmu_shootdown(cpu, targets, &f, false), 1);
			mmu_window_close(&w->sp, win);
			TRUE(!mmu_window_covers(&w->sp, va));
		}
	}
}

static void checker(enum ck_mode mode)
{
	CKM = mode;
	struct st *w = setup(2, SIM_DET, true, 1, t_checker);
	run(w);
	struct mmu_cpu_stats sum;
	mmu_stats_sum(w->mmu, &sum);
	ck_assert_uint_eq(sum.tlb_violations, mode == CK_SKIP ? 1 : 0);
	/* The checker ran: the second write of core 1 was a checked hit (and the stale write too, unless shot down). */
	ck_assert_uint_eq(sum.checked_hits, mode == CK_SHOOT ? 1 : 2);
	teardown(w);
}

START_TEST(checker_skipped_shootdown) { checker(CK_SKIP); }
END_TEST
START_TEST(checker_with_shootdown) { checker(CK_SHOOT); }
END_TEST
START_TEST(checker_window) { checker(CK_WINDOW); }
END_TEST

static void t_checker_unmap(struct st *w, struct sim_core *c)
{
	/* An unmapped page still in a TLB: even a read hit is a violation. */
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = w->va[0];
	if (c->id == 1) {
		EQ(mmu_access(cpu, va, ACC_R), 0);
		advance_to(c, T_AFTER);
		EQ(mmu_access(cpu, va, ACC_R), 0);
		EQ(cpu->st.tlb_violations, 1);
	} else if (c->id == 0) {
		advance_to(c, T_CHANGE);
		set_leaf(w, va, 0);
	}
}

START_TEST(checker_unmapped_read)
{
	struct st *w = setup(2, SIM_DET, true, 1, t_checker_unmap);
	run(w);
	ck_assert_uint_eq(w->mmu->cpus[1].st.tlb_violations, 1);
	teardown(w);
}
END_TEST

/* ---- broadcast invalidation (INVLPGB + TLBSYNC, RAR): no target is interrupted ---- */

#define BCAST_ISSUE 100ull /* the test machine's tlb.bcast_issue; tlb.bcast_pages = 8 */
#define XFER_REMOTE 100ull /* its coh.xfer_remote (8 sockets: the farthest core is on another socket) */
#define BPAGES 10	   /* two INVLPGBs */

static void t_bcast(struct st *w, struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t va = w->va[0];
	EQ(mmu_access(cpu, va, ACC_R), 0);
	if (c->id == 0) {
		advance_to(c, T_CHANGE);
		set_leaf(w, va, 0);
		struct mmu_flush f = { .sp = &w->sp, .n = BPAGES };
		for (uint32_t i = 0; i < BPAGES; i++)
			f.va[i] = va + i * KB4;
		mmu_flush_local(cpu, &f);
		uint64_t targets[SIM_MASK_WORDS];
		mask_all_but(targets, w->ncores, 0);
		cycles_t t0 = c->clock;
		EQ(mmu_broadcast(cpu, targets, &f), w->ncores - 1);
		w->sender_cost = c->clock - t0;
	} else {
		advance_to(c, T_AFTER);
		EQ(c->clock, T_AFTER); /* nothing was charged here: the hardware invalidated */
		TRUE(!cached(cpu, va));
		EQ(mmu_access(cpu, va, ACC_R), PF_U);
	}
}

static void bcast(uint32_t ncores, enum sim_mode mode, uint32_t kind)
{
	M.bcast = kind;
	struct st *w = setup(ncores, mode, true, 1, t_bcast);
	run(w);
	uint32_t k = ncores - 1;
	cycles_t want = kind == MACHINE_BCAST_INVLPGB
				? 2 * BCAST_ISSUE + 2 * XFER_REMOTE + BPAGES * INVLPG
				: BCAST_ISSUE + SEND + (k - 1) * SEND_EXTRA + DELIVER + BPAGES * INVLPG + ACK;
	ck_assert_uint_eq(w->sender_cost, want);
	struct mmu_cpu *s = &w->mmu->cpus[0];
	ck_assert_uint_eq(s->st.broadcasts, 1);
	ck_assert_uint_eq(s->st.broadcast_targets, k);
	ck_assert_uint_eq(s->st.shootdowns, 0);
	for (uint32_t i = 1; i < ncores; i++) {
		ck_assert_uint_eq(w->sim->cores[i].st.irq_cycles, 0);
		ck_assert_uint_eq(w->mmu->cpus[i].st.invlpg, BPAGES);
	}
	struct mmu_cpu_stats sum;
	mmu_stats_sum(w->mmu, &sum);
	ck_assert_uint_eq(sum.tlb_violations, 0);
	teardown(w);
	M.bcast = MACHINE_BCAST_INVLPGB;
}

START_TEST(bcast_invlpgb_det) { bcast(4, SIM_DET, MACHINE_BCAST_INVLPGB); }
END_TEST
START_TEST(bcast_invlpgb_par) { bcast(4, SIM_PAR, MACHINE_BCAST_INVLPGB); }
END_TEST
START_TEST(bcast_rar_det) { bcast(8, SIM_DET, MACHINE_BCAST_RAR); }
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t32_shootdown");
	TCase *tb = tcase_create("basic");
	tcase_add_test(tb, basic_det_2);
	tcase_add_test(tb, basic_det_4);
	tcase_add_test(tb, basic_det_8);
	tcase_add_test(tb, basic_par_2);
	tcase_add_test(tb, basic_par_4);
	tcase_add_test(tb, basic_par_8);
	suite_add_tcase(s, tb);
	TCase *tc = tcase_create("cost");
	tcase_add_test(tc, cost_one_target);
	tcase_add_test(tc, cost_k_targets);
	tcase_add_test(tc, cost_pages_and_full);
	tcase_add_test(tc, cost_early_ack);
	tcase_add_test(tc, cost_no_targets);
	tcase_add_test(tc, cost_empty_flush);
	tcase_add_test(tc, cost_queued_behind_earlier_irq);
	tcase_add_test(tc, flush_local);
	suite_add_tcase(s, tc);
	TCase *tbc = tcase_create("broadcast");
	tcase_add_test(tbc, bcast_invlpgb_det);
	tcase_add_test(tbc, bcast_invlpgb_par);
	tcase_add_test(tbc, bcast_rar_det);
	suite_add_tcase(s, tbc);
	TCase *tk = tcase_create("checker");
	tcase_add_test(tk, checker_skipped_shootdown);
	tcase_add_test(tk, checker_with_shootdown);
	tcase_add_test(tk, checker_window);
	tcase_add_test(tk, checker_unmapped_read);
	suite_add_tcase(s, tk);
	return s;
}

int main(void) { return test_main(suite); }
