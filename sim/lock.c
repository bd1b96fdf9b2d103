/* lock.c: simulated spinlock, MCS lock and rwsem: host mutual exclusion plus timing from the coherence model. */
#include "sim/lock.h"
#include "sim/watch.h"

enum { W_READ = 1, W_WRITE = 2 };

/* A waiting core. Lives on the waiter's stack until it is granted. */
struct lk_waiter {
	struct sim_core *c;
	struct lk_waiter *next;
	int mode;
	bool spin;	      /* spins (true) or sleeps while waiting */
	struct coh_line node; /* MCS: the waiter's own node line */
};

static inline void q_lock(struct sim_core *c, struct lk_queue *q)
{
	if (c->sim->o.mode != SIM_PAR)
		return;
	while (atomic_exchange_explicit(&q->hl, 1, memory_order_acquire))
		while (atomic_load_explicit(&q->hl, memory_order_relaxed))
			__builtin_ia32_pause();
}

static inline void q_unlock(struct sim_core *c, struct lk_queue *q)
{
	if (c->sim->o.mode == SIM_PAR)
		atomic_store_explicit(&q->hl, 0, memory_order_release);
}

static void q_push(struct lk_queue *q, struct lk_waiter *w)
{
	w->next = NULL;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
}

static struct lk_waiter *q_pop(struct lk_queue *q)
{
	struct lk_waiter *w = q->head;
	if (w) {
		q->head = w->next;
		if (!q->head)
			q->tail = NULL;
	}
	return w;
}

/* Block c until granted. Called with the queue unlocked. */
static void wait_granted(struct sim_core *c)
{
	c->st.lock_contended++;
	sim_block(c);
}

/* Account the cycles since t0 as spin or sleep. */
static void account(struct sim_core *c, const struct lk_waiter *w, cycles_t t0)
{
	if (w->spin)
		c->st.spin += c->clock - t0;
	else
		c->st.sleep += c->clock - t0;
	sim_watch_wait(c, w->spin, t0);
}

/*
 * try_own: an exclusive trylock (spinlock, rwsem for writing): an atomic on
 * the lock's line, then under its queue c takes *owner if neither it nor
 * *readers (NULL: the lock has no readers) is held. Counts and narrates
 * (as op) the acquisition. Whether c took it.
 */
static bool try_own(struct sim_core *c, const void *lock, struct coh_line *line, struct lk_queue *q, int32_t *owner,
		    const uint32_t *readers, enum wl_op op)
{
	cycles_t t_req = c->clock;
	coh_atomic(c, line);
	q_lock(c, q);
	bool ok = !*owner && !(readers && *readers);
	if (ok) {
		*owner = (int32_t)c->id + 1;
		c->st.lock_acquires++;
	}
	q_unlock(c, q);
	if (ok)
		sim_watch_lock(c, lock, op, t_req);
	return ok;
}

/*
 * own_or_queue: the exclusive lock's (spinlock, MCS) acquisition after its
 * atomic: under q, c takes *holder if it is free and narrates it (as op,
 * requested at t_req), or else queues w. True if c took the lock; false if
 * c must wait until granted.
 */
static bool own_or_queue(struct sim_core *c, const void *lock, struct lk_queue *q, int32_t *holder,
			 struct lk_waiter *w, enum wl_op op, cycles_t t_req)
{
	q_lock(c, q);
	if (!*holder) {
		*holder = (int32_t)c->id + 1;
		q_unlock(c, q);
		sim_watch_lock(c, lock, op, t_req);
		return true;
	}
	q_push(q, w);
	q_unlock(c, q);
	return false;
}

/*
 * hand_over: the exclusive lock's release (spinlock, MCS): under q, c (the
 * holder) passes *holder to the first waiter, or frees it; narrates the
 * release. The waiter granted (the caller wakes it), or NULL.
 */
static struct lk_waiter *hand_over(struct sim_core *c, const void *lock, struct lk_queue *q, int32_t *holder)
{
	q_lock(c, q);
	ASSERT(*holder == (int32_t)c->id + 1);
	struct lk_waiter *w = q_pop(q);
	*holder = w ? (int32_t)w->c->id + 1 : 0;
	q_unlock(c, q);
	sim_watch_lock(c, lock, WL_RELEASE, 0);
	return w;
}

/* ---- queued spinlock ---- */

void lk_spin_init(struct lk_spin *l) { __builtin_memset(l, 0, sizeof(*l)); }

bool lk_spin_trylock(struct sim_core *c, struct lk_spin *l)
{
	return try_own(c, l, &l->line, &l->q, &l->holder, NULL, WL_SPIN);
}

