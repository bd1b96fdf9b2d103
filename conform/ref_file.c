/* ref_file.c: the reference model's files: size and page cache. */
#include "conform/ref_int.h"

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
		f->cached[idx] = 1;
}
