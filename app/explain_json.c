/* explain_json.c: JSON text for teaching mode's structured log: a string builder, and encoders for lines, changes of state and each core's activity. */
#include "app/explain_json.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- the builder ---- */

/* Make room for `more` bytes and the NUL after them. */
static void jb_reserve(struct jb *b, size_t more)
{
	if (b->n + more + 1 <= b->cap)
		return;
	b->cap = MAX(b->cap * 2, b->n + more + 256);
	b->s = xrealloc(b->s, b->cap);
}

void jb_raw(struct jb *b, const char *s)
{
	size_t n = strlen(s);
	jb_reserve(b, n);
	memcpy(b->s + b->n, s, n + 1);
	b->n += n;
}

void jb_vprintf(struct jb *b, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n <= 0)
		return;
	jb_reserve(b, (size_t)n);
	vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
	b->n += (size_t)n;
}

void jb_printf(struct jb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jb_vprintf(b, fmt, ap);
	va_end(ap);
}

void jb_str(struct jb *b, const char *s)
{
	jb_reserve(b, strlen(s) + 2);
	b->s[b->n++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			jb_reserve(b, 2);
			b->s[b->n++] = '\\';
			b->s[b->n++] = (char)*p;
		} else if (*p < 0x20 || *p == '<') {
			jb_reserve(b, 6);
			b->n += (size_t)snprintf(b->s + b->n, 7, "\\u%04x", *p);
		} else {
			jb_reserve(b, 1);
			b->s[b->n++] = (char)*p;
		}
	}
	jb_reserve(b, 1);
	b->s[b->n++] = '"';
	b->s[b->n] = 0;
}

char *jb_take(struct jb *b)
{
	char *s = b->s ? b->s : xzalloc(1);
	memset(b, 0, sizeof(*b));
	return s;
}

void jb_free(struct jb *b)
{
	xfree(b->s);
	memset(b, 0, sizeof(*b));
}

/* ---- page tables and layouts ---- */

void xchanges_add(struct xchanges *c, char sign, const struct xline *l)
{
	if (c->n == c->cap)
		c->v = xrealloc(c->v, (c->cap = c->cap ? 2 * c->cap : 64) * sizeof(*c->v));
	c->v[c->n++] = (struct xchange){ sign, l };
}

void xchanges_free(struct xchanges *c)
{
	xfree(c->v);
	memset(c, 0, sizeof(*c));
}

static uint64_t child_or_frame(const struct xent *e) { return e->kind == XE_NONE ? 0 : PTE_PFN(e->pte); }

/* Does page-table line y continue the run that x starts, k lines on, with frames dpfn apart? */
static bool pt_continues(const struct xent *x, const struct xent *y, uint64_t k, int64_t dpfn)
{
	return y->kind == XE_PAGE && x->kind == XE_PAGE && y->pid == x->pid && y->level == x->level &&
	       y->page == x->page && y->i == y->j && x->i == x->j && y->i == x->i + k &&
	       y->va == x->va + k * LEVEL_SIZE(x->level) && (y->pte & ~PTE_PFN_MASK) == (x->pte & ~PTE_PFN_MASK) &&
	       (int64_t)(child_or_frame(y) - child_or_frame(x)) == (int64_t)k * dpfn &&
	       !strcmp(y->status ? y->status : "", x->status ? x->status : "");
}

/* Write the added page-table line c->v[*i] (and the lines its run covers); *i moves past them. */
static void pt_add(struct jb *out, const struct xchanges *c, size_t *i)
{
	const struct xent *x = &c->v[*i].l->e;
	uint64_t n = 1;
	int64_t dpfn = 0;
	if (*i + 1 < c->n && c->v[*i + 1].sign == '+')
		dpfn = (int64_t)(child_or_frame(&c->v[*i + 1].l->e) - child_or_frame(x));
	while (*i + n < c->n && c->v[*i + n].sign == '+' && pt_continues(x, &c->v[*i + n].l->e, n, dpfn))
		n++;
	char bits[64] = "";
	if (x->kind != XE_NONE)
		pte_bits(x->pte, x->level, bits, sizeof(bits));
	jb_printf(out, "[%u,%u,%llu,%u,%u,%llu,%llu,%u,%llu,", x->pid, x->level, (unsigned long long)x->page, x->i, x->j,
		  (unsigned long long)(x->va >> PAGE_SHIFT), (unsigned long long)(x->end >> PAGE_SHIFT), x->kind,
		  (unsigned long long)child_or_frame(x));
	jb_str(out, bits);
	jb_raw(out, ",");
	jb_str(out, x->status ? x->status : "");
	jb_printf(out, ",%llu,%lld]", (unsigned long long)n, n > 1 ? (long long)dpfn : 0ll);
	*i += n;
}

