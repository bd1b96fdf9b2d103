/* sched.c: the deterministic scheduler (cores as user-level contexts on one host thread), the parallel mode's core threads and barrier, blocking and interrupts. */
#include "sim/rcu.h"
#include "sim/sim.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

_Thread_local struct sim_core *sim_cur;


/* ---- parking: spin, then futex ---- */

#define PARK_SPINS 256

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, NULL, NULL, 0);
}

void park_post(struct park *p)
{
	uint32_t old = atomic_exchange_explicit(&p->v, 1, memory_order_release);
	if (old == 2)
		futex(&p->v, FUTEX_WAKE_PRIVATE, 1);
	else if (unlikely(old == 1))
		panic("park_post: posted twice");
}

void park_wait(struct park *p)
{
	for (int i = 0; i < PARK_SPINS; i++) {
		uint32_t one = 1;
		if (atomic_compare_exchange_weak_explicit(&p->v, &one, 0, memory_order_acquire, memory_order_relaxed))
			return;
		__builtin_ia32_pause();
	}
	for (;;) {
		uint32_t one = 1, zero = 0;
		if (atomic_compare_exchange_strong_explicit(&p->v, &one, 0, memory_order_acquire, memory_order_relaxed))
			return;
		if (one == 0 && !atomic_compare_exchange_strong_explicit(&p->v, &zero, 2, memory_order_relaxed,
									memory_order_relaxed))
			continue;
		futex(&p->v, FUTEX_WAIT_PRIVATE, 2);
	}
}

static void mask_set(uint64_t *m, uint32_t i) { m[i / 64] |= 1ull << (i % 64); }

static _Noreturn void det_core_main(void *p);

struct sim *sim_create(const struct sim_opts *o)
{
	const struct machine *m = o->m;
	if (o->ncores < 1 || o->ncores > SIM_MAX_CORES)
		panic("sim_create: %u cores (1..%u)", o->ncores, SIM_MAX_CORES);
	if (o->ncores > machine_max_cores(m))
		panic("sim_create: %u cores on a %u-core machine", o->ncores, machine_max_cores(m));
	struct sim *s = xzalloc(sizeof(*s));
	s->o = *o;
	if (!s->o.quantum)
		s->o.quantum = m->coh_xfer_ccx ? m->coh_xfer_ccx : 1;
	s->m = m;
	s->cores = xaligned_zalloc(CACHELINE, sizeof(struct sim_core) * o->ncores);
	runq_init(&s->rq, o->ncores);
	uint32_t per_socket = m->cores_per_ccx * m->ccx_per_socket;
	for (uint32_t i = 0; i < o->ncores; i++) {
		struct sim_core *c = &s->cores[i];
		c->id = i;
		c->sim = s;
		c->ccx = i / m->cores_per_ccx;
		c->socket = i / per_socket;
		atomic_store(&c->wake.v, 0);
		pthread_mutex_init(&c->irq_mu, NULL);
		atomic_flag_clear(&c->mbox_lock);
		cache_init(&c->cache, m);
	}
	for (uint32_t i = 0; i < o->ncores; i++)
		for (uint32_t j = 0; j < o->ncores; j++) {
			if (s->cores[i].ccx == s->cores[j].ccx)
				mask_set(s->cores[i].ccx_mask, j);
			if (s->cores[i].socket == s->cores[j].socket)
				mask_set(s->cores[i].socket_mask, j);
		}
	pthread_mutex_init(&s->bar_mu, NULL);
	pthread_cond_init(&s->bar_cv, NULL);
	s->rcu = sim_rcu_create(s);
	/* SIM_DET: each core's context and stack are part of the machine, made once, as its TLBs are (sim_run reuses them). */
	for (uint32_t i = 0; i < o->ncores && o->mode == SIM_DET; i++)
		ctx_init(&s->cores[i].ctx, det_core_main, &s->cores[i]);
	return s;
}

void sim_destroy(struct sim *s)
{
	if (!s)
		return;
	sim_rcu_destroy(s);
	for (uint32_t i = 0; i < s->o.ncores; i++) {
		pthread_mutex_destroy(&s->cores[i].irq_mu);
		ctx_free(&s->cores[i].ctx);
		cache_fini(&s->cores[i].cache);
	}
	pthread_mutex_destroy(&s->bar_mu);
	pthread_cond_destroy(&s->bar_cv);
	runq_free(&s->rq);
	xfree(s->cores);
	xfree(s);
}

void sim_set_hooks(struct sim *s, const struct sim_hooks *h) { s->hooks = *h; }

/*
 * ---- SIM_DET: the runnable cores other than the running one, by sim_key (sim/runq.h) ----
 * A core's clock does not change while it is queued, except through
 * sim_charge_irq, which raises its key in place; runq_fix repairs the tree
 * before it is next read. Keys are unique, so the order in which cores leave
 * the queue does not depend on its layout.
 */

