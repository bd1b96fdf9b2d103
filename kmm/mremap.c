/* mremap.c: mremap's rules (mm/mremap.c: do_mremap, mremap_to, move_vma's callers), written once for every design over its kmm_maps_ops. */
#include "kmm/maps.h"

/* hint_free: is [a, a + len) free, with the guard gap below a grows-down mapping above it (the x86 hint rule)? */
static bool hint_free(struct kmm_ctx *x, uint64_t a, uint64_t len)
{
	struct kmm_map m;
	return !x->ops->find(x, a, a + len + VM_STACK_GUARD_GAP, &m) || (m.a.start >= a && vr_gap_fits(a, len, &m.a));
}

/* remap_to: mremap_to: clear the target (MREMAP_FIXED; else new_addr is a hint), shrink the source if asked, then move it. */
static long remap_to(struct kmm_ctx *x, uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t new_addr,
		     bool fixed)
{
	const struct kmm_maps_ops *o = x->ops;
	struct kmm_map m;
	if (fixed)
		o->unmap(x, new_addr, new_addr + new_len);
	if (!o->lookup(x, addr, &m))
		return -EFAULT;
	if (new_len < old_len) {
		o->unmap(x, addr + new_len, addr + old_len);
		old_len = new_len;
		if (o->handles && !o->lookup(x, addr, &m))
			return -EFAULT;
	}
	/* MREMAP_DONTUNMAP's new_addr is get_unmapped_area's hint: 0 names none, and the kernel picks the place */
	if (!fixed && (!new_addr || !hint_free(x, new_addr, new_len)))
		return o->relocate(x, &m, addr, old_len, new_len);
	return o->move(x, &m, addr, old_len, new_addr, new_len);
}

/*
 * remap_move: MREMAP_FIXED with equal lengths moves every mapping in the
 * range, keeping the gaps between them. The mappings are those of the range
 * when the call starts (a move with MREMAP_DONTUNMAP may merge what it
 * leaves behind with the next one).
 */
static long remap_move(struct kmm_ctx *x, uint64_t start, uint64_t len, uint64_t new_addr)
{
	uint64_t end = start + len, cur = start, n = 0, cap = 8;
	uint64_t *src = xmalloc(sizeof(uint64_t) * 2 * cap);
	struct kmm_map m;
	for (; x->ops->find(x, cur, end, &m); cur = m.a.end) {
		if (n == cap)
			src = xrealloc(src, sizeof(uint64_t) * 2 * (cap *= 2));
		src[2 * n] = m.a.start, src[2 * n + 1] = m.a.end;
		n++;
		if (m.a.end >= end)
			break;
	}
	long res = -EFAULT;
	uint64_t target = new_addr;
	for (uint64_t k = 0; k < n && !(k == 0 && src[0] > start); k++) { /* no gap permitted at the start */
		uint64_t a = MAX(src[2 * k], start), l = MIN(end, src[2 * k + 1]) - a;
		uint64_t offset = k ? src[2 * k] - src[2 * k - 1] : 0;
		long got = x->ops->lookup(x, a, &m) ? x->ops->prep(x, &m, a, l, l, true) : -EFAULT;
		if (!got)
			got = remap_to(x, a, l, l, target + offset, true);
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

long kmm_mremap(struct kmm_ctx *x, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
	const struct kmm_maps_ops *o = x->ops;
	bool fixed = flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
	x->dontunmap = flags & VM_MREMAP_DONTUNMAP;
	if ((flags & VM_MREMAP_FIXED) && old_len == new_len)
		return remap_move(x, addr, old_len, new_addr);
	struct kmm_map m;
	if (!o->lookup(x, addr, &m))
		return -EFAULT;
	long e = o->prep(x, &m, addr, old_len, new_len, fixed);
	if (e)
		return e;
	if (fixed)
		return remap_to(x, addr, old_len, new_len, new_addr, flags & VM_MREMAP_FIXED);
	if (new_len == old_len)
		return (long)addr;
	if (new_len < old_len) {
		o->unmap(x, addr + new_len, addr + old_len);
		return (long)addr;
	}
	if (o->expand(x, &m, addr, old_len, new_len))
		return (long)addr;
	if (!(flags & VM_MREMAP_MAYMOVE))
		return -ENOMEM;
	return o->relocate(x, &m, addr, old_len, new_len);
}
