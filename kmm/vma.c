/* vma.c: Linux's mm calls over VMAs, written once for the designs that keep them (through kmm_maps_ops): lookups, mremap's steps, mprotect, madvise, brk and fork. */
#include "kmm/kmm.h"
#include "kmm/maps.h"

static struct kmm_map map_of(struct kmm_ctx *x, void *v)
{
	return (struct kmm_map){ x->ops->attr(v), v };
}

bool kmm_vma_find(struct kmm_ctx *x, uint64_t addr, uint64_t limit, struct kmm_map *m)
{
	void *v = x->ops->from(x, addr);
	if (!v)
		return false;
	*m = map_of(x, v);
	return m->a.start < limit;
}

void kmm_vma_call(struct mmu_cpu *cpu)
{
	sim_advance(cpu->core, cpu->mmu->m->vma_call);
	sim_note(cpu->core, "the VMA layer's own code (merge checks, vma_prepare/vma_complete, accounting): %llu cycles",
		 (unsigned long long)cpu->mmu->m->vma_call);
}

bool kmm_vma_lookup(struct kmm_ctx *x, uint64_t addr, struct kmm_map *m)
{
	void *v = x->ops->from(x, addr);
	if (!v)
		return false;
	*m = map_of(x, v);
	return m->a.start <= addr;
}

long kmm_vma_prep(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len,
		  bool moves)
{
	(void)x;
	return vr_mremap_prep(&m->a, addr, old_len, new_len, moves);
}

bool kmm_vma_expand(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len)
{
	const struct kmm_maps_ops *o = x->ops;
	const struct vr_attr *a = &m->a;
	uint64_t delta = new_len - old_len, vend = a->end;
	if (addr + old_len != vend || vend + delta > VM_TASK_SIZE || vend + delta <= vend)
		return false;
	void *n = o->from(x, vend);
	struct vr_attr na;
	if (n && (na = o->attr(n)).start < vend + delta)
		return false;
	/* vma_merge_extend: grow in place, and join the next VMA if it now touches and matches. */
	kmm_vma_call(x->cpu);
	o->grow(x, m->v, vend + delta);
	if (n && na.start == vend + delta) {
		struct vr_attr grown = { vend, vend + delta, a->flags, a->file, a->pgoff + ((vend - a->start) >> PAGE_SHIFT),
					 a->av, 0 };
		if (vr_merge_before(&na, &grown) && vr_av_ok(a->av, na.av, NULL))
			o->absorb(x, m->v, n);
	}
	return true;
}

long kmm_vma_move(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t len, uint64_t new_addr,
		  uint64_t new_len)
{
	const struct kmm_maps_ops *o = x->ops;
	kmm_vma_call(x->cpu);
	o->place_new(x, vr_moved(m->a, addr, new_addr, new_len), kmm_map_file(&m->a));
	struct kmm_flush fl = { 0 };
	bool ok = kmm_move(x->pt, x->cpu, addr, new_addr, len, &fl);
	kmm_flush_finish(x->pt, x->cpu, &fl);
	if (x->dontunmap && len) {
		/* dontunmap_complete: the old VMA stays, whole and unlocked; left empty as a whole, it loses its anon_vma */
		void *v = o->from(x, addr);
		struct vr_attr a = o->attr(v);
		bool whole = m->a.start == addr && m->a.end == addr + len && a.start == addr && a.end == addr + len;
		o->set_flags(x, v, a.flags & ~VR_LOCK_MASK, whole);
		x->pt->unmerged = true; /* it stays as it is, beside neighbours it may now match */
	} else if (len) {
		/* The old range goes; with old_len 0 (a second mapping of shared pages) do_vmi_munmap refuses it: nothing splits. */
		o->unmap(x, addr, addr + len);
	}
	return ok ? (long)new_addr : -ENOMEM;
}

int kmm_vma_mprotect(struct kmm_ctx *x, uint64_t addr, uint64_t end, int prot)
{
	const struct kmm_maps_ops *o = x->ops;
	void *v = o->from(x, addr);
	if (!v)
		return -ENOMEM;
	struct vr_attr a = o->attr(v);
	if (a.start >= end || a.start > addr)
		return -ENOMEM;
	kmm_vma_call(x->cpu);
	struct kmm_flush fl = { 0 };
	uint64_t tmp = a.start, cur = addr;
	int err = 0;
	for (;;) {
		v = o->from(x, cur);
		if (!v || (a = o->attr(v)).start >= end)
			break;
		if (a.start != tmp) {
			err = -ENOMEM;
			break;
		}
		uint32_t nf = vr_mprotect_flags(a.flags, prot, !a.file && !(a.flags & VR_SHARED), a.av != 0);
		uint64_t stop = MIN(end, a.end);
		bool changed = (nf & VR_PROT) != (a.flags & VR_PROT);
		v = o->modify(x, v, cur, stop, nf);
		/*
		 * mprotect_fixup faults locked private memory that becomes writable in
		 * now, so the VMA gets its anon_vma before the next one is changed
		 * (which decides merges); vm_mprotect faults the pages in afterwards.
		 */
		if ((a.flags & (VM_PROT_WRITE | VR_SHARED | VR_LOCK_MASK)) == VR_LOCKED && (nf & VM_PROT_WRITE))
			o->anon(x, v);
		if (changed)
			kmm_protect(x->pt, x->cpu, cur, stop, nf, &fl);
		tmp = o->attr(v).end;
		cur = tmp;
		if (cur >= end)
			break;
	}
	if (!err && tmp < end)
		err = -ENOMEM;
	kmm_flush_finish(x->pt, x->cpu, &fl);
	return err;
}

