/* paper_art.c: the five paper microbenchmarks as the CortenMM artifact runs them (--method paper): its layout, offsets, order and 32 timed requests. */
#include "workloads/wl.h"

#include <string.h>

/*
 * Everything here follows TELOS-syslab/CortenMM-Artifact at commit f39c207,
 * cortenmm-adv/test/src/apps/scale/ (common.h, mmap.c, mmap_pf.c, pf.c,
 * munmap_virt.c, munmap.c) and scripts/step_by_step_scripts/microbench.sh,
 * which runs "mmap unfixed", "mmap fixed 1", "mmap_pf unfixed",
 * "mmap_pf fixed 1", "pf 0|1", "munmap_virt 0|1" and "munmap 0|1": the
 * figures' low-contention panels of mmap and mmap-pf are the unfixed runs,
 * their high-contention panels the fixed runs at contention level 1.
 *
 * run_test(): offset[i*R + j] = i*reserved + j*pages_per_request pages,
 * reserved = pages_per_request + pages_pad; level 1 shuffles all of them
 * (Fisher-Yates from the end, simple_get_rand seeded 0xdeadbeef - threads);
 * thread i takes offset[i*R .. i*R+R-1]. The main thread maps one region of
 * threads*R*reserved pages first when mmap_before_spawn, and writes every
 * request's pages when trigger_fault_before_spawn; here thread 0 does that
 * setup, then every thread waits at a barrier (DISPATCH_LIGHT) and starts
 * its clock (EV_MARK), as thread_start() does. A request ends with
 * request_end(): its EVF_OP event is its last one.
 */

#define R WL_PAPER_REQS
#define ART_BASE 0x100000000ull /* common.h BASE_PTR: where fixed mmaps go */
#define ART_REGION 1		/* the region mapped before spawn */

enum art_kind { ART_MMAP, ART_MMAP_PF, ART_PF, ART_MUNMAP_VIRT, ART_MUNMAP };

/* One benchmark's test_config_t, at the contention level of g. */
struct art_cfg {
	uint64_t pages, pad; /* num_pages_per_request, num_pages_pad */
	bool premap;	     /* mmap_before_spawn */
	bool prefault;	     /* trigger_fault_before_spawn */
	bool unfixed;	     /* is_unfixed_mmap_test */
};

static struct art_cfg art_cfg(enum art_kind k, bool high)
{
	switch (k) {
	case ART_MMAP: /* mmap.c: NUM_MMAPS 32, PAGES_PER_MMAP 4, NUM_PAGES_PAD 512 - 32*4 (fixed only) */
		return high ? (struct art_cfg){ .pages = 4, .pad = 512 - R * 4 } : (struct art_cfg){ .pages = 4, .unfixed = true };
	case ART_MMAP_PF: /* mmap_pf.c: PAGES_PER_MMAP 1, NUM_PAGES_PAD 512 - 32 (fixed only) */
		return high ? (struct art_cfg){ .pages = 1, .pad = 512 - R } : (struct art_cfg){ .pages = 1, .unfixed = true };
	case ART_PF: /* pf.c: NUM_PAGES 32, NUM_PAGES_PAD 512 - 32, mmap before spawn */
		return (struct art_cfg){ .pages = 1, .pad = 512 - R, .premap = true };
	case ART_MUNMAP_VIRT: /* munmap_virt.c: pad (3 - level) * 256 - 32 */
		return (struct art_cfg){ .pages = 1, .pad = (3 - (uint64_t)high) * 256 - R, .premap = true };
	case ART_MUNMAP: /* munmap.c: the same, and every request's page written before spawn */
		return (struct art_cfg){ .pages = 1, .pad = (3 - (uint64_t)high) * 256 - R, .premap = true,
					 .prefault = true };
	}
	return (struct art_cfg){ 0 };
}

/* common.h simple_get_rand: ((long)last * 1103515245 + 12345) & 0x7fffffff. */
static uint32_t art_rand(uint32_t last) { return (uint32_t)(((uint64_t)last * 1103515245ull + 12345ull) & 0x7fffffff); }

/* This thread's R request offsets, in pages from the base, into g->data (run_test's offset array, shuffled at level 1). */
static void art_offsets(struct gen *g, const struct art_cfg *c)
{
	uint64_t n = g->p.threads, tot = n * R, reserved = c->pages + c->pad;
	uint64_t *off = xmalloc(sizeof(uint64_t) * tot);
	for (uint64_t i = 0; i < n; i++)
		for (uint64_t j = 0; j < R; j++)
			off[i * R + j] = i * reserved + j * c->pages;
	if (g->p.high_contention) {
		uint32_t r = 0xdeadbeefu - (uint32_t)n;
		for (uint64_t i = tot - 1; i > 0; i--) {
			r = art_rand(r);
			uint64_t j = r % (i + 1), t = off[i];
			off[i] = off[j];
			off[j] = t;
		}
	}
	g->data = xmalloc(sizeof(uint64_t) * R);
	memcpy(g->data, off + (uint64_t)g->i * R, sizeof(uint64_t) * R);
	xfree(off);
}

