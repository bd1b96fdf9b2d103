/* mremap.c: mremap's rules (mm/mremap.c: do_mremap, mremap_to, move_vma's callers), written once for every design over its kmm_maps_ops. */
#include "kmm/maps.h"

/* remap_to: mremap_to: clear the target, shrink the source if asked, then move it. */
static long remap_to(struct kmm_ctx *x, uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t new_addr)
{
	const struct kmm_maps_ops *o = x->ops;
	struct kmm_map m;
	o->unmap(x, new_addr, new_addr + new_len);
	if (!o->lookup(x, addr, &m))
		return -EFAULT;
	if (new_len < old_len) {
		o->unmap(x, addr + new_len, addr + old_len);
		old_len = new_len;
		if (o->handles && !o->lookup(x, addr, &m))
			return -EFAULT;
	}
	return o->move(x, &m, addr, old_len, new_addr, new_len);
}

/* remap_move: MREMAP_FIXED with equal lengths moves every mapping in the range, keeping the gaps between them. */
static long remap_move(struct kmm_ctx *x, uint64_t start, uint64_t len, uint64_t new_addr)
{
	uint64_t end = start + len, target = new_addr, last_end = 0, cur = start;
	long res = -EFAULT;
	bool seen = false;
	struct kmm_map m;
	while (x->ops->find(x, cur, end, &m)) {
		uint64_t vs = m.a.start, ve = m.a.end;
		uint64_t a = MAX(vs, start), l = MIN(end, ve) - a;
		if (!seen && start < vs)
			return -EFAULT;
		uint64_t offset = seen ? vs - last_end : 0;
		last_end = ve;
		long e = vr_mremap_prep(&m.a, a, l, l, true);
		if (e)
			return e;
		long got = remap_to(x, a, l, l, target + offset);
		if (got < 0)
			return got;
		if (!seen)
			res = got;
		seen = true;
		target = (uint64_t)got + l;
		cur = MIN(end, ve);
	}
	return res;
}

long kmm_mremap(struct kmm_ctx *x, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
	const struct kmm_maps_ops *o = x->ops;
	bool fixed = flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
	if ((flags & VM_MREMAP_FIXED) && old_len == new_len)
		return remap_move(x, addr, old_len, new_addr);
	struct kmm_map m;
	if (!o->lookup(x, addr, &m))
		return -EFAULT;
	long e = o->prep(x, &m, addr, old_len, new_len, fixed);
	if (e)
		return e;
	if (fixed)
		return remap_to(x, addr, old_len, new_len, new_addr);
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
