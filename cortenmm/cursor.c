/* cursor.c: CortenMM's transactional cursors: locking by the rw and adv protocols, status marking and push-down, batched flushes. */
#include "cortenmm/cm.h"

#include <string.h>

static struct pm *pm_of(struct cm_as *mm) { return mm->as->sys->pm; }
static uint64_t span(int level) { return LEVEL_SIZE(level); }

/* ---- descriptors ---- */

struct cm_pt *cm_pt_new(struct cm_as *mm, struct mmu_cpu *cpu, int level, struct cm_pt *parent)
{
	struct pm_ptpage *p = pm_pt_alloc(pm_of(mm), cpu ? cpu->core : NULL, level);
	if (!p)
		panic("cortenmm: out of simulated memory for page tables");
	struct cm_pt *d = xaligned_zalloc(CACHELINE, sizeof(*d));
	d->p = p;
	d->level = level;
	d->parent = parent;
	d->mm = mm;
	lk_rwsem_init(&d->rw);
	lk_mcs_init(&d->mcs);
	if (cpu) { /* the new descriptor's lock words start in the allocating core's cache */
		d->rw.count.owner = d->rw.count.last = (uint16_t)(cpu->core->id + 1);
		d->mcs.tail.owner = d->mcs.tail.last = (uint16_t)(cpu->core->id + 1);
	}
	p->desc = d;
	atomic_fetch_add(&mm->desc_bytes, sizeof(*d));
	atomic_fetch_add(&mm->st.pt_alloc, 1);
	return d;
}

static void meta_alloc(struct cm_pt *d)
{
	if (!d->meta) {
		d->meta = xzalloc(sizeof(struct cm_meta) * PT_ENTRIES);
		atomic_fetch_add(&d->mm->meta_bytes, sizeof(struct cm_meta) * PT_ENTRIES);
	}
}

static void pt_free_now(struct cm_pt *d)
{
	struct cm_as *mm = d->mm;
	if (d->meta)
		atomic_fetch_sub(&mm->meta_bytes, sizeof(struct cm_meta) * PT_ENTRIES);
	atomic_fetch_sub(&mm->desc_bytes, sizeof(*d));
	atomic_fetch_add(&mm->st.pt_free, 1);
	xfree(d->meta);
	d->p->desc = NULL;
	pm_pt_free(pm_of(mm), NULL, d->p);
	xfree(d);
}

static void pt_free_rcu(struct sim_rcu_head *h) { pt_free_now(caa_container_of(h, struct cm_pt, rcu)); }

void cm_table_free_deferred(struct cm_pt *d) { sim_rcu_defer(&d->rcu, pt_free_rcu); }

/* ---- entry access, charged to the cursor's core ---- */

/*
 * get: read entry i of d. Entries are mostly read in order: the cursor pays
 * for a PTE line when it moves to it, and the other 7 entries of the line
 * come with it (a streaming scan costs one line access per 64 bytes).
 */
static uint64_t get(struct cm_cursor *k, struct cm_pt *d, unsigned i)
{
	struct coh_line *l = pte_line(d->p, i);
	if (k->cpu && l != k->last) {
		coh_read(k->cpu->core, l);
		k->last = l;
	}
	return pte_load(d->p, i);
}

static void set(struct cm_cursor *k, struct cm_pt *d, unsigned i, uint64_t e)
{
	if (k->cpu)
		coh_write(k->cpu->core, pte_line(d->p, i));
	pte_store(d->p, i, e);
}

static struct cm_pt *child_of(struct cm_as *mm, uint64_t e) { return cm_pt_of(pm_pt(pm_of(mm), PTE_PFN(e))); }

static void meta_set(struct cm_pt *d, unsigned i, const struct cm_meta *m)
{
	bool was = d->meta && d->meta[i].kind != CM_INVALID;
	bool now = m && m->kind != CM_INVALID;
	if (now) {
		meta_alloc(d);
		d->meta[i] = *m;
	} else if (d->meta) {
		memset(&d->meta[i], 0, sizeof(d->meta[i]));
	}
	d->nmeta += (uint32_t)now - (uint32_t)was;
}

