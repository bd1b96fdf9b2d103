/* runs.c: CortenMM's statuses read as Linux would see them: runs of one status, the mappings (VMAs) they make, whether a range is free, and the files statuses name. */
#include "cortenmm/cm.h"

/* ---- reading runs of statuses ---- */

bool cm_take_run(void *arg, uint64_t lo, uint64_t hi, const struct cm_meta *m, uint64_t pte, int level)
{
	(void)level;
	struct cm_runs *rs = arg;
	if (rs->n == rs->cap)
		rs->r = xrealloc(rs->r, sizeof(*rs->r) * (rs->cap = rs->cap ? rs->cap * 2 : 32));
	rs->r[rs->n++] = (struct cm_run){ lo, hi, pte, *m };
	return !rs->max || rs->n < rs->max;
}

struct cm_runs cm_runs_of(struct cm_cursor *k, uint64_t a, uint64_t b)
{
	struct cm_runs rs = { 0 };
	cm_walk(k, a, b, cm_take_run, &rs);
	return rs;
}

/* May mappings with anon_vma states a and b be one VMA (is_mergeable_anon_vma: one has none and the other a chain of one)? */
static bool av_ok(uint32_t a, uint32_t b)
{
	return a == b || (a == CM_AV_NONE && b == CM_AV_OWN) || (b == CM_AV_NONE && a == CM_AV_OWN);
}

bool cm_continues(const struct cm_run *p, const struct cm_run *q)
{
	return p->hi == q->lo && p->m.kind == q->m.kind && p->m.kind != CM_INVALID &&
	       ((p->m.flags ^ q->m.flags) & ~CM_GUARD) == 0 &&
	       p->m.file == q->m.file && q->m.pgoff == p->m.pgoff + ((p->hi - p->lo) >> PAGE_SHIFT) &&
	       av_ok(p->m.av, q->m.av);
}

bool cm_all_free(struct cm_cursor *k, uint64_t a, uint64_t b)
{
	struct cm_runs rs = cm_runs_of(k, a, b);
	bool free = true;
	for (uint32_t i = 0; i < rs.n && free; i++)
		free = rs.r[i].m.kind == CM_INVALID && !pte_mapped(rs.r[i].pte);
	xfree(rs.r);
	return free;
}

/*
 * lock_around: lock a cursor over a range that holds the whole mappings (as
 * Linux's VMAs would be) around [a, b): *elo is where the mapping holding
 * a starts (a if none), *ehi where the one holding b - 1 ends (b if none).
 * Widens the locked range until both ends are inside it.
 */
void cm_lock_around(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t b,
			uint64_t *elo, uint64_t *ehi)
{
	uint64_t w = MAX(b - a, HUGE_2M);
	for (;;) {
		uint64_t lo = a > w ? a - w : 0, hi = b + w < b || b + w > VM_TASK_SIZE ? VM_TASK_SIZE : b + w;
		cm_lock(k, mm, cpu, lo, hi);
		struct cm_runs rs = cm_runs_of(k, lo, hi);
		uint32_t ia = 0, ib = 0;
		for (uint32_t i = 0; i < rs.n; i++) {
			if (rs.r[i].lo <= a && a < rs.r[i].hi)
				ia = i;
			if (rs.r[i].lo <= b - 1 && b - 1 < rs.r[i].hi)
				ib = i;
		}
		uint32_t s = ia, e = ib;
		if (rs.n && rs.r[ia].m.kind != CM_INVALID)
			while (s > 0 && cm_continues(&rs.r[s - 1], &rs.r[s]))
				s--;
		if (rs.n && rs.r[ib].m.kind != CM_INVALID)
			while (e + 1 < rs.n && cm_continues(&rs.r[e], &rs.r[e + 1]))
				e++;
		bool low_open = rs.n && s == 0 && rs.r[0].m.kind != CM_INVALID && lo > 0;
		bool high_open = rs.n && e == rs.n - 1 && rs.r[e].m.kind != CM_INVALID && hi < VM_TASK_SIZE;
		*elo = rs.n && rs.r[ia].m.kind != CM_INVALID ? rs.r[s].lo : a;
		*ehi = rs.n && rs.r[ib].m.kind != CM_INVALID ? rs.r[e].hi : b;
		xfree(rs.r);
		if (!low_open && !high_open)
			return;
		cm_unlock(k);
		w *= 8;
	}
}

