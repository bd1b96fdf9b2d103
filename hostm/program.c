/* program.c: the small program `mmsim calibrate` records with perf and replays, to validate a fitted machine on a real recording. */
#define _GNU_SOURCE
#include "hostm/probes.h"

#include <stddef.h>
#include <sys/mman.h>

#define PG 4096ul

int hm_program(unsigned rounds)
{
	for (unsigned r = 0; r < rounds; r++) {
		/* A 16-page mapping, half of it written, one page made read-only (a split), then unmapped whole. */
		volatile char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		for (unsigned i = 0; i < 8; i++)
			p[i * PG] = (char)i;
		if (mprotect((char *)p + 4 * PG, PG, PROT_READ) || munmap((char *)p, 16 * PG))
			return -1;
		/* A 4-page mapping never touched: mmap and munmap alone. */
		void *q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED || munmap(q, 4 * PG))
			return -1;
	}
	return 0;
}
