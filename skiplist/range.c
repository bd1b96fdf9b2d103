/* range.c: range locks over the skiplist (each node locks its span), per-VMA write locks, node replacement, walks inside a locked range, arena anchors and placement. */
#include "skiplist/sl.h"

#include <string.h>

/* push: append x to a growing array. */
static void push(struct sl_node ***arr, uint32_t *n, uint32_t *cap, struct sl_node *x)
{
	if (*n == *cap)
		*arr = xrealloc(*arr, sizeof(**arr) * (*cap = *cap ? *cap * 2 : 16));
	(*arr)[(*n)++] = x;
}

/* push_part: record a part lock as held. */
static void push_part(struct sl_lockset *s, struct sl_node *n, bool gap)
{
	if (s->n == s->cap)
		s->held = xrealloc(s->held, sizeof(*s->held) * (s->cap = s->cap ? s->cap * 2 : 16));
	s->held[s->n++] = (struct sl_part){ n, gap };
}

/* holds: whether this call holds the part lock (n, gap). */
static bool holds(const struct sl_lockset *s, const struct sl_node *n, bool gap)
{
	for (uint32_t i = s->n; i-- > 0;)
		if (s->held[i].n == n && s->held[i].gap == gap)
			return true;
	return false;
}

bool sl_held(const struct sl_lockset *s, const struct sl_node *n) { return holds(s, n, false); }
bool sl_gap_held(const struct sl_lockset *s, const struct sl_node *n) { return holds(s, n, true); }

/* lock_of: the mutex of a part. */
static struct lk_mutex *lock_of(struct sl_node *n, bool gap) { return gap ? &n->gap : &n->range; }

/* note_part: narrate that a part lock was taken (teaching mode). */
static void note_part(struct sim_core *c, struct sl_node *n, bool gap, const char *why)
{
	if (!sim_narrating(c))
		return;
	if (gap && sn_start(n) == UINT64_MAX)
		sim_note_lock(c, "gap lock of the last gap (before the tail)%s", why);
	else if (gap)
		sim_note_lock(c, "gap lock before %s at %#llx%s", n->anchor ? "the anchor" : "the VMA",
			      (unsigned long long)sn_start(n), why);
	else if (n->anchor)
		sim_note_lock(c, "lock of the anchor at %#llx%s", (unsigned long long)sn_start(n), why);
	else
		sim_note_lock(c, "interval lock of VMA [%#llx, %#llx)%s", (unsigned long long)sn_start(n),
			      (unsigned long long)sn_end(n), why);
}

/* take: lock a part (waiting as a spinlock waiter would), counted. */
static void take(struct sl_lockset *s, struct sl_node *n, bool gap)
{
	lk_mutex_lock(s->cpu->core, lock_of(n, gap));
	sl_inc(&s->mm->st.range_locks);
}

/* drop_retry: the part changed before its lock was taken: release it and count a retry. */
static void drop_retry(struct sl_lockset *s, struct sl_node *n, bool gap)
{
	lk_mutex_unlock(s->cpu->core, lock_of(n, gap));
	sl_inc(&s->mm->st.lock_retries);
	sim_note(s->cpu->core, "the part found changed (split, merged or unlinked) before its lock was taken: look again");
}

/*
 * lock_first: lock the part holding a, found by a lock-free search, then
 * validated under its lock (else search again). Inside an interval: the
 * gap before its node, then its node (so the call may replace that node:
 * sl_replace). Inside a gap: the node after it; the gap cannot change under
 * its lock (linking into it, moving either end or unlinking either
 * neighbour all need it).
 */
