/* calls.c: the `skiplist` design's mmap, munmap, mprotect, madvise, brk and fork: each takes range locks over what it covers and no mmap_lock (brk calls alone also take turns on the brk lock). */
#include "skiplist/sl.h"

#define P PAGE_SIZE

/* Lock [a - 1 page, b + 1 page + extra): the range, its neighbours, and `extra` bytes above for guard-gap checks. */
static void lock_around(struct sl_lockset *s, struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t b,
			uint64_t extra)
{
	sl_lock_range(s, mm, cpu, a >= P ? a - P : 0, b + P + extra);
}

/* Is [a, a + len) free, with the x86 guard-gap rule for a stack above it? */
static bool range_free(struct sl_lockset *s, uint64_t a, uint64_t len)
{
	struct sl_node *n = sl_vma_from(s, a);
	struct vr_attr na;
	if (n)
		na = sl_attr(n);
	return vr_gap_fits(a, len, n ? &na : NULL);
}

/*
 * Placement without a global lock. A hint that Linux would honour is used
 * as is. Otherwise the address comes from this core's 64 GiB slice of the
 * address space: a bump pointer only this core touches, and an anchor node
 * at the slice's base, so the gaps of the slice are owned by the slice and
 * no other core's range lock covers them. When the slice is full, a
 * lock-free first-fit search of the slice, then of the whole mmap area.
 * Every candidate is validated under the range locks (another core may
 * have taken it since), and a failed one costs a retry, not a lock.
 * This is CortenMM's choice too: it trades Linux's top-down layout for
 * private address ranges, so unfixed mmaps of different cores are disjoint.
 */
static uint64_t place(struct sl_lockset *s, struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	uint64_t hint = vr_hint(addr);
	if (hint && hint <= VM_TASK_SIZE - len) {
		lock_around(s, mm, cpu, hint, hint + len, VM_STACK_GUARD_GAP);
		if (range_free(s, hint, len))
			return hint;
		sl_unlock(s);
	}
	sl_anchor_slice(mm, cpu);
	for (int attempt = 0; attempt < 64; attempt++) {
		uint64_t a = sl_candidate(mm, cpu, len, attempt);
		if (!a)
			return 0;
		lock_around(s, mm, cpu, a, a + len, VM_STACK_GUARD_GAP);
		if (range_free(s, a, len))
			return a;
		sl_unlock(s);
	}
	return 0;
}

long sl_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
	     struct vm_file *f, uint64_t off)
{
	struct sl_mm *mm = sl_of(as);
	struct sl_lockset s;
	uint32_t vf = vr_mmap_flags(prot, flags);
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) {
		lock_around(&s, mm, cpu, addr, addr + len, 0);
		if (flags & VM_MAP_FIXED_NOREPLACE) {
			struct sl_node *v = sl_vma_from(&s, addr);
			if (v && sn_start(v) < addr + len) {
				sl_unlock(&s);
				return -EEXIST;
			}
		}
	} else {
		addr = place(&s, mm, cpu, addr, len);
		if (!addr)
			return -ENOMEM;
	}
	if (flags & VM_MAP_FIXED)
		sl_unmap(&s, addr, addr + len);
	uint64_t pgoff = f ? off >> PAGE_SHIFT : (vf & VR_SHARED) ? 0 : addr >> PAGE_SHIFT;
	sl_place_new(&s, (struct vr_attr){ addr, addr + len, vf, f, pgoff, 0, 0 }, f);
	sl_unlock(&s);
	if (flags & VM_MAP_POPULATE) { /* mm_populate, after the locks are dropped */
		uint32_t err = PF_U | (((vf & VM_PROT_WRITE) && !(vf & VR_SHARED)) ? PF_W : 0);
		for (uint64_t p = addr; p < addr + len; p += P)
			if (sl_fault(as, cpu, p, err) != VM_FAULT_OK)
				break;
	}
	return (long)addr;
}

int sl_munmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct sl_lockset s;
	lock_around(&s, sl_of(as), cpu, addr, addr + len, 0);
	sl_unmap(&s, addr, addr + len);
	sl_unlock(&s);
	return 0;
}

int sl_mprotect(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot)
{
	struct sl_mm *mm = sl_of(as);
	uint64_t end = addr + len;
	struct sl_lockset s;
	lock_around(&s, mm, cpu, addr, end, 0);
	struct sl_node *v = sl_vma_from(&s, addr);
	int err = 0;
	if (!v || sn_start(v) >= end || sn_start(v) > addr) {
		sl_unlock(&s);
		return -ENOMEM;
	}
	struct kmm_flush fl = { 0 };
	uint64_t tmp = sn_start(v), cur = addr;
	for (;;) {
		v = sl_vma_from(&s, cur);
		if (!v || sn_start(v) >= end)
			break;
		if (sn_start(v) != tmp) {
			err = -ENOMEM;
			break;
		}
		uint32_t nf = vr_mprotect_flags(v->flags, prot, !v->file && !(v->flags & VR_SHARED), v->av != 0);
		uint64_t stop = MIN(end, sn_end(v));
		bool changed = (nf & VR_PROT) != (v->flags & VR_PROT);
		v = sl_modify(&s, v, cur, stop, nf);
		if (changed)
			kmm_protect(&mm->pt, cpu, cur, stop, nf, &fl);
		tmp = sn_end(v);
		cur = tmp;
		if (cur >= end)
			break;
	}
	if (!err && tmp < end)
		err = -ENOMEM;
	kmm_flush_finish(&mm->pt, cpu, &fl);
	sl_unlock(&s);
	return err;
}

