/* mtree.h: a copy-on-write B+tree of VMAs shaped like Linux's maple tree (leaves of 16, inner nodes of 10), readable under RCU. */
#ifndef MMSIM_MTREE_H
#define MMSIM_MTREE_H

#include "sim/coh.h"
#include "sim/rcu.h"

#define MT_LEAF_MAX 16
#define MT_INNER_MAX 10

struct lvma;

/*
 * struct mt_node: immutable once published. A writer copies the nodes on
 * the path it changes and publishes a new root; readers under
 * rcu_read_lock see either the old tree or the new one, never a mix. Old
 * nodes are freed after a grace period. Each node is a modelled cache line:
 * readers pay for reading it, and a new copy starts in the writer's cache.
 */
struct mt_node {
	struct coh_line line;
	uint8_t leaf, n;
	uint64_t key[MT_LEAF_MAX]; /* leaf: start of each VMA; inner: lowest start under each child */
	union {
		struct lvma *vma[MT_LEAF_MAX];
		struct mt_node *child[MT_INNER_MAX + 1];
	};
	struct sim_rcu_head rcu;
};

/* Writers are serialized by the caller (mmap_lock held for writing). */
struct mtree {
	struct mt_node *root; /* RCU-published */
	struct coh_line root_line;
	uint64_t nodes;	      /* nodes in the current tree (for metadata bytes) */
	uint32_t height;
};

/* The VMA interface the tree needs: its start and end (read atomically). */
uint64_t lvma_start(const struct lvma *v);
uint64_t lvma_end(const struct lvma *v);

void mt_init(struct mtree *t);
/* mt_destroy: free every node now (no readers may remain). VMAs are not freed. */
void mt_destroy(struct mtree *t);

/*
 * mt_find: the VMA containing addr, or the first one above it; NULL if
 * none. Caller holds mmap_lock, or is inside rcu_read_lock. Charges a line
 * read and kern.node_visit per node visited (c may be NULL: no charge).
 */
struct lvma *mt_find(struct mtree *t, struct sim_core *c, uint64_t addr);
/* mt_prev: the last VMA starting below addr (NULL if none). Same rules. */
struct lvma *mt_prev(struct mtree *t, struct sim_core *c, uint64_t addr);

/* mt_insert / mt_erase: add v (keyed by its start) or remove the VMA whose start is `start`. mmap_lock write held. */
void mt_insert(struct mtree *t, struct sim_core *c, struct lvma *v);
void mt_erase(struct mtree *t, struct sim_core *c, uint64_t start);

/* mt_for_each: call fn on every VMA with end > start and start < end, in order (writer or host). */
void mt_for_each(struct mtree *t, uint64_t start, uint64_t end, void (*fn)(void *, struct lvma *), void *arg);

#endif
