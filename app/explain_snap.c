/* explain_snap.c: teaching mode's snapshots of the machine (page tables, layouts, TLBs) and the changes between two of them, for the terminal's diffs and the structured log. */
#include "app/explain.h"
#include "app/explain_json.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- page tables and layouts ---- */

/* Append a line with its key, contents (copied) and formatted text to x. */
static void snap_add(struct xsnap *x, uint64_t key, const struct xent *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void snap_add(struct xsnap *x, uint64_t key, const struct xent *e, const char *fmt, ...)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->l = xrealloc(x->l, x->cap * sizeof(*x->l));
	}
	char buf[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	struct xline *l = &x->l[x->n++];
	l->key = key;
	l->text = xstrdup(buf);
	l->e = *e;
	l->e.status = e->status ? xstrdup(e->status) : NULL;
}

void xsnap_free(struct xsnap *x)
{
	for (size_t i = 0; i < x->n; i++) {
		xfree(x->l[i].text);
		xfree(x->l[i].e.status);
	}
	xfree(x->l);
	memset(x, 0, sizeof(*x));
}

/* Is entry e at `level` a page rather than a pointer to a table? */
/* The design's words for entry i of PT page p, into buf; false if it has none. */
static bool entry_meta(struct vm_as *as, const struct pm_ptpage *p, int level, unsigned i, char *buf, size_t n)
{
	return as->d->describe_entry && as->d->describe_entry(as, p, level, i, buf, n);
}

/* Visit the table p (at `level`, mapping from `base`): one line per present entry, one per run of equal statuses. */
static void pt_rec(struct vm_as *as, const struct pm *pm, const struct pm_ptpage *p, int level, uint64_t base, int depth,
		   struct xsnap *x)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = pte_load(p, i), va = base + (uint64_t)i * LEVEL_SIZE(level);
		char m[160], d[160];
		bool hm = entry_meta(as, p, level, i, m, sizeof(m));
		uint64_t key = (va << 3) | (uint64_t)(7 - level);
		struct xent xe = { .va = va, .end = va + LEVEL_SIZE(level), .pte = e, .page = p->pfn, .pid = as->pid,
				   .i = (uint16_t)i, .j = (uint16_t)i, .level = (uint8_t)level, .status = hm ? m : NULL };
		if (pte_is_table(e, level)) {
			xe.kind = XE_TABLE;
			pte_describe(e & ~PTE_A, level, d, sizeof(d)); /* the walker's A bits on tables would only add noise */
			xe.pte = e & ~PTE_A;
			snap_add(x, key, &xe, "%*s%-4s[%3u] %#014llx  %s", 2 * depth, "", pte_level_name(level), i,
				 (unsigned long long)va, d);
			const struct pm_ptpage *c = pm_pt(pm, PTE_PFN(e));
			if (c)
				pt_rec(as, pm, c, level - 1, va, depth + 1, x);
		} else if (pte_mapped(e)) {
			xe.kind = XE_PAGE;
			pte_describe(e, level, d, sizeof(d));
			snap_add(x, key, &xe, "%*s%-4s[%3u] %#014llx  %s%s%s", 2 * depth, "", pte_level_name(level), i,
				 (unsigned long long)va, d, hm ? "  | status: " : "", hm ? m : "");
		} else if (hm || e) {
			/* A run of non-present entries with the same status. */
			unsigned j = i;
			char m2[160];
			while (j + 1 < PT_ENTRIES && !pte_mapped(pte_load(p, j + 1)) && !(pte_load(p, j + 1) & PTE_P) &&
			       pte_load(p, j + 1) == e && entry_meta(as, p, level, j + 1, m2, sizeof(m2)) == hm &&
			       (!hm || !strcmp(m, m2)))
				j++;
			uint64_t end = base + (uint64_t)(j + 1) * LEVEL_SIZE(level);
			xe.kind = XE_NONE;
			xe.j = (uint16_t)j;
			xe.end = end;
			xe.status = hm ? m : "none";
			if (j > i)
				snap_add(x, key, &xe, "%*s%-4s[%3u..%3u] %#014llx-%#014llx  not present, status: %s", 2 * depth,
					 "", pte_level_name(level), i, j, (unsigned long long)va, (unsigned long long)end,
					 hm ? m : "none");
			else
				snap_add(x, key, &xe, "%*s%-4s[%3u] %#014llx  not present, status: %s", 2 * depth, "",
					 pte_level_name(level), i, (unsigned long long)va, hm ? m : "none");
			i = j;
		}
	}
}

