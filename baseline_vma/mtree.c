/* mtree.c: COW B+tree operations: lock-free lookups, path-copying inserts and erases, RCU-deferred frees, gap tracking and the top-down gap search, and its own check. */
#include "baseline_vma/mtree.h"

#include <string.h>

static struct mt_node *node_new(struct mtree *t, struct sim_core *c, bool leaf)
{
	struct mt_node *n = xaligned_zalloc(CACHELINE, sizeof(*n));
	n->leaf = leaf;
	if (c) { /* written by this core just now */
		n->line.owner = n->line.last = (uint16_t)(c->id + 1);
		sim_advance(c, c->sim->m->mt_node + c->sim->m->slab_alloc); /* built, from the node cache */
	}
	t->nodes++;
	return n;
}

static void node_free_rcu(struct sim_rcu_head *h) { xfree(caa_container_of(h, struct mt_node, rcu)); }

/* node_retire: n left the tree; freed after a grace period (the slab free charged to c now, as kfree_rcu queues it). */
static void node_retire(struct mtree *t, struct sim_core *c, struct mt_node *n)
{
	if (c)
		sim_advance(c, c->sim->m->slab_free);
	t->nodes--;
	sim_rcu_defer(&n->rcu, node_free_rcu);
}

static struct mt_node *node_copy(struct mtree *t, struct sim_core *c, const struct mt_node *o)
{
	struct mt_node *n = node_new(t, c, o->leaf);
	n->n = o->n;
	memcpy(n->key, o->key, sizeof(n->key));
	memcpy(n->child, o->child, sizeof(n->child));
	memcpy(n->gap, o->gap, sizeof(n->gap));
	return n;
}

static void visit(struct sim_core *c, struct mt_node *n)
{
	if (c) {
		coh_read(c, &n->line);
		sim_advance(c, c->sim->m->mt_node);
	}
}

void mt_init(struct mtree *t, const struct mt_ops *ops)
{
	memset(t, 0, sizeof(*t));
	t->ops = ops;
}

static void destroy_rec(struct mt_node *n)
{
	if (!n)
		return;
	if (!n->leaf)
		for (int i = 0; i < n->n; i++)
			destroy_rec(n->child[i]);
	xfree(n);
}

void mt_destroy(struct mtree *t)
{
	destroy_rec(t->root);
	t->root = NULL;
	t->nodes = 0;
}

/*
 * Publishing: a node becomes reachable by one pointer store, the root or a
 * parent's slot, with release order; readers load those pointers with
 * acquire order, so a reader that finds a node sees it whole (what
 * rcu_assign_pointer and rcu_dereference promise, said so that a race
 * detector sees it too). Both are plain moves on x86-64.
 */
static inline struct mt_node *child_at(const struct mt_node *n, int i) { return __atomic_load_n(&n->child[i], __ATOMIC_ACQUIRE); }
static inline struct mt_node *root_at(const struct mtree *t) { return __atomic_load_n(&t->root, __ATOMIC_ACQUIRE); }
static inline void publish(struct mt_node **slot, struct mt_node *n) { __atomic_store_n(slot, n, __ATOMIC_RELEASE); }

/*
 * Child of inner node n to descend into for addr: the last one whose lowest
 * key is <= addr. An inner key may be rewritten in place under a reader
 * (replace_in_place), so it is read atomically; either value routes right.
 */
static int route(const struct mt_node *n, uint64_t addr)
{
	int i = 0;
	while (i + 1 < n->n && __atomic_load_n(&n->key[i + 1], __ATOMIC_RELAXED) <= addr)
		i++;
	return i;
}

#define MT_MAX_HEIGHT 24

struct path {
	struct mt_node *node[MT_MAX_HEIGHT];
	int idx[MT_MAX_HEIGHT];
	int depth; /* node[depth-1] is the leaf */
};

