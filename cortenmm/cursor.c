/* cursor.c: CortenMM's transactional cursors: locking by the rw and adv protocols, visits of a range, status marking and push-down, batched flushes. */
#include "cortenmm/cm.h"
#include "kmm/tlb.h"

#include <string.h>

static struct pm *pm_of(struct cm_as *mm) { return mm->as->sys->pm; }
static uint64_t span(int level) { return LEVEL_SIZE(level); }

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
		pte_access(k->cpu->core, d->p, i, COH_READ);
		k->last = l;
	}
	return pte_load(d->p, i);
}

static void set(struct cm_cursor *k, struct cm_pt *d, unsigned i, uint64_t e)
{
	if (k->cpu)
		pte_access(k->cpu->core, d->p, i, COH_WRITE);
	pte_store(d->p, i, e);
}


/* ---- flush batches ---- */

/*
 * flush_reset: an empty batch. Only the counts and pointers are cleared:
 * va[] is read below n only, and zeroing its 256 bytes per cursor was host
 * time for nothing.
 */
static void flush_reset(struct cm_flush *f)
{
	f->n = 0;
	f->full = f->any = f->sync = false;
	f->lo = f->hi = f->pages = 0;
	f->frames = NULL;
	f->nframes = f->cap = 0;
	f->tables = NULL;
	f->ntables = f->tcap = 0;
}

static void flush_page(struct cm_cursor *k, uint64_t va)
{
	struct cm_flush *f = &k->fl;
	va &= ~(PAGE_SIZE - 1);
	if (!f->any)
		f->lo = f->hi = va;
	f->any = true;
	f->pages++;
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
		uint64_t targets[SIM_MASK_WORDS];
		/* Lazy (LATR): only when translations just went away; a lost right must not linger. */
		if (kmm_flush_start(as, cpu, &fl, f->pages, f->any ? (f->hi - f->lo) >> PAGE_SHIFT : 0, targets) &&
		    !(as->sys->o.dopt[CM_OPT_LAZY_FLUSH] && !f->sync && cm_latr_defer(k, &fl, targets, f->lo, f->hi)))
			kmm_flush_remote(as, cpu, targets, &fl, true, (unsigned)as->sys->o.dopt[CM_OPT_TLB_FLUSH]);
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
			cm_pt_free_later(f->tables[i]); /* lock-free walkers may still hold it */
		else
			cm_pt_free(f->tables[i]);
	}
	xfree(f->frames);
	xfree(f->tables);
	flush_reset(f);
}

/* ---- locking ---- */

