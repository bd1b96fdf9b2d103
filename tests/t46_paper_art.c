/* t46_paper_art.c: --method paper's event streams against the CortenMM artifact's layout (offsets, shuffle, setup, timed requests), and calibrate's neighbour mapping. */
#include "tests/harness.h"
#include "workloads/wl.h"
#include "vm/boot.h"
#include "vm/exec.h"
#include "sim/emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define R WL_PAPER_REQS

/* One thread's whole stream, and where its requests are. */
struct stream {
	struct ev ev[40000];
	int n;
	int mark;      /* index of EV_MARK */
	int ops[R + 1]; /* indexes of the EVF_OP events */
	int nops;
};

/* Collect thread i's events of workload `name` at `threads` threads and the contention level. */
static void collect(struct stream *s, const char *name, uint32_t threads, bool high, uint32_t i)
{
	const struct wl_def *w = wl_find(name);
	ck_assert_ptr_nonnull(w);
	struct wl_params p = { .threads = threads, .high_contention = high, .paper = true, .seed = 1 };
	char msg[256];
	ck_assert_int_eq(wl_check(w, &p, msg, sizeof(msg)), 0);
	struct ev_src *src = wl_thread(w, &p, i);
	memset(s, 0, sizeof(*s));
	s->mark = -1;
	struct ev e;
	while (src->next(src, &e) && e.kind != EV_END) {
		ck_assert_int_lt(s->n, (int)(sizeof(s->ev) / sizeof(s->ev[0])));
		if (e.kind == EV_MARK)
			s->mark = s->n;
		if (e.fl & EVF_OP) {
			ck_assert_int_le(s->nops, R);
			s->ops[s->nops++] = s->n;
		}
		s->ev[s->n++] = e;
	}
	src->close(src);
	ck_assert_int_ge(s->mark, 0);
	ck_assert_int_eq(s->nops, R); /* 32 timed requests, each ending with one EVF_OP event */
}

static struct stream S;

/* The page (from the region's start) that request k of a munmap/pf stream touches. */
static uint64_t page_of(const struct stream *s, int k) { return s->ev[s->ops[k]].addr / PAGE_SIZE; }

START_TEST(low_contention_layout)
{
	/* munmap_virt.c at level 0: pad 3*256-32, so thread i's requests are pages i*737 + j */
	collect(&S, "munmap-virt", 3, false, 2);
	for (int k = 0; k < R; k++) {
		ck_assert_int_eq(S.ev[S.ops[k]].kind, EV_MUNMAP);
		ck_assert_uint_eq(page_of(&S, k), 2 * 737 + (uint64_t)k);
		ck_assert_uint_eq(S.ev[S.ops[k]].len, PAGE_SIZE);
	}
	/* pf.c: pad 512-32, so pages i*481 + j; thread 1 sets nothing up */
	collect(&S, "pf", 3, false, 1);
	for (int k = 0; k < R; k++) {
		ck_assert_int_eq(S.ev[S.ops[k]].kind, EV_ACCESS);
		ck_assert_uint_eq(page_of(&S, k), 481 + (uint64_t)k);
	}
	ck_assert_int_eq(S.mark, 1); /* a barrier, then the mark */
}
END_TEST

START_TEST(high_contention_shuffle)
{
	/*
	 * Expected values: run_test()'s offsets for 2 threads, reserved = 1 + 480
	 * pages, shuffled with simple_get_rand seeded 0xdeadbeef - 2 (computed
	 * apart from this code, by a transcription of common.h).
	 */
	static const uint64_t t0[] = { 11, 5, 1, 503 }, t1[] = { 26, 16, 505, 488 };
	collect(&S, "pf", 2, true, 0);
	for (int k = 0; k < 4; k++)
		ck_assert_uint_eq(page_of(&S, k), t0[k]);
	collect(&S, "munmap", 2, true, 1);
	for (int k = 0; k < 4; k++)
		ck_assert_uint_eq(page_of(&S, k), t1[k]);
	/* mmap.c fixed at level 1, 4 threads: 4-page requests, reserved 4 + 384, at BASE_PTR 0x100000000 */
	static const uint64_t t3[] = { 1192, 388, 124, 452 };
	collect(&S, "mmap", 4, true, 3);
	for (int k = 0; k < 4; k++) {
		const struct ev *e = &S.ev[S.ops[k]];
		ck_assert_int_eq(e->kind, EV_MMAP);
		ck_assert(e->flags & VM_MAP_FIXED);
		ck_assert(!(e->fl & EVF_REGION));
		ck_assert_uint_eq(e->addr, 0x100000000ull + t3[k] * PAGE_SIZE);
		ck_assert_uint_eq(e->len, 4 * PAGE_SIZE);
	}
}
END_TEST

START_TEST(setup_by_the_main_thread)
{
	/* munmap.c: the main thread maps threads*32*reserved pages and writes every request's page before the clock starts */
	collect(&S, "munmap", 3, false, 0);
	ck_assert_int_eq(S.ev[0].kind, EV_MMAP);
	ck_assert_uint_eq(S.ev[0].len, 3ull * R * 737 * PAGE_SIZE);
	int writes = 0;
	for (int k = 1; k < S.mark; k++)
		writes += S.ev[k].kind == EV_ACCESS;
	ck_assert_int_eq(writes, 3 * R);
	/* munmap-virt writes nothing */
	collect(&S, "munmap-virt", 3, false, 0);
	ck_assert_int_eq(S.mark, 2); /* mmap, barrier, mark */
}
END_TEST

