/* pt.c: Linux-style page-table code shared by the VMA designs: walks with allocation, zap/protect/move/copy over ranges, table freeing, flush batches. */
#include "kmm/kmm.h"
#include "kmm/tlb.h"

#include <string.h>

/* Charged entry access (cpu NULL: host teardown, no charge). */
uint64_t kmm_get(struct mmu_cpu *cpu, const struct kmm_slot *s)
{
	if (cpu)
		pte_access(cpu->core, s->p, s->idx, COH_READ);
	return pte_load(s->p, s->idx);
}

void kmm_set(struct mmu_cpu *cpu, const struct kmm_slot *s, uint64_t e)
{
	if (cpu)
		pte_access(cpu->core, s->p, s->idx, COH_WRITE);
	pte_store(s->p, s->idx, e);
}

static struct pm *pm_of(struct kmm *mm) { return mm->as->sys->pm; }

static void spin_lock(struct mmu_cpu *cpu, struct lk_spin *l)
{
	if (cpu)
		lk_spin_lock(cpu->core, l);
}

static void spin_unlock(struct mmu_cpu *cpu, struct lk_spin *l)
{
	if (cpu)
		lk_spin_unlock(cpu->core, l);
}

struct lk_spin *kmm_lock_of(struct kmm *mm, const struct kmm_slot *s)
{
	if (s->level == 1)
		return &((struct kmm_ptd *)s->p->desc)->ptl;
	return &mm->page_table_lock;
}

static struct pm_ptpage *table_alloc(struct kmm *mm, struct mmu_cpu *cpu, int level)
{
	struct pm_ptpage *n = pm_pt_alloc(pm_of(mm), cpu ? cpu->core : NULL, level);
	if (!n)
		return NULL;
	if (level == 1)
		n->desc = xzalloc(sizeof(struct kmm_ptd));
	kmm_stat_inc(&mm->st.pt_pages);
	if (cpu)
		sim_note(cpu->core, "new %s page %#llx allocated and zeroed", pte_level_name(level),
			 (unsigned long long)n->pfn);
	return n;
}

static void table_free_now(struct kmm *mm, struct mmu_cpu *cpu, struct pm_ptpage *p)
{
	xfree(p->desc);
	p->desc = NULL;
	pm_pt_free(pm_of(mm), cpu ? cpu->core : NULL, p);
}

bool kmm_walk(struct kmm *mm, struct mmu_cpu *cpu, uint64_t va, bool alloc, bool want_pmd, struct kmm_slot *s)
{
	struct pm_ptpage *p = mm->as->hw.root;
	for (int level = mm->as->sys->mmu->o.levels; level > 1; level--) {
		struct kmm_slot here = { p, (unsigned)PT_INDEX(va, level), level };
		uint64_t e = kmm_get(cpu, &here);
		if (level == 2 && (want_pmd || ((e & PTE_PS) && pte_mapped(e)))) {
			*s = here;
			return true;
		}
		if (!(e & PTE_P)) {
			if (!alloc)
				return false;
			struct pm_ptpage *n = table_alloc(mm, cpu, level - 1);
			if (!n)
				return false;
			spin_lock(cpu, &mm->page_table_lock);
			e = kmm_get(cpu, &here);
			if (!(e & PTE_P)) {
				e = PTE_MK(n->pfn, PTE_P | PTE_RW | PTE_US);
				kmm_set(cpu, &here, e);
				n = NULL;
			}
			spin_unlock(cpu, &mm->page_table_lock);
			if (n) /* another core installed one first */
				table_free_now(mm, cpu, n);
		}
		p = pm_pt(pm_of(mm), PTE_PFN(e));
		if (!p)
			panic("kmm: entry at level %d for %#llx points at a non-table frame", level,
			      (unsigned long long)va);
	}
	*s = (struct kmm_slot){ p, (unsigned)PT_INDEX(va, 1), 1 };
	return true;
}

/* ---- flush batches ---- */

