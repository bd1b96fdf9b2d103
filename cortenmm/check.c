/* check.c: CortenMM's invariants over a range: each PT page's descriptor, counts and locks, statuses that agree with the entries they describe, and no stray page reachable from the root. */
#include "cortenmm/cm.h"
#include "kmm/check.h"

struct ck {
	struct cm_as *mm;
	uint64_t start, end;
	char *why;
	size_t n;
};

/* status_ok: a status is one of the kinds, with a file exactly when it is a file mapping, and a known anon_vma state. */
static bool status_ok(const struct cm_meta *m)
{
	if (m->kind == CM_INVALID)
		return true;
	return (m->kind == CM_ANON || m->kind == CM_FILE) && !m->file == (m->kind == CM_ANON) && m->av <= CM_AV_FORKED &&
	       !(m->flags & ~(VR_PROT | VR_SHARED | VR_ACCOUNT | VR_NORESERVE | VR_GROWSDOWN | VR_NOHUGEPAGE | VR_HUGEPAGE |
			      VR_LOCKED | VR_RAND | VR_SEQ | VR_DONTCOPY | VR_WIPEONFORK | VR_DONTDUMP | VR_MERGEABLE |
			      VR_LOCKONFAULT | CM_GUARD));
}

/*
 * check_pt: the PT page d, reached from `parent` (NULL: the root) for the
 * entry that maps from base at `level`, and the part of its subtree that
 * meets the range. Its descriptor: the page's own, at that level and base,
 * under that parent, of this space, not stray, no lock held (no cursor is
 * open); nchild and nmeta count its table entries and its statuses over
 * all 512 entries; a table entry has no status. In the range: every child
 * table likewise, and every mapped leaf has a status that allows it
 * (kmm_check_entry: inside it, present exactly when it allows access,
 * rights within it, a shared page on the file's cached frame, a writable
 * private page on a frame of its own).
 */
static int check_pt(struct ck *c, const struct cm_pt *d, const struct cm_pt *parent, int level, uint64_t base)
{
	if (!d || d->p->desc != d || d->parent != parent || d->level != level || d->base != base || d->mm != c->mm)
		return kmm_fail(c->why, c->n, "cortenmm: the %s page for %#llx has no descriptor, or one of another page, "
				"level, address, parent or space", pte_level_name(level), (unsigned long long)base);
	if (atomic_load(&d->stray))
		return kmm_fail(c->why, c->n, "cortenmm: the stray %s page %#llx is reachable from the root",
				pte_level_name(level), (unsigned long long)d->p->pfn);
	if (lk_rwsem_write_held(&d->rw) || d->rw.readers || lk_mcs_held(&d->mcs))
		return kmm_fail(c->why, c->n, "cortenmm: the %s page for %#llx is still locked with no cursor open",
				pte_level_name(level), (unsigned long long)base);
	uint32_t nchild = 0, nmeta = 0;
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = pte_load(d->p, i);
		struct cm_meta m = cm_meta_get(d, i);
		if (!status_ok(&m))
			return kmm_fail(c->why, c->n, "cortenmm: entry %u of the %s page for %#llx has a malformed status", i,
					pte_level_name(level), (unsigned long long)base);
		nmeta += m.kind != CM_INVALID;
		if (pte_is_table(e, level)) {
			nchild++;
			if (m.kind != CM_INVALID)
				return kmm_fail(c->why, c->n, "cortenmm: entry %u of the %s page for %#llx points to a table "
						"and has a status", i, pte_level_name(level), (unsigned long long)base);
		} else if (e && !pte_mapped(e)) {
			return kmm_fail(c->why, c->n, "cortenmm: entry %u of the %s page for %#llx is %#llx: neither empty, "
					"mapped nor a table", i, pte_level_name(level), (unsigned long long)base,
					(unsigned long long)e);
		}
	}
	if (nchild != d->nchild || nmeta != d->nmeta)
		return kmm_fail(c->why, c->n, "cortenmm: the %s page for %#llx counts %u children and %u statuses, "
				"it has %u and %u", pte_level_name(level), (unsigned long long)base, d->nchild, d->nmeta,
				nchild, nmeta);
	uint64_t span = LEVEL_SIZE(level);
	for (unsigned i = base < c->start ? (unsigned)((c->start - base) / span) : 0; i < PT_ENTRIES; i++) {
		uint64_t lo = base + i * span, e = pte_load(d->p, i);
		if (lo >= c->end)
			break;
		if (pte_is_table(e, level)) {
			if (check_pt(c, cm_pt_of(pm_pt(c->mm->as->sys->pm, PTE_PFN(e))), d, level - 1, lo))
				return -1;
			continue;
		}
		if (!pte_mapped(e))
			continue;
		struct cm_meta m = cm_meta_get(d, i);
		struct vr_attr a = cm_attr(&m, lo, lo + span);
		if (m.kind == CM_INVALID)
			return kmm_fail(c->why, c->n, "cortenmm: the entry for %#llx maps frame %#llx with no status",
					(unsigned long long)lo, (unsigned long long)PTE_PFN(e));
		if (kmm_check_entry(c->mm->as->sys, &a, lo, level, e, c->why, c->n))
			return -1;
	}
	return 0;
}

int cm_check(struct vm_as *as, uint64_t start, uint64_t end, char *why, size_t n)
{
	struct ck c = { cm_of(as), start, end, why, n };
	return check_pt(&c, c.mm->root, NULL, as->sys->mmu->o.levels, 0);
}
