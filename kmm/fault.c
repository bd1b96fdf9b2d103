/* fault.c: page faults of the VMA designs: the anon_vma and THP steps, frames allocated before the PTE lock, then the shared decision (kmm/leaf.h) applied to the entry; RSS. */
#include "kmm/kmm.h"

const char *const kmm_thp_choices[] = { "never", "madvise", "always", NULL };

void kmm_init(struct kmm *k, struct vm_as *as, unsigned thp, unsigned tlb_flush)
{
	k->as = as;
	k->thp = thp;
	k->tlb_flush = tlb_flush;
	lk_spin_init(&k->page_table_lock);
	k->rss_delta = xzalloc(sizeof(int32_t) * as->sys->sim->o.ncores);
}

void kmm_fini(struct kmm *k)
{
	xfree(k->rss_delta);
	k->rss_delta = NULL;
}

void kmm_teardown(struct kmm *k)
{
	struct kmm_flush fl = { 0 };
	kmm_zap(k, NULL, 0, VM_TASK_SIZE, &fl);
	kmm_flush_finish(k, NULL, &fl);
	kmm_destroy_tables(k, NULL);
	kmm_fini(k);
}

void kmm_stats_emit(struct kmm *k, struct em *e)
{
	em_u64(e, "pt_pages_allocated", atomic_load(&k->st.pt_pages));
	em_u64(e, "shootdown_batches", atomic_load(&k->st.shootdowns));
	em_u64(e, "cow_copies", atomic_load(&k->st.cow_copies));
	em_u64(e, "cow_reuses", atomic_load(&k->st.cow_reuses));
	em_u64(e, "thp_faults", atomic_load(&k->st.thp_faults));
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

/* How kmm_fault_apply writes an entry here: through the slot, and a replaced frame goes with the flush batch. */
struct kset {
	struct mmu_cpu *cpu;
	const struct kmm_slot *s;
	struct kmm_flush *fl;
	uint64_t va, zero_pfn;
};

static void kset_set(void *arg, uint64_t e)
{
	struct kset *k = arg;
	kmm_set(k->cpu, k->s, e);
}

static void kset_drop(void *arg, uint64_t pfn)
{
	struct kset *k = arg;
	kmm_flush_page(k->fl, k->va, pfn == k->zero_pfn ? 0 : pfn);
}

static const struct kmm_fault_ops kset_ops = { kset_set, kset_drop };

enum vm_fault kmm_fault(struct kmm *mm, struct mmu_cpu *cpu, struct kmm_vma *v, uint64_t va, uint32_t err)
{
	struct vm_sys *sys = mm->as->sys;
	struct sim_core *c = cpu->core;
	bool write = err & PF_W;
	uint32_t vf = v->flags;
	bool file = v->file != NULL, shared = vf & VR_SHARED;
	uint64_t idx = file ? v->pgoff + ((va - v->start) >> PAGE_SHIFT) : 0;
	/* access_error and SIGBUS need no entry: decided before anything is looked up. */
	enum kmm_fa a = kmm_fault_decide(sys, vf, file, file && idx >= vm_file_npages(v->file), err, 0);
	if (a == KMM_FA_SEGV || a == KMM_FA_BUS)
		return a == KMM_FA_SEGV ? VM_FAULT_SEGV : VM_FAULT_BUS;
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
	if (e0 == KMM_PTE_GUARD) {
		sim_note(c, "a guard marker (MADV_GUARD_INSTALL) is in the entry: SIGSEGV");
		return VM_FAULT_SEGV;
	}
	uint64_t newpfn = 0;
	if (kmm_fa_needs_frame(kmm_fault_decide(sys, vf, file, false, err, e0))) {
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
	if (e == KMM_PTE_GUARD) { /* installed while we allocated */
		lk_spin_unlock(c, ptl);
		if (newpfn)
			pm_put(sys->pm, c, newpfn);
		return VM_FAULT_SEGV;
	}
	struct kmm_flush fl = { 0 };
	struct kset ks = { cpu, &s, &fl, va, sys->zero_pfn };
	struct kmm_fault_do x = { .as = mm->as, .cpu = cpu, .vflags = vf, .write = write, .pte = e, .file_idx = idx,
				  .cache_pfn = cache_pfn, .newpfn = newpfn, .cow_reuses = &mm->st.cow_reuses,
				  .cow_copies = &mm->st.cow_copies, .ops = &kset_ops, .arg = &ks };
	a = kmm_fault_decide(sys, vf, file, false, err, e);
	/* false: the entry changed since we looked and needs a frame we did not take: the access faults again. */
	if (kmm_fault_apply(&x, a) && a == KMM_FA_ANON)
		kmm_rss_add(mm, cpu, 1);
	if (fl.any)
		kmm_flush_finish(mm, cpu, &fl);
	lk_spin_unlock(c, ptl);
	if (x.newpfn)
		pm_put(sys->pm, c, x.newpfn);
	return VM_FAULT_OK;
}