void xsnap_pt(struct xs *s, struct vm_as *as, struct xsnap *out)
{
	pt_rec(as, s->b->sys->pm, as->hw.root, s->b->mmu->o.levels, 0, 0, out);
}

/* "rw-p": a mapping's protection and sharing, as /proc/PID/maps writes them. */
static void prot_str(uint32_t prot, bool shared, char out[5])
{
	out[0] = (prot & VM_PROT_READ) ? 'r' : '-';
	out[1] = (prot & VM_PROT_WRITE) ? 'w' : '-';
	out[2] = (prot & VM_PROT_EXEC) ? 'x' : '-';
	out[3] = shared ? 's' : 'p';
	out[4] = 0;
}

struct lay_arg {
	struct xsnap *x;
	uint32_t pid;
};

/* vm_layout visitor: one layout line per range. */
static void layout_line(void *arg, const struct vm_range *r)
{
	struct lay_arg *a = arg;
	char p[5];
	prot_str(r->prot, r->flags & VM_RANGE_SHARED, p);
	char what[64], tags[32];
	if (r->kind == VM_KIND_FILE)
		snprintf(what, sizeof(what), "file %u, from page %llu", r->file_id, (unsigned long long)r->pgoff);
	else
		snprintf(what, sizeof(what), "anonymous");
	snprintf(tags, sizeof(tags), "%s%s", (r->flags & VM_RANGE_STACK) ? " [stack]" : "",
		 (r->flags & VM_RANGE_HEAP) ? " [heap]" : "");
	char desc[96];
	snprintf(desc, sizeof(desc), "%s%s", what, tags);
	struct xent xe = { .va = r->start, .end = r->end, .pid = a->pid, .prot = r->prot, .flags = r->flags,
			   .file = r->file_id, .pgoff = r->pgoff, .kind = XE_RANGE, .rkind = (uint8_t)r->kind, .status = desc };
	snap_add(a->x, r->start, &xe, "%#014llx-%#014llx %s %6llu KiB  %s", (unsigned long long)r->start,
		 (unsigned long long)r->end, p, (unsigned long long)((r->end - r->start) >> 10), desc);
}

void xsnap_layout(struct xs *s, struct vm_as *as, struct xsnap *out)
{
	(void)s;
	struct lay_arg a = { out, as->pid };
	vm_layout(as, 0, VM_TASK_SIZE, layout_line, &a);
}

/* qsort: lines by key, then text. */
static int line_cmp(const void *a, const void *b)
{
	const struct xline *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return strcmp(x->text, y->text);
}

void xsnap_sort(struct xsnap *x)
{
	if (x->n)
		qsort(x->l, x->n, sizeof(*x->l), line_cmp);
}

void xsnap_diff_each(const struct xsnap *a, const struct xsnap *b, void (*fn)(void *ctx, char sign, const struct xline *l),
		     void *ctx)
{
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : line_cmp(&a->l[i], &b->l[j]);
		if (c == 0)
			i++, j++;
		else if (c < 0)
			fn(ctx, '-', &a->l[i++]);
		else
			fn(ctx, '+', &b->l[j++]);
	}
}

/* ---- TLBs ---- */

/* qsort: TLB entries by array, PCID, size and address. */
static int tlb_cmp(const void *a, const void *b)
{
	const struct xtlb *x = a, *y = b;
	if (x->arr != y->arr)
		return x->arr < y->arr ? -1 : 1;
	if (x->pcid != y->pcid)
		return x->pcid < y->pcid ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->va < y->va ? -1 : x->va > y->va;
}

struct xtlb *xsnap_tlb(struct xs *s, uint32_t core, size_t *n)
{
	const struct tlb *t = &s->b->mmu->cpus[core].tlb;
	struct xtlb *v = NULL;
	size_t cap = 0;
	*n = 0;
	for (unsigned k = 0; k < ARRAY_SIZE(t->arrays); k++) {
		const struct tlb_array *a = &t->arrays[k];
		for (uint32_t i = 0; a->e && i < a->sets * a->ways; i++) {
			const struct tlb_entry *e = tlb_entry_at(a, i);
			if (!e->tag || e->gen != *tlb_gen(t, e->pcid))
				continue;
			if (*n == cap)
				v = xrealloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));
			v[(*n)++] = (struct xtlb){ .va = (e->tag >> 15) << PG_SHIFT(e->size), .pfn = e->pfn, .pcid = e->pcid,
						   .arr = (uint8_t)k, .size = e->size, .allow = e->allow };
		}
	}
	if (*n)
		qsort(v, *n, sizeof(*v), tlb_cmp);
	return v;
}

