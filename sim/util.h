/* util.h: panic, branch hints, bit helpers, the metadata allocator, the host clock and a small PRNG, shared by every module. */
#ifndef MMSIM_UTIL_H
#define MMSIM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <time.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CACHELINE 64
#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* panic: a broken invariant. Prints the location and message, then aborts. */
_Noreturn void panic_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(c)                                                              \
	do {                                                                   \
		if (unlikely(!(c)))                                            \
			panic("assertion failed: %s", #c);                     \
	} while (0)

/*
 * Metadata allocation. Hot simulator metadata (PT-page descriptors, VMAs,
 * tree nodes, TLB arrays) comes from here: jemalloc when MMSIM_JEMALLOC is
 * on, libc otherwise (so ASan sees every allocation). Exhaustion panics:
 * the simulator cannot continue without its own metadata.
 */
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xaligned_zalloc(size_t align, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void xfree(void *p);

/* util_clock_sec: the host clock `id` (CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, ...) in seconds. */
double util_clock_sec(clockid_t id);

/* util_tmpdir: where temporary files go: $TMPDIR when set and not empty, else /tmp. */
const char *util_tmpdir(void);

static inline int popcount64(uint64_t x) { return __builtin_popcountll(x); }

/* util_xorshift64: Marsaglia's xorshift (13, 7, 17): advance *x (not 0) and return it. Not for adversarial use. */
static inline uint64_t util_xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* util_fnv64: FNV-1a over n bytes, continuing from h (start with UTIL_FNV64_INIT). Not for adversarial input. */
#define UTIL_FNV64_INIT 0xcbf29ce484222325ull
static inline uint64_t util_fnv64(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#endif
