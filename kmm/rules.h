/* rules.h: Linux's VMA rules as pure functions (flags from mmap/mprotect, merge and anon_vma compatibility), shared by the reference model and VMA-based designs. */
#ifndef MMSIM_VMRULES_H
#define MMSIM_VMRULES_H

#include "vm/vm.h"

/* vm_flags bits that decide merging, as Linux's. */
#define VR_PROT 7u		 /* VM_READ | VM_WRITE | VM_EXEC */
#define VR_SHARED (1u << 3)	 /* VM_SHARED (and VM_MAYSHARE) */
#define VR_ACCOUNT (1u << 4)	 /* VM_ACCOUNT: private writable memory is charged */
#define VR_NORESERVE (1u << 5)	 /* VM_NORESERVE */
#define VR_GROWSDOWN (1u << 6)	 /* VM_GROWSDOWN */
#define VR_NOHUGEPAGE (1u << 7)	 /* VM_NOHUGEPAGE (MAP_STACK implies it) */
#define VR_HUGEPAGE (1u << 8)	 /* VM_HUGEPAGE */
#define VR_LOCKED (1u << 9)	 /* VM_LOCKED */
#define VR_RAND (1u << 10)	 /* VM_RAND_READ */
#define VR_SEQ (1u << 11)	 /* VM_SEQ_READ */
#define VR_DONTCOPY (1u << 12)	 /* VM_DONTCOPY: MADV_DONTFORK */
#define VR_WIPEONFORK (1u << 13) /* VM_WIPEONFORK */
#define VR_DONTDUMP (1u << 14)	 /* VM_DONTDUMP */
#define VR_MERGEABLE (1u << 15)	 /* VM_MERGEABLE: KSM may merge its pages */
#define VR_LOCKONFAULT (1u << 16) /* VM_LOCKONFAULT: locked as pages fault in */
#define VR_LOCK_MASK (VR_LOCKED | VR_LOCKONFAULT)
#define VR_BRK_FLAGS (VM_PROT_READ | VM_PROT_WRITE | VR_ACCOUNT) /* do_brk_flags' VMA */

#define VR_STACK_LIMIT (8ull << 20) /* RLIMIT_STACK default */

/* What merging looks at in a VMA. `file` is compared by identity. */
struct vr_attr {
	uint64_t start, end;
	uint32_t flags;
	const void *file;
	uint64_t pgoff; /* pages */
	uint32_t av;	/* anon_vma identity; 0: none */
	uint8_t chain;	/* anon_vma_chain length (0 without an anon_vma; 1 unless inherited by fork) */
};

/* vm_flags for a new mapping (calc_vm_prot_bits, calc_vm_flag_bits, accountable_mapping). */
static inline uint32_t vr_mmap_flags(int prot, int flags)
{
	uint32_t f = (uint32_t)prot & VR_PROT;
	if ((flags & VM_MAP_TYPE) != VM_MAP_PRIVATE)
		f |= VR_SHARED;
	if (flags & VM_MAP_NORESERVE)
		f |= VR_NORESERVE;
	if (flags & VM_MAP_GROWSDOWN)
		f |= VR_GROWSDOWN;
	if (flags & VM_MAP_STACK)
		f |= VR_NOHUGEPAGE;
	if (flags & VM_MAP_LOCKED)
		f |= VR_LOCKED;
	if ((f & (VR_NORESERVE | VR_SHARED | VM_PROT_WRITE)) == VM_PROT_WRITE)
		f |= VR_ACCOUNT;
	return f;
}

/* vr_lock_flags: the VR_LOCK_MASK bits of a lock state (VM_LOCK_ON, VM_LOCK_ONFAULT). */
static inline uint32_t vr_lock_flags(unsigned to)
{
	return (to & VM_LOCK_ON ? VR_LOCKED : 0) | (to & VM_LOCK_ONFAULT ? VR_LOCKONFAULT : 0);
}

/* vr_def_flags: mm->def_flags: what mlockall(MCL_FUTURE) adds to every new mapping of as. */
static inline uint32_t vr_def_flags(const struct vm_as *as)
{
	return vr_lock_flags(atomic_load_explicit(&((struct vm_as *)as)->def_lock, memory_order_relaxed));
}

