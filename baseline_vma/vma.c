/* vma.c: the Linux-like designs' VMAs: objects in the maple tree, lookups, split, merge (place_new, modify), unmap, the top-down search, mmap_lock and per-VMA write locks, anon_vma_prepare. */
#include "baseline_vma/linux.h"
#include "kmm/maps.h"

#include <string.h>

static struct sim_core *core(struct mmu_cpu *cpu) { return cpu ? cpu->core : NULL; }

/* The tree's view of a VMA: where it starts (its key) and ends (mtree.h). */
static uint64_t lvma_start(const void *v) { return lv_start(v); }
static uint64_t lvma_end(const void *v) { return lv_end(v); }
static const struct mt_ops lvma_ops = { lvma_start, lvma_end };

void linux_tree_init(struct lmm *mm) { mt_init(&mm->mt, &lvma_ops); }

struct lvma *linux_find(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr)
{
	return mt_find(&mm->mt, cpu ? core(cpu) : NULL, addr);
}

struct lvma *linux_prev(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr)
{
	return mt_prev(&mm->mt, cpu ? core(cpu) : NULL, addr);
}

/* vma_start_write: wait for the VMA's readers, then mark it write-locked until mmap_write_unlock. */
void linux_vma_write_lock(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	uint64_t seq = atomic_load(&mm->mm_lock_seq);
	if (atomic_load(&v->lock_seq) == seq)
		return;
	if (cpu) {
		lk_down_write(cpu->core, &v->lock);
		sim_note_lock(cpu->core, "per-VMA lock of [%#llx, %#llx) for writing (waits out faults in it)",
			      (unsigned long long)lv_start(v), (unsigned long long)lv_end(v));
		coh_write(cpu->core, &v->line);
	}
	atomic_store(&v->lock_seq, seq);
	if (cpu)
		lk_up_write(cpu->core, &v->lock);
}

/* mmap_write_unlock: bumping mm_lock_seq releases every VMA write lock at once (vma_end_write_all). */
void linux_mmap_write_unlock(struct lmm *mm, struct mmu_cpu *cpu)
{
	coh_write(cpu->core, &mm->seq_line);
	atomic_fetch_add(&mm->mm_lock_seq, 1);
	lk_up_write(cpu->core, &mm->mmap_lock);
	sim_note(cpu->core, "mmap_lock released (and every VMA write lock with it: mm_lock_seq bumped)");
}

/* ---- VMA objects ---- */

struct lvma *linux_vma_new(struct lmm *mm, struct mmu_cpu *cpu, const struct vr_attr *a, struct vm_file *f)
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
		/* the VMA and its anon_vma_chain entries (anon_vma_clone on a split or fork), each from its slab */
		sim_advance(cpu->core, mm->as->sys->m->node_visit + (1 + (cycles_t)a->chain) * mm->as->sys->m->slab_alloc);
	}
	atomic_fetch_add(&mm->nvmas, 1);
	return v;
}

static void vma_free_rcu(struct sim_rcu_head *h) { xfree(caa_container_of(h, struct lvma, rcu)); }

/* Detached VMAs are freed after a grace period: a lock-free fault may still be looking at one. The VMA and its anon_vma_chain entries go back to their slabs (charged to cpu now). */
static void vma_free(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	if (cpu)
		sim_advance(cpu->core, (1 + (cycles_t)v->chain) * mm->as->sys->m->slab_free);
	if (v->file)
		vm_file_put(mm->as->sys, v->file);
	v->file = NULL;
	atomic_fetch_sub(&mm->nvmas, 1);
	sim_rcu_defer(&v->rcu, vma_free_rcu);
}

struct vr_attr linux_attr(const struct lvma *v)
{
	return (struct vr_attr){ lv_start(v), lv_end(v), v->flags, v->file, v->pgoff, v->av, v->chain };
}

/* attr_of: v's attributes in *buf, or NULL without a VMA. */
static const struct vr_attr *attr_of(const struct lvma *v, struct vr_attr *buf)
{
	if (!v)
		return NULL;
	*buf = linux_attr(v);
	return buf;
}

