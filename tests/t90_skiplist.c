/* t90_skiplist.c: the `skiplist` design: disjoint calls share no lock, overlapping ones serialize, invariants survive a concurrent stress, O(log n) lookups, counted retries, metadata bytes, RCU-deferred frees. */
#include "tests/harness.h"
#include "skiplist/sl.h"
#include "vm/boot.h"

#include <string.h>
#include <unistd.h>

/* A lock taken by hand is a call in flight: debug builds check a space only while none is (vm.h, vm/as.c settle). */
static void by_hand(struct vm_as *as, int d) { atomic_fetch_add(&as->inflight, (uint32_t)d); }

static struct machine M;

#define P PAGE_SIZE
#define BASE 0x600000000000ull /* 1 GiB aligned, far from the slices */
#define SLOT (256 * P)	       /* each core's part of the disjoint tests */
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define FIX (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED)

struct fix {
	struct boot *b;
	struct vm_as *as;
	struct lk_barrier bar;
	_Atomic int phase;
	/* results, per core */
	uint64_t contended[8], retries[8];
	cycles_t got[8], released[8];
	long ret[8];
	struct sl_part held[8][16];
	uint32_t nheld[8];
	uint64_t freed_in_reader;
	bool intact;
};

static struct fix *fix_new(uint32_t cores, enum sim_mode mode)
{
	struct fix *f = xzalloc(sizeof(*f));
	struct boot_opts o;
	boot_defaults(&o, &M, vm_design_find("skiplist"), cores);
	o.sim.mode = mode;
	f->b = boot_create(&o);
	f->as = vm_as_create(f->b->sys, NULL);
	lk_barrier_init(&f->bar, cores);
	return f;
}

static void fix_free(struct fix *f)
{
	for (uint32_t i = 0; i < f->b->sim->o.ncores; i++)
		f->b->mmu->cpus[i].cur = NULL;
	vm_as_destroy(f->as, NULL);
	ck_assert_int_eq(boot_destroy(f->b), 0); /* no frame or PT page leaked */
	xfree(f);
}

static uint64_t tlb_violations(struct fix *f)
{
	struct mmu_cpu_stats ms;
	mmu_stats_sum(f->b->mmu, &ms);
	return ms.tlb_violations;
}

/* Hold the current lockset for 50 rounds of simulated time, so other cores run meanwhile. */
static void hold(struct sim_core *c)
{
	for (int i = 0; i < 50; i++) {
		sim_advance(c, 2000);
		sim_sync(c);
	}
}

/* A PROT_NONE fence page at the slot's base: a node of its own, so the slot's gaps are owned inside the slot. */
static void fence(struct fix *f, struct mmu_cpu *cpu, uint64_t slot)
{
	ck_assert_int_eq(vm_mmap(f->as, cpu, slot, P, VM_PROT_NONE, FIX, NULL, 0), (long)slot);
}

/* ---- disjoint calls: no node in common, and no lock waits under concurrency ---- */

static void locksets_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(f->as, cpu);
	for (int i = 0; i < 4; i++) {
		uint64_t s = BASE + (uint64_t)i * SLOT;
		fence(f, cpu, s);
		ck_assert_int_eq(vm_mmap(f->as, cpu, s + 8 * P, 4 * P, RW, FIX, NULL, 0), (long)(s + 8 * P));
	}
	/* What an mprotect of a page in the middle of each slot's VMA locks: [a - 1 page, b + 1 page). */
	for (int i = 0; i < 4; i++) {
		uint64_t a = BASE + (uint64_t)i * SLOT + 9 * P;
		struct sl_lockset s;
		by_hand(f->as, 1);
		sl_lock_range(&s, sl_of(f->as), cpu, a - P, a + 2 * P);
		f->nheld[i] = MIN(s.n, 16u);
		memcpy(f->held[i], s.held, sizeof(s.held[0]) * f->nheld[i]);
		sl_unlock(&s);
		by_hand(f->as, -1);
	}
}

