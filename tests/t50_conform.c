/* t50_conform.c: the conformance suite, built once per design (DESIGN): every step compared with the reference model; concurrency, checker mutation and frame accounting. */
#include "tests/harness.h"
#include "vm/boot.h"
#include "sim/lock.h"
#include "conform/gt.h"
#include "conform/ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DESIGN
#error "build with -DDESIGN=\"name\""
#endif

static struct machine M;
static const struct vm_design *D;

#define WPAGES 128			 /* the window the random ops work in */
#define FILE_PAGES 48			 /* the file is shorter than the window: SIGBUS beyond it */
#define WBASE 0x7d0000000000ull		 /* window base, far from where designs place unfixed mappings */

/* ---- one design and one reference, side by side ---- */

struct pair {
	struct boot *b;
	struct mmu_cpu *cpu;
	struct vm_as *as;
	struct vm_file *f;
	struct ref *r;
	struct ref_file *rf;
	uint64_t base;
	char why[400]; /* first difference found */
	uint64_t steps;
};

static const char *acc_name(enum mmu_acc a) { return a == ACC_R ? "r" : a == ACC_W ? "w" : "x"; }

/* Compare layout (per page; VMA boundaries for designs with VMAs) and residency over the window. */
struct pages {
	struct vm_range pg[WPAGES + 32];
	struct vm_range vma[WPAGES + 32];
	uint32_t nv;
	uint64_t base;
};

static void take(void *arg, const struct vm_range *r)
{
	struct pages *p = arg;
	for (uint64_t va = MAX(r->start, p->base - 16 * PAGE_SIZE); va < r->end && va < p->base + WPAGES * PAGE_SIZE;
	     va += PAGE_SIZE) {
		struct vm_range *x = &p->pg[(va - (p->base - 16 * PAGE_SIZE)) >> PAGE_SHIFT];
		*x = *r;
		x->start = va;
		x->end = va + PAGE_SIZE;
		x->pgoff = r->kind == VM_KIND_FILE ? r->pgoff + ((va - r->start) >> PAGE_SHIFT) : 0;
		x->file = NULL;
		x->flags &= VM_RANGE_SHARED;
	}
	if (p->nv < ARRAY_SIZE(p->vma))
		p->vma[p->nv++] = *r;
}

static bool compare(struct pair *x, const char *after)
{
	uint64_t lo = x->base - 16 * PAGE_SIZE, hi = x->base + WPAGES * PAGE_SIZE;
	struct pages *a = xzalloc(sizeof(*a)), *b = xzalloc(sizeof(*b));
	a->base = b->base = x->base;
	vm_layout(x->as, lo, hi, take, a);
	ref_layout(x->r, lo, hi, take, b);
	bool ok = true;
	for (uint32_t i = 0; i < ARRAY_SIZE(a->pg) && ok; i++) {
		struct vm_range *p = &a->pg[i], *q = &b->pg[i];
		uint64_t va = lo + i * PAGE_SIZE;
		if (va >= hi)
			break;
		bool pm = p->end != 0, qm = q->end != 0;
		if (pm != qm || (pm && (p->prot != q->prot || p->kind != q->kind || p->flags != q->flags ||
					p->pgoff != q->pgoff))) {
			snprintf(x->why, sizeof(x->why), "after %s: page %+lld: design %s prot %u kind %d pgoff %llu, "
				 "reference %s prot %u kind %d pgoff %llu", after,
				 (long long)((int64_t)(va - x->base) >> PAGE_SHIFT), pm ? "mapped" : "unmapped", p->prot,
				 p->kind, (unsigned long long)p->pgoff, qm ? "mapped" : "unmapped", q->prot, q->kind,
				 (unsigned long long)q->pgoff);
			ok = false;
			break;
		}
		if (pm && vm_resident(x->as, va) != ref_resident(x->r, va)) {
			snprintf(x->why, sizeof(x->why), "after %s: page %+lld resident: design %d, reference %d", after,
				 (long long)((int64_t)(va - x->base) >> PAGE_SHIFT), vm_resident(x->as, va),
				 ref_resident(x->r, va));
			ok = false;
		}
	}
	if (ok && D->has_vmas) {
		bool same = a->nv == b->nv;
		for (uint32_t i = 0; same && i < a->nv; i++)
			same = MAX(a->vma[i].start, lo) == MAX(b->vma[i].start, lo) &&
			       MIN(a->vma[i].end, hi) == MIN(b->vma[i].end, hi);
		if (!same) {
			snprintf(x->why, sizeof(x->why), "after %s: VMA boundaries differ (%u VMAs, reference %u)", after,
				 a->nv, b->nv);
			ok = false;
		}
	}
	xfree(a);
	xfree(b);
	return ok;
}

static void pair_open(struct pair *x, struct mmu_cpu *cpu, struct boot *b, uint64_t base)
{
	memset(x, 0, sizeof(*x));
	x->b = b;
	x->cpu = cpu;
	x->base = base;
	x->as = vm_as_create(b->sys, cpu);
	x->f = vm_file_create(b->sys, "file", FILE_PAGES * PAGE_SIZE);
	x->r = ref_create();
	x->rf = ref_file_create(x->f->id, FILE_PAGES * PAGE_SIZE);
	vm_switch(x->as, cpu);
}

static void pair_close(struct pair *x)
{
	if (x->cpu->cur == &x->as->hw)
		x->cpu->cur = NULL;
	vm_as_destroy(x->as, x->cpu);
	vm_file_put(x->b->sys, x->f);
	ref_destroy(x->r);
	ref_file_put(x->rf);
}

/* ---- operations, applied to both sides; false (with x->why) on the first difference ---- */

static bool trace_on(void)
{
	static int on = -1;
	if (on < 0)
		on = getenv("T50_TRACE") != NULL;
	return on;
}

static void trace_layout(void *arg, const struct vm_range *r)
{
	uint64_t base = *(uint64_t *)arg;
	fprintf(stderr, "    [%+lld, %+lld) prot %u kind %d flags %#x pgoff %llu\n",
		(long long)((int64_t)(r->start - base) >> PAGE_SHIFT), (long long)((int64_t)(r->end - base) >> PAGE_SHIFT),
		r->prot, r->kind, r->flags, (unsigned long long)r->pgoff);
}

static bool check_ret(struct pair *x, const char *what, long got, long want)
{
	if (trace_on()) { /* T50_TRACE=1: every step, with the reference's VMAs */
		fprintf(stderr, "%s -> design %ld, reference %ld\n", what, got, want);
		ref_layout(x->r, x->base - 16 * PAGE_SIZE, x->base + WPAGES * PAGE_SIZE, trace_layout, &x->base);
	}
	if (got == want)
		return true;
	snprintf(x->why, sizeof(x->why), "%s: design returned %ld, reference %ld", what, got, want);
	return false;
}

