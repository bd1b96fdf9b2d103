/* t60_cortenmm.c: CortenMM's cursors: disjoint ranges share no lock, overlapping ones serialize, adv walkers survive stray pages, and a cursor may hold more locks than it keeps in itself. */
#include "tests/harness.h"
#include "cortenmm/cm.h"
#include "vm/boot.h"

#include <string.h>

/* A lock taken by hand is a call in flight: debug builds check a space only while none is (vm.h, vm/as.c settle). */
static void by_hand(struct vm_as *as, int d) { atomic_fetch_add(&as->inflight, (uint32_t)d); }

static struct machine M;

#define BASE 0x600000000000ull /* 1 GiB aligned */
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED)

struct fix {
	struct boot *b;
	struct vm_as *as;
	const char *design;
	/* results */
	cycles_t got[4], released[4];
	struct cm_pt *cover[4];
	struct cm_pt *held[4][64];
	uint32_t nheld[4], nread[4];
	bool cover_stray; /* the walker's covering page was stray while it held it */
	uint64_t retries;
	bool ok;
	char why[200];
};

static struct fix *fix_new(const char *design, uint32_t cores)
{
	struct fix *f = xzalloc(sizeof(*f));
	struct boot_opts o;
	boot_defaults(&o, &M, vm_design_find(design), cores);
	f->design = design;
	f->b = boot_create(&o);
	f->as = vm_as_create(f->b->sys, NULL);
	return f;
}

static void fix_free(struct fix *f)
{
	for (uint32_t i = 0; i < f->b->sim->o.ncores; i++)
		f->b->mmu->cpus[i].cur = NULL;
	vm_as_destroy(f->as, NULL);
	int64_t leaked = boot_destroy(f->b);
	ck_assert_int_eq(leaked, 0);
	xfree(f);
}

/* Map 4 MiB and touch a page in each 2 MiB half, so each half has its own last-level table. */
static void populate(struct fix *f, struct mmu_cpu *cpu)
{
	vm_switch(f->as, cpu);
	ck_assert_int_eq(vm_mmap(f->as, cpu, BASE, 2 * HUGE_2M, RW, ANON, NULL, 0), (long)BASE);
	ck_assert_int_eq(vm_access(f->as, cpu, BASE, ACC_W), VM_FAULT_OK);
	ck_assert_int_eq(vm_access(f->as, cpu, BASE + HUGE_2M, ACC_W), VM_FAULT_OK);
}

static void snapshot(struct fix *f, int slot, const struct cm_cursor *k)
{
	f->cover[slot] = k->cover;
	f->nheld[slot] = MIN(k->nlocked, 64u);
	f->nread[slot] = k->nread;
	memcpy(f->held[slot], k->locked, sizeof(k->locked[0]) * f->nheld[slot]);
}

/* ---- two cursors over disjoint ranges in different last-level tables hold no common lock ---- */

static void disjoint_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	populate(f, cpu);
	struct cm_cursor a, b;
	/* One thread holds both at once: a shared lock (for adv: any) would deadlock here. */
	by_hand(f->as, 1);
	cm_lock(&a, cm_of(f->as), cpu, BASE + 8 * PAGE_SIZE, BASE + 12 * PAGE_SIZE);
	cm_lock(&b, cm_of(f->as), cpu, BASE + HUGE_2M + 8 * PAGE_SIZE, BASE + HUGE_2M + 12 * PAGE_SIZE);
	snapshot(f, 0, &a);
	snapshot(f, 1, &b);
	cm_unlock(&b);
	cm_unlock(&a);
	by_hand(f->as, -1);
}

static void check_disjoint(const char *design)
{
	struct fix *f = fix_new(design, 1);
	sim_run(f->b->sim, disjoint_body, f);
	ck_assert_ptr_ne(f->cover[0], f->cover[1]);
	ck_assert_int_eq(f->cover[0]->level, 1); /* each covered by its own last-level table */
	ck_assert_int_eq(f->cover[1]->level, 1);
	/* adv: no lock in common at all. rw: the ancestors are shared read locks; the written ones differ. */
	for (uint32_t i = f->nread[0]; i < f->nheld[0]; i++)
		for (uint32_t j = f->nread[1]; j < f->nheld[1]; j++)
			ck_assert_msg(f->held[0][i] != f->held[1][j], "%s: both cursors hold page %p", design,
				      (void *)f->held[0][i]);
	if (!strcmp(design, "cortenmm-adv"))
		ck_assert_uint_eq(f->nread[0] + f->nread[1], 0);
	fix_free(f);
}