static struct mt_node *load_root(struct mtree *t, struct sim_core *c)
{
	if (c)
		coh_read(c, &t->root_line);
	return root_at(t);
}

/* Descend to the leaf for addr, recording the path. */
static void descend(struct mtree *t, struct sim_core *c, uint64_t addr, struct path *p)
{
	p->depth = 0;
	struct mt_node *n = load_root(t, c);
	while (n) {
		visit(c, n);
		if (p->depth >= MT_MAX_HEIGHT)
			panic("mtree deeper than %d", MT_MAX_HEIGHT);
		p->node[p->depth] = n;
		if (n->leaf) {
			p->idx[p->depth++] = 0;
			return;
		}
		int i = route(n, addr);
		p->idx[p->depth++] = i;
		n = child_at(n, i);
	}
}

/* ---- gaps (mtree.h: struct mt_node) ---- */

/*
 * leaf_gap: the largest free gap in leaf n's part of the key space: between
 * its entries, from its last entry's end to hi (the next leaf's lowest key,
 * or the top), and, in the leftmost leaf, from 0 to its first entry.
 */
static uint64_t leaf_gap(const struct mtree *t, const struct mt_node *n, bool leftmost, uint64_t hi)
{
	uint64_t g = leftmost && n->n ? n->key[0] : 0;
	for (int i = 0; i < n->n; i++) {
		uint64_t end = t->ops->end(n->val[i]), next = i + 1 < n->n ? n->key[i + 1] : hi;
		if (next > end && next - end > g)
			g = next - end;
	}
	return g;
}

/* inner_gap: the largest gap under inner node n. */
static uint64_t inner_gap(const struct mt_node *n)
{
	uint64_t g = 0;
	for (int i = 0; i < n->n; i++)
		g = MAX(g, n->gap[i]);
	return g;
}

/* path_hi: where the part of the key space of p's node at depth d ends: the next child's lowest key above it, or the top. */
static uint64_t path_hi(const struct path *p, int d)
{
	for (int u = d - 1; u >= 0; u--)
		if (p->idx[u] + 1 < p->node[u]->n)
			return p->node[u]->key[p->idx[u] + 1];
	return UINT64_MAX;
}

/* path_leftmost: is p's node at depth d the leftmost one of its level? */
static bool path_leftmost(const struct path *p, int d)
{
	for (int u = 0; u < d; u++)
		if (p->idx[u])
			return false;
	return true;
}

/*
 * carry_up: from p's node at depth up to the root, write in place what the
 * path's child below now has: its lowest key while that may have moved
 * (key_moves: it can only move at a node reached through slot 0) and its
 * largest gap g (only writers read gaps: in place, as mas_update_gap). Stops
 * at the first node where nothing changes, unless slot says its slot was
 * just rewritten. Each node written costs a line write and kern.mt_node.
 */
static void carry_up(struct sim_core *c, const struct path *p, int up, bool slot, bool key_moves, uint64_t key,
		     uint64_t g)
{
	for (; up >= 0; up--, slot = false) {
		struct mt_node *n = p->node[up];
		int i = p->idx[up];
		bool wrote = slot;
		if (key_moves && n->key[i] != key) {
			__atomic_store_n(&n->key[i], key, __ATOMIC_RELAXED);
			wrote = true;
			key_moves = i == 0;
		} else {
			key_moves = false;
		}
		if (n->gap[i] != g) {
			n->gap[i] = g;
			wrote = true;
		}
		if (!wrote)
			return;
		if (c) {
			coh_write(c, &n->line);
			sim_advance(c, c->sim->m->mt_node);
		}
		g = inner_gap(n);
	}
}

/*
 * gap_fix: recompute the gap of the leaf holding addr and carry it up, in
 * place, until an ancestor already records it. The walk down is not
 * charged (mtree.h: mt_update).
 */