void lk_spin_lock(struct sim_core *c, struct lk_spin *l)
{
	cycles_t t_req = c->clock;
	coh_atomic(c, &l->line);
	c->st.lock_acquires++;
	struct lk_waiter w = { .c = c, .mode = W_WRITE, .spin = true };
	if (own_or_queue(c, l, &l->q, &l->holder, &w, WL_SPIN, t_req))
		return;
	cycles_t t0 = c->clock;
	wait_granted(c);
	/* The releaser handed us the lock at its release time; take the line. */
	coh_atomic(c, &l->line);
	account(c, &w, t0);
	sim_watch_lock(c, l, WL_SPIN, t_req);
}

bool lk_spin_mine(struct sim_core *c, struct lk_spin *l)
{
	q_lock(c, &l->q);
	bool mine = l->holder == (int32_t)c->id + 1;
	q_unlock(c, &l->q);
	return mine;
}

void lk_spin_unlock(struct sim_core *c, struct lk_spin *l)
{
	coh_write(c, &l->line);
	struct lk_waiter *w = hand_over(c, l, &l->q, &l->holder);
	if (w)
		sim_wake(c, w->c, c->clock);
}

/* ---- MCS ---- */

void lk_mcs_init(struct lk_mcs *l) { __builtin_memset(l, 0, sizeof(*l)); }

void lk_mcs_lock(struct sim_core *c, struct lk_mcs *l)
{
	cycles_t t_req = c->clock;
	coh_atomic(c, &l->tail); /* xchg(tail, my node) */
	c->st.lock_acquires++;
	struct lk_waiter w = { .c = c, .mode = W_WRITE, .spin = true };
	coh_line_init(&w.node);
	w.node.owner = w.node.last = (uint16_t)(c->id + 1); /* a per-CPU node is hot in its cache */
	if (own_or_queue(c, l, &l->q, &l->holder, &w, WL_MCS, t_req))
		return;
	cycles_t t0 = c->clock;
	wait_granted(c);
	/* The releaser wrote our node; reading it moves the line back to us. */
	coh_read(c, &w.node);
	account(c, &w, t0);
	sim_watch_lock(c, l, WL_MCS, t_req);
}

void lk_mcs_unlock(struct sim_core *c, struct lk_mcs *l)
{
	struct lk_waiter *w = hand_over(c, l, &l->q, &l->holder);
	if (!w) {
		coh_atomic(c, &l->tail); /* cmpxchg(tail, me, NULL) */
		return;
	}
	coh_write(c, &w->node); /* hand over: successor->locked = 1 */
	sim_wake(c, w->c, c->clock);
}

/* ---- rwsem ---- */

void lk_rwsem_init(struct lk_rwsem *l) { __builtin_memset(l, 0, sizeof(*l)); }

/* Grant the lock to waiters at the head of the queue. Caller holds the queue guard. */
static uint32_t rw_grant(struct lk_rwsem *l, struct lk_waiter **out, uint32_t max)
{
	uint32_t n = 0;
	struct lk_waiter *h = l->q.head;
	if (!h || l->writer)
		return 0;
	if (h->mode == W_WRITE) {
		if (l->readers)
			return 0;
		l->writer = (int32_t)h->c->id + 1;
		out[n++] = q_pop(&l->q);
		return n;
	}
	while (l->q.head && l->q.head->mode == W_READ && n < max) {
		l->readers++;
		out[n++] = q_pop(&l->q);
	}
	return n;
}

/* Wake granted waiters: sleepers after kern.wakeup, spinners at once (they then take the line). */
static void rw_wake(struct sim_core *c, struct lk_waiter **ws, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sim_wake(c, ws[i]->c, c->clock + (ws[i]->spin ? 0 : c->sim->m->wakeup));
}

#define RW_BATCH 64

static void rw_release(struct sim_core *c, struct lk_rwsem *l)
{
	struct lk_waiter *ws[RW_BATCH];
	uint32_t n;
	do {
		q_lock(c, &l->q);
		n = rw_grant(l, ws, RW_BATCH);
		q_unlock(c, &l->q);
		rw_wake(c, ws, n);
	} while (n == RW_BATCH);
}

static void rw_wait(struct sim_core *c, struct lk_rwsem *l, struct lk_waiter *w)
{
	q_push(&l->q, w);
	q_unlock(c, &l->q);
	cycles_t t0 = c->clock;
	wait_granted(c);
	if (w->spin)
		coh_atomic(c, &l->count);
	account(c, w, t0);
}

