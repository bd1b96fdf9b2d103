/* place.c: CortenMM's placement of mappings that are not fixed: the hint if Linux would honour it, else the core's own slice of the address space (or top-down under one lock with --no-slices). */
#include "cortenmm/cm.h"

/* Top-down search below the mmap base (the --no-slices allocator), under alloc_lock. 0 if nothing fits. */
static uint64_t topdown(struct cm_as *mm, struct mmu_cpu *cpu, uint64_t len)
{
	struct cm_cursor k;
	uint64_t high = mm->as->mmap_base, top = high;
	while (high > VM_MMAP_MIN_ADDR) {
		uint64_t lo = high > VM_MMAP_MIN_ADDR + HUGE_1G ? high - HUGE_1G : VM_MMAP_MIN_ADDR;
		cm_lock(&k, mm, cpu, lo, high);
		struct cm_runs rs = cm_runs_of(&k, lo, high);
		cm_unlock(&k);
		/* From the top down: a mapping lowers the top of the gap below it (by the guard gap for a stack). */
		for (uint32_t i = rs.n; i-- > 0;) {
			struct cm_run *r = &rs.r[i];
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
	if (mm->as->sys->o.dopt[CM_OPT_NO_SLICES]) {
		lk_spin_lock(cpu->core, &mm->alloc_lock);
		uint64_t a = topdown(mm, cpu, len);
		lk_spin_unlock(cpu->core, &mm->alloc_lock);
		return a;
	}
	/* The core's own slice: a bump pointer no other core touches. */
	uint32_t id = cpu->core->id;
	uint64_t end = CM_SLICE_BASE + ((uint64_t)(id + 1) << CM_SLICE_SHIFT);
	uint64_t a = atomic_load_explicit(&mm->slice_next[id], memory_order_relaxed);
	if (a + len > end || a + len < a)
		return topdown(mm, cpu, len);
	atomic_store_explicit(&mm->slice_next[id], a + len, memory_order_relaxed);
	atomic_fetch_add(&mm->st.slice_allocs, 1);
	return a;
}

/*
 * Lock a free range for a new mapping: the hint if Linux would honour it,
 * else a fresh candidate. Returns the address with the cursor held, or 0.
 */
uint64_t cm_place(struct cm_cursor *k, struct cm_as *mm, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	uint64_t hint = vr_hint(addr);
	if (hint && hint <= VM_TASK_SIZE - len) {
		cm_lock(k, mm, cpu, hint - PAGE_SIZE, MIN(hint + len + PAGE_SIZE, VM_TASK_SIZE));
		if (cm_all_free(k, hint, hint + len) && cm_guard_ok(k, hint, len))
			return hint;
		cm_unlock(k);
	}
	for (int tries = 0; tries < 64; tries++) {
		uint64_t a = candidate(mm, cpu, len);
		if (!a)
			return 0;
		cm_lock(k, mm, cpu, a - PAGE_SIZE, MIN(a + len + PAGE_SIZE, VM_TASK_SIZE));
		if (cm_all_free(k, a, a + len))
			return a;
		cm_unlock(k);
	}
	return 0;
}

