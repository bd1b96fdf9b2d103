/* fuzz_gt.c: libFuzzer target for the kernel ground-truth parser (gt_load) on the input written to a temporary ".txt" file (".zst" with -DFUZZ_SUFFIX=\".zst\"). */
#include "vm/gt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_SUFFIX
#define FUZZ_SUFFIX ".txt"
#endif

#define CHECK(c)                                                                 \
	do {                                                                     \
		if (!(c)) {                                                      \
			fprintf(stderr, "fuzz_gt: check failed: %s\n", #c);      \
			abort();                                                 \
		}                                                                \
	} while (0)

static char dir[4096], path[4200];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

/* One private temporary file per process, rewritten for every input. */
static const char *write_input(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/mmsim-fuzz-gt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		CHECK(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/input%s", dir, FUZZ_SUFFIX);
		atexit(cleanup);
	}
	FILE *f = fopen(path, "wb");
	CHECK(f);
	CHECK(fwrite(data, 1, size, f) == size);
	CHECK(fclose(f) == 0);
	return path;
}

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
			CHECK(st->prot >= 0 && st->prot <= 7);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = write_input(data, size);
	struct gt g;
	char err[512];
	err[0] = 0;
	if (gt_load(&g, p, err, sizeof(err)) == 0) {
		check_loaded(&g);
		gt_free(&g);
		return 0;
	}
	/* A failure always says why, as "FILE:LINE: reason", and leaves nothing allocated. */
	CHECK(memchr(err, 0, sizeof(err)));
	CHECK(!strncmp(err, p, strlen(p)));
	CHECK(g.n == 0 && g.seqs == NULL);
	/* Again into a small, exactly sized buffer: truncated messages must stay inside it. */
	size_t small = 1 + size % 24;
	char *e = malloc(small);
	memset(e, 'x', small);
	CHECK(gt_load(&g, p, e, small) == -1);
	CHECK(memchr(e, 0, small));
	free(e);
	return 0;
}
