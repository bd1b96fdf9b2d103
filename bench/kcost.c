/* kcost.c: a real kernel's VMA paths in a loop, timed one call at a time: the program bench/kcost.sh profiles to measure what each kernel mechanism costs. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PG 4096ul
#define REGION 512ul /* pages: the paper workloads' slot */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/*
 * op_mprotect: split an untouched anonymous region by making its middle page
 * read-only, then merge it back (two calls per round, each timed into v).
 * Untouched, so no page table or TLB work: the VMA paths alone.
 */
static void op_mprotect(uint32_t rounds, double *v)
{
	char *p = mmap(NULL, REGION * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("kcost: mmap");
	char *mid = p + REGION / 2 * PG;
	for (uint32_t i = 0; i < rounds; i++) {
		uint64_t t0 = now_ns();
		if (mprotect(mid, PG, PROT_READ))
			die("kcost: mprotect");
		uint64_t t1 = now_ns();
		if (mprotect(mid, PG, PROT_READ | PROT_WRITE))
			die("kcost: mprotect");
		uint64_t t2 = now_ns();
		v[2 * i] = (double)(t1 - t0), v[2 * i + 1] = (double)(t2 - t1);
	}
	munmap(p, REGION * PG);
}

/* op_mmap: mmsim calibrate's mmap request, a 4-page mmap and its munmap (two calls per round). */
static void op_mmap(uint32_t rounds, double *v)
{
	for (uint32_t i = 0; i < rounds; i++) {
		uint64_t t0 = now_ns();
		void *q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED)
			die("kcost: mmap");
		uint64_t t1 = now_ns();
		if (munmap(q, 4 * PG))
			die("kcost: munmap");
		uint64_t t2 = now_ns();
		v[2 * i] = (double)(t1 - t0), v[2 * i + 1] = (double)(t2 - t1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "mprotect") && strcmp(argv[1], "mmap"))) {
		fprintf(stderr, "usage: kcost mprotect|mmap ROUNDS\n"
				"  mprotect: split an untouched 512-page anonymous region at its middle page and merge it back\n"
				"  mmap:     a 4-page anonymous mmap and its munmap (mmsim calibrate's mmap request)\n"
				"Prints the median nanoseconds of the round's first and second call, each timed alone\n"
				"(less a clock read's own median cost).\n");
		return 2;
	}
	char *end;
	unsigned long rounds = strtoul(argv[2], &end, 10);
	if (*end || rounds < 1 || rounds > 100000000ul) {
		fprintf(stderr, "kcost: ROUNDS must be 1 to 100000000, not '%s'\n", argv[2]);
		return 2;
	}
	double *v = malloc(sizeof(double) * 2 * rounds), *w = malloc(sizeof(double) * rounds);
	if (!v || !w)
		die("kcost: malloc");
	if (!strcmp(argv[1], "mprotect"))
		op_mprotect((uint32_t)rounds, v);
	else
		op_mmap((uint32_t)rounds, v);
	/* a clock read's own cost, taken off each call's time as mmsim calibrate does */
	for (unsigned long i = 0; i < rounds && i < 100000; i++) {
		uint64_t t0 = now_ns();
		w[i] = (double)(now_ns() - t0);
	}
	unsigned long nt = rounds < 100000 ? rounds : 100000;
	qsort(w, nt, sizeof(double), cmp);
	double clock = w[nt / 2];
	double med[2];
	for (int k = 0; k < 2; k++) {
		for (unsigned long i = 0; i < rounds; i++)
			w[i] = v[2 * i + k];
		qsort(w, rounds, sizeof(double), cmp);
		med[k] = w[rounds / 2] - clock;
	}
	printf("%.0f %.0f\n", med[0], med[1]);
	free(v);
	free(w);
	return 0;
}
