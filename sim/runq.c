/* runq.c: the run queue's set-up and its repair after keys grew in place (the rest is inline in runq.h). */
#include "sim/runq.h"
#include "sim/util.h"

void runq_init(struct runq *q, uint32_t n)
{
	if (n < 1 || n > 1u << RUNQ_ID_BITS)
		panic("runq_init: %u cores (1..%u)", n, 1u << RUNQ_ID_BITS);
	*q = (struct runq){ .p = 1 };
	while (q->p < n) {
		q->p *= 2;
		q->depth++;
	}
	q->node = xzalloc(sizeof(*q->node) * 2 * q->p);
	q->slot_of = xzalloc(sizeof(*q->slot_of) * n);
	q->free = xzalloc(sizeof(*q->free) * q->p);
	q->stale = xzalloc(sizeof(*q->stale) * n);
	q->is_stale = xzalloc(sizeof(*q->is_stale) * n);
	q->n = n;
	runq_clear(q);
}

void runq_free(struct runq *q)
{
	xfree(q->node);
	xfree(q->slot_of);
	xfree(q->free);
	xfree(q->stale);
	xfree(q->is_stale);
	*q = (struct runq){ 0 };
}

void runq_clear(struct runq *q)
{
	for (uint32_t i = 1; i < 2 * q->p; i++)
		q->node[i] = RUNQ_EMPTY;
	for (uint32_t i = 0; i < q->n; i++) {
		q->slot_of[i] = -1;
		q->is_stale[i] = false;
	}
	q->nstale = 0;
	/* Slot 0 is handed out first, then 1, ...: the first cores share the lowest subtrees. */
	q->nfree = q->p;
	for (uint32_t i = 0; i < q->p; i++)
		q->free[i] = q->p - 1 - i;
}

/*
 * Repair each stale slot's path (depth nodes each) or, when that would cost
 * more than recomputing every inner node once (a shootdown that charged
 * hundreds of cores), rebuild the tree bottom up: p - 1 nodes.
 */
void runq_fix_stale(struct runq *q)
{
	uint32_t n = q->nstale;
	q->nstale = 0;
	for (uint32_t k = 0; k < n; k++)
		q->is_stale[q->stale[k]] = false;
	if ((uint64_t)n * q->depth > q->p) {
		uint64_t *t = q->node;
		for (uint32_t i = q->p - 1; i >= 1; i--)
			t[i] = t[2 * i] < t[2 * i + 1] ? t[2 * i] : t[2 * i + 1];
		return;
	}
	for (uint32_t k = 0; k < n; k++) {
		int32_t slot = q->slot_of[q->stale[k]];
		if (slot >= 0)
			runq_set(q, (uint32_t)slot, q->node[q->p + (uint32_t)slot]);
	}
}
