/* check.h: invariant checks written once for the designs: what Linux's VMAs and the page table under them must satisfy (host only, no charges, nothing changed). */
#ifndef MMSIM_KMM_CHECK_H
#define MMSIM_KMM_CHECK_H

#include "vm/vm.h"
#include "kmm/rules.h"

/* kmm_fail: write the violation into why (snprintf) and return -1, for `return kmm_fail(...)`. */
int kmm_fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * kmm_would_merge: would Linux certainly have merged a and b (b right after
 * a) into one VMA? They touch, have the same flags and file, contiguous
 * offsets, and neither has an anon_vma: every path that makes such
 * neighbours (mmap, mprotect, madvise, mremap, brk) merges them from either
 * side. With anon_vmas Linux may leave neighbours apart that look alike:
 * is_mergeable_anon_vma refuses one without an anon_vma next to one whose
 * chain is not single, and anon_vma_prepare may then give the first the
 * second's anon_vma without merging them. So those are not checked.
 */
bool kmm_would_merge(const struct vr_attr *a, const struct vr_attr *b);

/*
 * kmm_check_maps: m[0..n) (consecutive VMAs, in the design's order) are
 * non-empty, page aligned, inside the user space, sorted and apart, have an
 * anon_vma chain exactly when they have an anon_vma, and no two neighbours are ones
 * Linux would have merged (kmm_would_merge), unless pt->unmerged says that
 * Linux left such neighbours (fork clearing locks, MREMAP_DONTUNMAP). 0, or
 * -1 with why.
 */
struct kmm;
int kmm_check_maps(const struct kmm *pt, const struct vr_attr *m, uint32_t n, char *why, size_t len);

/*
 * kmm_check_entry: a mapped leaf entry e at `level` for va agrees with the
 * mapping a that holds va (NULL: none holds it): it lies inside a; it is
 * present exactly when a allows some access, then user-accessible, RW only
 * if a is writable and NX exactly when a is not executable; in a shared
 * mapping it maps the file's cached frame of its page; in a private one it
 * maps no page-cache frame if anonymous, and when writable, frames this
 * process alone holds (one reference, no page cache, not the zero page).
 * 0, or -1 with why.
 */
int kmm_check_entry(const struct vm_sys *sys, const struct vr_attr *a, uint64_t va, int level, uint64_t e, char *why,
		    size_t len);

/*
 * kmm_check_leaves: kmm_check_entry for every mapped leaf of as's tables
 * in [start, end), against m[0..n), the VMAs that meet [start, end) in
 * order. Costs the tables over the range.
 */
int kmm_check_leaves(const struct vm_as *as, const struct vr_attr *m, uint32_t n, uint64_t start, uint64_t end,
		     char *why, size_t len);

#endif
