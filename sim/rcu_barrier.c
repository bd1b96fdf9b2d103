/* rcu_barrier.c: sim_rcu_barrier: in parallel runs liburcu's; in deterministic runs every pending callback run at once, or, while other cores are inside read-side sections, after the core has blocked in simulated time until they left them. */
#include "sim/rcu_int.h"

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
		rcu_q_init(qs[k]);
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
		d->st.callbacks += rcu_q_run(&w->cbs);
	}
}

/* SIM_DET barrier on core c while other cores are inside read-side sections: block until they have left them, then run what was pending. */
static void barrier_wait(struct sim_core *c)
{
	struct sim *s = c->sim;
	struct sim_rcu *d = s->rcu;
	struct waiter w = { .c = c, .owed = xzalloc(sizeof(bool) * s->o.ncores) };
	rcu_q_init(&w.cbs);
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
	rcu_flush_loose();
	if (!c) {
		if (atomic_load_explicit(&rcu_liburcu_used, memory_order_relaxed))
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
	rcu_flush(s->rcu);
}