static void gap_fix(struct mtree *t, struct sim_core *c, uint64_t addr)
{
	struct path p;
	descend(t, NULL, addr, &p);
	if (!p.depth)
		return;
	int d = p.depth - 1;
	carry_up(c, &p, d - 1, false, false, 0, leaf_gap(t, p.node[d], path_leftmost(&p, d), path_hi(&p, d)));
}

void mt_update(struct mtree *t, struct sim_core *c, uint64_t start) { gap_fix(t, c, start); }

/* First entry of the leftmost leaf under n. */
static void *leftmost(struct sim_core *c, struct mt_node *n)
{
	while (n) {
		visit(c, n);
		if (n->leaf)
			return n->n ? n->val[0] : NULL;
		n = child_at(n, 0);
	}
	return NULL;
}

/* The first entry after the leaf at the end of path p (NULL if none). */
static void *after_leaf(struct sim_core *c, struct path *p)
{
	for (int d = p->depth - 2; d >= 0; d--) {
		struct mt_node *in = p->node[d];
		if (p->idx[d] + 1 < in->n)
			return leftmost(c, child_at(in, p->idx[d] + 1));
	}
	return NULL;
}

void *mt_find(struct mtree *t, struct sim_core *c, uint64_t addr)
{
	struct path p;
	descend(t, c, addr, &p);
	if (!p.depth)
		return NULL;
	struct mt_node *leaf = p.node[p.depth - 1];
	for (int i = 0; i < leaf->n; i++)
		if (t->ops->end(leaf->val[i]) > addr)
			return leaf->val[i];
	return after_leaf(c, &p);
}

void *mt_prev(struct mtree *t, struct sim_core *c, uint64_t addr)
{
	struct path p;
	descend(t, c, addr ? addr - 1 : 0, &p);
	if (!p.depth || !addr)
		return NULL;
	struct mt_node *leaf = p.node[p.depth - 1];
	for (int i = leaf->n - 1; i >= 0; i--)
		if (leaf->key[i] < addr)
			return leaf->val[i];
	/* Everything here starts at or above addr: the previous leaf's last entry. */
	for (int d = p.depth - 2; d >= 0; d--) {
		struct mt_node *in = p.node[d];
		if (p.idx[d] > 0) {
			struct mt_node *n = child_at(in, p.idx[d] - 1);
			while (n && !n->leaf) {
				visit(c, n);
				n = child_at(n, n->n - 1);
			}
			if (n) {
				visit(c, n);
				return n->n ? n->val[n->n - 1] : NULL;
			}
		}
	}
	return NULL;
}

/*
 * gap_leaf: mt_gap_rev in the leaf at the end of path p: its entries that
 * end under high, from the top down, then the gap under the first entry of
 * the tree. Sets *r to the first nonzero fit; false when the walk is over.
 */
static bool gap_leaf(struct mtree *t, struct sim_core *c, struct path *p, uint64_t high, uint64_t len,
		     uint64_t (*fit)(void *, const void *, const void *), void *arg, uint64_t *r)
{
	int d = p->depth - 1;
	struct mt_node *n = p->node[d];
	uint64_t hi = path_hi(p, d);
	for (int i = n->n - 1; i >= 0 && !*r; i--) {
		uint64_t end = t->ops->end(n->val[i]), next = i + 1 < n->n ? n->key[i + 1] : hi;
		if (end >= high || next < end || next - end < len)
			continue;
		*r = fit(arg, n->val[i], i + 1 < n->n ? n->val[i + 1] : after_leaf(c, p));
	}
	if (!*r && path_leftmost(p, d) && n->key[0] >= len)
		*r = fit(arg, NULL, n->val[0]);
	return !*r && !path_leftmost(p, d);
}

