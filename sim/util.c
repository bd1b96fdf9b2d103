/* util.c: panic, the metadata allocator (jemalloc or libc), the host clock and the temporary folder. */
#include "sim/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef MMSIM_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

void panic_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "mmsim: panic at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void *check(void *p, size_t n)
{
	if (unlikely(!p && n))
		panic("out of host memory allocating %zu bytes", n);
	return p;
}

#ifdef MMSIM_HAVE_JEMALLOC
/*
 * jemalloc's options (read at its start; MALLOC_CONF in the environment
 * still overrides them). thp:always backs its extents with transparent huge
 * pages: the simulator touches fresh metadata (TLB arrays of every core, PT
 * pages, histograms) all through a run, and on a virtual machine each 4 KiB
 * page fault costs microseconds; one 2 MiB fault replaces up to 512 of them.
 * Measured (mmsim run --design linux --workload pf --cores 64 --ops 64): host
 * CPU time in the simulation 43 ms -> 18 ms, page faults 2,525 -> 912. It
 * costs memory: peak RSS of the pf and mmap points at 384 cores (default
 * requests) 49-78 MiB instead of 33-59 MiB.
 */
const char *malloc_conf = "thp:always";

void *xmalloc(size_t n) { return check(mallocx(n ? n : 1, 0), n); }
void *xzalloc(size_t n) { return check(mallocx(n ? n : 1, MALLOCX_ZERO), n); }
void *xaligned_zalloc(size_t align, size_t n)
{
	return check(mallocx(n ? n : 1, MALLOCX_ZERO | MALLOCX_ALIGN(align)), n);
}
void *xrealloc(void *p, size_t n)
{
	if (!p)
		return xmalloc(n);
	return check(rallocx(p, n ? n : 1, 0), n);
}
void xfree(void *p)
{
	if (p)
		dallocx(p, 0);
}
#else
void *xmalloc(size_t n) { return check(malloc(n ? n : 1), n); }
void *xzalloc(size_t n) { return check(calloc(1, n ? n : 1), n); }
void *xaligned_zalloc(size_t align, size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, align, n ? n : 1))
		p = NULL;
	check(p, n);
	memset(p, 0, n);
	return p;
}
void *xrealloc(void *p, size_t n) { return check(realloc(p, n ? n : 1), n); }
void xfree(void *p) { free(p); }
#endif

double util_clock_sec(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *util_tmpdir(void)
{
	const char *d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xmalloc(n);
	memcpy(d, s, n);
	return d;
}
