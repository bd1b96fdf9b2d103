/* calls.c: CortenMM's mmap, munmap, mprotect, madvise and brk: each one cursor over its range, Linux's results from the statuses. */
#include "cortenmm/cm.h"
#include "kmm/maps.h"

static struct cm_meta status_for(int prot, int flags, struct vm_file *f, uint64_t addr, uint64_t off)
{
	uint32_t vf = vr_mmap_flags(prot, flags);
	return (struct cm_meta){ .kind = f ? CM_FILE : CM_ANON, .file = f, .flags = vf,
				 .pgoff = kmm_mmap_pgoff(vf, f, off, addr) };
}

long cm_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
		    struct vm_file *f, uint64_t off)
{
	struct cm_as *mm = cm_of(as);
	struct cm_cursor k;
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) {
		cm_lock(&k, mm, cpu, addr >= PAGE_SIZE ? addr - PAGE_SIZE : addr, MIN(addr + len + PAGE_SIZE, VM_TASK_SIZE));
		if ((flags & VM_MAP_FIXED_NOREPLACE) && !cm_all_free(&k, addr, addr + len)) {
			cm_unlock(&k);
			return -EEXIST;
		}
	} else {
		addr = cm_place(&k, mm, cpu, addr, len);
		if (!addr)
			return -ENOMEM;
	}
	if (f)
		cm_file_hold(mm, f);
	struct cm_meta m = status_for(prot, flags, f, addr, off);
	m.flags |= vr_def_flags(as);
	/* Joining a mapping that had a private frame: Linux's merged VMA keeps its anon_vma. */
	struct cm_run me = { addr, addr + len, 0, m };
	uint64_t pte;
	if (addr >= PAGE_SIZE && addr - PAGE_SIZE >= k.start) {
		struct cm_run left = { addr - PAGE_SIZE, addr, 0, cm_query(&k, addr - PAGE_SIZE, &pte) };
		if (left.m.av && cm_continues(&left, &me))
			m.av = CM_AV_OWN;
	}
	if (addr + len < k.end) {
		struct cm_run right = { addr + len, addr + len + PAGE_SIZE, 0, cm_query(&k, addr + len, &pte) };
		if (right.m.av && cm_continues(&me, &right))
			m.av = CM_AV_OWN;
	}
	cm_mark(&k, addr, addr + len, &m);
	cm_unlock(&k);
	return (long)addr;
}

int cm_munmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct cm_cursor k;
	cm_lock(&k, cm_of(as), cpu, addr, addr + len);
	cm_unmap(&k, addr, addr + len);
	cm_unlock(&k);
	return 0;
}

struct prot_arg {
	int prot;
	bool has_av;
};

static void mprotect_fn(void *arg, struct cm_meta *m)
{
	struct prot_arg *a = arg;
	m->flags = vr_mprotect_flags(m->flags, a->prot, m->kind == CM_ANON && !(m->flags & VR_SHARED), a->has_av);
}

int cm_mprotect(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot)
{
	struct cm_cursor k;
	uint64_t end = addr + len;
	/*
	 * Only the range is locked, as CortenMM's mprotect does: whether a
	 * mapping ever had a private frame (Linux: its VMA's anon_vma) is the
	 * same on all of its pages (propagate_av), so the pages in the range
	 * tell it without looking at the rest of the mapping.
	 */
	cm_lock(&k, cm_of(as), cpu, addr, end);
	struct cm_runs rs = cm_runs_of(&k, addr, end);
	/* Linux changes the mappings from addr up to the first hole, then says ENOMEM. */
	uint64_t stop = addr;
	for (uint32_t i = 0; i < rs.n && rs.r[i].m.kind != CM_INVALID; i++)
		stop = rs.r[i].hi;
	/* Apply mapping by mapping: the accounting rule depends on whether the mapping ever faulted. */
	for (uint32_t i = 0; i < rs.n && rs.r[i].hi <= stop && rs.r[i].m.kind != CM_INVALID; i++) {
		struct prot_arg a = { prot, rs.r[i].m.av != 0 };
		cm_set(&k, rs.r[i].lo, rs.r[i].hi, mprotect_fn, &a);
	}
	xfree(rs.r);
	cm_unlock(&k);
	return stop < end ? -ENOMEM : 0;
}

static void madvise_fn(void *arg, struct cm_meta *m)
{
	m->flags = vr_madvise_flags(m->flags, *(int *)arg);
}

/* guard_fn: cm_set's change for MADV_GUARD_INSTALL (arg non-NULL) or _REMOVE. */
static void guard_fn(void *arg, struct cm_meta *m)
{
	m->flags = arg ? m->flags | CM_GUARD : m->flags & ~CM_GUARD;
}