static struct cm_meta meta_get(const struct cm_pt *d, unsigned i)
{
	struct cm_meta m = { 0 };
	if (d->meta)
		m = d->meta[i];
	return m;
}

/* ---- flush batches ---- */

static void flush_page(struct cm_cursor *k, uint64_t va)
{
	struct cm_flush *f = &k->fl;
	va &= ~(PAGE_SIZE - 1);
	if (!f->n && !f->full)
		f->lo = f->hi = va;
	f->lo = MIN(f->lo, va);
	f->hi = MAX(f->hi, va + PAGE_SIZE);
	if (f->full || f->n == CM_FLUSH_MAX || ((f->hi - f->lo) >> PAGE_SHIFT) > CM_FLUSH_MAX)
		f->full = true;
	else
		f->va[f->n++] = va;
}

static void put_frame(struct cm_cursor *k, uint64_t pfn)
{
	struct cm_flush *f = &k->fl;
	if (pfn == k->mm->as->sys->zero_pfn)
		return;
	if (f->nframes == f->cap)
		f->frames = xrealloc(f->frames, sizeof(uint64_t) * (f->cap = f->cap ? f->cap * 2 : 64));
	f->frames[f->nframes++] = pfn;
}

void cm_release_frame(struct cm_cursor *k, uint64_t pfn) { put_frame(k, pfn); }

void cm_flush_range(struct cm_cursor *k, uint64_t va, unsigned n)
{
	for (unsigned j = 0; j < n; j++)
		flush_page(k, va + j * PAGE_SIZE);
}

static void put_table(struct cm_cursor *k, struct cm_pt *d)
{
	struct cm_flush *f = &k->fl;
	if (f->ntables == f->tcap)
		f->tables = xrealloc(f->tables, sizeof(*f->tables) * (f->tcap = f->tcap ? f->tcap * 2 : 16));
	f->tables[f->ntables++] = d;
	f->full = true; /* freed tables: the paging-structure caches must drop them too */
}

/* Issue, dispatch to the cores that ran this address space, and wait (remote cores acknowledge early). */
static void flush_tlbs(struct cm_cursor *k)
{
	struct cm_flush *f = &k->fl;
	struct vm_as *as = k->mm->as;
	struct mmu_cpu *cpu = k->cpu;
	if (cpu && (f->n || f->full)) {
		struct mmu_flush fl = { .sp = &as->hw, .full = f->full, .n = f->full ? 0 : f->n };
		memcpy(fl.va, f->va, sizeof(uint64_t) * fl.n);
		struct vm_core_stats *st = vm_cst(as, cpu);
		st->pages_flushed += f->full ? (f->hi - f->lo) >> PAGE_SHIFT : f->n;
		st->full_flushes += f->full;
		if (cpu->cur == &as->hw)
			mmu_flush_local(cpu, &fl);
		if (!as->sys->o.skip_shootdown) {
			uint64_t targets[SIM_MASK_WORDS];
			for (int w = 0; w < SIM_MASK_WORDS; w++)
				targets[w] = atomic_load_explicit(&as->hw.ran_on[w], memory_order_acquire);
			/* Lazy (LATR): only when translations just went away; a lost right must not linger. */
			if (!(as->sys->o.dopt[CM_OPT_LAZY_FLUSH] && !f->sync && cm_latr_defer(k, &fl, targets, f->lo, f->hi)))
				mmu_shootdown(cpu, targets, &fl, true);
		}
	}
}

/* After the flush and the unlock: release frames, and free unlinked tables (after a grace period under adv). */
static void release(struct cm_cursor *k)
{
	struct cm_flush *f = &k->fl;
	struct mmu_cpu *cpu = k->cpu;
	for (uint32_t i = 0; i < f->nframes; i++)
		pm_put(pm_of(k->mm), cpu ? cpu->core : NULL, f->frames[i]);
	for (uint32_t i = 0; i < f->ntables; i++) {
		if (k->mm->adv && cpu)
			sim_rcu_defer(&f->tables[i]->rcu, pt_free_rcu); /* lock-free walkers may still hold it */
		else
			pt_free_now(f->tables[i]);
	}
	xfree(f->frames);
	xfree(f->tables);
	memset(f, 0, sizeof(*f));
}

