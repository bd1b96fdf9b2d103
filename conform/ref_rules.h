/* ref_rules.h: the reference model's own statement of Linux's VMA rules (vm_flags of a call, when two VMAs are one, anon_vma sharing), from mm/mmap.c, mm/vma.c, mm/mprotect.c. */
#ifndef MMSIM_REF_RULES_H
#define MMSIM_REF_RULES_H

#include "vm/vm.h"

/*
 * The oracle states these rules itself, apart from the library the designs
 * share (kmm/), so that a mistake there cannot agree with itself here.
 * Only the vm_flags that decide a split, a merge or a later result are
 * kept; their values are the model's own.
 */
#define RR_RWX 0x7u		/* VM_READ | VM_WRITE | VM_EXEC, as PROT_* */
#define RR_SHARED 0x8u		/* VM_SHARED | VM_MAYSHARE */
#define RR_ACCOUNT 0x10u	/* VM_ACCOUNT: charged to overcommit */
#define RR_NORESERVE 0x20u	/* VM_NORESERVE */
#define RR_GROWSDOWN 0x40u	/* VM_GROWSDOWN */
#define RR_NOHUGEPAGE 0x80u	/* VM_NOHUGEPAGE */
#define RR_HUGEPAGE 0x100u	/* VM_HUGEPAGE */
#define RR_LOCKED 0x200u	/* VM_LOCKED */
#define RR_RAND_READ 0x400u	/* VM_RAND_READ */
#define RR_SEQ_READ 0x800u	/* VM_SEQ_READ */
#define RR_DONTCOPY 0x1000u	/* VM_DONTCOPY: MADV_DONTFORK */
#define RR_WIPEONFORK 0x2000u	/* VM_WIPEONFORK */
#define RR_DONTDUMP 0x4000u	/* VM_DONTDUMP */
#define RR_MERGEABLE 0x8000u	/* VM_MERGEABLE: KSM may merge its pages */
#define RR_LOCKONFAULT 0x10000u /* VM_LOCKONFAULT: locked, but only as pages fault in */
#define RR_LOCKED_MASK (RR_LOCKED | RR_LOCKONFAULT)

/* RLIMIT_STACK's default: how far a grows-down VMA may reach below its end. */
#define RR_STACK_MAX (8ull << 20)

/* What Linux compares when it decides whether two pieces are one VMA. */
struct rr_vma {
	uint64_t start, end; /* bytes */
	uint32_t flags;	     /* RR_* */
	const void *file;    /* identity only */
	uint64_t pgoff;	     /* in pages */
	uint32_t av;	     /* anon_vma identity, 0 without one */
	uint8_t chain;	     /* anon_vma_chain entries: 1, more after fork */
};

static inline uint64_t rr_npages(const struct rr_vma *v) { return (v->end - v->start) / PAGE_SIZE; }

/*
 * rr_flags_of_mmap: the vm_flags do_mmap gives a new mapping from its
 * prot and flags. Private writable memory without MAP_NORESERVE is
 * accounted (accountable_mapping).
 */
static inline uint32_t rr_flags_of_mmap(int prot, int flags)
{
	uint32_t vf = (uint32_t)prot & RR_RWX;
	bool shared = (flags & VM_MAP_TYPE) != VM_MAP_PRIVATE;
	vf |= shared ? RR_SHARED : 0;
	vf |= flags & VM_MAP_NORESERVE ? RR_NORESERVE : 0;
	vf |= flags & VM_MAP_GROWSDOWN ? RR_GROWSDOWN : 0;
	vf |= flags & VM_MAP_STACK ? RR_NOHUGEPAGE : 0; /* (only with THP configured: the caller clears it otherwise) */
	vf |= flags & VM_MAP_LOCKED ? RR_LOCKED : 0;
	if (!shared && !(flags & VM_MAP_NORESERVE) && (prot & VM_PROT_WRITE))
		vf |= RR_ACCOUNT;
	return vf;
}

/*
 * rr_flags_of_mprotect: mprotect_fixup's new vm_flags. Becoming writable
 * charges private memory that was not charged; a private anonymous VMA
 * that never faulted (no anon_vma) stops being charged when it loses write.
 */
static inline uint32_t rr_flags_of_mprotect(uint32_t old, int prot, bool private_anon, bool has_av)
{
	uint32_t vf = (old & ~RR_RWX) | ((uint32_t)prot & RR_RWX);
	bool charged_or_exempt = old & (RR_ACCOUNT | RR_SHARED | RR_NORESERVE | VM_PROT_WRITE);
	if ((vf & VM_PROT_WRITE) && !charged_or_exempt)
		return vf | RR_ACCOUNT;
	if (!(vf & VM_PROT_WRITE) && (old & RR_ACCOUNT) && private_anon && !has_av)
		return vf & ~RR_ACCOUNT;
	return vf;
}

/*
 * rr_av_mergeable: is_mergeable_anon_vma. Two anon_vmas go together when
 * equal, or when one is missing and the other (with its chain length) was
 * not inherited over fork: its chain must be of one entry.
 */
static inline bool rr_av_mergeable(uint32_t a, uint8_t achain, uint32_t b, uint8_t bchain)
{
	if (a == b)
		return true;
	if (a && b)
		return false;
	return (a ? achain : bchain) == 1;
}

