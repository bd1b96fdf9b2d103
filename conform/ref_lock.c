/* ref_lock.c: the reference model's mlock, mlock2, munlock, mlockall, munlockall, msync and mincore. */
#include "conform/ref_int.h"

#define MLOCK_ONFAULT 1
#define MCL_CURRENT 1
#define MCL_FUTURE 2
#define MCL_ONFAULT 4
#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4

/*
 * apply_vma_lock_flags: give [start, start + len) the lock bits `to`
 * (RR_LOCKED_MASK bits), VMA by VMA; a hole is ENOMEM, after the VMAs
 * before it were changed.
 */
static int set_lock(struct ref *r, uint64_t start, uint64_t len, uint32_t to)
{
	uint64_t end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	if (refv_lookup(r, start) < 0)
		return -ENOMEM;
	for (uint64_t cur = start; cur < end;) {
		uint32_t i = refv_find(r, cur);
		if (i == r->n || r->v[i].start > cur)
			return -ENOMEM;
		uint32_t nf = (r->v[i].flags & ~RR_LOCKED_MASK) | to;
		uint32_t j = refv_modify(r, i, cur, MIN(end, r->v[i].end), nf);
		cur = r->v[j].end;
	}
	return 0;
}

/* The pages of [a, b) already locked (count_mm_mlocked_page_nr). */
static uint64_t locked_in(const struct ref *r, uint64_t a, uint64_t b)
{
	uint64_t n = 0;
	for (uint32_t i = refv_find(r, a); i < r->n && r->v[i].start < b; i++)
		if (r->v[i].flags & RR_LOCKED)
			n += (MIN(b, r->v[i].end) - MAX(a, r->v[i].start)) / PG;
	return n;
}

int ref_mlock(struct ref *r, uint64_t addr, uint64_t len, int flags)
{
	if (flags & ~MLOCK_ONFAULT)
		return -EINVAL;
	if (!r->k.memlock_limit && !r->k.cap_ipc_lock)
		return -EPERM; /* can_do_mlock */
	len = vm_page_up(len + (addr & (PG - 1)));
	addr &= ~(PG - 1);
	if (!r->k.cap_ipc_lock && r->k.memlock_limit != UINT64_MAX) {
		uint64_t total = locked_in(r, 0, VM_TASK_SIZE) + len / PG - locked_in(r, addr, addr + len);
		if (total > r->k.memlock_limit / PG)
			return -ENOMEM;
	}
	int e = set_lock(r, addr, len, RR_LOCKED | (flags & MLOCK_ONFAULT ? RR_LOCKONFAULT : 0));
	if (e)
		return e;
	e = reff_populate(r, addr, addr + len, false);
	return e == -EFAULT ? -ENOMEM : e; /* __mlock_posix_error_return */
}

int ref_munlock(struct ref *r, uint64_t addr, uint64_t len)
{
	len = vm_page_up(len + (addr & (PG - 1)));
	return set_lock(r, addr & ~(PG - 1), len, 0);
}

/* apply_mlockall_flags: every VMA gets the lock bits `to`. */
static void lock_all(struct ref *r, uint32_t to)
{
	for (uint64_t cur = 0; cur < VM_TASK_SIZE;) {
		uint32_t i = refv_find(r, cur);
		if (i == r->n)
			break;
		uint32_t j = refv_modify(r, i, r->v[i].start, r->v[i].end, (r->v[i].flags & ~RR_LOCKED_MASK) | to);
		cur = r->v[j].end;
	}
}

int ref_mlockall(struct ref *r, int flags)
{
	if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
		return -EINVAL;
	if (!r->k.memlock_limit && !r->k.cap_ipc_lock)
		return -EPERM;
	uint32_t bits = RR_LOCKED | (flags & MCL_ONFAULT ? RR_LOCKONFAULT : 0);
	r->def_flags = flags & MCL_FUTURE ? bits : 0;
	if (!(flags & MCL_CURRENT))
		return 0;
	lock_all(r, bits);
	reff_populate(r, 0, VM_TASK_SIZE, true);
	return 0;
}

int ref_munlockall(struct ref *r)
{
	r->def_flags = 0;
	lock_all(r, 0);
	return 0;
}

int ref_msync(struct ref *r, uint64_t addr, uint64_t len, int flags)
{
	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if (addr & (PG - 1))
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	uint64_t end = addr + vm_page_up(len);
	if (end < addr)
		return -ENOMEM;
	int unmapped = 0;
	for (uint64_t cur = addr; cur < end;) {
		uint32_t i = refv_find(r, cur);
		if (i == r->n)
			return -ENOMEM;
		if (cur < r->v[i].start) {
			if (flags == MS_ASYNC)
				return -ENOMEM;
			cur = r->v[i].start;
			if (cur >= end)
				return -ENOMEM;
			unmapped = -ENOMEM;
		}
		if ((flags & MS_INVALIDATE) && (r->v[i].flags & RR_LOCKED))
			return -EBUSY;
		cur = r->v[i].end;
	}
	return unmapped;
}

int ref_mincore(struct ref *r, uint64_t addr, uint64_t len)
{
	if (addr & (PG - 1))
		return -EINVAL;
	if (addr + len < addr || addr + len > VM_TASK_SIZE + PG)
		return -ENOMEM; /* access_ok */
	uint64_t end = addr + vm_page_up(len);
	for (uint64_t cur = addr; cur < end;) {
		int i = refv_lookup(r, cur);
		if (i < 0)
			return -ENOMEM;
		cur = r->v[i].end;
	}
	return 0;
}
