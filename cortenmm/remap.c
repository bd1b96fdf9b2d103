/* remap.c: CortenMM's mremap: Linux's rules (kmm/maps.h) over the mappings the statuses make, in one cursor. */
#include "cortenmm/cm.h"
#include "kmm/maps.h"

/* unlock_fn: cm_set's change for the mapping MREMAP_DONTUNMAP leaves behind: unlocked, and (arg non-NULL) without anon_vma. */
static void unlock_fn(void *arg, struct cm_meta *m)
{
	m->flags &= ~VR_LOCK_MASK;
	if (arg)
		m->av = CM_AV_NONE;
}

/* unguard_fn: the guard markers of the old pages went with them. */
static void unguard_fn(void *arg, struct cm_meta *m)
{
	(void)arg;
	m->flags &= ~CM_GUARD;
}

/*
 * Move [addr, addr + len) (one mapping) to new_addr, grown to new_len:
 * statuses, then frames, then the old range goes (dontunmap: it stays,
 * empty and unlocked, and without anon_vma if it was the whole mapping).
 */
static void move(struct cm_cursor *k, uint64_t addr, uint64_t len, uint64_t new_addr, uint64_t new_len, bool dontunmap)
{
	if (!len) { /* old_len 0 duplicates a shared mapping: a second mapping of the same pages */
		uint64_t pte;
		struct cm_meta m = cm_query(k, addr, &pte);
		m.av = CM_AV_NONE;
		cm_mark(k, new_addr, new_addr + new_len, &m);
		return;
	}
	struct cm_runs rs = cm_runs_of(k, addr, addr + len);
	/* copy_vma: unfaulted anonymous memory takes the pgoff of its new place, to merge more easily. */
	uint64_t es, ee;
	cm_extent_around(k, addr, &es, &ee);
	bool unfaulted = rs.n && rs.r[0].m.kind == CM_ANON && !(rs.r[0].m.flags & VR_SHARED) && !cm_any_av(k, es, ee);
	struct cm_meta last = { 0 };
	for (uint32_t i = 0; i < rs.n; i++) {
		struct cm_meta m = rs.r[i].m;
		if (unfaulted)
			m.pgoff = (new_addr + (rs.r[i].lo - addr)) >> PAGE_SHIFT;
		cm_mark(k, new_addr + (rs.r[i].lo - addr), new_addr + (rs.r[i].hi - addr), &m);
		last = m;
		last.pgoff += (rs.r[i].hi - rs.r[i].lo) >> PAGE_SHIFT;
	}
	last.flags &= ~CM_GUARD; /* the last page's marker is its own */
	if (new_len > len && last.kind != CM_INVALID)
		cm_mark(k, new_addr + len, new_addr + new_len, &last);
	/* The frames move with their pages (move_page_tables); the old entries go. */
	for (uint32_t i = 0; i < rs.n; i++) {
		if (!pte_mapped(rs.r[i].pte))
			continue;
		for (uint64_t p = rs.r[i].lo; p < rs.r[i].hi; p += PAGE_SIZE) {
			uint64_t pte;
			cm_query(k, p, &pte);
			if (!pte_mapped(pte))
				continue;
			pm_get(k->mm->as->sys->pm, PTE_PFN(pte) + ((pte & PTE_PS) ? (p >> PAGE_SHIFT) & 511 : 0));
			cm_map(k, new_addr + (p - addr), PTE_PFN(pte) + ((pte & PTE_PS) ? (p >> PAGE_SHIFT) & 511 : 0),
			       pte & ~(PTE_PFN_MASK | PTE_PS));
		}
	}
	xfree(rs.r);
	if (dontunmap) {
		cm_zap(k, addr, addr + len);
		cm_set(k, addr, addr + len, unguard_fn, NULL);
		cm_set(k, es, ee, unlock_fn, es == addr && ee == addr + len ? k : NULL); /* the whole mapping (vm_flags_clear) */
		return;
	}
	cm_unmap(k, addr, addr + len);
}

/* ---- the mappings as kmm's rules see them (kmm/maps.h), inside one cursor ---- */

struct cctx {
	struct kmm_ctx x; /* first: the rules hand it back */
	struct cm_cursor k;
	struct cm_as *mm;
	bool locked; /* k is held (relocate lets it go and takes it again) */
};

static struct cm_cursor *cur(struct kmm_ctx *x) { return &((struct cctx *)x)->k; }

/* c_lookup: the status of addr; a mapping's extent is read only where the rules need it (c_prep, c_expand). */
static bool c_lookup(struct kmm_ctx *x, uint64_t addr, struct kmm_map *m)
{
	uint64_t pte;
	struct cm_meta s = cm_query(cur(x), addr, &pte);
	*m = (struct kmm_map){ cm_attr(&s, addr, addr + PAGE_SIZE), NULL };
	return s.kind != CM_INVALID;
}

