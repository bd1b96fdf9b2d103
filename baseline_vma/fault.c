/* fault.c: the Linux-like page-fault path: per-VMA lock under RCU (6.4+) or mmap_lock, anonymous, file and copy-on-write faults. */
#include "baseline_vma/linux.h"

/* Internal result: retry the fault under mmap_lock (as VM_FAULT_RETRY does). */
#define LFAULT_RETRY ((enum vm_fault)100)
/* A flag in the error code passed to linux_handle_fault: only the VMA lock is held. */
#define LFAULT_VMA_LOCKED 0x80000000u

static struct sim_core *core_of(struct mmu_cpu *cpu) { return cpu->core; }

struct lvma *linux_find(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr)
{
	return mt_find(&mm->mt, cpu ? core_of(cpu) : NULL, addr);
}

struct lvma *linux_prev(struct lmm *mm, struct mmu_cpu *cpu, uint64_t addr)
{
	return mt_prev(&mm->mt, cpu ? core_of(cpu) : NULL, addr);
}

/* vma_start_write: wait for the VMA's readers, then mark it write-locked until mmap_write_unlock. */
void linux_vma_write_lock(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	uint64_t seq = atomic_load(&mm->mm_lock_seq);
	if (atomic_load(&v->lock_seq) == seq)
		return;
	if (cpu) {
		lk_down_write(cpu->core, &v->lock);
		sim_note_lock(cpu->core, "per-VMA lock of [%#llx, %#llx) for writing (waits out faults in it)",
			      (unsigned long long)lv_start(v), (unsigned long long)lv_end(v));
		coh_write(cpu->core, &v->line);
	}
	atomic_store(&v->lock_seq, seq);
	if (cpu)
		lk_up_write(cpu->core, &v->lock);
}

/* mmap_write_unlock: bumping mm_lock_seq releases every VMA write lock at once (vma_end_write_all). */
void linux_mmap_write_unlock(struct lmm *mm, struct mmu_cpu *cpu)
{
	coh_write(cpu->core, &mm->seq_line);
	atomic_fetch_add(&mm->mm_lock_seq, 1);
	lk_up_write(cpu->core, &mm->mmap_lock);
	sim_note(cpu->core, "mmap_lock released (and every VMA write lock with it: mm_lock_seq bumped)");
}

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

/* anon_vma_prepare: reuse a compatible neighbour's anon_vma, else a new one. mmap_lock held. */
void linux_anon_prepare(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v)
{
	if (v->av)
		return;
	lk_spin_lock(core_of(cpu), &mm->page_table_lock);
	if (!v->av) {
		struct vr_attr me = { lv_start(v), lv_end(v), v->flags, v->file, v->pgoff, 0, 0 };
		struct lvma *next = linux_find(mm, cpu, lv_end(v));
		struct lvma *prev = linux_prev(mm, cpu, lv_start(v));
		struct lvma *cand[2] = { next, prev };
		for (int k = 0; k < 2 && !v->av; k++) {
			struct lvma *o = cand[k];
			if (!o || !o->av || o->chain != 1)
				continue;
			struct vr_attr oa = { lv_start(o), lv_end(o), o->flags, o->file, o->pgoff, o->av, o->chain };
			if (k == 0 ? vr_av_compatible(&me, &oa) : vr_av_compatible(&oa, &me)) {
				v->av = o->av;
				v->chain = 1;
			}
		}
		if (!v->av) {
			v->av = atomic_fetch_add(&mm->next_av, 1);
			v->chain = 1;
		}
		coh_write(core_of(cpu), &v->line);
	}
	lk_spin_unlock(core_of(cpu), &mm->page_table_lock);
}

void linux_rss_add(struct lmm *mm, struct mmu_cpu *cpu, int32_t n)
{
	uint32_t ncores = mm->as->sys->sim->o.ncores;
	int32_t batch = (int32_t)MAX(32u, 2 * ncores);
	int32_t *d = &mm->rss_delta[cpu->core->id];
	*d += n;
	if (*d >= batch || *d <= -batch) {
		coh_atomic(cpu->core, &mm->rss_line);
		atomic_fetch_add(&mm->rss, *d);
		*d = 0;
	}
}