/* Write the removed page-table line c->v[*i] (and the ones that follow it entry by entry); *i moves past them. */
static void pt_del(struct jb *out, const struct xchanges *c, size_t *i)
{
	const struct xent *x = &c->v[*i].l->e;
	uint64_t n = 1;
	while (*i + n < c->n && c->v[*i + n].sign == '-') {
		const struct xent *y = &c->v[*i + n].l->e;
		if (y->pid != x->pid || y->level != x->level || y->va != x->va + n * LEVEL_SIZE(x->level))
			break;
		n++;
	}
	jb_printf(out, "[%u,%u,%llu,%llu]", x->pid, x->level, (unsigned long long)(x->va >> PAGE_SHIFT),
		  (unsigned long long)n);
	*i += n;
}

/* ,"NAME":{"add":[...],"del":[...]} with each sign's lines written by add/del (which take as many as they cover). */
static void changes_json(struct jb *out, const char *name, const struct xchanges *c,
			 void (*add)(struct jb *, const struct xchanges *, size_t *),
			 void (*del)(struct jb *, const struct xchanges *, size_t *))
{
	if (!c->n)
		return;
	jb_printf(out, ",\"%s\":{", name);
	for (int pass = 0; pass < 2; pass++) {
		char sign = pass ? '-' : '+';
		jb_raw(out, pass ? ",\"del\":[" : "\"add\":[");
		bool first = true;
		for (size_t i = 0; i < c->n;) {
			if (c->v[i].sign != sign) {
				i++;
				continue;
			}
			if (!first)
				jb_raw(out, ",");
			first = false;
			(pass ? del : add)(out, c, &i);
		}
		jb_raw(out, "]");
	}
	jb_raw(out, "}");
}

void json_pt_changes(struct jb *out, const struct xchanges *c) { changes_json(out, "pt", c, pt_add, pt_del); }

/* Write the added layout line c->v[*i]; *i moves past it. */
static void lay_add(struct jb *out, const struct xchanges *c, size_t *i)
{
	const struct xent *x = &c->v[(*i)++].l->e;
	char p[5] = { (x->prot & VM_PROT_READ) ? 'r' : '-', (x->prot & VM_PROT_WRITE) ? 'w' : '-',
		      (x->prot & VM_PROT_EXEC) ? 'x' : '-', (x->flags & VM_RANGE_SHARED) ? 's' : 'p', 0 };
	jb_printf(out, "[%u,%llu,%llu,\"%s\",", x->pid, (unsigned long long)(x->va >> PAGE_SHIFT),
		  (unsigned long long)(x->end >> PAGE_SHIFT), p);
	jb_str(out, x->status ? x->status : "");
	jb_raw(out, "]");
}

/* Write the removed layout line c->v[*i]; *i moves past it. */
static void lay_del(struct jb *out, const struct xchanges *c, size_t *i)
{
	const struct xent *x = &c->v[(*i)++].l->e;
	jb_printf(out, "[%u,%llu]", x->pid, (unsigned long long)(x->va >> PAGE_SHIFT));
}

void json_lay_changes(struct jb *out, const struct xchanges *c) { changes_json(out, "lay", c, lay_add, lay_del); }

/* ---- TLBs ---- */

void xtlb_changes_add(struct xtlb_changes *c, const struct xtlb *e, char why)
{
	if (c->n == c->cap)
		c->v = xrealloc(c->v, (c->cap = c->cap ? 2 * c->cap : 64) * sizeof(*c->v));
	c->v[c->n++] = (struct xtlb_change){ *e, why };
}