START_TEST(disjoint_locksets)
{
	struct fix *f = fix_new(1, SIM_DET);
	sim_run(f->b->sim, locksets_body, f);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_ge(f->nheld[i], 1);
		for (int j = i + 1; j < 4; j++)
			for (uint32_t x = 0; x < f->nheld[i]; x++)
				for (uint32_t y = 0; y < f->nheld[j]; y++)
					ck_assert_msg(f->held[i][x].n != f->held[j][y].n || f->held[i][x].gap != f->held[j][y].gap,
						      "slots %d and %d share the %s lock of node %#llx", i, j,
						      f->held[i][x].gap ? "gap" : "interval", (unsigned long long)sn_start(f->held[i][x].n));
	}
	fix_free(f);
}
END_TEST

/* Each core maps, mprotects (splits, merges) and unmaps in its own slot, all at once. */
static void disjoint_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	struct sl_mm *mm = sl_of(f->as);
	uint64_t slot = BASE + (uint64_t)c->id * SLOT;
	vm_switch(f->as, cpu);
	fence(f, cpu, slot);
	lk_barrier_wait(c, &f->bar);
	uint64_t cont = c->st.lock_contended, retries = atomic_load(&mm->st.lock_retries);
	for (int k = 0; k < 100; k++) {
		uint64_t a = slot + (4 + (uint64_t)(k % 16) * 8) * P;
		ck_assert_int_eq(vm_mmap(f->as, cpu, a, 4 * P, RW, FIX, NULL, 0), (long)a);
		ck_assert_int_eq(vm_mprotect(f->as, cpu, a + P, P, VM_PROT_READ), 0);
		ck_assert_int_eq(vm_mprotect(f->as, cpu, a + P, P, RW), 0); /* merges back */
		ck_assert_int_eq(vm_munmap(f->as, cpu, a, 4 * P), 0);
	}
	f->contended[c->id] = c->st.lock_contended - cont;
	lk_barrier_wait(c, &f->bar);
	if (c->id == 0) /* the fences' setup may retry (their owners change meanwhile); the disjoint calls never */
		f->retries[0] = atomic_load(&mm->st.lock_retries) - retries;
}

static void check_disjoint(enum sim_mode mode)
{
	struct fix *f = fix_new(4, mode);
	sim_run(f->b->sim, disjoint_body, f);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(f->contended[i] == 0, "core %d waited for a lock %llu times on a disjoint range", i,
			      (unsigned long long)f->contended[i]);
	ck_assert_uint_eq(f->retries[0], 0);
	ck_assert_uint_eq(tlb_violations(f), 0);
	vm_check_as(f->as, 0, VM_TASK_SIZE);
	ck_assert_uint_eq(atomic_load(&sl_of(f->as)->nvmas), 4); /* the fences */
	fix_free(f);
}

START_TEST(disjoint_det) { check_disjoint(SIM_DET); }
END_TEST
START_TEST(disjoint_par) { check_disjoint(SIM_PAR); }
END_TEST

/* ---- overlapping calls serialize on the range lock; disjoint ones do not wait ---- */

#define OTHER (BASE + 64 * SLOT)

static void serialize_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(f->as, cpu);
	if (c->id == 0) {
		fence(f, cpu, BASE);
		fence(f, cpu, OTHER);
		ck_assert_int_eq(vm_mmap(f->as, cpu, BASE + 8 * P, 16 * P, RW, FIX, NULL, 0), (long)(BASE + 8 * P));
		ck_assert_int_eq(vm_mmap(f->as, cpu, OTHER + 8 * P, 16 * P, RW, FIX, NULL, 0), (long)(OTHER + 8 * P));
		sim_advance(c, 100000 - c->clock);
		struct sl_lockset s;
		by_hand(f->as, 1);
		sl_lock_range(&s, sl_of(f->as), cpu, BASE + 7 * P, BASE + 25 * P);
		f->got[0] = c->clock;
		hold(c);
		f->released[0] = c->clock;
		sl_unlock(&s);
		by_hand(f->as, -1);
	} else {
		sim_advance(c, 150000);
		uint64_t a = atomic_load(&f->phase) ? BASE + 12 * P : OTHER + 12 * P;
		f->ret[1] = vm_mprotect(f->as, cpu, a, 4 * P, VM_PROT_READ);
		f->got[1] = c->clock;
	}
}

