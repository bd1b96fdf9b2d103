/* cm.c: designs `cortenmm-rw` and `cortenmm-adv`: every mm call is a cursor over its range; Linux's results emulated from per-PTE statuses. */
#include "cortenmm/cm.h"

#include <string.h>


/* ---- reading runs of statuses ---- */

/* A run: [lo, hi) of one status (pgoff is that of lo). */
struct run {
	uint64_t lo, hi, pte;
	struct cm_meta m;
};

struct runs {
	struct run *r;
	uint32_t n, cap;
	uint32_t max; /* stop after this many (0: all) */
};

static bool take_run(void *arg, uint64_t lo, uint64_t hi, const struct cm_meta *m, uint64_t pte, int level)
{
	(void)level;
	struct runs *rs = arg;
	if (rs->n == rs->cap)
		rs->r = xrealloc(rs->r, sizeof(*rs->r) * (rs->cap = rs->cap ? rs->cap * 2 : 32));
	rs->r[rs->n++] = (struct run){ lo, hi, pte, *m };
	return !rs->max || rs->n < rs->max;
}

static struct runs runs_of(struct cm_cursor *k, uint64_t a, uint64_t b)
{
	struct runs rs = { 0 };
	cm_walk(k, a, b, take_run, &rs);
	return rs;
}

/* Do two consecutive pieces belong to one mapping as Linux would see it (one VMA)? */
static bool continues(const struct run *p, const struct run *q)
{
	return p->hi == q->lo && p->m.kind == q->m.kind && p->m.kind != CM_INVALID && p->m.flags == q->m.flags &&
	       p->m.file == q->m.file && q->m.pgoff == p->m.pgoff + ((p->hi - p->lo) >> PAGE_SHIFT);
}