enum { AP_MAP, AP_FAULT, AP_BARRIER, AP_MARK, AP_RUN, AP_RUN2 };

/* The setup before the clock starts; true with an event, false once the measured phase begins. */
static bool art_setup(struct gen *g, struct ev *e, const struct art_cfg *c)
{
	uint64_t reserved = c->pages + c->pad, tot = (uint64_t)g->p.threads * R;
	switch (g->phase) {
	case AP_MAP:
		if (!c->unfixed)
			art_offsets(g, c);
		g->phase = AP_FAULT;
		if (c->premap && g->i == 0) {
			*e = ev_mmap(ART_REGION, 0, tot * reserved * PAGE_SIZE, WL_RW, WL_ANON);
			return true;
		}
		/* fall through */
	case AP_FAULT:
		/* the main thread writes each request's pages, in the unshuffled order */
		if (c->prefault && g->i == 0 && g->u[0] < tot * c->pages) {
			uint64_t k = g->u[0]++, req = k / c->pages;
			uint64_t page = (req / R) * reserved + (req % R) * c->pages + k % c->pages;
			*e = ev_access(ART_REGION, page * PAGE_SIZE, ACC_W);
			return true;
		}
		g->phase = AP_BARRIER;
		/* fall through */
	case AP_BARRIER:
		g->phase = AP_MARK;
		*e = ev_barrier(0);
		return true;
	case AP_MARK:
		g->phase = AP_RUN;
		*e = ev_simple(EV_MARK);
		return true;
	}
	return false;
}

/* The fixed mmap of request k at BASE_PTR + offset (absolute: nothing was mapped there before). */
static struct ev art_fixed_mmap(struct gen *g, const struct art_cfg *c)
{
	return ev_mmap(0, ART_BASE + g->data[g->k] * PAGE_SIZE, c->pages * PAGE_SIZE, WL_RW, WL_ANON | VM_MAP_FIXED);
}

static bool art_step(struct gen *g, struct ev *e, enum art_kind kind)
{
	struct art_cfg c = art_cfg(kind, g->p.high_contention);
	if (g->phase < AP_RUN && art_setup(g, e, &c))
		return true;
	if (g->phase == AP_RUN2) { /* mmap-pf: the write that ends the request */
		g->phase = AP_RUN;
		if (c.unfixed) {
			*e = ev_access(gen_region(g, g->k + 1), 0, ACC_W);
		} else {
			*e = ev_access(0, ART_BASE + g->data[g->k] * PAGE_SIZE, ACC_W);
			e->fl &= (uint16_t)~EVF_REGION;
		}
		e->fl |= EVF_OP;
		g->k++;
		return true;
	}
	if (g->k == R)
		return false;
	switch (kind) {
	case ART_MMAP:
		*e = c.unfixed ? ev_mmap(0, 0, c.pages * PAGE_SIZE, WL_RW, WL_ANON) : art_fixed_mmap(g, &c);
		break;
	case ART_MMAP_PF:
		*e = c.unfixed ? ev_mmap(gen_region(g, g->k + 1), 0, PAGE_SIZE, WL_RW, WL_ANON) : art_fixed_mmap(g, &c);
		g->phase = AP_RUN2;
		return true;
	case ART_PF: *e = ev_access(ART_REGION, g->data[g->k] * PAGE_SIZE, ACC_W); break;
	case ART_MUNMAP_VIRT:
	case ART_MUNMAP: *e = ev_munmap(ART_REGION, g->data[g->k] * PAGE_SIZE, PAGE_SIZE); break;
	}
	e->fl |= EVF_OP;
	g->k++;
	return true;
}

bool art_mmap_step(struct gen *g, struct ev *e) { return art_step(g, e, ART_MMAP); }
bool art_mmap_pf_step(struct gen *g, struct ev *e) { return art_step(g, e, ART_MMAP_PF); }
bool art_pf_step(struct gen *g, struct ev *e) { return art_step(g, e, ART_PF); }
bool art_munmap_virt_step(struct gen *g, struct ev *e) { return art_step(g, e, ART_MUNMAP_VIRT); }
bool art_munmap_step(struct gen *g, struct ev *e) { return art_step(g, e, ART_MUNMAP); }