START_TEST(overlap_serializes)
{
	for (int overlap = 0; overlap < 2; overlap++) {
		struct fix *f = fix_new(2, SIM_DET);
		atomic_store(&f->phase, overlap);
		sim_run(f->b->sim, serialize_body, f);
		ck_assert_int_eq(f->ret[1], 0);
		if (overlap)
			ck_assert_msg(f->got[1] >= f->released[0], "overlapping mprotect done at %llu, before the holder "
				      "released at %llu", (unsigned long long)f->got[1], (unsigned long long)f->released[0]);
		else
			ck_assert_msg(f->got[1] < f->released[0], "a disjoint mprotect waited (done %llu, release %llu)",
				      (unsigned long long)f->got[1], (unsigned long long)f->released[0]);
		vm_check_as(f->as, 0, VM_TASK_SIZE);
		fix_free(f);
	}
}
END_TEST

/* ---- a concurrent stress on overlapping ranges: invariants, coherence and frames hold ---- */

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void stress_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t x = 0x9E3779B97F4A7C15ull * (c->id + 1);
	vm_switch(f->as, cpu);
	for (int k = 0; k < 300; k++) {
		uint64_t a = BASE + rnd(&x) % 64 * P, len = (1 + rnd(&x) % 8) * P;
		int prot = (int)(rnd(&x) % 4); /* none, r, w (rw), rw */
		switch (rnd(&x) % 8) {
		case 0: vm_mmap(f->as, cpu, a, len, prot ? prot | VM_PROT_READ : 0, FIX, NULL, 0); break;
		case 1: vm_munmap(f->as, cpu, a, len); break;
		case 2: vm_mprotect(f->as, cpu, a, len, prot ? prot | VM_PROT_READ : 0); break;
		case 3: vm_madvise(f->as, cpu, a, len, VM_MADV_DONTNEED); break;
		case 4: {
			long r = vm_mremap(f->as, cpu, a, P, 2 * P, VM_MREMAP_MAYMOVE, 0);
			if (r > 0 && ((uint64_t)r < BASE || (uint64_t)r >= BASE + 72 * P))
				vm_munmap(f->as, cpu, (uint64_t)r, 2 * P); /* moved out of the window */
			break;
		}
		default: vm_access(f->as, cpu, a, rnd(&x) & 1 ? ACC_W : ACC_R); break;
		}
	}
}

static void check_stress(enum sim_mode mode)
{
	struct fix *f = fix_new(4, mode);
	sim_run(f->b->sim, stress_body, f);
	vm_check_as(f->as, 0, VM_TASK_SIZE); /* panics on a broken invariant */
	ck_assert_uint_eq(tlb_violations(f), 0);
	fix_free(f);
}

START_TEST(stress_det) { check_stress(SIM_DET); }
END_TEST
START_TEST(stress_par) { check_stress(SIM_PAR); }
END_TEST

/* ---- splits and merges of one VMA by many cores, with faults in it (mmap-pf's pattern) ---- */

static void splits_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint64_t x = 0x2545F4914F6CDD1Dull * (c->id + 1);
	vm_switch(f->as, cpu);
	if (c->id == 0)
		ck_assert_int_eq(vm_mmap(f->as, cpu, BASE, 1024 * P, RW, FIX, NULL, 0), (long)BASE);
	lk_barrier_wait(c, &f->bar);
	for (int k = 0; k < 48; k++) {
		uint64_t a = BASE + (c->id * 64 + rnd(&x) % 64) * P; /* each core in its own 64 pages of the one VMA */
		ck_assert_int_eq(vm_mmap(f->as, cpu, a, P, RW, FIX, NULL, 0), (long)a);
		ck_assert_int_eq(vm_access(f->as, cpu, a, ACC_W), VM_FAULT_OK);
	}
}