static bool do_mmap(struct pair *x, int64_t off, uint64_t len, int prot, int flags, bool file, uint64_t foff)
{
	uint64_t addr = x->base + (uint64_t)off;
	long a = vm_mmap(x->as, x->cpu, addr, len, prot, flags, file ? x->f : NULL, foff);
	long b = ref_mmap(x->r, addr, len, prot, flags, file ? x->rf : NULL, foff);
	char what[160];
	snprintf(what, sizeof(what), "mmap(%+lld, %#llx, %d, %#x, %s, %#llx)", (long long)off, (unsigned long long)len,
		 prot, flags, file ? "file" : "anon", (unsigned long long)foff);
	bool hint = !(flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE));
	if (hint && a >= 0 && b >= 0 && ((uint64_t)a != addr || (uint64_t)b != addr)) {
		/* Not honoured: designs may place it anywhere else; both must agree it moved, then drop it. */
		if (((uint64_t)a == addr) != ((uint64_t)b == addr))
			return check_ret(x, what, a, b);
		vm_munmap(x->as, x->cpu, (uint64_t)a, len);
		ref_munmap(x->r, (uint64_t)b, len);
		return compare(x, what);
	}
	return check_ret(x, what, a, b) && compare(x, what);
}

static bool do_munmap(struct pair *x, int64_t off, uint64_t len)
{
	uint64_t addr = x->base + (uint64_t)off;
	char what[96];
	snprintf(what, sizeof(what), "munmap(%+lld, %#llx)", (long long)off, (unsigned long long)len);
	return check_ret(x, what, vm_munmap(x->as, x->cpu, addr, len), ref_munmap(x->r, addr, len)) && compare(x, what);
}

/* ranged: judge a call NAME(off, len, arg) made on both sides (got, want), then (with layout) the layouts. */
static bool ranged(struct pair *x, const char *name, int64_t off, uint64_t len, long arg, long got, long want,
		   bool layout)
{
	char what[96];
	snprintf(what, sizeof(what), "%s(%+lld, %#llx, %ld)", name, (long long)off, (unsigned long long)len, arg);
	return check_ret(x, what, got, want) && (!layout || compare(x, what));
}

static bool do_mprotect(struct pair *x, int64_t off, uint64_t len, int prot)
{
	uint64_t a = x->base + (uint64_t)off;
	return ranged(x, "mprotect", off, len, prot, vm_mprotect(x->as, x->cpu, a, len, prot),
		      ref_mprotect(x->r, a, len, prot), true);
}

static bool do_madvise(struct pair *x, int64_t off, uint64_t len, int adv)
{
	uint64_t a = x->base + (uint64_t)off;
	return ranged(x, "madvise", off, len, adv, vm_madvise(x->as, x->cpu, a, len, adv), ref_madvise(x->r, a, len, adv),
		      true);
}

static bool do_mremap(struct pair *x, int64_t off, uint64_t ol, uint64_t nl, int flags, int64_t to)
{
	uint64_t addr = x->base + (uint64_t)off, na = x->base + (uint64_t)to;
	char what[128];
	snprintf(what, sizeof(what), "mremap(%+lld, %#llx, %#llx, %d, %+lld)", (long long)off, (unsigned long long)ol,
		 (unsigned long long)nl, flags, (long long)to);
	long got = vm_mremap(x->as, x->cpu, addr, ol, nl, flags, na), want = ref_mremap(x->r, addr, ol, nl, flags, na);
	return check_ret(x, what, got, want) && compare(x, what);
}

static bool do_touch(struct pair *x, int64_t off, enum mmu_acc acc)
{
	uint64_t va = x->base + (uint64_t)off;
	char what[96];
	snprintf(what, sizeof(what), "touch(%+lld, %s)", (long long)off, acc_name(acc));
	return check_ret(x, what, vm_access(x->as, x->cpu, va, acc), ref_touch(x->r, va, acc)) && compare(x, what);
}

static bool do_brk(struct pair *x, int64_t delta)
{
	uint64_t nb = (uint64_t)((int64_t)ref_brk_now(x->r) + delta);
	char what[64];
	snprintf(what, sizeof(what), "brk(%+lld)", (long long)delta);
	return check_ret(x, what, vm_brk(x->as, x->cpu, nb), ref_brk(x->r, nb));
}

/* The calls beyond mapping (issue 18), on both sides. */
static bool do_mlock(struct pair *x, int64_t off, uint64_t len, int flags)
{
	uint64_t a = x->base + (uint64_t)off;
	return ranged(x, "mlock2", off, len, flags, vm_mlock(x->as, x->cpu, a, len, flags), ref_mlock(x->r, a, len, flags),
		      true);
}

static bool do_munlock(struct pair *x, int64_t off, uint64_t len)
{
	uint64_t addr = x->base + (uint64_t)off;
	char what[96];
	snprintf(what, sizeof(what), "munlock(%+lld, %#llx)", (long long)off, (unsigned long long)len);
	return check_ret(x, what, vm_munlock(x->as, x->cpu, addr, len), ref_munlock(x->r, addr, len)) && compare(x, what);
}

static bool do_mlockall(struct pair *x, int flags)
{
	char what[64];
	snprintf(what, sizeof(what), "mlockall(%d)", flags);
	long a = flags ? vm_mlockall(x->as, x->cpu, flags) : vm_munlockall(x->as, x->cpu);
	return check_ret(x, what, a, flags ? ref_mlockall(x->r, flags) : ref_munlockall(x->r)) && compare(x, what);
}

static bool do_msync(struct pair *x, int64_t off, uint64_t len, int flags)
{
	uint64_t a = x->base + (uint64_t)off;
	return ranged(x, "msync", off, len, flags, vm_msync(x->as, x->cpu, a, len, flags), ref_msync(x->r, a, len, flags),
		      false);
}

/* do_mincore: the result, and every page's byte against the reference's residency. */
static bool do_mincore(struct pair *x, int64_t off, uint64_t len)
{
	uint64_t addr = x->base + (uint64_t)off;
	char what[96];
	snprintf(what, sizeof(what), "mincore(%+lld, %#llx)", (long long)off, (unsigned long long)len);
	uint8_t vec[256];
	memset(vec, 0xff, sizeof(vec));
	long a = vm_mincore(x->as, x->cpu, addr, MIN(len, sizeof(vec) * PAGE_SIZE), vec);
	if (!check_ret(x, what, a, ref_mincore(x->r, addr, MIN(len, sizeof(vec) * PAGE_SIZE))))
		return false;
	for (uint64_t i = 0; !a && i < vm_page_up(MIN(len, sizeof(vec) * PAGE_SIZE)) >> PAGE_SHIFT; i++)
		if (vec[i] != ref_resident(x->r, addr + i * PAGE_SIZE)) {
			snprintf(x->why, sizeof(x->why), "%s: page %llu says %d, reference %d", what,
				 (unsigned long long)i, vec[i], ref_resident(x->r, addr + i * PAGE_SIZE));
			return false;
		}
	return true;
}

