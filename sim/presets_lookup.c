/* presets_lookup.c: look up the machine presets compiled in from mmu/presets/. */
#include "sim/machine.h"

#include <string.h>

struct mmsim_preset {
	const char *name;
	const char *text;
};
extern const struct mmsim_preset mmsim_presets[];

const char *machine_preset_text(const char *name)
{
	for (const struct mmsim_preset *p = mmsim_presets; p->name; p++)
		if (!strcmp(p->name, name))
			return p->text;
	return NULL;
}

const char *const *machine_preset_names(void)
{
	static const char *names[64];
	size_t n = 0;
	for (const struct mmsim_preset *p = mmsim_presets; p->name && n + 1 < 64; p++)
		names[n++] = p->name;
	names[n] = NULL;
	return names;
}
