/* ref_int.h: the reference model's state and the helpers its files share (page sets, the VMA array); not for use outside conform/. */
#ifndef MMSIM_REF_INT_H
#define MMSIM_REF_INT_H

#include "conform/ref.h"
#include "conform/ref_rules.h"

#define PG PAGE_SIZE

/* A file and its page cache: cached[i] is 1 while page i is in the cache. */
struct ref_file {
	uint32_t id;
	uint64_t size, ncap;
	uint8_t *cached; /* one byte per page */
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

/* A set of page numbers (open addressing): the pages with a private frame (or the zero page) mapped. */
struct refps {
	uint64_t *k; /* 0 empty, 1 deleted, else vpn + 2 */
	uint64_t cap, n, used;
};

struct ref {
	struct rvma *v;
	uint32_t n, cap;
	struct refps priv;
	uint64_t start_brk, brk;
	uint32_t next_av;
};

/* ---- page sets (ref_pset.c) ---- */

bool refps_has(const struct refps *s, uint64_t vpn);
void refps_insert(struct refps *s, uint64_t vpn);
/* refps_take: remove the pages of [a, b) (bytes); into *out (caller frees) when out is not NULL. Returns the count. */
uint64_t refps_take(struct refps *s, uint64_t a, uint64_t b, uint64_t **out);

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
/* refv_unmap: split the VMAs at a and b, remove what is between, drop its private pages. */
void refv_unmap(struct ref *r, uint64_t a, uint64_t b);
/* refv_is_free: is [a, a + len) free, counting the guard gap below a grows-down VMA (the x86 hint test)? */
bool refv_is_free(const struct ref *r, uint64_t a, uint64_t len);
/* refv_topdown: the highest free gap of len bytes below the mmap base (vm_unmapped_area); 0 if none. */
uint64_t refv_topdown(const struct ref *r, uint64_t len);

/* ---- files (ref_file.c) ---- */

/* reff_pages: the file's size in pages, the last one partial. */
uint64_t reff_pages(const struct ref_file *f);
/* reff_cache: page idx enters f's page cache (if inside the file). */
void reff_cache(struct ref_file *f, uint64_t idx);

/* ---- faults (ref_fault.c) ---- */

/* reff_populate: fault in [a, b) as MAP_POPULATE does for a VMA with flags vf, until the first failure. */
void reff_populate(struct ref *r, uint64_t a, uint64_t b, uint32_t vf);

#endif