START_TEST(splits_merges_16)
{
	struct fix *f = fix_new(16, SIM_DET);
	sim_run(f->b->sim, splits_body, f);
	vm_check_as(f->as, 0, VM_TASK_SIZE);
	ck_assert_uint_eq(tlb_violations(f), 0);
	fix_free(f);
}
END_TEST

/* ---- lookups descend O(log n) nodes; metadata bytes follow the VMA count ---- */

#define NV 10000

static void levels_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	struct sl_mm *mm = sl_of(f->as);
	vm_switch(f->as, cpu);
	uint64_t bytes0 = f->as->d->metadata_bytes(f->as);
	for (uint64_t i = 0; i < NV; i++) /* one page in two: no merges */
		ck_assert_int_eq(vm_mmap(f->as, cpu, BASE + 2 * i * P, P, RW, FIX, NULL, 0), (long)(BASE + 2 * i * P));
	ck_assert_uint_eq(atomic_load(&mm->nvmas), NV);
	uint64_t bytes = f->as->d->metadata_bytes(f->as) - bytes0;
	/* A node and its tower: one level always, 1/3 more on average (p = 1/4). */
	ck_assert_uint_ge(bytes, NV * (sizeof(struct sl_node) + sizeof(struct sl_level)));
	ck_assert_uint_le(bytes, NV * (sizeof(struct sl_node) + 2 * sizeof(struct sl_level)));
	atomic_store(&mm->st.lookups, 0);
	atomic_store(&mm->st.visits, 0);
	atomic_store(&mm->st.levels_visited, 0);
	uint64_t x = 12345;
	for (int k = 0; k < 2000; k++) {
		uint64_t a = BASE + 2 * (rnd(&x) % NV) * P;
		sim_rcu_read_lock();
		struct sl_node *v = sl_search(mm, cpu, a);
		ck_assert_uint_eq(sn_start(v), a);
		sim_rcu_read_unlock();
	}
	f->ret[0] = (long)(atomic_load(&mm->st.visits) / atomic_load(&mm->st.lookups));
	f->ret[1] = (long)(atomic_load(&mm->st.levels_visited) / atomic_load(&mm->st.lookups));
	vm_check_as(f->as, 0, VM_TASK_SIZE);
	ck_assert_int_eq(vm_munmap(f->as, cpu, BASE, 2 * NV * P), 0);
	f->ret[2] = (long)(f->as->d->metadata_bytes(f->as) - bytes0);
}

START_TEST(lookups_log_n)
{
	struct fix *f = fix_new(1, SIM_DET);
	sim_run(f->b->sim, levels_body, f);
	/* log4(10,000) is 6.6 levels, a few steps each; a linear scan would visit 5,000 nodes. */
	ck_assert_msg(f->ret[0] < 60, "mean nodes compared per lookup %ld for %d VMAs", f->ret[0], NV);
	ck_assert_int_ge(f->ret[1], 5);
	ck_assert_int_le(f->ret[1], SL_MAX_LEVEL);
	ck_assert_int_eq(f->ret[2], 0); /* every VMA's node is gone from the count */
	ck_assert_uint_eq(atomic_load(&sl_of(f->as)->nvmas), 0);
	fix_free(f);
}
END_TEST

/* ---- a call that locks a node which is unlinked meanwhile retries, and is counted ---- */

