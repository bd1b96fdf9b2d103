/* rcu.h: RCU for the designs: simulated in deterministic mode (grace periods end at points of simulated time), liburcu (memb flavour) in parallel mode. */
#ifndef MMSIM_RCU_H
#define MMSIM_RCU_H

#include <urcu/urcu-memb.h>

#include "sim/sim.h"

/*
 * Which RCU a call uses is decided by the caller:
 *
 * - A core of a SIM_DET run: simulated RCU, per simulated core. Every core
 *   runs on one host thread there, so liburcu's per-thread reader state
 *   cannot tell them apart. The rule: a callback deferred by a core runs
 *   once every core has passed a quiescent state after the deferral. A core
 *   is quiescent at an event boundary (sim_rcu_quiescent, called by the
 *   executor between two events, never inside a read-side section), while
 *   idle (sim_rcu_idle) and once its body has returned. So a grace period
 *   outlasts every operation in flight when the callback was deferred (not
 *   only every read-side section): what a core reached inside one
 *   operation stays valid to its end. The core whose report ends the grace
 *   period runs the callbacks there, at its event boundary; which core that
 *   is and when follow from the simulated schedule, so frees happen at the
 *   same simulated times on every run. When the last core finishes, every
 *   callback still pending runs.
 * - A core of a SIM_PAR run: liburcu's read side, call_rcu and rcu_barrier
 *   (the pthread registers itself). Precondition (liburcu's): read-side
 *   sections only on core threads, or on threads registered by the caller.
 * - Any other thread (sim_self() is NULL: set-up and teardown outside
 *   sim_run): nothing reads concurrently there, so a grace period is over at
 *   once. A deferred callback still never runs inside sim_rcu_defer (its
 *   caller may hold the object a little longer): it runs at this thread's
 *   next sim_rcu_barrier or sim_run.
 *
 * liburcu is not built with ThreadSanitizer, so TSan cannot see that a
 * callback queued with call_rcu runs after every read-side section that
 * could reach the object. The SIM_PAR wrappers state it: leaving a read-side
 * section and queueing a callback release a token that every callback
 * acquires before it runs. In SIM_DET the context switches order memory.
 */
#if defined(__SANITIZE_THREAD__)
#define MMSIM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MMSIM_TSAN 1
#endif
#endif

#ifdef MMSIM_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char sim_rcu_token;
#define SIM_RCU_RELEASE() __tsan_release(&sim_rcu_token)
#define SIM_RCU_ACQUIRE() __tsan_acquire(&sim_rcu_token)
#else
#define SIM_RCU_RELEASE() ((void)0)
#define SIM_RCU_ACQUIRE() ((void)0)
#endif

/* struct sim_rcu_head: embed in an object freed after a grace period (the size of liburcu's rcu_head plus fn). */
struct sim_rcu_head {
	union {
		struct rcu_head h;	   /* SIM_PAR: liburcu's queue */
		struct sim_rcu_head *next; /* otherwise: the simulated RCU's queues */
	};
	void (*fn)(struct sim_rcu_head *);
};

/* sim_rcu_simulated: whether core c (NULL: not a core) uses the simulated RCU. */
static inline bool sim_rcu_simulated(const struct sim_core *c) { return c && c->sim->o.mode == SIM_DET; }

/* Slow paths of the inline functions below (rcu.c). */
_Noreturn void sim_rcu_unbalanced(struct sim_core *c);
void sim_rcu_defer_on(struct sim_core *c, struct sim_rcu_head *h, void (*fn)(struct sim_rcu_head *));
void sim_rcu_barrier_on(struct sim_core *c);
void sim_rcu_report(struct sim_core *c);
void sim_rcu_reader_left(struct sim_core *c);

/* sim_rcu_read_lock: enter a read-side section (they nest). Objects reached inside stay valid until it is left. */
static inline void sim_rcu_read_lock(void)
{
	struct sim_core *c = sim_self();
	if (sim_rcu_simulated(c)) {
		c->rcu_nest++;
		return;
	}
	urcu_memb_read_lock();
}

/* sim_rcu_read_unlock: leave the innermost read-side section. */
static inline void sim_rcu_read_unlock(void)
{
	struct sim_core *c = sim_self();
	if (sim_rcu_simulated(c)) {
		if (unlikely(!c->rcu_nest))
			sim_rcu_unbalanced(c);
		c->rcu_nest--;
		if (unlikely(c->rcu_owed) && !c->rcu_nest)
			sim_rcu_reader_left(c); /* a barrier waits for this section */
		return;
	}
	SIM_RCU_RELEASE();
	urcu_memb_read_unlock();
}

/* sim_rcu_defer: run fn(h) after a grace period (call_rcu). h must stay untouched until then. */
static inline void sim_rcu_defer(struct sim_rcu_head *h, void (*fn)(struct sim_rcu_head *))
{
	sim_rcu_defer_on(sim_self(), h, fn);
}

/*
 * sim_rcu_barrier: every callback deferred so far has run when it returns
 * (rcu_barrier). Outside read-side sections only. From a SIM_DET core: if
 * no other core is inside a read-side section, it runs every pending
 * callback at once, at no simulated cost. Otherwise the core blocks, in
 * simulated time, until each core that was inside a section when it was
 * called has left that section (other cores run meanwhile), then runs the
 * callbacks deferred before the call; callbacks deferred while it waited
 * wait for their grace period. As liburcu's barrier, it deadlocks (the
 * engine panics) if such a reader waits for something the caller holds.
 * It is for tearing down what only the caller can still reach.
 */
static inline void sim_rcu_barrier(void) { sim_rcu_barrier_on(sim_self()); }

/*
 * sim_rcu_quiescent: core c is at an event boundary: it holds no reference
 * to an RCU-protected object. The executor calls it between events. A few
 * instructions unless a grace period waits for c. Free outside SIM_DET.
 */
static inline void sim_rcu_quiescent(struct sim_core *c)
{
	if (unlikely(c->rcu_qs != c->sim->rcu_gp))
		sim_rcu_report(c);
}

/*
 * sim_rcu_idle: core c stops (idle = true) or resumes running events. An
 * idle core holds no reference, so grace periods do not wait for it (the
 * executor calls it around a wait for work). Call it at an event boundary.
 */
void sim_rcu_idle(struct sim_core *c, bool idle);

/*
 * struct sim_rcu_stats: what the simulated RCU of one sim did (SIM_DET).
 * Written by the running core; read after sim_run.
 */
struct sim_rcu_stats {
	uint64_t grace_periods; /* grace periods that ended */
	uint64_t callbacks;	/* deferred callbacks run */
	uint64_t max_pending;	/* most callbacks waiting at once */
	uint64_t barrier_waits; /* barriers that blocked until readers left */
};
void sim_rcu_stats(const struct sim *s, struct sim_rcu_stats *out);

/* ---- the engine's side (sched.c) ---- */

/* sim_rcu_create/destroy: s's simulated RCU; destroy runs what is still pending. */
struct sim_rcu *sim_rcu_create(struct sim *s);
void sim_rcu_destroy(struct sim *s);
/* sim_rcu_run_begin: a SIM_DET run starts on this thread: every core is busy, callbacks deferred outside runs run now. */
void sim_rcu_run_begin(struct sim *s);
/* sim_rcu_core_done: c's body has returned (quiescent from now on). */
void sim_rcu_core_done(struct sim_core *c);
/* sim_rcu_thread_online/offline: register the calling SIM_PAR core thread with liburcu, and unregister it. */
void sim_rcu_thread_online(void);
void sim_rcu_thread_offline(void);

#endif