static void lock_first(struct sl_lockset *s, uint64_t a)
{
	struct sl_mm *mm = s->mm;
	struct sim_core *c = s->cpu->core;
	int k = s->nseg;
	for (;;) {
		struct sl_node *o = sl_search(mm, s->cpu, a); /* never the tail: its start is above every address */
		bool in = !o->anchor && a < sn_end(o);
		struct sl_node *m = in ? o : sl_next(c, o);
		bool have_gap = in && holds(s, o, true);
		bool have = in ? holds(s, o, false) : s->n && s->held[s->n - 1].n == m && s->held[s->n - 1].gap;
		if (in && !have_gap)
			take(s, o, true);
		if (!have)
			take(s, m, !in);
		bool ok = in ? !atomic_load(&o->detached) && sn_start(o) <= a && a < sn_end(o)
			     : m && !atomic_load(&o->detached) && !atomic_load(&m->detached) && sl_next(c, o) == m &&
				       sn_end(o) <= a && a < sn_start(m);
		if (!ok) {
			if (have && (!in || have_gap))
				panic("skiplist: a held part changed under its lock at %#llx", (unsigned long long)a);
			if (!have)
				drop_retry(s, m, !in);
			if (in && !have_gap) {
				lk_mutex_unlock(c, lock_of(o, true));
				if (have)
					sl_inc(&mm->st.lock_retries);
			}
			continue;
		}
		if (in && !have_gap) {
			push_part(s, o, true);
			note_part(c, o, true, ", the gap before the first node (it may be replaced)");
		}
		if (!have) {
			push_part(s, m, !in);
			note_part(c, m, !in, ", found by a lock-free search");
		}
		s->seg[k] = m;
		s->in_gap[k] = !in;
		s->before[k] = in ? NULL : o;
		s->floor[k] = in ? sn_start(o) : sn_end(o);
		return;
	}
}

/*
 * lock_one: lock the parts of [a, b), in address order, after the ranges
 * already held (all below a): the first by lock_first, then from each held
 * part the next one. The node after an interval is validated under the
 * lock of the gap before it (a node linked or unlinked meanwhile: again).
 */
static void lock_one(struct sl_lockset *s, uint64_t a, uint64_t b)
{
	struct sim_core *c = s->cpu->core;
	sim_rcu_read_lock();
	lock_first(s, a);
	int k = s->nseg++;
	s->lo[k] = a;
	s->hi[k] = b;
	struct sl_node *cur = s->seg[k];
	bool gap = s->in_gap[k];
	for (;;) {
		if (gap) { /* the gap before cur is held: then cur's interval (cur cannot go: that needs this gap) */
			if (sn_start(cur) >= b)
				break;
			take(s, cur, false);
			push_part(s, cur, false);
			note_part(c, cur, false, "");
			gap = false;
			continue;
		}
		if (sn_end(cur) >= b) /* cur's interval is held: then the gap after it */
			break;
		struct sl_node *nx = sl_next(c, cur); /* cur is not the tail, so nx exists */
		take(s, nx, true);
		if (atomic_load(&nx->detached) || sl_next(c, cur) != nx) {
			drop_retry(s, nx, true);
			continue;
		}
		push_part(s, nx, true);
		note_part(c, nx, true, "");
		cur = nx;
		gap = true;
	}
	sim_rcu_read_unlock();
}

/* set_init: an empty lockset of cpu's call on mm. */
static void set_init(struct sl_lockset *s, struct sl_mm *mm, struct mmu_cpu *cpu)
{
	memset(s, 0, sizeof(*s));
	s->mm = mm;
	s->cpu = cpu;
}

static uint64_t clip(uint64_t x) { return MIN(x, VM_TASK_SIZE); }

void sl_lock_range(struct sl_lockset *s, struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t b)
{
	sl_lock_ranges(s, mm, cpu, &a, &b, 1);
}

void sl_lock_ranges(struct sl_lockset *s, struct sl_mm *mm, struct mmu_cpu *cpu, const uint64_t *a,
		    const uint64_t *b, int n)
{
	set_init(s, mm, cpu);
	uint64_t la[4], lb[4];
	int m = 0;
	if (n < 1 || n > 4)
		panic("skiplist: %d ranges to lock", n);
	for (int i = 0; i < n; i++) { /* insertion sort by start */
		int j = m++;
		while (j > 0 && la[j - 1] > a[i]) {
			la[j] = la[j - 1];
			lb[j] = lb[j - 1];
			j--;
		}
		la[j] = a[i];
		lb[j] = clip(b[i]);
	}
	int k = 0;
	for (int i = 1; i < m; i++) { /* merge overlapping or touching ranges */
		if (la[i] <= lb[k])
			lb[k] = MAX(lb[k], lb[i]);
		else {
			la[++k] = la[i];
			lb[k] = lb[i];
		}
	}
	sim_note(cpu->core, "range locks over %d range%s from %#llx", k + 1, k ? "s" : "",
		 (unsigned long long)la[0]);
	/*
	 * The whole call is one RCU read-side section: the node before a
	 * locked gap (a walk's start) is not held, and another call may
	 * replace it and retire it meanwhile.
	 */
	sim_rcu_read_lock();
	for (int i = 0; i <= k; i++)
		if (la[i] < lb[i])
			lock_one(s, la[i], lb[i]);
}