static bool do_ftruncate(struct pair *x, uint64_t size)
{
	char what[64];
	snprintf(what, sizeof(what), "ftruncate(%#llx)", (unsigned long long)size);
	return check_ret(x, what, vm_ftruncate(x->b->sys, x->cpu, x->f, size), ref_ftruncate(x->r, x->rf, size)) &&
	       compare(x, what);
}

static bool do_fallocate(struct pair *x, int mode, uint64_t off, uint64_t len)
{
	char what[96];
	snprintf(what, sizeof(what), "fallocate(%d, %#llx, %#llx)", mode, (unsigned long long)off, (unsigned long long)len);
	return check_ret(x, what, vm_fallocate(x->b->sys, x->cpu, x->f, mode, off, len),
			 ref_fallocate(x->r, x->rf, mode, (int64_t)off, (int64_t)len)) &&
	       compare(x, what);
}

/* fork: the child replaces the parent in the pair when `follow_child`; the other is torn down. */
static bool do_fork(struct pair *x, bool follow_child)
{
	struct vm_as *c = vm_fork(x->as, x->cpu);
	if (!c) {
		snprintf(x->why, sizeof(x->why), "fork failed");
		return false;
	}
	struct ref *rc = ref_fork(x->r);
	if (follow_child) {
		x->cpu->cur = NULL;
		vm_as_destroy(x->as, x->cpu);
		ref_destroy(x->r);
		x->as = c;
		x->r = rc;
		vm_switch(c, x->cpu);
	} else {
		vm_as_destroy(c, x->cpu);
		ref_destroy(rc);
	}
	return compare(x, follow_child ? "fork (child)" : "fork (parent)");
}

/* ---- a test body runs on simulated cores; results come back through this ---- */

struct job {
	bool (*fn)(struct pair *x, uint64_t seed);
	uint64_t seed;
	bool ok;
	char why[400];
	struct pair x;
	uint64_t violations;
	int64_t leaked;
};

static void job_body(struct sim_core *c, void *arg)
{
	struct job *j = arg;
	struct boot *b = (struct boot *)j->x.b;
	pair_open(&j->x, mmu_cpu_of(c), b, WBASE);
	j->ok = j->fn(&j->x, j->seed);
	if (!j->ok)
		snprintf(j->why, sizeof(j->why), "%s", j->x.why);
	pair_close(&j->x);
}

/* Run fn on one core of a fresh system; assert it agreed everywhere, the checker stayed silent and nothing leaked. */
static void run_job(bool (*fn)(struct pair *, uint64_t), uint64_t seed)
{
	struct boot_opts o;
	boot_defaults(&o, &M, D, 1);
	struct job *j = xzalloc(sizeof(*j));
	j->fn = fn;
	j->seed = seed;
	j->x.b = boot_create(&o);
	struct boot *b = j->x.b;
	sim_run(b->sim, job_body, j);
	struct mmu_cpu_stats ms;
	mmu_stats_sum(b->mmu, &ms);
	int64_t leaked = boot_destroy(b);
	ck_assert_msg(j->ok, "%s (seed %llu): %s", D->name, (unsigned long long)seed, j->why);
	ck_assert_msg(ms.tlb_violations == 0, "%s: %llu TLB coherence violations", D->name,
		      (unsigned long long)ms.tlb_violations);
	ck_assert_msg(leaked == 0, "%s: %lld frames leaked after teardown", D->name, (long long)leaked);
	xfree(j);
}

/* ---- scripted scenarios ---- */

#define P(n) ((uint64_t)(n) * PAGE_SIZE)
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)
#define FIX VM_MAP_FIXED
#define NOREP VM_MAP_FIXED_NOREPLACE

static bool scripted_basic(struct pair *x, uint64_t seed)
{
	(void)seed;
	return do_mmap(x, 0, P(16), RW, ANON | FIX, false, 0) && do_touch(x, P(3), ACC_W) &&
	       do_touch(x, P(4), ACC_R) && do_touch(x, P(4), ACC_X) &&		 /* not executable */
	       do_mprotect(x, P(2), P(4), VM_PROT_READ) &&			 /* split in three */
	       do_touch(x, P(3), ACC_W) &&					 /* now read-only */
	       do_mprotect(x, P(2), P(4), RW) &&				 /* merge back */
	       do_touch(x, P(3), ACC_W) && do_munmap(x, P(5), P(2)) &&		 /* a hole */
	       do_touch(x, P(5), ACC_R) && do_mprotect(x, P(4), P(4), RW) &&	 /* ENOMEM over the hole */
	       do_mmap(x, P(4), P(4), VM_PROT_READ, ANON | NOREP, false, 0) &&	 /* EEXIST */
	       do_mmap(x, P(4), P(4), VM_PROT_READ, ANON | FIX, false, 0) &&	 /* replaces */
	       do_madvise(x, 0, P(16), VM_MADV_DONTNEED) &&			 /* zero-fill on next touch */
	       do_touch(x, P(3), ACC_R) && do_munmap(x, 0, P(16));
}

static bool scripted_file(struct pair *x, uint64_t seed)
{
	(void)seed;
	return do_mmap(x, 0, P(8), RW, VM_MAP_SHARED | FIX, true, P(40)) &&	       /* reaches past EOF (48) */
	       do_touch(x, P(7), ACC_W) && do_touch(x, P(8 + 0), ACC_R) &&	       /* page 47 ok, 48 unmapped */
	       do_mmap(x, P(16), P(4), RW, VM_MAP_PRIVATE | FIX, true, P(46)) &&       /* 46, 47, then beyond */
	       do_touch(x, P(17), ACC_W) && do_touch(x, P(18), ACC_R) &&	       /* copy-on-write; SIGBUS */
	       do_mmap(x, P(20), P(2), VM_PROT_READ, VM_MAP_PRIVATE | FIX, true, P(48)) && /* contiguous: merges */
	       do_madvise(x, P(16), P(2), VM_MADV_DONTNEED) &&			       /* the private copy goes */
	       do_madvise(x, P(16), P(2), VM_MADV_FREE) &&			       /* EINVAL on files */
	       do_touch(x, P(17), ACC_R) && do_munmap(x, 0, P(32));
}

static bool scripted_mremap(struct pair *x, uint64_t seed)
{
	(void)seed;
	return do_mmap(x, 0, P(4), RW, ANON | FIX, false, 0) && do_touch(x, P(1), ACC_W) &&
	       do_mremap(x, 0, P(4), P(8), 0, 0) &&				 /* grow in place */
	       do_mremap(x, 0, P(8), P(2), 0, 0) &&				 /* shrink */
	       do_mmap(x, P(2), P(2), VM_PROT_READ, ANON | FIX, false, 0) &&	 /* block growth */
	       do_mremap(x, 0, P(2), P(6), 0, 0) &&				 /* ENOMEM without MAYMOVE */
	       do_mremap(x, 0, P(2), P(6), VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, P(40)) && /* move */
	       do_touch(x, P(41), ACC_R) &&					 /* the frame moved with it */
	       do_mremap(x, P(40), P(4), P(4), VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, P(60)) &&
	       do_mremap(x, P(90), P(2), P(2), 0, 0) &&				 /* EFAULT: nothing there */
	       do_munmap(x, 0, P(128));
}