static bool all_free(struct cm_cursor *k, uint64_t a, uint64_t b)
{
	struct runs rs = runs_of(k, a, b);
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
static void lock_around(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t b,
			uint64_t *elo, uint64_t *ehi)
{
	uint64_t w = MAX(b - a, HUGE_2M);
	for (;;) {
		uint64_t lo = a > w ? a - w : 0, hi = b + w < b || b + w > VM_TASK_SIZE ? VM_TASK_SIZE : b + w;
		cm_lock(k, mm, cpu, lo, hi);
		struct runs rs = runs_of(k, lo, hi);
		uint32_t ia = 0, ib = 0;
		for (uint32_t i = 0; i < rs.n; i++) {
			if (rs.r[i].lo <= a && a < rs.r[i].hi)
				ia = i;
			if (rs.r[i].lo <= b - 1 && b - 1 < rs.r[i].hi)
				ib = i;
		}
		uint32_t s = ia, e = ib;
		if (rs.n && rs.r[ia].m.kind != CM_INVALID)
			while (s > 0 && continues(&rs.r[s - 1], &rs.r[s]))
				s--;
		if (rs.n && rs.r[ib].m.kind != CM_INVALID)
			while (e + 1 < rs.n && continues(&rs.r[e], &rs.r[e + 1]))
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

/* ---- placement of unfixed mappings ---- */

static bool guard_ok(struct cm_cursor *k, uint64_t a, uint64_t len)
{
	/* The x86 hint rule: nothing may start in the stack guard gap above a grows-down mapping. */
	struct runs rs = { .max = 0 };
	cm_walk(k, a + len, MIN(a + len + VM_STACK_GUARD_GAP, VM_TASK_SIZE), take_run, &rs);
	bool ok = true;
	for (uint32_t i = 0; i < rs.n && ok; i++)
		if (rs.r[i].m.kind != CM_INVALID && (rs.r[i].m.flags & VR_GROWSDOWN))
			ok = false;
		else if (rs.r[i].m.kind != CM_INVALID)
			break;
	xfree(rs.r);
	return ok;
}

/* Top-down search below the mmap base (the --no-slices allocator), under alloc_lock. 0 if nothing fits. */
static uint64_t topdown(struct cm_as *mm, struct mmu_cpu *cpu, uint64_t len)
{
	struct cm_cursor k;
	uint64_t high = mm->as->mmap_base, top = high;
	while (high > VM_MMAP_MIN_ADDR) {
		uint64_t lo = high > VM_MMAP_MIN_ADDR + HUGE_1G ? high - HUGE_1G : VM_MMAP_MIN_ADDR;
		cm_lock(&k, mm, cpu, lo, high);
		struct runs rs = runs_of(&k, lo, high);
		cm_unlock(&k);
		/* From the top down: a mapping lowers the top of the gap below it (by the guard gap for a stack). */
		for (uint32_t i = rs.n; i-- > 0;) {
			struct run *r = &rs.r[i];
			if (r->m.kind != CM_INVALID || pte_mapped(r->pte)) {
				uint64_t t = r->lo;
				if (r->m.flags & VR_GROWSDOWN)
					t = t > VM_STACK_GUARD_GAP ? t - VM_STACK_GUARD_GAP : 0;
				top = MIN(top, t);
				continue;
			}
			uint64_t gl = MAX(r->lo, VM_MMAP_MIN_ADDR);
			if (top > gl && top - gl >= len) {
				xfree(rs.r);
				return top - len;
			}
		}
		xfree(rs.r);
		high = lo;
	}
	return 0;
}

/* The next candidate address for an unfixed mapping of len bytes on this core. */
static uint64_t candidate(struct cm_as *mm, struct mmu_cpu *cpu, uint64_t len)
{
	if (mm->as->sys->o.no_slices) {
		lk_spin_lock(cpu->core, &mm->alloc_lock);
		uint64_t a = topdown(mm, cpu, len);
		lk_spin_unlock(cpu->core, &mm->alloc_lock);
		return a;
	}
	/* The core's own slice: a bump pointer no other core touches. */
	uint32_t id = cpu->core->id;
	uint64_t end = CM_SLICE_BASE + ((uint64_t)(id + 1) << CM_SLICE_SHIFT);
	uint64_t a = mm->slice_next[id];
	if (a + len > end || a + len < a)
		return topdown(mm, cpu, len);
	mm->slice_next[id] = a + len;
	atomic_fetch_add(&mm->st.slice_allocs, 1);
	return a;
}

/*
 * Lock a free range for a new mapping: the hint if Linux would honour it,
 * else a fresh candidate. Returns the address with the cursor held, or 0.
 */
static uint64_t place(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	uint64_t hint = vr_hint(addr);
	if (hint && hint <= VM_TASK_SIZE - len) {
		cm_lock(k, mm, cpu, hint - PAGE_SIZE, MIN(hint + len + PAGE_SIZE, VM_TASK_SIZE));
		if (all_free(k, hint, hint + len) && guard_ok(k, hint, len))
			return hint;
		cm_unlock(k);
	}
	for (int tries = 0; tries < 64; tries++) {
		uint64_t a = candidate(mm, cpu, len);
		if (!a)
			return 0;
		cm_lock(k, mm, cpu, a - PAGE_SIZE, MIN(a + len + PAGE_SIZE, VM_TASK_SIZE));
		if (all_free(k, a, a + len))
			return a;
		cm_unlock(k);
	}
	return 0;
}

/* ---- the operations ---- */

static struct cm_meta status_for(int prot, int flags, struct vm_file *f, uint64_t addr, uint64_t off)
{
	uint32_t vf = vr_mmap_flags(prot, flags);
	return (struct cm_meta){ .kind = f ? CM_FILE : CM_ANON, .file = f, .flags = (uint16_t)vf,
				 .pgoff = f ? off >> PAGE_SHIFT : addr >> PAGE_SHIFT };
}

static long cm_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
		    struct vm_file *f, uint64_t off);
enum vm_fault cm_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err);

static void file_hold(struct cm_as *mm, struct vm_file *f);

static long cm_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
		    struct vm_file *f, uint64_t off)
{
	struct cm_as *mm = cm_of(as);
	struct cm_cursor k;
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) {
		cm_lock(&k, mm, cpu, addr >= PAGE_SIZE ? addr - PAGE_SIZE : addr, MIN(addr + len + PAGE_SIZE, VM_TASK_SIZE));
		if ((flags & VM_MAP_FIXED_NOREPLACE) && !all_free(&k, addr, addr + len)) {
			cm_unlock(&k);
			return -EEXIST;
		}
	} else {
		addr = place(&k, mm, cpu, addr, len);
		if (!addr)
			return -ENOMEM;
	}
	if (f)
		file_hold(mm, f);
	struct cm_meta m = status_for(prot, flags, f, addr, off);
	/* Joining a mapping that had a private frame: Linux's merged VMA keeps its anon_vma. */
	struct run me = { addr, addr + len, 0, m };
	uint64_t pte;
	if (addr >= PAGE_SIZE && addr - PAGE_SIZE >= k.start) {
		struct run left = { addr - PAGE_SIZE, addr, 0, cm_query(&k, addr - PAGE_SIZE, &pte) };
		if (left.m.av && continues(&left, &me))
			m.av = 1;
	}
	if (addr + len < k.end) {
		struct run right = { addr + len, addr + len + PAGE_SIZE, 0, cm_query(&k, addr + len, &pte) };
		if (right.m.av && continues(&me, &right))
			m.av = 1;
	}
	cm_mark(&k, addr, addr + len, &m);
	cm_unlock(&k);
	if (flags & VM_MAP_POPULATE) {
		uint32_t err = PF_U | (((m.flags & VM_PROT_WRITE) && !(m.flags & VR_SHARED)) ? PF_W : 0);
		for (uint64_t p = addr; p < addr + len; p += PAGE_SIZE)
			if (cm_fault(as, cpu, p, err) != VM_FAULT_OK)
				break;
	}
	return (long)addr;
}

static int cm_munmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
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
	m->flags = (uint16_t)vr_mprotect_flags(m->flags, a->prot, m->kind == CM_ANON && !(m->flags & VR_SHARED),
					       a->has_av);
}

static int cm_mprotect(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot)
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
	struct runs rs = runs_of(&k, addr, end);
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
	m->flags = (uint16_t)vr_madvise_flags(m->flags, *(int *)arg);
}

