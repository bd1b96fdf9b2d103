/* t55_flush.c: flushed-page counts and fork's address slices, built once per design (DESIGN): pages_flushed counts the pages whose translations changed, and a forked child places new mappings. */
#include "tests/harness.h"
#include "vm/boot.h"

#ifndef DESIGN
#error "build with -DDESIGN=\"name\""
#endif

static struct machine M;
static const struct vm_design *D;

#define P(n) ((uint64_t)(n) * PAGE_SIZE)
#define A 0x600000000000ull /* fixed mappings, far from where designs place unfixed ones */
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)
#define FIX VM_MAP_FIXED

/* One address space on one core of a fresh system; fn runs on that core. */
struct fix {
	struct boot *b;
	struct vm_as *as;
	struct mmu_cpu *cpu;
	void (*fn)(struct fix *f);
};

static void body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	f->cpu = mmu_cpu_of(c);
	f->as = vm_as_create(f->b->sys, f->cpu);
	vm_switch(f->as, f->cpu);
	f->fn(f);
	f->cpu->cur = NULL;
	vm_as_destroy(f->as, f->cpu);
}

static void run(void (*fn)(struct fix *f))
{
	struct boot_opts o;
	boot_defaults(&o, &M, D, 1);
	struct fix f = { .b = boot_create(&o), .fn = fn };
	sim_run(f.b->sim, body, &f);
	struct mmu_cpu_stats ms;
	mmu_stats_sum(f.b->mmu, &ms);
	ck_assert_msg(ms.tlb_violations == 0, "%s: %llu TLB coherence violations", D->name,
		      (unsigned long long)ms.tlb_violations);
	ck_assert_msg(boot_destroy(f.b) == 0, "%s: frames leaked", D->name);
}

static uint64_t flushed(struct fix *f) { return vm_cst(f->as, f->cpu)->pages_flushed; }

static void map(struct fix *f, uint64_t va, uint64_t len, int prot, int flags)
{
	ck_assert_msg(vm_mmap(f->as, f->cpu, va, len, prot, flags | FIX, NULL, 0) == (long)va, "%s: mmap at %#llx",
		      D->name, (unsigned long long)va);
}

static void touch(struct fix *f, uint64_t va, enum mmu_acc acc)
{
	ck_assert_msg(vm_access(f->as, f->cpu, va, acc) == VM_FAULT_OK, "%s: access at %#llx", D->name,
		      (unsigned long long)va);
}

/* expect: the pages flushed since `before` are exactly `want`. */
static void expect(struct fix *f, uint64_t before, uint64_t want, const char *what)
{
	uint64_t got = flushed(f) - before;
	ck_assert_msg(got == want, "%s: %s flushed %llu pages, expected %llu (the pages whose translations changed)",
		      D->name, what, (unsigned long long)got, (unsigned long long)want);
}

/* Fork a child, count what the parent flushed, tear the child down. */
static void fork_expect(struct fix *f, uint64_t want, const char *what)
{
	uint64_t before = flushed(f);
	struct vm_as *c = vm_fork(f->as, f->cpu);
	ck_assert_ptr_nonnull(c);
	expect(f, before, want, what);
	vm_as_destroy(c, f->cpu);
}

/*
 * fork: the pages it write-protects, however far apart (the VMA designs
 * counted [0, VM_TASK_SIZE), 2^35 pages; cortenmm the span between them).
 */
static void fork_far(struct fix *f)
{
	map(f, 0x10000000, P(1), RW, ANON);
	map(f, 0x7f0000000000, P(1), RW, ANON);
	touch(f, 0x10000000, ACC_W);
	touch(f, 0x7f0000000000, ACC_W);
	fork_expect(f, 2, "fork of 2 written pages 127 TiB apart");
	/* Write-protected already: nothing changes at the next fork. */
	fork_expect(f, 0, "a second fork");
}

/* fork: only private writable entries lose their write right; read-only, zero-page and shared ones stay. */
static void fork_mixed(struct fix *f)
{
	map(f, A, P(64), RW, ANON);
	for (int i = 0; i < 40; i++)
		touch(f, A + P(i), ACC_W);
	touch(f, A + P(50), ACC_R); /* the zero page, read-only already */
	map(f, A + P(100), P(4), VM_PROT_READ, ANON);
	touch(f, A + P(100), ACC_R);
	map(f, A + P(200), P(4), RW, VM_MAP_SHARED | VM_MAP_ANONYMOUS);
	touch(f, A + P(200), ACC_W);
	fork_expect(f, 40, "fork of 40 written private pages");
}
START_TEST(fork_counts)
{
	run(fork_far);
	run(fork_mixed);
}
END_TEST

