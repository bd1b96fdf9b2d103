/* linux.c: designs `linux` and `linux-mmap-lock`: VMAs in a maple-shaped tree under mmap_lock, with Linux's split/merge rules. */
#include "baseline_vma/linux.h"

#include <string.h>

uint64_t lvma_start(const struct lvma *v) { return lv_start(v); }
uint64_t lvma_end(const struct lvma *v) { return lv_end(v); }

static struct sim_core *core(struct mmu_cpu *cpu) { return cpu ? cpu->core : NULL; }

/* ---- VMA objects ---- */

static struct lvma *vma_new(struct lmm *mm, struct mmu_cpu *cpu, const struct vr_attr *a, struct vm_file *f)
{
	struct lvma *v = xaligned_zalloc(CACHELINE, sizeof(*v));
	atomic_store(&v->start, a->start);
	atomic_store(&v->end, a->end);
	v->flags = a->flags;
	v->file = f;
	if (f)
		vm_file_get(f);
	v->pgoff = a->pgoff;
	v->av = a->av;
	v->chain = a->chain;
	lk_rwsem_init(&v->lock);
	atomic_store(&v->lock_seq, atomic_load(&mm->mm_lock_seq)); /* born write-locked */
	if (cpu) {
		v->line.owner = v->line.last = (uint16_t)(cpu->core->id + 1);
		sim_advance(cpu->core, mm->as->sys->m->node_visit);
	}
	atomic_fetch_add(&mm->nvmas, 1);
	return v;
}

static void vma_free_rcu(struct sim_rcu_head *h) { xfree(caa_container_of(h, struct lvma, rcu)); }

/* Detached VMAs are freed after a grace period: a lock-free fault may still be looking at one. */
static void vma_free(struct lmm *mm, struct lvma *v)
{
	if (v->file)
		vm_file_put(mm->as->sys, v->file);
	v->file = NULL;
	atomic_fetch_sub(&mm->nvmas, 1);
	sim_rcu_defer(&v->rcu, vma_free_rcu);
}

static struct vr_attr attr(const struct lvma *v)
{
	return (struct vr_attr){ lv_start(v), lv_end(v), v->flags, v->file, v->pgoff, v->av, v->chain };
}

static void tree_insert(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	mt_insert(&mm->mt, core(cpu), v);
	mm->map_count++;
}

static void tree_erase(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	mt_erase(&mm->mt, core(cpu), lv_start(v));
	mm->map_count--;
}

/* Change a VMA's start (its key in the tree). */
static void set_start(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t start, uint64_t pgoff)
{
	mt_erase(&mm->mt, core(cpu), lv_start(v));
	atomic_store(&v->start, start);
	v->pgoff = pgoff;
	mt_insert(&mm->mt, core(cpu), v);
}

static void take_av(struct lvma *dst, const struct lvma *src)
{
	if (!dst->av && src->av) {
		dst->av = src->av;
		dst->chain = src->chain;
	}
}

/* split_vma: cut v at addr; returns the new VMA holding [addr, end). mmap_lock write held. */
static struct lvma *split(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t addr)
{
	linux_vma_write_lock(mm, cpu, v);
	if (cpu)
		sim_note(cpu->core, "split VMA [%#llx, %#llx) at %#llx", (unsigned long long)lv_start(v),
			 (unsigned long long)lv_end(v), (unsigned long long)addr);
	struct vr_attr hi = attr(v);
	hi.pgoff += (addr - hi.start) >> PAGE_SHIFT;
	hi.start = addr;
	struct lvma *n = vma_new(mm, cpu, &hi, v->file);
	atomic_store(&v->end, addr);
	tree_insert(mm, cpu, n);
	mm->st.splits++;
	return n;
}

/*
 * place_new: make [a->start, a->end) (free) a mapping with attributes a,
 * merging with the neighbours as vma_merge_new_range does. Returns the VMA.
 */
