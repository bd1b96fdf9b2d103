/* rcu.h: liburcu (memb flavour) for the designs, with ThreadSanitizer annotations for its grace periods. */
#ifndef MMSIM_RCU_H
#define MMSIM_RCU_H

#include <urcu/urcu-memb.h>

/*
 * liburcu is not built with ThreadSanitizer, so TSan cannot see that a
 * callback queued with call_rcu runs after every read-side section that
 * could reach the object. These wrappers state it: leaving a read-side
 * section and queueing a callback release a token that every callback
 * acquires before it runs. Outside TSan builds they are plain liburcu.
 *
 * Precondition (liburcu's): the calling thread is registered
 * (urcu_memb_register_thread), as every simulated core's thread is.
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

struct sim_rcu_head {
	struct rcu_head h;
	void (*fn)(struct sim_rcu_head *);
};

static inline void sim_rcu_read_lock(void) { urcu_memb_read_lock(); }

static inline void sim_rcu_read_unlock(void)
{
	SIM_RCU_RELEASE();
	urcu_memb_read_unlock();
}

/* sim_rcu_defer: run fn(h) after a grace period (call_rcu). */
void sim_rcu_defer(struct sim_rcu_head *h, void (*fn)(struct sim_rcu_head *));

/* sim_rcu_barrier: wait until every callback deferred so far has run (rcu_barrier). Outside read sections only. */
static inline void sim_rcu_barrier(void)
{
	urcu_memb_barrier();
	SIM_RCU_ACQUIRE();
}

#endif
