/* list.c: the concurrent skiplist of VMA nodes: lock-free descent, CAS linking, mark-then-snip unlinking (Fraser's scheme), RCU-deferred frees. */
#include "skiplist/sl.h"

#include <string.h>

#define MARK ((uintptr_t)1)

static inline struct sl_node *ptr_of(uintptr_t p) { return (struct sl_node *)(p & ~MARK); }
static inline bool is_marked(uintptr_t p) { return p & MARK; }

/* The line holding level l's next pointer (apart from the key's line, so relinking a successor does not invalidate the key for searches passing by). */
static struct coh_line *level_line(struct sl_node *n, int l) { return &n->lv[l].line; }

/* load_next: n's level-l pointer (mark bit included), read through its line when charged to c. */
static uintptr_t load_next(struct sim_core *c, struct sl_node *n, int l)
{
	if (c)
		coh_read(c, level_line(n, l));
	return atomic_load_explicit(&n->lv[l].next, memory_order_acquire);
}

/* Compare against a node: its line and kern.node_visit. */
static void visit(struct sim_core *c, struct sl_node *n)
{
	if (c) {
		coh_read(c, &n->line);
		sim_advance(c, c->sim->m->node_visit);
	}
}

/* cas_next: swing n's level-l pointer from old to new_ (an atomic on its line); false if it changed. */
static bool cas_next(struct sim_core *c, struct sl_node *n, int l, struct sl_node *old, struct sl_node *new_)
{
	if (c)
		coh_atomic(c, level_line(n, l));
	uintptr_t expect = (uintptr_t)old;
	return atomic_compare_exchange_strong_explicit(&n->lv[l].next, &expect, (uintptr_t)new_, memory_order_acq_rel,
						       memory_order_acquire);
}

/* Tower height: each further level with probability 1/4 (xorshift per core, so det mode stays deterministic). */
static int random_height(struct sl_mm *mm, struct mmu_cpu *cpu)
{
	uint64_t *st = cpu ? &mm->rng[cpu->core->id] : &mm->host_rng;
	uint64_t x = util_xorshift64(st);
	int h = 1;
	while (h < SL_MAX_LEVEL && (x & 3) == 0) {
		h++;
		x >>= 2;
	}
	return h;
}

static size_t node_size(int h) { return sizeof(struct sl_node) + (size_t)h * sizeof(struct sl_level); }

/* alloc_node: a zeroed node with a tower of h levels and its locks, counted in the metadata bytes. */
static struct sl_node *alloc_node(struct sl_mm *mm, int h)
{
	struct sl_node *n = xaligned_zalloc(CACHELINE, node_size(h));
	n->height = (uint8_t)h;
	lk_mutex_init(&n->range);
	lk_rwsem_init(&n->vma);
	atomic_fetch_add(&mm->nnodes, 1);
	atomic_fetch_add(&mm->node_bytes, node_size(h));
	return n;
}

void sl_list_init(struct sl_mm *mm)
{
	mm->head = alloc_node(mm, SL_MAX_LEVEL);
	mm->head->anchor = true;
	mm->head->slice = -1;
	mm->tail = alloc_node(mm, 1);
	mm->tail->anchor = true;
	mm->tail->slice = -1;
	atomic_store(&mm->tail->start, UINT64_MAX);
	atomic_store(&mm->tail->end, UINT64_MAX);
	atomic_store(&mm->head->lv[0].next, (uintptr_t)mm->tail);
	atomic_store(&mm->levels, 1);
}

struct sl_node *sl_node_new(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool anchor)
{
	/* an arena's anchor is a full tower: searches in its arena start there (sl_finger) */
	return sl_node_new_h(mm, cpu, start, end, anchor, anchor ? SL_MAX_LEVEL : random_height(mm, cpu));
}

struct sl_node *sl_node_new_h(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool anchor, int h)
{
	struct sl_node *n = alloc_node(mm, h);
	atomic_store(&n->start, start);
	atomic_store(&n->end, end);
	n->anchor = anchor;
	n->slice = -1;
	if (!anchor)
		atomic_fetch_add(&mm->nvmas, 1);
	if (cpu) { /* written by this core just now */
		uint16_t me = (uint16_t)(cpu->core->id + 1);
		n->line.owner = n->line.last = me;
		/* its locks too: initialised by this core (as a node from the allocator's per-core cache would be) */
		n->range.s.line.owner = n->range.s.line.last = me;
		n->gap.s.line.owner = n->gap.s.line.last = me;
		n->vma.count.owner = n->vma.count.last = me;
		for (int l = 0; l < n->height; l++)
			n->lv[l].line.owner = n->lv[l].line.last = me;
		sim_advance(cpu->core, mm->as->sys->m->node_visit + mm->as->sys->m->slab_alloc); /* built, from its slab */
	}
	return n;
}

static _Atomic uint64_t nodes_freed; /* process-wide: nodes whose grace period ended */