int sl_madvise(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice)
{
	struct sl_mm *mm = sl_of(as);
	bool wr = vr_changes_flags(advice);
	uint64_t start = addr, end = addr + len;
	struct sl_lockset s;
	lock_around(&s, mm, cpu, start, end, 0);
	int ret = 0, unmapped = 0;
	struct kmm_flush fl = { 0 };
	struct sl_node *v = sl_vma_from(&s, start);
	for (;;) {
		if (!v) {
			ret = -ENOMEM;
			break;
		}
		if (start < sn_start(v)) {
			unmapped = -ENOMEM;
			start = sn_start(v);
			if (start >= end)
				break;
		}
		uint64_t tmp = MIN(sn_end(v), end);
		if (wr) {
			v = sl_modify(&s, v, start, tmp, vr_madvise_flags(v->flags, advice));
			tmp = MIN(sn_end(v), end);
		} else {
			struct kmm_vma kv = { sn_start(v), sn_end(v), v->flags, v->file, v->pgoff, false, NULL, NULL };
			if ((ret = kmm_advise(&mm->pt, cpu, &kv, start, tmp, advice, &fl)))
				break;
		}
		start = tmp;
		if (start >= end)
			break;
		v = sl_vma_from(&s, start);
	}
	kmm_flush_finish(&mm->pt, cpu, &fl);
	sl_unlock(&s);
	return ret ? ret : unmapped;
}

long sl_brk(struct vm_as *as, struct mmu_cpu *cpu, uint64_t brk)
{
	struct sl_mm *mm = sl_of(as);
	lk_spin_lock(cpu->core, &mm->brk_lock); /* as->brk is process-wide: brk calls take turns, then range locks */
	sim_note_lock(cpu->core, "the brk lock (brk and start_brk are process-wide)");
	uint64_t orig = as->brk;
	long ret = (long)orig;
	uint64_t newbrk = vm_page_up(brk), oldbrk = vm_page_up(as->brk);
	struct sl_lockset s;
	lock_around(&s, mm, cpu, MIN(oldbrk, newbrk), MAX(oldbrk, newbrk), P + VM_STACK_GUARD_GAP);
	if (brk < as->start_brk)
		goto out;
	if (oldbrk == newbrk) {
		as->brk = brk;
		ret = (long)brk;
		goto out;
	}
	if (brk <= as->brk) {
		struct sl_node *v = sl_vma_from(&s, newbrk);
		if (!v || sn_start(v) >= oldbrk)
			goto out;
		as->brk = brk;
		sl_unmap(&s, newbrk, oldbrk);
		ret = (long)brk;
		goto out;
	}
	struct sl_node *next = sl_vma_from(&s, oldbrk);
	if (next && sn_start(next) < newbrk + P + VM_STACK_GUARD_GAP) {
		struct vr_attr na = sl_attr(next);
		if (!vr_gap_fits(newbrk, P, &na))
			goto out;
	}
	/* do_brk_flags: extend the brk VMA when it ends at the old break, else a new VMA. */
	struct sl_node *v = oldbrk > as->start_brk ? sl_vma_at(&s, oldbrk - 1) : NULL;
	if (v && sn_end(v) == oldbrk && sn_start(v) >= as->start_brk && v->flags == VR_BRK_FLAGS && !v->file) {
		sl_claim(&s, oldbrk, newbrk);
		sl_set_end(&s, v, newbrk);
	} else {
		sl_place_new(&s, (struct vr_attr){ oldbrk, newbrk, VR_BRK_FLAGS, NULL, oldbrk >> PAGE_SHIFT, 0, 0 }, NULL);
	}
	as->brk = brk;
	ret = (long)brk;
out:
	sl_unlock(&s);
	lk_spin_unlock(cpu->core, &mm->brk_lock);
	return ret;
}

int sl_fork(struct vm_as *parent, struct vm_as *child, struct mmu_cpu *cpu)
{
	struct sl_mm *pm = sl_of(parent), *cm = sl_of(child);
	struct sl_lockset s, cs;
	sl_lock_range(&s, pm, cpu, 0, VM_TASK_SIZE); /* every node: fork copies the whole space */
	sl_lock_range(&cs, cm, cpu, 0, VM_TASK_SIZE); /* the child's head (nobody else sees it yet) */
	struct kmm_flush fl = { 0 };
	int err = 0;
	for (struct sl_node *v = sl_vma_from(&s, 0); v && !err; v = sl_vma_from(&s, sn_end(v))) {
		struct vr_attr a = sl_attr(v);
		if (a.av) { /* anon_vma_fork: a new anon_vma chained to the parent's */
			a.av = atomic_fetch_add(&cm->next_av, 1);
			a.chain = (uint8_t)(v->chain + 1);
		}
		struct sl_node *n = sl_node_new(cm, cpu, a.start, a.end, false);
		n->flags = a.flags;
		n->file = v->file;
		if (n->file)
			vm_file_get(n->file);
		n->pgoff = a.pgoff;
		n->av = a.av;
		n->chain = a.chain;
		sl_adopt(&cs, n);
		sl_link(cm, cpu, n);
		/* copy_page_range: only VMAs with anonymous pages need their entries copied. */
		if (v->av && !kmm_copy(&cm->pt, &pm->pt, cpu, a.start, a.end, !(v->flags & VR_SHARED), &fl))
			err = -ENOMEM;
	}
	atomic_store(&cm->next_av, atomic_load(&pm->next_av) + 1000000);
	if (fl.any) { /* flush_tlb_mm: the parent's now read-only entries */
		fl.start = 0;
		fl.end = VM_TASK_SIZE;
	}
	kmm_flush_finish(&pm->pt, cpu, &fl);
	sl_unlock(&cs);
	sl_unlock(&s);
	return err;
}