START_TEST(disjoint_adv) { check_disjoint("cortenmm-adv"); }
END_TEST
START_TEST(disjoint_rw) { check_disjoint("cortenmm-rw"); }
END_TEST

/* ---- overlapping ranges serialize; disjoint ones do not wait ---- */

struct ser {
	struct fix *f;
	bool overlap;
};

static void serialize_body(struct sim_core *c, void *arg)
{
	struct ser *s = arg;
	struct fix *f = s->f;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	struct cm_cursor k;
	if (c->id == 0) {
		populate(f, cpu);
		sim_advance(c, 100000 - c->clock);
		by_hand(f->as, 1);
		cm_lock(&k, cm_of(f->as), cpu, BASE, BASE + 16 * PAGE_SIZE);
		f->got[0] = c->clock;
		for (int i = 0; i < 50; i++) { /* hold it a while, with sync points */
			sim_advance(c, 2000);
			sim_sync(c);
		}
		f->released[0] = c->clock;
		cm_unlock(&k);
		by_hand(f->as, -1);
	} else {
		vm_switch(f->as, cpu);
		sim_advance(c, 150000);
		uint64_t a = s->overlap ? BASE + 8 * PAGE_SIZE : BASE + HUGE_2M + 8 * PAGE_SIZE;
		by_hand(f->as, 1);
		cm_lock(&k, cm_of(f->as), cpu, a, a + 4 * PAGE_SIZE);
		f->got[1] = c->clock;
		cm_unlock(&k);
		by_hand(f->as, -1);
	}
}

static void check_serialize(const char *design)
{
	for (int overlap = 0; overlap < 2; overlap++) {
		struct fix *f = fix_new(design, 2);
		struct ser s = { f, overlap };
		sim_run(f->b->sim, serialize_body, &s);
		if (overlap)
			ck_assert_msg(f->got[1] >= f->released[0], "%s: overlapping cursor got the range at %llu, "
				      "before the holder released it at %llu", design,
				      (unsigned long long)f->got[1], (unsigned long long)f->released[0]);
		else
			ck_assert_msg(f->got[1] < f->released[0], "%s: a disjoint cursor waited (got %llu, release %llu)",
				      design, (unsigned long long)f->got[1], (unsigned long long)f->released[0]);
		fix_free(f);
	}
}

START_TEST(serialize_adv) { check_serialize("cortenmm-adv"); }
END_TEST
START_TEST(serialize_rw) { check_serialize("cortenmm-rw"); }
END_TEST

/* ---- an adv walker that reaches a page being unlinked retries, and never touches freed memory ---- */

static void stray_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	struct cm_as *mm = cm_of(f->as);
	struct cm_cursor k;
	if (c->id == 0) {
		populate(f, cpu);
		sim_advance(c, 100000 - c->clock);
		/* Cover both halves: the level-2 table, and (DFS) both last-level tables. */
		by_hand(f->as, 1);
		cm_lock(&k, mm, cpu, BASE, BASE + 2 * HUGE_2M);
		snapshot(f, 0, &k);
		for (int i = 0; i < 50; i++) {
			sim_advance(c, 2000);
			sim_sync(c);
		}
		cm_unmap(&k, BASE, BASE + 2 * HUGE_2M); /* both last-level tables become stray */
		cm_unlock(&k);
		by_hand(f->as, -1);
	} else {
		vm_switch(f->as, cpu);
		sim_advance(c, 150000);
		uint64_t before = atomic_load(&mm->st.retries);
		/* Walks lock-free down to the first half's table, waits on it, finds it stray, retries. */
		by_hand(f->as, 1);
		cm_lock(&k, mm, cpu, BASE + 8 * PAGE_SIZE, BASE + 9 * PAGE_SIZE);
		f->retries = atomic_load(&mm->st.retries) - before;
		snapshot(f, 1, &k);
		f->cover_stray = atomic_load(&k.cover->stray);
		uint64_t pte;
		f->ok = cm_query(&k, BASE + 8 * PAGE_SIZE, &pte).kind == CM_INVALID && !pte;
		cm_unlock(&k);
		by_hand(f->as, -1);
	}
}

