/* gt.c: the kernel ground-truth replayer: runs each recorded call on a target and compares its result, the layout and residency. */
#include "conform/gt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- replay ---- */

static const char *errname(long e)
{
	static const struct {
		int e;
		const char *name;
	} names[] = { { EPERM, "EPERM" },   { ENOENT, "ENOENT" }, { EINTR, "EINTR" },	    { EBADF, "EBADF" },
		      { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },	    { EFAULT, "EFAULT" },
		      { EBUSY, "EBUSY" },   { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },	    { EINVAL, "EINVAL" },
		      { ETXTBSY, "ETXTBSY" }, { EFBIG, "EFBIG" }, { ENOSPC, "ENOSPC" },	    { ESPIPE, "ESPIPE" },
		      { ENOSYS, "ENOSYS" }, { EOVERFLOW, "EOVERFLOW" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		      { EHWPOISON, "EHWPOISON" } };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].e == -e)
			return names[i].name;
	return "E?";
}

/* One page of a layout, for comparison. */
struct gt_page {
	bool mapped, shared, file, shmem;
	uint8_t prot;
	uint32_t fpg;
};

struct collect {
	uint64_t base;
	uint32_t seq_file;
	struct gt_page pg[GT_PAGES];
	struct gt_vma v[GT_PAGES];
	uint32_t nv;
};

static void collect_range(void *arg, const struct vm_range *r)
{
	struct collect *c = arg;
	int64_t lo = ((int64_t)r->start - (int64_t)c->base) / (int64_t)PAGE_SIZE;
	int64_t hi = ((int64_t)r->end - (int64_t)c->base) / (int64_t)PAGE_SIZE;
	int64_t a = MAX(lo, GT_LO), b = MIN(hi, GT_HI);
	if (a >= b)
		return;
	for (int64_t pg = a; pg < b; pg++) {
		struct gt_page *p = &c->pg[pg - GT_LO];
		p->mapped = true;
		p->shared = r->flags & VM_RANGE_SHARED;
		p->file = r->kind == VM_KIND_FILE;
		p->shmem = p->file && r->file_id != c->seq_file;
		p->prot = (uint8_t)r->prot;
		p->fpg = p->file ? (uint32_t)(r->pgoff + (uint64_t)(pg - lo)) : 0;
	}
	if (c->nv < GT_PAGES)
		c->v[c->nv++] = (struct gt_vma){ .start = (int32_t)a, .end = (int32_t)b, .prot = (uint8_t)r->prot,
						 .shared = r->flags & VM_RANGE_SHARED,
						 .file = r->kind == VM_KIND_FILE,
						 .shmem = r->kind == VM_KIND_FILE && r->file_id != c->seq_file,
						 .fpgoff = (uint32_t)(r->kind == VM_KIND_FILE ? r->pgoff + (uint64_t)(a - lo) : 0) };
}

/* same_page: do two pages of a layout agree (mapped, sharing, kind, protection, file page)? */
static bool same_page(const struct gt_page *a, const struct gt_page *b)
{
	return a->mapped == b->mapped && a->shared == b->shared && a->file == b->file && a->shmem == b->shmem &&
	       a->prot == b->prot && a->fpg == b->fpg;
}

static void expected_pages(const struct gt_step *st, struct gt_page *pg)
{
	memset(pg, 0, sizeof(struct gt_page) * GT_PAGES);
	for (uint32_t i = 0; i < st->nvmas; i++) {
		const struct gt_vma *v = &st->vmas[i];
		for (int32_t p = v->start; p < v->end; p++)
			pg[p - GT_LO] = (struct gt_page){ .mapped = true, .shared = v->shared, .file = v->file,
							  .shmem = v->shmem, .prot = v->prot,
							  .fpg = v->file ? v->fpgoff + (uint32_t)(p - v->start) : 0 };
	}
}

