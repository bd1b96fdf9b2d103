/* paper.c: the CortenMM paper's five microbenchmarks (mmap, mmap-pf, pf, munmap-virt, munmap) at low and high contention. */
#include "workloads/wl.h"

#define SLOT_PAGES 512 /* low contention: each thread owns a disjoint 512-page (2 MiB) slot */
#define SLOT (SLOT_PAGES * PAGE_SIZE)
#define HINT 0x600000000000ull /* 1 GiB aligned and far from everything else */
#define RW VM_PROT_READ | VM_PROT_WRITE
#define ANON VM_MAP_PRIVATE | VM_MAP_ANONYMOUS
#define REGION 1
#define NEIGHBOUR 2 /* the anonymous mapping above the requests' (wl_params.neighbour) */

/*
 * Shape shared by all five: thread 0 maps one region of threads x 2 MiB
 * (untouched) in a setup phase; setup may touch pages; then a barrier,
 * the measured phase (EV_MARK), and `ops` requests per thread. Low
 * contention works inside the thread's own slot; high contention at random
 * pages of the whole region (every slot shared by everybody).
 */
static uint64_t region_pages(const struct gen *g) { return (uint64_t)g->p.threads * SLOT_PAGES; }

/* Page number (in the region) of request k of this thread. */
static uint64_t req_page(struct gen *g, uint64_t k, uint64_t stride)
{
	if (g->p.high_contention)
		return gen_rand(g) % (region_pages(g) / stride) * stride;
	return (uint64_t)g->i * SLOT_PAGES + (k * stride) % SLOT_PAGES;
}

enum { PH_MAP, PH_TOUCH, PH_BARRIER, PH_MARK, PH_RUN, PH_RUN2, PH_DONE };

/*
 * The common setup: returns true with an event, or false when the measured phase begins (g->phase == PH_RUN).
 * Its scratch: u[5] the neighbour is mapped (wl_params.neighbour), u[6] slot pages touched, u[7] the wait for
 * the region is done; the steps use u[0] only.
 */
static bool setup(struct gen *g, struct ev *e, bool map_region, bool touch_slot)
{
	switch (g->phase) {
	case PH_MAP:
		if (g->p.neighbour && g->i == 0 && !g->u[5]) {
			g->u[5] = 1;
			*e = ev_mmap(NEIGHBOUR, 0, 2 * PAGE_SIZE, RW, ANON);
			return true;
		}
		g->phase = PH_TOUCH;
		if (map_region && g->i == 0) {
			*e = ev_mmap(REGION, HINT, region_pages(g) * PAGE_SIZE, RW, ANON);
			return true;
		}
		/* fall through */
	case PH_TOUCH:
		if (touch_slot) {
			/* after the region exists: wait for it once, then touch */
			if (g->u[7] == 0) {
				g->u[7] = 1;
				*e = ev_barrier(1);
				return true;
			}
			if (g->u[6] < SLOT_PAGES) {
				*e = ev_access(REGION, ((uint64_t)g->i * SLOT_PAGES + g->u[6]++) * PAGE_SIZE, ACC_W);
				return true;
			}
		}
		g->phase = PH_BARRIER;
		/* fall through */
	case PH_BARRIER:
		g->phase = PH_MARK;
		*e = ev_barrier(0);
		return true;
	case PH_MARK:
		g->phase = PH_RUN;
		*e = ev_simple(EV_MARK);
		return true;
	}
	return false;
}

/* mmap: map 4 pages (unfixed, or --fixed in the slot / at random pages), then unmap them. */
static bool mmap_step(struct gen *g, struct ev *e)
{
	if (g->phase < PH_RUN && setup(g, e, g->p.fixed, false))
		return true;
	uint32_t region = 1000 + g->i;
	if (g->phase == PH_RUN2) {
		g->phase = PH_RUN;
		*e = ev_munmap(region, 0, 4 * PAGE_SIZE);
		if (g->p.fixed) {
			e->region = REGION;
			e->addr = g->u[0] * PAGE_SIZE;
		}
		g->k++;
		return true;
	}
	if (g->k == gen_ops(g))
		return false;
	if (g->p.fixed) {
		g->u[0] = req_page(g, g->k, 4);
		*e = ev_mmap(0, 0, 4 * PAGE_SIZE, RW, ANON | VM_MAP_FIXED);
		e->fl |= EVF_REGION;
		e->region = REGION;
		e->addr = g->u[0] * PAGE_SIZE;
	} else {
		*e = ev_mmap(region, 0, 4 * PAGE_SIZE, RW, ANON);
	}
	e->fl |= EVF_OP;
	g->phase = PH_RUN2;
	return true;
}

/* mmap-pf: map one page (fixed in the slot, or at a random page) and write it. */
static bool mmap_pf_step(struct gen *g, struct ev *e)
{
	if (g->phase < PH_RUN && setup(g, e, true, false))
		return true;
	if (g->phase == PH_RUN2) {
		g->phase = PH_RUN;
		*e = ev_access(REGION, g->u[0] * PAGE_SIZE, ACC_W);
		g->k++;
		return true;
	}
	if (g->k == gen_ops(g))
		return false;
	g->u[0] = req_page(g, g->k, 1);
	*e = ev_mmap(0, 0, PAGE_SIZE, RW, ANON | VM_MAP_FIXED);
	e->fl |= EVF_REGION | EVF_OP;
	e->region = REGION;
	e->addr = g->u[0] * PAGE_SIZE;
	g->phase = PH_RUN2;
	return true;
}

