/* wis.c: will-it-scale's mm loops (page_fault1-3, mmap1-2, malloc1, brk1, tlb_flush2), in threads or processes mode. */
#include "workloads/wl.h"

#define WIS_SIZE (128ull << 20) /* will-it-scale's size per iteration */

/*
 * The map-touch-unmap loops. Every iteration maps `size` bytes (plus
 * `extra`), writes `touch` pages from the start (all of them: SIZE_ALL), and
 * unmaps. An op is one page written (op_per_page) or one iteration.
 * will-it-scale's loops have no user work between calls: no compute gaps.
 */
#define SIZE_ALL UINT64_MAX
#define PF_OPS 1024
#define PF_SIZE (2ull << 20)
#define MMAP_OPS 32
#define MALLOC_OPS 16

struct loop {
	int flags;	  /* mmap flags; a file mapping unless VM_MAP_ANONYMOUS */
	uint64_t touch;	  /* pages written per iteration */
	bool op_per_page; /* op = one page written (else one iteration) */
	uint64_t extra;	  /* bytes mapped beyond --size */
};

static const struct loop loop_pf1 = { WL_ANON, SIZE_ALL, true, 0 };
static const struct loop loop_pf2 = { VM_MAP_PRIVATE, SIZE_ALL, true, 0 };
static const struct loop loop_pf3 = { VM_MAP_SHARED, SIZE_ALL, true, 0 };
static const struct loop loop_mmap1 = { WL_ANON, 0, false, 0 };
static const struct loop loop_mmap2 = { VM_MAP_PRIVATE, 0, false, 0 };
/* glibc's malloc above the mmap threshold: one more page for the chunk header, which it writes. */
static const struct loop loop_malloc1 = { WL_ANON, 1, false, PAGE_SIZE };

/* One iteration of a loop (g->w->arg, struct loop) per call: queue mmap, the writes, munmap. */
static bool loop_step(struct gen *g, struct ev *e)
{
	(void)e;
	const struct loop *v = g->w->arg;
	uint64_t ops = gen_ops(g), len = gen_size(g) + v->extra;
	uint32_t r = gen_region(g, 0);
	if (gen_begin(g, NULL))
		return true;
	if (g->k == ops)
		return false;
	if (v->flags & VM_MAP_ANONYMOUS)
		gen_push(g, ev_mmap(r, 0, len, WL_RW, v->flags));
	else
		gen_push(g, ev_mmap_file(r, len, WL_RW, v->flags, gen_file(g, 0), 0));
	uint64_t pages = MIN(v->touch, len / PAGE_SIZE);
	struct ev w = ev_access(r, 0, ACC_W);
	if (v->op_per_page) {
		pages = MIN(pages, ops - g->k);
		gen_sweep(g, ev_op(w), pages, PAGE_SIZE);
		g->k += pages;
		gen_push(g, ev_munmap(r, 0, len));
	} else {
		gen_sweep(g, w, pages, PAGE_SIZE);
		gen_push(g, ev_op(ev_munmap(r, 0, len)));
		g->k++;
	}
	return true;
}

/*
 * brk1: grow the break by one page, shrink it back. The heap already
 * exists (will-it-scale's harness has used malloc): 132 KiB, glibc's first
 * sbrk (a 128 KiB M_TOP_PAD plus the request). Every thread sets it; in
 * threads mode they share one break, as the original's threads do.
 */
#define HEAP0 (132ull << 10)
#define BRK_OPS 1024

static void brk1_setup(struct gen *g) { gen_push(g, ev_brk(HEAP0)); }

static bool brk1_step(struct gen *g, struct ev *e)
{
	(void)e;
	if (gen_begin(g, brk1_setup))
		return true;
	if (g->k == gen_ops(g))
		return false;
	gen_push(g, ev_op(ev_brk(HEAP0 + (g->k % 2 == 0 ? PAGE_SIZE : 0))));
	g->k++;
	return true;
}

/*
 * tlb_flush2: map 1 MiB; for every page: write it, madvise(MADV_DONTNEED)
 * it (a TLB flush on every core that runs the process), read it back (the
 * zero page); unmap at the end of the range.
 */
#define TLB_SIZE (1ull << 20)
#define TLB_OPS 512

static bool tlb_flush2_step(struct gen *g, struct ev *e)
{
	(void)e;
	uint64_t pages = gen_size(g) / PAGE_SIZE, ops = gen_ops(g);
	uint32_t r = gen_region(g, 0);
	if (gen_begin(g, NULL))
		return true;
	if (g->phase == 1) { /* a new range */
		if (g->k == ops)
			return false;
		gen_push(g, ev_mmap(r, 0, pages * PAGE_SIZE, WL_RW, WL_ANON));
		g->u[0] = 0;
		g->phase = 2;
		return true;
	}
	if (g->u[0] == pages || g->k == ops) {
		gen_push(g, ev_munmap(r, 0, pages * PAGE_SIZE));
		g->phase = 1;
		return true;
	}
	uint64_t off = g->u[0]++ * PAGE_SIZE;
	gen_push(g, ev_access(r, off, ACC_W));
	gen_push(g, ev_madvise(r, off, PAGE_SIZE, VM_MADV_DONTNEED));
	gen_push(g, ev_op(ev_access(r, off, ACC_R)));
	g->k++;
	return true;
}

#define MODES                                                                                           \
	"Threads mode (default): every core runs a thread of one process, as will-it-scale's\n"          \
	"_threads binaries. --processes: every core runs its own process, as its _processes binaries.\n" \
	"No compute gaps: the original loops do no user work between calls.\n"
