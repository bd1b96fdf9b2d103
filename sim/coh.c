/* coh.c: directory-based coherence model of modelled cache lines; contention emerges from serialized transfers. */
#include "sim/coh.h"

#include <sched.h>

static inline void hl_lock(struct coh_line *l)
{
	while (atomic_exchange_explicit(&l->hl, 1, memory_order_acquire))
		while (atomic_load_explicit(&l->hl, memory_order_relaxed))
			__builtin_ia32_pause();
}

static inline void hl_unlock(struct coh_line *l) { atomic_store_explicit(&l->hl, 0, memory_order_release); }

cycles_t coh_xfer_cost(const struct sim *s, uint32_t a, uint32_t b)
{
	const struct sim_core *ca = &s->cores[a], *cb = &s->cores[b];
	if (a == b)
		return s->m->coh_hit;
	if (ca->ccx == cb->ccx)
		return s->m->coh_xfer_ccx;
	if (ca->socket == cb->socket)
		return s->m->coh_xfer_socket;
	return s->m->coh_xfer_remote;
}

bool coh_holds(const struct coh_line *l, uint32_t id)
{
	return l->owner == id + 1 || (l->sharers[id / 64] >> (id % 64) & 1);
}

/* Cost for c to invalidate the other sharers: the farthest one decides, each further one adds a little. */
static cycles_t inval_cost(const struct sim_core *c, const struct coh_line *l, uint32_t others)
{
	const struct machine *m = c->sim->m;
	bool out_ccx = false, out_socket = false;
	uint32_t words = (c->sim->o.ncores + 63) / 64;
	for (uint32_t w = 0; w < words; w++) {
		uint64_t sh = l->sharers[w];
		out_ccx |= (sh & ~c->ccx_mask[w]) != 0;
		out_socket |= (sh & ~c->socket_mask[w]) != 0;
	}
	cycles_t x = out_socket ? m->coh_xfer_remote : out_ccx ? m->coh_xfer_socket : m->coh_xfer_ccx;
	return x + (others > 1 ? (others - 1) * m->coh_inval_sharer : 0);
}

cycles_t coh_access(struct sim_core *c, struct coh_line *l, enum coh_op op)
{
	sim_sync(c);
	return coh_access_nosync_at(c, l, op, 0);
}

cycles_t coh_access_at(struct sim_core *c, struct coh_line *l, enum coh_op op, uint64_t tag)
{
	sim_sync(c);
	return coh_access_nosync_at(c, l, op, tag);
}

cycles_t coh_access_nosync(struct sim_core *c, struct coh_line *l, enum coh_op op)
{
	return coh_access_nosync_at(c, l, op, 0);
}

/* The cost of using a line c holds: where capacity left it (L1, L2, L3 share or memory); tag 0: an L1 hit. */
static cycles_t local_cost(struct sim_core *c, uint64_t tag)
{
	if (!tag)
		return c->sim->m->coh_hit;
	enum cache_where w = cache_touch(&c->cache, tag);
	c->st.line_l2 += w == CACHE_L2;
	c->st.line_l3 += w == CACHE_L3;
	c->st.line_evicted += w == CACHE_MEM;
	return cache_cost(c->sim->m, w);
}

cycles_t coh_access_nosync_at(struct sim_core *c, struct coh_line *l, enum coh_op op, uint64_t tag)
{
	struct sim *s = c->sim;
	const struct machine *m = s->m;
	const uint32_t id = c->id, w = id / 64;
	const uint64_t bit = 1ull << (id % 64);
	const bool par = s->o.mode == SIM_PAR;

	if (par)
		hl_lock(l);

	cycles_t t = c->clock, done;
	bool mine_excl = l->owner == id + 1;
	bool mine_shared = (l->sharers[w] & bit) != 0;

	if (op == COH_READ) {
		if (mine_excl || mine_shared) {
			done = t + local_cost(c, tag);
			c->st.line_hits++;
		} else {
			if (tag)
				cache_touch(&c->cache, tag);
			cycles_t start = MAX(t, l->busy_until);
			cycles_t x;
			if (l->owner) {
				uint32_t o = l->owner - 1u;
				x = coh_xfer_cost(s, o, id);
				l->sharers[o / 64] |= 1ull << (o % 64);
				l->nsharers = 1;
				l->owner = 0;
				c->st.line_xfers++;
			} else if (l->nsharers && l->last) {
				x = coh_xfer_cost(s, l->last - 1u, id);
				c->st.line_xfers++;
			} else {
				x = m->coh_mem;
				c->st.line_mem++;
			}
			c->st.line_wait += start - t;
			done = start + x;
			l->busy_until = done;
			l->sharers[w] |= bit;
			l->nsharers++;
		}
	} else {
		cycles_t extra = op == COH_ATOMIC ? m->coh_atomic : 0;
		if (mine_excl) {
			done = t + local_cost(c, tag) + extra;
			c->st.line_hits++;
		} else {
			cycles_t start = MAX(t, l->busy_until);
			cycles_t x;
			uint32_t others = l->nsharers - (mine_shared ? 1u : 0u);
			bool upgraded = false;
			if (l->owner) {
				x = coh_xfer_cost(s, l->owner - 1u, id);
				c->st.line_xfers++;
			} else if (others) {
				/* Read-for-ownership: data from the last writer, invalidations to all sharers. */
				x = inval_cost(c, l, others);
				if (!mine_shared && l->last)
					x = MAX(x, coh_xfer_cost(s, l->last - 1u, id));
				c->st.line_xfers++;
			} else if (mine_shared) {
				x = local_cost(c, tag); /* sole sharer: silent upgrade */
				c->st.line_hits++;
				upgraded = true;
			} else {
				x = m->coh_mem;
				c->st.line_mem++;
			}
			if (tag && !upgraded)
				cache_touch(&c->cache, tag);
			c->st.line_wait += start - t;
			done = start + x + extra;
			l->busy_until = done;
			if (l->nsharers)
				__builtin_memset(l->sharers, 0, sizeof(l->sharers));
			l->nsharers = 0;
			l->owner = (uint16_t)(id + 1);
			l->last = (uint16_t)(id + 1);
		}
	}
	/*
	 * A hit also occupies the line: in SIM_PAR a core may reach a line in
	 * host order before another core's earlier (in simulated time) access,
	 * and the later transfer must still queue behind this use.
	 */
	if (done > l->busy_until)
		l->busy_until = done;
	if (par)
		hl_unlock(l);
	cycles_t cost = done - t;
	c->clock = done;
	c->st.line_cycles += cost;
	return cost;
}
