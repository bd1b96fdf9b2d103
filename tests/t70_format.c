/* t70_format.c: the binary trace form: exact round trips of every field, per-thread readers, and malformed files (cut short, another version, corrupt) rejected with a message, never a crash. */
#include "tests/harness.h"
#include "traces/trace.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

static char dir[256];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/t70-XXXXXX", util_tmpdir());
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

/* An event with every field set, derived from i. */
static struct ev full_event(uint32_t i)
{
	return (struct ev){ .kind = EV_MMAP, .acc = (uint8_t)(i % 3), .fl = EVF_REGION | EVF_CHECK | EVF_OP,
			    .region = i + 1, .region2 = i + 2, .new_region = i + 3, .tid2 = i + 4, .pid2 = i + 5,
			    .file = 1, .prot = -(int32_t)i, .flags = VM_MAP_PRIVATE, .advice = (int32_t)i * 7,
			    .addr = 0x7f0000000000ull + i, .addr2 = UINT64_MAX - i, .len = 1ull << (i % 60),
			    .len2 = i * 3ull, .off = i * 4096ull, .hint = i * 11ull, .ret = -(int64_t)i * 1000003,
			    .cycles = i };
}

/* Write a trace: thread 1 (initial) creates thread 2; n events each, with times and address spaces. */
static void write_trace(const char *path, uint32_t n)
{
	char err[512];
	struct tr_writer *w = tr_writer_open(path, err, sizeof(err));
	ck_assert_msg(w, "%s", err);
	tr_writer_source(w, "t70");
	tr_writer_thread(w, &(struct tr_thread){ .tid = 1, .pid = 1, .rtid = 100, .rpid = 100, .comm = "main thread" });
	tr_writer_thread(w, &(struct tr_thread){ .tid = 2, .pid = 1, .parent = 1, .comm = "worker" });
	tr_writer_file(w, 1, 1 << 20, 0xfe00000, 42, "/usr/lib/a file");
	struct ev t = { .kind = EV_THREAD, .tid2 = 2 };
	ck_assert_int_eq(tr_write(w, 1, &t, &(struct tr_meta){ .at = 5, .asid = 1 }), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct ev e = full_event(i);
		struct tr_meta m = { .at = 10 + i * 3ull, .sync = i % 2, .asid = i % 5 == 0 ? 1 : 0 };
		ck_assert_int_eq(tr_write(w, 1 + i % 2, &e, &m), 0);
	}
	ck_assert_msg(tr_writer_close(w, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(test_roundtrip)
{
	char path[300], err[512];
	snprintf(path, sizeof(path), "%s/a.mmtrace", dir);
	write_trace(path, 1000);
	ck_assert(tr_is_binary(path));
	struct tr_reader *r = tr_open(path, 0, err, sizeof(err));
	ck_assert_msg(r, "%s", err);
	const struct tr_header *h = tr_reader_header(r);
	ck_assert_uint_eq(h->version, TR_VERSION);
	ck_assert_str_eq(h->source, "t70");
	ck_assert_uint_eq(h->nthreads, 2);
	ck_assert_uint_eq(h->events, 1001);
	ck_assert_uint_eq(h->threads[0].events, 501);
	ck_assert_uint_eq(h->threads[1].parent, 1);
	ck_assert_str_eq(h->threads[0].comm, "main thread");
	ck_assert_uint_eq(h->threads[0].rtid, 100);
	ck_assert_uint_eq(h->nfiles, 1);
	ck_assert_str_eq(h->files[0].name, "/usr/lib/a file");
	ck_assert_uint_eq(h->files[0].size, 1 << 20);
	ck_assert_uint_eq(h->files[0].ino, 42);
	struct ev e;
	struct tr_meta m;
	ck_assert_int_eq(tr_next(r, &e, &m), 1);
	ck_assert_uint_eq(e.kind, EV_THREAD);
	ck_assert_uint_eq(m.at, 5);
	ck_assert_uint_eq(m.asid, 1);
	for (uint32_t i = 0; i < 1000; i++) {
		ck_assert_int_eq(tr_next(r, &e, &m), 1);
		struct ev want = full_event(i);
		want.tid = 1 + i % 2;
		ck_assert_msg(!memcmp(&e, &want, sizeof(e)), "event %u differs", i);
		ck_assert_uint_eq(m.at, 10 + i * 3ull);
		ck_assert_int_eq(m.sync, i % 2);
		ck_assert_uint_eq(m.asid, i % 5 == 0 ? 1 : 0);
	}
	ck_assert_int_eq(tr_next(r, &e, &m), 0);
	ck_assert_int_eq(tr_next(r, &e, &m), 0);
	tr_close(r);
	/* One thread's reader sees only its events, with its own times. */
	r = tr_open(path, 2, err, sizeof(err));
	ck_assert_msg(r, "%s", err);
	uint32_t k = 0;
	while (tr_next(r, &e, &m) == 1) {
		ck_assert_uint_eq(e.tid, 2);
		ck_assert_uint_eq(m.at, 10 + (2 * k + 1) * 3ull);
		k++;
	}
	ck_assert_ptr_null(tr_error(r));
	ck_assert_uint_eq(k, 500);
	tr_close(r);
	r = tr_open(path, 3, err, sizeof(err));
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(err, "thread 3 is not in the trace"), "%s", err);
}
END_TEST

/* Decompress path into a malloc'd buffer. */
static uint8_t *slurp_raw(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	size_t zn = (size_t)ftell(f);
	rewind(f);
	uint8_t *z = malloc(zn);
	ck_assert_uint_eq(fread(z, 1, zn, f), zn);
	fclose(f);
	size_t cap = 1 << 20, len = 0;
	uint8_t *out = malloc(cap);
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer in = { z, zn, 0 };
	while (in.pos < in.size) {
		if (len == cap)
			out = realloc(out, cap *= 2);
		ZSTD_outBuffer o = { out + len, cap - len, 0 };
		size_t rc = ZSTD_decompressStream(ds, &o, &in);
		ck_assert(!ZSTD_isError(rc));
		len += o.pos;
	}
	ZSTD_freeDStream(ds);
	free(z);
	*n = len;
	return out;
}

static void write_z(const char *path, const uint8_t *p, size_t n)
{
	size_t zb = ZSTD_compressBound(n);
	uint8_t *z = malloc(zb);
	size_t zn = ZSTD_compress(z, zb, p, n, 1);
	ck_assert(!ZSTD_isError(zn));
	FILE *f = fopen(path, "wb");
	ck_assert_uint_eq(fwrite(z, 1, zn, f), zn);
	fclose(f);
	free(z);
}

/* Read the whole trace: 0 if it reads, -1 with the message. */
static int read_all(const char *path, char *err, size_t errlen)
{
	struct tr_reader *r = tr_open(path, 0, err, errlen);
	if (!r)
		return -1;
	struct ev e;
	int k;
	while ((k = tr_next(r, &e, NULL)) == 1)
		;
	if (k < 0)
		snprintf(err, errlen, "%s", tr_error(r));
	tr_close(r);
	return k;
}

START_TEST(test_version)
{
	char path[300], bad[300], err[512];
	snprintf(path, sizeof(path), "%s/a.mmtrace", dir);
	snprintf(bad, sizeof(bad), "%s/v.mmtrace", dir);
	write_trace(path, 10);
	size_t n;
	uint8_t *raw = slurp_raw(path, &n);
	raw[8] = 7;
	write_z(bad, raw, n);
	ck_assert(tr_is_binary(bad));
	ck_assert_int_eq(read_all(bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "trace format version 7; this mmsim reads version 1"), "%s", err);
	raw[8] = 1;
	raw[0] = 'X';
	write_z(bad, raw, n);
	ck_assert(!tr_is_binary(bad));
	ck_assert_int_eq(read_all(bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not an mmsim binary trace"), "%s", err);
	free(raw);
}
END_TEST

/* Every prefix of the decompressed content, and every prefix of the compressed file, is an error. */
START_TEST(test_cut_short)
{
	char path[300], bad[300], err[512];
	snprintf(path, sizeof(path), "%s/a.mmtrace", dir);
	snprintf(bad, sizeof(bad), "%s/cut.mmtrace", dir);
	write_trace(path, 40);
	size_t n;
	uint8_t *raw = slurp_raw(path, &n);
	for (size_t k = 0; k < n; k++) {
		write_z(bad, raw, k);
		ck_assert_msg(read_all(bad, err, sizeof(err)) == -1, "a trace cut at byte %zu reads", k);
		ck_assert_msg(!strncmp(err, bad, strlen(bad)), "message without the file: %s", err);
	}
	write_z(bad, raw, n);
	ck_assert_msg(read_all(bad, err, sizeof(err)) == 0, "%s", err);
	free(raw);
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size_t zn = (size_t)ftell(f);
	rewind(f);
	uint8_t *z = malloc(zn);
	ck_assert_uint_eq(fread(z, 1, zn, f), zn);
	fclose(f);
	for (size_t k = 1; k < zn; k++) {
		f = fopen(bad, "wb");
		ck_assert_uint_eq(fwrite(z, 1, k, f), k);
		fclose(f);
		ck_assert_msg(read_all(bad, err, sizeof(err)) == -1, "a file cut at byte %zu of %zu reads", k, zn);
	}
	free(z);
}
END_TEST

/* Random byte changes in the content: an error or a valid trace, never a crash (run under ASan too). */
START_TEST(test_corrupt)
{
	char path[300], bad[300], err[512];
	snprintf(path, sizeof(path), "%s/a.mmtrace", dir);
	snprintf(bad, sizeof(bad), "%s/c.mmtrace", dir);
	write_trace(path, 60);
	size_t n;
	uint8_t *raw = slurp_raw(path, &n);
	uint8_t *copy = malloc(n);
	uint64_t rng = 88172645463325252ull;
	int errors = 0;
	for (int round = 0; round < 400; round++) {
		memcpy(copy, raw, n);
		for (int j = 0; j < 1 + round % 4; j++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			size_t at = 12 + rng % (n - 12);
			copy[at] = (uint8_t)(rng >> 32);
		}
		write_z(bad, copy, n);
		if (read_all(bad, err, sizeof(err)) < 0) {
			errors++;
			ck_assert_msg(!strncmp(err, bad, strlen(bad)), "%s", err);
		}
	}
	ck_assert_int_gt(errors, 100);
	free(copy);
	free(raw);
}
END_TEST

/* A writer with an undeclared thread refuses to write the file. */
START_TEST(test_undeclared)
{
	char path[300], err[512];
	snprintf(path, sizeof(path), "%s/u.mmtrace", dir);
	struct tr_writer *w = tr_writer_open(path, err, sizeof(err));
	struct ev e = { .kind = EV_EXIT };
	tr_write(w, 9, &e, NULL);
	ck_assert_int_eq(tr_writer_close(w, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "thread 9 has events but was never declared"), "%s", err);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("t70_format");
	TCase *tc = tcase_create("format");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_cut_short);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_undeclared);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
