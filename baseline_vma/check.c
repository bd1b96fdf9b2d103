/* check.c: the Linux-like designs' invariants over a range: the maple tree sound, VMAs live, unlocked, sorted, apart and merged where Linux merges, and the page table under them (kmm/check.h). */
#include "baseline_vma/linux.h"
#include "kmm/check.h"

/*
 * linux_check: what vm.h's check asks, for [start, end): the tree's paths
 * to the range and its leaves (mtree.c: mt_check); every VMA meeting the
 * range, and its neighbour on each side, in the tree under its own start,
 * not detached and not write-locked (no call is in flight), and as
 * kmm_check_maps wants them; every mapped entry in the range inside a VMA
 * and within its rights (kmm_check_leaves). Over the whole space, also that
 * the counts of VMAs agree with the tree. Host only: no charges.
 */
int linux_check(struct vm_as *as, uint64_t start, uint64_t end, char *why, size_t n)
{
	struct lmm *mm = lmm_of(as);
	bool full = start == 0 && end >= VM_TASK_SIZE;
	if (mt_check(&mm->mt, start, end, full, why, n))
		return -1;
	struct lvma *p = linux_prev(mm, NULL, start), *q = linux_find(mm, NULL, end);
	uint64_t lo = p ? lv_start(p) : start, hi = q ? lv_end(q) : end;
	struct lvma_list c = { 0 };
	mt_for_each(&mm->mt, lo, hi, linux_collect, &c);
	struct vr_attr *m = xmalloc(sizeof(*m) * (c.n + 1));
	int err = 0;
	uint64_t seq = atomic_load(&mm->mm_lock_seq);
	for (uint32_t i = 0; i < c.n && !err; i++) {
		struct lvma *v = c.v[i];
		m[i] = linux_attr(v);
		if (atomic_load(&v->detached) || atomic_load(&v->lock_seq) == seq)
			err = kmm_fail(why, n, "VMA [%#llx, %#llx) in the tree is %s", (unsigned long long)m[i].start,
				       (unsigned long long)m[i].end, atomic_load(&v->detached) ? "detached" : "still write-locked");
	}
	if (!err)
		err = kmm_check_maps(&mm->pt, m, c.n, why, n);
	if (!err)
		err = kmm_check_leaves(as, m, c.n, start, end, why, n);
	if (!err && full && (c.n != atomic_load(&mm->nvmas) || c.n != mm->map_count))
		err = kmm_fail(why, n, "%u VMAs in the tree, %llu counted, map_count %u", c.n,
			       (unsigned long long)atomic_load(&mm->nvmas), mm->map_count);
	xfree(m);
	xfree(c.v);
	return err;
}
