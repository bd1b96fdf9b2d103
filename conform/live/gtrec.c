/* gtrec.c: the kernel ground-truth recorder: runs random sequences of mm calls on the running kernel and writes results, layouts and residency in the ground-truth text format. */
#define _GNU_SOURCE
#include "conform/gt_names.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The window: pages [LO, HI) around BASE, far from anything the process maps
 * otherwise, so that an address the kernel picks by itself is never inside.
 * Every sequence starts with guards over [-16, 0) and [48, 64) and a fresh
 * 32-page memfd; calls may reach anywhere in [-16, 64) and a little beyond.
 */
#define PG 4096L
#define LO (-16)
#define HI 64
#define BASE ((char *)0x200000000000ul)
#define FILE_PAGES 32

static FILE *out;
static uint64_t rng;
static int memfd = -1;
static bool can_lock_all;   /* mlockall is safe to try (no limit to hit that the model cannot know) */
static bool can_poison;	    /* MADV_HWPOISON / SOFT_OFFLINE would be refused, never carried out */
static bool in_child;	    /* this process is a child that goes on with the sequence after `fork child` */
static long last_off, last_len; /* the last mapping made in the window: touches aim there half the time */

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t below(uint64_t n) { return rnd() % n; }

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "gtrec: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/* ---- the settings the results depend on ---- */

/* The first line of a file, or "-" if it cannot be read. */
static void read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, (int)n, f))
		snprintf(buf, n, "-");
	else
		buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
}

/* The [selected] word of a sysfs choice line ("always [madvise] never" -> "madvise"). */
static void read_choice(const char *path, char *buf, size_t n)
{
	char line[256];
	read_line(path, line, sizeof(line));
	char *a = strchr(line, '['), *b = a ? strchr(a, ']') : NULL;
	if (a && b) {
		*b = 0;
		snprintf(buf, n, "%s", a + 1);
	} else {
		snprintf(buf, n, "%s", line);
	}
}

/* A capability in CapEff of /proc/self/status. */
static bool has_cap(int cap)
{
	char line[256];
	bool yes = false;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			yes = (strtoull(line + 7, NULL, 16) >> cap) & 1;
	if (f)
		fclose(f);
	return yes;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	long v = -1;
	size_t k = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, k) && line[k] == ':')
			v = strtol(line + k + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static void header(uint64_t seed, int nseq, int ncalls)
{
	struct utsname u;
	uname(&u);
	char b[256];
	fprintf(out, "# Recorded by gtrec (conform/live/gtrec.c) on this kernel; see tests/data/linux-6.18-seed1.README.md.\n");
	fprintf(out, "kernel %s\n", u.release);
	fprintf(out, "setting recorder gtrec-1\n");
	fprintf(out, "setting seed %llu\n", (unsigned long long)seed);
	fprintf(out, "setting sequences %d\n", nseq);
	fprintf(out, "setting calls_per_sequence %d\n", ncalls);
	static const char *const thp[][2] = { { "thp_enabled", "/sys/kernel/mm/transparent_hugepage/enabled" },
					     { "thp_defrag", "/sys/kernel/mm/transparent_hugepage/defrag" },
					     { "thp_shmem_enabled", "/sys/kernel/mm/transparent_hugepage/shmem_enabled" } };
	for (int i = 0; i < 3; i++) {
		read_choice(thp[i][1], b, sizeof(b));
		fprintf(out, "setting %s %s\n", thp[i][0], b);
	}
	/* Multi-size THP for anonymous memory: the sizes not set to never. */
	static const int sizes[] = { 16, 32, 64, 128, 256, 512, 1024 };
	fprintf(out, "setting thp_anon_sizes");
	int any = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), "/sys/kernel/mm/transparent_hugepage/hugepages-%dkB/enabled", sizes[i]);
		read_choice(path, b, sizeof(b));
		if (strcmp(b, "never") && strcmp(b, "-")) {
			fprintf(out, "%s%dkB:%s", any++ ? "," : " ", sizes[i], b);
		}
	}
	fprintf(out, "%s\n", any ? "" : " none");
	read_line("/sys/kernel/mm/ksm/run", b, sizeof(b));
	fprintf(out, "setting ksm_run %s\n", b);
	read_line("/proc/sys/vm/overcommit_memory", b, sizeof(b));
	fprintf(out, "setting overcommit_memory %s\n", b);
	read_line("/proc/sys/vm/overcommit_ratio", b, sizeof(b));
	fprintf(out, "setting overcommit_ratio %s\n", b);
	read_line("/proc/sys/vm/max_map_count", b, sizeof(b));
	fprintf(out, "setting max_map_count %s\n", b);
	fprintf(out, "setting swap_kb %ld\n", meminfo_kb("SwapTotal"));
	struct rlimit rl;
	getrlimit(RLIMIT_MEMLOCK, &rl);
	if (rl.rlim_cur == RLIM_INFINITY)
		fprintf(out, "setting memlock_limit unlimited\n");
	else
		fprintf(out, "setting memlock_limit %llu\n", (unsigned long long)rl.rlim_cur);
	fprintf(out, "setting cap_ipc_lock %d\n", has_cap(14));
	fprintf(out, "setting cap_sys_admin %d\n", has_cap(21));
	bool mf = access("/proc/sys/vm/memory_failure_early_kill", F_OK) == 0;
	fprintf(out, "setting memory_failure %d\n", mf);
	can_lock_all = has_cap(14) || rl.rlim_cur == RLIM_INFINITY;
	fprintf(out, "setting mlockall_tried %d\n", can_lock_all);
	can_poison = !mf || !has_cap(21);
	fprintf(out, "setting hwpoison_tried %d\n", can_poison);
}