static int cm_madvise(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice)
{
	struct cm_cursor k;
	uint64_t end = addr + len;
	cm_lock(&k, cm_of(as), cpu, addr, end);
	struct runs rs = runs_of(&k, addr, end);
	int ret = 0, unmapped = 0;
	for (uint32_t i = 0; i < rs.n && !ret; i++) {
		struct run *r = &rs.r[i];
		if (r->m.kind == CM_INVALID) {
			unmapped = -ENOMEM;
			continue;
		}
		switch (advice) {
		case VM_MADV_DONTNEED:
			if (r->m.flags & VR_LOCKED)
				ret = -EINVAL;
			else
				cm_zap(&k, r->lo, r->hi);
			break;
		case VM_MADV_FREE:
			if (r->m.kind == CM_FILE || (r->m.flags & VR_SHARED))
				ret = -EINVAL;
			else
				cm_clean(&k, r->lo, r->hi);
			break;
		case VM_MADV_WILLNEED:
			if (r->m.kind == CM_FILE)
				for (uint64_t p = r->lo; p < r->hi; p += PAGE_SIZE)
					vm_file_page(as->sys, cpu, r->m.file, r->m.pgoff + ((p - r->lo) >> PAGE_SHIFT));
			break;
		default:
			if (vr_changes_flags(advice))
				cm_set(&k, r->lo, r->hi, madvise_fn, &advice);
		}
	}
	xfree(rs.r);
	cm_unlock(&k);
	return ret ? ret : unmapped;
}

/* ---- mremap: Linux's rules, with the extent of a mapping read from the statuses ---- */

/* End of the mapping (as Linux's VMA would end) that holds addr, scanning [addr, limit). */
static uint64_t extent_end(struct cm_cursor *k, uint64_t addr, uint64_t limit)
{
	struct runs rs = runs_of(k, addr, limit);
	uint64_t end = addr;
	for (uint32_t i = 0; i < rs.n; i++) {
		if (rs.r[i].m.kind == CM_INVALID || (i && !continues(&rs.r[i - 1], &rs.r[i])))
			break;
		end = rs.r[i].hi;
	}
	xfree(rs.r);
	return end;
}

/* The mapping (as a VMA) holding va, within the cursor's range. */
static void extent_around(struct cm_cursor *k, uint64_t va, uint64_t *s, uint64_t *e)
{
	struct runs rs = runs_of(k, k->start, k->end);
	*s = va;
	*e = va + PAGE_SIZE;
	for (uint32_t i = 0; i < rs.n; i++) {
		if (!(rs.r[i].lo <= va && va < rs.r[i].hi))
			continue;
		uint32_t a = i, b = i;
		while (a > 0 && continues(&rs.r[a - 1], &rs.r[a]))
			a--;
		while (b + 1 < rs.n && continues(&rs.r[b], &rs.r[b + 1]))
			b++;
		*s = rs.r[a].lo;
		*e = rs.r[b].hi;
		break;
	}
	xfree(rs.r);
}

static bool any_av(struct cm_cursor *k, uint64_t a, uint64_t b)
{
	struct runs rs = runs_of(k, a, b);
	bool av = false;
	for (uint32_t i = 0; i < rs.n && !av; i++)
		av = rs.r[i].m.av != 0 || (pte_mapped(rs.r[i].pte) && rs.r[i].m.kind == CM_ANON);
	xfree(rs.r);
	return av;
}

/* Move [addr, addr + len) (one mapping) to new_addr, grown to new_len: statuses, then frames, then the old range goes. */
static void move(struct cm_cursor *k, uint64_t addr, uint64_t len, uint64_t new_addr, uint64_t new_len)
{
	if (!len) { /* old_len 0 duplicates a shared mapping: a second mapping of the same pages */
		uint64_t pte;
		struct cm_meta m = cm_query(k, addr, &pte);
		m.av = 0;
		cm_mark(k, new_addr, new_addr + new_len, &m);
		return;
	}
	struct runs rs = runs_of(k, addr, addr + len);
	/* copy_vma: unfaulted anonymous memory takes the pgoff of its new place, to merge more easily. */
	uint64_t es, ee;
	extent_around(k, addr, &es, &ee);
	bool unfaulted = rs.n && rs.r[0].m.kind == CM_ANON && !(rs.r[0].m.flags & VR_SHARED) && !any_av(k, es, ee);
	struct cm_meta last = { 0 };
	for (uint32_t i = 0; i < rs.n; i++) {
		struct cm_meta m = rs.r[i].m;
		if (unfaulted)
			m.pgoff = (new_addr + (rs.r[i].lo - addr)) >> PAGE_SHIFT;
		cm_mark(k, new_addr + (rs.r[i].lo - addr), new_addr + (rs.r[i].hi - addr), &m);
		last = m;
		last.pgoff += (rs.r[i].hi - rs.r[i].lo) >> PAGE_SHIFT;
	}
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
	cm_unmap(k, addr, addr + len);
}

static long remap_to(struct cm_cursor *k, uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t new_addr)
{
	cm_unmap(k, new_addr, new_addr + new_len);
	uint64_t pte;
	if (cm_query(k, addr, &pte).kind == CM_INVALID)
		return -EFAULT;
	if (new_len < old_len) {
		cm_unmap(k, addr + new_len, addr + old_len);
		old_len = new_len;
	}
	move(k, addr, old_len, new_addr, new_len);
	return (long)new_addr;
}

/* check_prep_vma, with the mapping's end from the statuses. */
static long prep(struct cm_cursor *k, uint64_t addr, uint64_t old_len, uint64_t new_len, bool moves)
{
	if (new_len <= old_len && !moves)
		return 0;
	uint64_t pte;
	struct cm_meta m = cm_query(k, addr, &pte);
	if (!old_len && !(m.flags & VR_SHARED))
		return -EINVAL;
	if (new_len < old_len)
		old_len = new_len;
	if (old_len > extent_end(k, addr, k->end) - addr)
		return -EFAULT;
	if (new_len == old_len)
		return 0;
	if (m.pgoff + (new_len >> PAGE_SHIFT) < m.pgoff)
		return -EINVAL;
	return 0;
}