int kmm_vma_madvise(struct kmm_ctx *x, uint64_t addr, uint64_t end, int advice)
{
	const struct kmm_maps_ops *o = x->ops;
	bool wr = vr_changes_flags(advice);
	if (wr)
		kmm_vma_call(x->cpu);
	uint64_t start = addr;
	int ret = 0, unmapped = 0;
	struct kmm_flush fl = { 0 };
	void *v = o->from(x, start);
	for (;;) {
		if (!v) {
			ret = -ENOMEM;
			break;
		}
		struct vr_attr a = o->attr(v);
		if (start < a.start) {
			unmapped = -ENOMEM;
			start = a.start;
			if (start >= end)
				break;
		}
		uint64_t tmp = MIN(a.end, end);
		if ((ret = vr_advice_refused(a.flags, a.file != NULL, advice)))
			break;
		if (wr) {
			v = o->modify(x, v, start, tmp, vr_madvise_flags(a.flags, advice));
			tmp = MIN(o->attr(v).end, end);
		} else {
			if (advice == VM_MADV_GUARD_INSTALL && !a.file)
				o->anon(x, v); /* guard_install: the VMA gets an anon_vma, as a fault would */
			struct kmm_vma kv = { a.start, a.end, a.flags, kmm_map_file(&a), a.pgoff, false, NULL, NULL };
			if ((ret = kmm_advise(x->pt, x->cpu, &kv, start, tmp, advice, &fl)))
				break;
		}
		start = tmp;
		if (start >= end)
			break;
		v = o->from(x, start);
	}
	kmm_flush_finish(x->pt, x->cpu, &fl);
	return ret ? ret : unmapped;
}

bool kmm_vma_query(struct kmm_ctx *x, uint64_t addr, struct vm_map *m)
{
	void *v = x->ops->from(x, addr);
	if (!v)
		return false;
	struct vr_attr a = x->ops->attr(v);
	*m = vr_map_of(a.start, a.end, a.flags, kmm_map_file(&a), a.pgoff);
	return true;
}

int kmm_vma_lock(struct kmm_ctx *x, uint64_t addr, uint64_t len, unsigned to)
{
	const struct kmm_maps_ops *o = x->ops;
	uint32_t bits = vr_lock_flags(to);
	uint64_t cur = (to & VM_LOCK_ALL) ? 0 : addr, end = (to & VM_LOCK_ALL) ? VM_TASK_SIZE : addr + len;
	kmm_vma_call(x->cpu);
	for (void *v; cur < end && (v = o->from(x, cur));) {
		struct vr_attr a = o->attr(v);
		if (a.start >= end)
			break;
		if (a.start > cur && !(to & VM_LOCK_ALL))
			return -ENOMEM; /* a hole: what came before it stays changed */
		uint64_t s = MAX(cur, a.start), e = MIN(end, a.end);
		v = o->modify(x, v, s, e, (a.flags & ~VR_LOCK_MASK) | bits);
		cur = o->attr(v).end;
	}
	return cur < end && !(to & VM_LOCK_ALL) ? -ENOMEM : 0;
}

void kmm_vma_unmap_file(struct kmm_ctx *x, struct vm_file *f, uint64_t lo, uint64_t hi, bool even_cows)
{
	const struct kmm_maps_ops *o = x->ops;
	struct kmm_flush fl = { 0 };
	uint64_t cur = 0;
	for (void *v; (v = o->from(x, cur)); cur = o->attr(v).end) {
		struct vr_attr a = o->attr(v);
		uint64_t n = (a.end - a.start) >> PAGE_SHIFT;
		if (a.file != f || hi <= a.pgoff || lo >= a.pgoff + n)
			continue;
		uint64_t s = lo > a.pgoff ? lo - a.pgoff : 0, e = MIN(hi - a.pgoff, n); /* pages into the VMA */
		kmm_zap_mode(x->pt, x->cpu, a.start + (s << PAGE_SHIFT), a.start + (e << PAGE_SHIFT),
			     even_cows ? KMM_ZAP_KEEP_MARKERS : KMM_ZAP_CACHE, &fl);
	}
	kmm_flush_finish(x->pt, x->cpu, &fl);
}