void linux_tree_insert(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	mt_insert(&mm->mt, core(cpu), v);
	mm->map_count++;
}

static void tree_erase(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	mt_erase(&mm->mt, core(cpu), lv_start(v));
	mm->map_count--;
}

/* set_end: move v's end (the tree's gaps with it: vma_iter_store). mmap_lock write held, v write-locked. */
static void set_end(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t end)
{
	atomic_store(&v->end, end);
	mt_update(&mm->mt, core(cpu), lv_start(v));
}

/* Change a VMA's start (its key in the tree). */
void linux_set_start(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t start, uint64_t pgoff)
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
	struct vr_attr hi = linux_attr(v);
	hi.pgoff += (addr - hi.start) >> PAGE_SHIFT;
	hi.start = addr;
	struct lvma *n = linux_vma_new(mm, cpu, &hi, v->file);
	atomic_store(&v->end, addr);
	linux_tree_insert(mm, cpu, n); /* n goes into v's leaf, whose gaps it recomputes with v's new end */
	mm->st.splits++;
	return n;
}

/* linux_grow: move v's end up to end (the space above is free). mmap_lock write held. */
void linux_grow(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t end)
{
	linux_vma_write_lock(mm, cpu, v);
	set_end(mm, cpu, v, end);
}

/* linux_absorb: v takes the VMA n right after it (its range, and its anon_vma if v has none). mmap_lock write held. */
void linux_absorb(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, struct lvma *n)
{
	linux_vma_write_lock(mm, cpu, n);
	uint64_t ne = lv_end(n);
	take_av(v, n);
	tree_erase(mm, cpu, n);
	atomic_store(&n->detached, true);
	vma_free(mm, cpu, n);
	set_end(mm, cpu, v, ne);
	mm->st.merges++;
}

/*
 * place_new: make [a->start, a->end) (free) a mapping with attributes a,
 * merging with the neighbours as vma_merge_new_range does. Returns the VMA.
 */
struct lvma *linux_place_new(struct lmm *mm, struct mmu_cpu *cpu, struct vr_attr a, struct vm_file *f)
{
	struct lvma *prev = linux_prev(mm, cpu, a.start);
	struct lvma *next = linux_find(mm, cpu, a.start);
	if (prev && lv_end(prev) != a.start)
		prev = NULL;
	if (next && lv_start(next) != a.end)
		next = NULL;
	struct vr_attr pa, na;
	bool left, right;
	kmm_merge_sides(attr_of(prev, &pa), &a, attr_of(next, &na), &left, &right);
	if (left) {
		linux_vma_write_lock(mm, cpu, prev);
		if (!prev->av && a.av) {
			prev->av = a.av;
			prev->chain = a.chain;
		}
		if (right) {
			linux_absorb(mm, cpu, prev, next); /* counts the merge */
		} else {
			set_end(mm, cpu, prev, a.end);
			mm->st.merges++;
		}
		if (cpu)
			sim_note(cpu->core, "the new range merges into the VMA before it%s: now [%#llx, %#llx)",
				 right ? " and the one after" : "", (unsigned long long)lv_start(prev),
				 (unsigned long long)lv_end(prev));
		return prev;
	}
	if (right) {
		linux_vma_write_lock(mm, cpu, next);
		if (!next->av && a.av) {
			next->av = a.av;
			next->chain = a.chain;
		}
		linux_set_start(mm, cpu, next, a.start, a.pgoff);
		if (cpu)
			sim_note(cpu->core, "the new range merges into the VMA after it: now [%#llx, %#llx)",
				 (unsigned long long)lv_start(next), (unsigned long long)lv_end(next));
		mm->st.merges++;
		return next;
	}
	struct lvma *v = linux_vma_new(mm, cpu, &a, f);
	linux_tree_insert(mm, cpu, v);
	if (cpu)
		sim_note(cpu->core, "new VMA [%#llx, %#llx) inserted into the maple tree (%llu VMAs now)",
			 (unsigned long long)a.start, (unsigned long long)a.end, (unsigned long long)atomic_load(&mm->nvmas));
	return v;
}

