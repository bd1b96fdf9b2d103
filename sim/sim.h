/* sim.h: simulated cores (pthreads with cycle clocks), the deterministic and parallel schedulers, and interrupts. */
#ifndef MMSIM_SIM_H
#define MMSIM_SIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdbool.h>

#include "sim/cache.h"
#include "sim/ctx.h"
#include "sim/machine.h"
#include "sim/runq.h"
#include "sim/util.h"

#define SIM_MAX_CORES 512
#define SIM_CORE_BITS RUNQ_ID_BITS /* bits of a core id in a scheduling key */
#define SIM_MASK_WORDS (SIM_MAX_CORES / 64)
#define SIM_CLOCK_MAX (((cycles_t)1 << (64 - SIM_CORE_BITS)) - 1) /* clocks stay below it: no key is RUNQ_EMPTY */

enum sim_mode {
	SIM_DET, /* one core runs at a time: the one with the smallest clock */
	SIM_PAR, /* all cores run at once; clock skew bounded by a quantum */
};

/* Options, kept apart from state (jemalloc style). */
struct sim_opts {
	uint32_t ncores;
	enum sim_mode mode;
	cycles_t quantum;	    /* SIM_PAR: barrier epoch length in cycles (0: one intra-CCX line transfer) */
	cycles_t lookahead;	    /* SIM_DET: run on while within this many cycles of the next core (0: exact order) */
	const struct machine *m;    /* cost table; must outlive the sim */
};

/*
 * Per-core counters. Each is written only by its own core's thread (or by
 * a sender on its behalf while it is not running), and summed after the run.
 */
struct sim_core_stats {
	/* the first line: what a handoff and a line hit write */
	uint64_t line_hits;	 /* coherent accesses satisfied locally */
	uint64_t line_xfers;	 /* accesses that moved a line from another core */
	uint64_t line_mem;	 /* accesses that filled a line from memory */
	cycles_t line_wait;	 /* cycles queued behind another transfer of the same line */
	cycles_t line_cycles;	 /* all cycles charged by the coherence model */
	uint64_t handoffs;	 /* SIM_DET: times this core passed the token */
	uint64_t lock_acquires;	 /* simulated lock acquisitions (any kind, any mode) */
	uint64_t lock_contended; /* acquisitions that had to wait */
	uint64_t line_l2;	 /* local accesses to a line this core holds that had left L1 (found in L2) */
	uint64_t line_l3;	 /* ... that had left L2 too (found in the core's L3 share) */
	uint64_t line_evicted;	 /* ... that had left every level (refetched from memory) */
	cycles_t spin;		 /* cycles spent spinning for a lock */
	cycles_t sleep;		 /* cycles spent asleep waiting for a lock */
	uint64_t irqs_sent;	 /* interrupts this core sent (one per target) */
	uint64_t irqs_taken;	 /* interrupts this core handled */
	cycles_t irq_cycles;	 /* cycles stolen from this core by interrupt handlers */
	uint64_t barriers;	 /* SIM_PAR: barrier waits */
};

struct sim;
struct sim_core;

/*
 * struct park: a binary semaphore that spins briefly before sleeping on a
 * futex, so a token that comes straight back costs no system call.
 * v: 0 empty, 1 posted, 2 empty with a sleeper.
 */
struct park {
	_Atomic uint32_t v;
};
void park_post(struct park *p);
void park_wait(struct park *p);


/* An interrupt request: fn runs in the target's context (or on its behalf while it is not running). */
struct irq_req {
	void (*fn)(struct sim_core *target, void *arg);
	void *arg;
	struct sim_core *target; /* set by sim_irq_send */
	struct irq_req *next;
	_Atomic int done;
};

/*
 * struct sim_core: one simulated core: a user-level context on the thread
 * that called sim_run (SIM_DET), or a pthread of its own (SIM_PAR).
 * Invariants: `clock` is written only by the core itself, except by
 * sim_charge_irq()/sim_wake() while the core is not running.
 */
