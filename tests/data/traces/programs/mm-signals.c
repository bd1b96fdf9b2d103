/* mm-signals.c: memory calls whose outcome is a signal, and what programs do about it: a write barrier (a PROT_NONE
 * page that the SIGSEGV handler opens, the write retried), mprotect over a hole (ENOMEM, the part before it changed),
 * a shared anonymous mapping grown by mremap past its object (SIGBUS), MADV_FREE and MADV_REMOVE, a file shrunk under
 * its shared mapping (SIGBUS), MAP_POPULATE|MAP_LOCKED and mlockall(MCL_FUTURE), two threads racing mmap, mprotect
 * and munmap, vfork and exec. usage: mm-signals */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>
#include <setjmp.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
static long P = 4096;
static char *prot_page;
static sigjmp_buf jb;
static void on_segv(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	char *a = (char *)((unsigned long)si->si_addr & ~(P - 1));
	if (sig == SIGSEGV && a == prot_page) { mprotect(a, P, PROT_READ | PROT_WRITE); return; } /* retry succeeds */
	siglongjmp(jb, sig);
}
static void *racer(void *arg) {
	long id = (long)arg;
	for (int i = 0; i < 200; i++) {
		char *m = mmap(NULL, (1 + (i + id) % 5) * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		m[0] = (char)i;
		if (i % 3 == 0) mprotect(m, P, PROT_READ);
		munmap(m, (1 + (i + id) % 5) * P);
	}
	return NULL;
}
int main(void) {
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_segv; sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL); sigaction(SIGBUS, &sa, NULL);
	/* 1. a write barrier: PROT_NONE page, the handler opens it, the write retries */
	char *r = mmap(NULL, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(r, 1, 8 * P);
	prot_page = r + 3 * P; mprotect(prot_page, P, PROT_NONE);
	prot_page[10] = 5;
	/* 2. mprotect over a hole: ENOMEM, the part before the hole changed */
	munmap(r + 5 * P, P);
	int e = mprotect(r, 8 * P, PROT_READ);
	if (sigsetjmp(jb, 1) == 0) r[P] = 1; /* now read-only: SIGSEGV, handled by longjmp */
	/* 3. munmap across several VMAs and the hole */
	munmap(r + 2 * P, 5 * P);
	/* 4. shared anonymous mapping grown by mremap, then forked */
	char *sh = mmap(NULL, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sh[0] = 1;
	char *sh2 = mremap(sh, 4 * P, 16 * P, MREMAP_MAYMOVE);
	if (sigsetjmp(jb, 1) == 0) sh2[15 * P] = 2; /* SIGBUS: the shared memory object is still 4 pages */
	sh2[2 * P] = 2;
	pid_t c = fork();
	if (c == 0) { sh2[3 * P] = 3; _exit(0); }
	waitpid(c, NULL, 0);
	/* 5. MADV_FREE then reuse; MADV_REMOVE on shared anonymous memory */
	char *fr = mmap(NULL, 16 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(fr, 7, 16 * P);
	madvise(fr, 16 * P, MADV_FREE); fr[P] = 8;
	madvise(sh2, 4 * P, MADV_REMOVE); (void)*(volatile char *)sh2;
	/* 6. a file shrunk under its shared mapping: SIGBUS past the end */
	char path[] = "/tmp/mmcornersXXXXXX"; int fd = mkstemp(path); unlink(path);
	ftruncate(fd, 8 * P);
	char *fm = mmap(NULL, 8 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	fm[7 * P] = 1;
	ftruncate(fd, 2 * P);
	if (sigsetjmp(jb, 1) == 0) fm[5 * P] = 1; /* SIGBUS */
	char *fm2 = mremap(fm, 8 * P, 12 * P, MREMAP_MAYMOVE); (void)fm2;
	/* 7. populate and lock; mlockall(MCL_FUTURE) then a new mapping */
	char *pl = mmap(NULL, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
	mlockall(MCL_CURRENT | MCL_FUTURE);
	char *fut = mmap(NULL, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munlockall();
	fut[0] = pl[0];
	/* 8. two threads racing mmap, mprotect and munmap */
	pthread_t t[2];
	for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, racer, (void *)i);
	for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
	/* 9. vfork + exec */
	pid_t v = vfork();
	if (v == 0) { execl("/bin/true", "true", (char *)NULL); _exit(1); }
	waitpid(v, NULL, 0);
	printf("%d\n", e);
	return 0;
}
