/* t23_rcu.c: RCU through sim/rcu.h: simulated grace periods in deterministic mode (quiescent states, idle cores, barriers, repeatability) and liburcu in parallel mode. */
#include "tests/harness.h"
#include "sim/rcu.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

static struct machine M;

/* An object freed through RCU: records which core ran its callback, at which clock, and how many callbacks ran before it. */
struct obj {
	struct sim_rcu_head rcu;
	_Atomic int freed;
	int by;		   /* core whose quiescent state ended the grace period (-1: not a core) */
	cycles_t at;	   /* that core's clock then */
	bool at_end;	   /* run when that core's body had returned */
	struct rt *t;
	int order;
};

#define NOBJ 64
struct rt {
	struct sim *s;
	struct obj o[NOBJ];
	_Atomic int nfreed;
	_Atomic int phase;
	int seen_freed[8]; /* what a core saw at a checkpoint */
	cycles_t when[4];  /* a core's clock at a checkpoint */
};

/* Run body on n cores in `mode` over a fresh table of objects; the caller checks it, then calls rt_done. */
static struct rt *rt_run(uint32_t n, enum sim_mode mode, void (*body)(struct sim_core *, void *))
{
	struct rt *t = xzalloc(sizeof(*t));
	for (int i = 0; i < NOBJ; i++)
		t->o[i].t = t;
	t->s = test_sim(n, mode, &M);
	sim_run(t->s, body, t);
	return t;
}

static void rt_done(struct rt *t)
{
	sim_destroy(t->s);
	xfree(t);
}

/* Object i has been freed, by core `by` (-1: by no core). */
static void freed_by(const struct rt *t, int i, int by)
{
	ck_assert_int_eq(atomic_load(&t->o[i].freed), 1);
	ck_assert_int_eq(t->o[i].by, by);
}

/* What t's simulated RCU did. */
static struct sim_rcu_stats stats_of(const struct rt *t)
{
	struct sim_rcu_stats st;
	sim_rcu_stats(t->s, &st);
	return st;
}

static void obj_free(struct sim_rcu_head *h)
{
	struct obj *o = caa_container_of(h, struct obj, rcu);
	struct sim_core *c = sim_self();
	o->by = c ? (int)c->id : -1;
	o->at = c ? c->clock : 0;
	o->at_end = c && c->done;
	o->order = atomic_fetch_add(&o->t->nfreed, 1);
	atomic_store(&o->freed, 1);
}

static void wait_phase(struct sim_core *c, struct rt *t, int p)
{
	while (atomic_load(&t->phase) < p) {
		sim_advance(c, 10);
		sim_sync(c);
	}
}

/* ---- a grace period waits for every core that was busy: until each passes an event boundary ---- */

static void gp_body(struct sim_core *c, void *p)
{
	struct rt *t = p;
	if (c->id == 0) {
		sim_rcu_read_lock();
		sim_rcu_defer(&t->o[0].rcu, obj_free);
		sim_rcu_read_unlock();
		sim_rcu_quiescent(c); /* core 0's own report is not enough */
		atomic_store(&t->phase, 1);
		wait_phase(c, t, 2);
		sim_rcu_quiescent(c);
	} else {
		wait_phase(c, t, 1);
		sim_advance(c, 1000);
		sim_sync(c);
		t->seen_freed[0] = atomic_load(&t->o[0].freed); /* core 1 is still inside its "operation" */
		sim_rcu_quiescent(c); /* the last report: the callback runs here, on core 1 */
		t->seen_freed[1] = atomic_load(&t->o[0].freed);
		atomic_store(&t->phase, 2);
	}
}

START_TEST(det_grace_period_waits_for_busy_cores)
{
	struct rt *t = rt_run(2, SIM_DET, gp_body);
	ck_assert(!t->seen_freed[0] && t->seen_freed[1]); /* not before core 1's report, at once after */
	freed_by(t, 0, 1);
	struct sim_rcu_stats st = stats_of(t);
	ck_assert_uint_eq(st.callbacks, 1);
	ck_assert_uint_eq(st.grace_periods, 1);
	rt_done(t);
}
END_TEST

/* ---- idle and finished cores do not hold a grace period up; everything has run when sim_run returns ---- */