uint64_t mt_gap_rev(struct mtree *t, struct sim_core *c, uint64_t high, uint64_t len,
		    uint64_t (*fit)(void *arg, const void *below, const void *above), void *arg)
{
	struct mt_node *n = load_root(t, c);
	if (!n)
		return fit(arg, NULL, NULL);
	struct path p = { .depth = 1 };
	visit(c, n);
	p.node[0] = n;
	p.idx[0] = n->n; /* an inner node's idx: the child last entered (its n before any) */
	uint64_t r = 0;
	while (p.depth) {
		int d = p.depth - 1;
		n = p.node[d];
		if (n->leaf) {
			if (!gap_leaf(t, c, &p, high, len, fit, arg, &r))
				return r;
			p.depth--;
			continue;
		}
		/* The next child to the left whose part starts under high and holds a gap of len. */
		int i = p.idx[d] - 1;
		while (i >= 0 && ((i > 0 && n->key[i] >= high) || n->gap[i] < len))
			i--;
		if (i < 0) {
			p.depth--;
			continue;
		}
		p.idx[d] = i;
		if (p.depth >= MT_MAX_HEIGHT)
			panic("mtree deeper than %d", MT_MAX_HEIGHT);
		struct mt_node *ch = child_at(n, i);
		visit(c, ch);
		p.node[p.depth] = ch;
		p.idx[p.depth++] = ch->n;
	}
	return r;
}

/*
 * replace_in_place: put `a` (largest gap ga) in the slot of p->node[d] (d >
 * 0) in its parent, as Linux's maple tree puts a rewritten node in its
 * parent's slot (lib/maple_tree.c, mas_put_in_tree): nothing above is
 * copied. The parent, and each ancestor whose key or gap for the path
 * changes with it, is written in place: a line write and kern.mt_node each.
 * A reader under RCU meanwhile finds the old node or the new one, each
 * whole; an inner key it reads (route) is the old one or the new, and
 * either routes it to a node holding what the tree held before or after.
 * Retires the replaced node.
 */
static void replace_in_place(struct mtree *t, struct sim_core *c, struct path *p, int d, struct mt_node *a, uint64_t ga)
{
	struct mt_node *old = p->node[d];
	publish(&p->node[d - 1]->child[p->idx[d - 1]], a);
	carry_up(c, p, d - 1, true, true, a->key[0], ga);
	node_retire(t, c, old);
}

/*
 * Replace p->node[d] by `a` (and `b` after it, when the node split), whose
 * largest gaps are ga and gb. A node replaced by one node goes in its
 * parent's slot (replace_in_place); a split or an emptied node copies the
 * path above, retires the replaced nodes and publishes the new root.
 */