static bool scripted_fork(struct pair *x, uint64_t seed)
{
	(void)seed;
	return do_mmap(x, 0, P(8), RW, ANON | FIX, false, 0) && do_touch(x, P(1), ACC_W) &&
	       do_touch(x, P(2), ACC_R) && do_mmap(x, P(16), P(4), RW, VM_MAP_SHARED | FIX, true, 0) &&
	       do_touch(x, P(16), ACC_W) && do_fork(x, false) &&			/* parent keeps going */
	       do_touch(x, P(1), ACC_W) &&						/* copy-on-write */
	       do_fork(x, true) &&							/* the child continues */
	       do_touch(x, P(1), ACC_W) && do_touch(x, P(3), ACC_W) && do_touch(x, P(16), ACC_R) &&
	       do_munmap(x, 0, P(32));
}

static bool scripted_brk(struct pair *x, uint64_t seed)
{
	(void)seed;
	return do_brk(x, 0) && do_brk(x, 0x5000) && do_brk(x, 0x800) && do_brk(x, -0x3000) &&
	       do_brk(x, 0x123456) && do_brk(x, -0x123456) && do_brk(x, -0x10000);
}

static bool scripted_stack(struct pair *x, uint64_t seed)
{
	(void)seed;
	/* A grows-down stack, touched below its start: it grows, within its limit and the guard gap. */
	return do_mmap(x, P(64), P(4), RW, ANON | FIX | VM_MAP_GROWSDOWN, false, 0) &&
	       do_touch(x, P(62), ACC_W) && do_touch(x, P(40), ACC_W) && do_munmap(x, P(0), P(128));
}

/* Advice that changes what fork copies, and guard pages. */
static bool scripted_advice(struct pair *x, uint64_t seed)
{
	(void)seed;
	return do_mmap(x, 0, P(12), RW, ANON | FIX, false, 0) && do_touch(x, P(1), ACC_W) &&
	       do_touch(x, P(5), ACC_W) && do_touch(x, P(9), ACC_W) &&
	       do_madvise(x, P(0), P(4), VM_MADV_DONTFORK) &&			/* splits: [0,4) not copied */
	       do_madvise(x, P(4), P(4), VM_MADV_WIPEONFORK) &&			/* [4,8): zero pages in the child */
	       do_madvise(x, P(8), P(1), VM_MADV_GUARD_INSTALL) &&		/* page 8: SIGSEGV, even in the child */
	       do_touch(x, P(8), ACC_R) && do_madvise(x, P(8), P(1), VM_MADV_DONTNEED) && /* the marker stays */
	       do_touch(x, P(8), ACC_R) && do_madvise(x, P(9), P(2), VM_MADV_POPULATE_WRITE) &&
	       do_madvise(x, P(7), P(2), VM_MADV_POPULATE_READ) &&		/* EFAULT at the guard */
	       do_madvise(x, P(0), P(12), VM_MADV_DONTDUMP) && do_madvise(x, P(0), P(12), VM_MADV_DODUMP) &&
	       do_madvise(x, P(2), P(4), VM_MADV_MERGEABLE) && do_madvise(x, P(2), P(4), VM_MADV_UNMERGEABLE) &&
	       do_madvise(x, P(0), P(12), VM_MADV_COLD) && do_madvise(x, P(0), P(12), VM_MADV_PAGEOUT) &&
	       do_madvise(x, P(0), P(12), VM_MADV_COLLAPSE) &&			/* EINVAL: no room for 2 MiB */
	       do_madvise(x, P(0), P(12), 26) &&					/* unknown: EINVAL */
	       do_fork(x, true) &&							/* the child goes on */
	       do_touch(x, P(1), ACC_R) && do_touch(x, P(5), ACC_R) && do_touch(x, P(8), ACC_R) &&
	       do_madvise(x, P(8), P(1), VM_MADV_GUARD_REMOVE) && do_touch(x, P(8), ACC_W) &&
	       do_madvise(x, P(4), P(4), VM_MADV_KEEPONFORK) && do_mremap(x, P(4), P(2), P(2),
	       VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP, P(30)) &&	/* the old range stays, empty */
	       do_mprotect(x, P(9), P(2), VM_PROT_READ | 0x01000000) &&		/* PROT_GROWSDOWN: EINVAL */
	       do_munmap(x, 0, P(64));
}

/* Locks, msync, mincore, and a file that shrinks, grows and loses a hole. */
static bool scripted_locks_files(struct pair *x, uint64_t seed)
{
	(void)seed;
	return do_mmap(x, 0, P(8), RW, ANON | FIX, false, 0) && do_mlock(x, P(2), P(2), 0) && /* splits, faults in */
	       do_mincore(x, 0, P(8)) && do_msync(x, 0, P(8), VM_MS_INVALIDATE) &&	     /* EBUSY: locked */
	       do_msync(x, 0, P(8), VM_MS_SYNC) && do_msync(x, P(8), P(2), VM_MS_ASYNC) &&  /* ENOMEM: unmapped */
	       do_mincore(x, P(6), P(4)) &&						     /* ENOMEM */
	       do_mlock(x, P(4), P(2), VM_MLOCK_ONFAULT) && do_mlock(x, 0, P(1), 2) &&    /* EINVAL flags */
	       do_madvise(x, P(2), P(1), VM_MADV_DONTNEED) &&			     /* EINVAL: locked */
	       do_madvise(x, P(2), P(1), VM_MADV_DONTNEED_LOCKED) && do_munlock(x, 0, P(8)) &&
	       do_mlockall(x, VM_MCL_CURRENT | VM_MCL_FUTURE) &&
	       do_mmap(x, P(10), P(2), VM_PROT_READ, ANON | FIX, false, 0) &&		     /* locked: faulted in */
	       do_mlockall(x, 0) && do_mlockall(x, VM_MCL_ONFAULT) &&			     /* munlockall; EINVAL */
	       do_mmap(x, P(16), P(8), RW, VM_MAP_SHARED | FIX, true, P(40)) &&	     /* file pages 40..47 */
	       do_mmap(x, P(24), P(8), RW, VM_MAP_PRIVATE | FIX, true, P(40)) &&
	       do_touch(x, P(17), ACC_W) && do_touch(x, P(25), ACC_W) && do_touch(x, P(26), ACC_R) &&
	       do_ftruncate(x, P(42)) &&						     /* beyond: SIGBUS */
	       do_touch(x, P(17), ACC_R) && do_touch(x, P(25), ACC_R) && do_touch(x, P(16), ACC_R) &&
	       do_fallocate(x, 0, P(40), P(6)) &&					     /* grows again */
	       do_touch(x, P(19), ACC_R) && do_mincore(x, P(16), P(8)) &&
	       do_fallocate(x, VM_FALLOC_PUNCH_HOLE | VM_FALLOC_KEEP_SIZE, P(40), P(2)) &&
	       do_madvise(x, P(18), P(1), VM_MADV_REMOVE) && do_madvise(x, P(26), P(1), VM_MADV_REMOVE) && /* EACCES */
	       do_mincore(x, P(16), P(16)) && do_fallocate(x, VM_FALLOC_PUNCH_HOLE, 0, P(1)) &&   /* EOPNOTSUPP */
	       do_munmap(x, 0, P(64));
}

