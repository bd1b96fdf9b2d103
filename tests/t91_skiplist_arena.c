/* t91_skiplist_arena.c: the `skiplist` design's per-core arenas and lock modes: where unfixed mmaps go, hints, MAP_FIXED and MAP_FIXED_NOREPLACE into another core's arena, a full arena falls back (never a false ENOMEM), fork takes the global mode. */
#include "tests/harness.h"
#include "skiplist/sl.h"
#include "vm/boot.h"

static struct machine M;

#define P PAGE_SIZE
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)
#define ARENA (1ull << SL_SLICE_SHIFT)

static uint64_t arena_base(uint32_t k) { return SL_SLICE_BASE + (uint64_t)k * ARENA; }

struct fix {
	struct boot *b;
	struct vm_as *as;
	struct lk_barrier bar;
	long got[4][4];
};

static struct fix *fix_new(uint32_t cores)
{
	struct fix *f = xzalloc(sizeof(*f));
	struct boot_opts o;
	boot_defaults(&o, &M, vm_design_find("skiplist"), cores);
	f->b = boot_create(&o);
	f->as = vm_as_create(f->b->sys, NULL);
	lk_barrier_init(&f->bar, cores);
	return f;
}

static void fix_free(struct fix *f)
{
	for (uint32_t i = 0; i < f->b->sim->o.ncores; i++)
		f->b->mmu->cpus[i].cur = NULL;
	vm_check_as(f->as, 0, VM_TASK_SIZE);
	vm_as_destroy(f->as, NULL);
	ck_assert_int_eq(boot_destroy(f->b), 0);
	xfree(f);
}

/* Each core maps twice without a hint: both in its own arena, one after the other (the bump hint). */
static void own_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(f->as, cpu);
	lk_barrier_wait(c, &f->bar);
	f->got[c->id][0] = vm_mmap(f->as, cpu, 0, 4 * P, RW, ANON, NULL, 0);
	f->got[c->id][1] = vm_mmap(f->as, cpu, 0, 4 * P, RW, ANON, NULL, 0);
}

START_TEST(unfixed_in_own_arena)
{
	struct fix *f = fix_new(4);
	sim_run(f->b->sim, own_body, f);
	struct sl_mm *mm = sl_of(f->as);
	for (uint32_t k = 0; k < 4; k++) {
		uint64_t a = (uint64_t)f->got[k][0];
		ck_assert_msg(a >= arena_base(k) && a < arena_base(k) + ARENA, "core %u mapped at %#llx, outside its arena",
			      k, (unsigned long long)a);
		ck_assert_uint_eq((uint64_t)f->got[k][1], a + 4 * P); /* the next free address of the arena */
	}
	ck_assert_uint_eq(atomic_load(&mm->st.global_modes), 0); /* every call stayed in local mode */
	ck_assert_uint_eq(atomic_load(&mm->st.local_modes), 8);
	fix_free(f);
}
END_TEST

/* Core 1 maps into core 0's arena: a free hint is honoured, MAP_FIXED_NOREPLACE fails on a mapping, MAP_FIXED replaces it. */
static void foreign_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(f->as, cpu);
	if (c->id == 0)
		f->got[0][0] = vm_mmap(f->as, cpu, 0, 4 * P, RW, ANON, NULL, 0);
	lk_barrier_wait(c, &f->bar);
	if (c->id != 1)
		return;
	uint64_t mine = (uint64_t)f->got[0][0];
	uint64_t hint = arena_base(0) + ARENA / 2;
	f->got[1][0] = vm_mmap(f->as, cpu, hint, 4 * P, RW, ANON, NULL, 0);
	f->got[1][1] = vm_mmap(f->as, cpu, mine, 4 * P, RW, ANON | VM_MAP_FIXED_NOREPLACE, NULL, 0);
	f->got[1][2] = vm_mmap(f->as, cpu, mine + P, P, VM_PROT_READ, ANON | VM_MAP_FIXED, NULL, 0);
	f->got[1][3] = vm_mmap(f->as, cpu, mine, 4 * P, RW, ANON, NULL, 0); /* a taken hint: placed in core 1's arena */
}

