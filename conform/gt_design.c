/* gt_design.c: ground-truth replay against a design running on one simulated core. */
#include "vm/boot.h"
#include "conform/gt.h"

#include <stdio.h>

#define GT_FILE_PAGES 32

/* A design as a ground-truth target: a fresh address space and file per sequence, on core 0. */
struct dt {
	struct boot *b;
	struct mmu_cpu *cpu;
	struct vm_as *as;
	struct vm_file *f;
	uint64_t violations;
};

static void d_begin(void *p, uint64_t base)
{
	struct dt *x = p;
	x->as = vm_as_create(x->b->sys, x->cpu);
	x->f = vm_file_create(x->b->sys, "memfd", GT_FILE_PAGES * PAGE_SIZE);
	vm_switch(x->as, x->cpu);
	vm_mmap(x->as, x->cpu, base - 16 * PAGE_SIZE, 16 * PAGE_SIZE, 0,
		VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED, NULL, 0);
	vm_mmap(x->as, x->cpu, base + 48 * PAGE_SIZE, 16 * PAGE_SIZE, 0,
		VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED, NULL, 0);
}

static void d_end(void *p)
{
	struct dt *x = p;
	x->cpu->cur = NULL;
	vm_as_destroy(x->as, x->cpu);
	vm_file_put(x->b->sys, x->f);
}

static long d_mmap(void *p, uint64_t a, uint64_t l, int prot, int fl, bool file, uint64_t off)
{
	struct dt *x = p;
	return vm_mmap(x->as, x->cpu, a, l, prot, fl, file ? x->f : NULL, off);
}
static long d_munmap(void *p, uint64_t a, uint64_t l) { return vm_munmap(((struct dt *)p)->as, ((struct dt *)p)->cpu, a, l); }
static long d_mprotect(void *p, uint64_t a, uint64_t l, int prot)
{
	return vm_mprotect(((struct dt *)p)->as, ((struct dt *)p)->cpu, a, l, prot);
}
static long d_madvise(void *p, uint64_t a, uint64_t l, int adv)
{
	return vm_madvise(((struct dt *)p)->as, ((struct dt *)p)->cpu, a, l, adv);
}
static long d_mremap(void *p, uint64_t a, uint64_t ol, uint64_t nl, int fl, uint64_t na)
{
	return vm_mremap(((struct dt *)p)->as, ((struct dt *)p)->cpu, a, ol, nl, fl, na);
}
static enum vm_fault d_touch(void *p, uint64_t va, enum mmu_acc acc)
{
	return vm_access(((struct dt *)p)->as, ((struct dt *)p)->cpu, va, acc);
}
static void d_layout(void *p, uint64_t s, uint64_t e, vm_visit_fn fn, void *arg) { vm_layout(((struct dt *)p)->as, s, e, fn, arg); }
static int d_resident(void *p, uint64_t va) { return vm_resident(((struct dt *)p)->as, va) ? GT_RES_YES : GT_RES_NO; }
static uint32_t d_seq_file(void *p) { return ((struct dt *)p)->f->id; }

/* fork: vm_fork; go on as the child (the parent is torn down) or as the parent (the child is). */
static long d_fork(void *p, bool child)
{
	struct dt *x = p;
	struct vm_as *c = vm_fork(x->as, x->cpu);
	if (!c)
		return -ENOMEM;
	if (child) {
		x->cpu->cur = NULL;
		vm_as_destroy(x->as, x->cpu);
		x->as = c;
		vm_switch(c, x->cpu);
	} else {
		vm_as_destroy(c, x->cpu);
	}
	return 0;
}

/* The calls beyond mapping, through their wrappers (vm/calls.c). */
static long d_mlock(void *p, uint64_t a, uint64_t l, int fl) { return vm_mlock(((struct dt *)p)->as, ((struct dt *)p)->cpu, a, l, fl); }
static long d_munlock(void *p, uint64_t a, uint64_t l) { return vm_munlock(((struct dt *)p)->as, ((struct dt *)p)->cpu, a, l); }
static long d_mlockall(void *p, int fl) { return vm_mlockall(((struct dt *)p)->as, ((struct dt *)p)->cpu, fl); }
static long d_munlockall(void *p) { return vm_munlockall(((struct dt *)p)->as, ((struct dt *)p)->cpu); }
static long d_msync(void *p, uint64_t a, uint64_t l, int fl) { return vm_msync(((struct dt *)p)->as, ((struct dt *)p)->cpu, a, l, fl); }
static long d_mincore(void *p, uint64_t a, uint64_t l) { return vm_mincore(((struct dt *)p)->as, ((struct dt *)p)->cpu, a, l, NULL); }
static long d_ftruncate(void *p, uint64_t size)
{
	struct dt *x = p;
	return vm_ftruncate(x->b->sys, x->cpu, x->f, size);
}
static long d_fallocate(void *p, int mode, int64_t off, int64_t len)
{
	struct dt *x = p;
	return vm_fallocate(x->b->sys, x->cpu, x->f, mode, (uint64_t)off, (uint64_t)len);
}

struct run {
	const struct gt *g;
	struct gt_target t;
	struct gt_report *rep;
};

static void body(struct sim_core *c, void *arg)
{
	struct run *r = arg;
	struct dt *x = r->t.t;
	x->cpu = mmu_cpu_of(c);
	gt_replay(r->g, &r->t, r->rep);
}

int gt_replay_design(const struct gt *g, const char *design, const struct machine *m, struct gt_report *rep,
		     char *err, size_t errlen)
{
	const struct vm_design *d = vm_design_find(design);
	if (!d) {
		snprintf(err, errlen, "no design '%s' (try 'mmsim designs')", design);
		return -1;
	}
	struct boot_opts bo;
	boot_defaults(&bo, m, d, 1);
	struct dt x = { 0 };
	x.b = boot_create(&bo);
	struct run r = { g,
			 { .t = &x, .has_vmas = d->has_vmas, .begin_seq = d_begin, .end_seq = d_end, .mmap = d_mmap,
			   .munmap = d_munmap, .mprotect = d_mprotect, .madvise = d_madvise, .mremap = d_mremap,
			   .touch = d_touch, .fork = d_fork, .mlock = d_mlock, .munlock = d_munlock,
			   .mlockall = d_mlockall, .munlockall = d_munlockall, .msync = d_msync,
			   .mincore = d_mincore, .ftruncate = d_ftruncate, .fallocate = d_fallocate,
			   .layout = d_layout, .seq_file = d_seq_file, .resident = d_resident },
			 rep };
	sim_run(x.b->sim, body, &r);
	struct mmu_cpu_stats ms;
	mmu_stats_sum(x.b->mmu, &ms);
	rep->tlb_violations = ms.tlb_violations;
	rep->leaked_frames = boot_destroy(x.b);
	return 0;
}