static void hold(struct cm_cursor *k, struct cm_pt *d)
{
	if (k->nlocked == k->cap) { /* more locks than the cursor keeps in itself: the list doubles on the heap */
		struct cm_pt **more = xmalloc(sizeof(*more) * 2 * (size_t)k->cap);
		memcpy(more, k->locked, sizeof(*more) * k->nlocked);
		if (k->locked != k->locks_inline)
			xfree(k->locked);
		k->locked = more;
		k->cap *= 2;
	}
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
	struct cm_meta m = cm_meta_get(d, i);
	if (m.kind != CM_INVALID) {
		uint64_t step = span(c->level) >> PAGE_SHIFT;
		for (unsigned j = 0; j < PT_ENTRIES; j++) {
			struct cm_meta mj = m;
			mj.pgoff = m.pgoff + j * step;
			cm_meta_set(c, j, &mj);
		}
		cm_meta_set(d, i, NULL);
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
	d->nchild++;
	return c;
}

/* child_for: the child table of entry i of d, made now (make_child) if there is none. */
static struct cm_pt *child_for(struct cm_cursor *k, struct cm_pt *d, unsigned i)
{
	uint64_t e = get(k, d, i);
	return pte_is_table(e, d->level) ? cm_child(k->mm, e) : make_child(k, d, i, true);
}

/* ---- range visits ---- */

/* One entry met by a range visit: entry i of d maps [lo, hi); the visit covers [a, b) of d's range. */
struct cm_at {
	struct cm_pt *d;
	unsigned i;
	uint64_t lo, hi, a, b;
};

/* What a visitor wants after an entry: the next entry, a visit of its child table (made now if missing), or to stop. */
enum cm_step { CM_NEXT, CM_DOWN, CM_STOP };
typedef enum cm_step (*cm_at_fn)(struct cm_cursor *k, const struct cm_at *at, void *arg);

/*
 * over: give fn every entry of d that meets [a, b), in address order, and
 * visit the child tables it asks for over their part of [a, b). k NULL: a
 * host visit (no charges), whose fn asks only for existing children.
 * Returns false when fn stopped the visit.
 */
static bool over(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b, cm_at_fn fn, void *arg)
{
	uint64_t s = span(d->level);
	for (unsigned i = (unsigned)((MAX(a, d->base) - d->base) / s); i < PT_ENTRIES; i++) {
		struct cm_at at = { d, i, d->base + i * s, d->base + (i + 1) * s, a, b };
		if (at.lo >= b)
			break;
		enum cm_step st = fn(k, &at, arg);
		if (st == CM_STOP)
			return false;
		if (st == CM_DOWN) {
			struct cm_pt *c = k ? child_for(k, d, i) : cm_child(d->mm, pte_load(d->p, i));
			if (!over(k, c, MAX(a, at.lo), MIN(b, at.hi), fn, arg))
				return false;
		}
	}
	return true;
}

/* lock_at: DFS-lock the existing child table of an entry inside the range (adv), and go on below it. */
static enum cm_step lock_at(struct cm_cursor *k, const struct cm_at *at, void *arg)
{
	(void)arg;
	uint64_t e = get(k, at->d, at->i);
	if (!pte_is_table(e, at->d->level))
		return CM_NEXT;
	struct cm_pt *c = cm_child(k->mm, e);
	mcs_lock(k, c);
	sim_note_lock(k->cpu->core, "MCS lock of %s page %#llx below it, inside the range (DFS)", pte_level_name(c->level),
		      (unsigned long long)c->p->pfn);
	hold(k, c);
	atomic_fetch_add(&k->mm->st.dfs_locks, 1);
	return c->level > 1 ? CM_DOWN : CM_NEXT;
}

/* lock_below: DFS-lock every existing table below d that overlaps [a, b) (adv). */
static void lock_below(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b)
{
	if (d->level > 1)
		over(k, d, a, b, lock_at, NULL);
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
			d = cm_child(mm, e);
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
		d = cm_child(mm, e);
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
	/* Field by field, not memset: locks_inline[] (8 KiB) is read below nlocked only; zeroing it was most of a cursor's host time. */
	k->mm = mm;
	k->cpu = cpu;
	k->cover = NULL;
	k->nlocked = k->nread = 0;
	k->locked = k->locks_inline;
	k->cap = CM_LOCKS_INLINE;
	k->noalloc = false;
	k->last = NULL;
	flush_reset(&k->fl);
	k->start = start & ~(PAGE_SIZE - 1);
	k->end = vm_page_up(end);
	if (k->end <= k->start)
		k->end = k->start + PAGE_SIZE;
	atomic_fetch_add(&mm->st.cursors, 1);
	if (cpu && !mm->as->sys->o.dopt[CM_OPT_NO_PT_POOL]) {
		struct pm *pm = pm_of(mm);
		uint32_t had = pm_pt_pool_count(pm, cpu->core);
		pm_pt_pool_fill(pm, cpu->core, CM_PT_POOL_LOW, PM_PT_POOL_MAX); /* before any lock; if memory runs out, tables come unpooled */
		if (pm_pt_pool_count(pm, cpu->core) > had)
			sim_note(cpu->core, "before any lock: the core's pool of zeroed page-table frames topped up from %u to %u (each "
					    "frame zeroed now, so no table is zeroed under a lock)",
				 had, pm_pt_pool_count(pm, cpu->core));
	}
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
	if (k->locked != k->locks_inline)
		xfree(k->locked);
	k->locked = k->locks_inline;
	k->cap = CM_LOCKS_INLINE;
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
			d = cm_child(k->mm, e);
			continue;
		}
		struct cm_meta m = cm_meta_get(d, i);
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
		struct cm_pt *c = cm_child(k->mm, e);
		for (unsigned j = 0; j < PT_ENTRIES; j++)
			if (get(k, c, j) || (c->meta && c->meta[j].kind))
				clear_entry(k, c, j);
		atomic_store(&c->stray, true);
		set(k, d, i, 0);
		d->nchild--;
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
	cm_meta_set(d, i, NULL);
}