/* rr_same_kind: what both merge directions compare (vm_flags, file, anon_vma as seen by `nb`). */
static inline bool rr_same_kind(const struct rr_vma *nb, const struct rr_vma *x)
{
	return nb->flags == x->flags && nb->file == x->file && rr_av_mergeable(x->av, x->chain, nb->av, nb->chain);
}

/* rr_can_follow: can_vma_merge_after: x starts where prev ends and continues its file offsets. */
static inline bool rr_can_follow(const struct rr_vma *prev, const struct rr_vma *x)
{
	return prev->end == x->start && rr_same_kind(prev, x) && prev->pgoff + rr_npages(prev) == x->pgoff;
}

/* rr_can_precede: can_vma_merge_before: x ends where next starts and next continues x's offsets. */
static inline bool rr_can_precede(const struct rr_vma *next, const struct rr_vma *x)
{
	return x->end == next->start && rr_same_kind(next, x) && x->pgoff + rr_npages(x) == next->pgoff;
}

/*
 * rr_av_shareable: anon_vma_compatible: may lo and hi (adjacent, lo first)
 * share one anon_vma? Everything but the protection must match, and the
 * offsets must run on.
 */
static inline bool rr_av_shareable(const struct rr_vma *lo, const struct rr_vma *hi)
{
	return lo->end == hi->start && lo->file == hi->file && ((lo->flags ^ hi->flags) & ~RR_RWX) == 0 &&
	       lo->pgoff + rr_npages(lo) == hi->pgoff;
}

/* mprotect's bits beyond PROT_READ | PROT_WRITE | PROT_EXEC. */
#define RR_PROT_SEM 0x8
#define RR_PROT_GROWSDOWN 0x01000000
#define RR_PROT_GROWSUP 0x02000000

/* Advice values beyond vm/vm.h's (Linux's numbers). */
#define RR_MADV_REMOVE 9
#define RR_MADV_DONTFORK 10
#define RR_MADV_DOFORK 11
#define RR_MADV_MERGEABLE 12
#define RR_MADV_UNMERGEABLE 13
#define RR_MADV_DONTDUMP 16
#define RR_MADV_DODUMP 17
#define RR_MADV_WIPEONFORK 18
#define RR_MADV_KEEPONFORK 19
#define RR_MADV_COLD 20
#define RR_MADV_PAGEOUT 21
#define RR_MADV_POPULATE_READ 22
#define RR_MADV_POPULATE_WRITE 23
#define RR_MADV_DONTNEED_LOCKED 24
#define RR_MADV_COLLAPSE 25
#define RR_MADV_HWPOISON 100
#define RR_MADV_SOFT_OFFLINE 101
#define RR_MADV_GUARD_INSTALL 102
#define RR_MADV_GUARD_REMOVE 103

/* rr_flags_of_madvise: the vm_flags after an advice that changes them (madvise_update_vma); `old` for the others. */
static inline uint32_t rr_flags_of_madvise(uint32_t old, int advice)
{
	switch (advice) {
	case VM_MADV_NORMAL: return old & ~(RR_RAND_READ | RR_SEQ_READ);
	case VM_MADV_RANDOM: return (old | RR_RAND_READ) & ~RR_SEQ_READ;
	case VM_MADV_SEQUENTIAL: return (old | RR_SEQ_READ) & ~RR_RAND_READ;
	case VM_MADV_HUGEPAGE: return (old | RR_HUGEPAGE) & ~RR_NOHUGEPAGE;
	case VM_MADV_NOHUGEPAGE: return (old | RR_NOHUGEPAGE) & ~RR_HUGEPAGE;
	case RR_MADV_DONTFORK: return old | RR_DONTCOPY;
	case RR_MADV_DOFORK: return old & ~RR_DONTCOPY;
	case RR_MADV_WIPEONFORK: return old | RR_WIPEONFORK;
	case RR_MADV_KEEPONFORK: return old & ~RR_WIPEONFORK;
	case RR_MADV_DONTDUMP: return old | RR_DONTDUMP;
	case RR_MADV_DODUMP: return old & ~RR_DONTDUMP;
	case RR_MADV_MERGEABLE: return old & RR_SHARED ? old : old | RR_MERGEABLE; /* ksm_madvise leaves shared memory */
	case RR_MADV_UNMERGEABLE: return old & ~RR_MERGEABLE;
	}
	return old;
}

/* rr_fits_below: does [a, a + len) end below `next` (NULL: nothing above), keeping the stack guard gap of a grows-down next? */
static inline bool rr_fits_below(uint64_t a, uint64_t len, const struct rr_vma *next)
{
	if (!next)
		return true;
	uint64_t limit = next->start;
	if (next->flags & RR_GROWSDOWN)
		limit = limit > VM_STACK_GUARD_GAP ? limit - VM_STACK_GUARD_GAP : 0;
	return a + len <= limit;
}

/* rr_hint: the hint address do_mmap tries first (round_hint_to_min); 0: none. */
static inline uint64_t rr_hint(uint64_t addr)
{
	uint64_t h = addr & ~(uint64_t)(PAGE_SIZE - 1);
	return h && h < VM_MMAP_MIN_ADDR ? VM_MMAP_MIN_ADDR : h;
}

#endif