void sl_unlock(struct sl_lockset *s)
{
	struct sim_core *c = s->cpu->core;
	for (uint32_t i = 0; i < s->nw; i++)
		lk_up_write(c, &s->wl[i]->vma);
	for (uint32_t i = 0; i < s->n; i++)
		lk_mutex_unlock(c, lock_of(s->held[i].n, s->held[i].gap));
	for (uint32_t i = 0; i < s->nd; i++)
		sl_node_retire(s->mm, c, s->dead[i]);
	sim_note(c, "range locks released: %u part%s%s", s->n, s->n == 1 ? "" : "s",
		 s->nw ? ", and the VMA write locks" : "");
	xfree(s->held);
	xfree(s->wl);
	xfree(s->dead);
	sim_rcu_read_unlock(); /* the section sl_lock_ranges opened */
	s->held = NULL;
	s->wl = s->dead = NULL;
	s->n = s->nw = s->nd = 0;
}

void sl_adopt(struct sl_lockset *s, struct sl_node *n)
{
	lk_mutex_lock(s->cpu->core, &n->gap); /* nobody else can see n yet */
	lk_mutex_lock(s->cpu->core, &n->range);
	push_part(s, n, true);
	push_part(s, n, false);
}

void sl_vma_write(struct sl_lockset *s, struct sl_node *v)
{
	for (uint32_t i = 0; i < s->nw; i++)
		if (s->wl[i] == v)
			return;
	if (!sl_held(s, v))
		panic("skiplist: write-locking VMA [%#llx, %#llx) outside the range locks", (unsigned long long)sn_start(v),
		      (unsigned long long)sn_end(v));
	struct sim_core *c = s->cpu->core;
	lk_down_write(c, &v->vma);
	if (!v->anchor)
		sim_note_lock(c, "per-VMA lock of [%#llx, %#llx) for writing (waits out faults in it)",
			      (unsigned long long)sn_start(v), (unsigned long long)sn_end(v));
	coh_write(c, &v->line);
	push(&s->wl, &s->nw, &s->wcap, v);
}

void sl_remove(struct sl_lockset *s, struct sl_node *v)
{
	if (!sl_gap_held(s, v))
		panic("skiplist: unlinking the node at %#llx without the lock of the gap before it",
		      (unsigned long long)sn_start(v));
	sl_vma_write(s, v);
	sl_unlink(s->mm, s->cpu, v);
	push(&s->dead, &s->nd, &s->dcap, v);
	if (v->anchor) {
		if (v->slice >= 0) {
			coh_write(s->cpu->core, &s->mm->arena_line);
			atomic_store(&s->mm->slice_anchor[v->slice], NULL);
		}
		sl_inc(&s->mm->st.anchors_dropped);
	}
}

struct sl_node *sl_cur(struct sl_node *v)
{
	for (struct sl_node *n; (n = atomic_load_explicit(&v->repl, memory_order_acquire));)
		v = n;
	return v;
}