/* node_free_rcu: the RCU callback: no reader can reach the node any more. */
static void node_free_rcu(struct sim_rcu_head *h)
{
	xfree(caa_container_of(h, struct sl_node, rcu));
	atomic_fetch_add_explicit(&nodes_freed, 1, memory_order_relaxed);
}

uint64_t sl_nodes_freed(void) { return atomic_load(&nodes_freed); }

void sl_node_retire(struct sl_mm *mm, struct sim_core *c, struct sl_node *n)
{
	if (c) /* back to its slab after the grace period, charged as the free is queued */
		sim_advance(c, mm->as->sys->m->slab_free);
	if (n->file)
		vm_file_put(mm->as->sys, n->file);
	n->file = NULL;
	atomic_fetch_sub(&mm->nnodes, 1);
	atomic_fetch_sub(&mm->node_bytes, node_size(n->height));
	if (!n->anchor)
		atomic_fetch_sub(&mm->nvmas, 1);
	sim_rcu_defer(&n->rcu, node_free_rcu);
}

struct sl_node *sl_next(struct sim_core *c, struct sl_node *n)
{
	struct sl_node *p = ptr_of(load_next(c, n, 0));
	while (p) {
		visit(c, p);
		uintptr_t pn = atomic_load_explicit(&p->lv[0].next, memory_order_acquire);
		if (!is_marked(pn))
			return p;
		p = ptr_of(pn);
	}
	return NULL;
}

/*
 * sl_finger: where a search for key starts: the anchor of the arena key lies
 * in (or of the nearest arena below it that has one), when it is linked and
 * starts at or below key; else the head. An anchor is a full tower, so the
 * descent from it sees every node after it: a search inside an arena never
 * reads the nodes of the arenas before it, which other cores keep writing.
 * Reads the arena table (one read-mostly line; written when an anchor comes
 * or goes).
 */
static struct sl_node *sl_finger(struct sl_mm *mm, struct sim_core *c, uint64_t key)
{
	if (key < SL_SLICE_BASE || !mm->arenas)
		return mm->head;
	if (c)
		coh_read(c, &mm->arena_line);
	uint64_t k = (key - SL_SLICE_BASE) >> SL_SLICE_SHIFT;
	for (int64_t i = (int64_t)MIN(k, (uint64_t)mm->narena - 1); i >= 0; i--) {
		struct sl_node *a = atomic_load_explicit(&mm->slice_anchor[i], memory_order_acquire);
		if (a && !atomic_load_explicit(&a->detached, memory_order_acquire) && sn_start(a) <= key)
			return a;
	}
	return mm->head;
}

/*
 * find: descend from start (a full tower at or below key: sl_finger) to the
 * last node with start <= key at each level (preds) and its successor
 * (succs). Levels from `need` up that lie above the tallest VMA tower are
 * not walked (preds there: start; succs: NULL): a search needs level 0
 * only, a link or unlink the levels of its node. With snip, nodes marked
 * deleted on the way are unlinked by CAS; a failed CAS returns false
 * (start again). Counts the nodes compared in *steps.
 */
static bool find(struct sl_mm *mm, struct sim_core *c, uint64_t key, bool snip, int need, struct sl_node **preds,
		 struct sl_node **succs, uint64_t *steps)
{
	struct sl_node *start = sl_finger(mm, c, key);
	struct sl_node *pred = start;
	int top = (int)atomic_load_explicit(&mm->levels, memory_order_acquire);
	for (int l = SL_MAX_LEVEL - 1; l >= 0; l--) {
		/*
		 * Levels above the tallest VMA tower seen hold only anchors (and
		 * a taller tower whose owner has not raised `levels` yet): a
		 * search skips them, since every node there is in the levels
		 * below too. A link or unlink walks every level of its node, or
		 * a node linked from a stale view could land out of order.
		 */
		if (l >= top && l >= need) {
			if (preds)
				preds[l] = pred;
			if (succs)
				succs[l] = NULL;
			continue;
		}
		struct sl_node *cur = ptr_of(load_next(c, pred, l));
		while (cur) {
			(*steps)++;
			visit(c, cur);
			/*
			 * The key first: a node past key ends the level without a
			 * read of its tower (its owner may be relinking it: that
			 * line is another core's, the key line is not). A deleted
			 * node past key is left for the finds that pass it.
			 */
			if (sn_start(cur) > key)
				break;
			uintptr_t cn = load_next(c, cur, l);
			if (is_marked(cn)) { /* cur is deleted at this level */
				if (snip && !cas_next(c, pred, l, cur, ptr_of(cn)))
					return false;
				cur = ptr_of(cn);
				continue;
			}
			pred = cur;
			cur = ptr_of(cn);
		}
		if (preds)
			preds[l] = pred;
		if (succs)
			succs[l] = cur;
	}
	/* the finger was unlinked meanwhile: what it led to may be stale; a snip find starts again */
	return !snip || start == mm->head || !atomic_load_explicit(&start->detached, memory_order_acquire);
}

