/* ref_calls.c: the reference model's mmap, munmap, mprotect, madvise and brk, with Linux's results. */
#include "conform/ref_int.h"

long ref_mmap(struct ref *r, uint64_t addr, uint64_t len, int prot, int flags, struct ref_file *f, uint64_t off)
{
	bool anon = (flags & VM_MAP_ANONYMOUS) || !f;
	int e = vm_check_mmap(addr, &len, prot, flags, anon, off);
	if (e)
		return e;
	uint32_t vf = rr_flags_of_mmap(prot, flags);
	if (flags & VM_MAP_FIXED_NOREPLACE) {
		uint32_t i = refv_find(r, addr);
		if (i < r->n && r->v[i].start < addr + len)
			return -EEXIST;
	} else if (!(flags & VM_MAP_FIXED)) {
		uint64_t hint = rr_hint(addr);
		if (hint && hint <= VM_TASK_SIZE - len && refv_is_free(r, hint, len))
			addr = hint;
		else if (!(addr = refv_topdown(r, len)))
			return -ENOMEM;
	}
	if (flags & VM_MAP_FIXED)
		refv_unmap(r, addr, addr + len);
	if (anon && (vf & RR_SHARED)) { /* shared anonymous memory is a shmem file of its own */
		f = ref_file_create(0x40000000u + r->next_av++, len);
		f->refs--; /* the mapping takes over the creation reference */
		anon = false;
		off = 0;
	}
	if (!anon)
		f->refs++;
	refv_place(r, addr, addr + len, vf, anon ? NULL : f, anon ? addr / PG : off / PG, 0, 0);
	if (flags & VM_MAP_POPULATE)
		reff_populate(r, addr, addr + len, vf);
	return (long)addr;
}

int ref_munmap(struct ref *r, uint64_t addr, uint64_t len)
{
	int e = vm_check_munmap(addr, &len);
	if (e)
		return e;
	refv_unmap(r, addr, addr + len);
	return 0;
}

int ref_mprotect(struct ref *r, uint64_t addr, uint64_t len, int prot)
{
	int e = vm_check_mprotect(addr, &len, prot);
	if (e)
		return e == VM_CHECK_NOOP ? 0 : e;
	uint64_t end = addr + len;
	uint32_t i = refv_find(r, addr);
	if (i == r->n || r->v[i].start > addr)
		return -ENOMEM;
	/* VMA by VMA; a hole ends the walk with ENOMEM, keeping what was done. */
	uint64_t cur = addr;
	while (cur < end) {
		i = refv_find(r, cur);
		if (i == r->n || r->v[i].start > cur)
			return -ENOMEM;
		const struct rvma *v = &r->v[i];
		bool private_anon = !v->file && !(v->flags & RR_SHARED);
		uint32_t nf = rr_flags_of_mprotect(v->flags, prot, private_anon, v->av != 0);
		uint32_t j = refv_modify(r, i, cur, MIN(end, v->end), nf);
		cur = r->v[j].end;
	}
	return 0;
}

int ref_madvise(struct ref *r, uint64_t addr, uint64_t len, int advice)
{
	int e = vm_check_madvise(addr, &len, advice);
	if (e)
		return e == VM_CHECK_NOOP ? 0 : e;
	uint64_t start = addr, end = addr + len;
	int unmapped = 0;
	/* madvise_walk_vmas: skip holes (ENOMEM at the end), apply to each VMA's part. */
	for (uint32_t i = refv_find(r, start); start < end; i = refv_find(r, start)) {
		if (i == r->n)
			return -ENOMEM;
		if (start < r->v[i].start) {
			unmapped = -ENOMEM;
			start = r->v[i].start;
			if (start >= end)
				break;
		}
		struct rvma *v = &r->v[i];
		uint64_t stop = MIN(v->end, end);
		switch (advice) {
		case VM_MADV_DONTNEED:
			if (v->flags & RR_LOCKED)
				return -EINVAL;
			refps_take(&r->priv, start, stop, NULL);
			break;
		case VM_MADV_FREE:
			if (v->file || (v->flags & RR_SHARED))
				return -EINVAL; /* only private anonymous memory */
			break;			/* without memory pressure the pages stay */
		case VM_MADV_WILLNEED:
			for (uint64_t p = start; v->file && p < stop; p += PG)
				reff_cache(v->file, v->pgoff + (p - v->start) / PG);
			break;
		default:
			i = refv_modify(r, i, start, stop, rr_flags_of_madvise(v->flags, advice));
			stop = MIN(r->v[i].end, end);
		}
		start = stop;
	}
	return unmapped;
}

long ref_brk(struct ref *r, uint64_t brk)
{
	uint64_t orig = r->brk;
	if (brk < r->start_brk)
		return (long)orig;
	uint64_t newbrk = vm_page_up(brk), oldbrk = vm_page_up(r->brk);
	if (oldbrk == newbrk) {
		r->brk = brk;
		return (long)brk;
	}
	if (brk <= r->brk) {
		/* Shrink: the brk VMA must reach from below newbrk's page to oldbrk. */
		uint32_t i = refv_find(r, newbrk);
		if (i == r->n || r->v[i].start >= oldbrk)
			return (long)orig;
		r->brk = brk;
		refv_unmap(r, newbrk, oldbrk);
		return (long)brk;
	}
	/* Grow: nothing may sit within a page and the guard gap above the new break. */
	uint32_t i = refv_find(r, oldbrk);
	if (i < r->n && r->v[i].start < newbrk + PG + VM_STACK_GUARD_GAP) {
		uint64_t gap = r->v[i].start;
		if (r->v[i].flags & RR_GROWSDOWN)
			gap = gap > VM_STACK_GUARD_GAP ? gap - VM_STACK_GUARD_GAP : 0;
		if (newbrk + PG > gap)
			return (long)orig;
	}
	uint32_t f = VM_PROT_READ | VM_PROT_WRITE | RR_ACCOUNT;
	/* do_brk_flags: extend the VMA ending at oldbrk when it matches, else a new one. */
	uint32_t j = refv_find(r, oldbrk - 1);
	if (oldbrk > r->start_brk && j < r->n && r->v[j].end == oldbrk && r->v[j].start >= r->start_brk &&
	    r->v[j].flags == f && !r->v[j].file)
		r->v[j].end = newbrk;
	else
		refv_place(r, oldbrk, newbrk, f, NULL, oldbrk / PG, 0, 0);
	r->brk = brk;
	return (long)brk;
}