void xtlb_changes_free(struct xtlb_changes *c)
{
	xfree(c->v);
	memset(c, 0, sizeof(*c));
}

/* Does entry y continue the run that x starts, k entries on, with frames dpfn apart (dpfn unused for removals)? */
static bool tlb_continues(const struct xtlb_change *x, const struct xtlb_change *y, uint64_t k, int64_t dpfn)
{
	const struct xtlb *a = &x->e, *b = &y->e;
	if (y->why != x->why || b->arr != a->arr || b->pcid != a->pcid || b->size != a->size ||
	    b->va != a->va + k * (1ull << PG_SHIFT(a->size)))
		return false;
	return x->why != '+' || (b->allow == a->allow && (int64_t)(b->pfn - a->pfn) == (int64_t)k * dpfn);
}

/* Write the added (adds) or removed entries of c, runs of like entries one record each. */
static void tlb_runs(struct jb *out, const struct xtlb_changes *c, bool adds)
{
	bool first = true;
	for (size_t i = 0; i < c->n;) {
		const struct xtlb_change *x = &c->v[i];
		if ((x->why == '+') != adds) {
			i++;
			continue;
		}
		int64_t dpfn = 0;
		size_t n = 1;
		if (i + 1 < c->n)
			dpfn = (int64_t)(c->v[i + 1].e.pfn - x->e.pfn);
		while (i + n < c->n && tlb_continues(x, &c->v[i + n], n, dpfn))
			n++;
		const struct xtlb *e = &x->e;
		if (adds)
			jb_printf(out, "%s[%u,%llu,%zu,%llu,%lld,%u,%u,%u]", first ? "" : ",", e->arr,
				  (unsigned long long)(e->va >> PAGE_SHIFT), n, (unsigned long long)e->pfn,
				  n > 1 ? (long long)dpfn : 0ll, e->pcid, e->size, e->allow);
		else
			jb_printf(out, "%s[%u,%llu,%zu,%u,%u,\"%c\"]", first ? "" : ",", e->arr,
				  (unsigned long long)(e->va >> PAGE_SHIFT), n, e->pcid, e->size, x->why);
		first = false;
		i += n;
	}
}

void json_tlb_changes(struct jb *out, uint32_t core, const struct xtlb_changes *c, const uint32_t *occ, size_t narr)
{
	jb_printf(out, "{\"c\":%u,\"add\":[", core);
	tlb_runs(out, c, true);
	jb_raw(out, "],\"del\":[");
	tlb_runs(out, c, false);
	jb_raw(out, "],\"occ\":[");
	for (size_t k = 0; k < narr; k++)
		jb_printf(out, "%s%u", k ? "," : "", occ[k]);
	jb_raw(out, "]}");
}

/* ---- what each core did ---- */

#define LOCKS_MAX 48  /* lock holdings kept per core and step (a long touch takes thousands) */
#define SPANS_MAX 600 /* timeline resolution: spans closer than a 600th of the core's time merge */
#define LOOK_MAX 256  /* runs of lookups kept per core and step */

/* One holding of a lock by one core. */
struct hold {
	const void *obj;
	char name[160];
	uint8_t op; /* enum wl_op of the taking, or WL_RELEASE when only the narration named it */
	cycles_t req, acq, rel, spin, sleep;
	int64_t acq_seq, rel_seq; /* narration events of the core before it was taken and released (-1: not seen) */
	bool open;
};

static const char *const mode_names[] = { [WL_SPIN] = "spin", [WL_MCS] = "mcs", [WL_READ] = "read",
					  [WL_WRITE] = "write", [WL_RELEASE] = "?", [WL_DOWNGRADE] = "read" };

/* The lock's name from its narration line: up to the first ": ", " (" or ", " outside brackets. */
static void short_name(const char *text, char *out, size_t n)
{
	int depth = 0;
	size_t k = 0;
	for (const char *p = text; *p && k + 1 < n; p++) {
		if (*p == '[')
			depth++;
		else if ((*p == ')' || *p == ']') && depth > 0)
			depth--;
		else if (!depth && (!strncmp(p, ": ", 2) || !strncmp(p, " (", 2) || !strncmp(p, ", ", 2)))
			break;
		out[k++] = *p;
	}
	out[k] = 0;
}