/* munmap and mprotect: the mapped pages of the range, not its span, whether flushed page by page or in full. */
static void ranges(struct fix *f)
{
	map(f, A, P(10), RW, ANON);
	touch(f, A + P(2), ACC_W);
	touch(f, A + P(3), ACC_W);
	touch(f, A + P(7), ACC_W);
	uint64_t before = flushed(f);
	ck_assert_int_eq(vm_munmap(f->as, f->cpu, A, P(10)), 0);
	expect(f, before, 3, "munmap of 10 pages, 3 written");

	map(f, A, P(100), RW, ANON);
	touch(f, A, ACC_W);
	touch(f, A + P(50), ACC_W);
	touch(f, A + P(99), ACC_W);
	before = flushed(f);
	ck_assert_int_eq(vm_munmap(f->as, f->cpu, A, P(100)), 0);
	expect(f, before, 3, "munmap of 100 pages, 3 written");

	map(f, A, P(8), RW, ANON);
	for (int i = 0; i < 4; i++)
		touch(f, A + P(i), ACC_W);
	before = flushed(f);
	ck_assert_int_eq(vm_mprotect(f->as, f->cpu, A, P(8), VM_PROT_READ), 0);
	expect(f, before, 4, "mprotect to read-only of 8 pages, 4 written");
	before = flushed(f);
	ck_assert_int_eq(vm_mprotect(f->as, f->cpu, A, P(8), RW), 0);
	expect(f, before, 0, "mprotect that only adds rights");
	ck_assert_int_eq(vm_munmap(f->as, f->cpu, A, P(8)), 0);
}

/*
 * A batch that frees an empty page table before it names a page (cortenmm
 * counted it from address 0: over 2^32 pages). 16 MiB: the table of the
 * second 2 MiB is empty after DONTNEED; the sixth holds a page.
 */
static void table_first(struct fix *f)
{
	map(f, A, 0x1000000, RW, ANON);
	touch(f, A + 0x400000, ACC_W);
	uint64_t before = flushed(f);
	ck_assert_int_eq(vm_madvise(f->as, f->cpu, A + 0x400000, P(1), VM_MADV_DONTNEED), 0);
	expect(f, before, 1, "MADV_DONTNEED of a written page");
	touch(f, A + 0xa00000, ACC_W);
	before = flushed(f);
	ck_assert_int_eq(vm_munmap(f->as, f->cpu, A, 0x1000000), 0);
	expect(f, before, 1, "munmap of 16 MiB holding 1 page and an empty table");
}
START_TEST(range_counts)
{
	run(ranges);
	run(table_first);
}
END_TEST

/*
 * A forked child places new mappings beside the copied ones (cortenmm's
 * child restarted its slices at their base, inside the copies, and mmap
 * failed with ENOMEM after 64 collisions). The copies stay whole.
 */
#define NREG 100
static void child_places(struct fix *f)
{
	uint64_t at[NREG];
	for (int i = 0; i < NREG; i++) {
		long r = vm_mmap(f->as, f->cpu, 0, P(1), RW, ANON, NULL, 0);
		ck_assert_msg(r > 0, "%s: parent mmap %d: %ld", D->name, i, r);
		at[i] = (uint64_t)r;
		touch(f, at[i], ACC_W);
	}
	struct vm_as *c = vm_fork(f->as, f->cpu);
	ck_assert_ptr_nonnull(c);
	vm_switch(c, f->cpu);
	for (int i = 0; i < NREG; i++) {
		long r = vm_mmap(c, f->cpu, 0, P(1), RW, ANON, NULL, 0);
		ck_assert_msg(r > 0, "%s: the child's mmap %d after fork failed: %ld", D->name, i, r);
		ck_assert_int_eq(vm_access(c, f->cpu, (uint64_t)r, ACC_W), VM_FAULT_OK);
	}
	for (int i = 0; i < NREG; i++)
		ck_assert_msg(vm_resident(c, at[i]), "%s: the child's copy of the parent's page at %#llx is gone", D->name,
			      (unsigned long long)at[i]);
	vm_switch(f->as, f->cpu);
	vm_as_destroy(c, f->cpu);
}
START_TEST(fork_child_places) { run(child_places); }
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	D = test_design(DESIGN);
	Suite *s = suite_create("t55_flush_" DESIGN);
	TCase *tc = tcase_create("flush");
	tcase_add_test(tc, fork_counts);
	tcase_add_test(tc, range_counts);
	tcase_add_test(tc, fork_child_places);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
