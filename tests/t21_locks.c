/* t21_locks.c: simulated locks: mutual exclusion in both modes, FIFO grants, hand-computed handoffs, spin vs sleep. */
#include "tests/harness.h"
#include "sim/lock.h"

#include <string.h>

static struct machine M;

enum kind { SPIN, MCS, MUTEX, RWSEM_W };

struct excl {
	enum kind kind;
	struct lk_spin spin;
	struct lk_mcs mcs;
	struct lk_mutex mutex;
	struct lk_rwsem rw;
	struct coh_line data;
	_Atomic int inside;
	_Atomic int violations;
	uint64_t counter; /* protected by the lock only */
	uint32_t iters;
};

static void lock(struct sim_core *c, struct excl *x)
{
	switch (x->kind) {
	case SPIN: lk_spin_lock(c, &x->spin); break;
	case MCS: lk_mcs_lock(c, &x->mcs); break;
	case MUTEX: lk_mutex_lock(c, &x->mutex); break;
	case RWSEM_W: lk_down_write(c, &x->rw); break;
	}
}

static void unlock(struct sim_core *c, struct excl *x)
{
	switch (x->kind) {
	case SPIN: lk_spin_unlock(c, &x->spin); break;
	case MCS: lk_mcs_unlock(c, &x->mcs); break;
	case MUTEX: lk_mutex_unlock(c, &x->mutex); break;
	case RWSEM_W: lk_up_write(c, &x->rw); break;
	}
}

static void excl_body(struct sim_core *c, void *p)
{
	struct excl *x = p;
	for (uint32_t i = 0; i < x->iters; i++) {
		lock(c, x);
		if (atomic_fetch_add(&x->inside, 1) != 0)
			atomic_fetch_add(&x->violations, 1);
		uint64_t v = x->counter;
		coh_write(c, &x->data); /* a sync point inside the critical section */
		sim_advance(c, 50);
		x->counter = v + 1;
		atomic_fetch_sub(&x->inside, 1);
		unlock(c, x);
		sim_advance(c, 7 * (c->id + 1));
	}
}

static void run_excl(enum kind k, enum sim_mode mode, uint32_t n)
{
	struct excl *x = xaligned_zalloc(CACHELINE, sizeof(*x));
	x->kind = k;
	x->iters = 200;
	struct sim *s = test_sim(n, mode, &M);
	sim_run(s, excl_body, x);
	struct sim_core_stats st;
	sim_stats_sum(s, &st);
	ck_assert_int_eq(atomic_load(&x->violations), 0);
	ck_assert_uint_eq(x->counter, (uint64_t)n * x->iters);
	if (n > 1)
		ck_assert_uint_gt(st.lock_contended, 0);
	ck_assert_uint_ge(st.lock_acquires, (uint64_t)n * x->iters);
	sim_destroy(s);
	xfree(x);
}

START_TEST(exclusion_det)
{
	for (enum kind k = SPIN; k <= RWSEM_W; k++)
		run_excl(k, SIM_DET, 8);
}
END_TEST

START_TEST(exclusion_par)
{
	for (enum kind k = SPIN; k <= RWSEM_W; k++)
		run_excl(k, SIM_PAR, 4);
}
END_TEST

/* ---- FIFO ---- */

struct fifo {
	struct lk_spin l;
	uint32_t order[16], n;
};

static void fifo_body(struct sim_core *c, void *p)
{
	struct fifo *f = p;
	/* Core 0 holds the lock until 100000; others arrive in the order 7, 6, ..., 1. */
	if (c->id)
		sim_advance(c, 1000 * (8 - c->id));
	lk_spin_lock(c, &f->l);
	f->order[f->n++] = c->id;
	if (c->id == 0)
		sim_advance(c, 100000);
	lk_spin_unlock(c, &f->l);
}