/*
 * Why an entry left a TLB: the machine was rebuilt ('r'); a flush (a full
 * one on this core this step, or the page table no longer maps the page as
 * the entry did: 'f'); else it made room for another ('e', evicted).
 */
static char tlb_why(struct xs *s, uint32_t core, const struct xtlb *e)
{
	if (s->log.rebuilt)
		return 'r';
	const struct mmu_cpu_stats *now = &s->b->mmu->cpus[core].st, *then = &s->log.st0[core];
	if (now->flush_pcid != then->flush_pcid || now->flush_full != then->flush_full)
		return 'f';
	struct vm_as *as = NULL;
	for (uint32_t i = 0; i < s->nprocs && !as; i++)
		if (s->procs[i] && s->procs[i]->hw.pcid == e->pcid)
			as = s->procs[i];
	int level = 0;
	uint64_t leaf = as ? mmu_translate_host(&as->hw, e->va, &level) : 0;
	if (!(leaf & PTE_P) || level < 1)
		return 'f';
	uint64_t pfn = PTE_PFN(leaf) + ((e->va & (LEVEL_SIZE(level) - 1)) >> PAGE_SHIFT);
	if (pfn != e->pfn || ((e->allow & ALLOW_RW) && !(leaf & PTE_RW)) || ((e->allow & ALLOW_X) && (leaf & PTE_NX)))
		return 'f';
	return 'e';
}

/* Core c's TLB changes from a to b, as one member of the "tlb" array (opened by the first core that changed). */
static void tlb_changes(struct xs *s, struct jb *out, uint32_t c, const struct xtlb *a, size_t na, const struct xtlb *b,
			size_t nb, bool *first)
{
	struct xtlb_changes ch = { 0 };
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		int k = i == na ? 1 : j == nb ? -1 : tlb_cmp(&a[i], &b[j]);
		if (k == 0 && a[i].pfn == b[j].pfn && a[i].allow == b[j].allow) {
			i++, j++;
			continue;
		}
		if (k <= 0) {
			xtlb_changes_add(&ch, &a[i], tlb_why(s, c, &a[i]));
			i++;
		}
		if (k >= 0) {
			xtlb_changes_add(&ch, &b[j], '+');
			j++;
		}
	}
	if (ch.n) {
		uint32_t occ[ARRAY_SIZE(((struct tlb *)0)->arrays)] = { 0 };
		for (size_t k = 0; k < nb; k++)
			occ[b[k].arr]++;
		jb_raw(out, *first ? ",\"tlb\":[" : ",");
		*first = false;
		json_tlb_changes(out, c, &ch, occ, ARRAY_SIZE(occ));
	}
	xtlb_changes_free(&ch);
}

/* ---- the whole machine ---- */

/* One process as the log knows it. */
struct xproc {
	uint32_t pid;
	uint64_t root;
	uint16_t pcid;
	bool vmas; /* its design keeps VMAs (else the layout is derived from statuses) */
};

struct xstate {
	uint32_t nprocs, ncores;
	struct xproc *procs;
	struct xsnap *pt, *lay; /* by process index (empty for a process that exited) */
	struct xtlb **tlb;	/* by core */
	size_t *ntlb;
	uint32_t *cur;		/* by core: the pid it runs */
};

struct xstate *xstate_take(struct xs *s)
{
	struct xstate *x = xzalloc(sizeof(*x));
	x->nprocs = s->nprocs;
	x->ncores = s->o.cores;
	x->procs = xzalloc(sizeof(*x->procs) * (x->nprocs + 1));
	x->pt = xzalloc(sizeof(*x->pt) * (x->nprocs + 1));
	x->lay = xzalloc(sizeof(*x->lay) * (x->nprocs + 1));
	for (uint32_t i = 0; i < s->nprocs; i++) {
		struct vm_as *as = s->procs[i];
		if (!as)
			continue;
		x->procs[i] = (struct xproc){ as->pid, as->hw.root->pfn, as->hw.pcid, as->d->has_vmas };
		xsnap_pt(s, as, &x->pt[i]);
		xsnap_layout(s, as, &x->lay[i]);
		xsnap_sort(&x->pt[i]);
		xsnap_sort(&x->lay[i]);
	}
	x->tlb = xzalloc(sizeof(*x->tlb) * x->ncores);
	x->ntlb = xzalloc(sizeof(*x->ntlb) * x->ncores);
	x->cur = xzalloc(sizeof(*x->cur) * x->ncores);
	for (uint32_t c = 0; c < x->ncores; c++) {
		x->tlb[c] = xsnap_tlb(s, c, &x->ntlb[c]);
		x->cur[c] = s->procs[s->cur[c]]->pid; /* as xs_as(s, c) */
	}
	return x;
}