static long remap_move(struct cm_cursor *k, uint64_t start, uint64_t len, uint64_t new_addr)
{
	uint64_t end = start + len, target = new_addr, last_end = 0, cur = start;
	long res = -EFAULT;
	bool seen = false;
	while (cur < end) {
		struct runs rs = runs_of(k, cur, end);
		uint32_t i = 0;
		while (i < rs.n && rs.r[i].m.kind == CM_INVALID)
			i++;
		if (i == rs.n) {
			xfree(rs.r);
			break;
		}
		uint64_t vs = rs.r[i].lo; /* where the next mapping starts (within [cur, end)) */
		xfree(rs.r);
		if (!seen && start < vs)
			return -EFAULT;
		/* Its full extent, as Linux's VMA: it may reach beyond end. */
		uint64_t ve = extent_end(k, vs, k->end);
		uint64_t a = vs, l = MIN(end, ve) - a;
		uint64_t offset = seen ? vs - last_end : 0;
		last_end = ve;
		long got = remap_to(k, a, l, l, target + offset);
		if (got < 0)
			return got;
		if (!seen)
			res = got;
		seen = true;
		target = (uint64_t)got + l;
		cur = MIN(end, ve);
	}
	return res;
}

static long cm_mremap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t old_len, uint64_t new_len,
		      int flags, uint64_t new_addr)
{
	struct cm_as *mm = cm_of(as);
	bool fixed = flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
	/* One cursor over everything the call may touch: source, growth, and a fixed target. */
	uint64_t lo = addr, hi = MAX(addr + old_len, addr + new_len);
	if (fixed) {
		lo = MIN(lo, new_addr);
		hi = MAX(hi, new_addr + new_len);
	}
	struct cm_cursor k;
	uint64_t elo, ehi;
	lock_around(&k, mm, cpu, lo, MIN(hi, VM_TASK_SIZE), &elo, &ehi);
	long r;
	uint64_t pte;
	if ((flags & VM_MREMAP_FIXED) && old_len == new_len) {
		r = remap_move(&k, addr, old_len, new_addr);
		goto out;
	}
	if (cm_query(&k, addr, &pte).kind == CM_INVALID) {
		r = -EFAULT;
		goto out;
	}
	r = prep(&k, addr, old_len, new_len, fixed);
	if (r)
		goto out;
	if (fixed) {
		r = remap_to(&k, addr, old_len, new_len, new_addr);
		goto out;
	}
	r = (long)addr;
	if (new_len == old_len)
		goto out;
	if (new_len < old_len) {
		cm_unmap(&k, addr + new_len, addr + old_len);
		goto out;
	}
	uint64_t delta = new_len - old_len, vend = extent_end(&k, addr, k.end);
	if (addr + old_len == vend && vend + delta <= VM_TASK_SIZE && all_free(&k, vend, vend + delta)) {
		/* Grow in place: the new pages continue the mapping. */
		struct cm_meta m = cm_query(&k, vend - PAGE_SIZE, &pte);
		m.pgoff += 1;
		cm_mark(&k, vend, vend + delta, &m);
		goto out;
	}
	if (!(flags & VM_MREMAP_MAYMOVE)) {
		r = -ENOMEM;
		goto out;
	}
	/* Move: a new place from this core's slice; the cursor must cover it too. */
	cm_unlock(&k);
	struct cm_cursor t;
	uint64_t na = place(&t, mm, cpu, 0, new_len);
	if (!na)
		return -ENOMEM;
	cm_unlock(&t);
	lock_around(&k, mm, cpu, MIN(addr, na), MAX(addr + old_len, na + new_len), &elo, &ehi);
	if (!all_free(&k, na, na + new_len) || cm_query(&k, addr, &pte).kind == CM_INVALID ||
	    prep(&k, addr, old_len, new_len, false)) {
		cm_unlock(&k);
		return -EAGAIN;
	}
	move(&k, addr, old_len, na, new_len);
	r = (long)na;
out:
	cm_unlock(&k);
	return r;
}

static long cm_brk(struct vm_as *as, struct mmu_cpu *cpu, uint64_t brk)
{
	struct cm_as *mm = cm_of(as);
	lk_spin_lock(cpu->core, &mm->brk_lock);
	uint64_t orig = as->brk;
	long ret = (long)orig;
	uint64_t newbrk = vm_page_up(brk), oldbrk = vm_page_up(as->brk);
	struct cm_cursor k;
	if (brk < as->start_brk)
		goto out;
	if (oldbrk == newbrk) {
		as->brk = brk;
		ret = (long)brk;
		goto out;
	}
	if (brk <= as->brk) {
		cm_lock(&k, mm, cpu, newbrk, oldbrk);
		if (all_free(&k, newbrk, oldbrk)) {
			cm_unlock(&k);
			goto out;
		}
		as->brk = brk;
		cm_unmap(&k, newbrk, oldbrk);
		cm_unlock(&k);
		ret = (long)brk;
		goto out;
	}
	cm_lock(&k, mm, cpu, oldbrk, MIN(newbrk + PAGE_SIZE + VM_STACK_GUARD_GAP, VM_TASK_SIZE));
	bool ok = all_free(&k, oldbrk, MIN(newbrk + PAGE_SIZE, VM_TASK_SIZE)) &&
		  guard_ok(&k, oldbrk, newbrk + PAGE_SIZE - oldbrk);
	if (ok) {
		struct cm_meta m = { .kind = CM_ANON, .flags = VR_BRK_FLAGS, .pgoff = oldbrk >> PAGE_SHIFT };
		cm_mark(&k, oldbrk, newbrk, &m);
		as->brk = brk;
		ret = (long)brk;
	}
	cm_unlock(&k);
out:
	lk_spin_unlock(cpu->core, &mm->brk_lock);
	return ret;
}

