/* t70_format.c: the binary trace form (version 3): exact round trips of every field over many blocks, per-thread readers, output written whole or not at all, and corrupt files (cut at and inside every block, trailing bytes, single bit flips anywhere, re-checksummed nonsense) refused with their position, never a crash. */
#include "tests/harness.h"
#include "traces/block.h"
#include "traces/trace.h"
#include "traces/util.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* A path in the test's directory. */
static const char *at(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
	return buf;
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

/*
 * Write a trace: thread 1 (initial) creates thread 2, then n events each
 * with times and address spaces; `extra` more initial threads (of process
 * 1, without events) make the header longer.
 */
static void write_trace(const char *path, uint32_t n, uint32_t extra)
{
	char err[512];
	struct tr_writer *w = tr_writer_open(path, err, sizeof(err));
	ck_assert_msg(w, "%s", err);
	tr_writer_source(w, "t70");
	tr_writer_thread(w, &(struct tr_thread){ .tid = 1, .pid = 1, .rtid = 100, .rpid = 100, .comm = "main thread" });
	tr_writer_thread(w, &(struct tr_thread){ .tid = 2, .pid = 1, .parent = 1, .comm = "worker" });
	for (uint32_t i = 0; i < extra; i++)
		tr_writer_thread(w, &(struct tr_thread){ .tid = 3 + i, .pid = 1, .rtid = 1000 + i,
							 .comm = "an idle thread name" });
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

/* ---- files as bytes ---- */

struct bytes {
	uint8_t *p;
	size_t n;
};

static struct bytes slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	struct bytes b = { .n = (size_t)ftell(f) };
	rewind(f);
	b.p = malloc(b.n + 1);
	ck_assert_uint_eq(fread(b.p, 1, b.n, f), b.n);
	fclose(f);
	return b;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* The block boundaries of a well-formed file (as docs/trace-format.md lays it out): the starts of descriptors and of zstd frames, then the footer's start. */
static size_t boundaries(const struct bytes *b, uint64_t *out, size_t max)
{
	size_t k = 0;
	uint64_t o = BLK_PREFIX;
	while (k + 2 < max && tu_get_le(b->p + o + 4, 4) == BLK_DESC - 8) {
		out[k++] = o;
		out[k++] = o + BLK_DESC;
		o += BLK_DESC + tu_get_le(b->p + o + 8 + 24, 4);
	}
	out[k++] = o;
	return k;
}

/* The test's trace at path (write_trace(path, n, extra)) and its bytes; bad is set to the path of the copy to corrupt. */
static struct bytes made(char *path, char *bad, uint32_t n, uint32_t extra)
{
	at(path, 300, "a.mmtrace");
	at(bad, 300, "bad.mmtrace");
	write_trace(path, n, extra);
	return slurp(path);
}

/* ---- reading ---- */

/* Read the whole trace as every command does: 0, or -1 with the message. */
static int read_all(const char *path, char *err, size_t errlen)
{
	struct tr_reader *r = tr_open_checked(path, err, errlen);
	tr_close(r);
	return r ? 0 : -1;
}

/* The byte offset a message names ("byte N"), or -1. */
static long long msg_byte(const char *err)
{
	const char *b = strstr(err, ": byte ");
	return b ? strtoll(b + 7, NULL, 10) : -1;
}

/* path must be refused, with a message that names it, a byte and an event. Returns the message's byte. */
static long long refused(const char *path, const char *what)
{
	char err[512];
	ck_assert_msg(read_all(path, err, sizeof(err)) == -1, "%s: a corrupt trace reads", what);
	ck_assert_msg(!strncmp(err, path, strlen(path)), "%s: message without the file: %s", what, err);
	ck_assert_msg(msg_byte(err) >= 0 && strstr(err, ", event "), "%s: message without its position: %s", what, err);
	return msg_byte(err);
}

START_TEST(test_roundtrip)
{
	char path[300], err[512];
	at(path, sizeof(path), "a.mmtrace");
	uint32_t n = 30000; /* about 2 MiB of records: several blocks */
	write_trace(path, n, 0);
	struct bytes b = slurp(path);
	uint64_t bd[64];
	ck_assert_uint_ge(boundaries(&b, bd, 64), 9);
	free(b.p);
	ck_assert(tr_is_binary(path));
	struct tr_reader *r = tr_open(path, 0, err, sizeof(err));
	ck_assert_msg(r, "%s", err);
	const struct tr_header *h = tr_reader_header(r);
	ck_assert_uint_eq(h->version, TR_VERSION);
	ck_assert_str_eq(h->source, "t70");
	ck_assert_uint_eq(h->nthreads, 2);
	ck_assert_uint_eq(h->events, n + 1);
	ck_assert_uint_eq(h->threads[0].events, n / 2 + 1);
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
	for (uint32_t i = 0; i < n; i++) {
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
	ck_assert_uint_eq(k, n / 2);
	tr_close(r);
	r = tr_open(path, 3, err, sizeof(err));
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(err, "thread 3 is not in the trace"), "%s", err);
}
END_TEST

/* A header longer than a block is cut into several header blocks and read back whole. */
START_TEST(test_long_header)
{
	char path[300], err[512];
	at(path, sizeof(path), "h.mmtrace");
	write_trace(path, 10, 20000);
	struct tr_reader *r = tr_open_checked(path, err, sizeof(err));
	ck_assert_msg(r, "%s", err);
	const struct tr_header *h = tr_reader_header(r);
	ck_assert_uint_eq(h->nthreads, 20002);
	ck_assert_uint_eq(h->threads[20001].tid, 20002);
	ck_assert_uint_eq(h->threads[20001].rtid, 1000 + 19999);
	ck_assert_str_eq(h->threads[20001].comm, "an idle thread name");
	tr_close(r);
	struct bytes b = slurp(path);
	uint64_t bd[64];
	size_t nb = boundaries(&b, bd, 64), hblocks = 0;
	for (size_t i = 0; i + 1 < nb; i += 2)
		hblocks += b.p[bd[i] + 8] == BLK_HEADER;
	ck_assert_uint_ge(hblocks, 2);
	free(b.p);
}
END_TEST

START_TEST(test_version)
{
	char path[300], bad[300], err[512];
	struct bytes b = made(path, bad, 10, 0);
	b.p[16] = 7; /* the prefix's version */
	spit(bad, b.p, b.n);
	ck_assert(tr_is_binary(bad));
	ck_assert_int_eq(read_all(bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "byte 0, event 1: trace format version 7; this mmsim reads versions 2 and 3"), "%s", err);
	b.p[16] = 2;
	b.p[8] = 'X'; /* the magic */
	spit(bad, b.p, b.n);
	ck_assert_int_eq(read_all(bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not an mmsim binary trace"), "%s", err);
	free(b.p);
	/* Version 1: one zstd stream whose content starts with the magic and version 1. */
	uint8_t v1[64] = "MMSIMTRC\001\000\000\000", z[256];
	size_t zn = ZSTD_compress(z, sizeof(z), v1, sizeof(v1), 1);
	spit(bad, z, zn);
	ck_assert(tr_is_binary(bad));
	ck_assert_int_eq(read_all(bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "trace format version 1; this mmsim reads versions 2 and 3") && strstr(err, "import the recording again"),
		      "%s", err);
}
END_TEST

/* Cut at every block boundary, inside every block, and (a small trace) at every byte: refused at open, with where. */
START_TEST(test_cut_short)
{
	char path[300], bad[300], err[512];
	struct bytes b = made(path, bad, 12000, 10000);
	uint64_t bd[64];
	size_t nb = boundaries(&b, bd, 64);
	for (size_t i = 0; i < nb; i++) {
		uint64_t len = i % 2 ? bd[i + 1] - bd[i] : BLK_DESC; /* what starts here: a frame, or a descriptor */
		uint64_t cuts[] = { bd[i], bd[i] + 1, bd[i] + 8, bd[i] + len / 2, bd[i] + len - 1 };
		for (size_t j = 0; j < ARRAY_SIZE(cuts); j++) {
			if (cuts[j] >= b.n)
				continue;
			spit(bad, b.p, cuts[j]);
			long long off = refused(bad, "cut short");
			ck_assert_msg(tr_open(bad, 1, err, sizeof(err)) == NULL, "a per-thread reader opens a file cut at %llu",
				      (unsigned long long)cuts[j]);
			if (j == 0 && i % 2 == 0) /* at a block boundary: the file ends after a whole block */
				ck_assert_msg(off == (long long)cuts[j] && strstr(err, "cut short: the file ends here, between blocks"),
					      "cut at %llu: %s", (unsigned long long)cuts[j], err);
		}
	}
	free(b.p);
	/* A one-block trace: every length. */
	b = made(path, bad, 40, 0);
	for (size_t k = 0; k < b.n; k++) {
		spit(bad, b.p, k);
		refused(bad, "cut short");
	}
	spit(bad, b.p, b.n);
	ck_assert_msg(read_all(bad, err, sizeof(err)) == 0, "%s", err);
	free(b.p);
}
END_TEST

/* Bytes after the footer: refused, at the byte where they start. */
START_TEST(test_trailing)
{
	char path[300], bad[300];
	struct bytes b = made(path, bad, 3000, 0);
	uint8_t *p = calloc(1, 2 * b.n);
	memcpy(p, b.p, b.n);
	size_t extra[] = { 1, 7, 16, 100 };
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
		for (size_t j = 0; j < extra[i]; j++)
			p[b.n + j] = (uint8_t)(j * 37 + i);
		spit(bad, p, b.n + extra[i]);
		ck_assert_int_eq(refused(bad, "trailing bytes"), (long long)b.n);
	}
	memcpy(p + b.n, b.p, b.n); /* the trace twice */
	spit(bad, p, 2 * b.n);
	ck_assert_int_eq(refused(bad, "the trace twice"), (long long)b.n);
	free(p);
	free(b.p);
}
END_TEST

/* A single flipped bit anywhere (every byte of a small trace, 300 random places in a long one) is refused. */
START_TEST(test_bit_flips)
{
	char path[300], bad[300];
	uint64_t rng = 88172645463325252ull;
	for (int big = 0; big < 2; big++) {
		struct bytes b = made(path, bad, big ? 12000 : 200, big ? 10000 : 0);
		size_t tries = big ? 300 : b.n;
		for (size_t t = 0; t < tries; t++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			size_t off = big ? rng % b.n : t;
			uint8_t bit = (uint8_t)(1u << (big ? (rng >> 40) % 8 : t % 8));
			b.p[off] ^= bit;
			spit(bad, b.p, b.n);
			b.p[off] ^= bit;
			char what[64];
			snprintf(what, sizeof(what), "bit %u of byte %zu", __builtin_ctz(bit), off);
			refused(bad, what);
		}
		free(b.p);
	}
}
END_TEST

/* ---- re-checksummed files: what the checks behind the CRCs see ---- */

/* A block of a parsed file: its descriptor and its content. */
struct pblock {
	struct blk_desc d;
	uint8_t *raw;
};

/* Parse a well-formed file into its blocks and footer (counts kept). Returns the block count. */
static size_t parse(const struct bytes *b, struct pblock *out, size_t max, struct blk_footer *ft)
{
	uint64_t bd[256];
	size_t nb = boundaries(b, bd, 256), k = 0;
	for (size_t i = 0; i + 1 < nb && k < max; i += 2, k++) {
		const uint8_t *q = b->p + bd[i] + 8;
		out[k].d = (struct blk_desc){ .kind = q[0],
					      .index = (uint32_t)tu_get_le(q + 4, 4),
					      .first_event = tu_get_le(q + 8, 8),
					      .nevents = (uint32_t)tu_get_le(q + 16, 4) };
		uint32_t raw = (uint32_t)tu_get_le(q + 20, 4), zsize = (uint32_t)tu_get_le(q + 24, 4);
		out[k].raw = malloc(raw + 1);
		ck_assert_uint_eq(ZSTD_decompress(out[k].raw, raw, b->p + bd[i + 1], zsize), raw);
		out[k].d.raw = raw;
	}
	ck_assert_ptr_null(blk_get_footer(b->p + bd[nb - 1], b->n - bd[nb - 1], ft));
	return k;
}

/* Write blocks (contents re-compressed, CRCs and the footer's offsets computed again) as a file. */
static void build(const char *path, const struct pblock *blk, size_t n, struct blk_footer *ft)
{
	FILE *f = fopen(path, "wb");
	uint8_t prefix[BLK_PREFIX];
	blk_put_prefix(prefix);
	fwrite(prefix, 1, sizeof(prefix), f);
	uint64_t off = BLK_PREFIX;
	bool header = false;
	struct blk_writer bw;
	blk_writer_init(&bw);
	for (size_t i = 0; i < n; i++) {
		if (blk[i].d.kind == BLK_HEADER && !header) {
			ft->hoff = off;
			header = true;
		}
		struct blk_desc d = blk[i].d;
		size_t len = blk_encode(&bw, &d, blk[i].raw, d.raw);
		fwrite(bw.z, 1, len, f);
		off += len;
	}
	blk_writer_free(&bw);
	ft->foff = off;
	uint8_t *p = malloc(blk_footer_size(ft->nthreads));
	blk_put_footer(p, ft);
	fwrite(p, 1, blk_footer_size(ft->nthreads), f);
	free(p);
	ck_assert_int_eq(fclose(f), 0);
}

/* Refused with this reason. */
static void refused_for(const char *path, const char *why)
{
	char err[512];
	refused(path, why);
	read_all(path, err, sizeof(err));
	ck_assert_msg(strstr(err, why), "expected '%s': %s", why, err);
}

/* Blocks out of order, counts that do not add up, and random bytes in the content, all with valid CRCs. */
START_TEST(test_resealed)
{
	char path[300], bad[300], err[512];
	struct bytes b = made(path, bad, 12000, 0);
	struct pblock blk[64];
	struct blk_footer ft;
	size_t n = parse(&b, blk, 64, &ft);
	ck_assert_uint_ge(n, 4);
	build(bad, blk, n, &ft); /* unchanged: reads */
	ck_assert_msg(read_all(bad, err, sizeof(err)) == 0, "%s", err);

	struct pblock t = blk[1];
	blk[1] = blk[2], blk[2] = t; /* two events blocks swapped */
	build(bad, blk, n, &ft);
	refused_for(bad, "expected events block 1, found events block 2");
	blk[2] = blk[1], blk[1] = t;
	blk[1].d.first_event++;
	build(bad, blk, n, &ft);
	refused_for(bad, "events block 1 says it starts at event");
	blk[1].d.first_event--;
	blk[1].d.nevents++;
	build(bad, blk, n, &ft);
	refused_for(bad, "events block 1 holds");
	blk[1].d.nevents--;
	ft.counts[0]++;
	build(bad, blk, n, &ft);
	refused_for(bad, "the footer counts");
	ft.counts[0]--;
	ft.eblocks--; /* the last events block is no longer counted */
	build(bad, blk, n, &ft);
	refused_for(bad, "the events blocks end here, but the header starts");
	ft.eblocks++;

	/* Random bytes in an events block's content: an error or a valid trace, never a crash (run under ASan too). */
	uint64_t rng = 88172645463325252ull;
	int errors = 0;
	for (int round = 0; round < 150; round++) {
		struct pblock *v = &blk[1 + round % (n - 2)];
		uint8_t *save = malloc(v->d.raw);
		memcpy(save, v->raw, v->d.raw);
		for (int j = 0; j < 1 + round % 4; j++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			v->raw[rng % v->d.raw] = (uint8_t)(rng >> 32);
		}
		build(bad, blk, n, &ft);
		if (read_all(bad, err, sizeof(err)) < 0) {
			errors++;
			ck_assert_msg(!strncmp(err, bad, strlen(bad)) && msg_byte(err) >= 0, "%s", err);
		}
		memcpy(v->raw, save, v->d.raw);
		free(save);
	}
	ck_assert_int_gt(errors, 50);
	for (size_t i = 0; i < n; i++)
		free(blk[i].raw);
	xfree(ft.counts);
	free(b.p);
}
END_TEST

/* ---- writing ---- */

/* A writer with an undeclared thread refuses to write the file. */
START_TEST(test_undeclared)
{
	char path[300], err[512];
	at(path, sizeof(path), "u.mmtrace");
	struct tr_writer *w = tr_writer_open(path, err, sizeof(err));
	struct ev e = { .kind = EV_EXIT };
	tr_write(w, 9, &e, NULL);
	ck_assert_int_eq(tr_writer_close(w, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "thread 9 has events but was never declared"), "%s", err);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* Output is whole or nothing: a failed or aborted write leaves the old file and no temporary file; a full disk is an error. */
START_TEST(test_output)
{
	char path[300], err[512];
	at(path, sizeof(path), "o.mmtrace");
	write_trace(path, 100, 0);
	struct bytes before = slurp(path);
	struct tr_writer *w = tr_writer_open(path, err, sizeof(err));
	struct ev e = { .kind = EV_EXIT };
	tr_write(w, 9, &e, NULL);
	ck_assert_int_eq(tr_writer_close(w, err, sizeof(err)), -1);
	w = tr_writer_open(path, err, sizeof(err));
	tr_write(w, 9, &e, NULL);
	tr_writer_abort(w);
	struct bytes after = slurp(path);
	ck_assert(before.n == after.n && !memcmp(before.p, after.p, before.n));
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
	ck_assert_msg(system(cmd) == 0, "a temporary file was left in %s", dir);
	free(before.p);
	free(after.p);
	/* A new file gets the usual permissions, not mkstemp's 0600. */
	mode_t mask = umask(022);
	at(path, sizeof(path), "p.mmtrace");
	write_trace(path, 10, 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644);
	umask(mask);
	if (access("/dev/full", W_OK) == 0) {
		w = tr_writer_open("/dev/full", err, sizeof(err));
		ck_assert_msg(w, "%s", err);
		tr_writer_thread(w, &(struct tr_thread){ .tid = 1, .pid = 1 });
		for (int i = 0; i < 1000; i++)
			tr_write(w, 1, &(struct ev){ .kind = EV_COMPUTE, .cycles = (uint64_t)i }, NULL);
		ck_assert_int_eq(tr_writer_close(w, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "/dev/full: write error: No space left on device"), "%s", err);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("t70_format");
	TCase *tc = tcase_create("format");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_long_header);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_cut_short);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_bit_flips);
	tcase_add_test(tc, test_resealed);
	tcase_add_test(tc, test_undeclared);
	tcase_add_test(tc, test_output);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
