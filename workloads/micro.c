/* micro.c: the first microbenchmarks: `pf` (faults in per-core slots of one mapping) and `mmap` (mmap/munmap loops). */
#include "workloads/wl.h"

#define SLOT (512 * PAGE_SIZE) /* 2 MiB: one last-level page table per slot */
#define PF_HINT 0x600000000000ull /* 2 MiB aligned, far from everything */
#define ANON_RW VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS

/* pf: thread 0 maps threads x 2 MiB; after a barrier every thread writes each page of its own slot once. */
static bool pf_step(struct gen *g, struct ev *e)
{
	uint64_t pages = g->p.ops ? g->p.ops : 512;
	uint64_t slot_bytes = (pages * PAGE_SIZE + SLOT - 1) / SLOT * SLOT;
	switch (g->phase) {
	case 0:
		g->phase = 1;
		if (g->i == 0) {
			*e = ev_mmap(1, PF_HINT, (uint64_t)g->p.threads * slot_bytes, ANON_RW);
			return true;
		}
		/* fall through */
	case 1:
		g->phase = 2;
		*e = ev_barrier(0);
		return true;
	case 2:
		g->phase = 3;
		*e = ev_simple(EV_MARK);
		return true;
	case 3: {
		if (g->k == pages)
			return false;
		uint64_t off = g->p.high_contention ? (gen_rand(g) % (pages * g->p.threads)) * PAGE_SIZE
						    : g->i * slot_bytes + g->k * PAGE_SIZE;
		*e = ev_access(1, off, ACC_W);
		e->fl |= EVF_OP;
		g->k++;
		return true;
	}
	}
	return false;
}

static struct ev_src *pf_thread(const struct wl_params *p, uint32_t i) { return gen_new(p, i, pf_step); }

/* mmap: every thread loops mmap(4 pages, no MAP_FIXED) then munmap. */
static bool mmap_step(struct gen *g, struct ev *e)
{
	uint64_t iters = g->p.ops ? g->p.ops : 200;
	uint32_t region = 1000 + g->i;
	switch (g->phase) {
	case 0:
		g->phase = 1;
		*e = ev_simple(EV_MARK);
		return true;
	case 1:
		if (g->k == iters)
			return false;
		g->phase = 2;
		*e = ev_mmap(region, 0, 4 * PAGE_SIZE, ANON_RW);
		e->fl |= EVF_OP;
		return true;
	case 2:
		g->phase = 1;
		g->k++;
		*e = ev_munmap(region, 0, 4 * PAGE_SIZE);
		return true;
	}
	return false;
}

static struct ev_src *mmap_thread(const struct wl_params *p, uint32_t i) { return gen_new(p, i, mmap_step); }

const struct wl_def wl_pf = {
	.name = "pf",
	.summary = "page faults: each core writes every page of its own 2 MiB slot of one shared mapping",
	.help = "Thread 0 maps one anonymous read-write region of (threads x 2 MiB); after a barrier every\n"
		"thread writes each page of its own 2 MiB-aligned, 512-page slot once, taking one\n"
		"anonymous page fault per page (the CortenMM paper's `pf`, low contention; with\n"
		"--contention high, random pages of the whole region). An op is one page fault.\n"
		"--ops sets the pages per thread (default 512).",
	.default_ops = 512,
	.thread = pf_thread,
};

const struct wl_def wl_mmap = {
	.name = "mmap",
	.summary = "mmap/munmap loops: each core maps 4 pages (no MAP_FIXED) and unmaps them",
	.help = "Every thread loops: mmap 4 anonymous read-write pages without MAP_FIXED, then munmap\n"
		"them (will-it-scale mmap1, and the paper's `mmap`). An op is one mmap+munmap pair.\n"
		"--ops sets the iterations per thread (default 200).",
	.default_ops = 200,
	.thread = mmap_thread,
};