/* ---- locking ---- */

static void hold(struct cm_cursor *k, struct cm_pt *d)
{
	if (k->nlocked == CM_MAX_LOCKED)
		panic("cortenmm: a cursor holds more than %d page locks", CM_MAX_LOCKED);
	k->locked[k->nlocked++] = d;
}

static void mcs_lock(struct cm_cursor *k, struct cm_pt *d) { lk_mcs_lock(k->cpu->core, &d->mcs); }
static void mcs_unlock(struct cm_cursor *k, struct cm_pt *d) { lk_mcs_unlock(k->cpu->core, &d->mcs); }

/*
 * Make entry i of d a child table (d is locked by this cursor): push the
 * entry's status down, or split a huge page, and install the child. Under
 * adv the child is locked before anyone can see it.
 */
static struct cm_pt *make_child(struct cm_cursor *k, struct cm_pt *d, unsigned i, bool lock_it)
{
	struct cm_as *mm = k->mm;
	uint64_t e = get(k, d, i);
	struct cm_pt *c = cm_pt_new(mm, k->cpu, d->level - 1, d);
	c->base = d->base + i * span(d->level);
	struct cm_meta m = meta_get(d, i);
	if (m.kind != CM_INVALID) {
		uint64_t step = span(c->level) >> PAGE_SHIFT;
		for (unsigned j = 0; j < PT_ENTRIES; j++) {
			struct cm_meta mj = m;
			mj.pgoff = m.pgoff + j * step;
			meta_set(c, j, &mj);
		}
		meta_set(d, i, NULL);
		atomic_fetch_add(&mm->st.pushdowns, 1);
		if (k->cpu)
			sim_note(k->cpu->core, "push-down: the status of %s entry %u moves into the 512 entries of a new %s page",
				 pte_level_name(d->level), i, pte_level_name(c->level));
	}
	if ((e & PTE_PS) && pte_mapped(e)) { /* a 2 MiB page becomes 512 small ones */
		uint64_t pfn = PTE_PFN(e), bits = e & ~(PTE_PFN_MASK | PTE_PS);
		for (unsigned j = 0; j < PT_ENTRIES; j++)
			pte_store(c->p, j, PTE_MK(pfn + j, bits));
	}
	if (lock_it && mm->adv && k->cpu) {
		mcs_lock(k, c);
		hold(k, c);
	}
	set(k, d, i, PTE_MK(c->p->pfn, PTE_P | PTE_RW | PTE_US));
	return c;
}

/* DFS-lock every existing table below d that overlaps [a, b) (adv). */
static void lock_below(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b)
{
	if (d->level == 1)
		return;
	uint64_t s = span(d->level);
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t lo = d->base + i * s, hi = lo + s;
		if (hi <= a || lo >= b)
			continue;
		uint64_t e = get(k, d, i);
		if (!pte_is_table(e, d->level))
			continue;
		struct cm_pt *c = child_of(k->mm, e);
		mcs_lock(k, c);
		sim_note_lock(k->cpu->core, "MCS lock of %s page %#llx below it, inside the range (DFS)",
			      pte_level_name(c->level), (unsigned long long)c->p->pfn);
		hold(k, c);
		atomic_fetch_add(&k->mm->st.dfs_locks, 1);
		lock_below(k, c, MAX(a, lo), MIN(b, hi));
	}
}

/* Does [a, b) fit inside one entry of d, and which? */
static bool fits(const struct cm_pt *d, uint64_t a, uint64_t b, unsigned *i)
{
	if (d->level == 1)
		return false;
	*i = (unsigned)PT_INDEX(a, d->level);
	return *i == PT_INDEX(b - 1, d->level) && (b - 1) - a < span(d->level);
}

