/* gt.c: the kernel ground-truth format: a strict parser, a replayer that compares results, layouts and residency, and the reference-model target. */
#include "conform/gt.h"
#include "conform/ref.h"
#include "io/lines.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing ---- */

struct pctx {
	struct lines *l;
	char *err;
	size_t errlen;
};

static int perr(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct pctx *p, const char *fmt, ...)
{
	int n = snprintf(p->err, p->errlen, "%s:%llu: ", lines_path(p->l), (unsigned long long)lines_lineno(p->l));
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Parse a (possibly negative) hex or decimal number that fills the token. */
static bool num(const char *s, int64_t *out)
{
	char *end;
	bool neg = *s == '-';
	if (neg)
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > INT64_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

static bool prot_of(const char *s, int *prot)
{
	if (strlen(s) != 3)
		return false;
	*prot = 0;
	static const char want[3] = { 'r', 'w', 'x' };
	for (int i = 0; i < 3; i++) {
		if (s[i] == want[i])
			*prot |= 1 << i;
		else if (s[i] != '-')
			return false;
	}
	return true;
}

#define MAXTOK 10

static int split_tokens(char *s, char **tok)
{
	int n = 0;
	char *save;
	for (char *t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (n < MAXTOK)
			tok[n++] = t;
		else
			return MAXTOK + 1;
	return n;
}

static int parse_call(struct pctx *p, char *line, struct gt_step *st)
{
	char *tok[MAXTOK];
	int n = split_tokens(line, tok);
	int64_t a, b, c;
	memset(st, 0, sizeof(*st));
	st->line = (uint32_t)lines_lineno(p->l);
	if (n < 1)
		return perr(p, "empty call");
	const char *name = tok[0];
	if (!strcmp(name, "mmap")) {
		if (n != 7)
			return perr(p, "mmap: expected 'mmap OFF LEN PROT KIND MODE off=FOFF'");
		if (!num(tok[1], &a) || !num(tok[2], &b) || b < 0)
			return perr(p, "mmap: bad offset or length");
		if (!prot_of(tok[3], &st->prot))
			return perr(p, "mmap: bad protection '%s'", tok[3]);
		if (!strcmp(tok[4], "anon"))
			st->flags = VM_MAP_PRIVATE | VM_MAP_ANONYMOUS;
		else if (!strcmp(tok[4], "file-private"))
			st->flags = VM_MAP_PRIVATE, st->file = true;
		else if (!strcmp(tok[4], "file-shared"))
			st->flags = VM_MAP_SHARED, st->file = true;
		else
			return perr(p, "mmap: unknown kind '%s'", tok[4]);
		if (!strcmp(tok[5], "fixed"))
			st->flags |= VM_MAP_FIXED;
		else if (!strcmp(tok[5], "fixed-noreplace"))
			st->flags |= VM_MAP_FIXED_NOREPLACE;
		else if (strcmp(tok[5], "hint"))
			return perr(p, "mmap: unknown mode '%s'", tok[5]);
		if (strncmp(tok[6], "off=", 4) || !num(tok[6] + 4, &c) || c < 0)
			return perr(p, "mmap: bad 'off=' field");
		st->call = GT_MMAP;
		st->off = a;
		st->len = (uint64_t)b;
		st->foff = (uint64_t)c;
		return 0;
	}
	if (!strcmp(name, "munmap") || !strcmp(name, "mprotect") || !strcmp(name, "madvise")) {
		bool extra = strcmp(name, "munmap") != 0;
		if (n != (extra ? 4 : 3))
			return perr(p, "%s: wrong number of fields", name);
		if (!num(tok[1], &a) || !num(tok[2], &b) || b < 0)
			return perr(p, "%s: bad offset or length", name);
		st->off = a;
		st->len = (uint64_t)b;
		if (!strcmp(name, "munmap")) {
			st->call = GT_MUNMAP;
		} else if (!strcmp(name, "mprotect")) {
			st->call = GT_MPROTECT;
			if (!prot_of(tok[3], &st->prot))
				return perr(p, "mprotect: bad protection '%s'", tok[3]);
		} else {
			st->call = GT_MADVISE;
			if (!strcmp(tok[3], "dontneed"))
				st->advice = VM_MADV_DONTNEED;
			else if (!strcmp(tok[3], "free"))
				st->advice = VM_MADV_FREE;
			else
				return perr(p, "madvise: unknown advice '%s'", tok[3]);
		}
		return 0;
	}
	if (!strcmp(name, "mremap")) {
		if (n < 5 || !num(tok[1], &a) || !num(tok[2], &b) || !num(tok[3], &c) || b < 0 || c < 0)
			return perr(p, "mremap: expected 'mremap OFF OLDLEN NEWLEN inplace|maymove-fixed TO'");
		st->call = GT_MREMAP;
		st->off = a;
		st->len = (uint64_t)b;
		st->len2 = (uint64_t)c;
		if (!strcmp(tok[4], "inplace") && n == 5) {
			st->flags = 0;
		} else if (!strcmp(tok[4], "maymove-fixed") && n == 6) {
			st->flags = VM_MREMAP_MAYMOVE | VM_MREMAP_FIXED;
			if (!num(tok[5], &st->to))
				return perr(p, "mremap: bad target '%s'", tok[5]);
		} else {
			return perr(p, "mremap: unknown mode '%s'", tok[4]);
		}
		return 0;
	}
	if (!strcmp(name, "touch")) {
		if (n != 3 || !num(tok[1], &a))
			return perr(p, "touch: expected 'touch OFF r|w'");
		st->call = GT_TOUCH;
		st->off = a;
		if (!strcmp(tok[2], "r"))
			st->acc = ACC_R;
		else if (!strcmp(tok[2], "w"))
			st->acc = ACC_W;
		else
			return perr(p, "touch: access must be r or w, not '%s'", tok[2]);
		return 0;
	}
	return perr(p, "unknown call '%s'", name);
}

static int parse_vma(struct pctx *p, char *s, struct gt_vma *v)
{
	char *tok[MAXTOK];
	int n = split_tokens(s, tok);
	if (n != 4)
		return perr(p, "vma: expected 'vma START-END PROT KIND'");
	/* START-END, where either may be negative: "-16-0", "3-8", "-16--4". */
	char *r = tok[1];
	char *dash = strchr(r + 1, '-');
	int64_t a, b;
	if (!dash)
		return perr(p, "vma: bad range '%s'", tok[1]);
	*dash = 0;
	if (!num(r, &a) || !num(dash + 1, &b) || a >= b || a < GT_LO || b > GT_HI)
		return perr(p, "vma: bad range");
	v->start = (int32_t)a;
	v->end = (int32_t)b;
	int prot;
	if (strlen(tok[2]) != 4 || (tok[2][3] != 'p' && tok[2][3] != 's'))
		return perr(p, "vma: bad protection '%s'", tok[2]);
	v->shared = tok[2][3] == 's';
	tok[2][3] = 0;
	if (!prot_of(tok[2], &prot))
		return perr(p, "vma: bad protection");
	v->prot = (uint8_t)prot;
	int64_t off = 0;
	if (!strcmp(tok[3], "anon"))
		v->file = false;
	else if (!strncmp(tok[3], "file+", 5) && num(tok[3] + 5, &off) && off >= 0)
		v->file = true, v->fpgoff = (uint32_t)off;
	else
		return perr(p, "vma: bad kind '%s'", tok[3]);
	return 0;
}

static void *grow(void *v, uint32_t *cap, uint32_t n, size_t sz)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 16;
	return xrealloc(v, sz * *cap);
}

int gt_load(struct gt *g, const char *path, char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->path, sizeof(g->path), "%s", path);
	struct pctx p = { .err = err, .errlen = errlen };
	p.l = lines_open(path, err, errlen);
	if (!p.l)
		return -1;
	struct gt_seq *seq = NULL;
	struct gt_step *st = NULL;
	enum { WANT_CALL, WANT_RESULT, IN_LAYOUT } state = WANT_CALL;
	const char *s;
	size_t len;
	char buf[512];
	while ((s = lines_next(p.l, &len))) {
		if (len >= sizeof(buf)) {
			perr(&p, "line too long");
			goto fail;
		}
		memcpy(buf, s, len + 1);
		if (!len || buf[0] == '#')
			continue;
		if (buf[0] != ' ') {
			if (state == WANT_RESULT) {
				perr(&p, "call without a result line");
				goto fail;
			}
			if (st && !st->resident[0]) {
				perr(&p, "call without a resident line");
				goto fail;
			}
			int64_t id;
			if (!strncmp(buf, "sequence ", 9)) {
				if (!num(buf + 9, &id) || id < 0) {
					perr(&p, "bad sequence number");
					goto fail;
				}
				g->seqs = grow(g->seqs, &g->cap, g->n, sizeof(*g->seqs));
				seq = &g->seqs[g->n++];
				memset(seq, 0, sizeof(*seq));
				seq->id = (uint32_t)id;
				seq->line = (uint32_t)lines_lineno(p.l);
				st = NULL;
				state = WANT_CALL;
				continue;
			}
			if (!seq) {
				perr(&p, "call before the first 'sequence' line");
				goto fail;
			}
			seq->steps = grow(seq->steps, &seq->cap, seq->n, sizeof(*seq->steps));
			st = &seq->steps[seq->n++];
			if (parse_call(&p, buf, st))
				goto fail;
			g->calls++;
			state = WANT_RESULT;
			continue;
		}
		char *t = buf;
		while (*t == ' ')
			t++;
		if (!st) {
			perr(&p, "indented line outside a call");
			goto fail;
		}
		if (!strncmp(t, "-> ", 3)) {
			if (state != WANT_RESULT) {
				perr(&p, "second result line");
				goto fail;
			}
			if (strlen(t + 3) >= sizeof(st->expect) || !t[3]) {
				perr(&p, "bad result");
				goto fail;
			}
			strcpy(st->expect, t + 3);
			state = IN_LAYOUT;
		} else if (!strncmp(t, "vma ", 4)) {
			if (state != IN_LAYOUT) {
				perr(&p, "vma line before the result");
				goto fail;
			}
			uint32_t cap = st->nvmas ? st->nvmas + 1 : 0;
			st->vmas = xrealloc(st->vmas, sizeof(*st->vmas) * (st->nvmas + 1));
			(void)cap;
			if (parse_vma(&p, t, &st->vmas[st->nvmas]))
				goto fail;
			st->nvmas++;
		} else if (!strncmp(t, "resident ", 9)) {
			if (state != IN_LAYOUT || strlen(t + 9) != GT_PAGES || strspn(t + 9, "01.") != GT_PAGES) {
				perr(&p, "resident: expected %d characters of 0, 1 or '.'", GT_PAGES);
				goto fail;
			}
			strcpy(st->resident, t + 9);
			state = WANT_CALL;
		} else {
			perr(&p, "unknown line");
			goto fail;
		}
	}
	if (lines_error(p.l)) {
		snprintf(err, errlen, "%s", lines_error(p.l));
		goto fail;
	}
	if (state != WANT_CALL || (st && !st->resident[0])) {
		perr(&p, "file ends inside a call");
		goto fail;
	}
	lines_close(p.l);
	return 0;
fail:
	lines_close(p.l);
	gt_free(g);
	return -1;
}

void gt_free(struct gt *g)
{
	for (uint32_t i = 0; i < g->n; i++) {
		for (uint32_t j = 0; j < g->seqs[i].n; j++)
			xfree(g->seqs[i].steps[j].vmas);
		xfree(g->seqs[i].steps);
	}
	xfree(g->seqs);
	memset(g, 0, sizeof(*g));
}

/* ---- replay ---- */

static const char *errname(long e)
{
	switch (-e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case EOVERFLOW: return "EOVERFLOW";
	}
	return "E?";
}

/* One page of a layout, for comparison. */
struct gt_page {
	bool mapped, shared, file;
	uint8_t prot;
	uint32_t fpg;
};

struct collect {
	uint64_t base;
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
		p->prot = (uint8_t)r->prot;
		p->fpg = p->file ? (uint32_t)(r->pgoff + (uint64_t)(pg - lo)) : 0;
	}
	if (c->nv < GT_PAGES)
		c->v[c->nv++] = (struct gt_vma){ .start = (int32_t)a, .end = (int32_t)b, .prot = (uint8_t)r->prot,
						 .shared = r->flags & VM_RANGE_SHARED,
						 .file = r->kind == VM_KIND_FILE,
						 .fpgoff = (uint32_t)(r->kind == VM_KIND_FILE ? r->pgoff + (uint64_t)(a - lo) : 0) };
}