static void idle_body(struct sim_core *c, void *p)
{
	struct rt *t = p;
	if (c->id == 0) {
		sim_rcu_idle(c, true); /* waits for work, for a long time */
		wait_phase(c, t, 2);
		sim_rcu_idle(c, false);
		t->seen_freed[2] = atomic_load(&t->o[0].freed);
	} else if (c->id == 1) {
		sim_advance(c, 100);
		sim_rcu_defer(&t->o[0].rcu, obj_free);
		sim_advance(c, 100);
		sim_sync(c);
		sim_rcu_quiescent(c); /* core 0 is idle, core 2 has finished: this ends the grace period */
		t->seen_freed[1] = atomic_load(&t->o[0].freed);
		sim_rcu_defer(&t->o[1].rcu, obj_free); /* left pending: runs when the last core finishes */
		atomic_store(&t->phase, 2);
	}
}

START_TEST(det_idle_cores_do_not_wait)
{
	struct rt *t = rt_run(3, SIM_DET, idle_body);
	ck_assert(t->seen_freed[1] && t->seen_freed[2]); /* core 1's report sufficed, and core 0 saw it after */
	freed_by(t, 0, 1);
	freed_by(t, 1, 1); /* when core 1, the last busy core, finished */
	rt_done(t);
}
END_TEST

/* ---- frees happen at the same simulated points on every run ---- */

static void churn_body(struct sim_core *c, void *p)
{
	struct rt *t = p;
	uint32_t n = c->sim->o.ncores;
	uint64_t x = c->id * 2654435761u + 1;
	for (uint32_t k = c->id; k < NOBJ; k += n) {
		for (int i = 0; i < 20; i++) { /* "events" of varying length */
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			sim_advance(c, (x >> 33) % 300);
			sim_sync(c);
			sim_rcu_quiescent(c);
		}
		sim_rcu_read_lock();
		sim_rcu_read_lock(); /* sections nest */
		sim_rcu_defer(&t->o[k].rcu, obj_free);
		sim_rcu_read_unlock();
		sim_advance(c, 50);
		sim_rcu_read_unlock();
	}
}

START_TEST(det_frees_repeatable)
{
	struct rt *a = rt_run(8, SIM_DET, churn_body), *b = rt_run(8, SIM_DET, churn_body);
	int at_boundary = 0;
	for (int i = 0; i < NOBJ; i++) {
		ck_assert_int_eq(atomic_load(&a->o[i].freed), 1);
		ck_assert_int_ge(a->o[i].by, 0);
		ck_assert_int_eq(a->o[i].by, b->o[i].by);
		ck_assert_uint_eq(a->o[i].at, b->o[i].at);
		ck_assert_int_eq(a->o[i].order, b->o[i].order);
		at_boundary += !a->o[i].at_end;
	}
	/* The cores defer their last objects just before they finish; the others end at an event boundary. */
	ck_assert_int_ge(at_boundary, NOBJ - 8);
	rt_done(a);
	rt_done(b);
}
END_TEST

/* ---- barriers: from a core (every pending callback at once) and from outside the run ---- */

static void barrier_body(struct sim_core *c, void *p)
{
	struct rt *t = p;
	if (c->id == 0) {
		sim_rcu_defer(&t->o[0].rcu, obj_free);
		atomic_store(&t->phase, 1);
		wait_phase(c, t, 2);
	} else {
		wait_phase(c, t, 1);
		sim_rcu_defer(&t->o[1].rcu, obj_free);
		t->seen_freed[0] = atomic_load(&t->o[0].freed) + atomic_load(&t->o[1].freed);
		sim_rcu_barrier();
		t->seen_freed[1] = atomic_load(&t->o[0].freed) + atomic_load(&t->o[1].freed);
		atomic_store(&t->phase, 2);
	}
}

START_TEST(det_barriers)
{
	struct rt *t = rt_run(2, SIM_DET, barrier_body);
	ck_assert(t->seen_freed[0] == 0 && t->seen_freed[1] == 2);
	freed_by(t, 1, 1);
	/* Outside a run: deferred, never run inside sim_rcu_defer, run by the next barrier. */
	sim_rcu_defer(&t->o[2].rcu, obj_free);
	ck_assert_int_eq(atomic_load(&t->o[2].freed), 0);
	sim_rcu_barrier();
	freed_by(t, 2, -1);
	rt_done(t);
}
END_TEST

/* ---- a barrier while another core is inside a read-side section: it waits, in simulated time, for that core to leave it ---- */

