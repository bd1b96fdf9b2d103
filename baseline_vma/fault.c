/* fault.c: the Linux-like page-fault path: the VMA found under RCU and read-locked (6.4+), or under mmap_lock; stack growth; the fault itself in kmm. */
#include "baseline_vma/linux.h"


static struct sim_core *core_of(struct mmu_cpu *cpu) { return cpu->core; }

/* vma_start_read: the lock-free path's VMA read lock; false if a writer has it. */
static bool vma_start_read(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	struct sim_core *c = core_of(cpu);
	coh_read(c, &v->line);
	coh_read(c, &mm->seq_line);
	if (atomic_load(&v->lock_seq) == atomic_load(&mm->mm_lock_seq))
		return false;
	if (!lk_down_read_trylock(c, &v->lock))
		return false;
	if (atomic_load(&v->lock_seq) == atomic_load(&mm->mm_lock_seq)) {
		lk_up_read(c, &v->lock);
		return false;
	}
	return true;
}

/* lock_vma_under_rcu: find the VMA without mmap_lock and read-lock it; NULL means fall back. */
static struct lvma *lock_vma_under_rcu(struct lmm *mm, struct mmu_cpu *cpu, uint64_t va)
{
	sim_rcu_read_lock();
	struct lvma *v = linux_find(mm, cpu, va);
	if (!v || lv_start(v) > va || !vma_start_read(mm, cpu, v)) {
		sim_rcu_read_unlock();
		sim_note(cpu->core, "no VMA readable under RCU (%s): fall back to mmap_lock",
			 !v || lv_start(v) > va ? "no VMA there" : "its writer holds it");
		return NULL;
	}
	sim_note_lock(cpu->core, "per-VMA lock of [%#llx, %#llx) for reading, found in the maple tree under RCU (no mmap_lock)",
		      (unsigned long long)lv_start(v), (unsigned long long)lv_end(v));
	if (atomic_load(&v->detached) || va < lv_start(v) || va >= lv_end(v)) {
		lk_up_read(core_of(cpu), &v->lock);
		sim_rcu_read_unlock();
		return NULL;
	}
	sim_rcu_read_unlock();
	return v;
}

struct lfault {
	struct lmm *mm;
	struct lvma *v;
};

static bool anon_prepare_cb(void *arg, struct mmu_cpu *cpu)
{
	struct lfault *x = arg;
	linux_anon_prepare(x->mm, cpu, x->v);
	return true;
}

/* handle_fault: resolve a fault in v (locked as err says) through the shared fault code. */
static enum vm_fault handle_fault(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t va, uint32_t err)
{
	struct lfault x = { mm, v };
	struct kmm_vma kv = { lv_start(v), lv_end(v), v->flags, v->file, v->pgoff, v->av != 0, anon_prepare_cb, &x };
	enum vm_fault r = kmm_fault(&mm->pt, cpu, &kv, va, err);
	if (r == KMM_FAULT_RETRY)
		sim_note(cpu->core, "the VMA has no anon_vma yet, which needs mmap_lock: retry the fault under it");
	return r;
}

/* expand_stack under mmap_lock held for writing: grow a grows-down VMA down to va. */
static struct lvma *expand_stack(struct lmm *mm, struct mmu_cpu *cpu, uint64_t va)
{
	struct lvma *v = linux_find(mm, cpu, va);
	if (!v || !(v->flags & VR_GROWSDOWN) || lv_start(v) <= va)
		return v && lv_start(v) <= va ? v : NULL;
	uint64_t a = va & ~(PAGE_SIZE - 1);
	if (a < VM_MMAP_MIN_ADDR || lv_end(v) - a > VR_STACK_LIMIT)
		return NULL;
	struct lvma *prev = linux_prev(mm, cpu, lv_start(v));
	if (prev && !vr_stack_gap_ok(prev->flags, lv_end(prev), a))
		return NULL;
	linux_vma_write_lock(mm, cpu, v);
	linux_set_start(mm, cpu, v, a, v->pgoff - ((lv_start(v) - a) >> PAGE_SHIFT));
	return v;
}

enum vm_fault linux_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err)
{
	struct lmm *mm = lmm_of(as);
	struct sim_core *c = core_of(cpu);
	if (mm->per_vma_locks) {
		struct lvma *v = lock_vma_under_rcu(mm, cpu, va);
		if (v) {
			enum vm_fault r = handle_fault(mm, cpu, v, va, err | KMM_PF_VMA_LOCKED);
			lk_up_read(c, &v->lock);
			if (r != KMM_FAULT_RETRY) {
				atomic_fetch_add(&mm->vma_lock_faults, 1);
				return r;
			}
		}
	}
	atomic_fetch_add(&mm->mmap_lock_faults, 1);
	lk_down_read(c, &mm->mmap_lock);
	sim_note_lock(c, "mmap_lock for reading");
	struct lvma *v = linux_find(mm, cpu, va);
	enum vm_fault r;
	if (v && lv_start(v) <= va) {
		r = handle_fault(mm, cpu, v, va, err);
		lk_up_read(c, &mm->mmap_lock);
		return r;
	}
	lk_up_read(c, &mm->mmap_lock);
	if (!v || !(v->flags & VR_GROWSDOWN))
		return VM_FAULT_SEGV;
	/* Stack growth needs mmap_lock for writing (lock_mm_and_find_vma). */
	lk_down_write(c, &mm->mmap_lock);
	v = expand_stack(mm, cpu, va);
	r = v ? handle_fault(mm, cpu, v, va, err) : VM_FAULT_SEGV;
	linux_mmap_write_unlock(mm, cpu);
	return r;
}
