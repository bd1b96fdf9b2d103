/* rcu.c: simulated RCU for deterministic runs (quiescent states at event boundaries, grace periods in schedule order) and the liburcu wrappers for parallel runs. */
#include "sim/rcu.h"

#include <stdio.h>

#ifdef MMSIM_TSAN
char sim_rcu_token;
#endif

/* A FIFO of callbacks, linked through sim_rcu_head.next. */
struct cbq {
	struct sim_rcu_head *head, **tail;
	uint64_t n;
};

/*
 * struct sim_rcu: the simulated RCU of one sim (used in SIM_DET).
 * Invariants: `active` means grace period s->rcu_gp is in progress and
 * `wait` holds its callbacks; `need` counts the cores that were busy when it
 * began and have not reported since (each busy core with rcu_qs != rcu_gp
 * owes one report); `next` holds callbacks deferred since it began, which
 * wait for the following grace period. Without a grace period in progress,
 * `wait` is empty. Only the running core (or sim_run's caller between runs)
 * touches it.
 */
struct sim_rcu {
	struct sim *s;
	bool active;
	uint32_t need;	  /* reports the grace period in progress still waits for */
	uint32_t busy;	  /* cores neither idle nor finished */
	struct cbq wait;  /* callbacks of the grace period in progress */
	struct cbq next;  /* callbacks for the grace period after it */
	struct waiter *waiting; /* barriers blocked until readers leave their sections */
	struct waiter *woken;	/* barriers whose readers have left, not yet run: oldest first */
	struct sim_rcu_stats st;
};

/*
 * struct waiter: a barrier blocked in sim_rcu_barrier (on its core's stack).
 * Invariant: on `waiting`, `readers` counts the cores with owed[id] set,
 * each inside the read-side section it was in when the barrier began (and
 * each counts this waiter in its rcu_owed); then on `woken` until a barrier
 * runs its callbacks. `cbs` holds the callbacks deferred before it began.
 */
struct waiter {
	struct sim_core *c;
	struct cbq cbs;
	uint32_t readers;
	bool *owed; /* by core id */
	struct waiter *next;
};

/* Callbacks deferred by this thread outside any core (set-up, teardown): nothing reads, they run at its next barrier or run. */
static _Thread_local struct cbq loose;

/* Whether any SIM_PAR core has queued a callback with liburcu (then a barrier waits for liburcu's). */
static _Atomic bool liburcu_used;

static void q_init(struct cbq *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
}

static void q_push(struct cbq *q, struct sim_rcu_head *h)
{
	if (!q->tail)
		q_init(q);
	h->next = NULL;
	*q->tail = h;
	q->tail = &h->next;
	q->n++;
}

/* Take every callback out of q (leaving it empty) and run them in the order they were deferred. */
static uint64_t q_run(struct cbq *q)
{
	struct sim_rcu_head *h = q->head;
	uint64_t n = q->n;
	q_init(q);
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
	q_init(&d->wait);
	q_init(&d->next);
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
	q_init(&d->next);
	d->s->rcu_gp++;
	d->active = true;
	d->need = d->busy;
}

/* Run the callbacks of every grace period that has ended, starting the next one while callbacks wait for it. */
static void gp_advance(struct sim_rcu *d)
{
	while (d->active && d->need == 0) {
		struct cbq done = d->wait;
		q_init(&d->wait);
		d->active = false;
		d->st.grace_periods++;
		d->st.callbacks += q_run(&done); /* a callback may defer more: they join `next` */
		if (!d->active && d->next.head)
			gp_start(d);
	}
}

/* Run every pending callback now, grace period or not (barriers, and the end of the sim). */
static void flush(struct sim_rcu *d)
{
	while (d->wait.head || d->next.head) {
		d->st.callbacks += q_run(&d->wait);
		d->st.callbacks += q_run(&d->next);
	}
	if (d->active) {
		d->active = false;
		d->need = 0;
		d->st.grace_periods++;
	}
}

static void flush_loose(void)
{
	while (loose.head)
		q_run(&loose);
}