static void barrier_reader_body(struct sim_core *c, void *p)
{
	struct rt *t = p;
	if (c->id == 0) {
		sim_rcu_read_lock();
		atomic_store(&t->phase, 1);
		wait_phase(c, t, 2);
		for (int i = 0; i < 100; i++) { /* core 1 calls the barrier meanwhile */
			sim_advance(c, 10);
			sim_sync(c);
		}
		sim_rcu_defer(&t->o[1].rcu, obj_free); /* deferred after the barrier began: not its business */
		t->seen_freed[0] = atomic_load(&t->o[0].freed);
		t->when[0] = c->clock;
		sim_rcu_read_unlock();
		sim_advance(c, 10);
		sim_sync(c);
		sim_rcu_quiescent(c);
	} else {
		wait_phase(c, t, 1);
		sim_rcu_defer(&t->o[0].rcu, obj_free);
		atomic_store(&t->phase, 2);
		t->when[1] = c->clock;
		sim_rcu_barrier();
		t->when[2] = c->clock;
		t->seen_freed[1] = atomic_load(&t->o[0].freed);
		t->seen_freed[2] = atomic_load(&t->o[1].freed);
	}
}

START_TEST(det_barrier_waits_for_readers)
{
	struct rt *t = rt_run(2, SIM_DET, barrier_reader_body);
	ck_assert_int_eq(t->seen_freed[0], 0);		/* not while the reader was inside */
	ck_assert_int_eq(t->seen_freed[1], 1);		/* but when the barrier returned */
	ck_assert_int_eq(t->seen_freed[2], 0);		/* o[1] waits for its own grace period */
	ck_assert_uint_lt(t->when[1], t->when[0]);	/* the barrier began before the reader left */
	ck_assert_uint_ge(t->when[2], t->when[0]);	/* and returned after, in simulated time */
	freed_by(t, 0, 1);
	ck_assert_uint_eq(t->o[0].at, t->when[2]);
	ck_assert_int_eq(atomic_load(&t->o[1].freed), 1); /* by the end of the run */
	struct sim_rcu_stats st = stats_of(t);
	ck_assert_uint_eq(st.barrier_waits, 1);
	ck_assert_uint_eq(st.callbacks, 2);
	rt_done(t);
}
END_TEST

/* ---- broken invariants panic ---- */

static void unbalanced_body(struct sim_core *c, void *p)
{
	(void)p;
	if (c->id == 0)
		sim_rcu_read_unlock();
}

START_TEST(det_unbalanced_unlock_panics) { rt_run(2, SIM_DET, unbalanced_body); }
END_TEST

static void open_section_body(struct sim_core *c, void *p)
{
	struct rt *t = p;
	if (c->id)
		return;
	sim_rcu_defer(&t->o[0].rcu, obj_free); /* a grace period begins: core 0 owes a report */
	sim_rcu_read_lock();
	sim_rcu_quiescent(c); /* an event boundary must not be inside a read-side section */
}

START_TEST(det_boundary_in_section_panics) { rt_run(2, SIM_DET, open_section_body); }
END_TEST

/* ---- parallel mode: liburcu; readers hold off the free, the barrier waits for it ---- */

static void par_body(struct sim_core *c, void *p)
{
	struct rt *t = p;
	if (c->id == 0) {
		sim_rcu_read_lock();
		atomic_store(&t->phase, 1);
		while (atomic_load(&t->phase) < 2)
			sched_yield();
		usleep(20000); /* liburcu's grace period must still wait for this reader */
		t->seen_freed[0] = atomic_load(&t->o[0].freed);
		sim_rcu_read_unlock();
	} else if (c->id == 1) {
		while (atomic_load(&t->phase) < 1)
			sched_yield();
		sim_rcu_defer(&t->o[0].rcu, obj_free);
		atomic_store(&t->phase, 2);
	}
}

START_TEST(par_liburcu)
{
	struct rt *t = rt_run(2, SIM_PAR, par_body);
	sim_rcu_barrier();
	ck_assert_int_eq(t->seen_freed[0], 0);
	freed_by(t, 0, -1); /* liburcu's thread ran it */
	rt_done(t);
}
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t23_rcu");
	TCase *tc = tcase_create("rcu");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, det_grace_period_waits_for_busy_cores);
	tcase_add_test(tc, det_idle_cores_do_not_wait);
	tcase_add_test(tc, det_frees_repeatable);
	tcase_add_test(tc, det_barriers);
	tcase_add_test(tc, det_barrier_waits_for_readers);
	tcase_add_test_raise_signal(tc, det_unbalanced_unlock_panics, SIGABRT);
	tcase_add_test_raise_signal(tc, det_boundary_in_section_panics, SIGABRT);
	tcase_add_test(tc, par_liburcu);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
