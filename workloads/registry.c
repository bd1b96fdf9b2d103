/* registry.c: the list of workloads, by name. */
#include "workloads/wl.h"

#include <string.h>

extern const struct wl_def wl_pf, wl_mmap;

static const struct wl_def *const all[] = { &wl_pf, &wl_mmap, NULL };

const struct wl_def *const *wl_all(void) { return all; }

const struct wl_def *wl_find(const char *name)
{
	for (const struct wl_def *const *w = all; *w; w++)
		if (!strcmp((*w)->name, name))
			return *w;
	return NULL;
}
