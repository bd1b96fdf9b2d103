/* lock.h: simulated locks (spinlock, MCS, reader-writer semaphore, mutex) built on modelled lines; waiting is in simulated time. */
#ifndef MMSIM_LOCK_H
#define MMSIM_LOCK_H

#include "sim/coh.h"

/*
 * Every lock here is two things at once:
 * - a real mutual-exclusion object for the host data it protects (in
 *   SIM_PAR several host threads really contend for it), and
 * - a timing model: acquiring and releasing are accesses to the lock's
 *   modelled line(s), and a waiter's clock moves to the release time plus
 *   the handoff (a line transfer for spinners, kern.wakeup for sleepers).
 * Waiters are granted in FIFO order. Spin and sleep cycles are counted
 * apart in the waiter's sim_core_stats.
 *
 * Preconditions for all lock calls: the caller runs on core `c` inside
 * sim_run, holds no host lock, and (for unlock) holds the lock.
 */

struct lk_waiter;

struct lk_queue {
	struct lk_waiter *head, *tail;
	_Atomic uint8_t hl; /* SIM_PAR host guard for the lock's state */
};

/* Queued spinlock (qspinlock-like): waiters spin; handoff costs one transfer of the lock line. */
struct lk_spin {
	struct coh_line line;
	struct lk_queue q;
	int32_t holder; /* id+1 of the holding core, 0 = free */
};

/* MCS lock: waiters spin on their own node; handoff writes the successor's node line. */
struct lk_mcs {
	struct coh_line tail; /* the tail pointer word */
	struct lk_queue q;
	int32_t holder;
};

/*
 * Reader-writer semaphore, shaped like Linux's rwsem (kernel/locking/rwsem.c
 * as of 6.x): the count word is one line, so every reader does an atomic on
 * it. A reader that must wait sleeps (reader optimistic spinning was removed
 * in Linux 5.11); a writer spins while a writer owns the lock and sleeps
 * while readers own it. New readers queue behind waiting writers.
 */
struct lk_rwsem {
	struct coh_line count;
	struct lk_queue q;
	uint32_t readers;
	int32_t writer; /* id+1 of the writing core, 0 = none */
};

/* Mutex: the owner is always running in the simulation, so waiters spin (optimistic spinning). */
struct lk_mutex {
	struct lk_spin s;
};

void lk_spin_init(struct lk_spin *l);
void lk_spin_lock(struct sim_core *c, struct lk_spin *l);
bool lk_spin_trylock(struct sim_core *c, struct lk_spin *l);
void lk_spin_unlock(struct sim_core *c, struct lk_spin *l);

void lk_mcs_init(struct lk_mcs *l);
void lk_mcs_lock(struct sim_core *c, struct lk_mcs *l);
void lk_mcs_unlock(struct sim_core *c, struct lk_mcs *l);

void lk_rwsem_init(struct lk_rwsem *l);
void lk_down_read(struct sim_core *c, struct lk_rwsem *l);
bool lk_down_read_trylock(struct sim_core *c, struct lk_rwsem *l);
void lk_up_read(struct sim_core *c, struct lk_rwsem *l);
void lk_down_write(struct sim_core *c, struct lk_rwsem *l);
bool lk_down_write_trylock(struct sim_core *c, struct lk_rwsem *l);
void lk_up_write(struct sim_core *c, struct lk_rwsem *l);
/* lk_downgrade_write: writer becomes a reader without releasing; waiting readers at the head join it. */
void lk_downgrade_write(struct sim_core *c, struct lk_rwsem *l);

static inline void lk_mutex_init(struct lk_mutex *l) { lk_spin_init(&l->s); }
static inline void lk_mutex_lock(struct sim_core *c, struct lk_mutex *l) { lk_spin_lock(c, &l->s); }
static inline void lk_mutex_unlock(struct sim_core *c, struct lk_mutex *l) { lk_spin_unlock(c, &l->s); }

/*
 * Barrier in simulated time: the first n-1 arrivals wait; the last one
 * releases everybody at its own clock (plus kern.wakeup for the sleepers).
 * Reusable: a barrier resets when it releases.
 */
struct lk_barrier {
	struct lk_queue q;
	uint32_t n, arrived;
	struct coh_line line;
};
void lk_barrier_init(struct lk_barrier *b, uint32_t n);
void lk_barrier_wait(struct sim_core *c, struct lk_barrier *b);

static inline bool lk_spin_held(const struct lk_spin *l) { return l->holder != 0; }
/* lk_spin_mine: whether core c holds l (a check, charged nothing; safe in parallel mode). */
bool lk_spin_mine(struct sim_core *c, struct lk_spin *l);
static inline bool lk_mcs_held(const struct lk_mcs *l) { return l->holder != 0; }
static inline bool lk_rwsem_write_held(const struct lk_rwsem *l) { return l->writer != 0; }
static inline uint32_t lk_rwsem_readers(const struct lk_rwsem *l) { return l->readers; }

#endif