static inline uint64_t queue_key(struct sim_core *c)
{
	if (unlikely(c->clock >= SIM_CLOCK_MAX))
		panic("core %u clock overflow", c->id);
	return sim_key(c);
}

static void rq_push(struct sim *s, struct sim_core *c)
{
	runq_fix(&s->rq);
	ASSERT(!runq_queued(&s->rq, c->id));
	runq_push(&s->rq, c->id, queue_key(c));
}

/* rq_pop: take the smallest core out of the queue, NULL if it is empty. */
static struct sim_core *rq_pop(struct sim *s)
{
	runq_fix(&s->rq);
	if (runq_top(&s->rq) == RUNQ_EMPTY)
		return NULL;
	return &s->cores[runq_pop(&s->rq)];
}

/* set_horizon: the key up to which the running core runs on (the tree is current). */
static inline void set_horizon(struct sim *s)
{
	uint64_t top = runq_top(&s->rq);
	s->horizon = top != RUNQ_EMPTY ? top + (s->o.lookahead << SIM_CORE_BITS) : UINT64_MAX;
	s->horizon_clock = s->horizon >> SIM_CORE_BITS;
}

/* c runs again (or for the first time): first the work others left for it. */
static inline void det_resumed(struct sim_core *c)
{
	if (unlikely(c->resume_due)) {
		c->resume_due = false;
		c->sim->on_resume(c);
	}
}

/* Switch from c to `to` (already out of the queue; the tree current); returns when a core switches back to c. */
static inline void det_switch(struct sim_core *c, struct sim_core *to)
{
	struct sim *s = c->sim;
	set_horizon(s);
	c->st.handoffs++;
	sim_cur = to;
	ctx_switch(&c->ctx, &to->ctx);
	det_resumed(c);
}

void sim_det_yield(struct sim_core *c)
{
	struct sim *s = c->sim;
	uint64_t key = sim_key(c);
	if (key <= s->horizon) /* the same clock as the horizon's, a smaller key */
		return;
	runq_fix(&s->rq);
	if (key < runq_top(&s->rq)) { /* still the smallest, or alone (the horizon was not current) */
		set_horizon(s);
		return;
	}
	det_switch(c, &s->cores[runq_replace_top(&s->rq, c->id, queue_key(c))]);
}

static _Noreturn void det_deadlock(struct sim *s)
{
	fprintf(stderr, "mmsim: simulated deadlock: %u core(s) blocked, none runnable\n", s->nblocked);
	for (uint32_t i = 0; i < s->o.ncores; i++)
		if (s->cores[i].blocked)
			fprintf(stderr, "  core %u blocked at cycle %llu\n", i,
				(unsigned long long)s->cores[i].clock);
	panic("deadlock");
}

/* ---- SIM_PAR: lax barrier over epochs of `quantum` cycles. ---- */

/* Open the next epoch. Caller holds bar_mu and every participant has arrived. */
static void bar_advance(struct sim *s)
{
	cycles_t base = s->min_arrived == UINT64_MAX ? atomic_load(&s->epoch_end) : s->min_arrived;
	atomic_store_explicit(&s->epoch_end, base + s->o.quantum, memory_order_release);
	s->arrived = 0;
	s->min_arrived = UINT64_MAX;
	s->generation++;
	pthread_cond_broadcast(&s->bar_cv);
}

void sim_par_barrier(struct sim_core *c)
{
	struct sim *s = c->sim;
	pthread_mutex_unlock(&c->irq_mu);
	pthread_mutex_lock(&s->bar_mu);
	while (c->clock >= atomic_load(&s->epoch_end)) {
		c->st.barriers++;
		s->arrived++;
		if (c->clock < s->min_arrived)
			s->min_arrived = c->clock;
		if (s->arrived >= s->participants) {
			bar_advance(s);
		} else {
			uint64_t g = s->generation;
			while (g == s->generation)
				pthread_cond_wait(&s->bar_cv, &s->bar_mu);
		}
	}
	pthread_mutex_unlock(&s->bar_mu);
	pthread_mutex_lock(&c->irq_mu);
	c->clock += atomic_exchange(&c->stolen, 0);
}

/* Leave the barrier before a host wait, so waiting cores never hold up the epoch. */
static void bar_leave(struct sim *s)
{
	pthread_mutex_lock(&s->bar_mu);
	s->participants--;
	if (s->participants && s->arrived >= s->participants)
		bar_advance(s);
	pthread_mutex_unlock(&s->bar_mu);
}

static void bar_join(struct sim *s)
{
	pthread_mutex_lock(&s->bar_mu);
	s->participants++;
	pthread_mutex_unlock(&s->bar_mu);
}

/* ---- blocking ---- */

