/* fork.c: CortenMM's fork: the page table and its statuses copied, private frames made copy-on-write where Linux would copy them. */
#include "cortenmm/cm.h"

/*
 * Ranges whose frames fork copies: Linux copies the entries only of VMAs
 * with an anon_vma (the rest refault in the child), so here: the extents
 * (as Linux's VMAs) in which some page has had a private frame.
 */
struct copyset {
	uint64_t *lo, *hi;
	uint32_t n, cap;
};

static bool in_copyset(const struct copyset *cs, uint64_t va)
{
	uint32_t a = 0, b = cs->n;
	while (a < b) {
		uint32_t m = (a + b) / 2;
		if (cs->hi[m] <= va)
			a = m + 1;
		else
			b = m;
	}
	return a < cs->n && cs->lo[a] <= va;
}

static void build_copyset(struct cm_cursor *k, struct copyset *cs)
{
	struct cm_runs rs = cm_runs_of(k, 0, VM_TASK_SIZE);
	for (uint32_t i = 0; i < rs.n;) {
		if (rs.r[i].m.kind == CM_INVALID) {
			i++;
			continue;
		}
		uint32_t j = i;
		bool av = false;
		do
			av |= rs.r[j].m.av != 0;
		while (++j < rs.n && cm_continues(&rs.r[j - 1], &rs.r[j]));
		if (av) {
			if (cs->n == cs->cap) {
				cs->cap = cs->cap ? cs->cap * 2 : 16;
				cs->lo = xrealloc(cs->lo, sizeof(uint64_t) * cs->cap);
				cs->hi = xrealloc(cs->hi, sizeof(uint64_t) * cs->cap);
			}
			cs->lo[cs->n] = rs.r[i].lo;
			cs->hi[cs->n++] = rs.r[j - 1].hi;
		}
		i = j;
	}
	xfree(rs.r);
}

static void copy_rec(struct cm_cursor *k, struct cm_as *child, struct cm_pt *pd, struct cm_pt *cd,
		     const struct copyset *cs)
{
	struct vm_sys *sys = k->mm->as->sys;
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = pte_load(pd->p, i);
		struct cm_meta m = cm_meta_get(pd, i);
		if (!e && m.kind == CM_INVALID)
			continue;
		if (m.kind != CM_INVALID) {
			if (m.flags & VR_DONTCOPY)
				continue; /* MADV_DONTFORK: the child does not get it, and the parent's pages stay as they are */
			/* anon_vma_fork: the child's mapping has an anon_vma, chained to the parent's, if the parent's had one. */
			m.av = in_copyset(cs, pd->base + i * LEVEL_SIZE(pd->level)) ? CM_AV_FORKED : CM_AV_NONE;
			m.flags &= ~VR_LOCK_MASK; /* locks are not inherited */
			if (m.flags & VR_WIPEONFORK)
				m.av = CM_AV_NONE; /* a clean slate: no pages (guard markers stay, in the status) */
			cm_meta_set(cd, i, &m);
			if (m.file)
				cm_file_hold(child, m.file);
			if (m.flags & VR_WIPEONFORK)
				continue;
		}
		if (pte_is_table(e, pd->level)) {
			struct cm_pt *pc = cm_pt_of(pm_pt(sys->pm, PTE_PFN(e)));
			struct cm_pt *cc = cm_pt_new(child, k->cpu, pd->level - 1, cd);
			cc->base = pc->base;
			pte_store(cd->p, i, PTE_MK(cc->p->pfn, PTE_P | PTE_RW | PTE_US));
			cd->nchild++;
			pte_access(k->cpu->core, pd->p, i, COH_READ);
			copy_rec(k, child, pc, cc, cs);
			continue;
		}
		if (!pte_mapped(e) || !in_copyset(cs, pd->base + i * LEVEL_SIZE(pd->level)))
			continue;
		unsigned n = pd->level == 2 ? PT_ENTRIES : 1;
		pte_access(k->cpu->core, pd->p, i, COH_READ);
		if (!(m.flags & VR_SHARED) && (e & PTE_RW)) { /* copy-on-write: read-only on both sides */
			e &= ~PTE_RW;
			pte_access(k->cpu->core, pd->p, i, COH_WRITE);
			pte_store(pd->p, i, e);
			cm_flush_range(k, pd->base + i * LEVEL_SIZE(pd->level), n);
		}
		for (unsigned j = 0; j < n; j++)
			if (PTE_PFN(e) + j != sys->zero_pfn)
				pm_get(sys->pm, PTE_PFN(e) + j);
		pte_access(k->cpu->core, cd->p, i, COH_WRITE);
		pte_store(cd->p, i, e);
	}
}

/*
 * The child's slices carry on where the parent's stopped: below each core's
 * bump pointer lie the parent's mappings, now the child's too. (A core's
 * pointer may move on during the copy; a value read before the move is
 * still free in the child, whose copy was made under the whole-space lock.)
 */
static void copy_slices(struct cm_as *parent, struct cm_as *child)
{
	for (uint32_t i = 0; i < parent->as->sys->sim->o.ncores; i++)
		atomic_store_explicit(&child->slice_next[i],
				      atomic_load_explicit(&parent->slice_next[i], memory_order_relaxed),
				      memory_order_relaxed);
}

int cm_fork(struct vm_as *parent, struct vm_as *child, struct mmu_cpu *cpu)
{
	struct cm_cursor k;
	struct copyset cs = { 0 };
	cm_lock(&k, cm_of(parent), cpu, 0, VM_TASK_SIZE);
	build_copyset(&k, &cs);
	copy_rec(&k, cm_of(child), cm_of(parent)->root, cm_of(child)->root, &cs);
	copy_slices(cm_of(parent), cm_of(child));
	cm_unlock(&k);
	xfree(cs.lo);
	xfree(cs.hi);
	return 0;
}

