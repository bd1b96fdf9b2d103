/* fuzz_lines.c: libFuzzer target for the line reader (io/lines.c) on arbitrary bytes as an ".xz" file (".zst" with -DFUZZ_ZSTD), checked against a one-shot decode by the library. */
#include "fuzz/fuzz_common.h"
#include "io/lines.h"

#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#ifdef FUZZ_ZSTD
#define FUZZ_SUFFIX ".zst"
#else
#define FUZZ_SUFFIX ".xz"
#endif

#define REF_MAX (4u << 20)	 /* the reference decode gives up beyond this */
#define READER_MAX_LINE (1u << 20) /* lines.c's longest line */
#define READ_MAX (4u << 20)	 /* stop reading (and close mid-stream) beyond this */

#define CHECK(c) FZ_CHECK(c)

static char path[4096];
static uint8_t *ref; /* REF_MAX bytes, kept for the whole run */

enum ref_status { REF_OK, REF_BAD, REF_BIG };

/* The whole input decoded in one go: what the reader must return, or must reject. */
static enum ref_status ref_decode(const uint8_t *in, size_t n, size_t *outlen)
{
	*outlen = 0;
#ifndef FUZZ_ZSTD
	{
		lzma_stream s = LZMA_STREAM_INIT;
		/* Under libFuzzer's 2 GiB allocation limit; bigger dictionaries just skip the comparison. */
		CHECK(lzma_stream_decoder(&s, (uint64_t)256 << 20, LZMA_CONCATENATED) == LZMA_OK);
		s.next_in = in;
		s.avail_in = n;
		s.next_out = ref;
		s.avail_out = REF_MAX;
		lzma_ret r;
		do
			r = lzma_code(&s, LZMA_FINISH);
		while (r == LZMA_OK && s.avail_out);
		*outlen = REF_MAX - s.avail_out;
		lzma_end(&s);
		if (r == LZMA_STREAM_END)
			return REF_OK;
		if (!s.avail_out || r == LZMA_MEM_ERROR || r == LZMA_MEMLIMIT_ERROR)
			return REF_BIG;
		return REF_BAD;
	}
#else
	{
		ZSTD_DStream *z = ZSTD_createDStream();
		ZSTD_initDStream(z);
		ZSTD_inBuffer ib = { in, n, 0 };
		ZSTD_outBuffer ob = { ref, REF_MAX, 0 };
		size_t r = 0; /* 0: between frames (an empty input is an empty text) */
		enum ref_status st = REF_OK;
		for (;;) {
			size_t before_in = ib.pos, before_out = ob.pos;
			if (ib.pos == ib.size && !r)
				break;
			r = ZSTD_decompressStream(z, &ob, &ib);
			if (ZSTD_isError(r)) {
				st = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? REF_BIG : REF_BAD;
				break;
			}
			if (ob.pos == ob.size) {
				st = REF_BIG;
				break;
			}
			if (ib.pos == before_in && ob.pos == before_out) {
				st = r ? REF_BAD : REF_OK; /* no progress: a frame cut short */
				break;
			}
		}
		*outlen = ob.pos;
		ZSTD_freeDStream(z);
		return st;
	}
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ref) {
		ref = malloc(REF_MAX);
		CHECK(ref);
	}
	fz_temp(path, sizeof(path), FUZZ_SUFFIX, data, size);
	const char *p = path;
	size_t reflen;
	enum ref_status rs = ref_decode(data, size, &reflen);

	char err[300];
	struct lines *l = lines_open(p, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "fuzz_lines: lines_open: %s\n", err);
		abort();
	}
	const char *s;
	size_t len, off = 0;
	uint64_t nlines = 0;
	bool stopped = false;
	while ((s = lines_next(l, &len))) {
		CHECK(s[len] == 0);
		CHECK(len <= READER_MAX_LINE);
		CHECK(lines_lineno(l) == ++nlines);
		if (rs == REF_OK) {
			/* The line is the next bytes of the text, then at most one '\r', then '\n' or the end. */
			CHECK(off + len <= reflen && !memcmp(ref + off, s, len));
			off += len;
			if (off < reflen && ref[off] == '\r' && (off + 1 == reflen || ref[off + 1] == '\n'))
				off++;
			if (off < reflen) {
				CHECK(ref[off] == '\n');
				off++;
			}
			CHECK(lines_bytes(l) == off);
		}
		if (lines_bytes(l) > READ_MAX) {
			stopped = true;
			break;
		}
	}
	const char *e = lines_error(l);
	if (e)
		CHECK(strlen(e) < 300 && !strncmp(e, p, strlen(p)));
	if (!stopped) {
		if (rs == REF_OK) {
			/* Valid data: every byte comes back, and only a line over the limit is an error. */
			if (reflen <= READER_MAX_LINE)
				CHECK(!e);
			if (!e)
				CHECK(off == reflen);
		} else if (rs == REF_BAD) {
			/* Corrupt or truncated data is an error, never a silent end of file. */
			CHECK(e);
		}
	}
	lines_close(l);
	unlink(path);
	return 0;
}
