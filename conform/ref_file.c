/* ref_file.c: the reference model's files (a memfd: size and page cache), ftruncate and fallocate, with their effect on the mappings. */
#include "conform/ref_int.h"

#include <string.h>

struct ref_file *ref_file_create(uint32_t id, uint64_t size)
{
	struct ref_file *f = xzalloc(sizeof(*f));
	f->id = id;
	f->size = size;
	f->ncap = (size + PG - 1) / PG + 1;
	f->cached = xzalloc(f->ncap);
	f->refs = 1;
	return f;
}

void ref_file_put(struct ref_file *f)
{
	if (f && --f->refs == 0) {
		xfree(f->cached);
		xfree(f);
	}
}

uint64_t reff_pages(const struct ref_file *f) { return (f->size + PG - 1) / PG; }

void reff_cache(struct ref_file *f, uint64_t idx)
{
	if (idx < reff_pages(f))
		f->cached[idx] = RF_CACHED;
}

/* Room for n pages of cache state. */
static void reserve(struct ref_file *f, uint64_t n)
{
	if (n <= f->ncap)
		return;
	f->cached = xrealloc(f->cached, n);
	memset(f->cached + f->ncap, 0, n - f->ncap);
	f->ncap = n;
}

/*
 * Drop the page table entries of r that map pages [lo, hi) of f
 * (unmap_mapping_range): with even_cows, the private copies too; guard
 * markers stay.
 */
static void unmap_file_pages(struct ref *r, const struct ref_file *f, uint64_t lo, uint64_t hi, bool even_cows)
{
	for (uint32_t i = 0; i < r->n && lo < hi; i++) {
		const struct rvma *v = &r->v[i];
		if (v->file != f || !even_cows)
			continue; /* shared PTEs are not modelled: residency of shared pages is the cache's */
		uint64_t a = v->pgoff > lo ? 0 : lo - v->pgoff, b = hi - v->pgoff; /* pages into the VMA */
		if (hi <= v->pgoff || a >= (v->end - v->start) / PG)
			continue;
		b = b > (v->end - v->start) / PG ? (v->end - v->start) / PG : b;
		refps_take(&r->priv, v->start + a * PG, v->start + b * PG, RP_GUARD, NULL);
	}
}

int ref_ftruncate(struct ref *r, struct ref_file *f, uint64_t size)
{
	uint64_t hole = (size + PG - 1) / PG; /* the first page wholly beyond the new size */
	reserve(f, hole + 1);
	if (size < f->size) { /* shmem_setattr: the pages beyond go, copies too, from every mapping */
		unmap_file_pages(r, f, hole, UINT64_MAX / PG, true);
		memset(f->cached + hole, 0, f->ncap - hole);
	}
	f->size = size;
	return 0;
}

#define FL_KEEP_SIZE 1
#define FL_PUNCH_HOLE 2
#define FL_MODES 0xfe /* PUNCH_HOLE, COLLAPSE, ZERO, INSERT, UNSHARE, WRITE_ZEROES */

int ref_fallocate(struct ref *r, struct ref_file *f, int mode, int64_t off, int64_t len)
{
	/* vfs_fallocate */
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~(FL_MODES | FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if ((mode & FL_PUNCH_HOLE) && !(mode & FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	/* shmem_fallocate: only a hole punch or an allocation */
	if (mode & ~(FL_KEEP_SIZE | FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	uint64_t a = (uint64_t)off, b = a + (uint64_t)len;
	if (mode & FL_PUNCH_HOLE) { /* whole pages leave the cache; partial ones are zeroed and stay */
		uint64_t lo = (a + PG - 1) / PG, hi = b / PG;
		for (uint64_t p = lo; p < hi && p < f->ncap; p++)
			f->cached[p] = 0;
		(void)r; /* private copies stay: shared PTEs go, and they are the cache's */
		return 0;
	}
	uint64_t hi = (b + PG - 1) / PG;
	reserve(f, hi + 1);
	/* New pages are allocated but not up to date; one fallocated before is cleared now (shmem_get_folio SGP_FALLOC). */
	for (uint64_t p = a / PG; p < hi; p++)
		if (!(f->cached[p] & RF_CACHED))
			f->cached[p] = f->cached[p] & RF_FALLOC ? RF_CACHED : RF_FALLOC;
	if (!(mode & FL_KEEP_SIZE) && b > f->size)
		f->size = b;
	return 0;
}