/* A new anonymous frame, zeroed, owned by this address space. 0 when memory is exhausted. */
static uint64_t anon_frame(struct lmm *mm, struct mmu_cpu *cpu)
{
	struct vm_sys *sys = mm->as->sys;
	uint64_t pfn = pm_alloc(sys->pm, core_of(cpu));
	if (!pfn)
		return 0;
	sys->pm->frames[pfn].owner = mm->as->pid;
	return pfn;
}

static bool is_file_page(struct lmm *mm, uint64_t pfn)
{
	return mm->as->sys->pm->frames[pfn].owner & 0x80000000u;
}

/* Try a 2 MiB anonymous page for a first fault in an empty, fully covered PMD. */
static enum vm_fault huge_anon_fault(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t va, bool *done)
{
	*done = false;
	struct vm_sys *sys = mm->as->sys;
	bool want = sys->o.thp_always ? !(v->flags & VR_NOHUGEPAGE) : (sys->o.thp && (v->flags & VR_HUGEPAGE));
	uint64_t base = va & ~(HUGE_2M - 1);
	if (!want || v->file || (v->flags & VR_SHARED) || base < lv_start(v) || base + HUGE_2M > lv_end(v))
		return VM_FAULT_OK;
	struct lpt_slot s;
	if (!lpt_walk(mm, cpu, base, true, true, &s))
		return VM_FAULT_OOM;
	if (lpt_get(cpu, &s))
		return VM_FAULT_OK; /* a table or a page is there already */
	uint64_t pfn = pm_alloc_huge(sys->pm, core_of(cpu));
	if (!pfn)
		return VM_FAULT_OK; /* no contiguous memory: fall back to 4 KiB */
	cycles_t tz = cpu->core->clock;
	for (int i = 0; i < 512; i++) {
		sys->pm->frames[pfn + i].owner = mm->as->pid;
		pm_zero(core_of(cpu));
	}
	sim_note(cpu->core, "transparent huge page: the aligned 2 MiB around the address lies inside the VMA, so 512 "
			    "contiguous frames from %#llx are zeroed (%llu cycles) and mapped by one PD entry",
		 (unsigned long long)pfn, (unsigned long long)(cpu->core->clock - tz));
	linux_anon_prepare(mm, cpu, v);
	lk_spin_lock(core_of(cpu), &mm->page_table_lock);
	if (!lpt_get(cpu, &s)) {
		lpt_set(cpu, &s, PTE_MK(pfn, lpt_prot_bits(v->flags, true) | PTE_PS | PTE_A | PTE_D));
		pfn = 0;
		*done = true;
		mm->st.thp_faults++;
	}
	lk_spin_unlock(core_of(cpu), &mm->page_table_lock);
	if (pfn)
		for (int i = 0; i < 512; i++)
			pm_put(sys->pm, core_of(cpu), pfn + i);
	vm_cst(mm->as, cpu)->frames_zeroed += 512;
	return VM_FAULT_OK;
}

enum vm_fault linux_handle_fault(struct lmm *mm, struct mmu_cpu *cpu, struct lvma *v, uint64_t va, uint32_t err)
{
	struct vm_sys *sys = mm->as->sys;
	struct sim_core *c = core_of(cpu);
	bool write = err & PF_W;
	uint32_t vf = v->flags;
	/* access_error */
	if (write ? !(vf & VM_PROT_WRITE) : ((err & PF_P) || !(vf & VR_PROT)))
		return VM_FAULT_SEGV;
	bool file = v->file != NULL, shared = vf & VR_SHARED;
	uint64_t idx = 0;
	if (file) {
		idx = v->pgoff + ((va - lv_start(v)) >> PAGE_SHIFT);
		if (idx >= vm_file_npages(v->file))
			return VM_FAULT_BUS;
	}
	/*
	 * vmf_anon_prepare: giving a VMA its anon_vma needs mmap_lock, so under
	 * a per-VMA lock (LFAULT_VMA_LOCKED in err) the fault is retried.
	 */
	if (!shared && write && !v->av) {
		if (err & LFAULT_VMA_LOCKED) {
			sim_note(c, "the VMA has no anon_vma yet, which needs mmap_lock: retry the fault under it");
			return LFAULT_RETRY;
		}
		linux_anon_prepare(mm, cpu, v);
	}