/* Whether [lo, hi) of an entry is only partly inside the visited [a, b). */
static bool partial(const struct cm_at *at) { return at->lo < at->a || at->hi > at->b; }

/* cm_mark's visitor: an entry wholly inside takes the status (its pgoff from where it lies), a partial one is pushed down. */
struct mark_arg {
	const struct cm_meta *m;
	uint64_t ma; /* the address m.pgoff belongs to */
};

static enum cm_step mark_at(struct cm_cursor *k, const struct cm_at *at, void *arg)
{
	const struct mark_arg *x = arg;
	if (partial(at))
		return CM_DOWN;
	clear_entry(k, at->d, at->i);
	if (x->m && x->m->kind != CM_INVALID) {
		struct cm_meta m = *x->m;
		m.pgoff += (at->lo - x->ma) >> PAGE_SHIFT;
		cm_meta_set(at->d, at->i, &m);
		if (at->d->level > 1)
			atomic_fetch_add(&k->mm->st.big_marks, 1);
	}
	return CM_NEXT;
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
	struct mark_arg x = { m, a };
	over(k, k->cover, a, b, mark_at, &x);
}

/*
 * Free the child tables under d whose whole range lies in [a, b) and that
 * hold nothing any more (as free_pgtables frees only tables no mapping can
 * reach). Tables only partly unmapped stay, ready for the next mapping.
 * Returns whether d is now empty when `need` asks (a caller that may free d),
 * else false: only the entries that meet [a, b) are visited then, and the
 * counts answer before any scan (a table entry is a child, a status is
 * counted in nmeta), so pruning a small range does not read 512 entries.
 */
static bool prune(struct cm_cursor *k, struct cm_pt *d, uint64_t a, uint64_t b, bool need)
{
	uint64_t s = span(d->level);
	for (unsigned i = (unsigned)((MAX(a, d->base) - d->base) / s); d->nchild && i < PT_ENTRIES; i++) {
		uint64_t lo = d->base + i * s, hi = lo + s;
		if (lo >= b)
			break;
		uint64_t e = pte_load(d->p, i);
		bool inside = lo >= a && hi <= b;
		if (pte_is_table(e, d->level) && prune(k, cm_child(k->mm, e), MAX(a, lo), MIN(b, hi), inside) && inside) {
			struct cm_pt *c = cm_child(k->mm, e);
			atomic_store(&c->stray, true);
			set(k, d, i, 0);
			d->nchild--;
			put_table(k, c);
		}
	}
	if (!need || d->nchild || d->nmeta)
		return false;
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (pte_load(d->p, i) || (d->meta && d->meta[i].kind))
			return false;
	return true;
}

void cm_unmap(struct cm_cursor *k, uint64_t a, uint64_t b)
{
	struct mark_arg x = { NULL, a };
	over(k, k->cover, a, b, mark_at, &x);
	prune(k, k->cover, a, b, false);
}

/* cm_zap's visitor: drop a mapped entry's frames (a huge page only partly inside is split first); statuses stay. */
static enum cm_step zap_at(struct cm_cursor *k, const struct cm_at *at, void *arg)
{
	(void)arg;
	struct cm_pt *d = at->d;
	uint64_t e = get(k, d, at->i);
	if (pte_is_table(e, d->level))
		return CM_DOWN;
	if (!pte_mapped(e))
		return CM_NEXT;
	if (d->level > 1 && partial(at)) /* part of a huge page: split it first */
		return CM_DOWN;
	struct cm_meta m = cm_meta_get(d, at->i);
	set(k, d, at->i, 0);
	cm_meta_set(d, at->i, &m);
	unsigned n = d->level == 2 ? PT_ENTRIES : 1;
	for (unsigned j = 0; j < n; j++) {
		put_frame(k, PTE_PFN(e) + j);
		if (e & PTE_P)
			flush_page(k, at->lo + j * PAGE_SIZE);
	}
	return CM_NEXT;
}