/*
 * MREMAP_DONTUNMAP with new_addr 0, as programs call it: 0 names no hint, so
 * each side picks the place (a design's arena, the reference's top-down
 * search), never 0; the old range stays, empty, on both.
 */
static bool scripted_dontunmap_nohint(struct pair *x, uint64_t seed)
{
	(void)seed;
	const int fl = VM_MREMAP_MAYMOVE | VM_MREMAP_DONTUNMAP;
	if (!(do_mmap(x, 0, P(8), RW, ANON | FIX, false, 0) && do_touch(x, P(2), ACC_W)))
		return false;
	long got = vm_mremap(x->as, x->cpu, x->base + P(2), P(2), P(2), fl, 0);
	long want = ref_mremap(x->r, x->base + P(2), P(2), P(2), fl, 0);
	if (got < (long)VM_MMAP_MIN_ADDR || want < (long)VM_MMAP_MIN_ADDR || (got | want) & (PAGE_SIZE - 1)) {
		snprintf(x->why, sizeof(x->why), "mremap(DONTUNMAP, new_addr 0): design %#lx, reference %#lx", got, want);
		return false;
	}
	if (!compare(x, "mremap(DONTUNMAP, new_addr 0)") || !do_touch(x, P(2), ACC_R)) /* the old page: zero-filled */
		return false;
	if (vm_access(x->as, x->cpu, (uint64_t)got, ACC_R) != 0) {
		snprintf(x->why, sizeof(x->why), "the page moved by mremap(DONTUNMAP) to %#lx is not there", got);
		return false;
	}
	return vm_munmap(x->as, x->cpu, (uint64_t)got, P(2)) == 0 && ref_munmap(x->r, (uint64_t)want, P(2)) == 0 &&
	       do_munmap(x, 0, P(8));
}

START_TEST(scripted)
{
	bool (*const cases[])(struct pair *, uint64_t) = { scripted_basic,   scripted_file,  scripted_mremap,
							   scripted_fork,    scripted_brk,   scripted_stack,
							   scripted_advice,  scripted_locks_files, scripted_dontunmap_nohint };
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_job(cases[i], i);
}
END_TEST

/* ---- randomized sequences ---- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Offsets and lengths like the kernel ground truth's: mostly page aligned, sometimes not, sometimes zero. */
static int64_t r_off(uint64_t *s)
{
	int64_t o = (int64_t)(rnd(s) % (WPAGES + 8)) - 8;
	o *= (int64_t)PAGE_SIZE;
	if (rnd(s) % 16 == 0)
		o += 8;
	return o;
}

static uint64_t r_len(uint64_t *s)
{
	uint64_t n = rnd(s) % 20;
	if (n == 0)
		return rnd(s) % 3 ? PAGE_SIZE : 0;
	uint64_t l = (n % 12 + 1) * PAGE_SIZE;
	if (rnd(s) % 16 == 0)
		l -= 0x64;
	return l;
}

static bool random_seq(struct pair *x, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	/* Guards around the window, as in the kernel recordings. */
	if (!do_mmap(x, -(int64_t)P(16), P(16), 0, ANON | FIX, false, 0) ||
	    !do_mmap(x, (int64_t)P(WPAGES - 8), P(8), 0, ANON | FIX, false, 0))
		return false;
	for (int step = 0; step < 400; step++) {
		int prot = (int)(rnd(&s) % 8);
		bool ok;
		switch (rnd(&s) % 20) {
		case 0:
		case 1:
		case 2: {
			int kind = (int)(rnd(&s) % 3), mode = (int)(rnd(&s) % 3);
			int flags = (kind == 2 ? VM_MAP_SHARED : VM_MAP_PRIVATE) | (kind == 0 ? VM_MAP_ANONYMOUS : 0) |
				    (mode == 0 ? FIX : mode == 1 ? NOREP : 0);
			ok = do_mmap(x, r_off(&s), r_len(&s), prot, flags, kind != 0, (rnd(&s) % 40) * PAGE_SIZE);
			break;
		}
		case 3: ok = do_munmap(x, r_off(&s), r_len(&s)); break;
		case 4:
		case 5: ok = do_mprotect(x, r_off(&s), r_len(&s), prot); break;
		case 6: ok = do_madvise(x, r_off(&s), r_len(&s), rnd(&s) % 2 ? VM_MADV_DONTNEED : VM_MADV_FREE); break;
		case 16: ok = do_madvise(x, r_off(&s), r_len(&s), (int)(rnd(&s) % 26)); break; /* every advice up to 25 */
		case 17: {
			static const int far[] = { VM_MADV_GUARD_INSTALL, VM_MADV_GUARD_REMOVE, VM_MADV_HWPOISON };
			ok = do_madvise(x, r_off(&s), r_len(&s), far[rnd(&s) % 3]);
			break;
		}
		case 18:
			switch (rnd(&s) % 6) {
			case 0: ok = do_mlock(x, r_off(&s), r_len(&s), (int)(rnd(&s) % 2)); break;
			case 1: ok = do_munlock(x, r_off(&s), r_len(&s)); break;
			case 2: ok = do_mlockall(x, (int)(rnd(&s) % 8)); break;
			case 3: ok = do_msync(x, r_off(&s), r_len(&s), (int)(rnd(&s) % 8)); break;
			default: ok = do_mincore(x, r_off(&s), r_len(&s));
			}
			break;
		case 19:
			if (rnd(&s) % 2)
				ok = do_ftruncate(x, (rnd(&s) % 50) * PAGE_SIZE + (rnd(&s) % 2) * 100);
			else
				ok = do_fallocate(x, (int)(rnd(&s) % 4), (rnd(&s) % 48) * PAGE_SIZE, (1 + rnd(&s) % 8) * PAGE_SIZE);
			break;
		case 7: {
			int64_t o = r_off(&s);
			uint64_t ol = r_len(&s), nl = r_len(&s);
			if (rnd(&s) % 2)
				ok = do_mremap(x, o, ol, nl, 0, 0);
			else
				ok = do_mremap(x, o, ol, nl, VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED, r_off(&s));
			break;
		}
		case 8:
			ok = rnd(&s) % 40 == 0 ? do_fork(x, rnd(&s) % 2) : do_brk(x, (int64_t)(rnd(&s) % 0x9000) - 0x4000);
			break;
		default: {
			uint64_t a = rnd(&s) % 8;
			ok = do_touch(x, r_off(&s) + (int64_t)(rnd(&s) % PAGE_SIZE), a < 4 ? ACC_R : a < 7 ? ACC_W : ACC_X);
		}
		}
		if (!ok)
			return false;
		x->steps++;
	}
	return true;
}