static void lock_adv(struct cm_cursor *k)
{
	struct cm_as *mm = k->mm;
	sim_note(k->cpu->core, "adv cursor over [%#llx, %#llx): descend from the root under RCU, taking no lock on the way",
		 (unsigned long long)k->start, (unsigned long long)k->end);
	for (;;) {
		sim_rcu_read_lock();
		struct cm_pt *d = mm->root;
		unsigned i;
		bool retry = false;
		while (fits(d, k->start, k->end, &i)) {
			uint64_t e = get(k, d, i);
			if ((e & PTE_PS) && pte_mapped(e))
				break; /* a huge page: its table is the covering page */
			if (!pte_is_table(e, d->level) && k->noalloc)
				break; /* only looking: the parent covers */
			if (!pte_is_table(e, d->level)) {
				/* Allocate the missing child under the parent's lock. */
				mcs_lock(k, d);
				sim_note_lock(k->cpu->core, "MCS lock of %s page %#llx, to add the missing child for entry %u",
					      pte_level_name(d->level), (unsigned long long)d->p->pfn, i);
				if (atomic_load(&d->stray)) {
					mcs_unlock(k, d);
					retry = true;
					break;
				}
				if (!pte_is_table(get(k, d, i), d->level))
					make_child(k, d, i, false);
				e = get(k, d, i);
				mcs_unlock(k, d);
			}
			d = child_of(mm, e);
		}
		if (!retry) {
			mcs_lock(k, d);
			if (!atomic_load(&d->stray)) {
				sim_rcu_read_unlock();
				sim_note_lock(k->cpu->core, "MCS lock of the covering %s page %#llx (it maps [%#llx, %#llx))",
					      pte_level_name(d->level), (unsigned long long)d->p->pfn, (unsigned long long)d->base,
					      (unsigned long long)(d->base + PT_ENTRIES * span(d->level)));
				k->cover = d;
				hold(k, d);
				lock_below(k, d, k->start, k->end);
				return;
			}
			mcs_unlock(k, d);
		}
		sim_rcu_read_unlock();
		sim_note(k->cpu->core, "the page went stray (another cursor unlinked it): start again from the root");
		atomic_fetch_add(&mm->st.retries, 1);
	}
}

static void lock_rw(struct cm_cursor *k)
{
	struct cm_as *mm = k->mm;
	struct sim_core *c = k->cpu->core;
	struct cm_pt *d = mm->root;
	unsigned i;
	for (;;) {
		if (!fits(d, k->start, k->end, &i))
			break;
		lk_down_read(c, &d->rw);
		uint64_t e = get(k, d, i);
		if (!pte_is_table(e, d->level)) { /* a child is missing (or a huge page): the higher page covers */
			lk_up_read(c, &d->rw);
			break;
		}
		sim_note_lock(c, "read lock of %s page %#llx (on the way down)", pte_level_name(d->level),
			      (unsigned long long)d->p->pfn);
		hold(k, d);
		k->nread++;
		d = child_of(mm, e);
	}
	lk_down_write(c, &d->rw);
	sim_note_lock(c, "write lock of the covering %s page %#llx (it maps [%#llx, %#llx))", pte_level_name(d->level),
		      (unsigned long long)d->p->pfn, (unsigned long long)d->base,
		      (unsigned long long)(d->base + PT_ENTRIES * span(d->level)));
	k->cover = d;
	hold(k, d);
}

static void lock_init(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end);

void cm_lock_look(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end)
{
	lock_init(k, mm, cpu, start, end);
	k->noalloc = true;
	if (mm->adv)
		lock_adv(k);
	else
		lock_rw(k);
	atomic_fetch_add(&mm->st.cover_level[k->cover->level], 1);
}

void cm_lock(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end)
{
	lock_init(k, mm, cpu, start, end);
	if (mm->adv)
		lock_adv(k);
	else
		lock_rw(k);
	atomic_fetch_add(&mm->st.cover_level[k->cover->level], 1);
}

static void lock_init(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end)
{
	memset(k, 0, sizeof(*k));
	k->mm = mm;
	k->cpu = cpu;
	k->start = start & ~(PAGE_SIZE - 1);
	k->end = vm_page_up(end);
	if (k->end <= k->start)
		k->end = k->start + PAGE_SIZE;
	atomic_fetch_add(&mm->st.cursors, 1);
}