bool lk_down_read_trylock(struct sim_core *c, struct lk_rwsem *l)
{
	cycles_t t_req = c->clock;
	coh_atomic(c, &l->count);
	q_lock(c, &l->q);
	bool ok = !l->writer && !l->q.head;
	if (ok) {
		l->readers++;
		c->st.lock_acquires++;
	}
	q_unlock(c, &l->q);
	if (ok)
		sim_watch_lock(c, l, WL_READ, t_req);
	return ok;
}

void lk_down_read(struct sim_core *c, struct lk_rwsem *l)
{
	cycles_t t_req = c->clock;
	coh_atomic(c, &l->count);
	c->st.lock_acquires++;
	q_lock(c, &l->q);
	if (!l->writer && !l->q.head) {
		l->readers++;
		q_unlock(c, &l->q);
	} else {
		struct lk_waiter w = { .c = c, .mode = W_READ, .spin = false };
		rw_wait(c, l, &w);
	}
	sim_watch_lock(c, l, WL_READ, t_req);
}

void lk_up_read(struct sim_core *c, struct lk_rwsem *l)
{
	coh_atomic(c, &l->count);
	q_lock(c, &l->q);
	ASSERT(l->readers > 0);
	l->readers--;
	bool grant = !l->readers && l->q.head;
	q_unlock(c, &l->q);
	sim_watch_lock(c, l, WL_RELEASE, 0);
	if (grant)
		rw_release(c, l);
}

bool lk_down_write_trylock(struct sim_core *c, struct lk_rwsem *l)
{
	return try_own(c, l, &l->count, &l->q, &l->writer, &l->readers, WL_WRITE);
}

void lk_down_write(struct sim_core *c, struct lk_rwsem *l)
{
	cycles_t t_req = c->clock;
	coh_atomic(c, &l->count);
	c->st.lock_acquires++;
	q_lock(c, &l->q);
	if (!l->writer && !l->readers) {
		l->writer = (int32_t)c->id + 1;
		q_unlock(c, &l->q);
	} else {
		struct lk_waiter w = { .c = c, .mode = W_WRITE, .spin = l->writer != 0 };
		rw_wait(c, l, &w);
	}
	sim_watch_lock(c, l, WL_WRITE, t_req);
}

void lk_up_write(struct sim_core *c, struct lk_rwsem *l)
{
	coh_atomic(c, &l->count);
	q_lock(c, &l->q);
	ASSERT(l->writer == (int32_t)c->id + 1);
	l->writer = 0;
	q_unlock(c, &l->q);
	sim_watch_lock(c, l, WL_RELEASE, 0);
	rw_release(c, l);
}

void lk_downgrade_write(struct sim_core *c, struct lk_rwsem *l)
{
	coh_atomic(c, &l->count);
	q_lock(c, &l->q);
	ASSERT(l->writer == (int32_t)c->id + 1);
	l->writer = 0;
	l->readers++;
	q_unlock(c, &l->q);
	sim_watch_lock(c, l, WL_DOWNGRADE, 0);
	struct lk_waiter *ws[RW_BATCH];
	uint32_t n;
	do {
		q_lock(c, &l->q);
		n = 0;
		while (l->q.head && l->q.head->mode == W_READ && n < RW_BATCH) {
			l->readers++;
			ws[n++] = q_pop(&l->q);
		}
		q_unlock(c, &l->q);
		rw_wake(c, ws, n);
	} while (n == RW_BATCH);
}

/* ---- barrier ---- */

void lk_barrier_init(struct lk_barrier *b, uint32_t n)
{
	__builtin_memset(b, 0, sizeof(*b));
	b->n = n;
}

void lk_barrier_wait(struct sim_core *c, struct lk_barrier *b)
{
	coh_atomic(c, &b->line);
	q_lock(c, &b->q);
	if (++b->arrived < b->n) {
		struct lk_waiter w = { .c = c, .mode = W_READ, .spin = false };
		q_push(&b->q, &w);
		q_unlock(c, &b->q);
		cycles_t t0 = c->clock;
		sim_block(c);
		sim_tl_span(c, TL_BARRIER, t0, c->clock); /* not a lock wait: not counted as sleep */
		return;
	}
	b->arrived = 0;
	struct lk_waiter *all = b->q.head;
	b->q.head = b->q.tail = NULL;
	q_unlock(c, &b->q);
	while (all) {
		struct lk_waiter *n = all->next;
		sim_wake(c, all->c, c->clock + c->sim->m->wakeup);
		all = n;
	}
}