/*
 * ---- fork and copy-on-write: a family of processes, each beside its own reference ----
 *
 * Random sequences over anonymous, private file and shared (file and
 * anonymous) mappings: writes and reads before and after forks, in parents
 * and children, nested forks, munmap, mprotect, madvise and exits in
 * between. Every step is compared with the process's reference (result,
 * layout, residency). Every write that succeeds must leave the page
 * writable in the page table, on a frame of its own for a private mapping
 * (one reference: no other process sees the write) and on the page-cache
 * frame for a shared one (every process sees it).
 */
#define FAM_MAX 6
#define FAM_PAGES 24

struct family {
	struct vm_as *as[FAM_MAX];
	struct ref *r[FAM_MAX];
	int n;
};

/* fam_select: make process i the pair's current one (its address space loaded on the core). */
static void fam_select(struct pair *x, struct family *f, int i)
{
	x->as = f->as[i];
	x->r = f->r[i];
	vm_switch(x->as, x->cpu);
}

/* fam_drop: process i exits (the full invariant check runs as its space goes). */
static void fam_drop(struct pair *x, struct family *f, int i)
{
	if (x->cpu->cur == &f->as[i]->hw)
		x->cpu->cur = NULL;
	vm_as_destroy(f->as[i], x->cpu);
	ref_destroy(f->r[i]);
	f->as[i] = f->as[f->n - 1];
	f->r[i] = f->r[f->n - 1];
	f->n--;
}

struct range_at {
	uint64_t va;
	struct vm_range r;
	bool found;
};

static void range_at(void *arg, const struct vm_range *r)
{
	struct range_at *a = arg;
	if (r->start <= a->va && a->va < r->end) {
		a->r = *r;
		a->found = true;
	}
}

/* written_ok: after a write to va succeeded, is the page writable on a frame only this process has (private), or on the file's cached frame (shared)? */
static bool written_ok(struct pair *x, uint64_t va)
{
	struct range_at a = { .va = va & ~(PAGE_SIZE - 1) };
	vm_layout(x->as, a.va, a.va + PAGE_SIZE, range_at, &a);
	uint64_t e = mmu_walk_host(&x->as->hw, a.va, NULL);
	const struct pm *pm = x->b->sys->pm;
	uint64_t pfn = PTE_PFN(e);
	const char *bad = NULL;
	if (!a.found)
		bad = "no mapping there";
	else if (!(e & PTE_P) || !(e & PTE_RW))
		bad = "the entry is not present and writable";
	else if (a.r.flags & VM_RANGE_SHARED) {
		uint64_t idx = a.r.pgoff + ((a.va - a.r.start) >> PAGE_SHIFT);
		if (!a.r.file || idx >= a.r.file->npages_cap || a.r.file->pages[idx] != pfn)
			bad = "a shared page is not on the file's cached frame";
	} else if (pfn == x->b->sys->zero_pfn || vm_frame_is_file(x->b->sys, pfn) || pm_ref(pm, pfn) != 1)
		bad = "a private page written is not on a frame of its own";
	if (bad)
		snprintf(x->why, sizeof(x->why), "write at page %+lld: %s (entry %#llx, frame references %u)",
			 (long long)((int64_t)(a.va - x->base) >> PAGE_SHIFT), bad, (unsigned long long)e,
			 (unsigned)(pfn && pfn < pm->nframes ? pm_ref(pm, pfn) : 0));
	return !bad;
}

static bool fork_cow_seq(struct pair *x, uint64_t seed)
{
	uint64_t s = seed * 0xD1B54A32D192ED03ull + 7;
	struct family f = { .as = { x->as }, .r = { x->r }, .n = 1 };
	bool ok = true;
	for (int step = 0; step < 300 && ok; step++, x->steps++) {
		int i = (int)(rnd(&s) % (uint64_t)f.n);
		fam_select(x, &f, i);
		int64_t off = (int64_t)P(rnd(&s) % FAM_PAGES);
		uint64_t len = P(rnd(&s) % 8 + 1);
		switch (rnd(&s) % 20) {
		case 0:
		case 1:
		case 2: { /* a mapping: anonymous, private file, shared file, shared anonymous */
			int kind = (int)(rnd(&s) % 4);
			int prot = rnd(&s) % 6 ? RW : VM_PROT_READ;
			int flags = (kind >= 2 ? VM_MAP_SHARED : VM_MAP_PRIVATE) | (kind == 0 || kind == 3 ? VM_MAP_ANONYMOUS : 0);
			ok = do_mmap(x, off, len, prot, flags | FIX, kind == 1 || kind == 2, P(rnd(&s) % FILE_PAGES));
			break;
		}
		case 3:
			ok = do_munmap(x, off, len);
			break;
		case 4:
			ok = do_mprotect(x, off, len, rnd(&s) % 3 ? RW : VM_PROT_READ);
			break;
		case 5:
			ok = do_madvise(x, off, len, VM_MADV_DONTNEED);
			break;
		case 6:
		case 7: /* fork, nested: any process may fork */
			if (f.n < FAM_MAX) {
				struct vm_as *c = vm_fork(x->as, x->cpu);
				if (!c) {
					snprintf(x->why, sizeof(x->why), "fork failed");
					ok = false;
					break;
				}
				f.as[f.n] = c;
				f.r[f.n++] = ref_fork(x->r);
				fam_select(x, &f, f.n - 1);
				ok = compare(x, "fork (child)");
			}
			break;
		case 8: /* an exit */
			if (f.n > 1)
				fam_drop(x, &f, i);
			break;
		case 9:
		case 10:
		case 11:
			ok = do_touch(x, off, ACC_R);
			break;
		default: {
			uint64_t va = x->base + (uint64_t)off;
			char what[64];
			snprintf(what, sizeof(what), "process %d: touch(%+lld, w)", i, (long long)off);
			enum vm_fault got = vm_access(x->as, x->cpu, va, ACC_W);
			ok = check_ret(x, what, got, ref_touch(x->r, va, ACC_W)) && compare(x, what) &&
			     (got != VM_FAULT_OK || written_ok(x, va));
		}
		}
	}
	/* The pair keeps one process for pair_close; the others exit here. */
	while (f.n > 1)
		fam_drop(x, &f, f.n - 1);
	fam_select(x, &f, 0);
	return ok;
}

START_TEST(fork_cow)
{
	uint64_t only = getenv("T50_SEED") ? strtoull(getenv("T50_SEED"), NULL, 0) : 0; /* T50_SEED=N: that seed alone */
	for (uint64_t seed = only ? only : 1; seed <= (only ? only : 60); seed++)
		run_job(fork_cow_seq, seed);
}
END_TEST