void kmm_flush_page(struct kmm_flush *f, uint64_t va, uint64_t put_pfn)
{
	va &= ~(PAGE_SIZE - 1);
	if (!f->any || va < f->start)
		f->start = va;
	if (!f->any || va + PAGE_SIZE > f->end)
		f->end = va + PAGE_SIZE;
	f->any = true;
	f->pages++;
	if (put_pfn) {
		if (f->nframes == f->cap)
			f->frames = xrealloc(f->frames, sizeof(uint64_t) * (f->cap = f->cap ? f->cap * 2 : 64));
		f->frames[f->nframes++] = put_pfn;
	}
}

void kmm_flush_table(struct kmm_flush *f, struct pm_ptpage *p)
{
	if (f->ntables == f->tcap)
		f->tables = xrealloc(f->tables, sizeof(*f->tables) * (f->tcap = f->tcap ? f->tcap * 2 : 16));
	f->tables[f->ntables++] = p;
}

void kmm_flush_finish(struct kmm *mm, struct mmu_cpu *cpu, struct kmm_flush *f)
{
	struct vm_as *as = mm->as;
	if (cpu && (f->any || f->ntables || f->full)) {
		struct mmu_flush fl = { .sp = &as->hw };
		uint64_t span = f->any ? (f->end - f->start) >> PAGE_SHIFT : 0;
		if (f->full || f->ntables || span > KMM_FLUSH_CEILING) {
			fl.full = true; /* flush_tlb_mm, too many pages, or freed tables (paging-structure caches go too) */
		} else {
			for (uint64_t va = f->start; va < f->end; va += PAGE_SIZE)
				fl.va[fl.n++] = va;
		}
		uint64_t targets[SIM_MASK_WORDS];
		if (kmm_flush_start(as, cpu, &fl, f->pages, span, targets) && kmm_flush_remote(as, cpu, targets, &fl, false, mm->tlb_flush))
			kmm_stat_inc(&mm->st.shootdowns);
	}
	struct pm *pm = pm_of(mm);
	if (cpu && (f->nframes || f->ntables))
		sim_note(cpu->core, "after the flush: %u frame reference%s and %u PT page%s freed", f->nframes,
			 f->nframes == 1 ? "" : "s", f->ntables, f->ntables == 1 ? "" : "s");
	for (uint32_t i = 0; i < f->nframes; i++)
		pm_put(pm, cpu ? cpu->core : NULL, f->frames[i]);
	for (uint32_t i = 0; i < f->ntables; i++)
		table_free_now(mm, cpu, f->tables[i]);
	xfree(f->frames);
	xfree(f->tables);
	memset(f, 0, sizeof(*f));
}

/* ---- range walking ---- */

/*
 * A visitor over the leaf entries of [start, end): called for each PTE (with
 * the PTE page's lock held) or each huge PMD fully inside the range. A huge
 * PMD only partly inside is split first.
 */
struct rwalk {
	struct kmm *mm;
	struct mmu_cpu *cpu;
	uint64_t start, end;
	bool (*pte)(struct rwalk *w, const struct kmm_slot *s, uint64_t va, uint64_t e); /* false: stop */
	void *arg;
	bool stop;
	const struct coh_line *last; /* the PTE line read last: a scan pays once per line */
};

/*
 * A range walk reads entries in order: it pays for a PTE line when it moves
 * to it, and the other 7 entries of the line come with it (a streaming
 * scan costs one line access per 64 bytes, not one per 8-byte entry).
 */
static uint64_t scan_get(struct rwalk *w, const struct kmm_slot *s)
{
	const struct coh_line *l = pte_line(s->p, s->idx);
	if (l == w->last || !w->cpu)
		return pte_load(s->p, s->idx);
	w->last = l;
	return kmm_get(w->cpu, s);
}

