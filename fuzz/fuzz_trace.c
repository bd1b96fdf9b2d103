/* fuzz_trace.c: libFuzzer target for the binary trace reader (the input is the decompressed content, compressed here; a leading 'Z' gives raw file bytes) and the text form compiler (input starting "mmsim-trace"). */
#include "fuzz/fuzz_common.h"
#include "traces/trace.h"

#include <zstd.h>

/* Read every event, then each thread alone; a trace that reads must dump and compile back exactly. */
static void read_binary(const char *path)
{
	char err[1024], txt[512], out[512];
	struct tr_reader *r = tr_open(path, 0, err, sizeof(err));
	if (!r) {
		fz_msg_ok(err, sizeof(err), path);
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
	if (k < 0)
		fz_msg_ok(tr_error(r), strlen(tr_error(r)) + 1, path);
	else
		FZ_CHECK(n == h->events);
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
	FILE *f = fopen(txt, "w");
	FZ_CHECK(f && tr_dump(path, f, err, sizeof(err)) == 0);
	FZ_CHECK(fclose(f) == 0);
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
	} else if (size && data[0] == 'Z') {
		fz_temp(path, sizeof(path), ".mmtrace", data + 1, size - 1);
		read_binary(path);
	} else {
		size_t zb = ZSTD_compressBound(size);
		uint8_t *z = malloc(zb);
		size_t zn = ZSTD_compress(z, zb, data, size, 1);
		FZ_CHECK(!ZSTD_isError(zn));
		fz_temp(path, sizeof(path), ".mmtrace", z, zn);
		free(z);
		read_binary(path);
	}
	unlink(path);
	return 0;
}
