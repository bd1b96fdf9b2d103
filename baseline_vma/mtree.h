/* mtree.h: a copy-on-write B+tree of ranges shaped like Linux's maple tree (leaves of 16, inner nodes of 10 with the largest free gap under each child), readable under RCU; it knows its entries only through their start key and an end callback. */
#ifndef MMSIM_MTREE_H
#define MMSIM_MTREE_H

#include "sim/coh.h"
#include "sim/rcu.h"

#define MT_LEAF_MAX 16
#define MT_INNER_MAX 10

/*
 * struct mt_node: a leaf is immutable once published. A writer builds a new
 * leaf for each change and, as Linux's maple tree does (mas_put_in_tree),
 * puts it in its parent's slot in place, rewriting in place the inner keys
 * and gaps that change with it; only a split or an emptied node copies the
 * path above it and publishes a new root. Readers under rcu_read_lock see
 * each node whole, old or new (an inner key, read atomically, old or new
 * routes them right). Old nodes are freed after a grace period. Each node is
 * a modelled cache line: readers pay for reading it, a new node starts in
 * the writer's cache, and an in-place rewrite is a line write.
 *
 * The one exception is an inner node's gap[], which only writers read (the
 * address search runs with mmap_lock held for writing): like the gaps of
 * Linux's maple_arange_64 nodes (mas_update_gap), it is rewritten in place
 * when an entry's end moves. gap[i] is the largest free gap in child i's
 * part of the key space: the part runs from the child's lowest key (0 for
 * the leftmost child of the tree) up to the next child's lowest key (the
 * top, UINT64_MAX, for the rightmost), so each free gap, from an entry's
 * end to the next entry's start (from 0 to the first entry's start), lies
 * in exactly one leaf.
 */
struct mt_node {
	struct coh_line line;
	uint8_t leaf, n;
	uint64_t key[MT_LEAF_MAX]; /* leaf: start of each entry; inner: lowest start under each child */
	union {
		void *val[MT_LEAF_MAX]; /* leaf: the entries */
		struct {
			struct mt_node *child[MT_INNER_MAX + 1];
			uint64_t gap[MT_INNER_MAX + 1]; /* inner: the largest free gap under each child (see above) */
		};
	};
	struct sim_rcu_head rcu;
};

/*
 * struct mt_ops: what the tree knows of its entries, which are opaque
 * ranges [start, end) that do not overlap: where one starts (its key) and
 * where it ends (which its owner may move, keeping the ranges apart, then
 * calls mt_update before the next search or check, unless it next inserts
 * the entry that follows it, which lands in its leaf and recomputes its
 * gaps; a start moves only by erase and insert).
 */
struct mt_ops {
	uint64_t (*start)(const void *entry);
	uint64_t (*end)(const void *entry);
};

/* struct mtree: writers are serialized by the caller (mmap_lock held for writing). */
struct mtree {
	const struct mt_ops *ops;
	struct mt_node *root; /* RCU-published */
	struct coh_line root_line;
	uint64_t nodes;	      /* nodes in the current tree (for metadata bytes) */
	uint32_t height;
};

/* mt_init: an empty tree of entries seen through ops. */
void mt_init(struct mtree *t, const struct mt_ops *ops);
/* mt_destroy: free every node now (no readers may remain). Entries are not freed. */
void mt_destroy(struct mtree *t);

/*
 * mt_find: the entry containing addr, or the first one above it; NULL if
 * none. Caller holds mmap_lock, or is inside rcu_read_lock. Charges a line
 * read and kern.mt_node per node visited (c may be NULL: no charge).
 */
void *mt_find(struct mtree *t, struct sim_core *c, uint64_t addr);
/* mt_prev: the last entry starting below addr (NULL if none). Same rules. */
void *mt_prev(struct mtree *t, struct sim_core *c, uint64_t addr);

/* mt_insert / mt_erase: add v (keyed by its start) or remove the entry whose start is `start`. Writers serialized. */
void mt_insert(struct mtree *t, struct sim_core *c, void *v);
void mt_erase(struct mtree *t, struct sim_core *c, uint64_t start);
/*
 * mt_update: the entry starting at `start` has moved its end: bring the
 * gaps above it up to date, in place. Writers serialized. The walk down is
 * not charged (Linux stores through the VMA iterator already there); each
 * node whose gap changes costs a line write and kern.mt_node.
 */
void mt_update(struct mtree *t, struct sim_core *c, uint64_t start);

/*
 * mt_gap_rev: vm_unmapped_area's top-down walk over the free gaps. Calls
 * fit(arg, below, above) on consecutive entries (below NULL: the gap under
 * the lowest entry; above NULL: the gap over the highest; both NULL in an
 * empty tree), below ending under high, from the highest such pair down,
 * and returns the first nonzero result (0 when none is). It skips, without
 * visiting their nodes, the pairs whose free space, above's start
 * (UINT64_MAX without above) less below's end (0 without below), is under
 * len: fit must return 0 for them, so that the skipping changes nothing.
 * Writers only (it reads the gaps). Charges a line read and kern.mt_node
 * per node visited, as mt_find (c may be NULL).
 */
uint64_t mt_gap_rev(struct mtree *t, struct sim_core *c, uint64_t high, uint64_t len,
		    uint64_t (*fit)(void *arg, const void *below, const void *above), void *arg);

/* mt_for_each: call fn on every entry with end > start and start < end, in order (writer or host). */
void mt_for_each(struct mtree *t, uint64_t start, uint64_t end, void (*fn)(void *arg, void *entry), void *arg);
/*
 * mt_check: is the tree sound where it holds [start, end) (host, no
 * writer)? In every node on a path to that range: no node empty or over
 * full, each inner key the lowest key under its child, every leaf at the
 * tree's height; in the leaves met: keys strictly increasing, each the
 * start of its entry, entries non-empty and apart; each gap[] the largest
 * free gap under its child (in the nodes visited). With `full` (start 0,
 * end the top), also that `nodes` counts the nodes. Costs the paths to the
 * range and its leaves. 0, or -1 with the first fault in why.
 */
int mt_check(const struct mtree *t, uint64_t start, uint64_t end, bool full, char *why, size_t n);

#endif