static void walk_level(struct rwalk *w, struct pm_ptpage *p, int level, uint64_t base)
{
	uint64_t span = LEVEL_SIZE(level);
	unsigned i0 = base < w->start ? (unsigned)((w->start - base) / span) : 0;
	for (unsigned i = i0; i < PT_ENTRIES && !w->stop; i++) {
		uint64_t lo = base + i * span, hi = lo + span;
		if (lo >= w->end)
			break;
		struct kmm_slot s = { p, i, level };
		if (level == 1) {
			uint64_t e = scan_get(w, &s);
			if (e && !w->pte(w, &s, lo, e))
				w->stop = true;
			continue;
		}
		uint64_t e = scan_get(w, &s);
		if (!pte_mapped(e))
			continue;
		if (level == 2 && (e & PTE_PS)) {
			if (lo < w->start || hi > w->end) {
				kmm_split_huge(w->mm, w->cpu, lo);
				i--; /* revisit as a table */
				continue;
			}
			if (!w->pte(w, &s, lo, e))
				w->stop = true;
			continue;
		}
		struct pm_ptpage *c = pm_pt(pm_of(w->mm), PTE_PFN(e));
		if (level - 1 == 1) {
			struct lk_spin *ptl = &((struct kmm_ptd *)c->desc)->ptl;
			spin_lock(w->cpu, ptl);
			walk_level(w, c, 1, lo);
			spin_unlock(w->cpu, ptl);
		} else {
			walk_level(w, c, level - 1, lo);
		}
	}
}

static void range_walk(struct rwalk *w)
{
	if (w->start < w->end)
		walk_level(w, w->mm->as->hw.root, w->mm->as->sys->mmu->o.levels, 0);
}

/* Frames mapped by a leaf: 1 for a PTE, 512 for a huge PMD. */
static unsigned leaf_pages(const struct kmm_slot *s) { return s->level == 2 ? 512 : 1; }

/* ---- zap ---- */

static bool unguard_pte(struct rwalk *w, const struct kmm_slot *s, uint64_t va, uint64_t e)
{
	(void)va;
	if (e == KMM_PTE_GUARD)
		kmm_set(w->cpu, s, 0);
	return true;
}

struct zap_arg {
	struct kmm_flush *f;
	enum kmm_zap mode;
};

static bool zap_pte(struct rwalk *w, const struct kmm_slot *s, uint64_t va, uint64_t e)
{
	struct zap_arg *a = w->arg;
	struct kmm_flush *f = a->f;
	if (!pte_mapped(e)) {
		if (e == KMM_PTE_GUARD && a->mode == KMM_ZAP_ALL)
			kmm_set(w->cpu, s, 0); /* not present: nothing to flush */
		return true;
	}
	if (a->mode == KMM_ZAP_CACHE && !vm_frame_is_file(w->mm->as->sys, PTE_PFN(e)))
		return true; /* a private copy: unmap_mapping_range without even_cows leaves it */
	kmm_set(w->cpu, s, 0);
	uint64_t pfn = PTE_PFN(e);
	uint64_t zero = w->mm->as->sys->zero_pfn;
	for (unsigned k = 0; k < leaf_pages(s); k++)
		kmm_flush_page(f, va + k * PAGE_SIZE, pfn == zero ? 0 : pfn + k);
	return true;
}

void kmm_zap_mode(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, enum kmm_zap mode,
		  struct kmm_flush *f)
{
	struct zap_arg a = { f, mode };
	struct rwalk w = { mm, cpu, start, end, zap_pte, &a, false, NULL };
	range_walk(&w);
}

void kmm_zap(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, struct kmm_flush *f)
{
	kmm_zap_mode(mm, cpu, start, end, KMM_ZAP_ALL, f);
}

/* ---- guard markers (MADV_GUARD_INSTALL, _REMOVE) ---- */

