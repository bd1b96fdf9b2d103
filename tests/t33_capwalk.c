/* t33_capwalk.c: the walk as hardware does it: reference counts of a two-dimensional (nested paging) walk, and cache capacity in a page-stride pointer chase. */
#include "tests/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE 0x40000000ull /* 1 GiB: one PDPT entry covers every page used here */

/* The test machine with some keys changed: each override is "key = value", replacing the test machine's line. */
static void machine_with(struct machine *m, const char *const *over, size_t n)
{
	char *t = strdup(test_machine_text);
	for (size_t i = 0; i < n; i++) {
		size_t klen = strcspn(over[i], " =");
		char key[64];
		snprintf(key, sizeof(key), "\n%.*s =", (int)klen, over[i]);
		char *l = strstr(t, key);
		ck_assert_msg(l, "test machine has no key %s", key + 1);
		l++;
		char *e = strchr(l, '\n');
		size_t head = (size_t)(l - t), tail = strlen(e);
		char *u = malloc(head + strlen(over[i]) + tail + 1);
		memcpy(u, t, head);
		strcpy(u + head, over[i]);
		strcat(u, e);
		free(t);
		t = u;
	}
	char err[256];
	int rc = machine_load_text(m, t, "t33 machine", err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	free(t);
}

/* One single-core run: map `pages` 4 KiB pages at BASE (to fake frames far above the allocator's, so no data line shares a tag with a PT page's), then run fn on core 0 and keep its MMU counters. */
struct chase {
	struct mmu *mmu;
	struct mmu_space sp;
	uint32_t pages;
	uint32_t *order; /* access order, or NULL for 0, 1, 2, ... */
	uint32_t passes;
	struct mmu_cpu_stats st;  /* over the last pass */
	struct sim_core_stats cst; /* over the last pass */
	cycles_t cycles;	   /* over the last pass */
};

static void chase_body(struct sim_core *c, void *arg)
{
	struct chase *ch = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	mmu_switch(cpu, &ch->sp);
	for (uint32_t p = 0; p < ch->passes; p++) {
		struct mmu_cpu_stats st0 = cpu->st;
		struct sim_core_stats cs0 = c->st;
		cycles_t t0 = c->clock;
		for (uint32_t i = 0; i < ch->pages; i++) {
			uint32_t pg = ch->order ? ch->order[i] : i;
			ASSERT(mmu_access(cpu, BASE + (uint64_t)pg * 4096, ACC_R) == 0);
		}
		ch->cycles = c->clock - t0;
		ch->st = cpu->st;
		ch->st.walks -= st0.walks;
		ch->st.walk_reads -= st0.walk_reads;
		ch->st.walk_cycles -= st0.walk_cycles;
		ch->st.npt_reads -= st0.npt_reads;
		ch->st.npt_walks -= st0.npt_walks;
		ch->st.ntlb_hits -= st0.ntlb_hits;
		ch->cst = c->st;
		ch->cst.line_l2 -= cs0.line_l2;
		ch->cst.line_l3 -= cs0.line_l3;
		ch->cst.line_evicted -= cs0.line_evicted;
	}
}

static void chase_run(const struct machine *m, struct chase *ch)
{
	struct sim *s = test_sim(1, SIM_DET, m);
	struct mmu_opts o = { .nframes = 1 << 16, .levels = 4, .check = false };
	ch->mmu = mmu_create(s, &o);
	ck_assert_int_eq(mmu_space_init(ch->mmu, &ch->sp, NULL), 0);
	for (uint32_t i = 0; i < ch->pages; i++)
		ck_assert_int_eq(mmu_map_host(&ch->sp, BASE + (uint64_t)i * 4096, (1ull << 30) + i,
					      PTE_P | PTE_RW | PTE_US | PTE_A, 1), 0);
	sim_run(s, chase_body, ch);
	xfree(ch->sp.win); /* the space's window array; its tables go with the frames in mmu_destroy */
	mmu_destroy(ch->mmu);
	sim_destroy(s);
}

/* One walk with nothing cached (no guest or host paging-structure caches, no nested TLB): its MMU counters. */
static struct mmu_cpu_stats cold_walk(const char *host_level)
{
	const char *const over[] = { "npt = yes", host_level, "npt.tlb.entries = 0", "npt.psc.entries = 0",
				     "psc.pml5.entries = 0", "psc.pml4.entries = 0", "psc.pdpt.entries = 0",
				     "psc.pde.entries = 0" };
	struct machine m;
	machine_with(&m, over, sizeof(over) / sizeof(over[0]));
	struct chase ch = { .pages = 1, .passes = 1 };
	chase_run(&m, &ch);
	return ch.st;
}

/* A guest walk of 4 levels, each entry's table and the data page translated by 4 host levels: 24 references. */
START_TEST(nested_walk_24_references)
{
	struct mmu_cpu_stats st = cold_walk("npt.host_level = 1");
	ck_assert_uint_eq(st.walks, 1);
	ck_assert_uint_eq(st.walk_reads, 4);
	ck_assert_uint_eq(st.npt_reads, 20); /* 4 guest tables + the data page, 4 host levels each */
	ck_assert_uint_eq(st.walk_reads + st.npt_reads, 24);
}
END_TEST

/* With 2 MiB host pages the host walk has 3 levels: 4 + 5 x 3 = 19 references. */
START_TEST(nested_walk_host_2m)
{
	struct mmu_cpu_stats st = cold_walk("npt.host_level = 2");
	ck_assert_uint_eq(st.walk_reads + st.npt_reads, 19);
}
END_TEST

/*
 * The host's caching of translations: with a nested TLB, a second pass over
 * pages the TLB cannot hold (the test machine's STLB has 32 entries) walks
 * again, but only the data frames need a host walk (the 4 guest tables are
 * in the nested TLB); with the host's PDE cache too, each such walk reads
 * only the host leaf.
 */
START_TEST(nested_tlb_and_host_psc)
{
	static const char *const over[] = { "npt = yes", "npt.host_level = 1", "npt.tlb.entries = 16",
					    "npt.psc.entries = 0" };
	struct machine m;
	machine_with(&m, over, sizeof(over) / sizeof(over[0]));
	struct chase ch = { .pages = 64, .passes = 2 };
	chase_run(&m, &ch);
	ck_assert_uint_eq(ch.st.walks, 64);
	ck_assert_uint_eq(ch.st.npt_walks, 64); /* the data frames: 64 distinct, more than the nested TLB holds */
	ck_assert_uint_eq(ch.st.npt_reads, 64 * 4);
	static const char *const over2[] = { "npt = yes", "npt.host_level = 1", "npt.tlb.entries = 16",
					     "npt.psc.entries = 4" };
	machine_with(&m, over2, sizeof(over2) / sizeof(over2[0]));
	struct chase c2 = { .pages = 64, .passes = 2 };
	chase_run(&m, &c2);
	ck_assert_uint_eq(c2.st.npt_walks, 64);
	ck_assert_uint_eq(c2.st.npt_reads, 64); /* frames 2^30 .. 2^30+63 share one host PDE: each walk reads its leaf only */
}
END_TEST

/* Nested paging off: no host references, whatever the other npt keys say. */
START_TEST(nested_off_no_host_refs)
{
	static const char *const over[] = { "npt = no", "npt.tlb.entries = 16" };
	struct machine m;
	machine_with(&m, over, sizeof(over) / sizeof(over[0]));
	struct chase ch = { .pages = 64, .passes = 2 };
	chase_run(&m, &ch);
	ck_assert_uint_eq(ch.st.npt_reads + ch.st.npt_walks + ch.st.ntlb_hits, 0);
}
END_TEST

/* A random cyclic order over n pages (the pointer chase). */
static uint32_t *cyclic(uint32_t n)
{
	uint32_t *o = malloc(sizeof(uint32_t) * n);
	uint64_t s = 88172645463325252ull;
	for (uint32_t i = 0; i < n; i++)
		o[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		uint32_t j = (uint32_t)(s % (i + 1)), t = o[i];
		o[i] = o[j];
		o[j] = t;
	}
	return o;
}

/*
 * Capacity: the same pointer chase over 2048 pages (256 leaf-PTE lines, and
 * 2048 data lines) walks on every access (the STLB holds 32). With caches
 * large enough every PTE line stays in L1; with a 1 KiB L1 they come from
 * L2; with small L2 and L3 too they come from memory, and the walk costs
 * what those levels cost.
 */
START_TEST(capacity_moves_walk_cost)
{
	const uint32_t n = 2048;
	uint32_t *order = cyclic(n);
	struct machine m;
	static const char *const big[] = { "cache.l1.kib = 1024", "cache.l1.ways = 8", "cache.l2.kib = 2048",
					   "cache.l2.ways = 8", "cache.l3.kib = 8192", "cache.l3.ways = 16" };
	machine_with(&m, big, 6);
	struct chase a = { .pages = n, .order = order, .passes = 2 };
	chase_run(&m, &a);
	ck_assert_uint_eq(a.st.walks, n);
	ck_assert_uint_eq(a.cst.line_l2 + a.cst.line_l3 + a.cst.line_evicted, 0);

	static const char *const small_l1[] = { "cache.l1.kib = 1", "cache.l1.ways = 2", "cache.l2.kib = 2048",
						"cache.l2.ways = 8", "cache.l3.kib = 8192", "cache.l3.ways = 16" };
	machine_with(&m, small_l1, 6);
	struct chase b = { .pages = n, .order = order, .passes = 2 };
	chase_run(&m, &b);
	ck_assert_uint_eq(b.st.walks, n);
	ck_assert_uint_gt(b.cst.line_l2, n / 2); /* most leaf-PTE reads found their line in L2 */
	ck_assert_uint_eq(b.cst.line_evicted, 0);
	/* each L2 read costs cache.l2.hit (12) instead of coh.hit (1) */
	ck_assert_uint_eq(b.st.walk_cycles - a.st.walk_cycles,
			  (b.cst.line_l2 * (12 - 1)) + (b.cst.line_l3 * (40 - 1)));

	/* cores_per_ccx of the test machine splits the L3: 2 KiB per core here */
	static const char *const tiny[] = { "cache.l1.kib = 1", "cache.l1.ways = 2", "cache.l2.kib = 2",
					    "cache.l2.ways = 2", "cache.l3.kib = 8", "cache.l3.ways = 2" };
	machine_with(&m, tiny, 6);
	struct chase c = { .pages = n, .order = order, .passes = 2 };
	chase_run(&m, &c);
	ck_assert_uint_gt(c.cst.line_evicted, n / 2);
	ck_assert_uint_gt(c.st.walk_cycles, b.st.walk_cycles);
	free(order);
}
END_TEST

/* A small working set stays in L1 even with a small L1: capacity, not a flat penalty. */
START_TEST(capacity_small_working_set)
{
	struct machine m;
	static const char *const small_l1[] = { "cache.l1.kib = 4", "cache.l1.ways = 4", "cache.l2.kib = 64",
						"cache.l2.ways = 8", "cache.l3.kib = 1024", "cache.l3.ways = 16" };
	machine_with(&m, small_l1, 6);
	uint32_t *order = cyclic(8);
	struct chase a = { .pages = 8, .order = order, .passes = 3 };
	chase_run(&m, &a);
	ck_assert_uint_eq(a.cst.line_l2 + a.cst.line_l3 + a.cst.line_evicted, 0);
	free(order);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("capwalk");
	TCase *tc = tcase_create("capwalk");
	tcase_add_test(tc, nested_walk_24_references);
	tcase_add_test(tc, nested_walk_host_2m);
	tcase_add_test(tc, nested_tlb_and_host_psc);
	tcase_add_test(tc, nested_off_no_host_refs);
	tcase_add_test(tc, capacity_moves_walk_cost);
	tcase_add_test(tc, capacity_small_working_set);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
