/* rcu.c: call_rcu trampoline that tells ThreadSanitizer about the grace period. */
#include "sim/rcu.h"

#ifdef MMSIM_TSAN
char sim_rcu_token;
#endif

static void trampoline(struct rcu_head *h)
{
	struct sim_rcu_head *s = caa_container_of(h, struct sim_rcu_head, h);
	SIM_RCU_ACQUIRE();
	s->fn(s);
}

void sim_rcu_defer(struct sim_rcu_head *h, void (*fn)(struct sim_rcu_head *))
{
	h->fn = fn;
	SIM_RCU_RELEASE();
	urcu_memb_call_rcu(&h->h, trampoline);
}
