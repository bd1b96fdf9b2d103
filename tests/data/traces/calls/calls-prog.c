/* calls-prog.c: a program that makes the calls beyond mapping (ftruncate, mlock, msync, mincore, munlock, fallocate), SysV shm, and a cross-thread order after mprotect, for tests/t72_replay_judge.sh (recorded with: gcc -O1 -pthread -o calls-prog calls-prog.c; mmsim record -o x.mmtrace --perf-text calls-prog.perf.txt -- ./calls-prog). */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/shm.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <pthread.h>
static char *p;
static void *worker(void *a) { (void)a; usleep(2000); p[0x1000] = 1; return 0; }
int main(void) {
	int fd = open("/tmp/imp_prog.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, 0x4000);
	char *m = mmap(0, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	m[0] = 1;
	mlock(m, 0x2000); msync(m, 0x4000, MS_SYNC); unsigned char v[4]; mincore(m, 0x4000, v); munlock(m, 0x2000);
	fallocate(fd, 3, 0x1000, 0x1000);
	ftruncate(fd, 0x1000);
	close(fd);
	int id = shmget(IPC_PRIVATE, 0x3000, IPC_CREAT | 0600);
	char *s = shmat(id, 0, 0); s[0x2000] = 1; shmdt(s); shmctl(id, IPC_RMID, 0);
	p = mmap(0, 0x4000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_t t; pthread_create(&t, 0, worker, 0);
	mprotect(p, 0x4000, PROT_READ | PROT_WRITE);
	pthread_join(t, 0);
	madvise(p, 0x4000, MADV_DONTFORK);
	return 0;
}