static void rebuild(struct mtree *t, struct sim_core *c, struct path *p, int d, struct mt_node *a, struct mt_node *b,
		    uint64_t ga, uint64_t gb)
{
	if (d > 0 && a && !b) {
		replace_in_place(t, c, p, d, a, ga);
		return;
	}
	struct mt_node *old = p->node[d];
	for (int up = d - 1; up >= 0; up--) {
		struct mt_node *par = p->node[up];
		int i = p->idx[up];
		struct mt_node *n = node_copy(t, c, par);
		if (!a) { /* child became empty: drop it */
			memmove(&n->key[i], &n->key[i + 1], sizeof(n->key[0]) * (size_t)(n->n - i - 1));
			memmove(&n->child[i], &n->child[i + 1], sizeof(n->child[0]) * (size_t)(n->n - i - 1));
			memmove(&n->gap[i], &n->gap[i + 1], sizeof(n->gap[0]) * (size_t)(n->n - i - 1));
			n->n--;
		} else {
			n->child[i] = a;
			n->key[i] = a->key[0];
			n->gap[i] = ga;
			if (b) {
				memmove(&n->key[i + 2], &n->key[i + 1], sizeof(n->key[0]) * (size_t)(n->n - i - 1));
				memmove(&n->child[i + 2], &n->child[i + 1], sizeof(n->child[0]) * (size_t)(n->n - i - 1));
				memmove(&n->gap[i + 2], &n->gap[i + 1], sizeof(n->gap[0]) * (size_t)(n->n - i - 1));
				n->child[i + 1] = b;
				n->key[i + 1] = b->key[0];
				n->gap[i + 1] = gb;
				n->n++;
			}
		}
		node_retire(t, c, old);
		old = par;
		a = n->n ? n : NULL;
		b = NULL;
		if (!a) { /* never published: free it now */
			xfree(n);
			t->nodes--;
			continue;
		}
		if (n->n > MT_INNER_MAX) { /* split the inner node */
			struct mt_node *r = node_new(t, c, false);
			int keep = n->n / 2;
			r->n = (uint8_t)(n->n - keep);
			memcpy(r->key, &n->key[keep], sizeof(r->key[0]) * r->n);
			memcpy(r->child, &n->child[keep], sizeof(r->child[0]) * r->n);
			memcpy(r->gap, &n->gap[keep], sizeof(r->gap[0]) * r->n);
			n->n = (uint8_t)keep;
			b = r;
			gb = inner_gap(r);
		}
		ga = inner_gap(n);
	}
	node_retire(t, c, old);
	struct mt_node *root = a;
	if (a && b) { /* the root split: grow a level */
		root = node_new(t, c, false);
		root->n = 2;
		root->child[0] = a;
		root->key[0] = a->key[0];
		root->gap[0] = ga;
		root->child[1] = b;
		root->key[1] = b->key[0];
		root->gap[1] = gb;
		t->height++;
	}
	/* A root with a single inner child shrinks the tree. */
	while (root && !root->leaf && root->n == 1) {
		struct mt_node *only = root->child[0];
		node_retire(t, c, root);
		root = only;
		t->height--;
	}
	if (c)
		coh_write(c, &t->root_line);
	publish(&t->root, root);
}

void mt_insert(struct mtree *t, struct sim_core *c, void *v)
{
	uint64_t key = t->ops->start(v);
	struct path p;
	descend(t, c, key, &p);
	if (!p.depth) {
		struct mt_node *n = node_new(t, c, true);
		n->n = 1;
		n->key[0] = key;
		n->val[0] = v;
		t->height = 1;
		if (c)
			coh_write(c, &t->root_line);
		publish(&t->root, n);
		return;
	}
	struct mt_node *leaf = p.node[p.depth - 1];
	int pos = 0;
	while (pos < leaf->n && leaf->key[pos] < key)
		pos++;
	if (pos < leaf->n && leaf->key[pos] == key)
		panic("mt_insert: an entry already starts at %#llx", (unsigned long long)key);
	/* Build the new leaf with one more entry (room for MT_LEAF_MAX + 1 during a split). */
	uint64_t keys[MT_LEAF_MAX + 1];
	void *vs[MT_LEAF_MAX + 1];
	memcpy(keys, leaf->key, sizeof(keys[0]) * (size_t)pos);
	memcpy(vs, leaf->val, sizeof(vs[0]) * (size_t)pos);
	keys[pos] = key;
	vs[pos] = v;
	memcpy(&keys[pos + 1], &leaf->key[pos], sizeof(keys[0]) * (size_t)(leaf->n - pos));
	memcpy(&vs[pos + 1], &leaf->val[pos], sizeof(vs[0]) * (size_t)(leaf->n - pos));
	int total = leaf->n + 1;
	struct mt_node *a = node_new(t, c, true), *b = NULL;
	if (total <= MT_LEAF_MAX) {
		a->n = (uint8_t)total;
		memcpy(a->key, keys, sizeof(keys[0]) * (size_t)total);
		memcpy(a->val, vs, sizeof(vs[0]) * (size_t)total);
	} else {
		int keep = total / 2;
		b = node_new(t, c, true);
		a->n = (uint8_t)keep;
		memcpy(a->key, keys, sizeof(keys[0]) * (size_t)keep);
		memcpy(a->val, vs, sizeof(vs[0]) * (size_t)keep);
		b->n = (uint8_t)(total - keep);
		memcpy(b->key, &keys[keep], sizeof(keys[0]) * b->n);
		memcpy(b->val, &vs[keep], sizeof(vs[0]) * b->n);
	}
	/* The entry before the new one is in this leaf (or there is none): no other leaf's gaps change. */
	int d = p.depth - 1;
	bool leftmost = path_leftmost(&p, d);
	uint64_t hi = path_hi(&p, d);
	uint64_t ga = leaf_gap(t, a, leftmost, b ? b->key[0] : hi), gb = b ? leaf_gap(t, b, false, hi) : 0;
	rebuild(t, c, &p, d, a, b, ga, gb);
}