int kmm_guard(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool install, struct kmm_flush *f)
{
	if (!install) {
		struct rwalk w = { mm, cpu, start, end, unguard_pte, NULL, false, NULL };
		range_walk(&w);
		return 0;
	}
	mm->guards = true;
	kmm_zap_mode(mm, cpu, start, end, KMM_ZAP_ALL, f); /* what was mapped goes (guard_install_pte_entry) */
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		struct kmm_slot s;
		if (!kmm_walk(mm, cpu, va, true, false, &s))
			return -ENOMEM;
		if (s.level == 2 && (!kmm_split_huge(mm, cpu, va) || !kmm_walk(mm, cpu, va, true, false, &s)))
			return -ENOMEM;
		struct lk_spin *l = kmm_lock_of(mm, &s);
		spin_lock(cpu, l);
		kmm_set(cpu, &s, KMM_PTE_GUARD);
		spin_unlock(cpu, l);
	}
	return 0;
}

/* ---- protect ---- */

struct protect_arg {
	struct kmm_flush *f;
	uint32_t flags;
};

static bool protect_pte(struct rwalk *w, const struct kmm_slot *s, uint64_t va, uint64_t e)
{
	struct protect_arg *a = w->arg;
	if (!pte_mapped(e))
		return true;
	bool shrinks;
	uint64_t n = kmm_reprotect(w->mm->as->sys, e, a->flags, &shrinks);
	if (n == e)
		return true;
	kmm_set(w->cpu, s, n);
	/* A flush is needed when access shrinks (pte_needs_flush); upgrades fault and fix themselves. */
	if (shrinks)
		for (unsigned k = 0; k < leaf_pages(s); k++)
			kmm_flush_page(a->f, va + k * PAGE_SIZE, 0);
	return true;
}

void kmm_protect(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, uint32_t vflags,
		 struct kmm_flush *f)
{
	struct protect_arg a = { .f = f, .flags = vflags };
	struct rwalk w = { mm, cpu, start, end, protect_pte, &a, false, NULL };
	range_walk(&w);
}

/* ---- MADV_FREE: clean and age the pages, so reclaim may drop them ---- */

static bool clean_pte(struct rwalk *w, const struct kmm_slot *s, uint64_t va, uint64_t e)
{
	struct kmm_flush *f = w->arg;
	if (!(e & PTE_P) || !(e & (PTE_A | PTE_D)))
		return true;
	if (PTE_PFN(e) == w->mm->as->sys->zero_pfn)
		return true;
	kmm_set(w->cpu, s, e & ~(PTE_A | PTE_D));
	for (unsigned k = 0; k < leaf_pages(s); k++)
		kmm_flush_page(f, va + k * PAGE_SIZE, 0);
	return true;
}

void kmm_clean(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, struct kmm_flush *f)
{
	struct rwalk w = { mm, cpu, start, end, clean_pte, f, false, NULL };
	range_walk(&w);
}

/* ---- free_pgtables ---- */

static bool table_empty(const struct pm_ptpage *p)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (pte_load(p, i))
			return false;
	return true;
}

static void free_level(struct kmm *mm, struct mmu_cpu *cpu, struct pm_ptpage *p, int level, uint64_t base,
		       uint64_t start, uint64_t end, uint64_t floor, uint64_t ceiling, struct kmm_flush *f)
{
	uint64_t span = LEVEL_SIZE(level);
	unsigned i0 = base < start ? (unsigned)((start - base) / span) : 0;
	for (unsigned i = i0; i < PT_ENTRIES; i++) {
		uint64_t lo = base + i * span, hi = lo + span;
		if (lo >= end)
			break;
		struct kmm_slot s = { p, i, level };
		uint64_t e = kmm_get(cpu, &s);
		if (!pte_is_table(e, level))
			continue;
		struct pm_ptpage *c = pm_pt(pm_of(mm), PTE_PFN(e));
		if (level - 1 > 1)
			free_level(mm, cpu, c, level - 1, lo, start, end, floor, ceiling, f);
		if (lo >= floor && (hi <= ceiling || !ceiling)) {
			if (!table_empty(c))
				panic("kmm: freeing a non-empty level-%d table at %#llx", level - 1,
				      (unsigned long long)lo);
			kmm_set(cpu, &s, 0);
			kmm_flush_table(f, c);
		}
	}
}