START_TEST(fifo_grants)
{
	struct fifo *f = xzalloc(sizeof(*f));
	struct sim *s = test_sim(8, SIM_DET, &M);
	sim_run(s, fifo_body, f);
	ck_assert_uint_eq(f->n, 8);
	ck_assert_uint_eq(f->order[0], 0);
	for (uint32_t i = 1; i < 8; i++)
		ck_assert_uint_eq(f->order[i], 8 - i);
	sim_destroy(s);
	xfree(f);
}
END_TEST

/* ---- hand-computed handoffs ---- */

struct hand {
	struct lk_spin l;
	struct lk_rwsem rw;
	cycles_t got[2];
	struct sim_core_stats st[2];
	bool use_rw;
};

static void hand_body(struct sim_core *c, void *p)
{
	struct hand *h = p;
	if (c->id == 0) {
		if (h->use_rw)
			lk_down_write(c, &h->rw);
		else
			lk_spin_lock(c, &h->l);
		h->got[0] = c->clock;
		sim_advance(c, 1000 - c->clock);
		if (h->use_rw)
			lk_up_write(c, &h->rw);
		else
			lk_spin_unlock(c, &h->l);
	} else {
		sim_advance(c, 500);
		if (h->use_rw)
			lk_down_read(c, &h->rw);
		else
			lk_spin_lock(c, &h->l);
		h->got[1] = c->clock;
		if (h->use_rw)
			lk_up_read(c, &h->rw);
		else
			lk_spin_unlock(c, &h->l);
	}
	h->st[c->id] = c->st;
}

START_TEST(spin_handoff)
{
	/*
	 * Core 0: atomic fills the line from memory (100 + 10) and holds the lock.
	 * Core 1 at 500: atomic moves the line (20 + 10) = 530, finds it held, waits.
	 * Core 0 at 1000: the releasing store moves the line back (20) = 1020.
	 * Core 1 resumes at 1020 and takes the line (20 + 10) = 1050: spun 520 cycles.
	 */
	struct hand *h = xzalloc(sizeof(*h));
	struct sim *s = test_sim(2, SIM_DET, &M);
	sim_run(s, hand_body, h);
	ck_assert_uint_eq(h->got[0], 110);
	ck_assert_uint_eq(h->got[1], 1050);
	ck_assert_uint_eq(h->st[1].spin, 520);
	ck_assert_uint_eq(h->st[1].sleep, 0);
	ck_assert_uint_eq(h->st[1].lock_contended, 1);
	sim_destroy(s);
	xfree(h);
}
END_TEST

START_TEST(rwsem_reader_sleeps)
{
	/*
	 * Writer 0 holds from 110. Reader 1 at 500: atomic (20 + 10) = 530, must wait and sleeps.
	 * Writer releases at 1000: atomic moves the line (20 + 10) = 1030, and wakes the reader,
	 * which runs kern.wakeup (2000) later: 3030. Slept 2500 cycles.
	 */
	struct hand *h = xzalloc(sizeof(*h));
	h->use_rw = true;
	struct sim *s = test_sim(2, SIM_DET, &M);
	sim_run(s, hand_body, h);
	ck_assert_uint_eq(h->got[0], 110);
	ck_assert_uint_eq(h->got[1], 3030);
	ck_assert_uint_eq(h->st[1].sleep, 2500);
	ck_assert_uint_eq(h->st[1].spin, 0);
	sim_destroy(s);
	xfree(h);
}
END_TEST

/* ---- readers share, downgrade ---- */

struct rd {
	struct lk_rwsem rw;
	_Atomic int inside, max_inside;
	int writer_seen_readers;
	uint32_t order[8], n;
};

static void readers_body(struct sim_core *c, void *p)
{
	struct rd *r = p;
	lk_down_read(c, &r->rw);
	int now = atomic_fetch_add(&r->inside, 1) + 1;
	int m = atomic_load(&r->max_inside);
	while (now > m && !atomic_compare_exchange_weak(&r->max_inside, &m, now))
		;
	sim_advance(c, 10000);
	coh_read(c, &r->rw.count); /* sync point while inside */
	atomic_fetch_sub(&r->inside, 1);
	lk_up_read(c, &r->rw);
}