static struct lvma *place_new(struct lmm *mm, struct mmu_cpu *cpu, struct vr_attr a, struct vm_file *f)
{
	struct lvma *prev = linux_prev(mm, cpu, a.start);
	struct lvma *next = linux_find(mm, cpu, a.start);
	if (prev && lv_end(prev) != a.start)
		prev = NULL;
	if (next && lv_start(next) != a.end)
		next = NULL;
	struct vr_attr pa, na;
	if (prev)
		pa = attr(prev);
	if (next)
		na = attr(next);
	bool left = prev && vr_merge_after(&pa, &a);
	bool right = next && vr_merge_before(&na, &a);
	if (left && right)
		right = vr_av_ok(prev->av, next->av, NULL);
	if (left) {
		linux_vma_write_lock(mm, cpu, prev);
		if (!prev->av && a.av)
			prev->av = a.av, prev->chain = a.chain;
		if (right) {
			linux_vma_write_lock(mm, cpu, next);
			uint64_t end = lv_end(next);
			take_av(prev, next);
			tree_erase(mm, cpu, next);
			atomic_store(&next->detached, true);
			vma_free(mm, next);
			atomic_store(&prev->end, end);
		} else {
			atomic_store(&prev->end, a.end);
		}
		if (cpu)
			sim_note(cpu->core, "the new range merges into the VMA before it%s: now [%#llx, %#llx)",
				 right ? " and the one after" : "", (unsigned long long)lv_start(prev),
				 (unsigned long long)lv_end(prev));
		mm->st.merges++;
		return prev;
	}
	if (right) {
		linux_vma_write_lock(mm, cpu, next);
		if (!next->av && a.av)
			next->av = a.av, next->chain = a.chain;
		set_start(mm, cpu, next, a.start, a.pgoff);
		if (cpu)
			sim_note(cpu->core, "the new range merges into the VMA after it: now [%#llx, %#llx)",
				 (unsigned long long)lv_start(next), (unsigned long long)lv_end(next));
		mm->st.merges++;
		return next;
	}
	struct lvma *v = vma_new(mm, cpu, &a, f);
	tree_insert(mm, cpu, v);
	if (cpu)
		sim_note(cpu->core, "new VMA [%#llx, %#llx) inserted into the maple tree (%llu VMAs now)",
			 (unsigned long long)a.start, (unsigned long long)a.end, (unsigned long long)atomic_load(&mm->nvmas));
	return v;
}

/* ---- unmapping ---- */

static void mmap_write_lock(struct lmm *mm, struct mmu_cpu *cpu)
{
	lk_down_write(cpu->core, &mm->mmap_lock);
	sim_note_lock(cpu->core, "mmap_lock for writing: no other mm call, and no fault that needs mmap_lock, can run in this process");
}

/* mmap_write_downgrade: keep reading, release the VMA write locks. */
static void mmap_write_downgrade(struct lmm *mm, struct mmu_cpu *cpu)
{
	coh_write(cpu->core, &mm->seq_line);
	atomic_fetch_add(&mm->mm_lock_seq, 1);
	lk_downgrade_write(cpu->core, &mm->mmap_lock);
	sim_note(cpu->core, "mmap_lock downgraded to reading for the page-table teardown (VMA write locks released)");
}

struct collect {
	struct lvma **v;
	uint32_t n, cap;
};

static void collect(void *arg, struct lvma *v)
{
	struct collect *c = arg;
	if (c->n == c->cap)
		c->v = xrealloc(c->v, sizeof(*c->v) * (c->cap = c->cap ? c->cap * 2 : 8));
	c->v[c->n++] = v;
}

/*
 * do_unmap: unmap [start, end) with mmap_lock held for writing. With
 * `downgrade` (munmap), the page-table teardown runs with the lock
 * downgraded to reading, and the caller then holds it for reading.
 * Returns whether it downgraded.
 */
