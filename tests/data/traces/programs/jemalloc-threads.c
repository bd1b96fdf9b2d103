/* jemalloc-threads.c: 4 threads allocate and free blocks of random sizes (16 B to 1 MiB), some freed by another
 * thread than the one that allocated them (a shared exchange slot per thread). Run under jemalloc:
 *   gcc -O2 -pthread jemalloc-threads.c -o jemalloc-threads
 *   LD_PRELOAD=libjemalloc.so.2 ./jemalloc-threads 4 20000
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP 64
static int nthreads, iters;
static _Atomic(void *) slot[16];

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *body(void *arg)
{
	long id = (long)arg;
	uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
	void *keep[KEEP] = { 0 };
	for (int i = 0; i < iters; i++) {
		uint64_t r = rnd(&s);
		/* mostly small, sometimes large: 16 B .. 1 MiB */
		size_t n = (r % 100) < 90 ? 16 + r % 2048 : (r % 100) < 98 ? 4096 + r % 65536 : 65536 + r % (1 << 20);
		char *p = malloc(n);
		memset(p, (int)i, n < 8192 ? n : 8192);
		p[n - 1] = 1;
		int k = (int)((r >> 32) % KEEP);
		free(keep[k]);
		keep[k] = p;
		if ((r & 63) == 0) {
			/* hand one block to the next thread, which frees it */
			void *old = atomic_exchange(&slot[(id + 1) % nthreads], keep[(k + 1) % KEEP]);
			keep[(k + 1) % KEEP] = NULL;
			free(old);
		}
	}
	for (int k = 0; k < KEEP; k++)
		free(keep[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	nthreads = argc > 1 ? atoi(argv[1]) : 4;
	iters = argc > 2 ? atoi(argv[2]) : 20000;
	if (nthreads < 1 || nthreads > 16)
		nthreads = 4;
	pthread_t t[16];
	for (long i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, body, (void *)i);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < nthreads; i++)
		free(atomic_load(&slot[i]));
	puts("done");
	return 0;
}
