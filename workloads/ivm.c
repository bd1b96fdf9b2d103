/* ivm.c: the interval-skiplist paper's microbenchmarks (mbench, mfmbench, f_mbench, f_mfmbench), loop for loop as its artifact runs them. */
#include "workloads/wl.h"

/*
 * The artifact's microbench/ (kaist-cp/interval-vm): every thread loops
 * until a timer stops it; throughput is the sum of the threads' loop counts
 * per second. Here each thread runs --ops loops and throughput is loops per
 * simulated second of the measured phase (the same ratio without a timer).
 * - mbench: mmap(NULL, 256 KiB, RW, PRIVATE|ANONYMOUS); never unmapped,
 *   so the address space grows all through the run.
 * - mfmbench: mmap 512 pages (anonymous), read one byte of each (read
 *   faults: the zero page), munmap.
 * - f_mbench, f_mfmbench: the same on a private mapping of the thread's own
 *   file (1 page, or 512 pages), which the thread wrote and fsynced before
 *   the timer starts, so its pages are in the page cache; read faults map
 *   them. Here the setup phase maps the file, reads each page once and
 *   unmaps it, which leaves the pages cached as write() does.
 * The artifact's core counts are 1, 2, then steps of 4 up to the machine's.
 */
#define MB_LEN (256ull << 10)	   /* mbench: 256 KiB per mmap */
#define MFM_PAGES 512ull	   /* mfmbench: 512 pages per loop */
#define MB_OPS 256		   /* default loops per thread: 64 MiB of mappings each */
#define MFM_OPS 8		   /* default loops per thread: 4,096 read faults each */

struct ivm {
	bool file;	/* a private mapping of the thread's file (else anonymous) */
	uint64_t pages; /* pages per mmap */
	bool touch;	/* read every page and munmap (mfmbench), or only map (mbench) */
};

static const struct ivm ivm_mb = { false, MB_LEN / PAGE_SIZE, false };
static const struct ivm ivm_mfm = { false, MFM_PAGES, true };
static const struct ivm ivm_fmb = { true, 1, false };
static const struct ivm ivm_fmfm = { true, MFM_PAGES, true };

/* The mmap of one loop (region r): anonymous, or of the thread's file at offset 0. */
static struct ev ivm_map(struct gen *g, const struct ivm *v, uint32_t r)
{
	uint64_t len = v->pages * PAGE_SIZE;
	if (v->file)
		return ev_mmap_file(r, len, WL_RW, VM_MAP_PRIVATE, gen_file(g, 0), 0);
	return ev_mmap(r, 0, len, WL_RW, WL_ANON);
}

/* ivm_setup: a file variant fills the page cache first: the artifact's write() + fsync() of the file. */
static void ivm_setup(struct gen *g)
{
	const struct ivm *v = g->w->arg;
	if (!v->file)
		return;
	uint32_t r = gen_region(g, 1);
	gen_push(g, ivm_map(g, v, r));
	gen_sweep(g, ev_access(r, 0, ACC_R), v->pages, PAGE_SIZE);
	gen_push(g, ev_munmap(r, 0, v->pages * PAGE_SIZE));
}

/* One loop per call (after the setup and the start barrier): queue its events. The loop is g->w->arg (struct ivm). */
static bool ivm_step(struct gen *g, struct ev *e)
{
	(void)e;
	const struct ivm *v = g->w->arg;
	if (gen_begin(g, ivm_setup))
		return true;
	if (g->k == gen_ops(g))
		return false;
	/* mbench's mappings stay: each loop names a new region; mfmbench reuses one */
	uint32_t r = gen_region(g, v->touch ? 0 : 2 + g->k);
	if (!v->touch) {
		gen_push(g, ev_op(ivm_map(g, v, r)));
	} else {
		gen_push(g, ivm_map(g, v, r));
		gen_sweep(g, ev_access(r, 0, ACC_R), v->pages, PAGE_SIZE);
		gen_push(g, ev_op(ev_munmap(r, 0, v->pages * PAGE_SIZE)));
	}
	g->k++;
	return true;
}

#define IVM_HELP                                                                                      \
	"From the interval-skiplist paper's artifact (SOSP 2025, kaist-cp/interval-vm, microbench/),\n" \
	"run there at 1, 2, then every 4 cores up to 48. --ops: loops per thread.\n"

const struct wl_def wl_ivm_mbench = {
	.name = "mbench",
	.summary = "mmap 256 KiB anonymous, never unmapped (the interval-skiplist paper's Alloc)",
	.help = "Every thread maps 256 KiB of anonymous read-write memory per loop and never unmaps\n"
		"it, so the address space keeps growing. An op is one mmap (default 256 per thread).\n" IVM_HELP,
	.default_ops = MB_OPS,
	.step = ivm_step,
	.arg = &ivm_mb,
	.check = gen_check_ids,
};

const struct wl_def wl_ivm_mfmbench = {
	.name = "mfmbench",
	.summary = "mmap 512 anonymous pages, read each, munmap (the paper's Alloc + Fault + Modify)",
	.help = "Every thread maps 512 anonymous read-write pages, reads one byte of each (read faults,\n"
		"which map the zero page) and unmaps them. An op is one loop (default 8 per thread).\n" IVM_HELP,
	.default_ops = MFM_OPS,
	.step = ivm_step,
	.arg = &ivm_mfm,
};

const struct wl_def wl_ivm_f_mbench = {
	.name = "f_mbench",
	.summary = "mmap one page of the thread's file, never unmapped (file-backed mbench)",
	.help = "Every thread writes a one-page file of its own (setup), then maps it privately, read-\n"
		"write, once per loop and never unmaps. An op is one mmap (default 256 per thread).\n" IVM_HELP,
	.default_ops = MB_OPS,
	.step = ivm_step,
	.arg = &ivm_fmb,
	.check = gen_check_ids,
};

const struct wl_def wl_ivm_f_mfmbench = {
	.name = "f_mfmbench",
	.summary = "mmap 512 pages of the thread's file, read each, munmap (file-backed mfmbench)",
	.help = "Every thread writes a 512-page file of its own (setup: the pages are cached), then per\n"
		"loop maps it privately, reads one byte of each page (read faults that map the cached\n"
		"pages) and unmaps. An op is one loop (default 8 per thread).\n" IVM_HELP,
	.default_ops = MFM_OPS,
	.step = ivm_step,
	.arg = &ivm_fmfm,
};
