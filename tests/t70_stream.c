/* t70_stream.c: readers stream: peak memory (getrusage) stays flat while a trace of T70_EVENTS events (default 1,000,000; the bench label runs 10,000,000) is written, read, and replayed. */
#include "tests/harness.h"
#include "traces/trace.h"
#include "sim/util.h"
#include "vm/boot.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Sanitizers keep freed memory in quarantine: peak memory says nothing there, so it is only printed. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static uint64_t nevents(void)
{
	const char *s = getenv("T70_EVENTS");
	uint64_t n = s ? strtoull(s, NULL, 10) : 0;
	if (n < 1000)
		n = 1000000;
	const char *size = getenv("MMSIM_TEST_SIZE"); /* "small" in the sanitizer builds: a tenth */
	return size && !strcmp(size, "small") ? n / 10 : n;
}

static uint64_t rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_maxrss;
}

/*
 * A trace of n events: thread 1 maps 16 MiB, starts thread 2, and both
 * touch its pages round and round with compute gaps between.
 */
static void write_big(const char *path, uint64_t n)
{
	char err[512];
	struct tr_writer *w = tr_writer_open(path, err, sizeof(err));
	ck_assert_msg(w, "%s", err);
	tr_writer_thread(w, &(struct tr_thread){ .tid = 1, .pid = 1, .comm = "big" });
	tr_writer_thread(w, &(struct tr_thread){ .tid = 2, .pid = 1, .parent = 1, .comm = "big2" });
	struct ev e = { .kind = EV_MMAP, .len = 16 << 20, .prot = 3, .flags = 0x22, .new_region = 1 };
	tr_write(w, 1, &e, &(struct tr_meta){ .at = 1, .sync = true, .asid = 1 });
	e = (struct ev){ .kind = EV_THREAD, .tid2 = 2 };
	tr_write(w, 1, &e, NULL);
	for (uint64_t i = 2; i < n - 2; i++) {
		uint32_t tid = 1 + (uint32_t)(i & 1);
		if ((i >> 1) % 2)
			e = (struct ev){ .kind = EV_ACCESS, .fl = EVF_REGION | EVF_CHECK, .region = 1, .acc = 1,
					 .addr = ((i * 7919) % 4096) << 12 };
		else
			e = (struct ev){ .kind = EV_COMPUTE, .fl = EVF_NS, .cycles = 100 };
		ck_assert_int_eq(tr_write(w, tid, &e, &(struct tr_meta){ .at = 10 + i * 50 }), 0);
	}
	e = (struct ev){ .kind = EV_EXIT };
	tr_write(w, 2, &e, NULL);
	e.len = 1;
	tr_write(w, 1, &e, NULL);
	ck_assert_msg(tr_writer_close(w, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(test_reader_flat)
{
	char path[300], err[512];
	snprintf(path, sizeof(path), "%s/t70-stream-%d.mmtrace", util_tmpdir(), getpid());
	uint64_t n = nevents(), before = rss_kb();
	write_big(path, n);
	uint64_t written = rss_kb();
	struct tr_reader *r = tr_open(path, 0, err, sizeof(err));
	ck_assert_msg(r, "%s", err);
	struct ev e;
	uint64_t k = 0, tenth = 0;
	while (tr_next(r, &e, NULL) == 1)
		if (++k == n / 10)
			tenth = rss_kb();
	ck_assert_ptr_null(tr_error(r));
	ck_assert_uint_eq(k, n);
	tr_close(r);
	uint64_t all = rss_kb();
	/* One thread's reader, as each replayed thread has. */
	r = tr_open(path, 2, err, sizeof(err));
	k = 0;
	while (tr_next(r, &e, NULL) == 1)
		k++;
	tr_close(r);
	uint64_t one = rss_kb();
	unlink(path);
	fprintf(stderr, "t70_stream: %llu events: max RSS %llu KiB before, %llu after writing, %llu after a tenth read, "
			"%llu after all, %llu after one thread\n",
		(unsigned long long)n, (unsigned long long)before, (unsigned long long)written,
		(unsigned long long)tenth, (unsigned long long)all, (unsigned long long)one);
	if (SANITIZED)
		return;
	ck_assert_msg(written - before < 8192, "writing %llu events grew the peak by %llu KiB", (unsigned long long)n,
		      (unsigned long long)(written - before));
	ck_assert_msg(all - tenth < 1024, "reading the last nine tenths grew the peak by %llu KiB",
		      (unsigned long long)(all - tenth));
	ck_assert_uint_eq(one, all);
}
END_TEST

static struct ev_src *spawn(void *ctx, uint32_t tid) { return tr_src_open(ctx, tid); }

/* Replay the trace on 2 cores; returns the peak RSS at the end. */
static uint64_t replay(const char *path)
{
	char err[512];
	struct tr_reader *r = tr_open(path, 0, err, sizeof(err));
	ck_assert_msg(r, "%s", err);
	struct machine m;
	test_machine(&m);
	struct boot_opts bo;
	boot_defaults(&bo, &m, vm_design_find("linux"), 2);
	bo.mmu.check = false;
	struct boot *b = boot_create(&bo);
	struct tr_replay *rp = tr_replay_new(path, tr_reader_header(r));
	struct ex *x = ex_create(b->sys);
	x->spawn = spawn;
	x->spawn_ctx = rp;
	ex_add_thread(x, 1, 1, tr_src_open(rp, 1), 0);
	tr_close(r);
	ex_run(x);
	ck_assert_msg(!x->err[0], "%s", x->err);
	struct ex_core_stats tot;
	cycles_t win;
	ex_totals(x, &tot, &win);
	ck_assert_uint_eq(tot.fault_outcome_mismatches, 0);
	ex_destroy(x);
	tr_replay_free(rp);
	ck_assert_int_eq(boot_destroy(b), 0);
	return rss_kb();
}

START_TEST(test_replay_flat)
{
	char small[300], big[300];
	const char *tmp = util_tmpdir();
	snprintf(small, sizeof(small), "%s/t70-small-%d.mmtrace", tmp, getpid());
	snprintf(big, sizeof(big), "%s/t70-big-%d.mmtrace", tmp, getpid());
	uint64_t n = nevents();
	write_big(small, n / 10);
	write_big(big, n);
	uint64_t a = replay(small);
	uint64_t b = replay(big);
	unlink(small);
	unlink(big);
	fprintf(stderr, "t70_stream: replay max RSS %llu KiB after %llu events, %llu KiB after %llu events\n",
		(unsigned long long)a, (unsigned long long)n / 10, (unsigned long long)b, (unsigned long long)n);
	if (!SANITIZED)
		ck_assert_msg(b - a < 4096, "replaying ten times the events grew the peak by %llu KiB", (unsigned long long)(b - a));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("t70_stream");
	TCase *tc = tcase_create("stream");
	tcase_set_timeout(tc, 3600);
	tcase_add_test(tc, test_reader_flat);
	tcase_add_test(tc, test_replay_flat);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