START_TEST(stray_retry_adv)
{
	struct fix *f = fix_new("cortenmm-adv", 2);
	sim_run(f->b->sim, stray_body, f);
	ck_assert_uint_ge(f->retries, 1);
	ck_assert(f->ok); /* it sees the range unmapped, through a fresh table */
	/*
	 * Not one of the pages that went stray. (Comparing its address with
	 * theirs is unsound: they are freed after a grace period, and the fresh
	 * table's descriptor may take the same address.)
	 */
	ck_assert(!f->cover_stray);
	fix_free(f);
}
END_TEST

/* The same race in parallel mode, many times: ASan (jemalloc off) would catch a walker on freed memory. */
static void stray_par_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(f->as, cpu);
	for (int i = 0; i < 60; i++) {
		if (c->id == 0) {
			vm_mmap(f->as, cpu, BASE, 2 * HUGE_2M, RW, ANON, NULL, 0);
			vm_access(f->as, cpu, BASE + (uint64_t)(i % 7) * PAGE_SIZE, ACC_W);
			vm_munmap(f->as, cpu, BASE, 2 * HUGE_2M); /* frees the tables: stray, then RCU */
		} else {
			vm_access(f->as, cpu, BASE + (uint64_t)(i % 5) * PAGE_SIZE, ACC_R); /* walks into them */
		}
	}
}

START_TEST(stray_race_parallel)
{
	struct boot_opts o;
	boot_defaults(&o, &M, vm_design_find("cortenmm-adv"), 3);
	o.sim.mode = SIM_PAR;
	struct fix *f = xzalloc(sizeof(*f));
	f->b = boot_create(&o);
	f->as = vm_as_create(f->b->sys, NULL);
	sim_run(f->b->sim, stray_par_body, f);
	struct mmu_cpu_stats ms;
	mmu_stats_sum(f->b->mmu, &ms);
	ck_assert_uint_eq(ms.tlb_violations, 0);
	fix_free(f);
}
END_TEST

/* ---- LATR: lazy remote flushes at the next tick; frames held until every core has flushed ---- */

struct lazy {
	struct fix *f;
	_Atomic int phase;
	int64_t frames_before_tick, frames_after_tick;
	uint64_t irqs;
};

static void lazy_body(struct sim_core *c, void *arg)
{
	struct lazy *z = arg;
	struct fix *f = z->f;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(f->as, cpu);
	if (c->id == 0) {
		vm_mmap(f->as, cpu, BASE, 8 * PAGE_SIZE, RW, ANON, NULL, 0);
		for (int i = 0; i < 8; i++)
			vm_access(f->as, cpu, BASE + (uint64_t)i * PAGE_SIZE, ACC_W);
		atomic_store(&z->phase, 1);
		while (atomic_load(&z->phase) != 2) {
			sim_advance(c, 100);
			sim_sync(c);
		}
		vm_munmap(f->as, cpu, BASE, 8 * PAGE_SIZE); /* core 1 caches these: a lazy flush */
		z->irqs = c->st.irqs_sent;
		z->frames_before_tick = pm_in_use(f->b->mmu->pm);
		atomic_store(&z->phase, 3);
	} else {
		while (atomic_load(&z->phase) != 1) {
			sim_advance(c, 100);
			sim_sync(c);
		}
		for (int i = 0; i < 8; i++)
			vm_access(f->as, cpu, BASE + (uint64_t)i * PAGE_SIZE, ACC_R);
		atomic_store(&z->phase, 2);
		while (atomic_load(&z->phase) != 3) {
			sim_advance(c, 100);
			sim_sync(c);
		}
		/* Run past the next tick: the flush happens, and the frames go. */
		sim_advance(c, f->b->sys->tick_period);
		vm_tick_check(f->b->sys, cpu);
		z->frames_after_tick = pm_in_use(f->b->mmu->pm);
	}
}

START_TEST(latr_lazy_flush)
{
	struct boot_opts o;
	boot_defaults(&o, &M, vm_design_find("cortenmm-adv"), 2);
	o.vm.dopt[CM_OPT_LAZY_FLUSH] = true;
	struct fix *f = xzalloc(sizeof(*f));
	f->b = boot_create(&o);
	f->as = vm_as_create(f->b->sys, NULL);
	struct lazy z = { .f = f };
	sim_run(f->b->sim, lazy_body, &z);
	ck_assert_uint_eq(z.irqs, 0);					/* no IPI: deferred to the tick */
	ck_assert_uint_ge(cm_latr_deferred(f->b->sys), 1);
	ck_assert_int_eq(z.frames_before_tick - z.frames_after_tick, 8); /* held until core 1 flushed */
	struct mmu_cpu_stats ms;
	mmu_stats_sum(f->b->mmu, &ms);
	ck_assert_uint_eq(ms.tlb_violations, 0);
	fix_free(f);
}
END_TEST