struct sl_node *sl_replace(struct sl_lockset *s, struct sl_node *v, const struct vr_attr *a)
{
	if (!sl_held(s, v) || !sl_gap_held(s, v))
		panic("skiplist: replacing VMA [%#llx, %#llx) without its interval and gap locks",
		      (unsigned long long)sn_start(v), (unsigned long long)sn_end(v));
	sl_vma_write(s, v); /* waits out the faults that hold it */
	struct sl_node *n = sl_node_new_h(s->mm, s->cpu, a->start, a->end, false, v->height);
	n->flags = a->flags;
	n->file = v->file;
	if (n->file)
		vm_file_get(n->file);
	n->pgoff = a->pgoff;
	n->av = a->av;
	n->chain = a->chain;
	sl_adopt(s, n);
	sl_vma_write(s, n);
	sl_link_before(s->mm, s->cpu, n, v);
	atomic_store_explicit(&v->repl, n, memory_order_release);
	sl_unlink(s->mm, s->cpu, v);
	push(&s->dead, &s->nd, &s->dcap, v);
	sl_inc(&s->mm->st.replacements);
	sim_note(s->cpu->core, "VMA [%#llx, %#llx) replaced by a new node [%#llx, %#llx) (the old one is freed after an RCU grace period)",
		 (unsigned long long)sn_start(v), (unsigned long long)sn_end(v), (unsigned long long)a->start,
		 (unsigned long long)a->end);
	return n;
}

/* ---- walks inside the locked range ---- */

/*
 * walk_start: where walks of segment k start: the node whose interval holds
 * lo[k], or else the node before the gap holding it (this call may unlink
 * the node after that gap, never the one before: that needs the gap after
 * it, which this call holds).
 */
static struct sl_node *walk_start(const struct sl_lockset *s, int k)
{
	struct sl_node *n = sl_cur(s->in_gap[k] ? s->before[k] : s->seg[k]);
	/*
	 * The node before the gap is not held: another call may have unlinked it
	 * (a neighbour absorbed it: no replacement is named). Its links are then
	 * stale: they lead past nodes this call has linked since in front of
	 * their old successor (the lower half of a split), so a walk from it
	 * would miss them. Search again from the top instead.
	 */
	if (atomic_load_explicit(&n->detached, memory_order_acquire))
		n = sl_search(s->mm, s->cpu, s->lo[k]);
	return n;
}

/* The segment whose locked range addr falls in (or the last one below it). */
static int seg_of(const struct sl_lockset *s, uint64_t addr)
{
	int k = 0;
	while (k + 1 < s->nseg && s->lo[k + 1] <= addr)
		k++;
	return k;
}

struct sl_node *sl_vma_from(struct sl_lockset *s, uint64_t addr)
{
	int k = seg_of(s, addr);
	struct sim_core *c = s->cpu->core;
	for (struct sl_node *n = walk_start(s, k); n && sn_start(n) < s->hi[k]; n = sl_next(c, n))
		if (!n->anchor && sn_end(n) > addr)
			return n;
	return NULL;
}

struct sl_node *sl_vma_before(struct sl_lockset *s, uint64_t addr)
{
	int k = seg_of(s, addr);
	struct sim_core *c = s->cpu->core;
	struct sl_node *last = NULL;
	for (struct sl_node *n = walk_start(s, k); n && sn_start(n) < addr; n = sl_next(c, n))
		if (!n->anchor)
			last = n;
	return last;
}

struct sl_node *sl_vma_at(struct sl_lockset *s, uint64_t addr)
{
	struct sl_node *v = sl_vma_from(s, addr);
	return v && sn_start(v) <= addr ? v : NULL;
}

struct sl_node *sl_after(struct sl_lockset *s, uint64_t addr)
{
	int k = seg_of(s, addr);
	struct sim_core *c = s->cpu->core;
	struct sl_node *n = walk_start(s, k);
	while (n && sn_start(n) < addr)
		n = sl_next(c, n);
	return n;
}

void sl_claim(struct sl_lockset *s, uint64_t a, uint64_t b)
{
	for (uint32_t i = 0; i < s->n; i++) {
		struct sl_node *n = s->held[i].n;
		if (!s->held[i].gap && n->anchor && n != s->mm->head && n != s->mm->tail && !atomic_load(&n->detached) && sn_start(n) >= a && sn_start(n) < b) {
			sim_note(s->cpu->core, "the anchor at %#llx falls inside the new mapping: it is removed",
				 (unsigned long long)sn_start(n));
			sl_remove(s, n);
		}
	}
}

/* ---- placement: per-core slices ---- */

static uint64_t slice_base(uint32_t id) { return SL_SLICE_BASE + ((uint64_t)id << SL_SLICE_SHIFT); }

