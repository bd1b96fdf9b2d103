/* registry.c: the list of workloads, by name. */
#include "workloads/wl.h"

#include <string.h>

extern const struct wl_def wl_paper_mmap, wl_paper_mmap_pf, wl_paper_pf, wl_paper_munmap_virt, wl_paper_munmap;

static const struct wl_def *const all[] = {
	&wl_paper_mmap, &wl_paper_mmap_pf, &wl_paper_pf, &wl_paper_munmap_virt, &wl_paper_munmap, NULL,
};

const struct wl_def *const *wl_all(void) { return all; }

const struct wl_def *wl_find(const char *name)
{
	for (const struct wl_def *const *w = all; *w; w++)
		if (!strcmp((*w)->name, name))
			return *w;
	return NULL;
}