static void retry_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	struct sl_mm *mm = sl_of(f->as);
	vm_switch(f->as, cpu);
	if (c->id == 0) {
		fence(f, cpu, BASE);
		ck_assert_int_eq(vm_mmap(f->as, cpu, BASE + 8 * P, 4 * P, RW, FIX, NULL, 0), (long)(BASE + 8 * P));
		sim_advance(c, 100000 - c->clock);
		struct sl_lockset s;
		by_hand(f->as, 1);
		sl_lock_range(&s, mm, cpu, BASE + 7 * P, BASE + 13 * P);
		hold(c); /* core 1 searches now, finds the VMA's node and waits for its range lock */
		sl_unmap(&s, BASE + 8 * P, BASE + 12 * P);
		sl_unlock(&s);
		by_hand(f->as, -1);
	} else {
		sim_advance(c, 150000);
		uint64_t before = atomic_load(&mm->st.lock_retries);
		f->ret[1] = vm_mprotect(f->as, cpu, BASE + 9 * P, P, VM_PROT_READ);
		f->retries[1] = atomic_load(&mm->st.lock_retries) - before;
	}
}

START_TEST(retry_on_detached)
{
	struct fix *f = fix_new(2, SIM_DET);
	sim_run(f->b->sim, retry_body, f);
	ck_assert_uint_ge(f->retries[1], 1);
	ck_assert_int_eq(f->ret[1], -ENOMEM); /* it sees the range unmapped */
	vm_check_as(f->as, 0, VM_TASK_SIZE);
	fix_free(f);
}
END_TEST

/* ---- RCU: an unlinked node is freed only after the readers that could reach it ---- */

static void rcu_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	struct sl_mm *mm = sl_of(f->as);
	vm_switch(f->as, cpu);
	if (c->id == 0) {
		fence(f, cpu, BASE);
		ck_assert_int_eq(vm_mmap(f->as, cpu, BASE + 8 * P, 4 * P, RW, FIX, NULL, 0), (long)(BASE + 8 * P));
		atomic_store(&f->phase, 1);
		while (atomic_load(&f->phase) != 2) {
			sim_advance(c, 100);
			sim_sync(c);
		}
		ck_assert_int_eq(vm_munmap(f->as, cpu, BASE + 8 * P, 4 * P), 0); /* unlinked and retired */
		atomic_store(&f->phase, 3);
	} else {
		while (atomic_load(&f->phase) != 1) {
			sim_advance(c, 100);
			sim_sync(c);
		}
		sim_rcu_read_lock();
		struct sl_node *v = sl_search(mm, cpu, BASE + 9 * P);
		uint64_t freed = sl_nodes_freed();
		atomic_store(&f->phase, 2);
		while (atomic_load(&f->phase) != 3) {
			sim_advance(c, 100);
			sim_sync(c);
		}
		usleep(50000); /* give the call_rcu thread every chance to (wrongly) free it */
		f->freed_in_reader = sl_nodes_freed() - freed;
		f->intact = atomic_load(&v->detached) && sn_start(v) == BASE + 8 * P && sn_end(v) == BASE + 12 * P;
		sim_rcu_read_unlock();
	}
}

START_TEST(rcu_frees_after_readers)
{
	struct fix *f = fix_new(2, SIM_DET);
	uint64_t before = sl_nodes_freed();
	sim_run(f->b->sim, rcu_body, f);
	ck_assert_uint_eq(f->freed_in_reader, 0);
	ck_assert(f->intact); /* the reader still sees the unlinked node whole */
	sim_rcu_barrier();
	ck_assert_uint_ge(sl_nodes_freed() - before, 1);
	fix_free(f);
}
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t90_skiplist");
	TCase *tc = tcase_create("skiplist");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, disjoint_locksets);
	tcase_add_test(tc, disjoint_det);
	tcase_add_test(tc, disjoint_par);
	tcase_add_test(tc, overlap_serializes);
	tcase_add_test(tc, stress_det);
	tcase_add_test(tc, stress_par);
	tcase_add_test(tc, splits_merges_16);
	tcase_add_test(tc, lookups_log_n);
	tcase_add_test(tc, retry_on_detached);
	tcase_add_test(tc, rcu_frees_after_readers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