void sim_block(struct sim_core *c)
{
	struct sim *s = c->sim;
	if (s->o.mode == SIM_DET) {
		c->blocked = true;
		s->nblocked++;
		struct sim_core *next = rq_pop(s);
		if (!next)
			det_deadlock(s);
		det_switch(c, next);
		return;
	}
	bar_leave(s);
	pthread_mutex_unlock(&c->irq_mu);
	park_wait(&c->wake);
	pthread_mutex_lock(&c->irq_mu);
	c->clock += atomic_exchange(&c->stolen, 0);
	if (c->clock < c->wake_at)
		c->clock = c->wake_at;
	bar_join(s);
	sim_sync(c);
}

void sim_wake(struct sim_core *waker, struct sim_core *w, cycles_t at)
{
	struct sim *s = w->sim;
	(void)waker;
	w->wake_at = at;
	if (s->o.mode == SIM_DET) {
		ASSERT(w->blocked);
		w->blocked = false;
		s->nblocked--;
		if (w->clock < at)
			w->clock = at;
		rq_push(s, w);
		set_horizon(s);
		return;
	}
	/* SIM_PAR: the waiter folds wake_at into its clock when it resumes. */
	park_post(&w->wake);
}

/* ---- interrupts ---- */

static void mbox_lock(struct sim_core *t)
{
	while (atomic_flag_test_and_set_explicit(&t->mbox_lock, memory_order_acquire))
		sched_yield();
}

static void mbox_unlock(struct sim_core *t)
{
	atomic_flag_clear_explicit(&t->mbox_lock, memory_order_release);
}

/* Run every queued request of t. Caller is t, or holds t->irq_mu. */
static void drain(struct sim_core *t)
{
	mbox_lock(t);
	struct irq_req *r = t->mbox;
	t->mbox = NULL;
	atomic_store_explicit(&t->irq_pending, 0, memory_order_relaxed);
	mbox_unlock(t);
	/* The list is newest-first; run oldest-first. */
	struct irq_req *rev = NULL;
	while (r) {
		struct irq_req *n = r->next;
		r->next = rev;
		rev = r;
		r = n;
	}
	while (rev) {
		struct irq_req *n = rev->next;
		t->st.irqs_taken++;
		rev->fn(t, rev->arg);
		atomic_store_explicit(&rev->done, 1, memory_order_release);
		rev = n;
	}
}

void sim_irq_drain(struct sim_core *c) { drain(c); }

void sim_irq_send(struct sim_core *from, struct sim_core *t, struct irq_req *r)
{
	from->st.irqs_sent++;
	r->target = t;
	atomic_store_explicit(&r->done, 0, memory_order_relaxed);
	if (from->sim->o.mode == SIM_DET || t == from) {
		t->st.irqs_taken++;
		r->fn(t, r->arg);
		atomic_store_explicit(&r->done, 1, memory_order_relaxed);
		return;
	}
	mbox_lock(t);
	r->next = t->mbox;
	t->mbox = r;
	atomic_store_explicit(&t->irq_pending, 1, memory_order_release);
	mbox_unlock(t);
}

void sim_irq_wait(struct sim_core *from, struct irq_req *rs, uint32_t n)
{
	if (from->sim->o.mode == SIM_DET)
		return;
	bool all;
	bool released = false;
	for (;;) {
		all = true;
		for (uint32_t i = 0; i < n; i++) {
			if (atomic_load_explicit(&rs[i].done, memory_order_acquire))
				continue;
			all = false;
		}
		if (all)
			break;
		if (!released) {
			/* Let others run our own pending requests while we wait. */
			pthread_mutex_unlock(&from->irq_mu);
			released = true;
		}
		/* Run the requests of targets that are not running, on their behalf. */
		for (uint32_t i = 0; i < n; i++) {
			struct sim_core *t = rs[i].target;
			if (atomic_load_explicit(&rs[i].done, memory_order_acquire) ||
			    !atomic_load_explicit(&t->irq_pending, memory_order_acquire))
				continue;
			if (pthread_mutex_trylock(&t->irq_mu) == 0) {
				drain(t);
				pthread_mutex_unlock(&t->irq_mu);
			}
		}
		sched_yield();
	}
	if (released) {
		pthread_mutex_lock(&from->irq_mu);
		from->clock += atomic_exchange(&from->stolen, 0);
	}
	sim_irq_poll(from);
}

void sim_charge_irq(struct sim_core *t, cycles_t n)
{
	t->st.irq_cycles += n;
	if (t->sim->o.mode == SIM_PAR) {
		if (t == sim_cur)
			t->clock += n;
		else
			atomic_fetch_add(&t->stolen, n);
		return;
	}
	t->clock += n;
	/* Its key grows in place; runq_fix repairs the order before the queue is read (the horizon may be low till then: a sync point then looks again). */
	if (runq_queued(&t->sim->rq, t->id))
		runq_raise(&t->sim->rq, t->id, queue_key(t));
}

