/* fuzz_trace.c: libFuzzer target for the binary trace reader (the input is the file; after a leading 'S' its checksums are recomputed first, so that mutations reach the checks behind them) and the text form compiler (input starting "mmsim-trace"). */
#include "fuzz/fuzz_common.h"
#include "traces/block.h"
#include "traces/trace.h"
#include "traces/util.h"

/* Read every event, then each thread alone; a trace that reads must dump and compile back exactly. */
static void read_binary(const char *path)
{
	char err[1024], txt[512], out[512];
	struct tr_reader *r = tr_open(path, 0, err, sizeof(err));
	if (!r) {
		fz_msg_ok(err, sizeof(err), path);
		FZ_CHECK(strstr(err, ": byte ")); /* a position in the file */
		return;
	}
	struct ev e;
	struct tr_meta m;
	int k;
	uint64_t n = 0;
	while ((k = tr_next(r, &e, &m)) == 1)
		n++;
	const struct tr_header *h = tr_reader_header(r);
	FZ_CHECK(k == 0 || k == -1);
	if (k < 0) {
		fz_msg_ok(tr_error(r), strlen(tr_error(r)) + 1, path);
		FZ_CHECK(strstr(tr_error(r), ": byte ") && strstr(tr_error(r), ", event "));
	} else {
		FZ_CHECK(n == h->events);
	}
	/* Every command's check (tr_open_checked) says the same. */
	struct tr_reader *all = tr_open_checked(path, err, sizeof(err));
	FZ_CHECK((all != NULL) == (k == 0));
	tr_close(all);
	for (uint32_t i = 0; i < h->nthreads && i < 8; i++) {
		struct tr_reader *t = tr_open(path, h->threads[i].tid, err, sizeof(err));
		FZ_CHECK(t);
		uint64_t c = 0;
		int kk;
		while ((kk = tr_next(t, &e, &m)) == 1) {
			FZ_CHECK(e.tid == h->threads[i].tid);
			c++;
		}
		if (k == 0) /* the whole trace is valid: so is each thread's stream */
			FZ_CHECK(kk == 0 && c == h->threads[i].events);
		tr_close(t);
	}
	tr_close(r);
	if (k)
		return;
	fz_temp(txt, sizeof(txt), ".txt", NULL, 0);
	FZ_CHECK(tr_dump(path, txt, err, sizeof(err)) == 0);
	fz_temp(out, sizeof(out), ".mmtrace", NULL, 0);
	if (tr_compile(txt, out, err, sizeof(err))) {
		fprintf(stderr, "fuzz: the dump of a valid trace does not compile: %s\n", err);
		abort();
	}
	/* Same events (the compressed bytes may differ from a hand-made file's). */
	struct tr_reader *a = tr_open(path, 0, err, sizeof(err)), *b = tr_open(out, 0, err, sizeof(err));
	FZ_CHECK(a && b);
	struct ev ea, eb;
	struct tr_meta ma, mb;
	int ka, kb;
	do {
		ka = tr_next(a, &ea, &ma);
		kb = tr_next(b, &eb, &mb);
		FZ_CHECK(ka == kb);
		if (ka == 1)
			FZ_CHECK(!memcmp(&ea, &eb, sizeof(ea)) && ma.at == mb.at && ma.sync == mb.sync && ma.asid == mb.asid);
	} while (ka == 1);
	tr_close(a);
	tr_close(b);
	unlink(txt);
	unlink(out);
}

/*
 * Recompute the CRCs of a binary trace in place (every descriptor and zstd
 * frame, then the footer), as far as its structure goes (docs/trace-format.md).
 */
static void reseal(uint8_t *p, size_t n)
{
	size_t o = BLK_PREFIX;
	while (o + BLK_DESC <= n && tu_get_le(p + o, 4) == BLK_MAGIC && tu_get_le(p + o + 4, 4) == BLK_DESC - 8) {
		uint8_t *q = p + o + 8;
		uint64_t zsize = tu_get_le(q + 24, 4);
		if (o + BLK_DESC + zsize > n)
			return;
		tu_put_le(q + 28, tu_crc32c(0, p + o + BLK_DESC, zsize), 4);
		tu_put_le(q + 32, tu_crc32c(0, q, 32), 4);
		o += BLK_DESC + zsize;
	}
	if (o + BLK_FOOTER_MIN <= n && o + 8 + tu_get_le(p + o + 4, 4) == n)
		tu_put_le(p + n - 8, tu_crc32c(0, p + o + 8, n - o - 16), 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], err[1024];
	if (size >= 11 && !memcmp(data, "mmsim-trace", 11)) {
		char out[512];
		fz_temp(path, sizeof(path), ".txt", data, size);
		fz_temp(out, sizeof(out), ".mmtrace", NULL, 0);
		if (tr_compile(path, out, err, sizeof(err)))
			fz_msg_ok(err, sizeof(err), path);
		else
			read_binary(out);
		unlink(out);
	} else if (size && data[0] == 'S') {
		uint8_t *p = malloc(size);
		memcpy(p, data + 1, size - 1);
		reseal(p, size - 1);
		fz_temp(path, sizeof(path), ".mmtrace", p, size - 1);
		free(p);
		read_binary(path);
	} else {
		fz_temp(path, sizeof(path), ".mmtrace", data, size);
		read_binary(path);
	}
	unlink(path);
	return 0;
}
