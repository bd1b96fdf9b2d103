/* chase.c: the page-stride pointer chase: one access per page in a random cyclic order, for the TLB reach curve. */
#define _GNU_SOURCE
#include "hostm/cpu.h"
#include "hostm/probes.h"

#include <stdlib.h>
#include <sys/mman.h>

#define PG 4096ul

/* xorshift64*: a small seeded generator, so the simulated chase can replay the same order. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

void hm_chase_order(uint32_t *next, uint32_t n, uint64_t seed)
{
	uint32_t *perm = malloc(sizeof(uint32_t) * n);
	uint64_t s = seed | 1;
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) { /* Fisher-Yates, then link the permutation into one cycle */
		uint32_t j = (uint32_t)(rnd(&s) % (i + 1)), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (uint32_t i = 0; i < n; i++)
		next[perm[i]] = perm[(i + 1) % n];
	free(perm);
}

/* The line a page's pointer sits at: spread over the 64 lines of a page, so the chased lines do not all fall in one cache set. */
static inline size_t slot_of(uint32_t page) { return (page * 17u % 64u) * 64u; }

double hm_chase(void *arg)
{
	uint32_t n = *(uint32_t *)arg;
	char *buf = mmap(NULL, (size_t)n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -1;
	madvise(buf, (size_t)n * PG, MADV_NOHUGEPAGE);
	uint32_t *next = malloc(sizeof(uint32_t) * n);
	hm_chase_order(next, n, 0x9e3779b97f4a7c15ull);
	for (uint32_t i = 0; i < n; i++)
		*(void **)(buf + (size_t)i * PG + slot_of(i)) = buf + (size_t)next[i] * PG + slot_of(next[i]);
	free(next);
	void **p = (void **)(buf + slot_of(0));
	for (uint32_t i = 0; i < 2 * n; i++) /* warm: the pages, their PTEs and the TLBs */
		p = *p;
	/* 9 runs of 20000 steps (40-400 us): the median run counts, a preempted one is an outlier */
	const uint64_t steps = 20000;
	double v[9];
	for (int r = 0; r < 9; r++) {
		uint64_t t0 = hm_now_ns();
		for (uint64_t i = 0; i < steps; i++)
			p = *(void **)p;
		v[r] = (double)(hm_now_ns() - t0) / (double)steps;
	}
	__asm__ volatile("" ::"r"(p));
	munmap(buf, (size_t)n * PG);
	return hm_median(v, 9);
}
