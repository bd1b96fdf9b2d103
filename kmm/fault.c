/* fault.c: fault resolution shared by the VMA designs: anonymous (zero page, THP), file, private-file and copy-on-write faults; RSS. */
#include "kmm/kmm.h"

const char *const kmm_thp_choices[] = { "never", "madvise", "always", NULL };

void kmm_init(struct kmm *k, struct vm_as *as, unsigned thp)
{
	k->as = as;
	k->thp = thp;
	lk_spin_init(&k->page_table_lock);
	k->rss_delta = xzalloc(sizeof(int32_t) * as->sys->sim->o.ncores);
}

void kmm_fini(struct kmm *k)
{
	xfree(k->rss_delta);
	k->rss_delta = NULL;
}

void kmm_rss_add(struct kmm *mm, struct mmu_cpu *cpu, int32_t n)
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
static uint64_t anon_frame(struct kmm *mm, struct mmu_cpu *cpu)
{
	struct vm_sys *sys = mm->as->sys;
	uint64_t pfn = pm_alloc(sys->pm, cpu->core);
	if (!pfn)
		return 0;
	sys->pm->frames[pfn].owner = mm->as->pid;
	return pfn;
}

static bool is_file_page(struct kmm *mm, uint64_t pfn)
{
	return mm->as->sys->pm->frames[pfn].owner & 0x80000000u;
}

/* Try a 2 MiB anonymous page for a first fault in an empty, fully covered PMD. */
static enum vm_fault huge_anon_fault(struct kmm *mm, struct mmu_cpu *cpu, struct kmm_vma *v, uint64_t va, bool *done)
{
	*done = false;
	struct vm_sys *sys = mm->as->sys;
	bool want = mm->thp == KMM_THP_ALWAYS ? !(v->flags & VR_NOHUGEPAGE)
					      : (mm->thp == KMM_THP_MADVISE && (v->flags & VR_HUGEPAGE));
	uint64_t base = va & ~(HUGE_2M - 1);
	if (!want || v->file || (v->flags & VR_SHARED) || base < v->start || base + HUGE_2M > v->end)
		return VM_FAULT_OK;
	struct kmm_slot s;
	if (!kmm_walk(mm, cpu, base, true, true, &s))
		return VM_FAULT_OOM;
	if (kmm_get(cpu, &s))
		return VM_FAULT_OK; /* a table or a page is there already */
	uint64_t pfn = pm_alloc_huge(sys->pm, cpu->core);
	if (!pfn)
		return VM_FAULT_OK; /* no contiguous memory: fall back to 4 KiB */
	cycles_t tz = cpu->core->clock;
	for (int i = 0; i < 512; i++) {
		sys->pm->frames[pfn + i].owner = mm->as->pid;
		pm_zero(cpu->core);
	}
	sim_note(cpu->core, "transparent huge page: the aligned 2 MiB around the address lies inside the VMA, so 512 "
			    "contiguous frames from %#llx are zeroed (%llu cycles) and mapped by one PD entry",
		 (unsigned long long)pfn, (unsigned long long)(cpu->core->clock - tz));
	if (!v->has_av && !v->anon_prepare(v->arg, cpu)) {
		for (int i = 0; i < 512; i++)
			pm_put(sys->pm, cpu->core, pfn + i);
		return KMM_FAULT_RETRY;
	}
	v->has_av = true;
	lk_spin_lock(cpu->core, &mm->page_table_lock);
	if (!kmm_get(cpu, &s)) {
		kmm_set(cpu, &s, PTE_MK(pfn, kmm_prot_bits(v->flags, true) | PTE_PS | PTE_A | PTE_D));
		pfn = 0;
		*done = true;
		kmm_stat_inc(&mm->st.thp_faults);
	}
	lk_spin_unlock(cpu->core, &mm->page_table_lock);
	if (pfn)
		for (int i = 0; i < 512; i++)
			pm_put(sys->pm, cpu->core, pfn + i);
	vm_cst(mm->as, cpu)->frames_zeroed += 512;
	return VM_FAULT_OK;
}

enum vm_fault kmm_fault(struct kmm *mm, struct mmu_cpu *cpu, struct kmm_vma *v, uint64_t va, uint32_t err)
{
	struct vm_sys *sys = mm->as->sys;
	struct sim_core *c = cpu->core;
	bool write = err & PF_W;
	uint32_t vf = v->flags;
	/* access_error */
	if (write ? !(vf & VM_PROT_WRITE) : ((err & PF_P) || !(vf & VR_PROT)))
		return VM_FAULT_SEGV;
	bool file = v->file != NULL, shared = vf & VR_SHARED;
	uint64_t idx = 0;
	if (file) {
		idx = v->pgoff + ((va - v->start) >> PAGE_SHIFT);
		if (idx >= vm_file_npages(v->file))
			return VM_FAULT_BUS;
	}
	/*
	 * vmf_anon_prepare: giving a VMA its anon_vma needs the design's
	 * stronger lock, so under a per-VMA lock (KMM_PF_VMA_LOCKED in err) the
	 * fault is retried; the caller narrates why.
	 */
	if (!shared && write && !v->has_av) {
		if ((err & KMM_PF_VMA_LOCKED) || !v->anon_prepare(v->arg, cpu))
			return KMM_FAULT_RETRY;
		v->has_av = true;
	}