void cm_unlock(struct cm_cursor *k)
{
	flush_tlbs(k);
	struct sim_core *c = k->cpu->core;
	if (k->mm->adv) {
		for (uint32_t j = k->nlocked; j-- > 0;)
			mcs_unlock(k, k->locked[j]);
	} else {
		lk_up_write(c, &k->cover->rw);
		for (uint32_t j = k->nread; j-- > 0;)
			lk_up_read(c, &k->locked[j]->rw);
	}
	sim_note(c, "cursor released: %u page lock%s dropped", k->nlocked, k->nlocked == 1 ? "" : "s");
	k->nlocked = 0;
	release(k);
}

/* ---- operations inside a cursor ---- */

struct cm_meta cm_query(struct cm_cursor *k, uint64_t va, uint64_t *pte)
{
	struct cm_pt *d = k->cover;
	for (;;) {
		unsigned i = (unsigned)PT_INDEX(va, d->level);
		uint64_t e = get(k, d, i);
		if (pte_is_table(e, d->level)) {
			d = child_of(k->mm, e);
			continue;
		}
		struct cm_meta m = meta_get(d, i);
		if (m.kind != CM_INVALID)
			m.pgoff += (va - (d->base + i * span(d->level))) >> PAGE_SHIFT;
		*pte = e;
		return m;
	}
}

/* Remove everything under entry i of d: frames (to flush and release) and child tables. */
static void clear_entry(struct cm_cursor *k, struct cm_pt *d, unsigned i)
{
	uint64_t e = get(k, d, i);
	uint64_t lo = d->base + i * span(d->level);
	if (pte_is_table(e, d->level)) {
		struct cm_pt *c = child_of(k->mm, e);
		for (unsigned j = 0; j < PT_ENTRIES; j++)
			if (get(k, c, j) || (c->meta && c->meta[j].kind))
				clear_entry(k, c, j);
		atomic_store(&c->stray, true);
		set(k, d, i, 0);
		put_table(k, c);
	} else if (pte_mapped(e)) {
		set(k, d, i, 0);
		unsigned n = d->level == 2 ? PT_ENTRIES : 1;
		for (unsigned j = 0; j < n; j++)
			put_frame(k, PTE_PFN(e) + j);
		if (e & PTE_P)
			for (unsigned j = 0; j < n; j++)
				flush_page(k, lo + j * PAGE_SIZE);
	}
	meta_set(d, i, NULL);
}

static struct cm_pt *child_for(struct cm_cursor *k, struct cm_pt *d, unsigned i)
{
	uint64_t e = get(k, d, i);
	return pte_is_table(e, d->level) ? child_of(k->mm, e) : make_child(k, d, i, true);
}

static void mark_rec(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b, const struct cm_meta *m,
		     uint64_t ma)
{
	uint64_t s = span(d->level);
	unsigned i0 = (unsigned)((MAX(a, d->base) - d->base) / s);
	for (unsigned i = i0; i < PT_ENTRIES; i++) {
		uint64_t lo = d->base + i * s, hi = lo + s;
		if (lo >= b)
			break;
		if (lo >= a && hi <= b) {
			clear_entry(k, d, i);
			if (m && m->kind != CM_INVALID) {
				struct cm_meta x = *m;
				x.pgoff += (lo - ma) >> PAGE_SHIFT;
				meta_set(d, i, &x);
				if (d->level > 1)
					atomic_fetch_add(&k->mm->st.big_marks, 1);
			}
		} else {
			mark_rec(k, child_for(k, d, i), MAX(a, lo), MIN(b, hi), m, ma);
		}
	}
}

void cm_mark(struct cm_cursor *k, uint64_t a, uint64_t b, const struct cm_meta *m)
{
	if (k->cpu && sim_narrating(k->cpu->core)) {
		char d[128] = "nothing (unmapped)";
		if (m && m->kind != CM_INVALID)
			cm_meta_describe(m, d, sizeof(d));
		sim_note(k->cpu->core, "per-PTE status of [%#llx, %#llx) := %s", (unsigned long long)a, (unsigned long long)b,
			 d);
	}
	mark_rec(k, k->cover, a, b, m, a);
}