void xstate_free(struct xstate *x)
{
	if (!x)
		return;
	for (uint32_t i = 0; i < x->nprocs; i++) {
		xsnap_free(&x->pt[i]);
		xsnap_free(&x->lay[i]);
	}
	for (uint32_t c = 0; c < x->ncores; c++)
		xfree(x->tlb[c]);
	xfree(x->procs);
	xfree(x->pt);
	xfree(x->lay);
	xfree(x->tlb);
	xfree(x->ntlb);
	xfree(x->cur);
	xfree(x);
}

/* The terminal's view of one diff: "  TITLE:" then "    + line" / "    - line", at most `max` of them, into `said`. */
struct said {
	struct jb *said; /* NULL: say nothing */
	const char *title;
	size_t shown, more, max;
	struct xchanges *ch; /* and every change, for the log */
};

static void say_change(void *ctx, char sign, const struct xline *l)
{
	struct said *d = ctx;
	xchanges_add(d->ch, sign, l);
	if (!d->said)
		return;
	if (!d->shown && !d->more)
		jb_printf(d->said, "  %s:\n", d->title);
	if (d->shown < d->max) {
		jb_printf(d->said, "    %c %s\n", sign, l->text);
		d->shown++;
	} else {
		d->more++;
	}
}

/* Collect the changes from a to b into ch, and say them under `title` into `said` (unless NULL). */
static void say_diff(struct jb *said, const char *title, const struct xsnap *a, const struct xsnap *b, size_t max,
		     struct xchanges *ch)
{
	struct said d = { said, title, 0, 0, max, ch };
	xsnap_diff_each(a, b, say_change, &d);
	if (d.more)
		jb_printf(said, "    ... and %zu more changed lines\n", d.more);
}

void xstate_diff(struct xs *s, const struct xstate *a, const struct xstate *b, struct jb *out, struct jb *said, bool all)
{
	static const struct xstate none;
	if (!a)
		a = &none;
	struct xchanges pt = { 0 }, lay = { 0 };
	char t[96];
	for (uint32_t i = 0; i < b->nprocs; i++) {
		struct xsnap empty = { 0 };
		const struct xsnap *bp = i < a->nprocs ? &a->pt[i] : &empty, *bl = i < a->nprocs ? &a->lay[i] : &empty;
		snprintf(t, sizeof(t), "process %u: %s", i + 1,
			 b->procs[i].vmas ? "VMA changes" : "layout changes (derived from the statuses)");
		say_diff(said, t, bl, &b->lay[i], 16, &lay);
		snprintf(t, sizeof(t), "process %u: page-table changes", i + 1);
		say_diff(said, t, bp, &b->pt[i], 24, &pt);
	}
	/* Processes gone since a (the machine was rebuilt with fewer): everything of theirs went. */
	for (uint32_t i = b->nprocs; i < a->nprocs; i++) {
		struct xsnap empty = { 0 };
		say_diff(NULL, NULL, &a->lay[i], &empty, 0, &lay);
		say_diff(NULL, NULL, &a->pt[i], &empty, 0, &pt);
	}
	bool procs = all || a->nprocs != b->nprocs, cur = all || a->ncores != b->ncores;
	for (uint32_t i = 0; !procs && i < b->nprocs; i++)
		procs = memcmp(&a->procs[i], &b->procs[i], sizeof(b->procs[i])) != 0;
	for (uint32_t c = 0; !cur && c < b->ncores; c++)
		cur = a->cur[c] != b->cur[c];
	if (procs) {
		jb_raw(out, ",\"procs\":[");
		for (uint32_t i = 0; i < b->nprocs; i++)
			jb_printf(out, "%s[%u,%llu,%u,%d]", i ? "," : "", b->procs[i].pid, (unsigned long long)b->procs[i].root,
				  b->procs[i].pcid, b->procs[i].vmas);
		jb_raw(out, "]");
	}
	if (cur) {
		jb_raw(out, ",\"cur\":[");
		for (uint32_t c = 0; c < b->ncores; c++)
			jb_printf(out, "%s%u", c ? "," : "", b->cur[c]);
		jb_raw(out, "]");
	}
	json_pt_changes(out, &pt);
	json_lay_changes(out, &lay);
	xchanges_free(&pt);
	xchanges_free(&lay);
	bool first = true;
	for (uint32_t c = 0; c < b->ncores; c++)
		tlb_changes(s, out, c, c < a->ncores ? a->tlb[c] : NULL, c < a->ncores ? a->ntlb[c] : 0, b->tlb[c], b->ntlb[c],
			    &first);
	if (!first)
		jb_raw(out, "]");
}
