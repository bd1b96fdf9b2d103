/* mm-corners.c: memory calls off the common path, one after another: a shared anonymous mapping written by a forked
 * child, MADV_WIPEONFORK and MADV_DONTFORK ranges, a thread, mremap(MREMAP_DONTUNMAP) with no hint in the child,
 * MAP_GROWSDOWN with mprotect(PROT_GROWSDOWN), MAP_FIXED_NOREPLACE onto taken ranges (EEXIST), mlock, a partial
 * munmap, mremap growing by a move, msync. usage: mm-corners */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>
#include <stdio.h>
#include <pthread.h>
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
static void *thr(void *p) { char *m = p; for (int i = 0; i < 64; i++) m[i * 4096] = 1; return NULL; }
int main(void) {
	long P = 4096;
	char *sh = mmap(NULL, 16 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *pr = mmap(NULL, 64 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(sh, 1, 16 * P); memset(pr, 2, 64 * P);
	madvise(pr + 8 * P, 8 * P, MADV_WIPEONFORK);
	madvise(pr + 16 * P, 8 * P, MADV_DONTFORK);
	pthread_t t; pthread_create(&t, NULL, thr, pr); pthread_join(t, NULL);
	pid_t c = fork();
	if (c == 0) {
		sh[5 * P] = 7; pr[0] = 9; volatile char x = pr[9 * P]; (void)x; pr[40 * P] = 3;
		char *m = mremap(pr + 32 * P, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
		if (m != MAP_FAILED) { m[0] = 1; pr[32 * P] = 2; }
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("%d\n", sh[5 * P]);
	char *g = mmap(NULL, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	g[7 * P] = 1; g[0] = 1;
	mprotect(g + 4 * P, P, PROT_READ | PROT_GROWSDOWN);
	char *f = mmap(pr + 100 * P, 4 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	char *f2 = mmap(pr, 4 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("%p %p\n", (void *)f, (void *)f2);
	mlock(pr, 4 * P); munlock(pr, 4 * P);
	munmap(pr + 3 * P, 50 * P);
	char *r = mremap(pr, 3 * P, 200 * P, MREMAP_MAYMOVE); r[150 * P] = 1;
	msync(sh, 16 * P, MS_SYNC);
	mprotect(sh, 16 * P, PROT_READ);
	return 0;
}