START_TEST(mmap_requests_stand_alone)
{
	/* mmap.c unfixed: 32 mmaps of 4 pages, no munmap, nothing mapped first */
	collect(&S, "mmap", 2, false, 1);
	for (int k = 0; k < S.n; k++)
		ck_assert_int_ne(S.ev[k].kind, EV_MUNMAP);
	for (int k = 0; k < R; k++) {
		const struct ev *e = &S.ev[S.ops[k]];
		ck_assert_int_eq(e->kind, EV_MMAP);
		ck_assert(!(e->flags & VM_MAP_FIXED));
		ck_assert_uint_eq(e->len, 4 * PAGE_SIZE);
	}
	/* mmap_pf.c unfixed: each request an mmap of 1 page and a write to it; the write ends the request */
	collect(&S, "mmap-pf", 2, false, 0);
	for (int k = 0; k < R; k++) {
		const struct ev *w = &S.ev[S.ops[k]], *m = &S.ev[S.ops[k] - 1];
		ck_assert_int_eq(w->kind, EV_ACCESS);
		ck_assert_int_eq(m->kind, EV_MMAP);
		ck_assert_uint_eq(w->region, m->new_region);
		ck_assert_uint_ne(m->new_region, 0);
	}
}
END_TEST

START_TEST(bad_combinations_refused)
{
	char msg[256];
	struct wl_params p = { .threads = 2, .paper = true, .ops = 8 };
	ck_assert_int_eq(wl_check(wl_find("pf"), &p, msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "32 requests"));
	p.ops = 0;
	ck_assert_int_eq(wl_check(wl_find("jit"), &p, msg, sizeof(msg)), -1);
	ck_assert_uint_eq(wl_ops(wl_find("pf"), &p), R);
}
END_TEST

/* merges: linux's vma_merges and vma_splits after one thread of mmap (default method, 16 requests), with or without the neighbour. */
static void merges(bool neighbour, uint64_t *m, uint64_t *sp)
{
	struct machine mc;
	test_machine(&mc);
	struct boot_opts bo;
	boot_defaults(&bo, &mc, test_design("linux"), 1);
	struct boot *b = boot_create(&bo);
	struct ex *x = ex_create(b->sys);
	struct wl_params p = { .threads = 1, .ops = 16, .seed = 1, .neighbour = neighbour };
	ex_add_thread(x, 1, 1, wl_thread(wl_find("mmap"), &p, 0), 0);
	ex_run(x);
	ck_assert_msg(!x->err[0], "%s", x->err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct em e;
	em_init(&e, f, EM_JSON);
	em_begin(&e);
	b->sys->d->stats(ex_as(x, 0), &e);
	em_end(&e);
	fclose(f);
	const char *a = strstr(buf, "\"vma_merges\":"), *c = strstr(buf, "\"vma_splits\":");
	ck_assert_msg(a && c, "%s", buf);
	*m = strtoull(a + strlen("\"vma_merges\":"), NULL, 10);
	*sp = strtoull(c + strlen("\"vma_splits\":"), NULL, 10);
	free(buf);
	ex_destroy(x);
	ck_assert_int_eq(boot_destroy(b), 0);
}

/* calibrate's neighbour: thread 0 first maps two anonymous pages; each request then merges with them, and its munmap splits. */
START_TEST(neighbour_merges)
{
	const struct wl_def *w = wl_find("mmap");
	struct wl_params p = { .threads = 2, .ops = 4, .seed = 1, .neighbour = true };
	struct ev_src *src = wl_thread(w, &p, 0);
	struct ev e;
	ck_assert(src->next(src, &e));
	ck_assert_int_eq(e.kind, EV_MMAP);
	ck_assert_uint_eq(e.len, 2 * PAGE_SIZE);
	ck_assert(!(e.fl & EVF_OP));
	src->close(src);
	src = wl_thread(w, &p, 1); /* only thread 0 maps it */
	while (src->next(src, &e) && e.kind != EV_END)
		ck_assert(!(e.kind == EV_MMAP && e.len == 2 * PAGE_SIZE));
	src->close(src);
	uint64_t m, sp;
	merges(false, &m, &sp);
	ck_assert_uint_eq(m, 0);
	ck_assert_uint_eq(sp, 0);
	merges(true, &m, &sp);
	ck_assert_uint_eq(m, 16);
	ck_assert_uint_eq(sp, 16);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("paper_art");
	TCase *tc = tcase_create("art");
	tcase_add_test(tc, low_contention_layout);
	tcase_add_test(tc, high_contention_shuffle);
	tcase_add_test(tc, setup_by_the_main_thread);
	tcase_add_test(tc, mmap_requests_stand_alone);
	tcase_add_test(tc, bad_combinations_refused);
	tcase_add_test(tc, neighbour_merges);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