/* ---- the per-core pool of zeroed page-table frames (Asterinas's zeroed_pt_pool) ---- */

struct pool_run {
	struct fix *f;
	cycles_t fill, refill, take; /* clock advances */
	uint32_t after_fill, after_take;
	int64_t used_before, used_after_fill, used_after_take;
	cycles_t held_pool, held_nopool; /* time between lock and unlock of a cursor that makes a child table */
};

static void pool_body(struct sim_core *c, void *arg)
{
	struct pool_run *r = arg;
	struct pm *pm = r->f->b->mmu->pm;
	struct pm_pcp *pcp = &pm->pcp[c->id];
	ck_assert_uint_eq(pcp->npool, 0); /* no cursor has run on this core yet */
	pm_free(pm, c, pm_alloc(pm, c)); /* the core's frame cache is stocked: the fill takes no refill under the zone lock */
	r->used_before = pm_in_use(pm);
	cycles_t t = c->clock;
	ck_assert(pm_pt_pool_fill(pm, c, CM_PT_POOL_LOW, PM_PT_POOL_MAX));
	r->fill = c->clock - t;
	r->after_fill = pcp->npool;
	r->used_after_fill = pm_in_use(pm);
	t = c->clock;
	ck_assert(pm_pt_pool_fill(pm, c, CM_PT_POOL_LOW, PM_PT_POOL_MAX)); /* above the low mark: nothing */
	r->refill = c->clock - t;
	t = c->clock;
	struct pm_ptpage *p = pm_pt_alloc_pooled(pm, c, 1);
	r->take = c->clock - t;
	r->after_take = pcp->npool;
	r->used_after_take = pm_in_use(pm);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		ck_assert_uint_eq(pte_load(p, i), 0);
	pm_pt_free(pm, c, p);
}

/* A cursor that pushes a 2 MiB status down into a new last-level table: how long it took, and what it took from the pool. */
static void push_body(struct sim_core *c, void *arg)
{
	struct pool_run *r = arg;
	struct fix *f = r->f;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	struct pm *pm = f->b->mmu->pm;
	vm_switch(f->as, cpu);
	ck_assert_int_eq(vm_mmap(f->as, cpu, BASE, 2 * HUGE_2M, RW, ANON, NULL, 0), (long)BASE);
	if (!f->b->sys->o.dopt[CM_OPT_NO_PT_POOL]) /* full now: this cursor will not fill */
		ck_assert(pm_pt_pool_fill(pm, c, PM_PT_POOL_MAX, PM_PT_POOL_MAX));
	r->after_fill = pm->pcp[c->id].npool;
	struct cm_cursor k;
	by_hand(f->as, 1);
	cycles_t t = c->clock;
	cm_lock(&k, cm_of(f->as), cpu, BASE + PAGE_SIZE, BASE + 2 * PAGE_SIZE);
	r->take = c->clock - t;
	r->after_take = pm->pcp[c->id].npool;
	cm_unlock(&k);
	by_hand(f->as, -1);
}

static struct pool_run push_run(bool nopool)
{
	struct boot_opts o;
	boot_defaults(&o, &M, vm_design_find("cortenmm-adv"), 1);
	o.vm.dopt[CM_OPT_NO_PT_POOL] = nopool;
	struct fix *f = xzalloc(sizeof(*f));
	f->b = boot_create(&o);
	f->as = vm_as_create(f->b->sys, NULL);
	struct pool_run r = { .f = f };
	sim_run(f->b->sim, push_body, &r);
	return r;
}

/* The table a push-down makes under the parent's lock comes zeroed from the pool: the locked path no longer allocates or zeroes. */
START_TEST(pt_pool_outside_lock)
{
	struct pool_run on = push_run(false), off = push_run(true);
	const struct machine *m = on.f->b->sim->m;
	ck_assert_uint_eq(on.after_take, on.after_fill - 1); /* exactly one table, from the pool */
	ck_assert_uint_eq(off.after_take, 0);		      /* --no-pt-pool: never filled */
	ck_assert_msg(off.take >= on.take + m->zero_page, "cursor with the pool %llu cycles, without %llu (zeroing %llu)",
		      (unsigned long long)on.take, (unsigned long long)off.take, (unsigned long long)m->zero_page);
	fix_free(on.f);
	fix_free(off.f);
}
END_TEST