/* ---- SIM_DET: every core a context on the caller's thread ---- */

/* A core's context: the hooks and the body; then the next core runs, or sim_run's caller when none is left. */
static _Noreturn void det_core_main(void *p)
{
	struct sim_core *c = p;
	struct sim *s = c->sim;
	det_resumed(c);
	if (s->hooks.core_start)
		s->hooks.core_start(c);
	s->body(c, s->body_arg);
	c->done = true;
	sim_rcu_core_done(c);
	if (s->hooks.core_stop)
		s->hooks.core_stop(c);
	struct sim_core *next = rq_pop(s);
	if (next) {
		set_horizon(s);
		c->st.handoffs++;
		sim_cur = next;
		ctx_exit_to(&c->ctx, &next->ctx);
	}
	if (s->nblocked)
		det_deadlock(s);
	sim_cur = NULL;
	ctx_exit_to(&c->ctx, &s->main_ctx);
}

/* Run every core as a context of this thread, the smallest key first, until all have finished. */
static void det_run(struct sim *s)
{
	for (uint32_t i = 0; i < s->o.ncores; i++) {
		struct sim_core *c = &s->cores[i];
		if (c->ctx.stack)
			ctx_reset(&c->ctx);
		else
			ctx_init(&c->ctx, det_core_main, c);
		rq_push(s, c);
	}
	struct sim_core *outer = sim_cur, *first = rq_pop(s);
	set_horizon(s);
	ctx_main(&s->main_ctx);
	sim_cur = first;
	ctx_switch(&s->main_ctx, &first->ctx);
	sim_cur = outer;
	for (uint32_t i = 0; i < s->o.ncores; i++) /* what finished cores were left, so the run's state is whole */
		det_resumed(&s->cores[i]);
}

/* ---- SIM_PAR: a pthread per core ---- */

static void *par_core_main(void *p)
{
	struct sim_core *c = p;
	struct sim *s = c->sim;
	sim_cur = c;
	pthread_mutex_lock(&c->irq_mu);
	sim_rcu_thread_online();
	if (s->hooks.core_start)
		s->hooks.core_start(c);
	s->body(c, s->body_arg);
	c->done = true;
	pthread_mutex_lock(&s->bar_mu);
	s->participants--;
	s->nalive--;
	if (s->participants && s->arrived >= s->participants)
		bar_advance(s);
	pthread_mutex_unlock(&s->bar_mu);
	if (s->hooks.core_stop)
		s->hooks.core_stop(c);
	sim_rcu_thread_offline();
	pthread_mutex_unlock(&c->irq_mu);
	sim_cur = NULL;
	return NULL;
}

static void par_run(struct sim *s)
{
	s->participants = s->nalive = s->o.ncores;
	s->arrived = 0;
	s->min_arrived = UINT64_MAX;
	cycles_t min = UINT64_MAX;
	for (uint32_t i = 0; i < s->o.ncores; i++)
		min = MIN(min, s->cores[i].clock);
	atomic_store(&s->epoch_end, min + s->o.quantum);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CTX_STACK);
	for (uint32_t i = 0; i < s->o.ncores; i++)
		if (pthread_create(&s->cores[i].thread, &attr, par_core_main, &s->cores[i]))
			panic("cannot create thread for core %u", i);
	pthread_attr_destroy(&attr);
	for (uint32_t i = 0; i < s->o.ncores; i++)
		pthread_join(s->cores[i].thread, NULL);
}

void sim_run(struct sim *s, void (*body)(struct sim_core *, void *), void *arg)
{
	double t0 = util_clock_sec(CLOCK_MONOTONIC), cpu0 = util_clock_sec(CLOCK_PROCESS_CPUTIME_ID);
	s->body = body;
	s->body_arg = arg;
	runq_clear(&s->rq);
	s->nblocked = 0;
	for (uint32_t i = 0; i < s->o.ncores; i++)
		s->cores[i].done = s->cores[i].blocked = false;
	sim_rcu_run_begin(s);
	if (s->o.mode == SIM_DET)
		det_run(s);
	else
		par_run(s);
	s->host_seconds += util_clock_sec(CLOCK_MONOTONIC) - t0;
	s->host_cpu_seconds += util_clock_sec(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
}

cycles_t sim_makespan(const struct sim *s)
{
	cycles_t m = 0;
	for (uint32_t i = 0; i < s->o.ncores; i++)
		m = MAX(m, s->cores[i].clock);
	return m;
}

void sim_stats_sum(const struct sim *s, struct sim_core_stats *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t *o = (uint64_t *)out;
	for (uint32_t i = 0; i < s->o.ncores; i++) {
		const uint64_t *c = (const uint64_t *)&s->cores[i].st;
		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			o[k] += c[k];
	}
}