/* advise_run: one advice over the run r (a part of one mapping) inside cursor k. 0 or -errno. */
static int advise_run(struct cm_cursor *k, const struct cm_run *r, int advice, uint64_t *av_page)
{
	int e = vr_advice_refused(r->m.flags, r->m.kind == CM_FILE, advice);
	if (e)
		return e;
	switch (advice) {
	case VM_MADV_DONTNEED:
	case VM_MADV_DONTNEED_LOCKED:
		cm_zap(k, r->lo, r->hi); /* statuses, and so guard markers, stay */
		break;
	case VM_MADV_FREE:
		cm_clean(k, r->lo, r->hi);
		break;
	case VM_MADV_GUARD_INSTALL:
		cm_zap(k, r->lo, r->hi); /* what was mapped goes */
		cm_set(k, r->lo, r->hi, guard_fn, k);
		if (r->m.kind == CM_ANON && !r->m.av && !*av_page)
			*av_page = r->lo; /* guard_install: the VMA gets an anon_vma */
		break;
	case VM_MADV_GUARD_REMOVE:
		cm_set(k, r->lo, r->hi, guard_fn, NULL);
		break;
	case VM_MADV_COLLAPSE: {
		uint64_t es, ee;
		cm_extent_around(k, r->lo, &es, &ee);
		if (!vr_collapse_ok(es, ee, r->m.flags, r->m.kind == CM_FILE))
			return -EINVAL;
		break; /* khugepaged's work, done or not as memory allows: the pages stay as they are here */
	}
	default:
		if (vr_changes_flags(advice))
			cm_set(k, r->lo, r->hi, madvise_fn, &advice);
	}
	/* WILLNEED, COLD and PAGEOUT change nothing here (kmm_advise says why). */
	return 0;
}

int cm_madvise(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice)
{
	struct cm_cursor k;
	uint64_t end = addr + len, elo, ehi;
	if (advice == VM_MADV_COLLAPSE) /* its rule looks at the whole mapping */
		cm_lock_around(&k, cm_of(as), cpu, addr, end, &elo, &ehi);
	else
		cm_lock(&k, cm_of(as), cpu, addr, end);
	struct cm_runs rs = cm_runs_of(&k, addr, end);
	int ret = 0, unmapped = 0;
	uint64_t av_page = 0;
	for (uint32_t i = 0; i < rs.n && !ret; i++) {
		if (rs.r[i].m.kind == CM_INVALID) {
			unmapped = -ENOMEM;
			continue;
		}
		ret = advise_run(&k, &rs.r[i], advice, &av_page);
	}
	xfree(rs.r);
	cm_unlock(&k);
	if (av_page)
		cm_propagate_av(cm_of(as), cpu, av_page);
	return ret ? ret : unmapped;
}

long cm_brk(struct vm_as *as, struct mmu_cpu *cpu, uint64_t brk)
{
	struct cm_as *mm = cm_of(as);
	lk_spin_lock(cpu->core, &mm->brk_lock); /* as->brk is process-wide */
	uint64_t oldbrk, newbrk;
	bool moved = false;
	struct cm_cursor k;
	switch (kmm_brk_plan(as, brk, &oldbrk, &newbrk)) {
	case KMM_BRK_REFUSE:
		break;
	case KMM_BRK_SAME:
		moved = true;
		break;
	case KMM_BRK_SHRINK: /* only if something is mapped there */
		cm_lock(&k, mm, cpu, newbrk, oldbrk);
		if (!cm_all_free(&k, newbrk, oldbrk)) {
			as->brk = brk;
			cm_unmap(&k, newbrk, oldbrk);
			moved = true;
		}
		cm_unlock(&k);
		break;
	case KMM_BRK_GROW: /* check_brk_limits, then do_brk_flags: the heap's status over the new pages */
		cm_lock(&k, mm, cpu, oldbrk, MIN(newbrk + PAGE_SIZE + VM_STACK_GUARD_GAP, VM_TASK_SIZE));
		if (cm_all_free(&k, oldbrk, MIN(newbrk + PAGE_SIZE, VM_TASK_SIZE)) &&
		    cm_guard_ok(&k, oldbrk, newbrk + PAGE_SIZE - oldbrk)) {
			struct cm_meta m = { .kind = CM_ANON, .flags = VR_BRK_FLAGS | vr_def_flags(as),
					     .pgoff = oldbrk >> PAGE_SHIFT };
			cm_mark(&k, oldbrk, newbrk, &m);
			moved = true;
		}
		cm_unlock(&k);
		break;
	}
	if (moved)
		as->brk = brk;
	long ret = (long)as->brk;
	lk_spin_unlock(cpu->core, &mm->brk_lock);
	return ret;
}