static bool do_unmap(struct lmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool downgrade)
{
	struct lvma *v = linux_find(mm, cpu, start);
	if (!v || lv_start(v) >= end)
		return false;
	if (lv_start(v) < start)
		split(mm, cpu, v, start);
	struct lvma *last = linux_find(mm, cpu, end - 1);
	if (last && lv_start(last) < end && lv_end(last) > end)
		split(mm, cpu, last, end);
	struct collect c = { 0 };
	mt_for_each(&mm->mt, start, end, collect, &c);
	for (uint32_t i = 0; i < c.n; i++) {
		linux_vma_write_lock(mm, cpu, c.v[i]);
		tree_erase(mm, cpu, c.v[i]);
		atomic_store(&c.v[i]->detached, true);
	}
	struct lvma *prev = linux_prev(mm, cpu, start), *next = linux_find(mm, cpu, end);
	uint64_t floor = prev ? lv_end(prev) : 0, ceiling = next ? lv_start(next) : 0;
	if (downgrade)
		mmap_write_downgrade(mm, cpu);
	struct kmm_flush fl = { 0 };
	kmm_zap(&mm->pt, cpu, start, end, &fl);
	kmm_free_tables(&mm->pt, cpu, start, end, floor, ceiling, &fl);
	kmm_flush_finish(&mm->pt, cpu, &fl);
	for (uint32_t i = 0; i < c.n; i++)
		vma_free(mm, c.v[i]);
	xfree(c.v);
	return downgrade;
}

/* ---- address search ---- */

/* vm_unmapped_area, top-down below the mmap base. 0 if nothing fits. */
static uint64_t topdown(struct lmm *mm, struct mmu_cpu *cpu, uint64_t len)
{
	uint64_t high = mm->as->mmap_base;
	struct lvma *above = linux_find(mm, cpu, high - 1);
	struct lvma *below = linux_prev(mm, cpu, above ? MIN(lv_start(above), high) : high);
	for (;;) {
		uint64_t low = below ? lv_end(below) : VM_MMAP_MIN_ADDR;
		uint64_t top = above ? MIN(high, lv_start(above)) : high;
		if (above && (above->flags & VR_GROWSDOWN))
			top = top > VM_STACK_GUARD_GAP ? top - VM_STACK_GUARD_GAP : 0;
		if (top >= low && top - low >= len)
			return top - len;
		if (!below)
			return 0;
		above = below;
		high = lv_start(below);
		below = linux_prev(mm, cpu, high);
	}
}

static bool range_free(struct lmm *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t len)
{
	struct lvma *n = linux_find(mm, cpu, a);
	struct vr_attr na;
	if (n)
		na = attr(n);
	return vr_gap_fits(a, len, n ? &na : NULL);
}

/* ---- the operations ---- */

static long linux_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
		       struct vm_file *f, uint64_t off)
{
	struct lmm *mm = lmm_of(as);
	mmap_write_lock(mm, cpu);
	uint32_t vf = vr_mmap_flags(prot, flags);
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) {
		if (flags & VM_MAP_FIXED_NOREPLACE) {
			struct lvma *v = linux_find(mm, cpu, addr);
			if (v && lv_start(v) < addr + len) {
				linux_mmap_write_unlock(mm, cpu);
				return -EEXIST;
			}
		}
	} else {
		uint64_t hint = vr_hint(addr);
		if (hint && hint <= VM_TASK_SIZE - len && range_free(mm, cpu, hint, len)) {
			addr = hint;
		} else {
			addr = topdown(mm, cpu, len);
			if (!addr) {
				linux_mmap_write_unlock(mm, cpu);
				return -ENOMEM;
			}
		}
	}
	if (flags & VM_MAP_FIXED)
		do_unmap(mm, cpu, addr, addr + len, false);
	uint64_t pgoff = f ? off >> PAGE_SHIFT : (vf & VR_SHARED) ? 0 : addr >> PAGE_SHIFT;
	place_new(mm, cpu, (struct vr_attr){ addr, addr + len, vf, f, pgoff, 0, 0 }, f);
	linux_mmap_write_unlock(mm, cpu);
	if (flags & VM_MAP_POPULATE) { /* mm_populate, after the lock is dropped */
		uint32_t err = PF_U | (((vf & VM_PROT_WRITE) && !(vf & VR_SHARED)) ? PF_W : 0);
		for (uint64_t p = addr; p < addr + len; p += PAGE_SIZE)
			if (linux_fault(as, cpu, p, err) != VM_FAULT_OK)
				break;
	}
	return (long)addr;
}