/* The x86 hint rule: nothing may start in the stack guard gap above a grows-down mapping. */
bool cm_guard_ok(struct cm_cursor *k, uint64_t a, uint64_t len)
{
	struct cm_runs rs = { .max = 0 };
	cm_walk(k, a + len, MIN(a + len + VM_STACK_GUARD_GAP, VM_TASK_SIZE), cm_take_run, &rs);
	bool ok = true;
	for (uint32_t i = 0; i < rs.n && ok; i++)
		if (rs.r[i].m.kind != CM_INVALID && (rs.r[i].m.flags & VR_GROWSDOWN))
			ok = false;
		else if (rs.r[i].m.kind != CM_INVALID)
			break;
	xfree(rs.r);
	return ok;
}

/* End of the mapping (as Linux's VMA would end) that holds addr, scanning [addr, limit). */
uint64_t cm_extent_end(struct cm_cursor *k, uint64_t addr, uint64_t limit)
{
	struct cm_runs rs = cm_runs_of(k, addr, limit);
	uint64_t end = addr;
	for (uint32_t i = 0; i < rs.n; i++) {
		if (rs.r[i].m.kind == CM_INVALID || (i && !cm_continues(&rs.r[i - 1], &rs.r[i])))
			break;
		end = rs.r[i].hi;
	}
	xfree(rs.r);
	return end;
}

/* The mapping (as a VMA) holding va, within the cursor's range. */
void cm_extent_around(struct cm_cursor *k, uint64_t va, uint64_t *s, uint64_t *e)
{
	struct cm_runs rs = cm_runs_of(k, k->start, k->end);
	*s = va;
	*e = va + PAGE_SIZE;
	for (uint32_t i = 0; i < rs.n; i++) {
		if (!(rs.r[i].lo <= va && va < rs.r[i].hi))
			continue;
		uint32_t a = i, b = i;
		while (a > 0 && cm_continues(&rs.r[a - 1], &rs.r[a]))
			a--;
		while (b + 1 < rs.n && cm_continues(&rs.r[b], &rs.r[b + 1]))
			b++;
		*s = rs.r[a].lo;
		*e = rs.r[b].hi;
		break;
	}
	xfree(rs.r);
}

bool cm_any_av(struct cm_cursor *k, uint64_t a, uint64_t b)
{
	struct cm_runs rs = cm_runs_of(k, a, b);
	bool av = false;
	for (uint32_t i = 0; i < rs.n && !av; i++)
		av = rs.r[i].m.av != 0 || (pte_mapped(rs.r[i].pte) && rs.r[i].m.kind == CM_ANON);
	xfree(rs.r);
	return av;
}

void cm_file_hold(struct cm_as *mm, struct vm_file *f)
{
	pthread_mutex_lock(&mm->files_mu);
	for (uint32_t i = 0; i < mm->nfiles; i++)
		if (mm->files[i] == f) {
			pthread_mutex_unlock(&mm->files_mu);
			return;
		}
	mm->files = xrealloc(mm->files, sizeof(*mm->files) * (mm->nfiles + 1));
	mm->files[mm->nfiles++] = f;
	vm_file_get(f);
	pthread_mutex_unlock(&mm->files_mu);
}


struct vr_attr cm_attr(const struct cm_meta *m, uint64_t lo, uint64_t hi)
{
	return (struct vr_attr){ lo, hi, m->flags & ~CM_GUARD, m->file, m->pgoff, m->av, 0 };
}