START_TEST(pt_pool)
{
	struct pool_run r = { .f = fix_new("cortenmm-adv", 1) };
	sim_run(r.f->b->sim, pool_body, &r);
	const struct machine *m = r.f->b->sim->m;
	ck_assert_uint_eq(r.after_fill, PM_PT_POOL_MAX);
	ck_assert_uint_eq(r.fill, m->frame_alloc + PM_PT_POOL_MAX * m->zero_page); /* one allocation, every page zeroed */
	ck_assert_int_eq(r.used_after_fill, r.used_before); /* pooled frames are nobody's yet */
	ck_assert_uint_eq(r.refill, 0);
	ck_assert_uint_eq(r.take, 0); /* allocation and zeroing were paid at the fill */
	ck_assert_uint_eq(r.after_take, PM_PT_POOL_MAX - 1);
	ck_assert_int_eq(r.used_after_take, r.used_before + 1);
	fix_free(r.f);
}
END_TEST

/* ---- a cursor over more tables than it keeps locks in itself ---- */

#define MANY_TABLES (CM_LOCKS_INLINE + 512) /* last-level tables, one per 2 MiB */

struct many {
	struct fix *f;
	uint32_t nlocked; /* adv: the page locks of a cursor over every table */
};

/* A mapping with MANY_TABLES last-level tables, a cursor over all of it, then calls over all of it. */
static void many_body(struct sim_core *c, void *arg)
{
	struct many *r = arg;
	struct fix *f = r->f;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t len = (uint64_t)MANY_TABLES * HUGE_2M;
	vm_switch(f->as, cpu);
	ck_assert_int_eq(vm_mmap(f->as, cpu, BASE, len, RW, ANON, NULL, 0), (long)BASE);
	for (uint64_t a = BASE; a < BASE + len; a += HUGE_2M)
		ck_assert_int_eq(vm_access(f->as, cpu, a, ACC_W), VM_FAULT_OK);
	struct cm_cursor k;
	by_hand(f->as, 1);
	cm_lock(&k, cm_of(f->as), cpu, BASE, BASE + len);
	r->nlocked = k.nlocked;
	cm_unlock(&k);
	by_hand(f->as, -1);
	ck_assert_int_eq(vm_mprotect(f->as, cpu, BASE, len, VM_PROT_READ), 0);
	/* a reservation over all of it, as a browser makes them: MAP_FIXED, PROT_NONE, the tables' pages go */
	ck_assert_int_eq(vm_mmap(f->as, cpu, BASE, len, VM_PROT_NONE, ANON | VM_MAP_NORESERVE, NULL, 0), (long)BASE);
	ck_assert_int_eq(vm_access(f->as, cpu, BASE, ACC_R), VM_FAULT_SEGV);
	ck_assert_int_eq(vm_munmap(f->as, cpu, BASE, len), 0);
}

static void check_many(const char *design)
{
	struct many r = { .f = fix_new(design, 1) };
	sim_run(r.f->b->sim, many_body, &r);
	if (!strcmp(design, "cortenmm-adv")) /* the cover and every table below it, DFS */
		ck_assert_uint_gt(r.nlocked, MANY_TABLES);
	struct mmu_cpu_stats ms;
	mmu_stats_sum(r.f->b->mmu, &ms);
	ck_assert_uint_eq(ms.tlb_violations, 0);
	fix_free(r.f);
}

START_TEST(many_locks_adv) { check_many("cortenmm-adv"); }
END_TEST
START_TEST(many_locks_rw) { check_many("cortenmm-rw"); }
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t60_cortenmm");
	TCase *tc = tcase_create("cursors");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, disjoint_adv);
	tcase_add_test(tc, disjoint_rw);
	tcase_add_test(tc, serialize_adv);
	tcase_add_test(tc, serialize_rw);
	tcase_add_test(tc, stray_retry_adv);
	tcase_add_test(tc, stray_race_parallel);
	tcase_add_test(tc, latr_lazy_flush);
	tcase_add_test(tc, many_locks_adv);
	tcase_add_test(tc, many_locks_rw);
	tcase_add_test(tc, pt_pool);
	tcase_add_test(tc, pt_pool_outside_lock);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
