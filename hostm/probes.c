/* probes.c: single-thread host benchmarks of the kernel's paths (system call, zeroing, faults, mmap, munmap, mprotect). */
#define _GNU_SOURCE
#include "hostm/probes.h"
#include "hostm/cpu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
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

/*
 * op_run: the requests of one thread of op on its 512-page slot p (set up by
 * the caller: touched for munmap), each timed into out. Returns how many,
 * or 0 if the host refused a call.
 */
static uint32_t op_run(enum hm_op op, char *p, double *out)
{
	uint32_t n = op == HM_MMAP ? SLOT / 4 : SLOT; /* mmap: the workload's default, a slot's worth of 4-page requests */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t t0 = hm_now_ns();
		bool ok = true;
		switch (op) {
		case HM_MMAP: {
			void *q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			ok = q != MAP_FAILED && !munmap(q, 4 * PG);
			break;
		}
		case HM_MMAP_PF: {
			char *q = mmap(p + i * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			ok = q != MAP_FAILED;
			if (ok)
				*(volatile char *)q = 1;
			break;
		}
		case HM_PF:
			((volatile char *)p)[i * PG] = 1;
			break;
		default:
			ok = !munmap(p + i * PG, PG);
			break;
		}
		out[i] = (double)(hm_now_ns() - t0) - hm_timer_ns();
		if (!ok)
			return 0;
	}
	return n;
}

double hm_op(void *arg)
{
	enum hm_op op = *(enum hm_op *)arg;
	char *p = op == HM_MMAP ? NULL : region(SLOT, op == HM_MUNMAP);
	if (op != HM_MMAP && !p)
		return -1;
	uint32_t n = op_run(op, p, v);
	if (p)
		munmap(p, SLOT * PG);
	return n ? hm_median(v, n) : -1;
}

struct op2 {
	enum hm_op op;
	char *slot;
	double out[SLOT];
	uint32_t n;
	_Atomic int *go;
};

static void *op2_thread(void *arg)
{
	struct op2 *t = arg;
	hm_pin(1);
	atomic_fetch_add(t->go, 1);
	while (atomic_load(t->go) < 2)
		__builtin_ia32_pause();
	t->n = op_run(t->op, t->slot, t->out);
	return NULL;
}

double hm_op2(void *arg)
{
	enum hm_op op = *(enum hm_op *)arg;
	/* one region of two slots, as the workloads' thread 0 maps for two threads */
	char *p = op == HM_MMAP ? NULL : region(2 * SLOT, op == HM_MUNMAP);
	if (op != HM_MMAP && !p)
		return -1;
	static struct op2 t;
	_Atomic int go = 0;
	t = (struct op2){ .op = op, .slot = p ? p + SLOT * PG : NULL, .go = &go };
	pthread_t th;
	if (hm_pin(0) || pthread_create(&th, NULL, op2_thread, &t)) {
		if (p)
			munmap(p, 2 * SLOT * PG);
		return -1;
	}
	atomic_fetch_add(&go, 1);
	while (atomic_load(&go) < 2)
		__builtin_ia32_pause();
	uint32_t n = op_run(op, p, v);
	pthread_join(th, NULL);
	if (p)
		munmap(p, 2 * SLOT * PG);
	if (!n || !t.n)
		return -1;
	memcpy(v + n, t.out, sizeof(double) * t.n);
	return hm_median(v, n + t.n); /* the median request of both threads */
}

int hm_mmap_merges(void)
{
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	FILE *f = fopen("/proc/self/maps", "r");
	int r = -1;
	char line[512];
	while (f && r < 0 && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= (unsigned long)p && (unsigned long)p < hi)
			r = lo != (unsigned long)p || hi != (unsigned long)(p + 4 * PG); /* its VMA is larger: merged */
	}
	if (f)
		fclose(f);
	munmap(p, 4 * PG);
	return r;
}
