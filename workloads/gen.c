/* gen.c: generator plumbing and event makers for synthetic workloads. */
#include "workloads/wl.h"

static bool gen_next(struct ev_src *s, struct ev *e)
{
	struct gen *g = (struct gen *)s;
	*e = (struct ev){ 0 };
	if (!g->step(g, e))
		return false;
	g->n++;
	return true;
}

static void gen_close(struct ev_src *s) { xfree(s); }

struct ev_src *gen_new(const struct wl_params *p, uint32_t i, bool (*step)(struct gen *, struct ev *))
{
	struct gen *g = xzalloc(sizeof(*g));
	g->src.next = gen_next;
	g->src.close = gen_close;
	g->p = *p;
	g->i = i;
	g->step = step;
	g->rng = (p->seed + 1) * 0x9E3779B97F4A7C15ull ^ (i + 1) * 0xBF58476D1CE4E5B9ull;
	if (!g->rng)
		g->rng = 1;
	return &g->src;
}

uint64_t gen_rand(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

struct ev ev_mmap(uint32_t new_region, uint64_t hint, uint64_t len, int prot, int flags)
{
	return (struct ev){ .kind = EV_MMAP, .new_region = new_region, .addr = hint, .len = len, .prot = prot,
			    .flags = flags };
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

struct ev ev_barrier(uint32_t id) { return (struct ev){ .kind = EV_BARRIER, .addr = id }; }
struct ev ev_simple(enum ev_kind k) { return (struct ev){ .kind = (uint8_t)k }; }