#define SMALLER                                                                                          \
	"will-it-scale uses 128 MiB per iteration and runs for a fixed time; here --size sets the\n"     \
	"bytes per iteration (default 2 MiB, so 64 cores run in seconds) and --ops the pages per\n"     \
	"thread (default 1024: two iterations); the loop shape is the original's.\n"
/* The will-it-scale workloads differ only in these; all offer the processes mode. */
#define WIS(nm, st, loop, ops, size, sum, hlp)                                               \
	{ .name = nm, .summary = sum, .help = hlp, .default_ops = ops, .default_size = size, \
	  .flags = WL_PROCESSES, .step = st, .arg = loop }

#define SAME_SIZE "--size: bytes per iteration (default 128 MiB, will-it-scale's). --ops: iterations per thread.\n"

const struct wl_def wl_wis_page_fault1 = WIS("page_fault1", loop_step, &loop_pf1, PF_OPS, PF_SIZE,
	"will-it-scale page_fault1: map anonymous memory, write every page, unmap",
	"Every thread loops: mmap --size bytes of private anonymous memory, write one byte of\n"
	"every page (one page fault each), munmap. Imitates will-it-scale's page_fault1 (the\n"
	"anonymous fault path, and mmap/munmap beside it). An op is one page written.\n" SMALLER MODES);

const struct wl_def wl_wis_page_fault2 = WIS("page_fault2", loop_step, &loop_pf2, PF_OPS, PF_SIZE,
	"will-it-scale page_fault2: private file mapping, write every page (copy-on-write), unmap",
	"Every thread has its own file of --size bytes; it loops: mmap the file MAP_PRIVATE\n"
	"read-write, write every page (a fault that copies the page-cache page into a private\n"
	"frame), munmap. The page cache keeps the file's pages between iterations. Imitates\n"
	"will-it-scale's page_fault2. An op is one page written.\n" SMALLER MODES);

const struct wl_def wl_wis_page_fault3 = WIS("page_fault3", loop_step, &loop_pf3, PF_OPS, PF_SIZE,
	"will-it-scale page_fault3: shared file mapping, write every page, unmap",
	"Every thread has its own file of --size bytes; it loops: mmap the file MAP_SHARED\n"
	"read-write, write every page (a fault that maps the page-cache page itself), munmap.\n"
	"Imitates will-it-scale's page_fault3. An op is one page written.\n" SMALLER MODES);

const struct wl_def wl_wis_mmap1 = WIS("mmap1", loop_step, &loop_mmap1, MMAP_OPS, WIS_SIZE,
	"will-it-scale mmap1: mmap and munmap of untouched anonymous memory",
	"Every thread loops: mmap --size bytes of private anonymous memory, munmap it, touching\n"
	"nothing. Imitates will-it-scale's mmap1. An op is one mmap+munmap pair.\n" SAME_SIZE MODES);

const struct wl_def wl_wis_mmap2 = WIS("mmap2", loop_step, &loop_mmap2, MMAP_OPS, WIS_SIZE,
	"will-it-scale mmap2: mmap and munmap of an untouched private file mapping",
	"Every thread has its own file of --size bytes; it loops: mmap it MAP_PRIVATE\n"
	"read-write, munmap it, touching nothing. Imitates will-it-scale's mmap2. An op is one\n"
	"mmap+munmap pair.\n" SAME_SIZE MODES);

const struct wl_def wl_wis_malloc1 = WIS("malloc1", loop_step, &loop_malloc1, MALLOC_OPS, WIS_SIZE,
	"will-it-scale malloc1: malloc and free of a block above glibc's mmap threshold",
	"Every thread loops: malloc(--size) then free it, as glibc does for a block above its\n"
	"mmap threshold: mmap of the size plus one page, a write of the chunk header (one page\n"
	"fault), munmap. Imitates will-it-scale's malloc1 (128 MiB is above glibc's largest\n"
	"dynamic threshold, 32 MiB, so every malloc maps). With a --size under 32 MiB real glibc\n"
	"would raise its threshold after the first free and serve the block from the heap; this\n"
	"workload keeps the mmap path at every size. An op is one malloc+free.\n" SAME_SIZE MODES);

const struct wl_def wl_wis_brk1 = WIS("brk1", brk1_step, NULL, BRK_OPS, 0,
	"will-it-scale brk1: grow the heap by one page with brk, shrink it back",
	"Every thread loops: brk(break + 4 KiB), brk(break), from a heap of 132 KiB (glibc's first\n"
	"sbrk; the original's harness has used malloc before). In threads mode the threads share\n"
	"one break, as in the original. Imitates will-it-scale's brk1. An op is one brk call\n"
	"(the original also counts two per loop). --ops: brk calls per thread (default 1024).\n" MODES);

const struct wl_def wl_wis_tlb_flush2 = WIS("tlb_flush2", tlb_flush2_step, NULL, TLB_OPS, TLB_SIZE,
	"will-it-scale tlb_flush2: write a page, madvise(MADV_DONTNEED) it, read it back",
	"Every thread loops over a private anonymous mapping of --size bytes (default 1 MiB, the\n"
	"original's): for every page, write it (a fault), madvise(MADV_DONTNEED) it (in threads\n"
	"mode a TLB shootdown to every core running the process), and read it again (the zero\n"
	"page); then munmap and map a new range. Imitates will-it-scale's tlb_flush2. An op is\n"
	"one page (write, madvise, read). --ops: pages per thread (default 512).\n" MODES);