	if (!file && !(err & PF_P)) {
		bool done;
		enum vm_fault hr = huge_anon_fault(mm, cpu, v, va, &done);
		if (hr != VM_FAULT_OK || done)
			return hr;
	}

	/* Everything that allocates or sleeps happens before the page-table lock, as Linux does. */
	struct kmm_slot s;
	if (!kmm_walk(mm, cpu, va, true, false, &s))
		return VM_FAULT_OOM;
	if (s.level == 2) { /* a huge page is mapped: split it, then continue at 4 KiB */
		if (!kmm_split_huge(mm, cpu, va) || !kmm_walk(mm, cpu, va, true, false, &s))
			return VM_FAULT_OOM;
	}
	uint64_t cache_pfn = file ? vm_file_page(sys, cpu, v->file, idx) : 0;
	if (file && !cache_pfn)
		return VM_FAULT_OOM;
	uint64_t e0 = kmm_get(cpu, &s);
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

	struct lk_spin *ptl = kmm_lock_of(mm, &s);
	lk_spin_lock(c, ptl);
	sim_note_lock(c, "%s", ptl == &mm->page_table_lock ? "page_table_lock (the mm-wide one, for a PMD entry)"
							     : "the split PTE lock of the PT page");
	uint64_t e = kmm_get(cpu, &s);
	struct kmm_flush fl = { 0 };
	enum vm_fault r = VM_FAULT_OK;
	uint64_t bits = kmm_prot_bits(vf, true) | PTE_A;
	if (!pte_mapped(e)) {
		if (!file) {
			if (write) {
				sim_note(c, "anonymous write fault: the new frame is mapped writable");
				kmm_set(cpu, &s, PTE_MK(newpfn, bits | PTE_D));
				vm_cst(mm->as, cpu)->frames_zeroed++;
				kmm_rss_add(mm, cpu, 1);
				newpfn = 0;
			} else {
				sim_note(c, "anonymous read fault: the shared zero page is mapped read-only");
				kmm_set(cpu, &s, PTE_MK(sys->zero_pfn, kmm_prot_bits(vf, false)));
			}
		} else if (shared || !write) {
			sim_note(c, "file fault: page %llu of the file, frame %#llx in the page cache, is mapped%s",
				 (unsigned long long)idx, (unsigned long long)cache_pfn, shared && write ? " writable" : " read-only");
			pm_get(sys->pm, cache_pfn);
			kmm_set(cpu, &s, PTE_MK(cache_pfn, kmm_prot_bits(vf, shared && write) | PTE_A |
								   (shared && write ? PTE_D : 0)));
		} else {
			sim_note(c, "private file write fault: a private copy of the cached page is mapped writable");
			kmm_set(cpu, &s, PTE_MK(newpfn, bits | PTE_D));
			vm_cst(mm->as, cpu)->frames_copied++;
			newpfn = 0;
		}
	} else if (write && !(e & PTE_RW) && (e & PTE_P)) {
		uint64_t pfn = PTE_PFN(e);
		if (shared) {
			sim_note(c, "write to a shared page mapped read-only: made writable in place");
			kmm_set(cpu, &s, e | PTE_RW | PTE_D | PTE_A); /* wp_page_shared */
		} else if (pfn != sys->zero_pfn && !is_file_page(mm, pfn) && pm_ref(sys->pm, pfn) == 1) {
			sim_note(c, "copy-on-write fault, but frame %#llx has no other user: made writable in place (no copy)",
				 (unsigned long long)pfn);
			kmm_set(cpu, &s, e | PTE_RW | PTE_D | PTE_A); /* wp_page_reuse: we are the only user */
			kmm_stat_inc(&mm->st.cow_reuses);
		} else if (newpfn) {
			/* wp_page_copy: a new frame; the old mapping must leave every TLB first. */
			sim_note(c, "copy-on-write fault: frame %#llx (%s) is replaced by the new copy %#llx; the old "
				    "translation must leave every TLB",
				 (unsigned long long)pfn, pfn == sys->zero_pfn ? "the zero page" : "shared", (unsigned long long)newpfn);
			kmm_set(cpu, &s, PTE_MK(newpfn, bits | PTE_D));
			kmm_flush_page(&fl, va, pfn == sys->zero_pfn ? 0 : pfn);
			if (pfn == sys->zero_pfn)
				vm_cst(mm->as, cpu)->frames_zeroed++;
			else
				vm_cst(mm->as, cpu)->frames_copied++;
			kmm_stat_inc(&mm->st.cow_copies);
			newpfn = 0;
		}
		/* else the page changed since we looked: returning lets the access fault again. */
	}
	else
		sim_note(c, "the entry was already fixed by another core: a spurious fault");
	/* else: resolved meanwhile by another core (a spurious fault). */
	if (fl.any)
		kmm_flush_finish(mm, cpu, &fl);
	lk_spin_unlock(c, ptl);
	if (newpfn)
		pm_put(sys->pm, c, newpfn);
	return r;
}

