/* vma.c: Linux's VMA changes (split, merge, unmap, modify, anon_vma) on skiplist nodes, inside a call's range locks. */
#include "skiplist/sl.h"
#include "kmm/maps.h"

struct vr_attr sl_attr(const struct sl_node *v)
{
	return (struct vr_attr){ sn_start(v), sn_end(v), v->flags, v->file, v->pgoff, v->av, v->chain };
}

/* attr_of: v's attributes in *buf, or NULL without a VMA. */
static const struct vr_attr *attr_of(const struct sl_node *v, struct vr_attr *buf)
{
	if (!v)
		return NULL;
	*buf = sl_attr(v);
	return buf;
}

/* Every change below is to a node this call range-locks; checked. */
static void must_hold(struct sl_lockset *s, struct sl_node *v)
{
	if (!sl_held(s, v))
		panic("skiplist: changing VMA [%#llx, %#llx) without its range lock", (unsigned long long)sn_start(v),
		      (unsigned long long)sn_end(v));
}

struct sl_node *sl_vma_new(struct sl_lockset *s, const struct vr_attr *a, struct vm_file *f)
{
	struct sl_node *n = sl_node_new(s->mm, s->cpu, a->start, a->end, false);
	n->flags = a->flags;
	n->file = f;
	if (f)
		vm_file_get(f);
	n->pgoff = a->pgoff;
	n->av = a->av;
	n->chain = a->chain;
	sl_adopt(s, n); /* range-locked by this call before anyone can find it */
	return n;
}

/* in_place: --in-place: whether changes write the held, write-locked node itself (no replacement). */
static bool in_place(struct sl_lockset *s, struct sl_node *v)
{
	if (!s->mm->in_place)
		return false;
	must_hold(s, v);
	sl_vma_write(s, v);
	return true;
}

struct sl_node *sl_set_start(struct sl_lockset *s, struct sl_node *v, uint64_t start, uint64_t pgoff)
{
	if (in_place(s, v)) {
		atomic_store(&v->start, start);
		v->pgoff = pgoff;
		return v;
	}
	struct vr_attr a = sl_attr(v);
	a.start = start;
	a.pgoff = pgoff;
	return sl_replace(s, v, &a);
}

struct sl_node *sl_set_end(struct sl_lockset *s, struct sl_node *v, uint64_t end)
{
	if (in_place(s, v)) {
		atomic_store(&v->end, end);
		return v;
	}
	struct vr_attr a = sl_attr(v);
	a.end = end;
	return sl_replace(s, v, &a);
}

/* take_av: dst inherits src's anon_vma when it has none (a merge keeps the pages' reverse map). */
static void take_av(struct sl_node *dst, const struct sl_node *src)
{
	if (!dst->av && src->av) {
		dst->av = src->av;
		dst->chain = src->chain;
	}
}

struct sl_node *sl_split(struct sl_lockset *s, struct sl_node *v, uint64_t addr)
{
	must_hold(s, v);
	sl_vma_write(s, v);
	sim_note(s->cpu->core, "split VMA [%#llx, %#llx) at %#llx: a new node is linked after it",
		 (unsigned long long)sn_start(v), (unsigned long long)sn_end(v), (unsigned long long)addr);
	struct vr_attr hi = sl_attr(v);
	hi.pgoff += (addr - hi.start) >> PAGE_SHIFT;
	hi.start = addr;
	struct sl_node *n = sl_vma_new(s, &hi, v->file);
	sl_vma_write(s, n);
	/* Link first, then replace v by its lower part: [addr, end) is never seen as a gap. */
	sl_link(s->mm, s->cpu, n);
	sl_set_end(s, v, addr);
	sl_inc(&s->mm->st.splits);
	return n;
}

/* The VMAs that end at a / start at b (merge candidates), inside the locked range. */
static struct sl_node *ending_at(struct sl_lockset *s, uint64_t a)
{
	struct sl_node *p = sl_vma_before(s, a);
	return p && sn_end(p) == a ? p : NULL;
}

static struct sl_node *starting_at(struct sl_lockset *s, uint64_t b)
{
	struct sl_node *n = sl_vma_from(s, b);
	return n && sn_start(n) == b ? n : NULL;
}

/* Remove v after moving its range into the neighbour that absorbs it. */
static void absorb(struct sl_lockset *s, struct sl_node *into, struct sl_node *v)
{
	must_hold(s, v);
	take_av(into, v);
	sl_remove(s, v);
	sl_inc(&s->mm->st.merges);
}