START_TEST(randomized)
{
	for (uint64_t seed = 1; seed <= 80; seed++)
		run_job(random_seq, seed);
}
END_TEST

/* ---- kernel ground truth ---- */

START_TEST(ground_truth)
{
	/* The same replay as `mmsim conform`, on the data in tests/data. */
	struct gt g;
	struct gt_report rep;
	char err[512];
	ck_assert_msg(gt_load(&g, MMSIM_SOURCE_DIR "/tests/data/linux-6.18-seed1.txt.zst", err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_uint_eq(g.calls, 9000);
	ck_assert_msg(gt_replay_design(&g, DESIGN, &M, &rep, err, sizeof(err)) == 0, "%s", err);
	gt_free(&g);
	ck_assert_uint_eq(rep.calls, 9000);
	for (uint32_t i = 0; i < rep.nmsgs && i < 5; i++)
		fprintf(stderr, "%s\n", rep.msgs[i]);
	ck_assert_uint_eq(rep.result_mismatches, 0);
	ck_assert_uint_eq(rep.layout_mismatches, 0);
	ck_assert_uint_eq(rep.resident_mismatches, 0);
	if (D->has_vmas)
		ck_assert_uint_eq(rep.vma_boundary_mismatches, 0);
	ck_assert_uint_eq(rep.tlb_violations, 0);
	ck_assert_int_eq(rep.leaked_frames, 0);
}
END_TEST

/* ---- concurrency: cores on disjoint windows of one address space, then all on one window ---- */

struct conc {
	struct boot *b;
	struct vm_as *as;
	struct vm_file *f;
	struct ref *r[16];
	struct ref_file *rf;
	bool ok[16];
	char why[16][200];
	bool shared_window;
	int steps;
};

static void conc_body(struct sim_core *c, void *arg)
{
	struct conc *k = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(k->as, cpu);
	uint64_t s = 0x1234567ull * (c->id + 7);
	uint64_t base = k->shared_window ? WBASE : WBASE + (uint64_t)c->id * (1ull << 30);
	struct ref *r = k->r[c->id];
	k->ok[c->id] = true;
	for (int i = 0; i < k->steps; i++) {
		int64_t off = (int64_t)(rnd(&s) % 64) * (int64_t)PAGE_SIZE;
		uint64_t len = (rnd(&s) % 8 + 1) * PAGE_SIZE;
		int prot = (int)(rnd(&s) % 4);
		long a = 0, b = 0;
		switch (rnd(&s) % 6) {
		case 0:
			a = vm_mmap(k->as, cpu, base + (uint64_t)off, len, prot | VM_PROT_READ, ANON | FIX, NULL, 0);
			if (!k->shared_window)
				b = ref_mmap(r, base + (uint64_t)off, len, prot | VM_PROT_READ, ANON | FIX, NULL, 0);
			break;
		case 1:
			a = vm_munmap(k->as, cpu, base + (uint64_t)off, len);
			if (!k->shared_window)
				b = ref_munmap(r, base + (uint64_t)off, len);
			break;
		case 2:
			a = vm_mprotect(k->as, cpu, base + (uint64_t)off, len, prot);
			if (!k->shared_window)
				b = ref_mprotect(r, base + (uint64_t)off, len, prot);
			break;
		case 3:
			a = vm_madvise(k->as, cpu, base + (uint64_t)off, len, VM_MADV_DONTNEED);
			if (!k->shared_window)
				b = ref_madvise(r, base + (uint64_t)off, len, VM_MADV_DONTNEED);
			break;
		default: {
			enum mmu_acc acc = rnd(&s) % 2 ? ACC_W : ACC_R;
			a = vm_access(k->as, cpu, base + (uint64_t)off, acc);
			if (!k->shared_window)
				b = ref_touch(r, base + (uint64_t)off, acc);
		}
		}
		if (!k->shared_window && a != b && k->ok[c->id]) {
			k->ok[c->id] = false;
			snprintf(k->why[c->id], sizeof(k->why[0]), "core %u step %d: design %ld, reference %ld", c->id, i,
				 a, b);
		}
	}
}

/* run_conc_opts: n cores against their references; opt >= 0: the design's option opt set to value. */
static void run_conc_opts(enum sim_mode mode, uint32_t n, bool shared, int opt, uint64_t value)
{
	struct boot_opts o;
	boot_defaults(&o, &M, D, n);
	o.sim.mode = mode;
	if (opt >= 0)
		o.vm.dopt[opt] = value;
	struct conc *k = xzalloc(sizeof(*k));
	k->b = boot_create(&o);
	k->as = vm_as_create(k->b->sys, NULL);
	k->shared_window = shared;
	k->steps = mode == SIM_PAR ? 150 : 300;
	for (uint32_t i = 0; i < n; i++)
		k->r[i] = ref_create();
	sim_run(k->b->sim, conc_body, k);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_msg(k->ok[i], "%s: %s", D->name, k->why[i]);
	/* Disjoint windows: each must end as its own reference does, page by page. */
	if (!shared)
		for (uint32_t i = 0; i < n; i++) {
			uint64_t base = WBASE + (uint64_t)i * (1ull << 30);
			for (uint64_t p = 0; p < 72; p++) {
				uint64_t va = base + p * PAGE_SIZE;
				ck_assert_msg(vm_resident(k->as, va) == ref_resident(k->r[i], va),
					      "%s: core %u page %llu residency differs", D->name, i, (unsigned long long)p);
			}
		}
	struct mmu_cpu_stats ms;
	mmu_stats_sum(k->b->mmu, &ms);
	for (uint32_t i = 0; i < n; i++)
		ref_destroy(k->r[i]);
	for (uint32_t i = 0; i < n; i++)
		k->b->mmu->cpus[i].cur = NULL;
	vm_as_destroy(k->as, NULL);
	int64_t leaked = boot_destroy(k->b);
	ck_assert_msg(ms.tlb_violations == 0, "%s: %llu TLB coherence violations", D->name,
		      (unsigned long long)ms.tlb_violations);
	ck_assert_msg(leaked == 0, "%s: %lld frames leaked", D->name, (long long)leaked);
	xfree(k);
}

static void run_conc(enum sim_mode mode, uint32_t n, bool shared) { run_conc_opts(mode, n, shared, -1, 0); }

START_TEST(concurrent_options)
{
	/*
	 * Every value of every option the design declares (lazy flushes, top-down
	 * placement, THP...), one at a time: still the references' results, no
	 * TLB violation, nothing leaked. Numbers are tried at their bounds.
	 */
	for (int i = 0; i < vm_opt_count(D); i++) {
		const struct vm_opt *op = &D->opts[i];
		uint64_t vals[16], nv = 0;
		if (op->type == VM_OPT_BOOL) {
			vals[nv++] = !op->def;
		} else if (op->type == VM_OPT_U64) {
			vals[nv++] = op->min;
			vals[nv++] = op->max;
		} else {
			for (uint64_t k = 0; op->choices[k] && nv < 16; k++)
				if (k != op->def)
					vals[nv++] = k;
		}
		for (uint64_t k = 0; k < nv; k++) {
			run_conc_opts(SIM_DET, 4, true, i, vals[k]);
			run_conc_opts(SIM_PAR, 4, true, i, vals[k]);
		}
	}
}
END_TEST

START_TEST(concurrent_det_disjoint) { run_conc(SIM_DET, 4, false); }
END_TEST
START_TEST(concurrent_det_shared) { run_conc(SIM_DET, 4, true); }
END_TEST
START_TEST(concurrent_par_disjoint) { run_conc(SIM_PAR, 4, false); }
END_TEST
START_TEST(concurrent_par_shared) { run_conc(SIM_PAR, 4, true); }
END_TEST

/* ---- the checker catches a design that skips its shootdowns ---- */

struct mut {
	struct vm_as *as;
	_Atomic int phase;
};

static void mut_body(struct sim_core *c, void *arg)
{
	struct mut *m = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(m->as, cpu);
	if (c->id == 0) {
		vm_mmap(m->as, cpu, WBASE, P(4), RW, ANON | FIX, NULL, 0);
		vm_access(m->as, cpu, WBASE, ACC_W);
		atomic_store(&m->phase, 1);
		while (atomic_load(&m->phase) != 2) { /* core 1 now caches a writable translation */
			sim_advance(c, 100);
			sim_sync(c);
		}
		vm_mprotect(m->as, cpu, WBASE, P(4), VM_PROT_READ);
		atomic_store(&m->phase, 3);
	} else {
		while (atomic_load(&m->phase) != 1) {
			sim_advance(c, 100);
			sim_sync(c);
		}
		vm_access(m->as, cpu, WBASE, ACC_W);
		atomic_store(&m->phase, 2);
		while (atomic_load(&m->phase) != 3) {
			sim_advance(c, 100);
			sim_sync(c);
		}
		vm_access(m->as, cpu, WBASE, ACC_W); /* must fault; a stale entry lets it through */
	}
}

static uint64_t mutation_run(bool skip)
{
	struct boot_opts o;
	boot_defaults(&o, &M, D, 2);
	o.vm.skip_shootdown = skip;
	struct boot *b = boot_create(&o);
	struct mut m = { .as = vm_as_create(b->sys, NULL) };
	sim_run(b->sim, mut_body, &m);
	struct mmu_cpu_stats ms;
	mmu_stats_sum(b->mmu, &ms);
	b->mmu->cpus[0].cur = b->mmu->cpus[1].cur = NULL;
	vm_as_destroy(m.as, NULL);
	boot_destroy(b);
	return ms.tlb_violations;
}

/*
 * ftruncate in one process while another that maps the same file exits:
 * unmap_mapping_range visits every space, and a space torn down meanwhile
 * must be skipped (not touched after its teardown), or waited for if the call
 * is inside it. Core 0 truncates; core 1 exits `delay` cycles later.
 */
struct trunc_exit {
	struct boot *b;
	struct vm_file *f;
	struct vm_as *as[2];
	cycles_t delay;
	int trunc;
	enum vm_fault after; /* core 0's read of the file page after the truncation */
	struct lk_barrier bar;
};

static void trunc_exit_body(struct sim_core *c, void *arg)
{
	struct trunc_exit *t = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	struct vm_as *as = t->as[c->id];
	vm_switch(as, cpu);
	ck_assert_int_eq(vm_mmap(as, cpu, WBASE, 4 * PAGE_SIZE, RW, VM_MAP_SHARED | FIX, t->f, 0), (long)WBASE);
	ck_assert_int_eq(vm_access(as, cpu, WBASE + PAGE_SIZE, ACC_W), VM_FAULT_OK);
	lk_barrier_wait(c, &t->bar);
	if (c->id == 0) {
		t->trunc = vm_ftruncate(t->b->sys, cpu, t->f, 0);
		t->after = vm_access(as, cpu, WBASE + PAGE_SIZE, ACC_R);
	} else {
		sim_advance(c, t->delay);
		cpu->cur = NULL;
		vm_as_destroy(as, cpu);
		t->as[1] = NULL;
	}
}

START_TEST(truncate_while_exiting)
{
	for (int mode = SIM_DET; mode <= SIM_PAR; mode++) {
		for (cycles_t delay = 0; delay <= 20000; delay += 2500) {
			struct boot_opts o;
			boot_defaults(&o, &M, D, 2);
			o.sim.mode = (enum sim_mode)mode;
			struct trunc_exit t = { .delay = delay };
			t.b = boot_create(&o);
			t.f = vm_file_create(t.b->sys, "file", 4 * PAGE_SIZE);
			t.as[0] = vm_as_create(t.b->sys, NULL);
			t.as[1] = vm_as_create(t.b->sys, NULL);
			lk_barrier_init(&t.bar, 2);
			sim_run(t.b->sim, trunc_exit_body, &t);
			ck_assert_msg(t.trunc == 0 && t.after == VM_FAULT_BUS, "%s, delay %llu: ftruncate %d, then a read: %d",
				      D->name, (unsigned long long)delay, t.trunc, (int)t.after);
			ck_assert_ptr_null(t.as[1]);
			struct mmu_cpu_stats ms;
			mmu_stats_sum(t.b->mmu, &ms);
			ck_assert_uint_eq(ms.tlb_violations, 0);
			for (uint32_t i = 0; i < 2; i++)
				t.b->mmu->cpus[i].cur = NULL;
			vm_as_destroy(t.as[0], NULL);
			vm_file_put(t.b->sys, t.f);
			ck_assert_int_eq(boot_destroy(t.b), 0);
		}
	}
}
END_TEST

START_TEST(checker_catches_skipped_shootdown)
{
	ck_assert_uint_eq(mutation_run(false), 0);
	ck_assert_uint_gt(mutation_run(true), 0);
}
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	D = test_design(DESIGN);
	Suite *s = suite_create("t50_conform_" DESIGN);
	TCase *tc = tcase_create("sequential");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, scripted);
	tcase_add_test(tc, randomized);
	tcase_add_test(tc, fork_cow);
	tcase_add_test(tc, ground_truth);
	tcase_add_test(tc, checker_catches_skipped_shootdown);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("concurrent");
	tcase_set_timeout(tp, 300);
	tcase_add_test(tp, concurrent_det_disjoint);
	tcase_add_test(tp, concurrent_det_shared);
	tcase_add_test(tp, concurrent_par_disjoint);
	tcase_add_test(tp, concurrent_par_shared);
	tcase_add_test(tp, concurrent_options);
	tcase_add_test(tp, truncate_while_exiting);
	suite_add_tcase(s, tp);
	return s;
}

int main(void) { return test_main(suite); }