void cm_zap(struct cm_cursor *k, uint64_t a, uint64_t b) { over(k, k->cover, a, b, zap_at, NULL); }

/* cm_clean's visitor: clear the accessed and dirty bits of a present frame (not the zero page). */
static enum cm_step clean_at(struct cm_cursor *k, const struct cm_at *at, void *arg)
{
	(void)arg;
	struct cm_pt *d = at->d;
	uint64_t e = get(k, d, at->i);
	if (pte_is_table(e, d->level))
		return CM_DOWN;
	if ((e & PTE_P) && (e & (PTE_A | PTE_D)) && PTE_PFN(e) != k->mm->as->sys->zero_pfn) {
		set(k, d, at->i, e & ~(PTE_A | PTE_D));
		k->fl.sync = true;
		for (unsigned j = 0; j < (d->level == 2 ? PT_ENTRIES : 1u); j++)
			flush_page(k, at->lo + j * PAGE_SIZE);
	}
	return CM_NEXT;
}

void cm_clean(struct cm_cursor *k, uint64_t a, uint64_t b) { over(k, k->cover, a, b, clean_at, NULL); }

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

/* cm_walk's visitor: each run of one status, at the level where it lives (k NULL: a host walk). */
struct walk_arg {
	cm_walk_fn fn;
	void *arg;
};

static enum cm_step walk_at(struct cm_cursor *k, const struct cm_at *at, void *arg)
{
	const struct walk_arg *w = arg;
	struct cm_pt *d = at->d;
	uint64_t e = k ? get(k, d, at->i) : pte_load(d->p, at->i);
	if (pte_is_table(e, d->level))
		return CM_DOWN;
	struct cm_meta m = cm_meta_get(d, at->i);
	uint64_t from = MAX(at->a, at->lo);
	if (m.kind != CM_INVALID)
		m.pgoff += (from - at->lo) >> PAGE_SHIFT;
	return w->fn(w->arg, from, MIN(at->b, at->hi), &m, e, d->level) ? CM_NEXT : CM_STOP;
}

void cm_walk(struct cm_cursor *k, uint64_t a, uint64_t b, cm_walk_fn fn, void *arg)
{
	struct walk_arg w = { fn, arg };
	over(k, k->cover, MAX(a, k->cover->base), b, walk_at, &w);
}

void cm_host_walk(struct cm_as *mm, uint64_t a, uint64_t b, cm_walk_fn fn, void *arg)
{
	struct walk_arg w = { fn, arg };
	over(NULL, mm->root, a, b, walk_at, &w);
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

/* cm_set's visitor: a status wholly inside is rewritten by f (a partial one pushed down first), its entry's bits after it. */
struct set_arg {
	cm_set_fn f;
	void *arg;
};

static enum cm_step set_at(struct cm_cursor *k, const struct cm_at *at, void *arg)
{
	const struct set_arg *x = arg;
	struct cm_pt *d = at->d;
	uint64_t e = get(k, d, at->i);
	if (pte_is_table(e, d->level))
		return CM_DOWN;
	struct cm_meta m = cm_meta_get(d, at->i);
	if (m.kind == CM_INVALID && !pte_mapped(e))
		return CM_NEXT;
	if (partial(at)) /* part of the entry: push down */
		return CM_DOWN;
	x->f(x->arg, &m);
	cm_meta_set(d, at->i, &m);
	reprotect(k, d, at->i, at->lo, &m);
	return CM_NEXT;
}

void cm_set(struct cm_cursor *k, uint64_t a, uint64_t b, cm_set_fn f, void *arg)
{
	struct set_arg x = { f, arg };
	over(k, k->cover, a, b, set_at, &x);
}