void mt_erase(struct mtree *t, struct sim_core *c, uint64_t start)
{
	struct path p;
	descend(t, c, start, &p);
	if (!p.depth)
		panic("mt_erase: empty tree");
	struct mt_node *leaf = p.node[p.depth - 1];
	int pos = 0;
	while (pos < leaf->n && leaf->key[pos] != start)
		pos++;
	if (pos == leaf->n)
		panic("mt_erase: no entry starts at %#llx", (unsigned long long)start);
	struct mt_node *a = NULL;
	if (leaf->n > 1) {
		a = node_new(t, c, true);
		a->n = (uint8_t)(leaf->n - 1);
		memcpy(a->key, leaf->key, sizeof(a->key[0]) * (size_t)pos);
		memcpy(a->val, leaf->val, sizeof(a->val[0]) * (size_t)pos);
		memcpy(&a->key[pos], &leaf->key[pos + 1], sizeof(a->key[0]) * (size_t)(leaf->n - pos - 1));
		memcpy(&a->val[pos], &leaf->val[pos + 1], sizeof(a->val[0]) * (size_t)(leaf->n - pos - 1));
	}
	int d = p.depth - 1;
	uint64_t ga = a ? leaf_gap(t, a, path_leftmost(&p, d), path_hi(&p, d)) : 0;
	rebuild(t, c, &p, d, a, NULL, ga, 0);
	if (!t->root) {
		t->height = 0;
		return;
	}
	/*
	 * The leaf's lowest entry went: the space it held joins the previous
	 * leaf's last gap (or, if the leaf went with it and was the leftmost,
	 * the next leaf becomes the leftmost, whose gap starts at 0).
	 */
	if (pos == 0)
		gap_fix(t, c, start ? start - 1 : 0);
}

static void each_rec(const struct mtree *t, struct mt_node *n, uint64_t start, uint64_t end,
		     void (*fn)(void *, void *), void *arg)
{
	if (n->leaf) {
		for (int i = 0; i < n->n; i++)
			if (t->ops->end(n->val[i]) > start && n->key[i] < end)
				fn(arg, n->val[i]);
		return;
	}
	for (int i = 0; i < n->n; i++) {
		if (i + 1 < n->n && n->key[i + 1] <= start)
			continue;
		if (n->key[i] >= end && i > 0)
			break;
		each_rec(t, n->child[i], start, end, fn, arg);
	}
}

void mt_for_each(struct mtree *t, uint64_t start, uint64_t end, void (*fn)(void *arg, void *entry), void *arg)
{
	if (t->root)
		each_rec(t, t->root, start, end, fn, arg);
}

/* ---- the tree's own invariants ---- */

struct mt_ck {
	const struct mtree *t;
	uint64_t start, end;
	char *why;
	size_t n;
	uint64_t nodes, last_end;
	const void *last;
};