/* vr_map_of: a mapping with flags f as the design's query reports it (struct vm_map). */
static inline struct vm_map vr_map_of(uint64_t start, uint64_t end, uint32_t f, struct vm_file *file, uint64_t pgoff)
{
	return (struct vm_map){ start, end, f & VR_PROT,
				(f & VR_SHARED ? VM_MAPF_SHARED : 0) | (f & VR_GROWSDOWN ? VM_MAPF_GROWSDOWN : 0) |
					(f & VR_LOCKED ? VM_MAPF_LOCKED : 0) | (f & VR_LOCKONFAULT ? VM_MAPF_LOCKONFAULT : 0),
				file, pgoff };
}

/*
 * vm_flags after mprotect (mprotect_fixup): charge memory that becomes
 * writable, and uncharge anonymous memory that never faulted when it stops
 * being writable.
 */
static inline uint32_t vr_mprotect_flags(uint32_t of, int prot, bool anon_private, bool has_av)
{
	uint32_t nf = (of & ~VR_PROT) | ((uint32_t)prot & VR_PROT);
	if ((nf & VM_PROT_WRITE) && !(of & (VR_ACCOUNT | VM_PROT_WRITE | VR_SHARED | VR_NORESERVE)))
		nf |= VR_ACCOUNT;
	else if (!(nf & VM_PROT_WRITE) && (of & VR_ACCOUNT) && anon_private && !has_av)
		nf &= ~VR_ACCOUNT;
	return nf;
}

/* vm_flags after a madvise that changes them (madvise_update_vma); `of` otherwise. */
static inline uint32_t vr_madvise_flags(uint32_t of, int advice)
{
	switch (advice) {
	case VM_MADV_HUGEPAGE: return (of & ~VR_NOHUGEPAGE) | VR_HUGEPAGE;
	case VM_MADV_NOHUGEPAGE: return (of & ~VR_HUGEPAGE) | VR_NOHUGEPAGE;
	case VM_MADV_RANDOM: return (of & ~VR_SEQ) | VR_RAND;
	case VM_MADV_SEQUENTIAL: return (of & ~VR_RAND) | VR_SEQ;
	case VM_MADV_NORMAL: return of & ~(VR_RAND | VR_SEQ);
	case VM_MADV_DONTFORK: return of | VR_DONTCOPY;
	case VM_MADV_DOFORK: return of & ~VR_DONTCOPY;
	case VM_MADV_WIPEONFORK: return of | VR_WIPEONFORK;
	case VM_MADV_KEEPONFORK: return of & ~VR_WIPEONFORK;
	case VM_MADV_DONTDUMP: return of | VR_DONTDUMP;
	case VM_MADV_DODUMP: return of & ~VR_DONTDUMP;
	case VM_MADV_MERGEABLE: return of & VR_SHARED ? of : of | VR_MERGEABLE; /* ksm_madvise leaves shared memory */
	case VM_MADV_UNMERGEABLE: return of & ~VR_MERGEABLE;
	}
	return of;
}

/* vr_changes_flags: does the advice change vm_flags (madvise_update_vma), splitting and merging VMAs? */
static inline bool vr_changes_flags(int advice)
{
	switch (advice) {
	case VM_MADV_HUGEPAGE:
	case VM_MADV_NOHUGEPAGE:
	case VM_MADV_RANDOM:
	case VM_MADV_SEQUENTIAL:
	case VM_MADV_NORMAL:
	case VM_MADV_DONTFORK:
	case VM_MADV_DOFORK:
	case VM_MADV_WIPEONFORK:
	case VM_MADV_KEEPONFORK:
	case VM_MADV_DONTDUMP:
	case VM_MADV_DODUMP:
	case VM_MADV_MERGEABLE:
	case VM_MADV_UNMERGEABLE:
		return true;
	}
	return false;
}

/*
 * vr_advice_refused: madvise's refusals that depend on the mapping (flags
 * vf, file-backed or not), before it acts on it: -EINVAL, -EACCES or 0.
 * MADV_REMOVE's refusals are vm/as.c's (it works on the file).
 */