/* new_anchor: link the anchor of arena id at its base (base lies in a gap; the caller locks it, or owns the list alone). */
static struct sl_node *new_anchor(struct sl_mm *mm, struct mmu_cpu *cpu, struct sl_lockset *s, uint32_t id)
{
	uint64_t base = slice_base(id);
	struct sl_node *a = sl_node_new(mm, cpu, base, base, true);
	a->slice = (int32_t)id;
	if (s)
		sl_adopt(s, a);
	sl_link(mm, cpu, a);
	if (cpu)
		coh_write(cpu->core, &mm->arena_line);
	atomic_store(&mm->slice_anchor[id], a);
	sl_inc(&mm->st.anchors_made);
	return a;
}

void sl_arenas_init(struct sl_mm *mm)
{
	for (uint32_t i = 0; i < mm->narena; i++)
		new_anchor(mm, NULL, NULL, i);
}

void sl_anchor_slice(struct sl_mm *mm, struct mmu_cpu *cpu)
{
	uint32_t id = cpu->core->id;
	if (!mm->arenas || atomic_load(&mm->slice_anchor[id]))
		return;
	uint64_t base = slice_base(id);
	struct sl_lockset s;
	sl_lock_range(&s, mm, cpu, base, base + PAGE_SIZE);
	/* base lies in a gap (after before[0], which starts below it) and no node starts there */
	if (s.in_gap[0] && sn_start(s.before[0]) < base && sn_start(s.seg[0]) > base) {
		new_anchor(mm, cpu, &s, id);
		sim_note(cpu->core, "anchor node linked again at %#llx: the gaps of this core's arena have their own locks",
			 (unsigned long long)base);
	}
	sl_unlock(&s);
}

/* First gap of len bytes (with a free page on each side) in [lo, hi), by a lock-free walk; 0 if none. */
static uint64_t first_fit(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t lo, uint64_t hi, uint64_t len)
{
	struct sim_core *c = cpu->core;
	sim_rcu_read_lock();
	struct sl_node *n = sl_search(mm, cpu, lo);
	uint64_t free_from = n->anchor ? lo : MAX(lo, sn_end(n));
	uint64_t found = 0;
	for (n = sl_next(c, n); free_from < hi; n = sl_next(c, n)) {
		uint64_t top = n ? MIN(sn_start(n), hi) : hi;
		if (top > free_from && top - free_from >= len + 2 * PAGE_SIZE) {
			found = free_from + PAGE_SIZE;
			break;
		}
		if (!n)
			break;
		if (!n->anchor)
			free_from = MAX(free_from, sn_end(n));
	}
	sim_rcu_read_unlock();
	return found;
}

/* topdown: --no-arenas: the next address below the shared cursor (an atomic on its line), or 0 below the floor. */
static uint64_t topdown(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t len)
{
	coh_atomic(cpu->core, &mm->topdown_line);
	uint64_t top = atomic_fetch_sub(&mm->topdown, len + PAGE_SIZE);
	if (top < VM_MMAP_MIN_ADDR + len + PAGE_SIZE || top > mm->as->mmap_base) {
		atomic_fetch_add(&mm->topdown, len + PAGE_SIZE);
		return 0;
	}
	return top - len;
}

uint64_t sl_candidate(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t len, int attempt)
{
	if (!mm->arenas) {
		uint64_t a = attempt ? 0 : topdown(mm, cpu, len);
		if (a)
			return a;
		sl_inc(&mm->st.gap_searches);
		return first_fit(mm, cpu, VM_MMAP_MIN_ADDR, mm->as->mmap_base, len);
	}
	uint32_t id = cpu->core->id;
	uint64_t base = slice_base(id), end = base + (1ull << SL_SLICE_SHIFT);
	uint64_t a = mm->slice_next[id];
	if (attempt == 0 && a + len <= end && a + len > a) {
		mm->slice_next[id] = a + len; /* a bump pointer no other core touches */
		sl_inc(&mm->st.slice_allocs);
		return a;
	}
	sl_inc(&mm->st.gap_searches);
	a = first_fit(mm, cpu, base, end, len);
	if (a)
		return a;
	return first_fit(mm, cpu, VM_MMAP_MIN_ADDR, mm->as->mmap_base, len);
}
