/* file.c: simulated files and their page cache (frames without data, one reference each). */
#include "vm/vm.h"

#include <string.h>

struct vm_file *vm_file_create(struct vm_sys *sys, const char *name, uint64_t size)
{
	struct vm_file *f = xzalloc(sizeof(*f));
	f->id = atomic_fetch_add(&sys->next_file_id, 1);
	f->size = size;
	f->npages_cap = vm_file_npages(f) ? vm_file_npages(f) : 1;
	f->pages = xzalloc(sizeof(uint64_t) * f->npages_cap);
	pthread_mutex_init(&f->lock, NULL);
	atomic_store(&f->refs, 1);
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "file");
	return f;
}

void vm_file_get(struct vm_file *f) { atomic_fetch_add(&f->refs, 1); }

void vm_file_put(struct vm_sys *sys, struct vm_file *f)
{
	if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	for (uint64_t i = 0; i < f->npages_cap; i++)
		if (f->pages[i])
			pm_put(sys->pm, NULL, f->pages[i]);
	pthread_mutex_destroy(&f->lock);
	xfree(f->pages);
	xfree(f->falloc);
	xfree(f);
}

bool vm_file_cached(struct vm_file *f, uint64_t idx)
{
	pthread_mutex_lock(&f->lock);
	bool r = idx < f->npages_cap && f->pages[idx];
	pthread_mutex_unlock(&f->lock);
	return r;
}

uint64_t vm_file_page(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t idx)
{
	struct sim_core *c = cpu ? cpu->core : NULL;
	/* The page cache index is a modelled line: lookups read it, insertions write it. */
	if (c)
		coh_read(c, &f->tree_line);
	pthread_mutex_lock(&f->lock);
	if (idx >= f->npages_cap) {
		uint64_t cap = f->npages_cap;
		while (cap <= idx)
			cap *= 2;
		f->pages = xrealloc(f->pages, sizeof(uint64_t) * cap);
		memset(f->pages + f->npages_cap, 0, sizeof(uint64_t) * (cap - f->npages_cap));
		f->npages_cap = cap;
	}
	uint64_t pfn = f->pages[idx];
	pthread_mutex_unlock(&f->lock);
	if (pfn)
		return pfn;
	/* Read it in: a fresh frame (the file is a memory file: new pages are zero). */
	pfn = pm_alloc(sys->pm, c);
	if (!pfn)
		return 0;
	if (c) {
		pm_zero(c);
		coh_write(c, &f->tree_line);
	}
	pthread_mutex_lock(&f->lock);
	if (f->pages[idx]) { /* another core read it in meanwhile */
		uint64_t won = f->pages[idx];
		pthread_mutex_unlock(&f->lock);
		pm_put(sys->pm, c, pfn);
		return won;
	}
	f->pages[idx] = pfn;
	sys->pm->frames[pfn].owner = VM_OWNER_FILE | f->id;
	pthread_mutex_unlock(&f->lock);
	return pfn;
}

void vm_file_drop(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi)
{
	struct sim_core *c = cpu ? cpu->core : NULL;
	if (c)
		coh_write(c, &f->tree_line);
	pthread_mutex_lock(&f->lock);
	for (uint64_t i = lo; i < hi && i < f->npages_cap; i++) {
		if (f->pages[i])
			pm_put(sys->pm, c, f->pages[i]);
		f->pages[i] = 0;
		if (i < f->nfalloc)
			f->falloc[i] = 0;
	}
	pthread_mutex_unlock(&f->lock);
}

void vm_file_allocate(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi)
{
	for (uint64_t i = lo; i < hi; i++) {
		pthread_mutex_lock(&f->lock);
		if (i >= f->nfalloc) {
			uint64_t n = f->nfalloc ? f->nfalloc : 16;
			while (n <= i)
				n *= 2;
			f->falloc = xrealloc(f->falloc, n);
			memset(f->falloc + f->nfalloc, 0, n - f->nfalloc);
			f->nfalloc = n;
		}
		bool cached = i < f->npages_cap && f->pages[i], again = f->falloc[i];
		f->falloc[i] = !cached && !again;
		pthread_mutex_unlock(&f->lock);
		if (again && !cached) /* allocated before and not yet written: now it is (shmem_get_folio SGP_FALLOC) */
			vm_file_page(sys, cpu, f, i);
	}
}
