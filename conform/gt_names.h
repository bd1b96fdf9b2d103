/* gt_names.h: the names the ground-truth text gives to advice values and flag bits (Linux's x86-64 values), shared by the recorder (conform/live/gtrec.c) and the parser (conform/gt.c). */
#ifndef MMSIM_GT_NAMES_H
#define MMSIM_GT_NAMES_H

/* Plain data on purpose: the recorder is built without the simulator's headers. */
struct gtn {
	const char *name;
	long value;
};

/* Every madvise advice Linux 6.18 knows on x86-64 (the recorder also passes numbers it rejects, written in decimal). */
static const struct gtn gtn_advice[] = {
	{ "normal", 0 },	   { "random", 1 },		{ "sequential", 2 },	 { "willneed", 3 },
	{ "dontneed", 4 },	   { "free", 8 },		{ "remove", 9 },	 { "dontfork", 10 },
	{ "dofork", 11 },	   { "mergeable", 12 },		{ "unmergeable", 13 },	 { "hugepage", 14 },
	{ "nohugepage", 15 },	   { "dontdump", 16 },		{ "dodump", 17 },	 { "wipeonfork", 18 },
	{ "keeponfork", 19 },	   { "cold", 20 },		{ "pageout", 21 },	 { "populate-read", 22 },
	{ "populate-write", 23 },  { "dontneed-locked", 24 },	{ "collapse", 25 },	 { "hwpoison", 100 },
	{ "soft-offline", 101 },   { "guard-install", 102 },	{ "guard-remove", 103 }, { 0, 0 },
};

/* mmap flags beyond the kind and the mode: written as flags=a,b. */
static const struct gtn gtn_mmap_flags[] = {
	{ "growsdown", 0x100 }, { "locked", 0x2000 }, { "noreserve", 0x4000 }, { "populate", 0x8000 },
	{ "nonblock", 0x10000 }, { "stack", 0x20000 }, { 0, 0 },
};

/* mprotect's extra bits after the rwx letters: r--+growsdown. */
static const struct gtn gtn_prot_flags[] = {
	{ "sem", 0x8 }, { "growsdown", 0x01000000 }, { "growsup", 0x02000000 }, { 0, 0 },
};

/* mremap flags: inplace (none), maymove, maymove-fixed, maymove-dontunmap, ... */
static const struct gtn gtn_mremap_flags[] = {
	{ "inplace", 0 }, { "maymove", 1 }, { "fixed", 2 }, { "dontunmap", 4 }, { 0, 0 },
};

/* msync flags. */
static const struct gtn gtn_msync_flags[] = {
	{ "none", 0 }, { "async", 1 }, { "invalidate", 2 }, { "sync", 4 }, { 0, 0 },
};

/* mlock2 flags (mlock is mlock2 with none) and mlockall flags. */
static const struct gtn gtn_mlock_flags[] = { { "none", 0 }, { "onfault", 1 }, { 0, 0 } };
static const struct gtn gtn_mlockall_flags[] = {
	{ "none", 0 }, { "current", 1 }, { "future", 2 }, { "onfault", 4 }, { 0, 0 },
};

/* fallocate modes. */
static const struct gtn gtn_falloc_flags[] = {
	{ "none", 0 }, { "keep", 1 }, { "punch", 2 }, { "zero", 0x10 }, { 0, 0 },
};

#endif