static void expected_pages(const struct gt_step *st, struct gt_page *pg)
{
	memset(pg, 0, sizeof(struct gt_page) * GT_PAGES);
	for (uint32_t i = 0; i < st->nvmas; i++) {
		const struct gt_vma *v = &st->vmas[i];
		for (int32_t p = v->start; p < v->end; p++)
			pg[p - GT_LO] = (struct gt_page){ .mapped = true, .shared = v->shared, .file = v->file,
							  .prot = v->prot,
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
	if (rep->nmsgs >= GT_MAX_REPORTS)
		return;
	char *m = rep->msgs[rep->nmsgs++];
	int n = snprintf(m, sizeof(rep->msgs[0]), "%s:%u: sequence %u: ", g->path, st->line, seq->id);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(rep->msgs[0]))
		vsnprintf(m + n, sizeof(rep->msgs[0]) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void run_step(const struct gt *g, const struct gt_seq *seq, const struct gt_step *st,
		     const struct gt_target *t, struct gt_report *rep)
{
	uint64_t base = GT_BASE, addr = base + (uint64_t)st->off;
	char got[32];
	long r = 0;
	switch (st->call) {
	case GT_MMAP:
		r = t->mmap(t->t, addr, st->len, st->prot, st->flags, st->file, st->foff);
		if (r >= 0 && !(st->flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) && (uint64_t)r != addr) {
			/* The kernel did not honour the hint: the recording removed the mapping again. */
			t->munmap(t->t, (uint64_t)r, st->len);
			snprintf(got, sizeof(got), "moved");
			r = 1; /* formatted */
		}
		break;
	case GT_MUNMAP: r = t->munmap(t->t, addr, st->len); break;
	case GT_MPROTECT: r = t->mprotect(t->t, addr, st->len, st->prot); break;
	case GT_MADVISE: r = t->madvise(t->t, addr, st->len, st->advice); break;
	case GT_MREMAP: r = t->mremap(t->t, addr, st->len, st->len2, st->flags, base + (uint64_t)st->to); break;
	case GT_TOUCH: {
		enum vm_fault f = t->touch(t->t, addr, st->acc);
		snprintf(got, sizeof(got), "%s", f == VM_FAULT_OK ? "ok" : f == VM_FAULT_BUS ? "SIGBUS" : "SIGSEGV");
		r = 1;
		break;
	}
	}
	if (st->call != GT_TOUCH && !(st->call == GT_MMAP && r == 1 && !strcmp(got, "moved"))) {
		if (r < 0 && r > -4096)
			snprintf(got, sizeof(got), "%s", errname(r));
		else if (st->call == GT_MMAP || st->call == GT_MREMAP) {
			int64_t o = (int64_t)((uint64_t)r - base);
			if (o == 0)
				snprintf(got, sizeof(got), "0");
			else if (o < 0)
				snprintf(got, sizeof(got), "-0x%llx", (unsigned long long)-o);
			else
				snprintf(got, sizeof(got), "0x%llx", (unsigned long long)o);
		} else
			snprintf(got, sizeof(got), "%ld", r);
	}
	rep->calls++;
	if (strcmp(got, st->expect)) {
		rep->result_mismatches++;
		report(rep, g, seq, st, "result %s, kernel %s", got, st->expect);
	}

	/* Layout: per page, then (for designs with VMAs) the boundaries. */
	struct collect *c = xzalloc(sizeof(*c));
	c->base = base;
	t->layout(t->t, base + (uint64_t)(GT_LO * (int64_t)PAGE_SIZE), base + GT_HI * PAGE_SIZE, collect_range, c);
	struct gt_page want[GT_PAGES];
	expected_pages(st, want);
	int bad = -1;
	for (int i = 0; i < GT_PAGES && bad < 0; i++)
		if (memcmp(&want[i], &c->pg[i], sizeof(want[i])))
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

	char res[GT_PAGES + 1];
	for (int i = 0; i < GT_PAGES; i++) {
		uint64_t va = base + (uint64_t)((int64_t)(i + GT_LO) * (int64_t)PAGE_SIZE);
		res[i] = want[i].mapped ? (t->resident(t->t, va) ? '1' : '0') : '.';
	}
	res[GT_PAGES] = 0;
	if (strcmp(res, st->resident)) {
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

/* ---- the reference model as a target ---- */

struct reft {
	struct ref *r;
	struct ref_file *f;
};

#define GT_FILE_PAGES 32

static void ref_begin(void *p, uint64_t base)
{
	struct reft *x = p;
	x->r = ref_create();
	x->f = ref_file_create(1, GT_FILE_PAGES * PAGE_SIZE);
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

static long r_mmap(void *p, uint64_t a, uint64_t l, int prot, int fl, bool file, uint64_t off)
{
	struct reft *x = p;
	return ref_mmap(x->r, a, l, prot, fl, file ? x->f : NULL, off);
}
static long r_munmap(void *p, uint64_t a, uint64_t l) { return ref_munmap(((struct reft *)p)->r, a, l); }
static long r_mprotect(void *p, uint64_t a, uint64_t l, int prot)
{
	return ref_mprotect(((struct reft *)p)->r, a, l, prot);
}
static long r_madvise(void *p, uint64_t a, uint64_t l, int adv) { return ref_madvise(((struct reft *)p)->r, a, l, adv); }
static long r_mremap(void *p, uint64_t a, uint64_t ol, uint64_t nl, int fl, uint64_t na)
{
	return ref_mremap(((struct reft *)p)->r, a, ol, nl, fl, na);
}
static enum vm_fault r_touch(void *p, uint64_t va, enum mmu_acc acc) { return ref_touch(((struct reft *)p)->r, va, acc); }
static void r_layout(void *p, uint64_t s, uint64_t e, vm_visit_fn fn, void *arg) { ref_layout(((struct reft *)p)->r, s, e, fn, arg); }
static bool r_resident(void *p, uint64_t va) { return ref_resident(((struct reft *)p)->r, va); }

struct gt_target *gt_ref_target(void)
{
	struct gt_target *t = xzalloc(sizeof(*t));
	t->t = xzalloc(sizeof(struct reft));
	t->has_vmas = true;
	t->begin_seq = ref_begin;
	t->end_seq = ref_end;
	t->mmap = r_mmap;
	t->munmap = r_munmap;
	t->mprotect = r_mprotect;
	t->madvise = r_madvise;
	t->mremap = r_mremap;
	t->touch = r_touch;
	t->layout = r_layout;
	t->resident = r_resident;
	return t;
}

void gt_ref_target_free(struct gt_target *t)
{
	if (!t)
		return;
	xfree(t->t);
	xfree(t);
}