void kmm_free_tables(struct kmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end, uint64_t floor,
		     uint64_t ceiling, struct kmm_flush *f)
{
	struct mmu_cpu *lk = mm->range_locked ? NULL : cpu; /* NULL: no page_table_lock (see struct kmm) */
	spin_lock(lk, &mm->page_table_lock);
	free_level(mm, cpu, mm->as->hw.root, mm->as->sys->mmu->o.levels, 0, start, end, floor, ceiling, f);
	spin_unlock(lk, &mm->page_table_lock);
}

/* ---- madvise ---- */

int kmm_advise(struct kmm *mm, struct mmu_cpu *cpu, const struct kmm_vma *v, uint64_t start, uint64_t end, int advice,
	       struct kmm_flush *f)
{
	int e = vr_advice_refused(v->flags, v->file != NULL, advice);
	if (e)
		return e;
	switch (advice) {
	case VM_MADV_DONTNEED:
	case VM_MADV_DONTNEED_LOCKED:
		kmm_zap_mode(mm, cpu, start, end, KMM_ZAP_KEEP_MARKERS, f); /* guard markers stay */
		break;
	case VM_MADV_FREE:
		kmm_clean(mm, cpu, start, end, f);
		break;
	case VM_MADV_COLLAPSE:
		/* khugepaged's work, done or not as memory allows: the pages stay as they are here */
		if (!vr_collapse_ok(v->start, v->end, v->flags, v->file != NULL))
			return -EINVAL;
		break;
	case VM_MADV_GUARD_INSTALL:
	case VM_MADV_GUARD_REMOVE:
		return kmm_guard(mm, cpu, start, end, advice == VM_MADV_GUARD_INSTALL, f);
	}
	/*
	 * WILLNEED reads swap back in, and the simulated files are memory files
	 * (shmem: holes stay holes); COLD and PAGEOUT deactivate or reclaim under
	 * memory pressure, and none is simulated: the pages stay.
	 */
	return 0;
}

/* ---- huge pages ---- */

bool kmm_split_huge(struct kmm *mm, struct mmu_cpu *cpu, uint64_t va)
{
	struct kmm_slot s;
	if (!kmm_walk(mm, cpu, va, false, true, &s))
		return false;
	uint64_t e = kmm_get(cpu, &s);
	if (!(e & PTE_PS))
		return true;
	struct pm_ptpage *t = table_alloc(mm, cpu, 1);
	if (!t)
		return false;
	uint64_t pfn = PTE_PFN(e), bits = e & ~(PTE_PFN_MASK | PTE_PS);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		pte_store(t, i, PTE_MK(pfn + i, bits));
	spin_lock(cpu, &mm->page_table_lock);
	kmm_set(cpu, &s, PTE_MK(t->pfn, PTE_P | PTE_RW | PTE_US));
	spin_unlock(cpu, &mm->page_table_lock);
	return true;
}

/* ---- move (mremap) ---- */

struct move_arg {
	struct kmm_flush *f;
	int64_t delta;
	bool oom;
};

static bool move_pte(struct rwalk *w, const struct kmm_slot *s, uint64_t va, uint64_t e)
{
	struct move_arg *a = w->arg;
	uint64_t to = (uint64_t)((int64_t)va + a->delta);
	if (e == KMM_PTE_GUARD) { /* markers move with the pages (move_ptes) */
		struct kmm_slot d;
		if (!kmm_walk(w->mm, w->cpu, to, true, false, &d)) {
			a->oom = true;
			return false;
		}
		kmm_set(w->cpu, &d, e);
		kmm_set(w->cpu, s, 0);
		return true;
	}
	if (!pte_mapped(e))
		return true;
	unsigned n = leaf_pages(s);
	for (unsigned k = 0; k < n; k++) {
		struct kmm_slot d;
		if (!kmm_walk(w->mm, w->cpu, to + k * PAGE_SIZE, true, false, &d)) {
			a->oom = true;
			return false;
		}
		uint64_t v = n == 1 ? e : PTE_MK(PTE_PFN(e) + k, e & ~(PTE_PFN_MASK | PTE_PS));
		struct lk_spin *l = kmm_lock_of(w->mm, &d);
		bool other = s->level != 1 || l != kmm_lock_of(w->mm, s);
		if (other)
			spin_lock(w->cpu, l);
		kmm_set(w->cpu, &d, v);
		if (other)
			spin_unlock(w->cpu, l);
		kmm_flush_page(a->f, va + k * PAGE_SIZE, 0);
	}
	kmm_set(w->cpu, s, 0);
	return true;
}