START_TEST(fixed_into_another_arena)
{
	struct fix *f = fix_new(2);
	sim_run(f->b->sim, foreign_body, f);
	uint64_t mine = (uint64_t)f->got[0][0];
	ck_assert_uint_eq((uint64_t)f->got[1][0], arena_base(0) + ARENA / 2);
	ck_assert_int_eq(f->got[1][1], -EEXIST);
	ck_assert_uint_eq((uint64_t)f->got[1][2], mine + P);
	ck_assert_msg((uint64_t)f->got[1][3] >= arena_base(1) && (uint64_t)f->got[1][3] < arena_base(1) + ARENA,
		      "a taken hint went to %#llx, not to the caller's arena", (unsigned long long)f->got[1][3]);
	/* core 0's mapping is now three VMAs: RW, R (core 1's MAP_FIXED), RW */
	uint64_t n = 0;
	struct sl_mm *mm = sl_of(f->as);
	for (struct sl_node *v = mm->head; v; v = sl_next(NULL, v))
		n += !v->anchor && sn_start(v) >= mine && sn_end(v) <= mine + 4 * P;
	ck_assert_uint_eq(n, 3);
	fix_free(f);
}
END_TEST

/* One core fills its arena with a few huge mappings: the next one goes elsewhere, never ENOMEM while space is free. */
static void full_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(f->as, cpu);
	uint64_t chunk = ARENA / 4;
	for (int i = 0; i < 4; i++) /* 4 quarters minus the anchor's page and the guard pages: the 4th does not fit */
		f->got[0][i] = vm_mmap(f->as, cpu, 0, chunk - 2 * P, VM_PROT_NONE, ANON | VM_MAP_NORESERVE, NULL, 0);
	f->got[1][0] = vm_mmap(f->as, cpu, 0, chunk, VM_PROT_NONE, ANON | VM_MAP_NORESERVE, NULL, 0);
}

START_TEST(full_arena_falls_back)
{
	struct fix *f = fix_new(1);
	sim_run(f->b->sim, full_body, f);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(f->got[0][i] > 0, "mapping %d of a quarter arena failed: %ld", i, f->got[0][i]);
	ck_assert_msg(f->got[1][0] > 0, "a full arena gave %ld, not a mapping elsewhere", f->got[1][0]);
	uint64_t a = (uint64_t)f->got[1][0];
	ck_assert_msg(a + ARENA / 4 <= arena_base(0) || a >= arena_base(0) + ARENA,
		      "the fallback mapping %#llx overlaps the full arena", (unsigned long long)a);
	ck_assert_uint_ge(atomic_load(&sl_of(f->as)->st.gap_searches), 1);
	fix_free(f);
}
END_TEST

/* fork runs in global mode; a call across two arenas too. */
static void global_body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(f->as, cpu);
	if (c->id != 0)
		return;
	uint64_t edge = arena_base(1) - 2 * P;
	f->got[0][0] = vm_mmap(f->as, cpu, edge, 4 * P, RW, ANON | VM_MAP_FIXED, NULL, 0);
	f->got[0][1] = vm_munmap(f->as, cpu, edge, 4 * P);
	struct vm_as *child = vm_fork(f->as, cpu);
	f->got[0][2] = child ? 0 : -1;
	if (child)
		vm_as_destroy(child, cpu);
}

START_TEST(fork_and_cross_arena_are_global)
{
	struct fix *f = fix_new(2);
	struct sl_mm *mm = sl_of(f->as);
	sim_run(f->b->sim, global_body, f);
	ck_assert_int_eq(f->got[0][0], (long)(arena_base(1) - 2 * P));
	ck_assert_int_eq(f->got[0][1], 0);
	ck_assert_int_eq(f->got[0][2], 0);
	ck_assert_uint_eq(atomic_load(&mm->st.global_modes), 3); /* the mmap, the munmap, the fork (the child's exit: its own) */
	fix_free(f);
}
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t91_skiplist_arena");
	TCase *tc = tcase_create("arena");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, unfixed_in_own_arena);
	tcase_add_test(tc, fixed_into_another_arena);
	tcase_add_test(tc, full_arena_falls_back);
	tcase_add_test(tc, fork_and_cross_arena_are_global);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