static int linux_munmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct lmm *mm = lmm_of(as);
	mmap_write_lock(mm, cpu);
	if (do_unmap(mm, cpu, addr, addr + len, true)) {
		lk_up_read(cpu->core, &mm->mmap_lock);
		sim_note(cpu->core, "mmap_lock released");
	} else
		linux_mmap_write_unlock(mm, cpu);
	return 0;
}

/*
 * modify: give [a, b) inside v the flags nf, splitting and merging as
 * vma_modify_flags does. Returns the VMA holding [a, b).
 */
static struct lvma *modify(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t a, uint64_t b, uint32_t nf)
{
	if (v->flags == nf)
		return v;
	if (lv_start(v) < a)
		v = split(mm, cpu, v, a);
	if (lv_end(v) > b)
		split(mm, cpu, v, b);
	linux_vma_write_lock(mm, cpu, v);
	v->flags = nf;
	if (cpu)
		sim_note(cpu->core, "VMA [%#llx, %#llx) gets its new flags", (unsigned long long)lv_start(v),
			 (unsigned long long)lv_end(v));
	struct lvma *prev = linux_prev(mm, cpu, lv_start(v)), *next = linux_find(mm, cpu, lv_end(v));
	if (prev && lv_end(prev) != lv_start(v))
		prev = NULL;
	if (next && lv_start(next) != lv_end(v))
		next = NULL;
	struct vr_attr me = attr(v), pa, na;
	if (prev)
		pa = attr(prev);
	if (next)
		na = attr(next);
	bool left = prev && vr_merge_after(&pa, &me);
	bool right = next && vr_merge_before(&na, &me);
	if (left && right)
		right = vr_av_ok(prev->av, next->av, NULL);
	if (right) {
		linux_vma_write_lock(mm, cpu, next);
		take_av(next, v);
		tree_erase(mm, cpu, v);
		atomic_store(&v->detached, true);
		set_start(mm, cpu, next, me.start, me.pgoff);
		vma_free(mm, v);
		v = next;
		mm->st.merges++;
	}
	if (left) {
		linux_vma_write_lock(mm, cpu, prev);
		take_av(prev, v);
		uint64_t end = lv_end(v);
		tree_erase(mm, cpu, v);
		atomic_store(&v->detached, true);
		vma_free(mm, v);
		atomic_store(&prev->end, end);
		v = prev;
		mm->st.merges++;
	}
	return v;
}

static int linux_mprotect(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot)
{
	struct lmm *mm = lmm_of(as);
	uint64_t end = addr + len;
	mmap_write_lock(mm, cpu);
	struct lvma *v = linux_find(mm, cpu, addr);
	int err = 0;
	if (!v || lv_start(v) >= end || lv_start(v) > addr) {
		linux_mmap_write_unlock(mm, cpu);
		return -ENOMEM;
	}
	struct kmm_flush fl = { 0 };
	uint64_t tmp = lv_start(v), cur = addr;
	for (;;) {
		v = linux_find(mm, cpu, cur);
		if (!v || lv_start(v) >= end)
			break;
		if (lv_start(v) != tmp) {
			err = -ENOMEM;
			break;
		}
		uint32_t nf = vr_mprotect_flags(v->flags, prot, !v->file && !(v->flags & VR_SHARED), v->av != 0);
		uint64_t stop = MIN(end, lv_end(v));
		bool changed = (nf & VR_PROT) != (v->flags & VR_PROT);
		v = modify(mm, cpu, v, cur, stop, nf);
		if (changed)
			kmm_protect(&mm->pt, cpu, cur, stop, nf, &fl);
		tmp = lv_end(v);
		cur = tmp;
		if (cur >= end)
			break;
	}
	if (!err && tmp < end)
		err = -ENOMEM;
	kmm_flush_finish(&mm->pt, cpu, &fl);
	linux_mmap_write_unlock(mm, cpu);
	return err;
}