static inline int vr_advice_refused(uint32_t vf, bool file, int advice)
{
	bool locked = vf & VR_LOCKED, private_anon = !file && !(vf & VR_SHARED);
	switch (advice) {
	case VM_MADV_DONTNEED:
	case VM_MADV_COLD:
	case VM_MADV_PAGEOUT:
	case VM_MADV_GUARD_INSTALL: return locked ? -EINVAL : 0;
	case VM_MADV_FREE: return locked || !private_anon ? -EINVAL : 0;
	case VM_MADV_WIPEONFORK: return private_anon ? 0 : -EINVAL; /* anonymous private memory only */
	}
	return 0;
}

/*
 * vr_collapse_ok: may MADV_COLLAPSE work on the mapping [start, end) with
 * flags vf (thp_vma_allowable_order: private anonymous, room for one
 * aligned huge page, not NOHUGEPAGE)?
 */
static inline bool vr_collapse_ok(uint64_t start, uint64_t end, uint32_t vf, bool file)
{
	uint64_t h0 = (start + HUGE_2M - 1) & ~(HUGE_2M - 1), h1 = end & ~(HUGE_2M - 1);
	return !file && !(vf & VR_SHARED) && h0 < h1 && !(vf & VR_NOHUGEPAGE);
}

/* is_mergeable_anon_vma: `nb` is the neighbour whose chain is checked (NULL: none). */
static inline bool vr_av_ok(uint32_t a1, uint32_t a2, const struct vr_attr *nb)
{
	if ((!a1 || !a2) && (!nb || nb->chain == 1))
		return true;
	return a1 == a2;
}

/* is_mergeable_anon_vma for x beside nb: when only one has an anon_vma, that one's chain must be of one entry. */
static inline bool vr_av_pair_ok(const struct vr_attr *x, const struct vr_attr *nb)
{
	if (x->av && !nb->av)
		return x->chain == 1;
	return vr_av_ok(x->av, nb->av, nb);
}

/* can_vma_merge_after: may a range with attributes x follow `prev` in one VMA? */
static inline bool vr_merge_after(const struct vr_attr *prev, const struct vr_attr *x)
{
	return prev->end == x->start && prev->flags == x->flags && prev->file == x->file && vr_av_pair_ok(x, prev) &&
	       prev->pgoff + ((prev->end - prev->start) >> PAGE_SHIFT) == x->pgoff;
}

/* can_vma_merge_before: may x precede `next`? */
static inline bool vr_merge_before(const struct vr_attr *next, const struct vr_attr *x)
{
	return x->end == next->start && next->flags == x->flags && next->file == x->file && vr_av_pair_ok(x, next) &&
	       next->pgoff == x->pgoff + ((x->end - x->start) >> PAGE_SHIFT);
}

/* anon_vma_compatible: may b (right after a) share a's anon_vma (or a b's)? Protection may differ. */
static inline bool vr_av_compatible(const struct vr_attr *a, const struct vr_attr *b)
{
	return a->end == b->start && a->file == b->file && !((a->flags ^ b->flags) & ~VR_PROT) &&
	       b->pgoff == a->pgoff + ((b->start - a->start) >> PAGE_SHIFT);
}

/* The x86 hint rule: is [a, a + len) free given the VMA `next` at or above it (NULL: none)? */
static inline bool vr_gap_fits(uint64_t a, uint64_t len, const struct vr_attr *next)
{
	if (!next)
		return true;
	uint64_t gap = next->start;
	if (next->flags & VR_GROWSDOWN)
		gap = gap > VM_STACK_GUARD_GAP ? gap - VM_STACK_GUARD_GAP : 0;
	return a + len <= gap;
}

/*
 * vr_gap_top: vm_unmapped_area's top-down test of one gap: the gap between
 * below and above (either NULL: none; a stack above keeps its guard gap),
 * capped at high. The highest address of len free bytes in it, or 0.
 */