/* ---- writing calls ---- */

/* A byte offset from BASE, as the format writes it. */
static void put_off(long o)
{
	if (o < 0)
		fprintf(out, "-0x%lx", -o);
	else
		fprintf(out, "0x%lx", o);
}

/* Flag bits as names from tab joined by sep (a zero value by its name, or "none"), unknown bits in hex. */
static void put_flags(long v, const struct gtn *tab, char sep)
{
	if (!v) {
		for (const struct gtn *t = tab; t->name; t++)
			if (!t->value) {
				fputs(t->name, out);
				return;
			}
		fputs("none", out);
		return;
	}
	int n = 0;
	for (const struct gtn *t = tab; t->name; t++)
		if (t->value && (v & t->value) == t->value) {
			fprintf(out, "%s%s", n++ ? (char[]){ sep, 0 } : "", t->name);
			v &= ~t->value;
		}
	if (v)
		fprintf(out, "%s0x%lx", n ? (char[]){ sep, 0 } : "", v);
}

static void put_prot(int prot)
{
	fprintf(out, "%c%c%c", prot & 1 ? 'r' : '-', prot & 2 ? 'w' : '-', prot & 4 ? 'x' : '-');
	if (prot & ~7) {
		fputc('+', out);
		put_flags(prot & ~7, gtn_prot_flags, '+');
	}
}

static void put_advice(int a)
{
	for (const struct gtn *t = gtn_advice; t->name; t++)
		if (t->value == a) {
			fputs(t->name, out);
			return;
		}
	fprintf(out, "%d", a);
}

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ETXTBSY: return "ETXTBSY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case ENOSYS: return "ENOSYS";
	case EOVERFLOW: return "EOVERFLOW";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EHWPOISON: return "EHWPOISON";
	}
	return "E?";
}

/* The result of a call that returns 0 or -1 with errno. */
static void put_rc(int rc)
{
	if (rc == 0)
		fprintf(out, "  -> 0\n");
	else
		fprintf(out, "  -> %s\n", errname(errno));
}

/*
 * The result of a call that returns an address: its offset in the window, or
 * 'moved' (then removed again at once) when it is outside the window, or is
 * not `want` (an mmap hint not honoured as given; NULL: no such wish).
 */
static void put_addr(void *p, long len, const char *want)
{
	if (p == MAP_FAILED) {
		fprintf(out, "  -> %s\n", errname(errno));
		return;
	}
	char *c = p;
	if (c < BASE + LO * PG || c >= BASE + HI * PG || (want && c != want)) {
		munmap(p, (size_t)len);
		fprintf(out, "  -> moved\n");
		return;
	}
	fprintf(out, "  -> ");
	if (c == BASE)
		fprintf(out, "0");
	else
		put_off(c - BASE);
	fprintf(out, "\n");
}

/* ---- the state after a call: layout and residency ---- */

static char mapsbuf[1 << 18];