static int linux_madvise(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice)
{
	struct lmm *mm = lmm_of(as);
	bool wr = vr_changes_flags(advice);
	if (wr)
		mmap_write_lock(mm, cpu);
	else
		lk_down_read(cpu->core, &mm->mmap_lock);
	uint64_t start = addr, end = addr + len;
	int ret = 0, unmapped = 0;
	struct kmm_flush fl = { 0 };
	struct lvma *v = linux_find(mm, cpu, start);
	for (;;) {
		if (!v) {
			ret = -ENOMEM;
			break;
		}
		if (start < lv_start(v)) {
			unmapped = -ENOMEM;
			start = lv_start(v);
			if (start >= end)
				break;
		}
		uint64_t tmp = MIN(lv_end(v), end);
		if (wr) {
			v = modify(mm, cpu, v, start, tmp, vr_madvise_flags(v->flags, advice));
			tmp = MIN(lv_end(v), end);
		} else {
			struct kmm_vma kv = { lv_start(v), lv_end(v), v->flags, v->file, v->pgoff, false, NULL, NULL };
			if ((ret = kmm_advise(&mm->pt, cpu, &kv, start, tmp, advice, &fl)))
				break;
		}
		start = tmp;
		if (start >= end)
			break;
		v = linux_find(mm, cpu, start);
	}
	kmm_flush_finish(&mm->pt, cpu, &fl);
	if (wr)
		linux_mmap_write_unlock(mm, cpu);
	else
		lk_up_read(cpu->core, &mm->mmap_lock);
	return ret ? ret : unmapped;
}

/* ---- mremap ---- */

/* move_vma: move [addr, addr + len) of v to new_addr (free) with new_len. Returns new_addr or -ENOMEM. */
static long move(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t addr, uint64_t len,
		 uint64_t new_addr, uint64_t new_len)
{
	place_new(mm, cpu, vr_moved(attr(v), addr, new_addr, new_len), v->file);
	struct kmm_flush fl = { 0 };
	bool ok = kmm_move(&mm->pt, cpu, addr, new_addr, len, &fl);
	kmm_flush_finish(&mm->pt, cpu, &fl);
	do_unmap(mm, cpu, addr, addr + len, false);
	return ok ? (long)new_addr : -ENOMEM;
}

/* check_prep_vma */
static long prep(struct lvma *v, uint64_t addr, uint64_t old_len, uint64_t new_len, bool moves)
{
	struct vr_attr a = attr(v);
	return vr_mremap_prep(&a, addr, old_len, new_len, moves);
}

static struct lvma *lookup(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr)
{
	struct lvma *v = linux_find(mm, cpu, addr);
	return v && lv_start(v) <= addr ? v : NULL;
}

static long remap_to(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr, uint64_t old_len, uint64_t new_len,
		     uint64_t new_addr)
{
	do_unmap(mm, cpu, new_addr, new_addr + new_len, false);
	struct lvma *v = lookup(mm, cpu, addr);
	if (!v)
		return -EFAULT;
	if (new_len < old_len) {
		do_unmap(mm, cpu, addr + new_len, addr + old_len, false);
		old_len = new_len;
		v = lookup(mm, cpu, addr);
	}
	return move(mm, cpu, v, addr, old_len, new_addr, new_len);
}

