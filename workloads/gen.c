/* gen.c: generator plumbing and event makers for synthetic workloads. */
#include "workloads/wl.h"

#include <stdio.h>

/* Region and file ids: chain i owns ids (i+1) << 20 .. (i+1) << 20 | 0xfffff (paper.c's ids stay below 1 << 20). */
#define CHAIN_SHIFT 20

static void pop(struct gen *g, struct ev *e)
{
	struct gen_item *it = &g->q[g->qh];
	*e = it->e;
	it->e.addr += it->stride;
	if (--it->count == 0) {
		g->qh = (g->qh + 1) % GEN_QUEUE;
		g->qn--;
	}
}

static bool gen_next(struct ev_src *s, struct ev *e)
{
	struct gen *g = (struct gen *)s;
	while (!g->qn) {
		*e = (struct ev){ 0 };
		if (!g->step(g, e))
			return false;
		if (e->kind != EV_END) {
			g->n++;
			return true;
		}
	}
	pop(g, e);
	g->n++;
	return true;
}

static void gen_close(struct ev_src *s)
{
	xfree(((struct gen *)s)->data);
	xfree(s);
}

/* The generator of thread `tid` of w (initial thread i has tid i+1), seeded from (seed, tid). */
static struct ev_src *gen_make(const struct wl_def *w, const struct wl_params *p, uint32_t tid)
{
	struct gen *g = xzalloc(sizeof(*g));
	g->src.next = gen_next;
	g->src.close = gen_close;
	g->p = *p;
	g->i = (tid - 1) % p->threads;
	g->child = (tid - 1) / p->threads;
	g->step = p->paper && w->paper_step ? w->paper_step : w->step;
	g->w = w;
	g->rng = (p->seed + 1) * 0x9E3779B97F4A7C15ull ^ tid * 0xBF58476D1CE4E5B9ull;
	if (!g->rng)
		g->rng = 1;
	return &g->src;
}

bool gen_begin(struct gen *g, void (*setup)(struct gen *g))
{
	if (g->phase != 0)
		return false;
	g->phase = 1;
	if (setup)
		setup(g);
	gen_start(g);
	return true;
}

struct ev_src *wl_thread(const struct wl_def *w, const struct wl_params *p, uint32_t i) { return gen_make(w, p, i + 1); }

struct ev_src *wl_spawn(const struct wl_def *w, const struct wl_params *p, uint32_t tid) { return gen_make(w, p, tid); }

uint64_t gen_rand(struct gen *g) { return util_xorshift64(&g->rng); }

void gen_sweep(struct gen *g, struct ev e, uint64_t count, uint64_t stride)
{
	if (!count)
		return;
	if (g->qn == GEN_QUEUE)
		panic("workload generator: event queue full");
	g->q[(g->qh + g->qn++) % GEN_QUEUE] = (struct gen_item){ e, count, stride };
}

void gen_push(struct gen *g, struct ev e) { gen_sweep(g, e, 1, 0); }

void gen_start(struct gen *g)
{
	gen_push(g, ev_barrier(0));
	gen_push(g, ev_simple(EV_MARK));
}

uint64_t gen_ops(const struct gen *g) { return g->p.ops ? g->p.ops : g->w->default_ops; }
uint64_t gen_size(const struct gen *g) { return vm_page_up(g->p.size ? g->p.size : g->w->default_size); }

uint32_t gen_region_of(uint32_t i, uint64_t j) { return ((i + 1) << CHAIN_SHIFT) | (uint32_t)(j & 0xfffff); }
uint32_t gen_region(const struct gen *g, uint64_t j) { return gen_region_of(g->i, j); }
uint32_t gen_file(const struct gen *g, uint64_t j) { return gen_region_of(g->i, j); }
uint32_t gen_child_tid(const struct gen *g, uint64_t n) { return (uint32_t)(n * g->p.threads + g->i + 1); }

bool gen_check_ids(const struct wl_params *p, char *buf, size_t n)
{
	if (p->ops < (1u << CHAIN_SHIFT) && (p->ops + 1) * p->threads < UINT32_MAX)
		return true;
	snprintf(buf, n, "--ops: %llu is too many for this workload's region, file and thread ids (at most %u)",
		 (unsigned long long)p->ops, (1u << CHAIN_SHIFT) - 1);
	return false;
}

struct ev ev_mmap(uint32_t new_region, uint64_t hint, uint64_t len, int prot, int flags)
{
	return (struct ev){ .kind = EV_MMAP, .new_region = new_region, .addr = hint, .len = len, .prot = prot,
			    .flags = flags };
}

struct ev ev_mmap_file(uint32_t new_region, uint64_t len, int prot, int flags, uint32_t file, uint64_t off)
{
	struct ev e = ev_mmap(new_region, 0, len, prot, flags);
	e.file = file;
	e.off = off;
	return e;
}

struct ev ev_munmap(uint32_t region, uint64_t off, uint64_t len)
{
	return (struct ev){ .kind = EV_MUNMAP, .fl = EVF_REGION, .region = region, .addr = off, .len = len };
}

struct ev ev_mprotect(uint32_t region, uint64_t off, uint64_t len, int prot)
{
	return (struct ev){ .kind = EV_MPROTECT, .fl = EVF_REGION, .region = region, .addr = off, .len = len,
			    .prot = prot };
}

struct ev ev_madvise(uint32_t region, uint64_t off, uint64_t len, int advice)
{
	return (struct ev){ .kind = EV_MADVISE, .fl = EVF_REGION, .region = region, .addr = off, .len = len,
			    .advice = advice };
}

struct ev ev_access(uint32_t region, uint64_t off, int acc)
{
	return (struct ev){ .kind = EV_ACCESS, .fl = EVF_REGION, .region = region, .addr = off, .acc = (uint8_t)acc };
}

struct ev ev_brk(uint64_t off)
{
	return (struct ev){ .kind = EV_BRK, .fl = EVF_REGION, .region = EV_REGION_BRK, .addr = off };
}

struct ev ev_compute_ns(uint64_t ns) { return (struct ev){ .kind = EV_COMPUTE, .fl = EVF_NS, .cycles = ns }; }
struct ev ev_thread(uint32_t tid) { return (struct ev){ .kind = EV_THREAD, .tid2 = tid }; }
struct ev ev_fork(uint32_t pid, uint32_t tid) { return (struct ev){ .kind = EV_FORK, .pid2 = pid, .tid2 = tid }; }
struct ev ev_barrier(uint32_t id) { return (struct ev){ .kind = EV_BARRIER, .addr = id }; }
struct ev ev_simple(enum ev_kind k) { return (struct ev){ .kind = (uint8_t)k }; }

struct ev ev_op(struct ev e)
{
	e.fl |= EVF_OP;
	return e;
}