START_TEST(readers_share)
{
	struct rd *r = xzalloc(sizeof(*r));
	struct sim *s = test_sim(8, SIM_DET, &M);
	sim_run(s, readers_body, r);
	ck_assert_int_eq(atomic_load(&r->max_inside), 8);
	sim_destroy(s);
	xfree(r);
}
END_TEST

static void downgrade_body(struct sim_core *c, void *p)
{
	struct rd *r = p;
	if (c->id == 0) {
		lk_down_write(c, &r->rw);
		sim_advance(c, 5000);
		lk_downgrade_write(c, &r->rw);
		r->order[r->n++] = 0;
		sim_advance(c, 20000);
		lk_up_read(c, &r->rw);
	} else if (c->id == 1) { /* a reader that queued while 0 wrote */
		sim_advance(c, 1000);
		lk_down_read(c, &r->rw);
		r->order[r->n++] = 1;
		sim_advance(c, 1000);
		lk_up_read(c, &r->rw);
	} else { /* a writer that queued after the reader: waits for both readers */
		sim_advance(c, 2000);
		lk_down_write(c, &r->rw);
		r->order[r->n++] = 2;
		r->writer_seen_readers = (int)lk_rwsem_readers(&r->rw);
		lk_up_write(c, &r->rw);
	}
}

START_TEST(downgrade)
{
	struct rd *r = xzalloc(sizeof(*r));
	struct sim *s = test_sim(3, SIM_DET, &M);
	sim_run(s, downgrade_body, r);
	ck_assert_uint_eq(r->n, 3);
	ck_assert_uint_eq(r->order[0], 0);
	ck_assert_uint_eq(r->order[1], 1);
	ck_assert_uint_eq(r->order[2], 2);
	ck_assert_int_eq(r->writer_seen_readers, 0);
	ck_assert_uint_ge(s->cores[2].clock, 25000); /* the writer got in only after 0's read section */
	sim_destroy(s);
	xfree(r);
}
END_TEST

struct tl {
	struct lk_rwsem rw;
	struct lk_spin sp;
	bool r_ok, w_ok, s_ok, s_ok_free;
};

static void trylock_body(struct sim_core *c, void *p)
{
	struct tl *t = p;
	if (c->id == 0) {
		lk_down_write(c, &t->rw);
		lk_spin_lock(c, &t->sp);
		sim_advance(c, 10000);
		coh_read(c, &t->rw.count);
		lk_spin_unlock(c, &t->sp);
		lk_up_write(c, &t->rw);
	} else {
		sim_advance(c, 1000);
		t->r_ok = lk_down_read_trylock(c, &t->rw);
		t->w_ok = lk_down_write_trylock(c, &t->rw);
		t->s_ok = lk_spin_trylock(c, &t->sp);
		sim_advance(c, 100000);
		t->s_ok_free = lk_spin_trylock(c, &t->sp);
		if (t->s_ok_free)
			lk_spin_unlock(c, &t->sp);
	}
}

START_TEST(trylocks)
{
	struct tl *t = xzalloc(sizeof(*t));
	struct sim *s = test_sim(2, SIM_DET, &M);
	sim_run(s, trylock_body, t);
	ck_assert(!t->r_ok);
	ck_assert(!t->w_ok);
	ck_assert(!t->s_ok);
	ck_assert(t->s_ok_free);
	sim_destroy(s);
	xfree(t);
}
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t21_locks");
	TCase *tc = tcase_create("locks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, exclusion_det);
	tcase_add_test(tc, exclusion_par);
	tcase_add_test(tc, fifo_grants);
	tcase_add_test(tc, spin_handoff);
	tcase_add_test(tc, rwsem_reader_sleeps);
	tcase_add_test(tc, readers_share);
	tcase_add_test(tc, downgrade);
	tcase_add_test(tc, trylocks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