/* ---- faults ---- */

static bool is_file_page(struct vm_sys *sys, uint64_t pfn) { return sys->pm->frames[pfn].owner & 0x80000000u; }

static void set_av(void *arg, struct cm_meta *m)
{
	(void)arg;
	m->av = 1;
}

/* Grow a grows-down mapping down to va, if Linux would. Returns true if it grew. */
static bool grow_stack(struct cm_as *mm, struct mmu_cpu *cpu, uint64_t va)
{
	uint64_t a = va & ~(PAGE_SIZE - 1);
	if (a < VM_MMAP_MIN_ADDR)
		return false;
	uint64_t lo = a > VM_STACK_GUARD_GAP ? a - VM_STACK_GUARD_GAP : 0;
	struct cm_cursor k;
	cm_lock(&k, mm, cpu, lo, MIN(a + VR_STACK_LIMIT, VM_TASK_SIZE));
	struct runs rs = runs_of(&k, lo, MIN(a + VR_STACK_LIMIT, VM_TASK_SIZE));
	bool grew = false;
	/* The first mapping above va must grow down; nothing may be mapped in the guard gap below. */
	struct run *above = NULL;
	bool clear_below = true;
	for (uint32_t i = 0; i < rs.n; i++) {
		struct run *r = &rs.r[i];
		if (r->m.kind == CM_INVALID)
			continue;
		if (r->hi <= a) {
			clear_below = false;
			continue;
		}
		if (r->lo > a) {
			above = r;
			break;
		}
	}
	if (above && clear_below && (above->m.flags & VR_GROWSDOWN)) {
		uint64_t top = extent_end(&k, above->lo, VM_TASK_SIZE > above->lo + VR_STACK_LIMIT
							       ? above->lo + VR_STACK_LIMIT
							       : VM_TASK_SIZE);
		if (top - a <= VR_STACK_LIMIT) {
			struct cm_meta m = above->m;
			m.pgoff -= (above->lo - a) >> PAGE_SHIFT;
			cm_mark(&k, a, above->lo, &m);
			grew = true;
		}
	}
	xfree(rs.r);
	cm_unlock(&k);
	return grew;
}

/*
 * The first private frame of a mapping: mark every page of the mapping (as
 * Linux's VMA) as having had one, as Linux gives the VMA its anon_vma, so
 * that what remains of it after splits behaves as Linux's would. A mapping
 * is all-marked or all-unmarked, so this runs once per mapping. It walks
 * out from the page one 2 MiB chunk (one cursor) at a time rather than
 * locking the whole mapping: the mark only ever goes from 0 to 1.
 */
static void propagate_av(struct cm_as *mm, struct mmu_cpu *cpu, uint64_t page)
{
	struct cm_cursor k;
	for (int dir = 1; dir >= -1; dir -= 2) {
		struct run prev = { 0 };
		bool have = false, go = true;
		uint64_t c = page & ~(HUGE_2M - 1);
		for (bool first = true; go; first = false) {
			uint64_t lo = c, hi = c + HUGE_2M;
			/* Beyond the first chunk only existing statuses are looked at: no tables are made for empty space. */
			if (first)
				cm_lock(&k, mm, cpu, lo, hi);
			else
				cm_lock_look(&k, mm, cpu, lo, hi);
			struct runs rs = runs_of(&k, lo, hi);
			for (uint32_t n = 0; n < rs.n && go; n++) {
				struct run *r = &rs.r[dir > 0 ? n : rs.n - 1 - n];
				if (!have) { /* skip to the run holding the faulting page */
					if (!(r->lo <= page && page < r->hi))
						continue;
					have = true;
				} else if (!(dir > 0 ? continues(&prev, r) : continues(r, &prev)) || r->m.av) {
					go = false; /* the mapping ends, or another core marks from here on */
					break;
				}
				prev = *r;
				if (r->m.kind != CM_INVALID && !r->m.av)
					cm_set(&k, r->lo, r->hi, set_av, NULL);
			}
			xfree(rs.r);
			cm_unlock(&k);
			if (dir > 0 ? hi >= VM_TASK_SIZE : lo == 0)
				break;
			c = dir > 0 ? hi : lo - HUGE_2M;
		}
	}
}