static inline uint64_t vr_gap_top(const struct vr_attr *below, const struct vr_attr *above, uint64_t high, uint64_t len)
{
	uint64_t low = below ? below->end : VM_MMAP_MIN_ADDR;
	uint64_t top = above ? MIN(high, above->start) : high;
	if (above && (above->flags & VR_GROWSDOWN))
		top = top > VM_STACK_GUARD_GAP ? top - VM_STACK_GUARD_GAP : 0;
	return top >= low && top - low >= len ? top - len : 0;
}

/*
 * vr_stack_gap_ok: may a grows-down VMA grow down to start with prev (its
 * flags prev_flags, ending at prev_end) below it? expand_downwards keeps the
 * stack guard gap only from an accessible VMA that does not grow down itself.
 */
static inline bool vr_stack_gap_ok(uint32_t prev_flags, uint64_t prev_end, uint64_t start)
{
	return (prev_flags & VR_GROWSDOWN) || !(prev_flags & VR_PROT) || prev_end + VM_STACK_GUARD_GAP <= start;
}

/* The adjusted hint (round_hint_to_min), 0 when there is none. */
static inline uint64_t vr_hint(uint64_t addr)
{
	uint64_t h = addr & ~(PAGE_SIZE - 1);
	if (h && h < VM_MMAP_MIN_ADDR)
		h = VM_MMAP_MIN_ADDR;
	return h;
}

/* vr_range: what the layout visitor reports for a VMA of as (the heap flag from as's brk). */
static inline struct vm_range vr_range(const struct vm_as *as, uint64_t start, uint64_t end, uint32_t flags,
				       struct vm_file *file, uint64_t pgoff)
{
	bool heap = !file && start >= as->start_brk && end <= vm_page_up(as->brk) && as->brk > as->start_brk;
	return (struct vm_range){
		.start = start,
		.end = end,
		.prot = flags & VR_PROT,
		.flags = (flags & VR_SHARED ? VM_RANGE_SHARED : 0) | (flags & VR_GROWSDOWN ? VM_RANGE_STACK : 0) |
			 (heap ? VM_RANGE_HEAP : 0),
		.kind = file ? VM_KIND_FILE : VM_KIND_ANON,
		.file = file,
		.file_id = file ? file->id : 0,
		.pgoff = file ? pgoff : 0,
	};
}

/* vr_moved: the VMA a's part from addr after move_vma puts it at new_addr with new_len (copy_vma: unfaulted private anonymous memory takes its new place's pgoff). */
static inline struct vr_attr vr_moved(struct vr_attr a, uint64_t addr, uint64_t new_addr, uint64_t new_len)
{
	a.pgoff += (addr - a.start) >> PAGE_SHIFT;
	if (!a.file && !(a.flags & VR_SHARED) && !a.av)
		a.pgoff = new_addr >> PAGE_SHIFT;
	a.start = new_addr;
	a.end = new_addr + new_len;
	return a;
}

/*
 * vr_mremap_target: whether an mremap names a range besides its source that
 * the call must lock: MREMAP_FIXED's target, or MREMAP_DONTUNMAP's hint for
 * get_unmapped_area when nonzero (0 names none: the kernel picks the place).
 */
static inline bool vr_mremap_target(int flags, uint64_t new_addr)
{
	return (flags & VM_MREMAP_FIXED) || ((flags & VM_MREMAP_DONTUNMAP) && new_addr);
}

/* vr_mremap_prep: check_prep_vma for [addr, addr + old_len) of the VMA a becoming new_len bytes (moves: it will move). 0 or -errno. */
static inline long vr_mremap_prep(const struct vr_attr *a, uint64_t addr, uint64_t old_len, uint64_t new_len, bool moves)
{
	if (new_len <= old_len && !moves)
		return 0;
	if (!old_len && !(a->flags & VR_SHARED))
		return -EINVAL;
	if (new_len < old_len)
		old_len = new_len;
	if (old_len > a->end - addr)
		return -EFAULT;
	if (new_len == old_len)
		return 0;
	uint64_t pgoff = a->pgoff + ((addr - a->start) >> PAGE_SHIFT);
	if (pgoff + (new_len >> PAGE_SHIFT) < pgoff)
		return -EINVAL;
	return 0;
}

#endif
