/* leaf.c: Linux's rules for one leaf entry (protection bits, writability, the fault decision tree and what each outcome writes), written once for every design. */
#include "kmm/leaf.h"
#include "sim/watch.h"

uint64_t kmm_prot_bits(uint32_t vflags, bool writable_now)
{
	if (!(vflags & VR_PROT))
		return PTE_PROTNONE;
	uint64_t b = PTE_P | PTE_US;
	if (writable_now && (vflags & VM_PROT_WRITE))
		b |= PTE_RW;
	if (!(vflags & VM_PROT_EXEC))
		b |= PTE_NX;
	return b;
}

bool kmm_exclusive_anon(const struct vm_sys *sys, uint64_t pfn)
{
	return pfn != sys->zero_pfn && !vm_frame_is_file(sys, pfn) && pm_ref(sys->pm, pfn) == 1;
}

uint64_t kmm_reprotect(const struct vm_sys *sys, uint64_t e, uint32_t vflags, bool *shrinks)
{
	bool writable = (vflags & VR_SHARED) ? (e & PTE_D) != 0 : (e & PTE_RW) || kmm_exclusive_anon(sys, PTE_PFN(e));
	uint64_t n = (e & (PTE_PFN_MASK | PTE_A | PTE_D | PTE_PS)) | kmm_prot_bits(vflags, writable);
	*shrinks = n != e && (e & PTE_P) &&
		   (!(n & PTE_P) || ((e & PTE_RW) && !(n & PTE_RW)) || (!(e & PTE_NX) && (n & PTE_NX)));
	return n;
}

enum kmm_fa kmm_fault_decide(const struct vm_sys *sys, uint32_t vflags, bool file, bool beyond_eof, uint32_t err,
			     uint64_t pte)
{
	bool write = err & PF_W, shared = vflags & VR_SHARED;
	/* access_error */
	if (write ? !(vflags & VM_PROT_WRITE) : ((err & PF_P) || !(vflags & VR_PROT)))
		return KMM_FA_SEGV;
	if (file && beyond_eof)
		return KMM_FA_BUS;
	if (!pte_mapped(pte)) {
		if (!file)
			return write ? KMM_FA_ANON : KMM_FA_ZERO;
		return shared || !write ? KMM_FA_FILE : KMM_FA_FILE_COPY;
	}
	if (!write || (pte & PTE_RW) || !(pte & PTE_P))
		return KMM_FA_SPURIOUS;
	if (shared)
		return KMM_FA_SHARED_WP;
	/* A private page mapped read-only: a copy-on-write fault, whatever the mapping is backed by. */
	return kmm_exclusive_anon(sys, PTE_PFN(pte)) ? KMM_FA_COW_REUSE : KMM_FA_COW_COPY;
}

bool kmm_fault_apply(struct kmm_fault_do *x, enum kmm_fa a)
{
	struct vm_sys *sys = x->as->sys;
	struct sim_core *c = x->cpu->core;
	struct vm_core_stats *st = vm_cst(x->as, x->cpu);
	uint32_t vf = x->vflags;
	bool w = (vf & VR_SHARED) && x->write; /* a shared file page written: mapped writable and dirty */
	uint64_t pfn = PTE_PFN(x->pte), fresh = kmm_prot_bits(vf, true) | PTE_A | PTE_D;
	if (kmm_fa_needs_frame(a) && !x->newpfn)
		return false;
	switch (a) {
	case KMM_FA_ZERO:
		sim_note(c, "anonymous read fault: the shared zero page is mapped read-only");
		x->ops->set(x->arg, PTE_MK(sys->zero_pfn, kmm_prot_bits(vf, false)));
		break;
	case KMM_FA_ANON:
		sim_note(c, "anonymous write fault: the new frame is mapped writable");
		x->ops->set(x->arg, PTE_MK(x->newpfn, fresh));
		x->newpfn = 0;
		st->frames_zeroed++;
		break;
	case KMM_FA_FILE:
		sim_note(c, "file fault: page %llu of the file, frame %#llx in the page cache, is mapped%s",
			 (unsigned long long)x->file_idx, (unsigned long long)x->cache_pfn, w ? " writable" : " read-only");
		pm_get(sys->pm, x->cache_pfn);
		x->ops->set(x->arg, PTE_MK(x->cache_pfn, kmm_prot_bits(vf, w) | PTE_A | (w ? PTE_D : 0)));
		break;
	case KMM_FA_FILE_COPY:
		sim_note(c, "private file write fault: a private copy of the cached page is mapped writable");
		x->ops->set(x->arg, PTE_MK(x->newpfn, fresh));
		x->newpfn = 0;
		st->frames_copied++;
		break;
	case KMM_FA_SHARED_WP:
		sim_note(c, "write to a shared page mapped read-only: made writable in place");
		x->ops->set(x->arg, x->pte | PTE_RW | PTE_D | PTE_A);
		break;
	case KMM_FA_COW_REUSE:
		sim_note(c, "copy-on-write fault, but frame %#llx has no other user: made writable in place (no copy)",
			 (unsigned long long)pfn);
		x->ops->set(x->arg, x->pte | PTE_RW | PTE_D | PTE_A);
		atomic_fetch_add_explicit(x->cow_reuses, 1, memory_order_relaxed);
		break;
	case KMM_FA_COW_COPY:
		sim_note(c, "copy-on-write fault: frame %#llx (%s) is replaced by the new copy %#llx; the old "
			    "translation must leave every TLB",
			 (unsigned long long)pfn, pfn == sys->zero_pfn ? "the zero page" : "shared",
			 (unsigned long long)x->newpfn);
		x->ops->set(x->arg, PTE_MK(x->newpfn, fresh));
		x->newpfn = 0;
		x->ops->drop(x->arg, pfn);
		if (pfn == sys->zero_pfn)
			st->frames_zeroed++;
		else
			st->frames_copied++;
		atomic_fetch_add_explicit(x->cow_copies, 1, memory_order_relaxed);
		break;
	case KMM_FA_SPURIOUS:
		sim_note(c, "the entry was already fixed by another core: a spurious fault");
		break;
	case KMM_FA_SEGV:
	case KMM_FA_BUS:
		panic("kmm_fault_apply: %s is not a page-table change", a == KMM_FA_SEGV ? "SIGSEGV" : "SIGBUS");
	}
	return true;
}