struct sim_core {
	/* the first line: what every sync point and handoff reads */
	cycles_t clock;
	uint32_t id, ccx, socket;
	struct sim *sim;
	void *hw;   /* mmu per-CPU state (struct mmu_cpu) */
	void *user; /* the body's per-core state */
	struct sim_watch *watch; /* narration and timeline observers (sim/watch.h), or NULL */
	bool resume_due;  /* SIM_DET: sim.on_resume must run for this core before it runs on (set while it does not run) */
	bool blocked, done;

	/* the second line: its counters' first line (sim_core_stats) */
	struct sim_core_stats st __attribute__((aligned(CACHELINE)));
	struct ctx ctx;	  /* SIM_DET: the core's context and stack (kept from one sim_run to the next) */

	/* scheduling */
	struct park wake; /* SIM_PAR: posted by sim_wake */
	cycles_t wake_at; /* set by sim_wake: the earliest clock at which the core resumes */
	pthread_t thread; /* SIM_PAR */

	/* SIM_DET's simulated RCU (sim/rcu.h); written by the core itself, or by the engine while it does not run */
	uint32_t rcu_nest; /* read-side sections entered and not left */
	bool rcu_idle;	   /* in an extended quiescent state: idle (sim_rcu_idle), finished, or outside sim_run */
	uint64_t rcu_qs;   /* the grace period (sim.rcu_gp) it has reported a quiescent state for */
	uint32_t rcu_owed; /* barriers blocked until it leaves its current read-side section */

	/* interrupts (SIM_PAR mailbox; SIM_DET runs handlers at once) */
	_Atomic int irq_pending;
	atomic_flag mbox_lock;
	struct irq_req *mbox;
	pthread_mutex_t irq_mu; /* held while the core runs; free while it waits */
	_Atomic cycles_t stolen; /* SIM_PAR: handler cycles charged by others, folded at wake-up */

	struct cache cache; /* capacity of this core's caches (sim/cache.h) */
	uint64_t ccx_mask[SIM_MASK_WORDS];    /* cores in my CCX */
	uint64_t socket_mask[SIM_MASK_WORDS]; /* cores in my socket */
} __attribute__((aligned(CACHELINE)));

/* Hooks for outside effects, so tests can fake them (jemalloc style). */
struct sim_hooks {
	void (*core_start)(struct sim_core *c); /* on the core's thread before the body */
	void (*core_stop)(struct sim_core *c);	/* on the core's thread after the body */
	void *arg;
};

struct sim {
	struct sim_opts o;
	const struct machine *m;
	struct sim_core *cores; /* o.ncores of them */
	struct sim_hooks hooks;
	void (*body)(struct sim_core *, void *);
	void *body_arg;
	/*
	 * SIM_DET: work other cores left for a core, done when it next runs (or
	 * when sim_run ends): state only that core observes, such as its TLBs,
	 * need not change while it does not run. Set by the MMU (mmu_create).
	 */
	void (*on_resume)(struct sim_core *c);

	/* SIM_DET: the running core alone touches these */
	struct ctx main_ctx; /* the context of sim_run's caller, resumed when every core has finished */
	struct sim_rcu *rcu; /* simulated RCU (sim/rcu.c) */
	uint64_t rcu_gp;     /* the grace period in progress or last ended; a core with rcu_qs != rcu_gp owes a report */
	struct runq rq;	  /* runnable cores other than the running one, by sim_key (sim/runq.h) */
	uint64_t horizon; /* key of the smallest runnable core other than the running one, plus the lookahead */
	cycles_t horizon_clock; /* horizon >> SIM_CORE_BITS: a core whose clock is below it is below the horizon (sim_sync) */
	uint32_t nblocked;

	/* SIM_PAR barrier */
	pthread_mutex_t bar_mu;
	pthread_cond_t bar_cv;
	_Atomic cycles_t epoch_end;
	uint32_t participants, arrived;
	uint64_t generation;
	cycles_t min_arrived;
	uint32_t nalive;

	double host_seconds;	 /* wall time spent in sim_run */
	double host_cpu_seconds; /* CPU time the process spent in sim_run (all threads): what a loaded host does not inflate */
};

/* sim_create: cores are set up (clocks 0, topology from the machine) but no thread runs. */
struct sim *sim_create(const struct sim_opts *o);
void sim_destroy(struct sim *s);
void sim_set_hooks(struct sim *s, const struct sim_hooks *h);

