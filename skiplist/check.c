/* check.c: the `skiplist` design's invariants over a range: the list's order and towers, its anchors, no lock left held, the VMAs as Linux keeps them, and the page table under them (kmm/check.h). */
#include "skiplist/sl.h"
#include "kmm/check.h"

#define MARK ((uintptr_t)1)

/* The level-l successor of n as stored (mark bit apart), read without charges. */
static struct sl_node *succ(const struct sl_node *n, int l)
{
	return (struct sl_node *)(atomic_load(&n->lv[l].next) & ~MARK);
}

/* seek: the last node whose start is at most key, by a descent along the towers (no charges, no statistics). */
static struct sl_node *seek(struct sl_mm *mm, uint64_t key)
{
	struct sl_node *pred = mm->head;
	for (int l = SL_MAX_LEVEL - 1; l >= 0; l--)
		for (struct sl_node *n = succ(pred, l); n && sn_start(n) <= key; n = succ(n, l))
			pred = n;
	return pred;
}

/* one_node: n, linked at level 0 after prev (NULL for the head), as the list wants it. */
static int one_node(const struct sl_mm *mm, const struct sl_node *prev, const struct sl_node *n, uint64_t last_end,
		    char *why, size_t len)
{
	uint64_t s = sn_start(n), e = sn_end(n);
	if (atomic_load(&n->lv[0].next) & MARK || atomic_load(&n->detached))
		return kmm_fail(why, len, "skiplist: node [%#llx, %#llx) is deleted but still linked", (unsigned long long)s,
				(unsigned long long)e);
	if (prev && s <= sn_start(prev))
		return kmm_fail(why, len, "skiplist: nodes out of order at level 0 (%#llx after %#llx)", (unsigned long long)s,
				(unsigned long long)sn_start(prev));
	if (n->anchor ? s != e || (n != mm->head && s < last_end) : s >= e || s < last_end)
		return kmm_fail(why, len, "skiplist: %s [%#llx, %#llx) is empty, not empty, or inside the VMA ending at %#llx",
				n->anchor ? "anchor" : "VMA", (unsigned long long)s, (unsigned long long)e,
				(unsigned long long)last_end);
	if (lk_spin_held(&n->range.s) || lk_spin_held(&n->gap.s) || lk_rwsem_write_held(&n->vma) || n->vma.readers)
		return kmm_fail(why, len, "skiplist: a lock of node [%#llx, %#llx) is still held with no call in flight",
				(unsigned long long)s, (unsigned long long)e);
	if (n->height < 1 || n->height > SL_MAX_LEVEL)
		return kmm_fail(why, len, "skiplist: node %#llx has a tower of %u levels", (unsigned long long)s, n->height);
	/* Towers: the level-l successor is the next node at level 0 whose tower reaches level l. */
	for (int l = 1; l < n->height; l++) {
		const struct sl_node *want = succ(n, 0);
		while (want && want->height <= l)
			want = succ(want, 0);
		if (succ(n, l) != want)
			return kmm_fail(why, len, "skiplist: level %d of node %#llx skips or misses a tower (not a sublist of level 0): next %#llx (height %d, detached %d), want %#llx (height %d)",
					l, (unsigned long long)s, succ(n, l) ? (unsigned long long)sn_start(succ(n, l)) : 0ull, succ(n,l) ? succ(n,l)->height : 0, succ(n,l) ? (int)atomic_load(&succ(n,l)->detached) : 0, want ? (unsigned long long)sn_start(want) : 0ull, want ? want->height : 0);
	}
	return 0;
}

int sl_check(struct vm_as *as, uint64_t start, uint64_t end, char *why, size_t len)
{
	struct sl_mm *mm = sl_of(as);
	bool full = start == 0 && end >= VM_TASK_SIZE;
	/* From the node before the range (a neighbour that merging concerns) to the first node past it. */
	const struct sl_node *n = full ? mm->head : seek(mm, start ? start - 1 : 0), *prev = NULL, *last = NULL;
	if (!full && n != mm->head && !n->anchor) { /* the VMA before that one: the left neighbour of the first */
		const struct sl_node *p = seek(mm, sn_start(n) - 1);
		n = p != n ? p : n;
	}
	struct vr_attr *m = NULL;
	uint32_t nv = 0, cap = 0, count = 0;
	uint64_t last_end = 0;
	int err = 0;
	for (; n && !err; prev = n, n = succ(n, 0)) {
		last = n;
		count++;
		if (!full && n == mm->head)
			; /* the head's tower spans the whole list: checked by the full check */
		else if ((err = one_node(mm, prev, n, last_end, why, len)))
			break;
		if (!n->anchor) {
			if (nv == cap)
				m = xrealloc(m, sizeof(*m) * (cap = cap ? cap * 2 : 16));
			m[nv++] = sl_attr(n);
			last_end = sn_end(n);
		}
		if (!full && sn_start(n) > end && !n->anchor)
			break;
	}
	if (!err)
		err = kmm_check_maps(&mm->pt, m, nv, why, len);
	if (!err)
		err = kmm_check_leaves(as, m, nv, start, end, why, len);
	if (!err && full && last != mm->tail)
		err = kmm_fail(why, len, "skiplist: the tail is not the last node");
	if (!err && full && (count != atomic_load(&mm->nnodes) || nv != atomic_load(&mm->nvmas)))
		err = kmm_fail(why, len, "skiplist: %u nodes and %u VMAs linked, %llu and %llu counted", count, nv,
			       (unsigned long long)atomic_load(&mm->nnodes), (unsigned long long)atomic_load(&mm->nvmas));
	xfree(m);
	return err;
}