bool kmm_move(struct kmm *mm, struct mmu_cpu *cpu, uint64_t old, uint64_t new_addr, uint64_t len, struct kmm_flush *f)
{
	struct move_arg a = { f, (int64_t)(new_addr - old), false };
	struct rwalk w = { mm, cpu, old, old + len, move_pte, &a, false, NULL };
	range_walk(&w);
	return !a.oom;
}

/* ---- copy (fork) ---- */

struct copy_arg {
	struct kmm *dst;
	struct kmm_flush *f;
	bool private_, oom, markers_only;
};

static bool copy_pte(struct rwalk *w, const struct kmm_slot *s, uint64_t va, uint64_t e)
{
	struct copy_arg *a = w->arg;
	if (e == KMM_PTE_GUARD) { /* copy_nonpresent_pte: markers are copied */
		struct kmm_slot d;
		if (!kmm_walk(a->dst, w->cpu, va, true, false, &d)) {
			a->oom = true;
			return false;
		}
		kmm_set(w->cpu, &d, e);
		a->dst->guards = true;
		return true;
	}
	if (!pte_mapped(e) || a->markers_only)
		return true;
	struct pm *pm = pm_of(w->mm);
	uint64_t pfn = PTE_PFN(e);
	unsigned n = leaf_pages(s);
	if (a->private_ && (e & PTE_RW)) { /* copy-on-write: both sides read-only */
		e &= ~PTE_RW;
		kmm_set(w->cpu, s, e);
		for (unsigned k = 0; k < n; k++)
			kmm_flush_page(a->f, va + k * PAGE_SIZE, 0);
	}
	for (unsigned k = 0; k < n; k++) {
		if (pfn != w->mm->as->sys->zero_pfn)
			pm_get(pm, pfn + k);
		struct kmm_slot d;
		if (!kmm_walk(a->dst, w->cpu, va + k * PAGE_SIZE, true, false, &d)) {
			a->oom = true;
			return false;
		}
		kmm_set(w->cpu, &d, n == 1 ? e : PTE_MK(pfn + k, e & ~(PTE_PFN_MASK | PTE_PS)));
	}
	return true;
}

bool kmm_copy(struct kmm *dst, struct kmm *src, struct mmu_cpu *cpu, uint64_t start, uint64_t end, bool private_,
	      bool markers_only, struct kmm_flush *f)
{
	struct copy_arg a = { dst, f, private_, false, markers_only };
	struct rwalk w = { src, cpu, start, end, copy_pte, &a, false, NULL };
	range_walk(&w);
	return !a.oom;
}

/* ---- teardown ---- */

static void destroy_level(struct kmm *mm, struct mmu_cpu *cpu, struct pm_ptpage *p, int level)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = pte_load(p, i);
		if (!pte_is_table(e, level))
			continue;
		struct pm_ptpage *c = pm_pt(pm_of(mm), PTE_PFN(e));
		if (level - 1 > 1)
			destroy_level(mm, cpu, c, level - 1);
		pte_store(p, i, 0);
		table_free_now(mm, cpu, c);
	}
}

void kmm_destroy_tables(struct kmm *mm, struct mmu_cpu *cpu)
{
	destroy_level(mm, cpu, mm->as->hw.root, mm->as->sys->mmu->o.levels);
}