/* c_find: the first mapping in [addr, limit): where it starts there, and its whole extent above. */
static bool c_find(struct kmm_ctx *x, uint64_t addr, uint64_t limit, struct kmm_map *m)
{
	struct cm_cursor *k = cur(x);
	if (addr >= limit)
		return false;
	struct cm_runs rs = cm_runs_of(k, addr, limit);
	uint32_t i = 0;
	while (i < rs.n && rs.r[i].m.kind == CM_INVALID)
		i++;
	bool found = i < rs.n;
	if (found)
		m->a = cm_attr(&rs.r[i].m, rs.r[i].lo, 0);
	xfree(rs.r);
	if (found) {
		m->a.end = cm_extent_end(k, m->a.start, k->end); /* as Linux's VMA: it may reach beyond limit */
		m->v = NULL;
	}
	return found;
}

/* c_prep: check_prep_vma, with the mapping's end read from the statuses only when a check needs it. */
static long c_prep(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len,
		   bool moves)
{
	(void)m;
	if (new_len <= old_len && !moves)
		return 0; /* nothing to check: no walk */
	uint64_t pte;
	struct cm_meta s = cm_query(cur(x), addr, &pte);
	struct vr_attr a = cm_attr(&s, addr, cm_extent_end(cur(x), addr, cur(x)->end));
	return vr_mremap_prep(&a, addr, old_len, new_len, moves);
}

static void c_unmap(struct kmm_ctx *x, uint64_t start, uint64_t end) { cm_unmap(cur(x), start, end); }

/* c_expand: grow in place when the mapping ends at the old end and the space above is free: the new pages continue it. */
static bool c_expand(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len)
{
	(void)m;
	struct cm_cursor *k = cur(x);
	uint64_t delta = new_len - old_len, vend = cm_extent_end(k, addr, k->end);
	if (addr + old_len != vend || vend + delta > VM_TASK_SIZE || !cm_all_free(k, vend, vend + delta))
		return false;
	uint64_t pte;
	struct cm_meta s = cm_query(k, vend - PAGE_SIZE, &pte);
	s.pgoff += 1;
	s.flags &= ~CM_GUARD; /* the last page's marker is its own */
	cm_mark(k, vend, vend + delta, &s);
	return true;
}

static long c_move(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t len, uint64_t new_addr,
		   uint64_t new_len)
{
	(void)m;
	move(cur(x), addr, len, new_addr, new_len, x->dontunmap);
	return (long)new_addr;
}

/*
 * c_relocate: a new place from this core's slice; the cursor must cover it
 * too, so it is let go and taken again over both, and the mapping checked
 * again (another core may have changed it meanwhile: -EAGAIN).
 */
static long c_relocate(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len)
{
	struct cctx *c = (struct cctx *)x;
	uint64_t elo, ehi, pte;
	cm_unlock(&c->k);
	c->locked = false;
	struct cm_cursor t;
	uint64_t na = cm_place(&t, c->mm, x->cpu, 0, new_len);
	if (!na)
		return -ENOMEM;
	cm_unlock(&t);
	cm_lock_around(&c->k, c->mm, x->cpu, MIN(addr, na), MAX(addr + old_len, na + new_len), &elo, &ehi);
	c->locked = true;
	if (!cm_all_free(&c->k, na, na + new_len) || cm_query(&c->k, addr, &pte).kind == CM_INVALID ||
	    c_prep(x, m, addr, old_len, new_len, false))
		return -EAGAIN;
	return c_move(x, m, addr, old_len, na, new_len);
}

static const struct kmm_maps_ops cops = {
	.handles = false,
	.lookup = c_lookup,
	.find = c_find,
	.prep = c_prep,
	.unmap = c_unmap,
	.expand = c_expand,
	.move = c_move,
	.relocate = c_relocate,
};

long cm_mremap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr)
{
	struct cctx c = { .x = { &cops, NULL, cpu, false }, .mm = cm_of(as), .locked = true };
	bool target = vr_mremap_target(flags, new_addr);
	/* One cursor over everything the call may touch: source, growth, and a fixed target. */
	uint64_t lo = addr, hi = MAX(addr + old_len, addr + new_len), elo, ehi;
	if (target) { /* a fixed target, or MREMAP_DONTUNMAP's nonzero hint (with the guard gap above it, for the hint rule) */
		lo = MIN(lo, new_addr);
		hi = MAX(hi, new_addr + new_len + ((flags & VM_MREMAP_FIXED) ? 0 : VM_STACK_GUARD_GAP));
	}
	cm_lock_around(&c.k, c.mm, cpu, lo, MIN(hi, VM_TASK_SIZE), &elo, &ehi);
	long r = kmm_mremap(&c.x, addr, old_len, new_len, flags, new_addr);
	if (c.locked)
		cm_unlock(&c.k);
	return r;
}
