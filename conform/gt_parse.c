/* gt_parse.c: the kernel ground-truth text format: a strict parser (the seed file's calls and the live recorder's extensions). */
#include "conform/gt.h"
#include "conform/gt_names.h"
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

/* A value from a table of names, or a number. */
static bool name_of(const char *s, const struct gtn *tab, long *v)
{
	for (const struct gtn *t = tab; t->name; t++)
		if (!strcmp(s, t->name)) {
			*v = t->value;
			return true;
		}
	int64_t x;
	if (!num(s, &x) || x < INT32_MIN || x > INT32_MAX)
		return false;
	*v = (long)x;
	return true;
}

/* Flag bits: names of tab (or numbers) joined by sep. */
static bool flags_of(const char *s, const struct gtn *tab, char sep, int *out)
{
	char buf[96];
	if (!*s || strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	long v = 0, x;
	for (char *t = buf, *e; t; t = e) {
		e = strchr(t, sep);
		if (e)
			*e++ = 0;
		if (!name_of(t, tab, &x))
			return false;
		v |= x;
	}
	*out = (int)v;
	return true;
}

/* "rwx" letters, then optionally '+' and more bits ("r--+growsdown", "rw-+sem+0x10"). */
static bool prot_of(const char *s, int *prot)
{
	if (strlen(s) < 3 || (s[3] && s[3] != '+'))
		return false;
	*prot = 0;
	static const char want[3] = { 'r', 'w', 'x' };
	for (int i = 0; i < 3; i++) {
		if (s[i] == want[i])
			*prot |= 1 << i;
		else if (s[i] != '-')
			return false;
	}
	int extra = 0;
	if (s[3] && !flags_of(s + 4, gtn_prot_flags, '+', &extra))
		return false;
	*prot |= extra;
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

/* mmap's KIND: what it maps and how it shares. */
static bool kind_of(const char *s, struct gt_step *st)
{
	static const struct {
		const char *name;
		int flags;
		bool file;
	} kinds[] = { { "anon", VM_MAP_PRIVATE | VM_MAP_ANONYMOUS, false },
		      { "anon-shared", VM_MAP_SHARED | VM_MAP_ANONYMOUS, false },
		      { "file-private", VM_MAP_PRIVATE, true },
		      { "file-shared", VM_MAP_SHARED, true },
		      { "file-shared-validate", VM_MAP_SHARED_VALIDATE, true } };
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(s, kinds[i].name)) {
			st->flags = kinds[i].flags;
			st->file = kinds[i].file;
			return true;
		}
	return false;
}

static int parse_mmap(struct pctx *p, char **tok, int n, struct gt_step *st)
{
	int64_t a, b, c;
	if (n != 7 && n != 8)
		return perr(p, "mmap: expected 'mmap OFF LEN PROT KIND MODE off=FOFF [flags=F,...]'");
	if (!num(tok[1], &a) || !num(tok[2], &b) || b < 0)
		return perr(p, "mmap: bad offset or length");
	if (!prot_of(tok[3], &st->prot))
		return perr(p, "mmap: bad protection '%s'", tok[3]);
	if (!kind_of(tok[4], st))
		return perr(p, "mmap: unknown kind '%s'", tok[4]);
	if (!strcmp(tok[5], "fixed"))
		st->flags |= VM_MAP_FIXED;
	else if (!strcmp(tok[5], "fixed-noreplace"))
		st->flags |= VM_MAP_FIXED_NOREPLACE;
	else if (strcmp(tok[5], "hint"))
		return perr(p, "mmap: unknown mode '%s'", tok[5]);
	if (strncmp(tok[6], "off=", 4) || !num(tok[6] + 4, &c) || c < 0)
		return perr(p, "mmap: bad 'off=' field");
	int more = 0;
	if (n == 8 && (strncmp(tok[7], "flags=", 6) || !flags_of(tok[7] + 6, gtn_mmap_flags, ',', &more)))
		return perr(p, "mmap: bad 'flags=' field '%s'", tok[7]);
	st->flags |= more;
	st->call = GT_MMAP;
	st->off = a;
	st->len = (uint64_t)b;
	st->foff = (uint64_t)c;
	return 0;
}

/* The calls on a range: NAME OFF LEN [ARG]. */
static int parse_range(struct pctx *p, char **tok, int n, struct gt_step *st)
{
	static const struct {
		const char *name;
		enum gt_call call;
		int args; /* 1: ARG required, 2: optional */
	} calls[] = { { "munmap", GT_MUNMAP, 0 },	 { "mprotect", GT_MPROTECT, 1 }, { "madvise", GT_MADVISE, 1 },
		      { "mlock", GT_MLOCK, 2 },		 { "munlock", GT_MUNLOCK, 0 },	 { "msync", GT_MSYNC, 1 },
		      { "mincore", GT_MINCORE, 0 },	 { "fallocate", GT_FALLOCATE, 1 } };
	size_t k = 0;
	while (strcmp(tok[0], calls[k].name))
		k++;
	int want = calls[k].args == 1 ? 4 : 3;
	if (n != want && !(calls[k].args == 2 && n == 4))
		return perr(p, "%s: wrong number of fields", tok[0]);
	int64_t a, b;
	if (!num(tok[1], &a) || !num(tok[2], &b) || b < 0)
		return perr(p, "%s: bad offset or length", tok[0]);
	st->call = calls[k].call;
	st->off = a;
	st->len = (uint64_t)b;
	const char *arg = n == 4 ? tok[3] : NULL;
	long adv;
	bool ok = true;
	switch (st->call) {
	case GT_MPROTECT: ok = prot_of(arg, &st->prot); break;
	case GT_MADVISE:
		ok = name_of(arg, gtn_advice, &adv);
		st->advice = (int)adv;
		break;
	case GT_MLOCK: ok = !arg || flags_of(arg, gtn_mlock_flags, '-', &st->flags); break;
	case GT_MSYNC: ok = flags_of(arg, gtn_msync_flags, '-', &st->flags); break;
	case GT_FALLOCATE: ok = flags_of(arg, gtn_falloc_flags, '-', &st->flags); break;
	default: break;
	}
	return ok ? 0 : perr(p, "%s: bad argument '%s'", tok[0], arg);
}

static int parse_call(struct pctx *p, char *line, struct gt_step *st)
{
	char *tok[MAXTOK];
	memset(st, 0, sizeof(*st));
	st->line = (uint32_t)lines_lineno(p->l);
	snprintf(st->text, sizeof(st->text), "%.*s", (int)sizeof(st->text) - 1, line);
	int n = split_tokens(line, tok);
	int64_t a, b, c;
	if (n < 1 || n > MAXTOK)
		return perr(p, n < 1 ? "empty call" : "too many fields");
	const char *name = tok[0];
	if (!strcmp(name, "mmap"))
		return parse_mmap(p, tok, n, st);
	static const char *const ranged[] = { "munmap", "mprotect", "madvise", "mlock",
					      "munlock", "msync",    "mincore", "fallocate" };
	for (size_t i = 0; i < ARRAY_SIZE(ranged); i++)
		if (!strcmp(name, ranged[i]))
			return parse_range(p, tok, n, st);
	if (!strcmp(name, "mremap")) {
		if (n < 5 || !num(tok[1], &a) || !num(tok[2], &b) || !num(tok[3], &c) || b < 0 || c < 0)
			return perr(p, "mremap: expected 'mremap OFF OLDLEN NEWLEN FLAGS [TO]'");
		st->call = GT_MREMAP;
		st->off = a;
		st->len = (uint64_t)b;
		st->len2 = (uint64_t)c;
		if (!flags_of(tok[4], gtn_mremap_flags, '-', &st->flags))
			return perr(p, "mremap: unknown mode '%s'", tok[4]);
		bool to = st->flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
		if (n != (to ? 6 : 5))
			return perr(p, "mremap: a target TO goes with fixed or dontunmap, and only then");
		if (to && !num(tok[5], &st->to))
			return perr(p, "mremap: bad target '%s'", tok[5]);
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
	if (!strcmp(name, "fork")) {
		if (n != 2 || (strcmp(tok[1], "child") && strcmp(tok[1], "parent")))
			return perr(p, "fork: expected 'fork child|parent'");
		st->call = GT_FORK;
		st->flags = !strcmp(tok[1], "child");
		return 0;
	}
	if (!strcmp(name, "mlockall") || !strcmp(name, "munlockall")) {
		bool all = name[1] == 'l';
		if (n != (all ? 2 : 1) || (all && !flags_of(tok[1], gtn_mlockall_flags, '-', &st->flags)))
			return perr(p, "%s: expected '%s'", name, all ? "mlockall FLAGS" : "munlockall");
		st->call = all ? GT_MLOCKALL : GT_MUNLOCKALL;
		return 0;
	}
	if (!strcmp(name, "ftruncate")) {
		if (n != 2 || !num(tok[1], &a) || a < 0)
			return perr(p, "ftruncate: expected 'ftruncate SIZE'");
		st->call = GT_FTRUNCATE;
		st->foff = (uint64_t)a;
		return 0;
	}
	return perr(p, "unknown call '%s'", name);
}

static int parse_vma(struct pctx *p, char *s, struct gt_vma *v)
{
	memset(v, 0, sizeof(*v));
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
	else if (!strncmp(tok[3], "file+", 5) && num(tok[3] + 5, &off) && off >= 0 && off <= UINT32_MAX)
		v->file = true, v->fpgoff = (uint32_t)off;
	else if (!strncmp(tok[3], "shmem+", 6) && num(tok[3] + 6, &off) && off >= 0 && off <= UINT32_MAX)
		v->file = v->shmem = true, v->fpgoff = (uint32_t)off;
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

/* The header's `kernel RELEASE` and `setting KEY VALUE` lines (before the first sequence): -1 on a malformed one. */
static int header_line(struct pctx *p, struct gt *g, const char *s)
{
	if (!strncmp(s, "kernel ", 7)) {
		if (g->kernel[0] || !s[7] || strlen(s + 7) >= sizeof(g->kernel) || strchr(s + 7, ' '))
			return perr(p, "kernel: expected one 'kernel RELEASE' line");
		strcpy(g->kernel, s + 7);
	} else if (!strncmp(s, "setting ", 8)) {
		const char *k = s + 8, *sp = strchr(k, ' ');
		struct gt_setting st;
		if (!sp || sp == k || (size_t)(sp - k) >= sizeof(st.key) || !sp[1] || strlen(sp + 1) >= sizeof(st.value))
			return perr(p, "setting: expected 'setting KEY VALUE'");
		memset(&st, 0, sizeof(st));
		memcpy(st.key, k, (size_t)(sp - k));
		strcpy(st.value, sp + 1);
		if (gt_setting(g, st.key))
			return perr(p, "setting: '%s' given twice", st.key);
		g->settings = xrealloc(g->settings, sizeof(st) * (g->nsettings + 1));
		g->settings[g->nsettings++] = st;
	}
	return 0;
}

const char *gt_setting(const struct gt *g, const char *key)
{
	for (uint32_t i = 0; i < g->nsettings; i++)
		if (!strcmp(g->settings[i].key, key))
			return g->settings[i].value;
	return NULL;
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
			if (!seq && header_line(&p, g, buf))
				goto fail;
			if (!seq && (!strncmp(buf, "kernel ", 7) || !strncmp(buf, "setting ", 8)))
				continue;
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
	xfree(g->settings);
	memset(g, 0, sizeof(*g));
}