void sim_rcu_destroy(struct sim *s)
{
	if (!s->rcu)
		return;
	flush(s->rcu);
	xfree(s->rcu);
	s->rcu = NULL;
}

void sim_rcu_run_begin(struct sim *s)
{
	flush_loose();
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
		atomic_store_explicit(&liburcu_used, true, memory_order_relaxed);
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

/* Move every pending callback to the end of out, in the order they were deferred, and end the grace period in progress. */
static void take_pending(struct sim_rcu *d, struct cbq *out)
{
	struct cbq *qs[2] = { &d->wait, &d->next };
	for (int k = 0; k < 2; k++) {
		if (!qs[k]->head)
			continue;
		*out->tail = qs[k]->head;
		out->tail = qs[k]->tail;
		out->n += qs[k]->n;
		q_init(qs[k]);
	}
	if (d->active) {
		d->active = false;
		d->need = 0;
		d->st.grace_periods++;
	}
}

/*
 * Run the callbacks of every barrier whose readers have left (oldest first)
 * and empty `woken`: a barrier that returns has run them too, since they were
 * deferred before it.
 */
static void run_woken(struct sim_rcu *d)
{
	while (d->woken) {
		struct waiter *w = d->woken;
		d->woken = w->next;
		d->st.callbacks += q_run(&w->cbs);
	}
}

/* SIM_DET barrier on core c while other cores are inside read-side sections: block until they have left them, then run what was pending. */
static void barrier_wait(struct sim_core *c)
{
	struct sim *s = c->sim;
	struct sim_rcu *d = s->rcu;
	struct waiter w = { .c = c, .owed = xzalloc(sizeof(bool) * s->o.ncores) };
	q_init(&w.cbs);
	for (uint32_t i = 0; i < s->o.ncores; i++)
		if (s->cores[i].rcu_nest) {
			w.owed[i] = true;
			w.readers++;
			s->cores[i].rcu_owed++;
		}
	take_pending(d, &w.cbs);
	w.next = d->waiting;
	d->waiting = &w;
	d->st.barrier_waits++;
	sim_block(c); /* the last reader to leave wakes c at its clock (sim_rcu_reader_left) */
	ASSERT(!w.readers);
	xfree(w.owed);
	run_woken(d); /* w's callbacks, unless a barrier ran them since; what they defer waits for a grace period */
}

void sim_rcu_reader_left(struct sim_core *c)
{
	struct sim_rcu *d = c->sim->rcu;
	for (struct waiter **pw = &d->waiting; *pw;) {
		struct waiter *w = *pw;
		if (w->owed[c->id]) {
			w->owed[c->id] = false;
			if (!--w->readers) {
				*pw = w->next;
				struct waiter **tail = &d->woken;
				while (*tail)
					tail = &(*tail)->next;
				w->next = NULL;
				*tail = w;
				sim_wake(c, w->c, c->clock);
				continue;
			}
		}
		pw = &w->next;
	}
	c->rcu_owed = 0;
}

void sim_rcu_barrier_on(struct sim_core *c)
{
	flush_loose();
	if (!c) {
		if (atomic_load_explicit(&liburcu_used, memory_order_relaxed))
			urcu_memb_barrier();
		SIM_RCU_ACQUIRE();
		return;
	}
	if (c->sim->o.mode == SIM_PAR) {
		urcu_memb_barrier();
		SIM_RCU_ACQUIRE();
		return;
	}
	struct sim *s = c->sim;
	if (c->rcu_nest)
		panic("core %u: sim_rcu_barrier inside a read-side section", c->id);
	for (uint32_t i = 0; i < s->o.ncores; i++)
		if (s->cores[i].rcu_nest) {
			barrier_wait(c);
			return;
		}
	run_woken(s->rcu);
	flush(s->rcu);
}

void sim_rcu_stats(const struct sim *s, struct sim_rcu_stats *out) { *out = s->rcu->st; }

void sim_rcu_thread_online(void) { urcu_memb_register_thread(); }

void sim_rcu_thread_offline(void) { urcu_memb_unregister_thread(); }