/*
 * Free the child tables under d whose whole range lies in [a, b) and that
 * hold nothing any more (as free_pgtables frees only tables no mapping can
 * reach). Tables only partly unmapped stay, ready for the next mapping.
 * Returns whether d is now empty.
 */
static bool prune(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b)
{
	bool empty = true;
	uint64_t s = span(d->level);
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t lo = d->base + i * s, hi = lo + s;
		uint64_t e = pte_load(d->p, i);
		if (pte_is_table(e, d->level) && hi > a && lo < b) {
			struct cm_pt *c = child_of(k->mm, e);
			if (prune(k, c, MAX(a, lo), MIN(b, hi)) && lo >= a && hi <= b) {
				atomic_store(&c->stray, true);
				set(k, d, i, 0);
				put_table(k, c);
				continue;
			}
		}
		if (e || (d->meta && d->meta[i].kind))
			empty = false;
	}
	return empty;
}

void cm_unmap(struct cm_cursor *k, uint64_t a, uint64_t b)
{
	mark_rec(k, k->cover, a, b, NULL, a);
	prune(k, k->cover, a, b);
}

static void zap_rec(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b)
{
	uint64_t s = span(d->level);
	unsigned i0 = (unsigned)((MAX(a, d->base) - d->base) / s);
	for (unsigned i = i0; i < PT_ENTRIES; i++) {
		uint64_t lo = d->base + i * s, hi = lo + s;
		if (lo >= b)
			break;
		uint64_t e = get(k, d, i);
		if (pte_is_table(e, d->level)) {
			zap_rec(k, child_of(k->mm, e), MAX(a, lo), MIN(b, hi));
		} else if (pte_mapped(e)) {
			if (d->level > 1 && (lo < a || hi > b)) { /* part of a huge page: split it first */
				zap_rec(k, child_for(k, d, i), MAX(a, lo), MIN(b, hi));
				continue;
			}
			struct cm_meta m = meta_get(d, i);
			set(k, d, i, 0);
			meta_set(d, i, &m);
			unsigned n = d->level == 2 ? PT_ENTRIES : 1;
			for (unsigned j = 0; j < n; j++) {
				put_frame(k, PTE_PFN(e) + j);
				if (e & PTE_P)
					flush_page(k, lo + j * PAGE_SIZE);
			}
		}
	}
}

void cm_zap(struct cm_cursor *k, uint64_t a, uint64_t b) { zap_rec(k, k->cover, a, b); }

static void clean_rec(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b)
{
	uint64_t s = span(d->level);
	unsigned i0 = (unsigned)((MAX(a, d->base) - d->base) / s);
	for (unsigned i = i0; i < PT_ENTRIES; i++) {
		uint64_t lo = d->base + i * s, hi = lo + s;
		if (lo >= b)
			break;
		uint64_t e = get(k, d, i);
		if (pte_is_table(e, d->level)) {
			clean_rec(k, child_of(k->mm, e), MAX(a, lo), MIN(b, hi));
		} else if ((e & PTE_P) && (e & (PTE_A | PTE_D)) && PTE_PFN(e) != k->mm->as->sys->zero_pfn) {
			set(k, d, i, e & ~(PTE_A | PTE_D));
			k->fl.sync = true;
			for (unsigned j = 0; j < (d->level == 2 ? PT_ENTRIES : 1u); j++)
				flush_page(k, lo + j * PAGE_SIZE);
		}
	}
}

void cm_clean(struct cm_cursor *k, uint64_t a, uint64_t b) { clean_rec(k, k->cover, a, b); }

void cm_map(struct cm_cursor *k, uint64_t va, uint64_t pfn, uint64_t bits)
{
	struct cm_pt *d = k->cover;
	while (d->level > 1)
		d = child_for(k, d, (unsigned)PT_INDEX(va, d->level));
	unsigned i = (unsigned)PT_INDEX(va, 1);
	uint64_t old = get(k, d, i);
	set(k, d, i, PTE_MK(pfn, bits));
	if (old & PTE_P) {
		k->fl.sync = true;
		flush_page(k, va);
	}
}

