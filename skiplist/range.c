/* range.c: range locks over the skiplist (each node locks its span), per-VMA write locks, walks inside a locked range, slice anchors and placement. */
#include "skiplist/sl.h"

#include <string.h>

/* push: append x to a growing array. */
static void push(struct sl_node ***arr, uint32_t *n, uint32_t *cap, struct sl_node *x)
{
	if (*n == *cap)
		*arr = xrealloc(*arr, sizeof(**arr) * (*cap = *cap ? *cap * 2 : 16));
	(*arr)[(*n)++] = x;
}

bool sl_held(const struct sl_lockset *s, const struct sl_node *n)
{
	for (uint32_t i = s->n; i-- > 0;)
		if (s->held[i] == n)
			return true;
	return false;
}

/* note_span: narrate that n's range lock was taken (teaching mode). */
static void note_span(struct sim_core *c, struct sl_node *n, const char *why)
{
	if (!sim_narrating(c))
		return;
	if (n->anchor)
		sim_note_lock(c, "range lock of %s at %#llx (it owns the gap above it)%s",
			      n->slice < 0 ? "the head" : "the slice anchor", (unsigned long long)sn_start(n), why);
	else
		sim_note_lock(c, "range lock of VMA [%#llx, %#llx) and the gap after it%s", (unsigned long long)sn_start(n),
			      (unsigned long long)sn_end(n), why);
}

/* The span of `o` contains addr: o is live, starts at or below addr, and its live successor starts above it. */
static bool owns(struct sim_core *c, struct sl_node *o, uint64_t addr)
{
	if (atomic_load(&o->detached) || sn_start(o) > addr)
		return false;
	struct sl_node *nx = sl_next(c, o);
	return !nx || sn_start(nx) > addr;
}

/*
 * lock_one: lock the owners of [a, b), in address order, after the ranges
 * already held (all below a). The owner of a is found lock-free, locked,
 * then validated: if it changed meanwhile, search again. Each further node
 * is locked from its locked predecessor and validated the same way.
 */
static void lock_one(struct sl_lockset *s, uint64_t a, uint64_t b)
{
	struct sl_mm *mm = s->mm;
	struct sim_core *c = s->cpu->core;
	struct sl_node *o;
	sim_rcu_read_lock();
	for (;;) {
		o = sl_search(mm, s->cpu, a);
		if (s->n && s->held[s->n - 1] == o)
			break; /* the previous range's last node owns this one's start too */
		lk_mutex_lock(c, &o->range);
		sl_inc(&mm->st.range_locks);
		if (owns(c, o, a)) {
			push(&s->held, &s->n, &s->cap, o);
			note_span(c, o, ", found by a lock-free search");
			break;
		}
		lk_mutex_unlock(c, &o->range);
		sl_inc(&mm->st.lock_retries);
		sim_note(c, "the node found for %#llx changed before its range lock was taken: search again",
			 (unsigned long long)a);
	}
	s->seg[s->nseg] = o;
	s->lo[s->nseg] = a;
	s->hi[s->nseg++] = b;
	struct sl_node *last = o;
	for (;;) {
		struct sl_node *nx = sl_next(c, last);
		if (!nx || sn_start(nx) >= b)
			break;
		lk_mutex_lock(c, &nx->range);
		sl_inc(&mm->st.range_locks);
		if (atomic_load(&nx->detached) || sl_next(c, last) != nx) {
			lk_mutex_unlock(c, &nx->range); /* removed, or not next any more: look again */
			sl_inc(&mm->st.lock_retries);
			continue;
		}
		push(&s->held, &s->n, &s->cap, nx);
		note_span(c, nx, "");
		last = nx;
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
	sim_note(cpu->core, "range locks over %d range%s from %#llx: no mmap_lock in this design", k + 1, k ? "s" : "",
		 (unsigned long long)la[0]);
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
		lk_mutex_unlock(c, &s->held[i]->range);
	for (uint32_t i = 0; i < s->nd; i++)
		sl_node_retire(s->mm, s->dead[i]);
	sim_note(c, "range locks released: %u node%s%s", s->n, s->n == 1 ? "" : "s",
		 s->nw ? ", and the VMA write locks" : "");
	xfree(s->held);
	xfree(s->wl);
	xfree(s->dead);
	s->held = s->wl = s->dead = NULL;
	s->n = s->nw = s->nd = 0;
}

void sl_adopt(struct sl_lockset *s, struct sl_node *n)
{
	lk_mutex_lock(s->cpu->core, &n->range); /* nobody else can see n yet */
	push(&s->held, &s->n, &s->cap, n);
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
	sl_vma_write(s, v);
	sl_unlink(s->mm, s->cpu, v);
	push(&s->dead, &s->nd, &s->dcap, v);
	if (v->anchor) {
		if (v->slice >= 0)
			atomic_store(&s->mm->slice_anchor[v->slice], NULL);
		sl_inc(&s->mm->st.anchors_dropped);
	}
}

/* ---- walks inside the locked range ---- */

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
	for (struct sl_node *n = s->seg[k]; n && sn_start(n) < s->hi[k]; n = sl_next(c, n))
		if (!n->anchor && sn_end(n) > addr)
			return n;
	return NULL;
}

struct sl_node *sl_vma_before(struct sl_lockset *s, uint64_t addr)
{
	int k = seg_of(s, addr);
	struct sim_core *c = s->cpu->core;
	struct sl_node *last = NULL;
	for (struct sl_node *n = s->seg[k]; n && sn_start(n) < addr; n = sl_next(c, n))
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
	struct sl_node *n = s->seg[k];
	while (n && sn_start(n) < addr)
		n = sl_next(c, n);
	return n;
}

void sl_claim(struct sl_lockset *s, uint64_t a, uint64_t b)
{
	for (uint32_t i = 0; i < s->n; i++) {
		struct sl_node *n = s->held[i];
		if (n->anchor && n != s->mm->head && !atomic_load(&n->detached) && sn_start(n) >= a && sn_start(n) < b) {
			sim_note(s->cpu->core, "the anchor at %#llx falls inside the new mapping: it is removed",
				 (unsigned long long)sn_start(n));
			sl_remove(s, n);
		}
	}
}

/* ---- placement: per-core slices ---- */

static uint64_t slice_base(uint32_t id) { return SL_SLICE_BASE + ((uint64_t)id << SL_SLICE_SHIFT); }

void sl_anchor_slice(struct sl_mm *mm, struct mmu_cpu *cpu)
{
	uint32_t id = cpu->core->id;
	if (atomic_load(&mm->slice_anchor[id]))
		return;
	uint64_t base = slice_base(id);
	struct sl_lockset s;
	sl_lock_range(&s, mm, cpu, base, base + PAGE_SIZE);
	struct sl_node *o = s.held[0];
	if (sn_start(o) < base && (o->anchor || sn_end(o) <= base)) {
		struct sl_node *a = sl_node_new(mm, cpu, base, base, true);
		a->slice = (int32_t)id;
		sl_adopt(&s, a);
		sl_link(mm, cpu, a);
		atomic_store(&mm->slice_anchor[id], a);
		sl_inc(&mm->st.anchors_made);
		sim_note(cpu->core, "anchor node linked at %#llx: the gaps of this core's slice now have their own range lock",
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

uint64_t sl_candidate(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t len, int attempt)
{
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
