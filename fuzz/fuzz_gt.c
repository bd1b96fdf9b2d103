/* fuzz_gt.c: libFuzzer target for the kernel ground-truth parser (gt_load) on the input written to a temporary ".txt" file (".zst" with -DFUZZ_ZSTD, checked against loading the decompressed text). */
#include "fuzz/fuzz_common.h"
#include "conform/gt.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef FUZZ_ZSTD
#define FUZZ_SUFFIX ".zst"
#else
#define FUZZ_SUFFIX ".txt"
#endif

#define CHECK(c) FZ_CHECK(c)

static char path[4096];

static void check_loaded(const struct gt *g)
{
	uint64_t calls = 0;
	CHECK(g->n <= g->cap);
	for (uint32_t i = 0; i < g->n; i++) {
		const struct gt_seq *s = &g->seqs[i];
		CHECK(s->n <= s->cap);
		calls += s->n;
		for (uint32_t j = 0; j < s->n; j++) {
			const struct gt_step *st = &s->steps[j];
			CHECK(st->line > s->line);
			CHECK(memchr(st->expect, 0, sizeof(st->expect)) && st->expect[0]);
			CHECK(strlen(st->resident) == GT_PAGES && strspn(st->resident, "01.") == GT_PAGES);
			CHECK((st->prot & ~0x0300000f) == 0);
			CHECK(st->nvmas == 0 || st->vmas);
			for (uint32_t k = 0; k < st->nvmas; k++) {
				const struct gt_vma *v = &st->vmas[k];
				CHECK(v->start >= GT_LO && v->start < v->end && v->end <= GT_HI);
				CHECK(v->prot <= 7);
			}
		}
	}
	CHECK(calls == g->calls);
}

#ifdef FUZZ_ZSTD
#include <zstd.h>

#define REF_MAX (4u << 20) /* the reference decode gives up beyond this */

/* Decode the whole input in one go: 1 valid (text in *out), 0 corrupt or cut short, -1 too big. */
static int zstd_decode(const uint8_t *in, size_t n, char **out, size_t *outlen)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_initDStream(z);
	*out = malloc(REF_MAX);
	ZSTD_inBuffer ib = { in, n, 0 };
	ZSTD_outBuffer ob = { *out, REF_MAX, 0 };
	size_t r = 0; /* 0: between frames */
	int st = 1;
	while (ib.pos < ib.size || r) {
		size_t before_in = ib.pos, before_out = ob.pos;
		r = ZSTD_decompressStream(z, &ob, &ib);
		if (ZSTD_isError(r) || ob.pos == ob.size) {
			st = ZSTD_isError(r) ? 0 : -1;
			break;
		}
		if (ib.pos == before_in && ob.pos == before_out) {
			st = 0;
			break;
		}
	}
	*outlen = ob.pos;
	ZSTD_freeDStream(z);
	return st;
}

/*
 * The compressed file must load exactly as its decompressed text does, and
 * a corrupt or truncated one must not load at all.
 */
static void compare_with_plain(const uint8_t *data, size_t size, int rc, const struct gt *g, const char *err)
{
	char *text, plain[4096];
	size_t len;
	int st = zstd_decode(data, size, &text, &len);
	if (st == 0)
		CHECK(rc == -1);
	if (rc)
		CHECK(!strncmp(err, path, strlen(path)));
	if (st == 1) {
		fz_temp(plain, sizeof(plain), ".txt", text, len);
		struct gt g2;
		char err2[512];
		int rc2 = gt_load(&g2, plain, err2, sizeof(err2));
		unlink(plain);
		if (rc2 != rc || (rc && strcmp(err + strlen(path), err2 + strlen(plain))))
			fprintf(stderr, "fuzz_gt: as .zst: %s\nas text: %s\n", rc ? err : "ok", rc2 ? err2 : "ok");
		CHECK(rc2 == rc);
		if (rc)
			CHECK(!strcmp(err + strlen(path), err2 + strlen(plain)));
		if (!rc) {
			CHECK(g2.n == g->n && g2.calls == g->calls);
			for (uint32_t i = 0; i < g->n; i++)
				CHECK(g2.seqs[i].id == g->seqs[i].id && g2.seqs[i].n == g->seqs[i].n);
			gt_free(&g2);
		}
	}
	free(text);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_temp(path, sizeof(path), FUZZ_SUFFIX, data, size);
	struct gt g;
	char err[512];
	err[0] = 0;
	int rc = gt_load(&g, path, err, sizeof(err));
#ifdef FUZZ_ZSTD
	compare_with_plain(data, size, rc, &g, err);
#endif
	if (rc == 0) {
		check_loaded(&g);
		gt_free(&g);
	} else {
		/* A failure always says why, as "FILE:LINE: reason", and leaves nothing allocated. */
		CHECK(memchr(err, 0, sizeof(err)));
		CHECK(!strncmp(err, path, strlen(path)));
		CHECK(g.n == 0 && g.seqs == NULL);
		/* Again into a small, exactly sized buffer: truncated messages must stay inside it. */
		size_t small = 1 + size % 24;
		char *e = malloc(small);
		memset(e, 'x', small);
		CHECK(gt_load(&g, path, e, small) == -1);
		CHECK(memchr(e, 0, small));
		free(e);
	}
	unlink(path);
	return 0;
}