/* Layout of the window from /proc/self/maps, then one residency character a page (mincore). */
static void put_state(void)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	size_t n = 0;
	ssize_t r;
	while (fd >= 0 && n < sizeof(mapsbuf) - 1 && (r = read(fd, mapsbuf + n, sizeof(mapsbuf) - 1 - n)) > 0)
		n += (size_t)r;
	if (fd >= 0)
		close(fd);
	mapsbuf[n] = 0;
	char mapped[HI - LO];
	memset(mapped, 0, sizeof(mapped));
	for (char *l = mapsbuf; *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		unsigned long s, e, off;
		char perm[8], dev[16], path[256] = "";
		unsigned long ino;
		if (sscanf(l, "%lx-%lx %7s %lx %15s %lu %255[^\n]", &s, &e, perm, &off, dev, &ino, path) >= 6) {
			long a = ((long)s - (long)BASE) / PG, b = ((long)e - (long)BASE) / PG;
			if (a < LO)
				off += (unsigned long)(LO - a) * PG, a = LO;
			if (b > HI)
				b = HI;
			if (a < b) {
				char *p = path;
				while (*p == ' ')
					p++;
				const char *kind = !ino ? "anon" : strstr(p, "/dev/zero") ? "shmem" : "file";
				fprintf(out, "  vma %ld-%ld %s %s", a, b, perm, kind);
				if (ino)
					fprintf(out, "+0x%lx", off / PG);
				fprintf(out, "\n");
				memset(mapped + (a - LO), 1, (size_t)(b - a));
			}
		}
		l = nl ? nl + 1 : l + strlen(l);
	}
	char res[HI - LO + 1];
	for (int i = 0; i < HI - LO; i++) {
		unsigned char v = 0;
		if (!mapped[i])
			res[i] = '.';
		else if (mincore(BASE + (long)(i + LO) * PG, PG, &v))
			res[i] = '?'; /* never expected: mapped but mincore refused */
		else
			res[i] = v & 1 ? '1' : '0';
	}
	res[HI - LO] = 0;
	fprintf(out, "  resident %s\n", res);
}

/* ---- touches ---- */

static sigjmp_buf jb;

static void on_signal(int sig) { siglongjmp(jb, sig); }

/* A one-byte read or write at BASE + off: "ok", "SIGSEGV" or "SIGBUS". */
static const char *touch(long off, bool write)
{
	volatile char *p = (volatile char *)(BASE + off);
	int sig = sigsetjmp(jb, 1);
	if (!sig) {
		if (write)
			*p = 1;
		else
			(void)*p;
		return "ok";
	}
	return sig == SIGBUS ? "SIGBUS" : "SIGSEGV";
}

/* ---- random arguments (like the recorded seed file: mostly aligned, sometimes not, sometimes zero) ---- */

static long r_off(void)
{
	long o = ((long)below(HI - LO + 8) + LO - 4) * PG;
	if (below(16) == 0)
		o += 8;
	return o;
}

static long r_len(void)
{
	long n = (long)below(20);
	if (n == 0)
		return below(3) ? PG : 0;
	long l = (n % 12 + 1) * PG;
	if (below(16) == 0)
		l -= 0x64;
	return l;
}

static int r_prot(void) { return (int)below(8); }

/* ---- the calls ---- */

static void do_mmap(void)
{
	long off = r_off(), len = r_len(), foff = (long)below(40) * PG;
	int prot = r_prot(), kind = (int)below(12), mode = (int)below(3), fl = 0;
	if (below(20) == 0)
		foff += 0x10;
	static const char *const kinds[] = { "anon", "anon-shared", "file-private", "file-shared",
					     "file-shared-validate" };
	int k = kind < 4 ? 0 : kind < 6 ? 1 : kind < 8 ? 2 : kind < 11 ? 3 : 4;
	int flags = (k == 0 || k == 2) ? MAP_PRIVATE : k == 4 ? MAP_SHARED_VALIDATE : MAP_SHARED;
	if (k < 2)
		flags |= MAP_ANONYMOUS;
	flags |= mode == 0 ? MAP_FIXED : mode == 1 ? MAP_FIXED_NOREPLACE : 0;
	for (const struct gtn *t = gtn_mmap_flags; t->name; t++)
		if (below(t->value == 0x8000 ? 5 : t->value == 0x2000 || t->value == 0x100 ? 14 : 8) == 0)
			fl |= (int)t->value;
	fprintf(out, "mmap ");
	put_off(off);
	fprintf(out, " 0x%lx ", len);
	put_prot(prot);
	fprintf(out, " %s %s off=0x%lx", kinds[k], mode == 0 ? "fixed" : mode == 1 ? "fixed-noreplace" : "hint", foff);
	if (fl) {
		fprintf(out, " flags=");
		put_flags(fl, gtn_mmap_flags, ',');
	}
	fprintf(out, "\n");
	void *p = mmap(BASE + off, (size_t)len, prot, flags | fl, k < 2 ? -1 : memfd, foff);
	if (p != MAP_FAILED && (char *)p >= BASE + LO * PG && (char *)p < BASE + HI * PG)
		last_off = (char *)p - BASE, last_len = len;
	put_addr(p, len, mode == 2 ? BASE + off : NULL);
}

