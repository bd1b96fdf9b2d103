/* rcu.c: simulated RCU for deterministic runs (quiescent states at event boundaries, grace periods in schedule order) and the liburcu wrappers for parallel runs. */
#include "sim/rcu_int.h"

#include <stdio.h>

#ifdef MMSIM_TSAN
char sim_rcu_token;
#endif

/* Callbacks deferred by this thread outside any core (set-up, teardown): nothing reads, they run at its next barrier or run. */
static _Thread_local struct cbq loose;

_Atomic bool rcu_liburcu_used;

void rcu_q_init(struct cbq *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
}

static void q_push(struct cbq *q, struct sim_rcu_head *h)
{
	if (!q->tail)
		rcu_q_init(q);
	h->next = NULL;
	*q->tail = h;
	q->tail = &h->next;
	q->n++;
}

/* Take every callback out of q (leaving it empty) and run them in the order they were deferred. */
uint64_t rcu_q_run(struct cbq *q)
{
	struct sim_rcu_head *h = q->head;
	uint64_t n = q->n;
	rcu_q_init(q);
	while (h) {
		struct sim_rcu_head *nx = h->next;
		h->fn(h);
		h = nx;
	}
	return n;
}

struct sim_rcu *sim_rcu_create(struct sim *s)
{
	struct sim_rcu *d = xzalloc(sizeof(*d));
	d->s = s;
	rcu_q_init(&d->wait);
	rcu_q_init(&d->next);
	for (uint32_t i = 0; i < s->o.ncores; i++)
		s->cores[i].rcu_idle = true;
	return d;
}

/* Start a grace period for the callbacks in `next`: every busy core owes a report from now on. */
static void gp_start(struct sim_rcu *d)
{
	d->wait = d->next;
	if (!d->wait.head)
		d->wait.tail = &d->wait.head;
	rcu_q_init(&d->next);
	d->s->rcu_gp++;
	d->active = true;
	d->need = d->busy;
}

/* Run the callbacks of every grace period that has ended, starting the next one while callbacks wait for it. */
static void gp_advance(struct sim_rcu *d)
{
	while (d->active && d->need == 0) {
		struct cbq done = d->wait;
		rcu_q_init(&d->wait);
		d->active = false;
		d->st.grace_periods++;
		d->st.callbacks += rcu_q_run(&done); /* a callback may defer more: they join `next` */
		if (!d->active && d->next.head)
			gp_start(d);
	}
}

/* Run every pending callback now, grace period or not (barriers, and the end of the sim). */
void rcu_flush(struct sim_rcu *d)
{
	while (d->wait.head || d->next.head) {
		d->st.callbacks += rcu_q_run(&d->wait);
		d->st.callbacks += rcu_q_run(&d->next);
	}
	if (d->active) {
		d->active = false;
		d->need = 0;
		d->st.grace_periods++;
	}
}

void rcu_flush_loose(void)
{
	while (loose.head)
		rcu_q_run(&loose);
}

void sim_rcu_destroy(struct sim *s)
{
	if (!s->rcu)
		return;
	rcu_flush(s->rcu);
	xfree(s->rcu);
	s->rcu = NULL;
}

void sim_rcu_run_begin(struct sim *s)
{
	rcu_flush_loose();
	if (s->o.mode != SIM_DET)
		return;
	ASSERT(!s->rcu->active && !s->rcu->next.head); /* the last core of the previous run ran them all */
	struct sim_rcu *d = s->rcu;
	for (uint32_t i = 0; i < s->o.ncores; i++) {
		struct sim_core *c = &s->cores[i];
		c->rcu_idle = false;
		c->rcu_nest = 0;
		c->rcu_owed = 0;
		c->rcu_qs = s->rcu_gp; /* owes nothing to a grace period that began before it was busy */
	}
	d->busy = s->o.ncores;
}

_Noreturn void sim_rcu_unbalanced(struct sim_core *c)
{
	panic("core %u: sim_rcu_read_unlock without a read-side section", c->id);
}

/* Busy core c is quiescent (`where` names the point for the panic): it reports to the grace period it owes one. */
static void quiescent(struct sim_core *c, const char *where)
{
	struct sim *s = c->sim;
	struct sim_rcu *d = s->rcu;
	if (unlikely(c->rcu_nest))
		panic("core %u: %s inside an RCU read-side section (depth %u)", c->id, where, c->rcu_nest);
	bool owes = c->rcu_qs != s->rcu_gp;
	c->rcu_qs = s->rcu_gp;
	if (owes && d->active) {
		ASSERT(d->need > 0);
		d->need--;
		gp_advance(d);
	}
}

void sim_rcu_report(struct sim_core *c)
{
	if (sim_rcu_simulated(c) && !c->rcu_idle)
		quiescent(c, "an event boundary");
}

void sim_rcu_idle(struct sim_core *c, bool idle)
{
	struct sim *s = c->sim;
	struct sim_rcu *d = s->rcu;
	if (!sim_rcu_simulated(c) || c->rcu_idle == idle)
		return;
	if (!idle) {
		c->rcu_idle = false;
		c->rcu_qs = s->rcu_gp; /* owes nothing to a grace period that began while it was idle */
		d->busy++;
		return;
	}
	/* Out of the busy count first: a grace period that starts in the callbacks run below must not wait for c. */
	d->busy--;
	c->rcu_idle = true;
	bool owes = c->rcu_qs != s->rcu_gp;
	c->rcu_qs = s->rcu_gp;
	if (unlikely(c->rcu_nest))
		panic("core %u: idle or finished inside an RCU read-side section (depth %u)", c->id, c->rcu_nest);
	if (owes && d->active) {
		ASSERT(d->need > 0);
		d->need--;
	}
	gp_advance(d);
}

void sim_rcu_core_done(struct sim_core *c) { sim_rcu_idle(c, true); }

/* liburcu's callback: tell ThreadSanitizer about the grace period, then run the design's. */
static void trampoline(struct rcu_head *h)
{
	struct sim_rcu_head *s = caa_container_of(h, struct sim_rcu_head, h);
	SIM_RCU_ACQUIRE();
	s->fn(s);
}

void sim_rcu_defer_on(struct sim_core *c, struct sim_rcu_head *h, void (*fn)(struct sim_rcu_head *))
{
	h->fn = fn;
	if (!c) {
		q_push(&loose, h);
		return;
	}
	if (c->sim->o.mode == SIM_PAR) {
		atomic_store_explicit(&rcu_liburcu_used, true, memory_order_relaxed);
		SIM_RCU_RELEASE();
		urcu_memb_call_rcu(&h->h, trampoline);
		return;
	}
	struct sim_rcu *d = c->sim->rcu;
	q_push(&d->next, h);
	uint64_t pending = d->wait.n + d->next.n;
	if (pending > d->st.max_pending)
		d->st.max_pending = pending;
	if (!d->active)
		gp_start(d);
}

void sim_rcu_stats(const struct sim *s, struct sim_rcu_stats *out) { *out = s->rcu->st; }

void sim_rcu_thread_online(void) { urcu_memb_register_thread(); }

void sim_rcu_thread_offline(void) { urcu_memb_unregister_thread(); }