/* check_gap: does n's largest gap (its part of the key space: leftmost, ending at hi) match what its parent records (want; NULL at the root)? */
static bool check_gap(struct mt_ck *k, const struct mt_node *n, uint32_t d, bool leftmost, uint64_t hi, const uint64_t *want)
{
	uint64_t g = n->leaf ? leaf_gap(k->t, n, leftmost, hi) : inner_gap(n);
	if (!want || *want == g)
		return true;
	snprintf(k->why, k->n, "mtree: the gap recorded for a %s at depth %u (lowest key %#llx) is %#llx, its largest is %#llx",
		 n->leaf ? "leaf" : "inner node", d, (unsigned long long)n->key[0], (unsigned long long)*want,
		 (unsigned long long)g);
	return false;
}

/*
 * check_rec: node n at depth d (root: the root), and the part of its
 * subtree that meets [k->start, k->end); n's part of the key space is the
 * leftmost or not and ends at hi, and want is the gap its parent records.
 */
static bool check_rec(struct mt_ck *k, const struct mt_node *n, uint32_t d, bool root, bool leftmost, uint64_t hi,
		      const uint64_t *want)
{
	const struct mt_ops *o = k->t->ops;
	k->nodes++;
	int max = n->leaf ? MT_LEAF_MAX : MT_INNER_MAX;
	if (n->n < 1 || n->n > max || (!n->leaf && root && n->n < 2)) {
		snprintf(k->why, k->n, "mtree: a%s %s node at depth %u holds %d entries", root ? " root" : "n",
			 n->leaf ? "leaf" : "inner", d, n->n);
		return false;
	}
	if (n->leaf) {
		if (d != k->t->height) {
			snprintf(k->why, k->n, "mtree: a leaf at depth %u in a tree of height %u", d, k->t->height);
			return false;
		}
		for (int i = 0; i < n->n; i++) {
			const void *e = n->val[i];
			uint64_t s = o->start(e), end = o->end(e);
			if (s != n->key[i] || s >= end || (k->last && s < k->last_end)) {
				snprintf(k->why, k->n, "mtree: entry [%#llx, %#llx) under key %#llx %s", (unsigned long long)s,
					 (unsigned long long)end, (unsigned long long)n->key[i],
					 s != n->key[i] ? "is not at its key" : s >= end ? "is empty"
											 : "overlaps or precedes the entry before it");
				return false;
			}
			k->last = e;
			k->last_end = end;
		}
		return check_gap(k, n, d, leftmost, hi, want);
	}
	if (!check_gap(k, n, d, leftmost, hi, want))
		return false;
	for (int i = 0; i < n->n; i++) {
		const struct mt_node *c = n->child[i];
		if (!c || !c->n || c->key[0] != n->key[i] || (i && n->key[i] <= n->key[i - 1])) {
			snprintf(k->why, k->n, "mtree: inner key %d at depth %u (%#llx) is not its child's lowest key", i, d,
				 (unsigned long long)n->key[i]);
			return false;
		}
		/* Only the children that may hold entries meeting the range (entries are apart: see each_rec). */
		if (i + 1 < n->n && n->key[i + 1] <= k->start)
			continue;
		if (n->key[i] >= k->end && i > 0)
			break;
		if (!check_rec(k, c, d + 1, false, leftmost && i == 0, i + 1 < n->n ? n->key[i + 1] : hi, &n->gap[i]))
			return false;
	}
	return true;
}

int mt_check(const struct mtree *t, uint64_t start, uint64_t end, bool full, char *why, size_t n)
{
	struct mt_ck k = { .t = t, .start = start, .end = end, .why = why, .n = n };
	if (!t->root) {
		if (t->height || t->nodes) {
			snprintf(why, n, "mtree: empty, but of height %u with %llu nodes", t->height, (unsigned long long)t->nodes);
			return -1;
		}
		return 0;
	}
	if (!check_rec(&k, t->root, 1, true, true, UINT64_MAX, NULL))
		return -1;
	if (full && k.nodes != t->nodes) {
		snprintf(why, n, "mtree: %llu nodes reachable, %llu counted", (unsigned long long)k.nodes,
			 (unsigned long long)t->nodes);
		return -1;
	}
	return 0;
}