static bool walk_rec(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b, cm_walk_fn fn, void *arg)
{
	uint64_t s = span(d->level);
	unsigned i0 = (unsigned)((MAX(a, d->base) - d->base) / s);
	for (unsigned i = i0; i < PT_ENTRIES; i++) {
		uint64_t lo = d->base + i * s, hi = lo + s;
		if (lo >= b)
			break;
		uint64_t e = k ? get(k, d, i) : pte_load(d->p, i);
		if (pte_is_table(e, d->level)) {
			if (!walk_rec(k, child_of(d->mm, e), MAX(a, lo), MIN(b, hi), fn, arg))
				return false;
			continue;
		}
		struct cm_meta m = meta_get(d, i);
		uint64_t from = MAX(a, lo);
		if (m.kind != CM_INVALID)
			m.pgoff += (from - lo) >> PAGE_SHIFT;
		if (!fn(arg, from, MIN(b, hi), &m, e, d->level))
			return false;
	}
	return true;
}

void cm_walk(struct cm_cursor *k, uint64_t a, uint64_t b, cm_walk_fn fn, void *arg)
{
	walk_rec(k, k->cover, MAX(a, k->cover->base), b, fn, arg);
}

void cm_host_walk(struct cm_as *mm, uint64_t a, uint64_t b, cm_walk_fn fn, void *arg)
{
	walk_rec(NULL, mm->root, a, b, fn, arg);
}

/* New PTE bits after a status change; a flush when access shrinks. */
static void reprotect(struct cm_cursor *k, struct cm_pt *d, unsigned i, uint64_t lo, const struct cm_meta *m)
{
	uint64_t e = get(k, d, i);
	if (!pte_mapped(e))
		return;
	bool shrinks;
	uint64_t n = kmm_reprotect(k->mm->as->sys, e, m->flags, &shrinks);
	if (n == e)
		return;
	set(k, d, i, n);
	if (shrinks) {
		k->fl.sync = true;
		for (unsigned j = 0; j < (d->level == 2 ? PT_ENTRIES : 1u); j++)
			flush_page(k, lo + j * PAGE_SIZE);
	}
}

static void set_rec(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b, cm_set_fn f, void *arg)
{
	uint64_t s = span(d->level);
	unsigned i0 = (unsigned)((MAX(a, d->base) - d->base) / s);
	for (unsigned i = i0; i < PT_ENTRIES; i++) {
		uint64_t lo = d->base + i * s, hi = lo + s;
		if (lo >= b)
			break;
		uint64_t e = get(k, d, i);
		if (pte_is_table(e, d->level)) {
			set_rec(k, child_of(k->mm, e), MAX(a, lo), MIN(b, hi), f, arg);
			continue;
		}
		struct cm_meta m = meta_get(d, i);
		if (m.kind == CM_INVALID && !pte_mapped(e))
			continue;
		if (lo < a || hi > b) { /* part of the entry: push down */
			set_rec(k, child_for(k, d, i), MAX(a, lo), MIN(b, hi), f, arg);
			continue;
		}
		f(arg, &m);
		meta_set(d, i, &m);
		reprotect(k, d, i, lo, &m);
	}
}

void cm_set(struct cm_cursor *k, uint64_t a, uint64_t b, cm_set_fn f, void *arg) { set_rec(k, k->cover, a, b, f, arg); }

/* ---- teardown (host) ---- */

static void destroy_rec(struct cm_as *mm, struct cm_pt *d)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = pte_load(d->p, i);
		if (pte_is_table(e, d->level)) {
			destroy_rec(mm, child_of(mm, e));
		} else if (pte_mapped(e)) {
			unsigned n = d->level == 2 ? PT_ENTRIES : 1;
			for (unsigned j = 0; j < n; j++)
				if (PTE_PFN(e) + j != mm->as->sys->zero_pfn)
					pm_put(pm_of(mm), NULL, PTE_PFN(e) + j);
		}
		pte_store(d->p, i, 0);
	}
	if (d != mm->root)
		pt_free_now(d);
}

void cm_destroy_tables(struct cm_as *mm) { destroy_rec(mm, mm->root); }
