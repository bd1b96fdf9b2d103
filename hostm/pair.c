/* pair.c: two-thread host benchmarks: a cache line bounced between two pinned CPUs, and munmap with a TLB shootdown. */
#define _GNU_SOURCE
#include "hostm/cpu.h"
#include "hostm/probes.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define PG 4096ul
#define SLOT 512

struct pp {
	_Alignas(64) _Atomic uint64_t ball; /* odd: the partner's turn; even: the main thread's */
	_Alignas(64) _Atomic int stop;
	_Atomic int ready;
	uint64_t rounds;
};

static void *partner(void *p)
{
	struct pp *s = p;
	hm_pin(1);
	atomic_store(&s->ready, 1);
	for (uint64_t i = 0; i < s->rounds; i++) {
		while (!(atomic_load_explicit(&s->ball, memory_order_acquire) & 1))
			__builtin_ia32_pause();
		atomic_fetch_add_explicit(&s->ball, 1, memory_order_release);
	}
	return NULL;
}

double hm_pingpong(void *arg)
{
	(void)arg;
	static struct pp s;
	s.rounds = 15 * 1000;
	atomic_store(&s.ball, 0);
	atomic_store(&s.ready, 0);
	pthread_t t;
	if (hm_pin(0) || pthread_create(&t, NULL, partner, &s))
		return -1;
	while (!atomic_load(&s.ready))
		__builtin_ia32_pause();
	double v[15]; /* 15 runs of 1000 round trips: the median run counts (a preempted one is an outlier) */
	for (int r = 0; r < 15; r++) {
		uint64_t t0 = hm_now_ns();
		for (uint64_t i = 0; i < 1000; i++) {
			atomic_fetch_add_explicit(&s.ball, 1, memory_order_release);
			while (atomic_load_explicit(&s.ball, memory_order_acquire) & 1)
				__builtin_ia32_pause();
		}
		v[r] = (double)(hm_now_ns() - t0) / 2000.0; /* a round trip is two transfers */
	}
	pthread_join(t, NULL);
	return hm_median(v, 15);
}

/* The sibling: runs in the process on CPU 1 (so the kernel counts the mm active there) until told to stop. */
static void *spinner(void *p)
{
	struct pp *s = p;
	hm_pin(1);
	atomic_store(&s->ready, 1);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed))
		__builtin_ia32_pause();
	return NULL;
}

double hm_munmap_shared(void *arg)
{
	(void)arg;
	static struct pp s;
	atomic_store(&s.stop, 0);
	atomic_store(&s.ready, 0);
	char *p = mmap(NULL, SLOT * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	madvise(p, SLOT * PG, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < SLOT; i++)
		p[i * PG] = 1;
	pthread_t t;
	if (hm_pin(0) || pthread_create(&t, NULL, spinner, &s)) {
		munmap(p, SLOT * PG);
		return -1;
	}
	while (!atomic_load(&s.ready))
		__builtin_ia32_pause();
	static double v[SLOT];
	for (size_t i = 0; i < SLOT; i++) {
		uint64_t t0 = hm_now_ns();
		munmap(p + i * PG, PG);
		v[i] = (double)(hm_now_ns() - t0) - hm_timer_ns();
	}
	atomic_store(&s.stop, 1);
	pthread_join(t, NULL);
	return hm_median(v, SLOT); /* the median munmap: one a preemption stretched is an outlier */
}
