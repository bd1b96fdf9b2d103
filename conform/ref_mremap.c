/* ref_mremap.c: the reference model's mremap: resize in place, move (MAYMOVE, FIXED), with Linux's checks and results. */
#include "conform/ref_int.h"

/*
 * Move [addr, addr + len) of VMA i to new_addr (free) as new_len bytes, with
 * its page table entries (move_vma). With dontunmap the old range stays
 * mapped, empty and unlocked. Returns new_addr.
 */
static uint64_t move(struct ref *r, uint32_t i, uint64_t addr, uint64_t len, uint64_t new_addr, uint64_t new_len,
		     bool dontunmap)
{
	struct rvma v = r->v[i];
	uint64_t pgoff = v.pgoff + (addr - v.start) / PG;
	/* copy_vma: unfaulted anonymous memory takes the pgoff of its new place, to merge more easily. */
	if (!v.file && !(v.flags & RR_SHARED) && !v.av)
		pgoff = new_addr / PG;
	uint64_t *pg = NULL;
	uint64_t n = refps_take(&r->priv, addr, addr + len, 0, &pg);
	if (v.file)
		v.file->refs++;
	uint32_t j = refv_place(r, new_addr, new_addr + new_len, v.flags, v.file, pgoff, v.av, v.chain);
	if (!dontunmap) {
		refv_unmap(r, addr, addr + len);
	} else { /* dontunmap_complete */
		int o = refv_lookup(r, addr);
		bool whole = v.start == addr && v.end == addr + len;
		r->v[o].flags &= ~RR_LOCKED_MASK;
		if (whole && (uint32_t)o != j)
			r->v[o].av = 0, r->v[o].chain = 0; /* unlink_anon_vmas */
	}
	for (uint64_t k = 0; k < n; k++) /* the page table entries move with the pages */
		refps_set(&r->priv, (pg[k] >> 8) - addr / PG + new_addr / PG, (uint8_t)pg[k]);
	xfree(pg);
	if ((v.flags & RR_LOCKED) && new_len > len) /* a locked mapping that grew: the new part is faulted in */
		reff_populate(r, new_addr + len, new_addr + new_len, true);
	return new_addr;
}

/* check_prep_vma for a resize or move (`moves`) of [addr, addr + old_len) inside VMA i: 0 or -errno. */
static long prep(const struct ref *r, uint32_t i, uint64_t addr, uint64_t old_len, uint64_t new_len, bool moves)
{
	const struct rvma *v = &r->v[i];
	if (new_len <= old_len && !moves)
		return 0;
	if (!old_len && !(v->flags & RR_SHARED))
		return -EINVAL; /* duplicating a private mapping makes no sense */
	/* The part a shrink unmaps may cross VMA boundaries; what stays may not. */
	uint64_t keep = MIN(old_len, new_len);
	if (keep > v->end - addr)
		return -EFAULT;
	if (new_len == keep)
		return 0;
	uint64_t pgoff = v->pgoff + (addr - v->start) / PG;
	return pgoff + new_len / PG < pgoff ? -EINVAL : 0;
}

/* mremap_to: unmap the target (FIXED), shrink the source if asked, then move it (to a hint without FIXED). */
static long remap_to(struct ref *r, uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t new_addr, int flags)
{
	bool fixed = flags & VM_MREMAP_FIXED;
	if (fixed)
		refv_unmap(r, new_addr, new_addr + new_len);
	int i = refv_lookup(r, addr);
	if (i < 0)
		return -EFAULT;
	if (new_len < old_len) {
		refv_unmap(r, addr + new_len, addr + old_len);
		old_len = new_len;
		i = refv_lookup(r, addr);
	}
	/* without FIXED, new_addr is a hint (0: none) */
	if (!fixed && (!new_addr || !refv_is_free(r, new_addr, new_len)) && !(new_addr = refv_topdown(r, new_len)))
		return -ENOMEM;
	return (long)move(r, (uint32_t)i, addr, old_len, new_addr, new_len, flags & VM_MREMAP_DONTUNMAP);
}