struct sl_node *sl_place_new(struct sl_lockset *s, struct vr_attr a, struct vm_file *f)
{
	struct sim_core *c = s->cpu->core;
	sl_claim(s, a.start, a.end);
	struct sl_node *prev = ending_at(s, a.start), *next = starting_at(s, a.end);
	struct vr_attr pa, na;
	bool left, right;
	kmm_merge_sides(attr_of(prev, &pa), &a, attr_of(next, &na), &left, &right);
	if (left) {
		sl_vma_write(s, prev);
		if (!prev->av && a.av)
			prev->av = a.av, prev->chain = a.chain;
		/* prev grows over next before next goes: its interval is never seen as a gap */
		prev = sl_set_end(s, prev, right ? sn_end(next) : a.end);
		if (right) {
			sl_vma_write(s, next);
			absorb(s, prev, next);
		}
		sim_note(c, "the new range merges into the VMA before it%s: now [%#llx, %#llx)",
			 right ? " and the one after (its node is unlinked)" : "", (unsigned long long)sn_start(prev),
			 (unsigned long long)sn_end(prev));
		sl_inc(&s->mm->st.merges);
		return prev;
	}
	if (right) {
		sl_vma_write(s, next);
		if (!next->av && a.av)
			next->av = a.av, next->chain = a.chain;
		next = sl_set_start(s, next, a.start, a.pgoff);
		sim_note(c, "the new range merges into the VMA after it: now [%#llx, %#llx) (a replacement node)",
			 (unsigned long long)sn_start(next), (unsigned long long)sn_end(next));
		sl_inc(&s->mm->st.merges);
		return next;
	}
	struct sl_node *v = sl_vma_new(s, &a, f);
	sl_vma_write(s, v);
	sl_link(s->mm, s->cpu, v);
	sim_note(c, "new VMA [%#llx, %#llx): a node of height %u linked into the skiplist (%llu VMAs now)",
		 (unsigned long long)a.start, (unsigned long long)a.end, v->height,
		 (unsigned long long)atomic_load(&s->mm->nvmas));
	return v;
}

void sl_unmap(struct sl_lockset *s, uint64_t start, uint64_t end)
{
	struct sl_node *v = sl_vma_from(s, start);
	if (!v || sn_start(v) >= end)
		return;
	if (sn_start(v) < start)
		sl_split(s, v, start);
	struct sl_node *last = sl_vma_from(s, end - 1);
	if (last && sn_start(last) < end && sn_end(last) > end)
		sl_split(s, last, end);
	for (v = sl_vma_from(s, start); v && sn_start(v) < end; v = sl_vma_from(s, start)) {
		must_hold(s, v);
		sim_note(s->cpu->core, "VMA [%#llx, %#llx) is unlinked from the skiplist (freed after an RCU grace period)",
			 (unsigned long long)sn_start(v), (unsigned long long)sn_end(v));
		sl_remove(s, v);
	}
	/* free_pgtables' bounds: the neighbours, or the locked gap's owner below and the next node above */
	struct sl_node *prev = sl_vma_before(s, start), *next = sl_after(s, end);
	int k = 0;
	while (k + 1 < s->nseg && s->lo[k + 1] <= start)
		k++;
	uint64_t floor = prev ? sn_end(prev) : s->floor[k];
	uint64_t ceiling = next ? sn_start(next) : 0;
	struct kmm_flush fl = { 0 };
	kmm_zap(&s->mm->pt, s->cpu, start, end, &fl);
	kmm_free_tables(&s->mm->pt, s->cpu, start, end, floor, ceiling, &fl);
	kmm_flush_finish(&s->mm->pt, s->cpu, &fl);
}

struct sl_node *sl_modify(struct sl_lockset *s, struct sl_node *v, uint64_t a, uint64_t b, uint32_t nf)
{
	if (v->flags == nf)
		return v;
	if (sn_start(v) < a)
		v = sl_split(s, v, a);
	if (sn_end(v) > b) {
		sl_split(s, v, b);
		v = sl_cur(v);
	}
	if (in_place(s, v)) {
		v->flags = nf;
	} else {
		struct vr_attr na_ = sl_attr(v);
		na_.flags = nf;
		v = sl_replace(s, v, &na_);
	}
	sim_note(s->cpu->core, "VMA [%#llx, %#llx) gets its new flags", (unsigned long long)sn_start(v),
		 (unsigned long long)sn_end(v));
	struct sl_node *prev = ending_at(s, sn_start(v)), *next = starting_at(s, sn_end(v));
	struct vr_attr me = sl_attr(v), pa, na;
	bool left, right;
	kmm_merge_sides(attr_of(prev, &pa), &me, attr_of(next, &na), &left, &right);
	/*
	 * Each merge grows the node that stays over the one that goes before that
	 * one is unlinked, as sl_place_new does: an interval unlinked first would
	 * be a gap for a moment, and a call holding only the lock of the gap after
	 * it (it met no node there) could take it as free and find it taken.
	 */
	if (right) {
		sl_vma_write(s, next);
		v = sl_set_end(s, v, sn_end(next));
		absorb(s, v, next);
	}
	if (left) {
		sl_vma_write(s, prev);
		prev = sl_set_end(s, prev, sn_end(v));
		absorb(s, prev, v);
		v = prev;
	}
	return v;
}

void sl_anon_prepare(struct sl_lockset *s, struct sl_node *v)
{
	if (v->av)
		return;
	struct vr_attr me = sl_attr(v), na, pa;
	struct sl_node *next = starting_at(s, sn_end(v));
	struct sl_node *prev = ending_at(s, sn_start(v));
	uint32_t av = kmm_reusable_av(&me, attr_of(next, &na), attr_of(prev, &pa));
	sl_vma_write(s, v);
	v->av = av ? av : atomic_fetch_add(&s->mm->next_av, 1);
	v->chain = 1;
}