/*
 * page_step: the loop of pf, munmap-virt and munmap: after the setup (the
 * slot written first if `touched`), one page per request (req_page): a
 * write (pf), or a one-page munmap (`unmap`).
 */
static bool page_step(struct gen *g, struct ev *e, bool touched, bool unmap)
{
	if (g->phase < PH_RUN && setup(g, e, true, touched))
		return true;
	if (g->k == gen_ops(g))
		return false;
	uint64_t off = req_page(g, g->k, 1) * PAGE_SIZE;
	*e = unmap ? ev_munmap(REGION, off, PAGE_SIZE) : ev_access(REGION, off, ACC_W);
	e->fl |= EVF_OP;
	g->k++;
	return true;
}

/* pf: write faults in the pre-mapped region: each page of the slot once, or random pages. */
static bool pf_step(struct gen *g, struct ev *e) { return page_step(g, e, false, false); }
/* munmap-virt and munmap: one-page unmaps of untouched, or of touched, memory. */
static bool munmap_virt_step(struct gen *g, struct ev *e) { return page_step(g, e, false, true); }
static bool munmap_step(struct gen *g, struct ev *e) { return page_step(g, e, true, true); }

#define CONTENTION_HELP                                                                            \
	"Low contention (default): each thread works in its own disjoint 512-page slot of one\n"   \
	"region. High contention (--contention high): at random pages of the whole region, which\n" \
	"every thread shares. Imitates the CortenMM paper's microbenchmark of the same name.\n"   \
	"--method paper runs it exactly as the paper's artifact does instead (32 timed requests\n" \
	"per thread, the last 16 counted, repeated; see 'mmsim run --help').\n"

const struct wl_def wl_paper_mmap = {
	.name = "mmap",
	.summary = "mmap of 4 pages, then munmap (unfixed, or --fixed in the slot / at random pages)",
	.help = "Every thread loops: map 4 anonymous read-write pages, then unmap them (will-it-scale\n"
		"mmap1). Unfixed (default): the design picks the address, and no contention level\n"
		"applies. With --fixed: MAP_FIXED inside the thread's slot, or at high contention at\n"
		"random 4-page offsets of one shared region. An op is one mmap+munmap pair; each call's\n"
		"latency is reported apart. --ops: requests per thread (default 128).\n" CONTENTION_HELP,
	.default_ops = SLOT_PAGES / 4,
	.flags = WL_CONTENTION | WL_FIXED | WL_PAPER,
	.step = mmap_step,
	.paper_step = art_mmap_step,
};

/* The four workloads of one page per request (all but mmap) differ only in these; all take 512
 * requests per thread, both contention levels and the paper's method. */
#define PAGE_WL(nm, own, art, sum, hlp)                                                       \
	{ .name = nm, .summary = sum, .help = hlp CONTENTION_HELP, .default_ops = SLOT_PAGES, \
	  .flags = WL_CONTENTION | WL_PAPER, .step = own, .paper_step = art }

const struct wl_def wl_paper_mmap_pf = PAGE_WL("mmap-pf", mmap_pf_step, art_mmap_pf_step,
	"map one page (MAP_FIXED) and write it",
	"Every request maps one anonymous page with MAP_FIXED (in the thread's slot, or at a\n"
	"random page of the region) and writes it: an mmap and a page fault. An op is one\n"
	"mmap+fault. --ops: requests per thread (default 512).\n");

const struct wl_def wl_paper_pf = PAGE_WL("pf", pf_step, art_pf_step,
	"page faults in one shared mapping: per-thread slots, or random pages",
	"Thread 0 maps one anonymous read-write region of (threads x 2 MiB); after a barrier\n"
	"every thread writes pages of it: each page of its own 2 MiB-aligned slot once, or random\n"
	"pages of the whole region. An op is one write (a page fault the first time a page is\n"
	"touched). --ops: requests per thread (default 512).\n");

const struct wl_def wl_paper_munmap_virt = PAGE_WL("munmap-virt", munmap_virt_step, art_munmap_virt_step,
	"one-page munmaps of untouched memory",
	"Thread 0 maps the region and nobody touches it; then every thread unmaps one page per\n"
	"request (its slot's pages in order, or random pages). No frame is mapped, so no TLB\n"
	"flush is needed. An op is one munmap. --ops: per thread (default 512).\n");

const struct wl_def wl_paper_munmap = PAGE_WL("munmap", munmap_step, art_munmap_step,
	"one-page munmaps of touched memory (each needs a TLB shootdown)",
	"Thread 0 maps the region; every thread writes each page of its own slot in the setup\n"
	"phase (so every core has run the address space); then every thread unmaps one page per\n"
	"request (its slot in order, or random pages): each unmap of a mapped frame flushes the\n"
	"TLBs of every core that ran the process. An op is one munmap. --ops: per thread\n"
	"(default 512).\n");
