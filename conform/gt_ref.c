/* gt_ref.c: the reference model as a ground-truth target, set up as the recording's kernel was (its kernel and setting lines). */
#include "conform/gt.h"
#include "conform/ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GT_FILE_PAGES 32
#define GT_FILE_ID 1

struct reft {
	struct ref_kernel k;
	struct ref *r;
	struct ref_file *f;
};

/* The kernel the recording names: its version and settings over the defaults (older files have neither). */
static void kernel_of(const struct gt *g, struct ref_kernel *k)
{
	ref_kernel_default(k);
	if (!g)
		return;
	unsigned maj, min;
	if (sscanf(g->kernel, "%u.%u", &maj, &min) == 2)
		k->version = REF_VERSION(maj, min);
	const char *v;
	if ((v = gt_setting(g, "thp_enabled")))
		k->thp = strcmp(v, "-") != 0; /* no sysfs file: not configured */
	if ((v = gt_setting(g, "ksm_run")))
		k->ksm = strcmp(v, "-") != 0;
	if ((v = gt_setting(g, "memory_failure")))
		k->memory_failure = !strcmp(v, "1");
	if ((v = gt_setting(g, "overcommit_memory")))
		k->overcommit_never = !strcmp(v, "2");
	if ((v = gt_setting(g, "cap_ipc_lock")))
		k->cap_ipc_lock = !strcmp(v, "1");
	if ((v = gt_setting(g, "cap_sys_admin")))
		k->cap_sys_admin = !strcmp(v, "1");
	if ((v = gt_setting(g, "memlock_limit")))
		k->memlock_limit = !strcmp(v, "unlimited") ? UINT64_MAX : strtoull(v, NULL, 10);
}

static void ref_begin(void *p, uint64_t base)
{
	struct reft *x = p;
	x->r = ref_create_on(&x->k);
	x->f = ref_file_create(GT_FILE_ID, GT_FILE_PAGES * PAGE_SIZE);
	ref_mmap(x->r, base - 16 * PAGE_SIZE, 16 * PAGE_SIZE, 0, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED,
		 NULL, 0);
	ref_mmap(x->r, base + 48 * PAGE_SIZE, 16 * PAGE_SIZE, 0, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED,
		 NULL, 0);
}

static void ref_end(void *p)
{
	struct reft *x = p;
	ref_destroy(x->r);
	ref_file_put(x->f);
}

static struct ref *R(void *p) { return ((struct reft *)p)->r; }

static long r_mmap(void *p, uint64_t a, uint64_t l, int prot, int fl, bool file, uint64_t off)
{
	return ref_mmap(R(p), a, l, prot, fl, file ? ((struct reft *)p)->f : NULL, off);
}
static long r_munmap(void *p, uint64_t a, uint64_t l) { return ref_munmap(R(p), a, l); }
static long r_mprotect(void *p, uint64_t a, uint64_t l, int prot) { return ref_mprotect(R(p), a, l, prot); }
static long r_madvise(void *p, uint64_t a, uint64_t l, int adv) { return ref_madvise(R(p), a, l, adv); }
static long r_mremap(void *p, uint64_t a, uint64_t ol, uint64_t nl, int fl, uint64_t na)
{
	return ref_mremap(R(p), a, ol, nl, fl, na);
}
static enum vm_fault r_touch(void *p, uint64_t va, enum mmu_acc acc) { return ref_touch(R(p), va, acc); }

/* fork: follow the child, or keep the parent (the child exits at once). */
static long r_fork(void *p, bool child)
{
	struct reft *x = p;
	struct ref *c = ref_fork(x->r);
	if (child) {
		ref_destroy(x->r);
		x->r = c;
	} else {
		ref_destroy(c);
	}
	return 0;
}

static long r_mlock(void *p, uint64_t a, uint64_t l, int fl) { return ref_mlock(R(p), a, l, fl); }
static long r_munlock(void *p, uint64_t a, uint64_t l) { return ref_munlock(R(p), a, l); }
static long r_mlockall(void *p, int fl) { return ref_mlockall(R(p), fl); }
static long r_munlockall(void *p) { return ref_munlockall(R(p)); }
static long r_msync(void *p, uint64_t a, uint64_t l, int fl) { return ref_msync(R(p), a, l, fl); }
static long r_mincore(void *p, uint64_t a, uint64_t l) { return ref_mincore(R(p), a, l); }
static long r_ftruncate(void *p, uint64_t size) { return ref_ftruncate(R(p), ((struct reft *)p)->f, size); }
static long r_fallocate(void *p, int mode, int64_t off, int64_t len)
{
	return ref_fallocate(R(p), ((struct reft *)p)->f, mode, off, len);
}
static void r_layout(void *p, uint64_t s, uint64_t e, vm_visit_fn fn, void *arg) { ref_layout(R(p), s, e, fn, arg); }
static uint32_t r_seq_file(void *p)
{
	(void)p;
	return GT_FILE_ID;
}
static int r_resident(void *p, uint64_t va)
{
	enum ref_res v = ref_residency(R(p), va);
	return v == REF_RES_MAYBE ? GT_RES_MAYBE : v == REF_RES_YES ? GT_RES_YES : GT_RES_NO;
}

struct gt_target *gt_ref_target(const struct gt *g)
{
	struct gt_target *t = xzalloc(sizeof(*t));
	struct reft *x = xzalloc(sizeof(*x));
	kernel_of(g, &x->k);
	*t = (struct gt_target){ .t = x,
				 .has_vmas = true,
				 .begin_seq = ref_begin,
				 .end_seq = ref_end,
				 .mmap = r_mmap,
				 .munmap = r_munmap,
				 .mprotect = r_mprotect,
				 .madvise = r_madvise,
				 .mremap = r_mremap,
				 .touch = r_touch,
				 .fork = r_fork,
				 .mlock = r_mlock,
				 .munlock = r_munlock,
				 .mlockall = r_mlockall,
				 .munlockall = r_munlockall,
				 .msync = r_msync,
				 .mincore = r_mincore,
				 .ftruncate = r_ftruncate,
				 .fallocate = r_fallocate,
				 .layout = r_layout,
				 .seq_file = r_seq_file,
				 .resident = r_resident };
	return t;
}

void gt_ref_target_free(struct gt_target *t)
{
	if (!t)
		return;
	xfree(t->t);
	xfree(t);
}