/* The holdings of one core, from its events in order. */
static struct hold *holds(const struct xl_act *a, size_t *n)
{
	struct hold *h = NULL;
	size_t cap = 0;
	int64_t seq = 0;
	*n = 0;
	for (size_t i = 0; i < a->nev; i++) {
		const struct watch_ev *e = &a->ev[i];
		int64_t said = seq;
		if (e->kind == WEV_NOTE || e->kind == WEV_LOCK_NOTE)
			seq++;
		if (e->kind == WEV_LOCK && (e->arg == WL_RELEASE || e->arg == WL_DOWNGRADE)) {
			size_t k = *n;
			while (k > 0 && !(h[k - 1].open && h[k - 1].obj == e->obj))
				k--;
			if (!k)
				continue;
			h[k - 1].open = false;
			h[k - 1].rel = e->t;
			h[k - 1].rel_seq = said;
			if (e->arg == WL_RELEASE)
				continue;
		}
		if (e->kind == WEV_LOCK_NOTE) {
			size_t k = *n;
			while (k > 0 && (h[k - 1].name[0] || !h[k - 1].open))
				k--;
			if (k) {
				short_name(e->text, h[k - 1].name, sizeof(h[k - 1].name));
				continue;
			}
		}
		if (e->kind != WEV_LOCK && e->kind != WEV_LOCK_NOTE)
			continue;
		if (*n == cap)
			h = xrealloc(h, (cap = cap ? 2 * cap : 16) * sizeof(*h));
		struct hold *x = &h[(*n)++];
		memset(x, 0, sizeof(*x));
		x->obj = e->kind == WEV_LOCK ? e->obj : NULL;
		x->op = e->kind == WEV_LOCK ? (uint8_t)e->arg : WL_RELEASE;
		x->req = e->kind == WEV_LOCK && e->arg != WL_DOWNGRADE ? e->a : e->t - e->spin - e->sleep;
		x->acq = e->t;
		x->rel = UINT64_MAX;
		x->acq_seq = said;
		x->rel_seq = -1;
		x->spin = e->spin;
		x->sleep = e->sleep;
		x->open = e->kind == WEV_LOCK;
		if (e->kind == WEV_LOCK_NOTE)
			short_name(e->text, x->name, sizeof(x->name));
		else if (e->arg == WL_DOWNGRADE && *n > 1)
			memcpy(x->name, h[*n - 2].name, sizeof(x->name));
	}
	return h;
}

/* Lock identities: the same lock has the same number in every core's list of the step. */
struct ids {
	const void **obj;
	size_t n, cap;
};

/* The number of lock obj in this step (NULL, a lock only the narration named: a new number). */
static size_t lock_id(struct ids *ids, const void *obj)
{
	for (size_t i = 0; obj && i < ids->n; i++)
		if (ids->obj[i] == obj)
			return i;
	if (ids->n == ids->cap)
		ids->obj = xrealloc(ids->obj, (ids->cap = ids->cap ? 2 * ids->cap : 16) * sizeof(*ids->obj));
	ids->obj[ids->n] = obj;
	return ids->n++;
}

/* ,"locks":[...],"more":N for one core: its holdings, at most LOCKS_MAX of them. */
static void act_locks(struct jb *out, const struct xl_act *a, struct ids *ids)
{
	size_t n;
	struct hold *h = holds(a, &n);
	jb_raw(out, ",\"locks\":[");
	for (size_t i = 0; i < n && i < LOCKS_MAX; i++) {
		jb_printf(out, "%s[%zu,", i ? "," : "", lock_id(ids, h[i].obj));
		jb_str(out, h[i].name);
		jb_printf(out, ",\"%s\",%llu,%llu,%lld,%llu,%llu,%lld,%lld]", mode_names[h[i].op], (unsigned long long)h[i].req,
			  (unsigned long long)h[i].acq, h[i].rel == UINT64_MAX ? -1ll : (long long)h[i].rel,
			  (unsigned long long)h[i].spin, (unsigned long long)h[i].sleep, (long long)h[i].acq_seq,
			  (long long)h[i].rel_seq);
	}
	jb_printf(out, "],\"more\":%zu", n > LOCKS_MAX ? n - LOCKS_MAX : 0);
	xfree(h);
}