	if (!file && !(err & PF_P)) {
		bool done;
		enum vm_fault hr = huge_anon_fault(mm, cpu, v, va, &done);
		if (hr != VM_FAULT_OK || done)
			return hr;
	}

	/* Everything that allocates or sleeps happens before the page-table lock, as Linux does. */
	struct lpt_slot s;
	if (!lpt_walk(mm, cpu, va, true, false, &s))
		return VM_FAULT_OOM;
	if (s.level == 2) { /* a huge page is mapped: split it, then continue at 4 KiB */
		if (!lpt_split_huge(mm, cpu, va) || !lpt_walk(mm, cpu, va, true, false, &s))
			return VM_FAULT_OOM;
	}
	uint64_t cache_pfn = file ? vm_file_page(sys, cpu, v->file, idx) : 0;
	if (file && !cache_pfn)
		return VM_FAULT_OOM;
	uint64_t e0 = lpt_get(cpu, &s);
	uint64_t newpfn = 0;
	bool need_new = (!file && write && (!pte_mapped(e0) || PTE_PFN(e0) == sys->zero_pfn)) ||
			(file && !shared && write && (!pte_mapped(e0) || is_file_page(mm, PTE_PFN(e0)))) ||
			(!file && !shared && write && pte_mapped(e0) && !is_file_page(mm, PTE_PFN(e0)) &&
			 PTE_PFN(e0) != sys->zero_pfn && pm_ref(sys->pm, PTE_PFN(e0)) > 1);
	if (need_new) {
		newpfn = anon_frame(mm, cpu);
		if (!newpfn)
			return VM_FAULT_OOM;
		cycles_t tz = c->clock;
		pm_zero(c); /* clearing, or copying: see kern.zero_page */
		sim_note(c, "new frame %#llx allocated and %s (%llu cycles)", (unsigned long long)newpfn,
			 pte_mapped(e0) ? "filled with a copy" : "zeroed", (unsigned long long)(c->clock - tz));
	}