enum kmm_brk kmm_brk_plan(const struct vm_as *as, uint64_t brk, uint64_t *oldbrk, uint64_t *newbrk)
{
	*newbrk = vm_page_up(brk);
	*oldbrk = vm_page_up(as->brk);
	if (brk < as->start_brk)
		return KMM_BRK_REFUSE;
	if (*oldbrk == *newbrk)
		return KMM_BRK_SAME;
	return brk <= as->brk ? KMM_BRK_SHRINK : KMM_BRK_GROW;
}

long kmm_vma_brk(struct kmm_ctx *x, struct vm_as *as, uint64_t brk)
{
	const struct kmm_maps_ops *o = x->ops;
	uint64_t oldbrk, newbrk;
	struct kmm_map m;
	switch (kmm_brk_plan(as, brk, &oldbrk, &newbrk)) {
	case KMM_BRK_REFUSE:
		return (long)as->brk;
	case KMM_BRK_SAME:
		break;
	case KMM_BRK_SHRINK:
		if (!kmm_vma_find(x, newbrk, oldbrk, &m))
			return (long)as->brk;
		as->brk = brk;
		kmm_vma_call(x->cpu);
		o->unmap(x, newbrk, oldbrk);
		return (long)brk;
	case KMM_BRK_GROW:
		/* check_brk_limits: the new break and a page above it must fit below the next VMA (its guard gap for a stack). */
		if (kmm_vma_find(x, oldbrk, newbrk + PAGE_SIZE + VM_STACK_GUARD_GAP, &m) &&
		    !vr_gap_fits(newbrk, PAGE_SIZE, &m.a))
			return (long)as->brk;
		/* do_brk_flags: extend the brk VMA when it ends at the old break, else a new VMA. */
		kmm_vma_call(x->cpu);
		if (oldbrk > as->start_brk && kmm_vma_lookup(x, oldbrk - 1, &m) && m.a.end == oldbrk &&
		    m.a.start >= as->start_brk && m.a.flags == (VR_BRK_FLAGS | vr_def_flags(as)) && !m.a.file)
			o->grow(x, m.v, newbrk);
		else
			o->place_new(x,
				     (struct vr_attr){ oldbrk, newbrk, VR_BRK_FLAGS | vr_def_flags(as), NULL,
						       oldbrk >> PAGE_SHIFT, 0, 0 },
				     NULL);
		break;
	}
	as->brk = brk;
	return (long)brk;
}

/* One parent VMA into the child (dup_mmap's loop body). */
struct fork_arg {
	struct kmm_ctx *p, *c;
	_Atomic uint32_t *c_next_av;
	struct kmm_flush fl;
	int err;
};

static bool fork_one(void *arg, void *v)
{
	struct fork_arg *f = arg;
	struct vr_attr a = f->p->ops->attr(v);
	if (a.flags & VR_DONTCOPY)
		return true; /* MADV_DONTFORK: the child does not get it */
	if ((a.flags & VR_LOCK_MASK) || ((a.flags & VR_WIPEONFORK) && a.av))
		f->c->pt->unmerged = true; /* dup_mmap merges nothing */
	a.flags &= ~VR_LOCK_MASK; /* locks are not inherited */
	if (a.flags & VR_WIPEONFORK)
		a.av = 0, a.chain = 0; /* a clean slate: no anon_vma, no pages (they fault in as zeroes) */
	bool copy = a.av != 0, markers = !copy && f->p->pt->guards && !(a.flags & VR_WIPEONFORK);
	if (a.av) { /* anon_vma_fork: a new anon_vma chained to the parent's */
		a.av = atomic_fetch_add(f->c_next_av, 1);
		a.chain = (uint8_t)(a.chain + 1);
	}
	f->c->ops->clone(f->c, &a, kmm_map_file(&a));
	/* copy_page_range: only VMAs with anonymous pages need their entries copied (and from 6.18 guard markers). */
	if ((copy || markers) &&
	    !kmm_copy(f->c->pt, f->p->pt, f->p->cpu, a.start, a.end, !(a.flags & VR_SHARED), markers, &f->fl))
		f->err = -ENOMEM;
	return !f->err;
}

int kmm_vma_fork(struct kmm_ctx *p, struct kmm_ctx *c, _Atomic uint32_t *p_next_av, _Atomic uint32_t *c_next_av)
{
	struct fork_arg f = { .p = p, .c = c, .c_next_av = c_next_av };
	c->pt->unmerged = p->pt->unmerged; /* the child's VMAs are the parent's, as they are */
	p->ops->each(p, fork_one, &f);
	atomic_store(c_next_av, atomic_load(p_next_av) + 1000000);
	/*
	 * dup_mmap ends with flush_tlb_mm(oldmm) whatever it copied: a full flush,
	 * counted as the pages it write-protected (none, when nothing was writable).
	 */
	f.fl.full = true;
	kmm_flush_finish(p->pt, p->cpu, &f.fl);
	return f.err;
}