/* qsort: spans by kind, then start. */
static int span_kind_cmp(const void *a, const void *b)
{
	const struct tl_span *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* qsort: spans by start, the outer of two that start together first. */
static int span_start_cmp(const void *a, const void *b)
{
	const struct tl_span *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1; /* outer spans first */
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

/* The core's spans, spans of one kind closer than the resolution merged, in order of start. */
static void act_spans(struct jb *out, const struct xl_act *a)
{
	size_t n = a->nspans, m = 0;
	struct tl_span *v = n ? xmalloc(sizeof(*v) * n) : NULL;
	if (n)
		memcpy(v, a->spans, sizeof(*v) * n);
	cycles_t q = (a->t1 - a->t0) / SPANS_MAX;
	if (n)
		qsort(v, n, sizeof(*v), span_kind_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m && v[m - 1].kind == v[i].kind && v[i].start <= v[m - 1].end + q)
			v[m - 1].end = MAX(v[m - 1].end, v[i].end);
		else
			v[m++] = v[i];
	}
	if (m)
		qsort(v, m, sizeof(*v), span_start_cmp);
	jb_raw(out, ",\"spans\":[");
	for (size_t i = 0; i < m; i++)
		jb_printf(out, "%s[%u,%llu,%llu]", i ? "," : "", v[i].kind, (unsigned long long)v[i].start,
			  (unsigned long long)v[i].end);
	jb_raw(out, "]");
	xfree(v);
}

void json_act(struct jb *out, const struct xlog *log)
{
	struct ids ids = { 0 };
	bool first = true;
	jb_raw(out, ",\"act\":[");
	for (uint32_t c = 0; c < log->ncores; c++) {
		const struct xl_act *a = &log->act[c];
		if (!a->ran)
			continue;
		jb_printf(out, "%s{\"c\":%u,\"t0\":%llu,\"t1\":%llu,\"op\":", first ? "" : ",", c,
			  (unsigned long long)a->t0, (unsigned long long)a->t1);
		if (a->what)
			jb_str(out, a->what);
		else
			jb_raw(out, "null");
		jb_raw(out, ",\"look\":[");
		first = false;
		for (size_t i = 0; i < a->nlook && i < LOOK_MAX; i++)
			jb_printf(out, "%s[%llu,%llu,%u,%u]", i ? "," : "", (unsigned long long)(a->look[i].va >> PAGE_SHIFT),
				  (unsigned long long)a->look[i].n, a->look[i].acc, a->look[i].out);
		jb_raw(out, "]");
		act_locks(out, a, &ids);
		jb_raw(out, ",\"ipis\":[");
		bool f = true;
		for (size_t i = 0; i < a->nev; i++) {
			const struct watch_ev *e = &a->ev[i];
			if (e->kind != WEV_IPI)
				continue;
			jb_printf(out, "%s[%u,%llu,%llu,%llu,%llu]", f ? "" : ",", e->arg, (unsigned long long)e->a,
				  (unsigned long long)e->b, (unsigned long long)e->d, (unsigned long long)e->work);
			f = false;
		}
		jb_raw(out, "]");
		act_spans(out, a);
		jb_raw(out, "}");
	}
	jb_raw(out, "]");
	xfree(ids.obj);
}

const char xl_kind_code[XL_KINDS] = { [XL_COMMENT] = 'c', [XL_ECHO] = 'e', [XL_OP] = 'o', [XL_NOTE] = 'n',
				      [XL_LOCK] = 'l',	  [XL_TEXT] = 't', [XL_DIFF] = 'd', [XL_ERROR] = 'x' };

void json_lines(struct jb *out, const struct xl_step *st)
{
	jb_raw(out, ",\"lines\":[");
	for (size_t i = 0; i < st->n; i++) {
		const struct xl_line *l = &st->l[i];
		jb_printf(out, "%s[\"%c\",%d,%llu,%u,", i ? "," : "", xl_kind_code[l->kind], l->core,
			  (unsigned long long)l->t, l->depth);
		jb_str(out, l->text);
		jb_printf(out, ",%u]", l->seq);
	}
	jb_raw(out, "]");
}