/*
 * sim_run: run body(core, arg) on every core and return when all have
 * returned. SIM_DET runs the cores as user-level contexts on the calling
 * thread, switched in user space at sync points (no host context switch);
 * SIM_PAR runs each on a pthread of its own. Adds the host wall time to
 * s->host_seconds and the process's CPU time to s->host_cpu_seconds.
 */
void sim_run(struct sim *s, void (*body)(struct sim_core *, void *), void *arg);

/* Makespan: the largest core clock after sim_run. */
cycles_t sim_makespan(const struct sim *s);

/* Sum of every core's counters. */
void sim_stats_sum(const struct sim *s, struct sim_core_stats *out);

/*
 * sim_key: the deterministic scheduling order: by clock, and among equal
 * clocks by the core id scrambled with the clock, so that no core id is
 * always first (a fixed id order would make neighbours hand lines to each
 * other more often than on real hardware). Unique per core for a given clock.
 */
static inline uint64_t sim_key(const struct sim_core *c) { return runq_key(c->clock, c->id); }

/* sim_det_yield: sim_sync's slow path (SIM_DET): hand the token to the smallest core if this core's key is past the horizon. */
void sim_det_yield(struct sim_core *c);
void sim_par_barrier(struct sim_core *c);
void sim_irq_drain(struct sim_core *c);

/*
 * sim_sync: a synchronization point. Call before touching any state shared
 * with other cores. SIM_DET: yields the token unless this core still has the
 * smallest clock. SIM_PAR: waits at the barrier if the core is a quantum
 * ahead, and runs pending interrupts.
 */
static inline void sim_sync(struct sim_core *c)
{
	struct sim *s = c->sim;
	if (s->o.mode == SIM_DET) {
		if (unlikely(c->clock >= s->horizon_clock)) /* its key may pass the horizon: sim_det_yield compares keys */
			sim_det_yield(c);
	} else {
		if (unlikely(c->clock >= atomic_load_explicit(&s->epoch_end, memory_order_acquire)))
			sim_par_barrier(c);
		if (unlikely(atomic_load_explicit(&c->irq_pending, memory_order_acquire)))
			sim_irq_drain(c);
	}
}

/* sim_advance: charge `n` cycles of local work to this core. */
static inline void sim_advance(struct sim_core *c, cycles_t n)
{
	c->clock += n;
}

/*
 * Blocking in simulated time. The caller first records itself where a
 * waker will find it (a lock's wait queue), then calls sim_block(), which
 * returns once sim_wake() has been called for it. The caller's clock is
 * then at least the `at` given to sim_wake().
 * Precondition: no host lock held (the core may be descheduled).
 */
void sim_block(struct sim_core *c);
void sim_wake(struct sim_core *waker, struct sim_core *w, cycles_t at);

/*
 * Interrupts. sim_irq_send queues `r` for target `t` (SIM_PAR) or runs it at
 * once (SIM_DET). sim_irq_wait returns when every request in `rs` has run.
 * The request storage must stay valid until then. A core may send to itself.
 */
void sim_irq_send(struct sim_core *from, struct sim_core *t, struct irq_req *r);
void sim_irq_wait(struct sim_core *from, struct irq_req *rs, uint32_t n);

/*
 * sim_charge_irq: charge `n` cycles of interrupt-handler work to core t.
 * Called from an irq_req handler, which runs on t's thread or on another
 * core's thread while t is not running.
 */
void sim_charge_irq(struct sim_core *t, cycles_t n);

/* The running core of the calling thread (NULL outside sim_run's cores). Set by the schedulers only. */
extern _Thread_local struct sim_core *sim_cur;

/* sim_self: the core that calls (NULL outside sim_run's cores). */
static inline struct sim_core *sim_self(void) { return sim_cur; }



/* sim_irq_poll: run pending interrupts at an event boundary (SIM_PAR; free in SIM_DET). */
static inline void sim_irq_poll(struct sim_core *c)
{
	if (unlikely(atomic_load_explicit(&c->irq_pending, memory_order_acquire)))
		sim_irq_drain(c);
}
#endif
