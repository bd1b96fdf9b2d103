/* runq.h: the deterministic scheduler's run queue: scheduling keys and a winner tree of the runnable cores' keys, smallest at the root. */
#ifndef MMSIM_RUNQ_H
#define MMSIM_RUNQ_H

#include <stdbool.h>
#include <stdint.h>

#define RUNQ_ID_BITS 9		  /* bits of a core id in a key */
#define RUNQ_EMPTY UINT64_MAX	  /* the key of an empty slot; no core's key (runq_key panics before it) */
#define RUNQ_SCRAMBLE 0x9E3779B97F4A7C15ull

/*
 * runq_key: the order of cores: by clock, and among equal clocks by the id
 * scrambled with the clock (sim_key says why). Unique per core for a clock;
 * clock must be below 2^(64 - RUNQ_ID_BITS) - 1 (so no key is RUNQ_EMPTY).
 */
static inline uint64_t runq_key(uint64_t clock, uint32_t id)
{
	uint64_t h = ((clock + 1) * RUNQ_SCRAMBLE) >> (64 - RUNQ_ID_BITS);
	return (clock << RUNQ_ID_BITS) | (id ^ h);
}

/* runq_key_id: the core id a key was made from (the inverse of runq_key's scramble). */
static inline uint32_t runq_key_id(uint64_t key)
{
	uint64_t h = (((key >> RUNQ_ID_BITS) + 1) * RUNQ_SCRAMBLE) >> (64 - RUNQ_ID_BITS);
	return (uint32_t)((key ^ h) & ((1u << RUNQ_ID_BITS) - 1));
}

/*
 * struct runq: a tournament (winner) tree over `p` slots, p the power of two
 * at or above the number of cores. node[p + slot] is the key of the core in
 * that slot (RUNQ_EMPTY if none), node[i] the smaller of node[2i] and
 * node[2i + 1], so node[1] is the smallest key. Changing one slot rewrites
 * the log2(p) nodes above it without a data-dependent branch, and taking the
 * smallest core out while putting another in (runq_replace_top) is one such
 * pass over the slot the smallest leaves. Keys are unique, so which core is
 * smallest does not depend on where the cores sit.
 * Keys of queued cores may grow in place (runq_raise); such slots are listed
 * as stale and the nodes above them repaired (runq_fix) before the tree is
 * next read.
 */
struct runq {
	uint64_t *node;	   /* 2p entries; node[0] unused */
	int32_t *slot_of;  /* by core id: its slot, -1 if not queued */
	uint32_t *free;	   /* slots with no core, a stack */
	uint32_t nfree;
	uint32_t *stale;   /* ids of queued cores whose keys grew in place, not yet repaired */
	uint32_t nstale;
	bool *is_stale;	   /* by core id: listed in stale */
	uint32_t n;	   /* core ids are below n */
	uint32_t p, depth; /* slots and levels above them (p = 2^depth) */
};

/* runq_init: an empty queue for core ids below n (1..2^RUNQ_ID_BITS). runq_free releases it. */
void runq_init(struct runq *q, uint32_t n);
void runq_free(struct runq *q);

/* runq_clear: empty the queue. */
void runq_clear(struct runq *q);

/* runq_fix_stale: repair the nodes above every stale slot (runq_fix's slow path). */
void runq_fix_stale(struct runq *q);

/* runq_set: write `key` into slot and the smaller keys up to the root. */
static inline void runq_set(struct runq *q, uint32_t slot, uint64_t key)
{
	uint64_t *t = q->node;
	uint32_t i = q->p + slot;
	t[i] = key;
	for (uint32_t d = q->depth; d; d--) {
		uint64_t sib = t[i ^ 1];
		key = sib < key ? sib : key;
		i >>= 1;
		t[i] = key;
	}
}

/* runq_fix: make the tree current after keys grew in place. */
static inline void runq_fix(struct runq *q)
{
	if (__builtin_expect(q->nstale != 0, 0))
		runq_fix_stale(q);
}

/* runq_top: the smallest queued key, RUNQ_EMPTY if none (the tree must be current: runq_fix). */
static inline uint64_t runq_top(const struct runq *q) { return q->node[1]; }

/* runq_push: queue core id with `key` (id not queued, the tree current). */
static inline void runq_push(struct runq *q, uint32_t id, uint64_t key)
{
	uint32_t slot = q->free[--q->nfree];
	q->slot_of[id] = (int32_t)slot;
	runq_set(q, slot, key);
}

/* runq_pop: take out the core with the smallest key and return its id (the queue not empty, the tree current). */
static inline uint32_t runq_pop(struct runq *q)
{
	uint32_t id = runq_key_id(q->node[1]), slot = (uint32_t)q->slot_of[id];
	q->slot_of[id] = -1;
	q->free[q->nfree++] = slot;
	runq_set(q, slot, RUNQ_EMPTY);
	return id;
}

/* runq_replace_top: as runq_pop then runq_push(id, key), in one pass: the popped core's id (the queue not empty, the tree current). */
static inline uint32_t runq_replace_top(struct runq *q, uint32_t id, uint64_t key)
{
	uint32_t top = runq_key_id(q->node[1]), slot = (uint32_t)q->slot_of[top];
	q->slot_of[top] = -1;
	q->slot_of[id] = (int32_t)slot;
	runq_set(q, slot, key);
	return top;
}

/* runq_raise: a queued core's key grew to `key` (no-op if id is not queued); the tree is stale until runq_fix. */
static inline void runq_raise(struct runq *q, uint32_t id, uint64_t key)
{
	int32_t slot = q->slot_of[id];
	if (slot < 0)
		return;
	q->node[q->p + (uint32_t)slot] = key;
	if (!q->is_stale[id]) {
		q->is_stale[id] = true;
		q->stale[q->nstale++] = id;
	}
}

/* runq_queued: whether core id is queued. */
static inline bool runq_queued(const struct runq *q, uint32_t id) { return q->slot_of[id] >= 0; }

#endif
