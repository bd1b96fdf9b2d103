/* rcu_int.h: what sim/rcu.c and sim/rcu_barrier.c share of the simulated RCU (its state, its callback queues); not for use outside them. */
#ifndef MMSIM_RCU_INT_H
#define MMSIM_RCU_INT_H

#include "sim/rcu.h"

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

/* Whether any SIM_PAR core has queued a callback with liburcu (then a barrier waits for liburcu's). */
extern _Atomic bool rcu_liburcu_used;

/* rcu_q_init: q empty. rcu_q_run: take every callback out of q (leaving it empty), run them in order; returns how many. */
void rcu_q_init(struct cbq *q);
uint64_t rcu_q_run(struct cbq *q);
/* rcu_flush: run every callback pending in d (between runs, or with no reader). rcu_flush_loose: this thread's, deferred outside any core. */
void rcu_flush(struct sim_rcu *d);
void rcu_flush_loose(void);

#endif
