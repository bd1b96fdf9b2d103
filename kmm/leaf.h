/* leaf.h: Linux's rules for one leaf entry, for every design: protection bits, when a page may be writable, and the page-fault decision (handle_pte_fault) with its narration. */
#ifndef MMSIM_KMM_LEAF_H
#define MMSIM_KMM_LEAF_H

#include "vm/vm.h"
#include "kmm/rules.h"

/* kmm_prot_bits: the leaf bits of a mapping with vm_flags vflags (VR_*): vm_page_prot, RW only if writable_now. */
uint64_t kmm_prot_bits(uint32_t vflags, bool writable_now);

/* kmm_exclusive_anon: may a private page on frame pfn become writable without a fault (can_change_pte_writable: an anonymous frame nobody else maps)? */
bool kmm_exclusive_anon(const struct vm_sys *sys, uint64_t pfn);

/*
 * kmm_reprotect: the entry e (mapped) after its mapping's flags became
 * vflags (change_pte_range): shared pages stay writable if dirty, private
 * ones if writable already or exclusive. Returns the new entry (e when
 * nothing changes); *shrinks says whether access was lost (pte_needs_flush:
 * only then must the old translation be flushed).
 */
uint64_t kmm_reprotect(const struct vm_sys *sys, uint64_t e, uint32_t vflags, bool *shrinks);

/*
 * What a page fault does (do_user_addr_fault's access_error, then
 * handle_pte_fault), decided once from the mapping's flags, the access and
 * the entry mapping the page now.
 */
enum kmm_fa {
	KMM_FA_SEGV,	  /* access_error: SIGSEGV */
	KMM_FA_BUS,	  /* a file page beyond the file's end: SIGBUS */
	KMM_FA_ZERO,	  /* anonymous read: the shared zero page, read-only (do_anonymous_page) */
	KMM_FA_ANON,	  /* anonymous write: a new zeroed frame, writable */
	KMM_FA_FILE,	  /* file read, or shared file write: the page-cache frame (do_read_fault, do_shared_fault) */
	KMM_FA_FILE_COPY, /* private file write: a private copy of the cached page (do_cow_fault) */
	KMM_FA_SHARED_WP, /* write to a shared page mapped read-only: made writable in place (wp_page_shared) */
	KMM_FA_COW_REUSE, /* copy-on-write on a frame nobody else maps: made writable in place (wp_page_reuse) */
	KMM_FA_COW_COPY,  /* copy-on-write: a new frame, zeroed for the zero page, else a copy (wp_page_copy) */
	KMM_FA_SPURIOUS,  /* the entry allows the access already (another core fixed it, or a stale TLB entry) */
};

/*
 * kmm_fault_decide: the action for an access with x86 error code err to a
 * page of a mapping with vm_flags vflags (file: file-backed; beyond_eof: the
 * page lies past the file's end), now mapped by the 4 KiB entry pte (0 if
 * none; a huge page's 4 KiB piece). Reads frame reference counts: stable
 * under the page's PTE lock (a design's equivalent).
 */
enum kmm_fa kmm_fault_decide(const struct vm_sys *sys, uint32_t vflags, bool file, bool beyond_eof, uint32_t err,
			     uint64_t pte);

/* kmm_fa_needs_frame: does the action map a new private frame (allocated and cleared before any lock is taken)? */
static inline bool kmm_fa_needs_frame(enum kmm_fa a)
{
	return a == KMM_FA_ANON || a == KMM_FA_FILE_COPY || a == KMM_FA_COW_COPY;
}

/*
 * How a design writes the entry a fault resolves: set (under the design's
 * lock of the page) installs e; drop: a copy-on-write copy replaced the
 * frame pfn, so the old translation must leave every TLB, and then the
 * frame loses the entry's reference (unless it is the zero page).
 */
struct kmm_fault_ops {
	void (*set)(void *arg, uint64_t e);
	void (*drop)(void *arg, uint64_t pfn);
};

/* struct kmm_fault_do: one decided fault, for kmm_fault_apply. */
struct kmm_fault_do {
	struct vm_as *as;
	struct mmu_cpu *cpu;
	uint32_t vflags;
	bool write;	    /* a write access */
	uint64_t pte;	    /* the entry decided on (a huge page's 4 KiB piece) */
	uint64_t file_idx;  /* KMM_FA_FILE: the file page, for the narration */
	uint64_t cache_pfn; /* KMM_FA_FILE: the page-cache frame (a reference is taken for the entry) */
	uint64_t newpfn;    /* a new frame (kmm_fa_needs_frame); set to 0 once the entry takes it */
	_Atomic uint64_t *cow_reuses, *cow_copies; /* the design's counters */
	const struct kmm_fault_ops *ops;
	void *arg;
};

/*
 * kmm_fault_apply: carry out action a (not SEGV or BUS): say what it does
 * (teaching mode), write the entry through x->ops, count it. Returns false
 * when a needs a new frame and x->newpfn is 0: the page changed since the
 * caller decided to allocate, nothing is done and the access faults again.
 */
bool kmm_fault_apply(struct kmm_fault_do *x, enum kmm_fa a);

#endif
