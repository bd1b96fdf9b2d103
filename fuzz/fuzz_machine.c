/* fuzz_machine.c: libFuzzer target for the machine-description parser (machine_load_text), with checks of what a successful load must guarantee. */
#include "sim/machine.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                   \
	do {                                                                       \
		if (!(c)) {                                                        \
			fprintf(stderr, "fuzz_machine: check failed: %s\n", #c);   \
			abort();                                                   \
		}                                                                  \
	} while (0)

static void check_loaded(const struct machine *m)
{
	CHECK(memchr(m->name, 0, sizeof(m->name)));
	CHECK(memchr(m->description, 0, sizeof(m->description)));
	CHECK(m->freq_ghz >= 0.1 && m->freq_ghz <= 10);
	CHECK(m->cores_per_ccx >= 1 && m->ccx_per_socket >= 1 && m->sockets >= 1);
	CHECK(machine_max_cores(m) >= 1);
	CHECK(m->tick_hz >= 1);
	const struct tlb_geom *g[] = { &m->l1d_4k, &m->l1d_2m, &m->l1d_1g, &m->l1i_4k,
				       &m->l1i_2m, &m->l2, &m->l2_1g };
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		if (!g[i]->entries)
			continue;
		CHECK(g[i]->ways && g[i]->entries % g[i]->ways == 0);
		uint32_t sets = g[i]->entries / g[i]->ways;
		CHECK(sets && !(sets & (sets - 1)));
	}
	CHECK(m->l1d_4k.entries && m->l2.entries);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The parser takes NUL-terminated text. */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0;

	struct machine m, m2;
	char err[512], err2[512];
	err[0] = 0;
	int rc = machine_load_text(&m, text, "fuzz", err, sizeof(err));

	/* The name a text goes by in messages must not change whether or how it loads. */
	char longname[300];
	memset(longname, 'o', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	const char *other[] = { longname, "preset zen4" };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		int rc2 = machine_load_text(&m2, text, other[i], err2, sizeof(err2));
		if (rc2 != rc)
			fprintf(stderr, "fuzz_machine: as 'fuzz': %s\nas '%.20s...': %s\n", rc ? err : "ok", other[i],
				rc2 ? err2 : "ok");
		CHECK(rc2 == rc);
		CHECK(rc || !memcmp(&m, &m2, sizeof(m)));
	}

	if (rc == 0) {
		check_loaded(&m);
	} else {
		/* A failure always says why, as "ORIGIN[:LINE]: reason". */
		CHECK(memchr(err, 0, sizeof(err)));
		CHECK(err[0]);
		CHECK(!strncmp(err, "fuzz:", 5) || !strncmp(err, "preset ", 7));
		/* Again into a small, exactly sized buffer: truncated messages must stay inside it. */
		size_t small = 1 + size % 24;
		char *e = malloc(small);
		memset(e, 'x', small);
		CHECK(machine_load_text(&m, text, "fuzz", e, small) == -1);
		CHECK(memchr(e, 0, small));
		free(e);
	}
	free(text);
	return 0;
}