enum vm_fault cm_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err)
{
	struct cm_as *mm = cm_of(as);
	struct vm_sys *sys = as->sys;
	struct sim_core *c = cpu->core;
	bool write = err & PF_W;
	uint64_t page = va & ~(PAGE_SIZE - 1);
	/* A frame for a write, allocated and cleared before any lock is taken. */
	uint64_t newpfn = 0;
	if (write) {
		newpfn = pm_alloc(sys->pm, c);
		if (!newpfn)
			return VM_FAULT_OOM;
		sys->pm->frames[newpfn].owner = as->pid;
		cycles_t tz = c->clock;
		pm_zero(c);
		sim_note(c, "a write: frame %#llx allocated and zeroed before any lock is taken (%llu cycles)",
			 (unsigned long long)newpfn, (unsigned long long)(c->clock - tz));
	}
	struct cm_cursor k;
	enum vm_fault r = VM_FAULT_OK;
	bool need_av = false;
	for (int pass = 0; pass < 2; pass++) {
		cm_lock(&k, mm, cpu, page, page + PAGE_SIZE);
		uint64_t pte;
		struct cm_meta m = cm_query(&k, page, &pte);
		if (sim_narrating(c)) {
			char d[128] = "nothing mapped";
			if (m.kind != CM_INVALID)
				cm_meta_describe(&m, d, sizeof(d));
			sim_note(c, "the page's status in the PT page's metadata: %s", d);
		}
		if (m.kind == CM_INVALID) {
			cm_unlock(&k);
			if (pass == 0 && grow_stack(mm, cpu, va))
				continue;
			r = VM_FAULT_SEGV;
			goto done;
		}
		uint32_t vf = m.flags;
		if (write ? !(vf & VM_PROT_WRITE) : ((err & PF_P) || !(vf & VR_PROT))) {
			r = VM_FAULT_SEGV;
			break;
		}
		bool shared = vf & VR_SHARED;
		if (m.kind == CM_FILE && m.pgoff >= vm_file_npages(m.file)) {
			r = VM_FAULT_BUS;
			break;
		}
		uint64_t bits = cm_prot_bits(vf, true) | PTE_A;
		if (!pte_mapped(pte)) {
			if (m.kind == CM_ANON) {
				if (write) {
					sim_note(c, "anonymous write fault: the new frame is mapped writable");
					cm_map(&k, page, newpfn, bits | PTE_D);
					newpfn = 0;
					vm_cst(as, cpu)->frames_zeroed++;
				} else {
					sim_note(c, "anonymous read fault: the shared zero page is mapped read-only");
					cm_map(&k, page, sys->zero_pfn, cm_prot_bits(vf, false));
				}
			} else {
				uint64_t cache = vm_file_page(sys, cpu, m.file, m.pgoff);
				if (!cache) {
					r = VM_FAULT_OOM;
					break;
				}
				if (shared || !write) {
					sim_note(c, "file fault: page-cache frame %#llx is mapped%s", (unsigned long long)cache,
						 shared && write ? " writable" : " read-only");
					pm_get(sys->pm, cache);
					cm_map(&k, page, cache,
					       cm_prot_bits(vf, shared && write) | PTE_A | (shared && write ? PTE_D : 0));
				} else {
					sim_note(c, "private file write fault: a private copy of the cached page is mapped writable");
					cm_map(&k, page, newpfn, bits | PTE_D);
					newpfn = 0;
					vm_cst(as, cpu)->frames_copied++;
				}
			}
		} else if (write && !(pte & PTE_RW) && (pte & PTE_P)) {
			uint64_t pfn = PTE_PFN(pte);
			if (pte & PTE_PS) { /* copy-on-write inside a huge page: work on its 4 KiB piece */
				pfn += (page >> PAGE_SHIFT) & 511;
				pte = PTE_MK(pfn, pte & ~(PTE_PFN_MASK | PTE_PS));
			}
			if (shared) {
				sim_note(c, "write to a shared page mapped read-only: made writable in place");
				cm_map(&k, page, pfn, (pte & ~PTE_PFN_MASK) | PTE_RW | PTE_D | PTE_A);
			} else if (pfn != sys->zero_pfn && !is_file_page(sys, pfn) && pm_ref(sys->pm, pfn) == 1) {
				sim_note(c, "copy-on-write fault, but frame %#llx has no other user: made writable in place (no copy)",
					 (unsigned long long)pfn);
				cm_map(&k, page, pfn, (pte & ~PTE_PFN_MASK) | PTE_RW | PTE_D | PTE_A); /* ours alone: reuse */
				atomic_fetch_add(&mm->st.cow_reuses, 1);
			} else if (newpfn) {
				sim_note(c, "copy-on-write fault: frame %#llx (%s) is replaced by the new copy %#llx; the old "
					    "translation must leave every TLB",
					 (unsigned long long)pfn, pfn == sys->zero_pfn ? "the zero page" : "shared",
					 (unsigned long long)newpfn);
				cm_map(&k, page, newpfn, bits | PTE_D); /* copy: the old frame is released after the flush */
				cm_release_frame(&k, pfn);
				newpfn = 0;
				atomic_fetch_add(&mm->st.cow_copies, 1);
				vm_cst(as, cpu)->frames_copied++;
			}
		}
		need_av = write && !shared && !m.av;
		break;
	}
	cm_unlock(&k);
	if (need_av && r == VM_FAULT_OK)
		propagate_av(mm, cpu, page);
done:
	if (newpfn)
		pm_put(sys->pm, c, newpfn);
	return r;
}