	struct lk_spin *ptl = lpt_lock_of(mm, &s);
	lk_spin_lock(c, ptl);
	sim_note_lock(c, "%s", ptl == &mm->page_table_lock ? "page_table_lock (the mm-wide one, for a PMD entry)"
							     : "the split PTE lock of the PT page");
	uint64_t e = lpt_get(cpu, &s);
	struct lflush fl = { 0 };
	enum vm_fault r = VM_FAULT_OK;
	uint64_t bits = lpt_prot_bits(vf, true) | PTE_A;
	if (!pte_mapped(e)) {
		if (!file) {
			if (write) {
				sim_note(c, "anonymous write fault: the new frame is mapped writable");
				lpt_set(cpu, &s, PTE_MK(newpfn, bits | PTE_D));
				vm_cst(mm->as, cpu)->frames_zeroed++;
				linux_rss_add(mm, cpu, 1);
				newpfn = 0;
			} else {
				sim_note(c, "anonymous read fault: the shared zero page is mapped read-only");
				lpt_set(cpu, &s, PTE_MK(sys->zero_pfn, lpt_prot_bits(vf, false)));
			}
		} else if (shared || !write) {
			sim_note(c, "file fault: page %llu of the file, frame %#llx in the page cache, is mapped%s",
				 (unsigned long long)idx, (unsigned long long)cache_pfn, shared && write ? " writable" : " read-only");
			pm_get(sys->pm, cache_pfn);
			lpt_set(cpu, &s, PTE_MK(cache_pfn, lpt_prot_bits(vf, shared && write) | PTE_A |
								   (shared && write ? PTE_D : 0)));
		} else {
			sim_note(c, "private file write fault: a private copy of the cached page is mapped writable");
			lpt_set(cpu, &s, PTE_MK(newpfn, bits | PTE_D));
			vm_cst(mm->as, cpu)->frames_copied++;
			newpfn = 0;
		}
	} else if (write && !(e & PTE_RW) && (e & PTE_P)) {
		uint64_t pfn = PTE_PFN(e);
		if (shared) {
			sim_note(c, "write to a shared page mapped read-only: made writable in place");
			lpt_set(cpu, &s, e | PTE_RW | PTE_D | PTE_A); /* wp_page_shared */
		} else if (pfn != sys->zero_pfn && !is_file_page(mm, pfn) && pm_ref(sys->pm, pfn) == 1) {
			sim_note(c, "copy-on-write fault, but frame %#llx has no other user: made writable in place (no copy)",
				 (unsigned long long)pfn);
			lpt_set(cpu, &s, e | PTE_RW | PTE_D | PTE_A); /* wp_page_reuse: we are the only user */
			mm->st.cow_reuses++;
		} else if (newpfn) {
			/* wp_page_copy: a new frame; the old mapping must leave every TLB first. */
			sim_note(c, "copy-on-write fault: frame %#llx (%s) is replaced by the new copy %#llx; the old "
				    "translation must leave every TLB",
				 (unsigned long long)pfn, pfn == sys->zero_pfn ? "the zero page" : "shared", (unsigned long long)newpfn);
			lpt_set(cpu, &s, PTE_MK(newpfn, bits | PTE_D));
			lflush_page(&fl, va, pfn == sys->zero_pfn ? 0 : pfn);
			if (pfn == sys->zero_pfn)
				vm_cst(mm->as, cpu)->frames_zeroed++;
			else
				vm_cst(mm->as, cpu)->frames_copied++;
			mm->st.cow_copies++;
			newpfn = 0;
		}
		/* else the page changed since we looked: returning lets the access fault again. */
	}
	else
		sim_note(c, "the entry was already fixed by another core: a spurious fault");
	/* else: resolved meanwhile by another core (a spurious fault). */
	if (fl.any)
		lflush_finish(mm, cpu, &fl);
	lk_spin_unlock(c, ptl);
	if (newpfn)
		pm_put(sys->pm, c, newpfn);
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
	if (prev && lv_end(prev) + VM_STACK_GUARD_GAP > a)
		return NULL;
	linux_vma_write_lock(mm, cpu, v);
	uint64_t old = lv_start(v);
	mt_erase(&mm->mt, core_of(cpu), old);
	v->pgoff -= (old - a) >> PAGE_SHIFT;
	atomic_store(&v->start, a);
	mt_insert(&mm->mt, core_of(cpu), v);
	return v;
}

enum vm_fault linux_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err)
{
	struct lmm *mm = lmm_of(as);
	struct sim_core *c = core_of(cpu);
	if (mm->per_vma_locks) {
		struct lvma *v = lock_vma_under_rcu(mm, cpu, va);
		if (v) {
			enum vm_fault r = linux_handle_fault(mm, cpu, v, va, err | LFAULT_VMA_LOCKED);
			lk_up_read(c, &v->lock);
			if (r != LFAULT_RETRY) {
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
		r = linux_handle_fault(mm, cpu, v, va, err);
		lk_up_read(c, &mm->mmap_lock);
		return r;
	}
	lk_up_read(c, &mm->mmap_lock);
	if (!v || !(v->flags & VR_GROWSDOWN))
		return VM_FAULT_SEGV;
	/* Stack growth needs mmap_lock for writing (lock_mm_and_find_vma). */
	lk_down_write(c, &mm->mmap_lock);
	v = expand_stack(mm, cpu, va);
	r = v ? linux_handle_fault(mm, cpu, v, va, err) : VM_FAULT_SEGV;
	linux_mmap_write_unlock(mm, cpu);
	return r;
}