static void do_range(const char *name)
{
	long off = r_off(), len = r_len();
	if (last_len > 0 && below(3) == 0) /* a third of the time, within the last mapping: more calls that succeed */
		off = last_off + (long)below((uint64_t)(last_len + PG - 1) / PG) * PG, len = (long)(1 + below(4)) * PG;
	fprintf(out, "%s ", name);
	put_off(off);
	fprintf(out, " 0x%lx", len);
	int rc;
	if (!strcmp(name, "munmap")) {
		fprintf(out, "\n");
		rc = munmap(BASE + off, (size_t)len);
	} else if (!strcmp(name, "mprotect")) {
		int prot = r_prot();
		static const int extra[] = { 0x8, 0x01000000, 0x02000000, 0x03000000, 0x10 };
		if (below(6) == 0)
			prot |= extra[below(5)];
		fputc(' ', out);
		put_prot(prot);
		fprintf(out, "\n");
		rc = mprotect(BASE + off, (size_t)len, prot);
	} else if (!strcmp(name, "madvise")) {
		static const int rejected[] = { 5, 6, 7, 26, 99, 104, -1 };
		int a;
		do {
			uint64_t x = below(40);
			a = x < 27 ? (int)gtn_advice[x].value : rejected[x % 7];
		} while ((a == 100 || a == 101) && !can_poison);
		fputc(' ', out);
		put_advice(a);
		fprintf(out, "\n");
		rc = madvise(BASE + off, (size_t)len, a);
	} else if (!strcmp(name, "mlock")) {
		int f = below(4) == 0 ? 1 : below(12) == 0 ? 2 : 0;
		if (f) {
			fputc(' ', out);
			put_flags(f, gtn_mlock_flags, '-');
		}
		fprintf(out, "\n");
		rc = (int)syscall(SYS_mlock2, BASE + off, (size_t)len, f);
	} else if (!strcmp(name, "munlock")) {
		fprintf(out, "\n");
		rc = munlock(BASE + off, (size_t)len);
	} else if (!strcmp(name, "msync")) {
		static const int fl[] = { 0, 1, 4, 2, 3, 6, 5, 8 };
		int f = fl[below(8)];
		fputc(' ', out);
		put_flags(f, gtn_msync_flags, '-');
		fprintf(out, "\n");
		rc = msync(BASE + off, (size_t)len, f);
	} else if (!strcmp(name, "mincore")) {
		static unsigned char vec[1 << 12];
		fprintf(out, "\n");
		rc = mincore(BASE + off, (size_t)len, vec); /* lengths stay far below 4096 pages */
	} else { /* fallocate */
		static const int modes[] = { 0, 0, 1, 3, 3, 2, 0x10 };
		int m = modes[below(7)];
		fputc(' ', out);
		put_flags(m, gtn_falloc_flags, '-');
		fprintf(out, "\n");
		rc = fallocate(memfd, m, off, len);
	}
	put_rc(rc);
}

static void do_mremap(void)
{
	long off = r_off(), ol = r_len(), nl = r_len(), to = r_off();
	static const int modes[] = { 0, 0, 1, 1, 3, 3, 3, 5, 5, 7, 7, 2, 4, 8 };
	int f = modes[below(sizeof(modes) / sizeof(modes[0]))];
	if ((f & 4) && below(3))
		nl = ol; /* DONTUNMAP wants equal lengths */
	fprintf(out, "mremap ");
	put_off(off);
	fprintf(out, " 0x%lx 0x%lx ", ol, nl);
	put_flags(f, gtn_mremap_flags, '-');
	if (f & 6) {
		fputc(' ', out);
		put_off(to);
	}
	fprintf(out, "\n");
	void *p = mremap(BASE + off, (size_t)ol, (size_t)nl, f, BASE + to);
	put_addr(p, nl, NULL);
}

static void do_ftruncate(void)
{
	long size = (long)below(48) * PG;
	if (below(6) == 0)
		size += 0x123;
	fprintf(out, "ftruncate 0x%lx\n", size);
	put_rc(ftruncate(memfd, size));
}

static void do_mlockall(void)
{
	static const int fl[] = { 1, 2, 3, 5, 7, 4, 0, 8 };
	int f = fl[below(8)];
	fprintf(out, "mlockall ");
	put_flags(f, gtn_mlockall_flags, '-');
	fprintf(out, "\n");
	put_rc(mlockall(f));
}

