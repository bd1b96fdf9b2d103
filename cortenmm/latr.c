/* latr.c: LATR-style lazy TLB shootdowns for CortenMM: remote cores flush at their next tick; frames wait until all have. */
#include "cortenmm/cm.h"

#include <string.h>

/*
 * A lazy flush of one address space: each remote core that may cache the
 * translations finds it in its queue at its next tick (Kumar et al.,
 * "LATR: Lazy Translation Coherence", ASPLOS 2018). Until every such core
 * has flushed, the frames and page tables stay allocated and the TLB
 * checker's window over the range stays open.
 */
struct latr_rec {
	struct vm_as *as;
	struct mmu_flush fl;
	uint64_t *frames;
	uint32_t nframes;
	struct cm_pt **tables;
	uint32_t ntables;
	uint32_t window;
	_Atomic uint32_t pending;
};

struct latr_q {
	pthread_mutex_t mu; /* host guard; the queue's line models the cost */
	struct latr_rec **r;
	uint32_t n, cap;
	struct coh_line line;
} __attribute__((aligned(CACHELINE)));

struct latr {
	uint32_t ncores;
	struct latr_q *q;
	_Atomic uint64_t deferred, processed;
};

static void latr_free(struct vm_sys *sys)
{
	struct latr *l = sys->dstate;
	for (uint32_t i = 0; i < l->ncores; i++) {
		pthread_mutex_destroy(&l->q[i].mu);
		xfree(l->q[i].r);
	}
	xfree(l->q);
	xfree(l);
	sys->dstate = NULL;
}

static struct latr *latr_of(struct vm_sys *sys)
{
	/* Created by cm's create() on the host before any core runs (see cm_latr_init). */
	return sys->dstate;
}

void cm_latr_init(struct vm_sys *sys)
{
	if (sys->dstate)
		return;
	struct latr *l = xzalloc(sizeof(*l));
	l->ncores = sys->sim->o.ncores;
	l->q = xaligned_zalloc(CACHELINE, sizeof(*l->q) * l->ncores);
	for (uint32_t i = 0; i < l->ncores; i++)
		pthread_mutex_init(&l->q[i].mu, NULL);
	sys->dstate = l;
	sys->dstate_free = latr_free;
}

/* Release what a completed record held. Frames go now; tables after a grace period (lock-free walkers). */
static void complete(struct vm_sys *sys, struct sim_core *c, struct latr_rec *r)
{
	mmu_window_close(&r->as->hw, r->window);
	for (uint32_t i = 0; i < r->nframes; i++)
		pm_put(sys->pm, c, r->frames[i]);
	for (uint32_t i = 0; i < r->ntables; i++)
		cm_pt_free_later(r->tables[i]);
	xfree(r->frames);
	xfree(r->tables);
	xfree(r);
}

bool cm_latr_defer(struct cm_cursor *k, const struct mmu_flush *fl, const uint64_t *targets, uint64_t lo, uint64_t hi)
{
	struct vm_sys *sys = k->mm->as->sys;
	struct latr *l = latr_of(sys);
	struct sim_core *c = k->cpu->core;
	uint32_t n = 0;
	for (uint32_t i = 0; i < l->ncores; i++)
		if (i != c->id && (targets[i / 64] >> (i % 64) & 1))
			n++;
	if (!n)
		return false;
	struct latr_rec *r = xzalloc(sizeof(*r));
	r->as = k->mm->as;
	r->fl = *fl;
	r->window = mmu_window_open(&r->as->hw, fl->full ? 0 : lo, fl->full ? VM_TASK_SIZE : hi);
	/* The frames and tables now belong to the record. */
	r->frames = k->fl.frames;
	r->nframes = k->fl.nframes;
	r->tables = k->fl.tables;
	r->ntables = k->fl.ntables;
	k->fl.frames = NULL;
	k->fl.tables = NULL;
	k->fl.nframes = k->fl.ntables = k->fl.cap = k->fl.tcap = 0;
	atomic_store(&r->pending, n);
	for (uint32_t i = 0; i < l->ncores; i++) {
		if (i == c->id || !(targets[i / 64] >> (i % 64) & 1))
			continue;
		struct latr_q *q = &l->q[i];
		coh_atomic(c, &q->line); /* post to the target's LATR state */
		pthread_mutex_lock(&q->mu);
		if (q->n == q->cap)
			q->r = xrealloc(q->r, sizeof(*q->r) * (q->cap = q->cap ? q->cap * 2 : 8));
		q->r[q->n++] = r;
		pthread_mutex_unlock(&q->mu);
	}
	atomic_fetch_add(&l->deferred, 1);
	sim_note(c, "lazy (LATR) flush: no IPIs; %u other core%s will flush at their next tick, and the frames and "
		    "tables wait until then",
		 n, n == 1 ? "" : "s");
	return true;
}

void cm_latr_tick(struct vm_sys *sys, struct mmu_cpu *cpu)
{
	struct latr *l = latr_of(sys);
	if (!l)
		return;
	struct sim_core *c = cpu->core;
	struct latr_q *q = &l->q[c->id];
	pthread_mutex_lock(&q->mu);
	uint32_t n = q->n;
	if (!n) {
		pthread_mutex_unlock(&q->mu);
		return;
	}
	struct latr_rec **rs = xmalloc(sizeof(*rs) * n);
	memcpy(rs, q->r, sizeof(*rs) * n);
	q->n = 0;
	pthread_mutex_unlock(&q->mu);
	coh_read(c, &q->line);
	sim_note(c, "tick: %u lazy flush%s queued for this core", n, n == 1 ? "" : "es");
	for (uint32_t i = 0; i < n; i++) {
		mmu_flush_local(cpu, &rs[i]->fl);
		atomic_fetch_add(&l->processed, 1);
		if (atomic_fetch_sub(&rs[i]->pending, 1) == 1) {
			sim_note(c, "  the last core to flush: %u frame reference%s and %u table%s released", rs[i]->nframes,
				 rs[i]->nframes == 1 ? "" : "s", rs[i]->ntables, rs[i]->ntables == 1 ? "" : "s");
			complete(sys, c, rs[i]);
		}
	}
	xfree(rs);
}

/* Teardown of an address space: finish every record of it still queued (host, no charges). */
void cm_latr_drain(struct vm_sys *sys, struct vm_as *as)
{
	struct latr *l = latr_of(sys);
	if (!l)
		return;
	for (uint32_t i = 0; i < l->ncores; i++) {
		struct latr_q *q = &l->q[i];
		pthread_mutex_lock(&q->mu);
		uint32_t keep = 0;
		for (uint32_t j = 0; j < q->n; j++) {
			struct latr_rec *r = q->r[j];
			if (r->as != as) {
				q->r[keep++] = r;
				continue;
			}
			if (atomic_fetch_sub(&r->pending, 1) == 1)
				complete(sys, NULL, r);
		}
		q->n = keep;
		pthread_mutex_unlock(&q->mu);
	}
}

uint64_t cm_latr_deferred(struct vm_sys *sys)
{
	struct latr *l = latr_of(sys);
	return l ? atomic_load(&l->deferred) : 0;
}
