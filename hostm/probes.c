/* probes.c: single-thread host benchmarks of the kernel's paths (system call, zeroing, faults, mmap, munmap, mprotect). */
#define _GNU_SOURCE
#include "hostm/probes.h"
#include "hostm/cpu.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096ul
#define SLOT 512 /* pages: the workloads' per-thread slot */

const char *const hm_op_names[HM_NOPS] = { "mmap", "mmap-pf", "pf", "munmap-virt", "munmap" };

/*
 * Each operation is timed on its own and a batch's sample is the median of
 * its operations, less the timer's own cost: on a shared host, an
 * operation the scheduler preempted is an outlier the median ignores.
 */
static double v[SLOT * 2];

#define TIMED(i, stmt)                                                   \
	do {                                                             \
		uint64_t t0_ = hm_now_ns();                              \
		stmt;                                                    \
		v[i] = (double)(hm_now_ns() - t0_) - hm_timer_ns();      \
	} while (0)

/* A 512-page anonymous region, no huge pages, optionally touched. NULL on failure. */
static char *region(size_t pages, int touch)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, pages * PG, MADV_NOHUGEPAGE);
	if (touch)
		for (size_t i = 0; i < pages; i++)
			p[i * PG] = 1;
	return p;
}

double hm_syscall(void *arg)
{
	(void)arg;
	const uint32_t n = 1000;
	for (uint32_t i = 0; i < n; i++)
		TIMED(i, syscall(SYS_getppid));
	return hm_median(v, n);
}

double hm_zero(void *arg)
{
	(void)arg;
	static char *buf;
	static size_t at;
	const size_t pages = 16384; /* 64 MiB: beyond any L3 this code runs on, so each page comes cold */
	if (!buf && !(buf = region(pages, 1)))
		return -1;
	const uint32_t n = 512;
	for (uint32_t i = 0; i < n; i++) {
		void *d = buf + at * PG;
		size_t c = PG;
		TIMED(i, __asm__ volatile("rep stosb" : "+D"(d), "+c"(c) : "a"(0) : "memory"));
		at = (at + 1) % pages;
	}
	return hm_median(v, n);
}

double hm_read_fault(void *arg)
{
	(void)arg;
	char *p = region(SLOT, 0);
	if (!p)
		return -1;
	volatile char sink = 0;
	for (size_t i = 0; i < SLOT; i++)
		TIMED(i, sink += ((volatile char *)p)[i * PG]);
	munmap(p, SLOT * PG);
	(void)sink;
	return hm_median(v, SLOT);
}

double hm_mprotect(void *arg)
{
	char *p = region(SLOT, !arg);
	if (!p)
		return -1;
	for (size_t i = 0; i < SLOT; i += 2) /* every other page, so each call splits off a new VMA */
		TIMED(i / 2, mprotect(p + i * PG, PG, PROT_READ));
	munmap(p, SLOT * PG);
	return hm_median(v, SLOT / 2);
}

double hm_op(void *arg)
{
	enum hm_op op = *(enum hm_op *)arg;
	size_t n = SLOT;
	if (op == HM_MMAP) {
		n = SLOT / 4; /* the workload's default: a slot's worth of 4-page requests */
		for (size_t i = 0; i < n; i++) {
			void *p = MAP_FAILED;
			TIMED(i, p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			      if (p != MAP_FAILED) munmap(p, 4 * PG));
			if (p == MAP_FAILED)
				return -1;
		}
		return hm_median(v, (uint32_t)n);
	}
	char *p = region(SLOT, op == HM_MUNMAP);
	if (!p)
		return -1;
	for (size_t i = 0; i < n; i++) {
		switch (op) {
		case HM_MMAP_PF:
			TIMED(i, char *q = mmap(p + i * PG, PG, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			      if (q != MAP_FAILED) *(volatile char *)q = 1);
			break;
		case HM_PF:
			TIMED(i, ((volatile char *)p)[i * PG] = 1);
			break;
		default:
			TIMED(i, munmap(p + i * PG, PG));
			break;
		}
	}
	if (op == HM_MMAP_PF || op == HM_PF)
		munmap(p, SLOT * PG);
	return hm_median(v, (uint32_t)n);
}