/* Set up the sequence's fresh state: guards and a new file. */
static void begin(void)
{
	memfd = (int)syscall(SYS_memfd_create, "gtrec", 1 /* MFD_CLOEXEC */);
	if (memfd < 0 || ftruncate(memfd, FILE_PAGES * PG))
		die("memfd: %s", strerror(errno));
	if (mmap(BASE + LO * PG, 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
		    MAP_FAILED ||
	    mmap(BASE + 48 * PG, 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) ==
		    MAP_FAILED)
		die("the window at %p is not free: %s", (void *)BASE, strerror(errno));
}

/* Tear the window down (and anything moves left just beyond it); a child that went on with the sequence ends here. */
static void end(void)
{
	if (can_lock_all)
		munlockall();
	munmap(BASE + (LO - 64) * PG, (size_t)(HI - LO + 128) * PG);
	close(memfd);
	fflush(out);
	if (in_child)
		_exit(0);
}

/* One sequence; returns in the process that started it, after any child it forked has finished the sequence. */
static void sequence(int id, uint64_t seed, int ncalls)
{
	rng = seed * 0x9E3779B97F4A7C15ull + (uint64_t)id * 0xD1B54A32D192ED03ull + 1;
	for (int i = 0; i < 4; i++)
		rnd();
	fprintf(out, "sequence %d\n", id);
	last_off = last_len = 0;
	begin();
	for (int c = 0; c < ncalls; c++) {
		uint64_t x = below(100);
		if (x < 14)
			do_mmap();
		else if (x < 20)
			do_range("munmap");
		else if (x < 29)
			do_range("mprotect");
		else if (x < 47)
			do_range("madvise");
		else if (x < 54)
			do_mremap();
		else if (x < 56) {
			bool child = below(2);
			fprintf(out, "fork %s\n", child ? "child" : "parent");
			fflush(out);
			pid_t pid = fork();
			if (pid < 0)
				die("fork: %s", strerror(errno));
			if (pid == 0 && !child)
				_exit(0);
			in_child |= pid == 0;
			if (pid > 0) {
				int st;
				waitpid(pid, &st, 0);
				if (child) { /* the child finished the sequence */
					if (!WIFEXITED(st) || WEXITSTATUS(st))
						die("sequence %d: the child failed", id);
					end();
					return;
				}
			}
			fprintf(out, "  -> 0\n");
		} else if (x < 59)
			do_range("mlock");
		else if (x < 61)
			do_range("munlock");
		else if (x < 62 && can_lock_all)
			do_mlockall();
		else if (x < 63 && can_lock_all) {
			fprintf(out, "munlockall\n");
			put_rc(munlockall());
		} else if (x < 66)
			do_range("msync");
		else if (x < 69)
			do_range("mincore");
		else if (x < 72)
			do_ftruncate();
		else if (x < 75)
			do_range("fallocate");
		else {
			long off = r_off() + (long)below(PG);
			if (last_len > 0 && below(2))
				off = last_off + (long)below((uint64_t)last_len);
			bool w = below(2);
			fprintf(out, "touch ");
			put_off(off);
			fprintf(out, " %c\n  -> %s\n", w ? 'w' : 'r', touch(off, w));
		}
		put_state();
	}
	end();
}

int main(int argc, char **argv)
{
	uint64_t seed = 1;
	int nseq = 100, ncalls = 30;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--sequences") && i + 1 < argc)
			nseq = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
			ncalls = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			path = argv[++i];
		else {
			fprintf(stderr, "usage: gtrec [--seed N] [--sequences N] [--calls N] [-o FILE]\n"
					"Runs random sequences of mm calls on this kernel and writes what it did\n"
					"(results, /proc/self/maps, mincore) as kernel ground truth.\n");
			return strcmp(argv[i], "--help") ? 2 : 0;
		}
	}
	if (nseq < 1 || ncalls < 1)
		die("--sequences and --calls must be positive");
	out = path ? fopen(path, "w") : stdout;
	if (!out)
		die("%s: %s", path, strerror(errno));
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	struct rlimit rl;
	if (!getrlimit(RLIMIT_MEMLOCK, &rl)) { /* as much as we may: fewer limits for the model to know */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	header(seed, nseq, ncalls);
	for (int s = 0; s < nseq; s++)
		sequence(s, seed, ncalls);
	if (fclose(out))
		die("write: %s", strerror(errno));
	return 0;
}
