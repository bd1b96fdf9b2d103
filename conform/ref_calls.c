/* ref_calls.c: the reference model's mmap, munmap, mprotect and brk, with Linux's results. */
#include "conform/ref_int.h"

/* Pages locked (VM_LOCKED) in r: the model's mm->locked_vm. */
static uint64_t locked_pages(const struct ref *r)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < r->n; i++)
		n += r->v[i].flags & RR_LOCKED ? (r->v[i].end - r->v[i].start) / PG : 0;
	return n;
}

/* mlock_future_ok: may len more bytes of a mapping with flags vf be locked? */
static bool lock_ok(const struct ref *r, uint32_t vf, uint64_t len)
{
	if (!(vf & RR_LOCKED) || r->k.cap_ipc_lock || r->k.memlock_limit == UINT64_MAX)
		return true;
	return (locked_pages(r) * PG + len) <= r->k.memlock_limit;
}

/* The flags LEGACY_MAP_MASK holds: MAP_SHARED_VALIDATE refuses the others with EOPNOTSUPP. */
#define LEGACY_MAP_FLAGS 0x407f933

/* do_mmap's checks of the kind of mapping, after the address is known: 0 or -errno. */
static int mmap_kind_ok(int flags, bool anon)
{
	int type = flags & VM_MAP_TYPE;
	if (anon) {
		if (type != VM_MAP_SHARED && type != VM_MAP_PRIVATE)
			return -EINVAL;
		return type == VM_MAP_SHARED && (flags & VM_MAP_GROWSDOWN) ? -EINVAL : 0;
	}
	if (type == VM_MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_FLAGS))
		return -EOPNOTSUPP;
	if (type != VM_MAP_SHARED && type != VM_MAP_PRIVATE && type != VM_MAP_SHARED_VALIDATE)
		return -EINVAL;
	return flags & VM_MAP_GROWSDOWN ? -EINVAL : 0;
}

long ref_mmap(struct ref *r, uint64_t addr, uint64_t len, int prot, int flags, struct ref_file *f, uint64_t off)
{
	bool anon = (flags & VM_MAP_ANONYMOUS) || !f;
	int e = refchk_mmap(r, addr, &len, flags, off);
	if (e)
		return e;
	int mf = r->k.overcommit_never ? flags & ~VM_MAP_NORESERVE : flags; /* NORESERVE only when overcommit is allowed */
	uint32_t vf = rr_flags_of_mmap(prot, mf) | r->def_flags;
	if (!r->k.thp)
		vf &= ~RR_NOHUGEPAGE;
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
	if (!lock_ok(r, vf, len))
		return -EAGAIN;
	if ((e = mmap_kind_ok(flags, anon)))
		return e;
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
	if ((vf & RR_LOCKED) || (flags & (VM_MAP_POPULATE | VM_MAP_NONBLOCK)) == VM_MAP_POPULATE)
		reff_populate(r, addr, addr + len, true);
	return (long)addr;
}

int ref_munmap(struct ref *r, uint64_t addr, uint64_t len)
{
	int e = refchk_munmap(addr, &len);
	if (e)
		return e;
	refv_unmap(r, addr, addr + len);
	return 0;
}

int ref_mprotect(struct ref *r, uint64_t addr, uint64_t len, int prot)
{
	int e = refchk_mprotect(addr, &len, prot);
	if (e)
		return e == REFCHK_NOOP ? 0 : e;
	uint64_t end = addr + len;
	uint32_t i = refv_find(r, addr);
	if (i == r->n || r->v[i].start >= end)
		return -ENOMEM;
	if (prot & RR_PROT_GROWSDOWN) { /* from the start of the grows-down VMA */
		if (!(r->v[i].flags & RR_GROWSDOWN))
			return -EINVAL;
		addr = r->v[i].start;
	} else if (r->v[i].start > addr) {
		return -ENOMEM;
	} else if (prot & RR_PROT_GROWSUP) {
		return -EINVAL; /* no VMA grows up on x86 */
	}
	prot &= VM_PROT_MASK;
	/* VMA by VMA; a hole ends the walk with ENOMEM, keeping what was done. */
	for (uint64_t cur = addr; cur < end;) {
		i = refv_find(r, cur);
		if (i == r->n || r->v[i].start > cur)
			return -ENOMEM;
		const struct rvma *v = &r->v[i];
		bool private_anon = !v->file && !(v->flags & RR_SHARED);
		uint32_t nf = rr_flags_of_mprotect(v->flags, prot, private_anon, v->av != 0);
		if (((v->flags & ~RR_RWX) | (uint32_t)prot) == v->flags)
			nf = v->flags; /* mprotect_fixup: same protection, nothing to do (accounting stays as it was) */
		uint32_t of = v->flags;
		uint64_t stop = MIN(end, v->end);
		uint32_t j = refv_modify(r, i, cur, stop, nf);
		/* mprotect_fixup: locked private memory that becomes writable is copied (faulted in) now */
		if ((of & (VM_PROT_WRITE | RR_SHARED | RR_LOCKED)) == RR_LOCKED && (nf & VM_PROT_WRITE))
			reff_populate(r, cur, stop, true);
		cur = r->v[j].end;
	}
	return 0;
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
