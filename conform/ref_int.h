/* ref_int.h: the reference model's state and the helpers its files share (page sets, the VMA array); not for use outside conform/. */
#ifndef MMSIM_REF_INT_H
#define MMSIM_REF_INT_H

#include "conform/ref.h"
#include "conform/ref_rules.h"

#define PG PAGE_SIZE

/* The state of a page in a file's page cache: RF_* bits, 0 when absent. */
#define RF_CACHED 1 /* in the cache and up to date: mincore says resident */
#define RF_FALLOC 2 /* allocated by fallocate, not yet written or faulted: mincore says not resident */
#define RF_MAYBE 4  /* COLD or PAGEOUT went over it: it may have been reclaimed */

/* A file and its page cache. */
struct ref_file {
	uint32_t id;
	uint64_t size, ncap;
	uint8_t *cached; /* RF_* per page, ncap pages */
	int refs;
};

/* One VMA. Invariant: the array is sorted by start, without overlaps. */
struct rvma {
	uint64_t start, end;
	uint32_t flags; /* RR_* */
	struct ref_file *file;
	uint64_t pgoff; /* in pages */
	uint32_t av;	/* anon_vma identity, 0 = none yet */
	uint8_t chain;	/* length of the anon_vma chain: 1 normally, more after fork */
};

/* What a page table entry of the model holds (RP_* bits; no entry: none). */
#define RP_ANON 1  /* a private frame: anonymous memory, or a copy-on-write copy of a file page */
#define RP_ZERO 2  /* the shared zero page (an anonymous read) */
#define RP_GUARD 4 /* a guard marker (MADV_GUARD_INSTALL): any access is SIGSEGV */
#define RP_MAYBE 8 /* FREE, COLD, PAGEOUT, MERGEABLE or COLLAPSE went over it: may be reclaimed */

/* A map from page number to RP_* bits (open addressing): the model's page table. */
struct refps {
	uint64_t *k; /* 0 empty, 1 deleted, else vpn + 2 */
	uint8_t *v;  /* the bits of k[i] */
	uint64_t cap, n, used;
};

struct ref {
	struct rvma *v;
	uint32_t n, cap;
	struct refps priv;
	uint64_t start_brk, brk;
	uint32_t next_av;
	uint32_t def_flags; /* added to every new VMA: RR_LOCKED (and RR_LOCKONFAULT) after mlockall(MCL_FUTURE) */
	struct ref_kernel k;
};

/* ---- page sets (ref_pset.c) ---- */

/* refps_get: the bits of page vpn (0: no entry). */
uint8_t refps_get(const struct refps *s, uint64_t vpn);
/* refps_set: give page vpn the bits v (0 removes its entry). */
void refps_set(struct refps *s, uint64_t vpn, uint8_t v);
/*
 * refps_take: remove the entries of [a, b) (bytes) but those with a bit of
 * keep; into *out (vpn << 8 | bits; the caller frees) when out is not NULL.
 * Returns the count.
 */
uint64_t refps_take(struct refps *s, uint64_t a, uint64_t b, uint8_t keep, uint64_t **out);
void refps_free(struct refps *s);

/* ---- the VMA array (ref_vma.c) ---- */

/* refv_find: index of the first VMA with end > addr (r->n if none). */
uint32_t refv_find(const struct ref *r, uint64_t addr);
/* refv_lookup: the VMA containing addr, or -1. */
int refv_lookup(const struct ref *r, uint64_t addr);
/* refv_insert: put v at index i (the array stays sorted: the caller chose i). */
void refv_insert(struct ref *r, uint32_t i, const struct rvma *v);
/* refv_remove: drop VMA i and its file reference. */
void refv_remove(struct ref *r, uint32_t i);
/* refv_rr: the attributes the rules compare. */
struct rr_vma refv_rr(const struct rvma *v);
/* refv_absorb_av: dst takes src's anon_vma if it has none (dup_anon_vma, when src merges into dst). */
void refv_absorb_av(struct rvma *dst, const struct rvma *src);
/*
 * refv_place: map [start, end) (free) with the given attributes, merged with
 * its neighbours as vma_merge_new_range does. Takes over one reference on
 * f. Returns the index of the VMA that holds the range.
 */
uint32_t refv_place(struct ref *r, uint64_t start, uint64_t end, uint32_t flags, struct ref_file *f, uint64_t pgoff,
		    uint32_t av, uint8_t chain);
/*
 * refv_modify: give [a, b) (inside VMA i) the flags nf: split off what is
 * outside, then merge with the neighbours where Linux would
 * (vma_modify_flags). Returns the index of the VMA that holds [a, b).
 */
uint32_t refv_modify(struct ref *r, uint32_t i, uint64_t a, uint64_t b, uint32_t nf);
/* refv_unmap: split the VMAs at a and b, remove what is between, drop its page table entries. */
void refv_unmap(struct ref *r, uint64_t a, uint64_t b);
/* refv_is_free: is [a, a + len) free, counting the guard gap below a grows-down VMA (the x86 hint test)? */
bool refv_is_free(const struct ref *r, uint64_t a, uint64_t len);
/* refv_topdown: the highest free gap of len bytes below the mmap base (vm_unmapped_area); 0 if none. */
uint64_t refv_topdown(const struct ref *r, uint64_t len);

/* ---- files (ref_file.c) ---- */

/* reff_pages: the file's size in pages, the last one partial. */
uint64_t reff_pages(const struct ref_file *f);
/* reff_cache: page idx enters f's page cache up to date (if inside the file). */
void reff_cache(struct ref_file *f, uint64_t idx);
/* reff_idx: the file page VMA v maps at va. */
static inline uint64_t reff_idx(const struct rvma *v, uint64_t va) { return v->pgoff + (va - v->start) / PG; }

/* ---- faults (ref_fault.c) ---- */

/* reff_fault: handle a fault at va in VMA i once its permissions are checked (and the stack grown). */
enum vm_fault reff_fault(struct ref *r, uint32_t i, uint64_t va, bool write);
/*
 * reff_populate: fault in [a, b) as __mm_populate does (MAP_POPULATE,
 * MAP_LOCKED, mlock): VMA by VMA, writing private writable memory and
 * reading the rest; a VMA that cannot be reached (PROT_NONE) or a fault
 * that fails stops it. 0, or -EFAULT on such a failure (with
 * ignore_errors, the next VMA goes on instead).
 */
int reff_populate(struct ref *r, uint64_t a, uint64_t b, bool ignore_errors);
/* reff_prepare_av: anon_vma_prepare for VMA i. */
void reff_prepare_av(struct ref *r, uint32_t i);

/* ---- argument checks (ref_check.c): 0 to go on (lengths rounded up), REFCHK_NOOP (return 0 at once), or -errno ---- */

#define REFCHK_NOOP 1
int refchk_mmap(const struct ref *r, uint64_t addr, uint64_t *len, int flags, uint64_t off);
int refchk_munmap(uint64_t addr, uint64_t *len);
int refchk_mprotect(uint64_t addr, uint64_t *len, int prot);
int refchk_madvise(const struct ref *r, uint64_t addr, uint64_t *len, int advice);
int refchk_mremap(uint64_t old, uint64_t *old_len, uint64_t *new_len, int flags, uint64_t new_addr);

#endif
