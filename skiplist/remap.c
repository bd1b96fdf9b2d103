/* remap.c: the `skiplist` design's mremap: Linux's rules, under range locks over the old range and the destination, taken together in address order. */
#include "skiplist/sl.h"

#include <limits.h>

#define P PAGE_SIZE
#define NEED_PLACE LONG_MIN /* the mapping must move and no free destination is locked yet */

/* move_vma: move [addr, addr + len) of v to new_addr (free, locked) with new_len. */
static long move(struct sl_lockset *s, struct sl_node *v, uint64_t addr, uint64_t len, uint64_t new_addr,
		 uint64_t new_len)
{
	struct sl_mm *mm = s->mm;
	sl_place_new(s, vr_moved(sl_attr(v), addr, new_addr, new_len), v->file);
	struct kmm_flush fl = { 0 };
	bool ok = kmm_move(&mm->pt, s->cpu, addr, new_addr, len, &fl);
	kmm_flush_finish(&mm->pt, s->cpu, &fl);
	sl_unmap(s, addr, addr + len);
	return ok ? (long)new_addr : -ENOMEM;
}

/* check_prep_vma */
static long prep(struct sl_node *v, uint64_t addr, uint64_t old_len, uint64_t new_len, bool moves)
{
	struct vr_attr a = sl_attr(v);
	return vr_mremap_prep(&a, addr, old_len, new_len, moves);
}

/* remap_to: mremap_to: clear the destination, shrink the source if asked, then move it (all range-locked). */
static long remap_to(struct sl_lockset *s, uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t new_addr)
{
	sl_unmap(s, new_addr, new_addr + new_len);
	struct sl_node *v = sl_vma_at(s, addr);
	if (!v)
		return -EFAULT;
	if (new_len < old_len) {
		sl_unmap(s, addr + new_len, addr + old_len);
		old_len = new_len;
		v = sl_vma_at(s, addr);
	}
	return move(s, v, addr, old_len, new_addr, new_len);
}

/* remap_move: MREMAP_FIXED with equal lengths moves every VMA in the range, keeping the gaps. */
static long remap_move(struct sl_lockset *s, uint64_t start, uint64_t len, uint64_t new_addr)
{
	uint64_t end = start + len, target = new_addr, last_end = 0, cur = start;
	long res = -EFAULT;
	bool seen = false;
	for (;;) {
		struct sl_node *v = sl_vma_from(s, cur);
		if (!v || sn_start(v) >= end)
			break;
		uint64_t vs = sn_start(v), ve = sn_end(v);
		uint64_t a = MAX(vs, start), l = MIN(end, ve) - a;
		if (!seen && start < vs)
			return -EFAULT;
		uint64_t offset = seen ? vs - last_end : 0;
		last_end = ve;
		long e = prep(v, a, l, l, true);
		if (e)
			return e;
		long got = remap_to(s, a, l, l, target + offset);
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

/* The whole call with its ranges locked; NEED_PLACE when it must move and `dest` is 0 or taken. */
static long mremap_locked(struct sl_lockset *s, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
			  uint64_t new_addr, uint64_t dest)
{
	bool fixed = flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
	if ((flags & VM_MREMAP_FIXED) && old_len == new_len)
		return remap_move(s, addr, old_len, new_addr);
	struct sl_node *v = sl_vma_at(s, addr);
	if (!v)
		return -EFAULT;
	long pe = prep(v, addr, old_len, new_len, fixed);
	if (pe)
		return pe;
	if (fixed)
		return remap_to(s, addr, old_len, new_len, new_addr);
	if (new_len == old_len)
		return (long)addr;
	if (new_len < old_len) {
		sl_unmap(s, addr + new_len, addr + old_len);
		return (long)addr;
	}
	uint64_t delta = new_len - old_len, vend = sn_end(v);
	if (addr + old_len == vend && vend + delta <= VM_TASK_SIZE && vend + delta > vend) {
		struct sl_node *n = sl_vma_from(s, vend);
		if (!n || sn_start(n) >= vend + delta) {
			/* vma_merge_extend: grow in place, and join the next VMA if it now touches and matches. */
			sl_claim(s, vend, vend + delta);
			sl_set_end(s, v, vend + delta);
			if (n && sn_start(n) == vend + delta) {
				struct vr_attr na = sl_attr(n);
				struct vr_attr x = { vend, vend + delta, v->flags, v->file,
						     v->pgoff + ((vend - sn_start(v)) >> PAGE_SHIFT), v->av, 0 };
				if (vr_merge_before(&na, &x) && vr_av_ok(v->av, n->av, NULL)) {
					sl_vma_write(s, n);
					if (!v->av && n->av)
						v->av = n->av, v->chain = n->chain;
					sl_set_end(s, v, sn_end(n)); /* before n goes: its interval is never seen as a gap */
					sl_remove(s, n);
					sl_inc(&s->mm->st.merges);
				}
			}
			return (long)addr;
		}
	}
	if (!(flags & VM_MREMAP_MAYMOVE))
		return -ENOMEM;
	struct sl_node *taken = dest ? sl_vma_from(s, dest) : NULL;
	if (!dest || (taken && sn_start(taken) < dest + new_len))
		return NEED_PLACE;
	return move(s, v, addr, old_len, dest, new_len);
}

long sl_mremap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr)
{
	struct sl_mm *mm = sl_of(as);
	bool fixed = flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
	uint64_t dest = 0;
	for (int attempt = 0; attempt < 64; attempt++) {
		uint64_t a[2], b[2];
		a[0] = addr >= P ? addr - P : 0;
		b[0] = addr + MAX(old_len, new_len) + P;
		int n = 1;
		if (fixed || dest) {
			uint64_t to = fixed ? new_addr : dest;
			a[n] = to >= P ? to - P : 0;
			b[n++] = to + new_len + P;
		}
		struct sl_lockset s;
		sl_lock_ranges(&s, mm, cpu, a, b, n);
		long r = mremap_locked(&s, addr, old_len, new_len, flags, new_addr, dest);
		sl_unlock(&s);
		if (r != NEED_PLACE)
			return r;
		/* It must move: pick a destination, then lock both ranges together (in address order) and redo the checks. */
		sl_anchor_slice(mm, cpu);
		dest = sl_candidate(mm, cpu, new_len, attempt);
		if (!dest)
			return -ENOMEM;
	}
	return -ENOMEM;
}