/* ---- fork ---- */

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
	struct runs rs = runs_of(k, 0, VM_TASK_SIZE);
	for (uint32_t i = 0; i < rs.n;) {
		if (rs.r[i].m.kind == CM_INVALID) {
			i++;
			continue;
		}
		uint32_t j = i;
		bool av = false;
		do
			av |= rs.r[j].m.av != 0;
		while (++j < rs.n && continues(&rs.r[j - 1], &rs.r[j]));
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
		struct cm_meta m = { 0 };
		if (pd->meta)
			m = pd->meta[i];
		if (!e && m.kind == CM_INVALID)
			continue;
		if (m.kind != CM_INVALID) {
			if (!cd->meta) {
				cd->meta = xzalloc(sizeof(struct cm_meta) * PT_ENTRIES);
				atomic_fetch_add(&child->meta_bytes, sizeof(struct cm_meta) * PT_ENTRIES);
			}
			cd->meta[i] = m;
			cd->nmeta++;
			if (m.file)
				file_hold(child, m.file);
		}
		if (pd->level > 1 && (e & PTE_P) && !(e & PTE_PS)) {
			struct cm_pt *pc = cm_pt_of(pm_pt(sys->pm, PTE_PFN(e)));
			struct cm_pt *cc = cm_pt_new(child, k->cpu, pd->level - 1, cd);
			cc->base = pc->base;
			pte_store(cd->p, i, PTE_MK(cc->p->pfn, PTE_P | PTE_RW | PTE_US));
			coh_read(k->cpu->core, pte_line(pd->p, i));
			copy_rec(k, child, pc, cc, cs);
			continue;
		}
		if (!pte_mapped(e) || !in_copyset(cs, pd->base + i * LEVEL_SIZE(pd->level)))
			continue;
		unsigned n = pd->level == 2 ? PT_ENTRIES : 1;
		coh_read(k->cpu->core, pte_line(pd->p, i));
		if (!(m.flags & VR_SHARED) && (e & PTE_RW)) { /* copy-on-write: read-only on both sides */
			e &= ~PTE_RW;
			coh_write(k->cpu->core, pte_line(pd->p, i));
			pte_store(pd->p, i, e);
			cm_flush_range(k, pd->base + i * LEVEL_SIZE(pd->level), n);
		}
		for (unsigned j = 0; j < n; j++)
			if (PTE_PFN(e) + j != sys->zero_pfn)
				pm_get(sys->pm, PTE_PFN(e) + j);
		coh_write(k->cpu->core, pte_line(cd->p, i));
		pte_store(cd->p, i, e);
	}
}

static int cm_fork(struct vm_as *parent, struct vm_as *child, struct mmu_cpu *cpu)
{
	struct cm_cursor k;
	struct copyset cs = { 0 };
	cm_lock(&k, cm_of(parent), cpu, 0, VM_TASK_SIZE);
	build_copyset(&k, &cs);
	copy_rec(&k, cm_of(child), cm_of(parent)->root, cm_of(child)->root, &cs);
	cm_unlock(&k);
	xfree(cs.lo);
	xfree(cs.hi);
	return 0;
}

/* ---- host-side queries and lifetime ---- */

struct layout_arg {
	struct vm_as *as;
	vm_visit_fn fn;
	void *arg;
	struct vm_range cur;
	bool have;
	uint64_t next_pgoff;
};

static void layout_flush(struct layout_arg *a)
{
	if (a->have)
		a->fn(a->arg, &a->cur);
	a->have = false;
}

static bool layout_run(void *p, uint64_t lo, uint64_t hi, const struct cm_meta *m, uint64_t pte, int level)
{
	(void)pte, (void)level;
	struct layout_arg *a = p;
	if (m->kind == CM_INVALID) {
		layout_flush(a);
		return true;
	}
	struct vm_range r = {
		.start = lo,
		.end = hi,
		.prot = m->flags & VR_PROT,
		.flags = (m->flags & VR_SHARED ? VM_RANGE_SHARED : 0) | (m->flags & VR_GROWSDOWN ? VM_RANGE_STACK : 0),
		.kind = m->kind == CM_FILE ? VM_KIND_FILE : VM_KIND_ANON,
		.file = m->file,
		.file_id = m->file ? m->file->id : 0,
		.pgoff = m->kind == CM_FILE ? m->pgoff : 0,
	};
	struct vm_range *c = &a->cur;
	bool joins = a->have && c->end == lo && c->prot == r.prot && c->flags == r.flags && c->kind == r.kind &&
		     c->file == r.file && (r.kind != VM_KIND_FILE || a->next_pgoff == r.pgoff);
	if (joins) {
		c->end = hi;
	} else {
		layout_flush(a);
		*c = r;
		a->have = true;
	}
	a->next_pgoff = m->pgoff + ((hi - lo) >> PAGE_SHIFT);
	return true;
}

static void cm_layout(struct vm_as *as, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg)
{
	struct layout_arg a = { .as = as, .fn = fn, .arg = arg };
	cm_host_walk(cm_of(as), start & ~(PAGE_SIZE - 1), MIN(vm_page_up(end), VM_TASK_SIZE), layout_run, &a);
	layout_flush(&a);
}

static void file_hold(struct cm_as *mm, struct vm_file *f)
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