/*
 * mremap(MREMAP_FIXED) with equal lengths (remap_move): every VMA in the
 * range moves, keeping the gaps between them. The VMAs are those of the
 * range when the call starts.
 */
static long remap_many(struct ref *r, uint64_t start, uint64_t len, uint64_t new_addr, int flags)
{
	uint64_t end = start + len, n = 0;
	for (uint32_t i = refv_find(r, start); i < r->n && r->v[i].start < end; i++)
		n++;
	if (!n || r->v[refv_find(r, start)].start > start)
		return -EFAULT; /* no gap permitted at the start */
	uint64_t *src = xmalloc(sizeof(uint64_t) * 2 * n);
	uint32_t i0 = refv_find(r, start);
	for (uint64_t k = 0; k < n; k++)
		src[2 * k] = r->v[i0 + k].start, src[2 * k + 1] = r->v[i0 + k].end;
	long res = -EFAULT;
	uint64_t target = new_addr;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t a = MAX(src[2 * k], start), l = MIN(end, src[2 * k + 1]) - a;
		uint64_t offset = k ? src[2 * k] - src[2 * k - 1] : 0;
		int i = refv_lookup(r, a);
		long got = i < 0 ? -EFAULT : prep(r, (uint32_t)i, a, l, l, true);
		if (!got)
			got = remap_to(r, a, l, l, target + offset, flags);
		if (got < 0) {
			res = got;
			break;
		}
		if (!k)
			res = got;
		target = (uint64_t)got + l;
	}
	xfree(src);
	return res;
}

/* Grow VMA i in place by delta bytes when the space after it is free (vma_merge_extend); false if it is not. */
static bool grow_in_place(struct ref *r, uint32_t i, uint64_t delta)
{
	struct rvma *v = &r->v[i];
	if (v->end + delta > VM_TASK_SIZE || v->end + delta <= v->end)
		return false;
	uint32_t j = refv_find(r, v->end);
	if (j < r->n && r->v[j].start < v->end + delta)
		return false;
	struct rr_vma grown = refv_rr(v), next;
	grown.end += delta;
	v->end += delta;
	if (j == r->n || r->v[j].start != v->end)
		return true;
	next = refv_rr(&r->v[j]);
	struct rr_vma tail = grown; /* the new part, as a piece that must precede next */
	tail.start = grown.end - delta;
	tail.pgoff = grown.pgoff + (tail.start - grown.start) / PG;
	if (rr_can_precede(&next, &tail) && rr_av_mergeable(v->av, 1, next.av, 1)) {
		v->end = r->v[j].end;
		refv_absorb_av(v, &r->v[j]);
		refv_remove(r, j);
	}
	return true;
}

long ref_mremap(struct ref *r, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
	int e = refchk_mremap(addr, &old_len, &new_len, flags, new_addr);
	if (e)
		return e;
	bool fixed = flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
	if ((flags & VM_MREMAP_FIXED) && old_len == new_len)
		return remap_many(r, addr, old_len, new_addr, flags);
	int i = refv_lookup(r, addr);
	if (i < 0)
		return -EFAULT;
	long pe = prep(r, (uint32_t)i, addr, old_len, new_len, fixed);
	if (pe)
		return pe;
	if (fixed)
		return remap_to(r, addr, old_len, new_len, new_addr, flags);
	if (new_len <= old_len) {
		if (new_len < old_len)
			refv_unmap(r, addr + new_len, addr + old_len);
		return (long)addr;
	}
	/* Grow: in place if the range reaches the VMA's end and the space after it is free. */
	if (addr + old_len == r->v[i].end && grow_in_place(r, (uint32_t)i, new_len - old_len)) {
		if (r->v[i].flags & RR_LOCKED)
			reff_populate(r, addr + old_len, addr + new_len, true);
		return (long)addr;
	}
	if (!(flags & VM_MREMAP_MAYMOVE))
		return -ENOMEM;
	uint64_t na = refv_topdown(r, new_len);
	if (!na)
		return -ENOMEM;
	return (long)move(r, (uint32_t)i, addr, old_len, na, new_len, false);
}