struct sl_node *sl_search(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t addr)
{
	struct sl_node *preds[SL_MAX_LEVEL];
	uint64_t steps = 0;
	find(mm, sl_core(cpu), addr, false, 1, preds, NULL, &steps);
	sl_inc(&mm->st.lookups);
	atomic_fetch_add_explicit(&mm->st.visits, steps, memory_order_relaxed);
	atomic_fetch_add_explicit(&mm->st.levels_visited, atomic_load(&mm->levels), memory_order_relaxed);
	return preds[0];
}

/* snip_find: find with snipping, until a descent completes without losing a CAS (each loss counted). */
static void snip_find(struct sl_mm *mm, struct sim_core *c, uint64_t key, int need, struct sl_node **preds,
		      struct sl_node **succs)
{
	uint64_t steps = 0;
	sim_rcu_read_lock(); /* the finger may be another arena's anchor, unlinked meanwhile */
	while (!find(mm, c, key, true, need, preds, succs, &steps))
		sl_inc(&mm->st.cas_retries);
	sim_rcu_read_unlock();
}

void sl_link(struct sl_mm *mm, struct mmu_cpu *cpu, struct sl_node *n)
{
	struct sim_core *c = sl_core(cpu);
	struct sl_node *preds[SL_MAX_LEVEL], *succs[SL_MAX_LEVEL];
	uint64_t key = sn_start(n);
	for (;;) {
		snip_find(mm, c, key, n->height, preds, succs);
		if (c && !lk_spin_mine(c, &preds[0]->range.s) && (!succs[0] || !lk_spin_mine(c, &succs[0]->gap.s)))
			panic("skiplist: linking [%#llx, %#llx) into a gap (or an interval) this core does not lock",
			      (unsigned long long)key, (unsigned long long)sn_end(n));
		if (succs[0] && sn_start(succs[0]) == key)
			panic("skiplist: two live nodes would start at %#llx", (unsigned long long)key);
		for (int l = 0; l < n->height; l++)
			atomic_store_explicit(&n->lv[l].next, (uintptr_t)succs[l], memory_order_relaxed);
		if (cas_next(c, preds[0], 0, succs[0], n))
			break;
		sl_inc(&mm->st.cas_retries);
	}
	/*
	 * The upper levels, each to the successor of the latest search: a
	 * retry at one level searches again, which may move the successors of
	 * the levels above too (n must not keep a stale one: it would skip the
	 * towers linked in between).
	 */
	for (int l = 1; l < n->height; l++) {
		for (;;) {
			atomic_store_explicit(&n->lv[l].next, (uintptr_t)succs[l], memory_order_release);
			if (cas_next(c, preds[l], l, succs[l], n))
				break;
			sl_inc(&mm->st.cas_retries);
			snip_find(mm, c, key, n->height, preds, succs);
		}
	}
	uint32_t top = atomic_load(&mm->levels);
	while (!n->anchor && top < n->height && !atomic_compare_exchange_weak(&mm->levels, &top, n->height))
		;
}

void sl_link_before(struct sl_mm *mm, struct mmu_cpu *cpu, struct sl_node *n, struct sl_node *v)
{
	struct sim_core *c = sl_core(cpu);
	struct sl_node *preds[SL_MAX_LEVEL], *succs[SL_MAX_LEVEL];
	uint64_t key = sn_start(n) - 1; /* the last nodes before n's start: v follows them at every level of its tower */
	if (n->height != v->height || sn_start(n) > sn_start(v) || !sn_start(n))
		panic("skiplist: replacing the node at %#llx by one that cannot stand before it",
		      (unsigned long long)sn_start(v));
	/* level 0 first: from then on a search finds n before v, and v until it is marked */
	for (int l = 0; l < n->height; l++) {
		for (;;) {
			snip_find(mm, c, key, n->height, preds, succs);
			if (succs[l] != v)
				panic("skiplist: the node at %#llx is not where its replacement goes (level %d)",
				      (unsigned long long)sn_start(v), l);
			atomic_store_explicit(&n->lv[l].next, (uintptr_t)v, memory_order_release);
			if (cas_next(c, preds[l], l, v, n))
				break;
			sl_inc(&mm->st.cas_retries);
		}
	}
}

void sl_unlink(struct sl_mm *mm, struct mmu_cpu *cpu, struct sl_node *n)
{
	struct sim_core *c = sl_core(cpu);
	atomic_store(&n->detached, true);
	for (int l = n->height - 1; l >= 0; l--) {
		if (c)
			coh_atomic(c, level_line(n, l));
		atomic_fetch_or_explicit(&n->lv[l].next, MARK, memory_order_acq_rel);
	}
	struct sl_node *preds[SL_MAX_LEVEL], *succs[SL_MAX_LEVEL];
	snip_find(mm, c, sn_start(n), n->height, preds, succs); /* no level reaches n any more */
}

void sl_free_all(struct sl_mm *mm)
{
	struct sl_node *n = mm->head;
	while (n) {
		struct sl_node *next = ptr_of(atomic_load(&n->lv[0].next));
		if (n->file)
			vm_file_put(mm->as->sys, n->file);
		xfree(n);
		n = next;
	}
	mm->head = NULL;
}