static int create(struct vm_as *as, bool adv)
{
	struct cm_as *mm = xaligned_zalloc(CACHELINE, sizeof(*mm));
	mm->as = as;
	mm->adv = adv;
	struct cm_pt *root = xaligned_zalloc(CACHELINE, sizeof(*root));
	root->p = as->hw.root;
	root->level = as->sys->mmu->o.levels;
	root->mm = mm;
	lk_rwsem_init(&root->rw);
	lk_mcs_init(&root->mcs);
	as->hw.root->desc = root;
	mm->root = root;
	atomic_store(&mm->desc_bytes, sizeof(*root));
	uint32_t n = as->sys->sim->o.ncores;
	mm->slice_next = xzalloc(sizeof(uint64_t) * n);
	for (uint32_t i = 0; i < n; i++)
		/*
		 * One free page at the bottom of each slice: the first mapping's
		 * lower neighbour (which mmap looks at) is then inside the slice,
		 * not across a 64 GiB boundary, where the covering page would be a
		 * PDPT or the root, shared with other cores.
		 */
		mm->slice_next[i] = CM_SLICE_BASE + ((uint64_t)i << CM_SLICE_SHIFT) + PAGE_SIZE;
	lk_spin_init(&mm->alloc_lock);
	lk_spin_init(&mm->brk_lock);
	pthread_mutex_init(&mm->files_mu, NULL);
	if (as->sys->o.lazy_flush)
		cm_latr_init(as->sys);
	as->priv = mm;
	return 0;
}

static int rw_create(struct vm_as *as, struct mmu_cpu *cpu) { return (void)cpu, create(as, false); }
static int adv_create(struct vm_as *as, struct mmu_cpu *cpu) { return (void)cpu, create(as, true); }

static void cm_destroy(struct vm_as *as, struct mmu_cpu *cpu)
{
	(void)cpu;
	struct cm_as *mm = cm_of(as);
	cm_latr_drain(as->sys, as);
	sim_rcu_barrier(); /* stray tables waiting for their grace period still point at mm */
	cm_destroy_tables(mm);
	xfree(mm->root->meta);
	as->hw.root->desc = NULL;
	xfree(mm->root);
	for (uint32_t i = 0; i < mm->nfiles; i++)
		vm_file_put(as->sys, mm->files[i]);
	xfree(mm->files);
	pthread_mutex_destroy(&mm->files_mu);
	xfree(mm->slice_next);
	xfree(mm);
	as->priv = NULL;
}

static void cm_stats(struct vm_as *as, struct em *e)
{
	struct cm_as *mm = cm_of(as);
	em_u64(e, "cursors", atomic_load(&mm->st.cursors));
	em_u64(e, "cursor_retries", atomic_load(&mm->st.retries));
	em_u64(e, "dfs_locks", atomic_load(&mm->st.dfs_locks));
	for (int l = 1; l <= 5; l++) {
		char key[32];
		snprintf(key, sizeof(key), "cover_level%d", l);
		em_u64(e, key, atomic_load(&mm->st.cover_level[l]));
	}
	em_u64(e, "status_pushdowns", atomic_load(&mm->st.pushdowns));
	em_u64(e, "big_marks", atomic_load(&mm->st.big_marks));
	em_u64(e, "pt_pages_allocated", atomic_load(&mm->st.pt_alloc));
	em_u64(e, "pt_pages_freed", atomic_load(&mm->st.pt_free));
	em_u64(e, "slice_allocs", atomic_load(&mm->st.slice_allocs));
	em_u64(e, "cow_copies", atomic_load(&mm->st.cow_copies));
	em_u64(e, "cow_reuses", atomic_load(&mm->st.cow_reuses));
	em_u64(e, "latr_deferred_flushes", cm_latr_deferred(as->sys));
	em_u64(e, "meta_bytes", atomic_load(&mm->meta_bytes));
	em_u64(e, "descriptor_bytes", atomic_load(&mm->desc_bytes));
}

/* describe_entry (vm.h): the status kept beside entry i of PT page p. */
static bool cm_describe_entry(struct vm_as *as, const struct pm_ptpage *p, int level, unsigned i, char *buf, size_t n)
{
	(void)as;
	(void)level;
	const struct cm_pt *d = p->desc;
	if (!d || !d->meta || d->meta[i].kind == CM_INVALID)
		return false;
	cm_meta_describe(&d->meta[i], buf, n);
	return true;
}

static uint64_t cm_metadata_bytes(struct vm_as *as)
{
	struct cm_as *mm = cm_of(as);
	return atomic_load(&mm->meta_bytes) + atomic_load(&mm->desc_bytes);
}

#define CM_OPS                                                                                                   \
	.has_vmas = false, .destroy = cm_destroy, .mmap = cm_mmap, .munmap = cm_munmap, .mprotect = cm_mprotect, \
	.madvise = cm_madvise, .mremap = cm_mremap, .brk = cm_brk, .fault = cm_fault, .fork = cm_fork,           \
	.layout = cm_layout, .stats = cm_stats, .metadata_bytes = cm_metadata_bytes, .tick = cm_latr_tick,     \
	.describe_entry = cm_describe_entry

const struct vm_design vm_design_cortenmm_rw = {
	.name = "cortenmm-rw",
	.summary = "CortenMM, rw protocol: read-lock the path, write-lock the covering PT page",
	.create = rw_create,
	CM_OPS,
};

const struct vm_design vm_design_cortenmm_adv = {
	.name = "cortenmm-adv",
	.summary = "CortenMM, adv protocol: lock-free RCU descent, MCS-lock the covering page and its children",
	.create = adv_create,
	CM_OPS,
};
