/* check.c: the `listlock` design's invariants over a range: the lock free, the array sorted and disjoint and found again by its own search, the VMAs as Linux leaves them, and the page table under them (kmm/check.h). */
#include "listlock/ll.h"
#include "kmm/check.h"

/*
 * ll_check: what vm.h's check asks, for [start, end): the lock not held
 * (no call is in flight); the array no longer than its capacity; the VMAs
 * that meet the range, and one neighbour on each side, present, each found
 * again at its own index by the binary search, and as kmm_check_maps wants
 * them (non-empty, sorted, disjoint, merged where Linux merges); every
 * mapped entry in the range inside a VMA and within its rights
 * (kmm_check_leaves). Costs the VMAs and the tables over the range. Host
 * only: no charges.
 */
int ll_check(struct vm_as *as, uint64_t start, uint64_t end, char *why, size_t n)
{
	struct llmm *mm = ll_of(as);
	if (lk_spin_held(&mm->lock.s))
		return kmm_fail(why, n, "the mm lock is held while no call is in flight");
	if (mm->n > mm->cap || (mm->n && !mm->v))
		return kmm_fail(why, n, "%u VMAs in an array of %u", mm->n, mm->cap);
	uint32_t lo = ll_index(mm, NULL, start), hi = lo;
	while (hi < mm->n && mm->v[hi] && mm->v[hi]->start < end)
		hi++;
	lo = lo ? lo - 1 : 0;
	hi = hi < mm->n ? hi + 1 : hi;
	struct vr_attr *m = xmalloc(sizeof(*m) * (hi - lo + 1));
	int err = 0;
	for (uint32_t i = lo; i < hi && !err; i++) {
		if (!mm->v[i])
			err = kmm_fail(why, n, "entry %u of %u in the array is empty", i, mm->n);
		else
			m[i - lo] = ll_attr(mm->v[i]);
	}
	if (!err)
		err = kmm_check_maps(&mm->pt, m, hi - lo, why, n);
	for (uint32_t i = lo; i < hi && !err; i++)
		if (ll_index(mm, NULL, m[i - lo].start) != i)
			err = kmm_fail(why, n, "the search for VMA [%#llx, %#llx) does not find it at its index %u",
				       (unsigned long long)m[i - lo].start, (unsigned long long)m[i - lo].end, i);
	if (!err)
		err = kmm_check_leaves(as, m, hi - lo, start, end, why, n);
	xfree(m);
	return err;
}