/* remap_move: MREMAP_FIXED with equal lengths moves every VMA in the range, keeping the gaps. */
static long remap_move(struct lmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t len, uint64_t new_addr)
{
	uint64_t end = start + len, target = new_addr, last_end = 0, cur = start;
	long res = -EFAULT;
	bool seen = false;
	for (;;) {
		struct lvma *v = linux_find(mm, cpu, cur);
		if (!v || lv_start(v) >= end)
			break;
		uint64_t vs = lv_start(v), ve = lv_end(v);
		uint64_t a = MAX(vs, start), l = MIN(end, ve) - a;
		if (!seen && start < vs)
			return -EFAULT;
		uint64_t offset = seen ? vs - last_end : 0;
		last_end = ve;
		long e = prep(v, a, l, l, true);
		if (e)
			return e;
		long got = remap_to(mm, cpu, a, l, l, target + offset);
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

static long mremap_locked(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr, uint64_t old_len, uint64_t new_len,
			  int flags, uint64_t new_addr)
{
	bool fixed = flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
	if ((flags & VM_MREMAP_FIXED) && old_len == new_len)
		return remap_move(mm, cpu, addr, old_len, new_addr);
	struct lvma *v = lookup(mm, cpu, addr);
	if (!v)
		return -EFAULT;
	long pe = prep(v, addr, old_len, new_len, fixed);
	if (pe)
		return pe;
	if (fixed)
		return remap_to(mm, cpu, addr, old_len, new_len, new_addr);
	if (new_len == old_len)
		return (long)addr;
	if (new_len < old_len) {
		do_unmap(mm, cpu, addr + new_len, addr + old_len, false);
		return (long)addr;
	}
	uint64_t delta = new_len - old_len, vend = lv_end(v);
	if (addr + old_len == vend && vend + delta <= VM_TASK_SIZE && vend + delta > vend) {
		struct lvma *n = linux_find(mm, cpu, vend);
		if (!n || lv_start(n) >= vend + delta) {
			/* vma_merge_extend: grow in place, and join the next VMA if it now touches and matches. */
			linux_vma_write_lock(mm, cpu, v);
			atomic_store(&v->end, vend + delta);
			if (n && lv_start(n) == vend + delta) {
				struct vr_attr na = attr(n);
				struct vr_attr x = { vend, vend + delta, v->flags, v->file,
						     v->pgoff + ((vend - lv_start(v)) >> PAGE_SHIFT), v->av, 0 };
				if (vr_merge_before(&na, &x) && vr_av_ok(v->av, n->av, NULL)) {
					linux_vma_write_lock(mm, cpu, n);
					uint64_t ne = lv_end(n);
					take_av(v, n);
					tree_erase(mm, cpu, n);
					atomic_store(&n->detached, true);
					vma_free(mm, n);
					atomic_store(&v->end, ne);
					mm->st.merges++;
				}
			}
			return (long)addr;
		}
	}
	if (!(flags & VM_MREMAP_MAYMOVE))
		return -ENOMEM;
	uint64_t na = topdown(mm, cpu, new_len);
	if (!na)
		return -ENOMEM;
	return move(mm, cpu, v, addr, old_len, na, new_len);
}

static long linux_mremap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t old_len, uint64_t new_len,
			 int flags, uint64_t new_addr)
{
	struct lmm *mm = lmm_of(as);
	mmap_write_lock(mm, cpu);
	long r = mremap_locked(mm, cpu, addr, old_len, new_len, flags, new_addr);
	linux_mmap_write_unlock(mm, cpu);
	return r;
}

static long linux_brk(struct vm_as *as, struct mmu_cpu *cpu, uint64_t brk)
{
	struct lmm *mm = lmm_of(as);
	mmap_write_lock(mm, cpu);
	uint64_t orig = as->brk;
	long ret = (long)orig;
	uint64_t newbrk = vm_page_up(brk), oldbrk = vm_page_up(as->brk);
	if (brk < as->start_brk)
		goto out;
	if (oldbrk == newbrk) {
		as->brk = brk;
		ret = (long)brk;
		goto out;
	}
	if (brk <= as->brk) {
		struct lvma *v = linux_find(mm, cpu, newbrk);
		if (!v || lv_start(v) >= oldbrk)
			goto out;
		as->brk = brk;
		do_unmap(mm, cpu, newbrk, oldbrk, false);
		ret = (long)brk;
		goto out;
	}
	struct lvma *next = linux_find(mm, cpu, oldbrk);
	if (next && lv_start(next) < newbrk + PAGE_SIZE + VM_STACK_GUARD_GAP) {
		struct vr_attr na = attr(next);
		if (!vr_gap_fits(newbrk, PAGE_SIZE, &na))
			goto out;
	}
	/* do_brk_flags: extend the brk VMA when it ends at the old break, else a new VMA. */
	struct lvma *v = oldbrk > as->start_brk ? lookup(mm, cpu, oldbrk - 1) : NULL;
	if (v && lv_end(v) == oldbrk && lv_start(v) >= as->start_brk && v->flags == VR_BRK_FLAGS && !v->file) {
		linux_vma_write_lock(mm, cpu, v);
		atomic_store(&v->end, newbrk);
	} else {
		place_new(mm, cpu, (struct vr_attr){ oldbrk, newbrk, VR_BRK_FLAGS, NULL, oldbrk >> PAGE_SHIFT, 0, 0 },
			  NULL);
	}
	as->brk = brk;
	ret = (long)brk;
out:
	linux_mmap_write_unlock(mm, cpu);
	return ret;
}

static int linux_fork(struct vm_as *parent, struct vm_as *child, struct mmu_cpu *cpu)
{
	struct lmm *pm = lmm_of(parent), *cm = lmm_of(child);
	mmap_write_lock(pm, cpu);
	struct collect c = { 0 };
	mt_for_each(&pm->mt, 0, VM_TASK_SIZE, collect, &c);
	struct kmm_flush fl = { 0 };
	int err = 0;
	for (uint32_t i = 0; i < c.n && !err; i++) {
		struct lvma *v = c.v[i];
		struct vr_attr a = attr(v);
		if (a.av) { /* anon_vma_fork: a new anon_vma chained to the parent's */
			a.av = atomic_fetch_add(&cm->next_av, 1);
			a.chain = (uint8_t)(v->chain + 1);
		}
		struct lvma *n = vma_new(cm, cpu, &a, v->file);
		atomic_store(&n->lock_seq, UINT64_MAX);
		tree_insert(cm, cpu, n);
		/* copy_page_range: only VMAs with anonymous pages need their entries copied. */
		if (v->av && !kmm_copy(&cm->pt, &pm->pt, cpu, a.start, a.end, !(v->flags & VR_SHARED), &fl))
			err = -ENOMEM;
	}
	atomic_store(&cm->next_av, atomic_load(&pm->next_av) + 1000000);
	xfree(c.v);
	if (fl.any) { /* flush_tlb_mm: the parent's now read-only entries */
		fl.start = 0;
		fl.end = VM_TASK_SIZE;
	}
	kmm_flush_finish(&pm->pt, cpu, &fl);
	linux_mmap_write_unlock(pm, cpu);
	return err;
}

/* ---- host-side queries and lifetime ---- */

struct layout_arg {
	struct vm_as *as;
	vm_visit_fn fn;
	void *arg;
};

static void layout_one(void *p, struct lvma *v)
{
	struct layout_arg *a = p;
	struct vm_range r = vr_range(a->as, lv_start(v), lv_end(v), v->flags, v->file, v->pgoff);
	a->fn(a->arg, &r);
}

static void linux_layout(struct vm_as *as, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg)
{
	struct layout_arg a = { as, fn, arg };
	mt_for_each(&lmm_of(as)->mt, start, end, layout_one, &a);
}

static int create(struct vm_as *as, bool per_vma)
{
	struct lmm *mm = xaligned_zalloc(CACHELINE, sizeof(*mm));
	mm->as = as;
	mm->per_vma_locks = per_vma;
	lk_rwsem_init(&mm->mmap_lock);
	kmm_init(&mm->pt, as, (unsigned)as->sys->o.dopt[LINUX_OPT_THP]);
	mt_init(&mm->mt);
	atomic_store(&mm->next_av, 1);
	atomic_store(&mm->mm_lock_seq, 1);
	as->priv = mm;
	return 0;
}

static int linux_create(struct vm_as *as, struct mmu_cpu *cpu) { return (void)cpu, create(as, true); }
static int linux_mmap_lock_create(struct vm_as *as, struct mmu_cpu *cpu) { return (void)cpu, create(as, false); }

static void linux_destroy(struct vm_as *as, struct mmu_cpu *cpu)
{
	struct lmm *mm = lmm_of(as);
	(void)cpu; /* teardown is host work: the process is gone */
	struct collect c = { 0 };
	mt_for_each(&mm->mt, 0, UINT64_MAX, collect, &c);
	struct kmm_flush fl = { 0 };
	kmm_zap(&mm->pt, NULL, 0, VM_TASK_SIZE, &fl);
	kmm_flush_finish(&mm->pt, NULL, &fl);
	kmm_destroy_tables(&mm->pt, NULL);
	mt_destroy(&mm->mt);
	for (uint32_t i = 0; i < c.n; i++) {
		if (c.v[i]->file)
			vm_file_put(as->sys, c.v[i]->file);
		xfree(c.v[i]);
	}
	xfree(c.v);
	kmm_fini(&mm->pt);
	xfree(mm);
	as->priv = NULL;
}

static void linux_stats(struct vm_as *as, struct em *e)
{
	struct lmm *mm = lmm_of(as);
	em_u64(e, "vmas", atomic_load(&mm->nvmas));
	em_u64(e, "tree_nodes", mm->mt.nodes);
	em_u64(e, "tree_height", mm->mt.height);
	em_u64(e, "faults_vma_locked", atomic_load(&mm->vma_lock_faults));
	em_u64(e, "faults_mmap_locked", atomic_load(&mm->mmap_lock_faults));
	em_u64(e, "vma_splits", mm->st.splits);
	em_u64(e, "vma_merges", mm->st.merges);
	em_u64(e, "pt_pages_allocated", atomic_load(&mm->pt.st.pt_pages));
	em_u64(e, "shootdown_batches", atomic_load(&mm->pt.st.shootdowns));
	em_u64(e, "cow_copies", atomic_load(&mm->pt.st.cow_copies));
	em_u64(e, "cow_reuses", atomic_load(&mm->pt.st.cow_reuses));
	em_u64(e, "thp_faults", atomic_load(&mm->pt.st.thp_faults));
}

static uint64_t linux_metadata_bytes(struct vm_as *as)
{
	struct lmm *mm = lmm_of(as);
	return atomic_load(&mm->nvmas) * sizeof(struct lvma) + mm->mt.nodes * sizeof(struct mt_node);
}

/* The options of both Linux designs (indexes: LINUX_OPT_*). */
static const struct vm_opt linux_opts[] = { [LINUX_OPT_THP] = KMM_OPT_THP, { 0 } };

#define LINUX_OPS                                                                                                \
	.has_vmas = true, .destroy = linux_destroy, .mmap = linux_mmap, .munmap = linux_munmap,                  \
	.mprotect = linux_mprotect, .madvise = linux_madvise, .mremap = linux_mremap, .brk = linux_brk,          \
	.fault = linux_fault, .fork = linux_fork, .layout = linux_layout, .stats = linux_stats,                  \
	.metadata_bytes = linux_metadata_bytes, .opts = linux_opts

const struct vm_design vm_design_linux = {
	.name = "linux",
	.summary = "Linux 6.x: VMAs in a maple-shaped tree, mmap_lock, faults under per-VMA locks found by RCU",
	.create = linux_create,
	LINUX_OPS,
};

const struct vm_design vm_design_linux_mmap_lock = {
	.name = "linux-mmap-lock",
	.summary = "Linux before 6.4: as `linux`, but every fault takes mmap_lock for reading",
	.create = linux_mmap_lock_create,
	LINUX_OPS,
};