static void fmt_vmas(char *out, size_t n, const struct gt_vma *v, uint32_t nv)
{
	size_t o = 0;
	out[0] = 0;
	for (uint32_t i = 0; i < nv && o + 40 < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%d-%d%c%c%c%c%s", i ? " " : "", v[i].start, v[i].end,
				      v[i].prot & 1 ? 'r' : '-', v[i].prot & 2 ? 'w' : '-', v[i].prot & 4 ? 'x' : '-',
				      v[i].shared ? 's' : 'p', v[i].file ? "f" : "");
}

static void report(struct gt_report *rep, const struct gt *g, const struct gt_seq *seq, const struct gt_step *st,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(struct gt_report *rep, const struct gt *g, const struct gt_seq *seq, const struct gt_step *st,
		   const char *fmt, ...)
{
	uint32_t sidx = (uint32_t)(seq - g->seqs) + 1;
	if (rep->nmsgs >= GT_MAX_REPORTS || rep->msg_seq == sidx)
		return;
	rep->msg_seq = sidx;
	char *m = rep->msgs[rep->nmsgs++];
	int n = snprintf(m, sizeof(rep->msgs[0]), "%s:%u: sequence %u: %s: ", g->path, st->line, seq->id, st->text);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(rep->msgs[0]))
		vsnprintf(m + n, sizeof(rep->msgs[0]) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* An address result as the recording writes it: an offset from base, or 'moved' when outside the window. */
static void fmt_addr(char *got, size_t n, uint64_t base, long r)
{
	int64_t o = (int64_t)((uint64_t)r - base);
	if (o < GT_LO * (int64_t)PAGE_SIZE || o >= GT_HI * (int64_t)PAGE_SIZE)
		snprintf(got, n, "moved");
	else if (o == 0)
		snprintf(got, n, "0");
	else if (o < 0)
		snprintf(got, n, "-0x%llx", (unsigned long long)-o);
	else
		snprintf(got, n, "0x%llx", (unsigned long long)o);
}

/* Make the call of st on the target; its result as the recording writes it into got. */
static void make_call(const struct gt_step *st, const struct gt_target *t, uint64_t base, char *got, size_t n,
		      struct gt_report *rep)
{
	uint64_t addr = base + (uint64_t)st->off;
	long r = 0;
	switch (st->call) {
	case GT_MMAP:
	case GT_MREMAP: {
		uint64_t len = st->call == GT_MMAP ? st->len : st->len2;
		if (st->call == GT_MMAP)
			r = t->mmap(t->t, addr, st->len, st->prot, st->flags, st->file, st->foff);
		else
			r = t->mremap(t->t, addr, st->len, st->len2, st->flags, base + (uint64_t)st->to);
		if (r < 0 && r > -4096)
			break;
		fmt_addr(got, n, base, r);
		bool hint = st->call == GT_MMAP && !(st->flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE));
		if (hint && (uint64_t)r != addr) /* not honoured as asked (a misaligned hint never is) */
			snprintf(got, n, "moved");
		if (!strcmp(got, "moved")) /* the recording removed it again at once */
			t->munmap(t->t, (uint64_t)r, len);
		return;
	}
	case GT_MUNMAP: r = t->munmap(t->t, addr, st->len); break;
	case GT_MPROTECT: r = t->mprotect(t->t, addr, st->len, st->prot); break;
	case GT_MADVISE: r = t->madvise(t->t, addr, st->len, st->advice); break;
	case GT_TOUCH: {
		enum vm_fault f = t->touch(t->t, addr, st->acc);
		snprintf(got, n, "%s", f == VM_FAULT_OK ? "ok" : f == VM_FAULT_BUS ? "SIGBUS" : "SIGSEGV");
		return;
	}
	case GT_FORK: r = t->fork(t->t, st->flags); break;
	case GT_MLOCK: r = t->mlock(t->t, addr, st->len, st->flags); break;
	case GT_MUNLOCK: r = t->munlock(t->t, addr, st->len); break;
	case GT_MLOCKALL: r = t->mlockall(t->t, st->flags); break;
	case GT_MUNLOCKALL: r = t->munlockall(t->t); break;
	case GT_MSYNC: r = t->msync(t->t, addr, st->len, st->flags); break;
	case GT_MINCORE: r = t->mincore(t->t, addr, st->len); break;
	case GT_FTRUNCATE: r = t->ftruncate(t->t, st->foff); break;
	case GT_FALLOCATE: r = t->fallocate(t->t, st->flags, st->off, (int64_t)st->len); break;
	}
	if (r == -ENOSYS && st->call > GT_TOUCH)
		rep->unsupported_calls++;
	if (r < 0 && r > -4096)
		snprintf(got, n, "%s", errname(r));
	else
		snprintf(got, n, "%ld", r);
}

static void run_step(const struct gt *g, const struct gt_seq *seq, const struct gt_step *st,
		     const struct gt_target *t, struct gt_report *rep)
{
	uint64_t base = GT_BASE;
	char got[32];
	make_call(st, t, base, got, sizeof(got), rep);
	rep->calls++;
	if (strcmp(got, st->expect)) {
		rep->result_mismatches++;
		report(rep, g, seq, st, "result %s, kernel %s", got, st->expect);
	}

	/* Layout: per page, then (for designs with VMAs) the boundaries. */
	struct collect *c = xzalloc(sizeof(*c));
	c->base = base;
	c->seq_file = t->seq_file(t->t);
	t->layout(t->t, base + (uint64_t)(GT_LO * (int64_t)PAGE_SIZE), base + GT_HI * PAGE_SIZE, collect_range, c);
	struct gt_page want[GT_PAGES];
	expected_pages(st, want);
	int bad = -1;
	for (int i = 0; i < GT_PAGES && bad < 0; i++)
		if (!same_page(&want[i], &c->pg[i]))
			bad = i;
	char a[400], b[400];
	if (bad >= 0) {
		rep->layout_mismatches++;
		fmt_vmas(a, sizeof(a), c->v, c->nv);
		fmt_vmas(b, sizeof(b), st->vmas, st->nvmas);
		report(rep, g, seq, st, "layout differs at page %d: [%s], kernel [%s]", bad + GT_LO, a, b);
	} else if (t->has_vmas) {
		bool same = c->nv == st->nvmas;
		for (uint32_t i = 0; same && i < c->nv; i++)
			same = c->v[i].start == st->vmas[i].start && c->v[i].end == st->vmas[i].end;
		if (!same) {
			rep->vma_boundary_mismatches++;
			fmt_vmas(a, sizeof(a), c->v, c->nv);
			fmt_vmas(b, sizeof(b), st->vmas, st->nvmas);
			report(rep, g, seq, st, "VMA boundaries [%s], kernel [%s]", a, b);
		}
	}
	xfree(c);

	/* Residency: where it may go either way (GT_RES_MAYBE), either answer agrees. */
	char res[GT_PAGES + 1];
	bool same = true;
	for (int i = 0; i < GT_PAGES; i++) {
		uint64_t va = base + (uint64_t)((int64_t)(i + GT_LO) * (int64_t)PAGE_SIZE);
		int v = want[i].mapped ? t->resident(t->t, va) : GT_RES_NO;
		res[i] = !want[i].mapped ? '.' : v == GT_RES_MAYBE ? '?' : v == GT_RES_YES ? '1' : '0';
		same &= res[i] == st->resident[i] || (res[i] == '?' && st->resident[i] != '.');
	}
	res[GT_PAGES] = 0;
	if (!same) {
		rep->resident_mismatches++;
		report(rep, g, seq, st, "residency\n    got    %s\n    kernel %s", res, st->resident);
	}
}

void gt_replay(const struct gt *g, const struct gt_target *t, struct gt_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	for (uint32_t i = 0; i < g->n; i++) {
		const struct gt_seq *seq = &g->seqs[i];
		t->begin_seq(t->t, GT_BASE);
		for (uint32_t j = 0; j < seq->n; j++)
			run_step(g, seq, &seq->steps[j], t, rep);
		t->end_seq(t->t);
		rep->sequences++;
	}
}