/* ---- unmapping ---- */

void linux_mmap_write_lock(struct lmm *mm, struct mmu_cpu *cpu)
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

void linux_collect(void *arg, void *v)
{
	struct lvma_list *c = arg;
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
bool linux_unmap(struct lmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool downgrade)
{
	struct lvma *v = linux_find(mm, cpu, start);
	if (!v || lv_start(v) >= end)
		return false;
	if (lv_start(v) < start)
		split(mm, cpu, v, start);
	struct lvma *last = linux_find(mm, cpu, end - 1);
	if (last && lv_start(last) < end && lv_end(last) > end)
		split(mm, cpu, last, end);
	struct lvma_list c = { 0 };
	mt_for_each(&mm->mt, start, end, linux_collect, &c);
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
		vma_free(mm, cpu, c.v[i]);
	xfree(c.v);
	return downgrade;
}

/* ---- address search ---- */

struct topdown {
	uint64_t high, len;
};

/* gap_top: mt_gap_rev's test of the gap between two VMAs: vr_gap_top, which finds no room where the bare gap is under len. */
static uint64_t gap_top(void *arg, const void *below, const void *above)
{
	const struct topdown *s = arg;
	struct vr_attr ba, aa;
	return vr_gap_top(attr_of(below, &ba), attr_of(above, &aa), s->high, s->len);
}

/*
 * vm_unmapped_area, top-down below the mmap base (unmapped_area_topdown):
 * the gaps from the mmap base down, skipping, through the gaps the maple
 * tree records (mas_empty_area_rev), every part of it where none is len
 * long. 0 if nothing fits.
 */
uint64_t linux_topdown(struct lmm *mm, struct mmu_cpu *cpu, uint64_t len)
{
	struct topdown s = { mm->as->mmap_base, len };
	return mt_gap_rev(&mm->mt, core(cpu), s.high, len, gap_top, &s);
}

bool linux_range_free(struct lmm *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t len)
{
	struct lvma *n = linux_find(mm, cpu, a);
	struct vr_attr na;
	if (n)
		na = linux_attr(n);
	return vr_gap_fits(a, len, n ? &na : NULL);
}

/*
 * modify: give [a, b) inside v the flags nf, splitting and merging as
 * vma_modify_flags does. Returns the VMA holding [a, b).
 */
struct lvma *linux_modify(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t a, uint64_t b, uint32_t nf)
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
	struct vr_attr me = linux_attr(v), pa, na;
	bool left, right;
	kmm_merge_sides(attr_of(prev, &pa), &me, attr_of(next, &na), &left, &right);
	if (right) {
		linux_vma_write_lock(mm, cpu, next);
		take_av(next, v);
		tree_erase(mm, cpu, v);
		atomic_store(&v->detached, true);
		linux_set_start(mm, cpu, next, me.start, me.pgoff);
		vma_free(mm, cpu, v);
		v = next;
		mm->st.merges++;
	}
	if (left) {
		linux_vma_write_lock(mm, cpu, prev);
		linux_absorb(mm, cpu, prev, v);
		v = prev;
	}
	return v;
}

/* anon_vma_prepare: reuse a compatible neighbour's anon_vma, else a new one. mmap_lock held. */
void linux_anon_prepare(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	if (v->av)
		return;
	lk_spin_lock(core(cpu), &mm->pt.page_table_lock);
	if (!v->av) {
		struct vr_attr me = linux_attr(v), na, pa;
		struct lvma *next = linux_find(mm, cpu, lv_end(v));
		struct lvma *prev = linux_prev(mm, cpu, lv_start(v));
		uint32_t av = kmm_reusable_av(&me, attr_of(next, &na), attr_of(prev, &pa));
		v->av = av ? av : atomic_fetch_add(&mm->next_av, 1);
		v->chain = 1;
		coh_write(core(cpu), &v->line);
	}
	lk_spin_unlock(core(cpu), &mm->pt.page_table_lock);
}

