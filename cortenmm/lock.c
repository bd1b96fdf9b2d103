/* lock.c: CortenMM's operations for the calls beyond mapping: the query of one mapping, lock states (mlock, mlockall) and unmapping a file's pages, each one cursor. */
#include "cortenmm/cm.h"

/* map_of: the mapping [lo, hi) with status m, as vm/ sees it. */
static struct vm_map map_of(const struct cm_meta *m, uint64_t lo, uint64_t hi)
{
	return vr_map_of(lo, hi, m->flags & ~CM_GUARD, m->kind == CM_FILE ? m->file : NULL, m->pgoff);
}

bool cm_query_op(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, struct vm_map *out)
{
	struct cm_as *mm = cm_of(as);
	struct cm_cursor k;
	uint64_t page = addr & ~(PAGE_SIZE - 1), elo, ehi, pte;
	if (page >= VM_TASK_SIZE)
		return false;
	/* The mapping holding addr, whole (as Linux's VMA would be). */
	cm_lock_around(&k, mm, cpu, page, page + PAGE_SIZE, &elo, &ehi);
	struct cm_meta m = cm_query(&k, page, &pte);
	if (m.kind != CM_INVALID) {
		m.pgoff -= (page - elo) >> PAGE_SHIFT;
		*out = map_of(&m, elo, ehi);
		cm_unlock(&k);
		return true;
	}
	cm_unlock(&k);
	/* Else the first one above: look (allocating nothing) from addr to the top. */
	cm_lock_look(&k, mm, cpu, page, VM_TASK_SIZE);
	struct cm_runs rs = { .max = 0 };
	cm_walk(&k, page, VM_TASK_SIZE, cm_take_run, &rs);
	bool found = false;
	for (uint32_t i = 0; i < rs.n && !found; i++) {
		if (rs.r[i].m.kind == CM_INVALID)
			continue;
		uint32_t j = i;
		while (j + 1 < rs.n && cm_continues(&rs.r[j], &rs.r[j + 1]))
			j++;
		*out = map_of(&rs.r[i].m, rs.r[i].lo, rs.r[j].hi);
		found = true;
	}
	xfree(rs.r);
	cm_unlock(&k);
	return found;
}

/* lock_fn: cm_set's change of the lock bits (arg: the VR_LOCK_MASK bits to have). */
static void lock_fn(void *arg, struct cm_meta *m)
{
	m->flags = (m->flags & ~VR_LOCK_MASK) | *(uint32_t *)arg;
}

int cm_mlock(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, unsigned to)
{
	struct cm_cursor k;
	bool all = to & VM_LOCK_ALL;
	uint64_t a = all ? 0 : addr, b = all ? VM_TASK_SIZE : addr + len;
	uint32_t bits = vr_lock_flags(to);
	if (all)
		cm_lock_look(&k, cm_of(as), cpu, a, b);
	else
		cm_lock(&k, cm_of(as), cpu, a, b);
	struct cm_runs rs = cm_runs_of(&k, a, b);
	uint64_t cur = a; /* covered up to here with no hole */
	for (uint32_t i = 0; i < rs.n && (all || cur < b); i++) {
		const struct cm_run *r = &rs.r[i];
		if (all && r->m.kind == CM_INVALID)
			continue;
		if (r->m.kind == CM_INVALID || (!all && r->lo > cur))
			break; /* a hole: what came before it stays changed */
		if ((r->m.flags & VR_LOCK_MASK) != bits)
			cm_set(&k, MAX(r->lo, a), MIN(r->hi, b), lock_fn, &bits);
		cur = r->hi;
	}
	int r = all || cur >= b ? 0 : -ENOMEM;
	xfree(rs.r);
	cm_unlock(&k);
	return r;
}

void cm_unmap_file(struct vm_as *as, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi, bool even_cows)
{
	struct cm_cursor k;
	/* The file's mappings may be anywhere: a cursor over the whole space that allocates nothing. */
	cm_lock_look(&k, cm_of(as), cpu, 0, VM_TASK_SIZE);
	struct cm_runs rs = cm_runs_of(&k, 0, VM_TASK_SIZE);
	for (uint32_t i = 0; i < rs.n; i++) {
		const struct cm_run *r = &rs.r[i];
		uint64_t n = (r->hi - r->lo) >> PAGE_SHIFT;
		if (r->m.kind != CM_FILE || r->m.file != f || hi <= r->m.pgoff || lo >= r->m.pgoff + n)
			continue;
		uint64_t s = lo > r->m.pgoff ? lo - r->m.pgoff : 0, e = MIN(hi - r->m.pgoff, n); /* pages into the run */
		for (uint64_t p = r->lo + (s << PAGE_SHIFT); p < r->lo + (e << PAGE_SHIFT); p += PAGE_SIZE) {
			uint64_t pte;
			cm_query(&k, p, &pte);
			if (!pte_mapped(pte))
				continue;
			/* without even_cows, only the page-cache pages go: private copies stay */
			uint64_t pfn = PTE_PFN(pte) + ((pte & PTE_PS) ? (p >> PAGE_SHIFT) & 511 : 0);
			if (even_cows || vm_frame_is_file(as->sys, pfn))
				cm_zap(&k, p, p + PAGE_SIZE);
		}
	}
	xfree(rs.r);
	cm_unlock(&k);
}
