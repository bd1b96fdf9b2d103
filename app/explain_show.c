/* explain_show.c: teaching mode's views of the machine: page tables (text and Graphviz), TLBs, layout, frames, locks, stats; snapshots and their diffs. */
#include "app/explain.h"
#include "app/explain_ops.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- snapshots ---- */

static void snap_add(struct xsnap *x, uint64_t key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void snap_add(struct xsnap *x, uint64_t key, const char *fmt, ...)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->line = xrealloc(x->line, x->cap * sizeof(*x->line));
		x->key = xrealloc(x->key, x->cap * sizeof(*x->key));
	}
	char buf[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	x->line[x->n] = xstrdup(buf);
	x->key[x->n++] = key;
}

void xsnap_free(struct xsnap *x)
{
	for (size_t i = 0; i < x->n; i++)
		xfree(x->line[i]);
	xfree(x->line);
	xfree(x->key);
	memset(x, 0, sizeof(*x));
}

static bool is_leaf(uint64_t e, int level) { return level == 1 || ((e & PTE_PS) && level <= 3); }

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
		if ((e & PTE_P) && !is_leaf(e, level)) {
			pte_describe(e & ~PTE_A, level, d, sizeof(d)); /* the walker's A bits on tables would only add noise */
			snap_add(x, key, "%*s%-4s[%3u] %#014llx  %s", 2 * depth, "", pte_level_name(level), i,
				 (unsigned long long)va, d);
			const struct pm_ptpage *c = pm_pt(pm, PTE_PFN(e));
			if (c)
				pt_rec(as, pm, c, level - 1, va, depth + 1, x);
		} else if (pte_mapped(e)) {
			pte_describe(e, level, d, sizeof(d));
			snap_add(x, key, "%*s%-4s[%3u] %#014llx  %s%s%s", 2 * depth, "", pte_level_name(level), i,
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
			if (j > i)
				snap_add(x, key, "%*s%-4s[%3u..%3u] %#014llx-%#014llx  not present, status: %s", 2 * depth, "",
					 pte_level_name(level), i, j, (unsigned long long)va, (unsigned long long)end,
					 hm ? m : "none");
			else
				snap_add(x, key, "%*s%-4s[%3u] %#014llx  not present, status: %s", 2 * depth, "",
					 pte_level_name(level), i, (unsigned long long)va, hm ? m : "none");
			i = j;
		}
	}
}

void xsnap_pt(struct xs *s, struct vm_as *as, struct xsnap *out)
{
	pt_rec(as, s->b->sys->pm, as->hw.root, s->b->mmu->o.levels, 0, 0, out);
}

static void prot_str(uint32_t prot, bool shared, char out[5])
{
	out[0] = (prot & VM_PROT_READ) ? 'r' : '-';
	out[1] = (prot & VM_PROT_WRITE) ? 'w' : '-';
	out[2] = (prot & VM_PROT_EXEC) ? 'x' : '-';
	out[3] = shared ? 's' : 'p';
	out[4] = 0;
}

static void layout_line(void *arg, const struct vm_range *r)
{
	char p[5];
	prot_str(r->prot, r->flags & VM_RANGE_SHARED, p);
	char what[64];
	if (r->kind == VM_KIND_FILE)
		snprintf(what, sizeof(what), "file %u, from page %llu", r->file_id, (unsigned long long)r->pgoff);
	else
		snprintf(what, sizeof(what), "anonymous");
	snap_add(arg, r->start, "%#014llx-%#014llx %s %6llu KiB  %s%s%s", (unsigned long long)r->start,
		 (unsigned long long)r->end, p, (unsigned long long)((r->end - r->start) >> 10), what,
		 (r->flags & VM_RANGE_STACK) ? " [stack]" : "", (r->flags & VM_RANGE_HEAP) ? " [heap]" : "");
}

void xsnap_layout(struct xs *s, struct vm_as *as, struct xsnap *out)
{
	(void)s;
	vm_layout(as, 0, VM_TASK_SIZE, layout_line, out);
}

struct kl {
	uint64_t key;
	const char *line;
};

static int kl_cmp(const void *a, const void *b)
{
	const struct kl *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return strcmp(x->line, y->line);
}

static struct kl *sorted(const struct xsnap *x)
{
	struct kl *k = xmalloc(sizeof(*k) * (x->n + 1));
	for (size_t i = 0; i < x->n; i++)
		k[i] = (struct kl){ x->key[i], x->line[i] };
	qsort(k, x->n, sizeof(*k), kl_cmp);
	return k;
}

void xsnap_diff(struct xs *s, const char *title, const struct xsnap *a, const struct xsnap *b, size_t max)
{
	struct kl *x = sorted(a), *y = sorted(b);
	size_t i = 0, j = 0, shown = 0, more = 0;
	bool titled = false;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : kl_cmp(&x[i], &y[j]);
		if (c == 0) {
			i++, j++;
			continue;
		}
		const char *sign = c < 0 ? "-" : "+";
		const char *line = c < 0 ? x[i++].line : y[j++].line;
		if (!titled) {
			fprintf(s->out, "  %s:\n", title);
			titled = true;
		}
		if (shown < max) {
			fprintf(s->out, "    %s %s\n", sign, line);
			shown++;
		} else {
			more++;
		}
	}
	if (more)
		fprintf(s->out, "    ... and %zu more changed lines\n", more);
	xfree(x);
	xfree(y);
}

/* ---- show pt ---- */

static void split_line(struct xs *s, uint64_t va)
{
	int top = s->b->mmu->o.levels;
	fprintf(s->out, "  address %#llx:", (unsigned long long)va);
	for (int l = top; l >= 1; l--)
		fprintf(s->out, " %s %u |", pte_level_name(l), (unsigned)PT_INDEX(va, l));
	fprintf(s->out, " offset %#llx\n", (unsigned long long)(va & (PAGE_SIZE - 1)));
}

void xs_split_address(struct xs *s, uint64_t va) { split_line(s, va); }

static void show_path(struct xs *s, struct vm_as *as, uint64_t va)
{
	split_line(s, va);
	const struct pm *pm = s->b->sys->pm;
	const struct pm_ptpage *p = as->hw.root;
	for (int l = s->b->mmu->o.levels; l >= 1 && p; l--) {
		unsigned i = (unsigned)PT_INDEX(va, l);
		uint64_t e = pte_load(p, i);
		char d[160], m[160];
		pte_describe(e, l, d, sizeof(d));
		bool hm = entry_meta(as, p, l, i, m, sizeof(m));
		fprintf(s->out, "  %-4s[%3u] in PT page %#llx: %s%s%s\n", pte_level_name(l), i, (unsigned long long)p->pfn, d,
			hm ? "  | status: " : "", hm ? m : "");
		if (!(e & PTE_P) || is_leaf(e, l))
			return;
		p = pm_pt(pm, PTE_PFN(e));
	}
}

/* Graphviz: one record node per PT page, with its present entries and its runs of statuses. */
static void dot_rec(FILE *f, struct vm_as *as, const struct pm *pm, const struct pm_ptpage *p, int level, uint64_t base)
{
	fprintf(f, "  p%llx [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\"><tr><td bgcolor=\"lightgrey\"><b>%s page %#llx</b><br/>maps %#llx +%llu KiB</td></tr>",
		(unsigned long long)p->pfn, pte_level_name(level), (unsigned long long)p->pfn, (unsigned long long)base,
		(unsigned long long)(LEVEL_SIZE(level) * PT_ENTRIES >> 10));
	unsigned rows = 0;
	for (unsigned i = 0; i < PT_ENTRIES && rows < 40; i++) {
		uint64_t e = pte_load(p, i);
		char m[160], b[64];
		bool hm = entry_meta(as, p, level, i, m, sizeof(m));
		if ((e & PTE_P) && !is_leaf(e, level)) {
			fprintf(f, "<tr><td port=\"e%u\">[%u] -&gt; %s %#llx</td></tr>", i, i, pte_level_name(level - 1),
				(unsigned long long)PTE_PFN(e));
			rows++;
		} else if (pte_mapped(e)) {
			pte_bits(e, level, b, sizeof(b));
			fprintf(f, "<tr><td bgcolor=\"%s\">[%u] %s frame %#llx<br/>%s</td></tr>",
				level > 1 ? "gold" : "palegreen", i, level == 1 ? "4K" : level == 2 ? "2M" : "1G",
				(unsigned long long)PTE_PFN(e), b);
			rows++;
		} else if (hm) {
			unsigned j = i;
			char m2[160];
			while (j + 1 < PT_ENTRIES && !pte_mapped(pte_load(p, j + 1)) &&
			       entry_meta(as, p, level, j + 1, m2, sizeof(m2)) && !strcmp(m, m2))
				j++;
			fprintf(f, "<tr><td bgcolor=\"lightblue\">[%u..%u] status: %s</td></tr>", i, j, m);
			i = j;
			rows++;
		}
	}
	if (rows == 40)
		fprintf(f, "<tr><td>...</td></tr>");
	fprintf(f, "</table>>];\n");
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = pte_load(p, i);
		if (!(e & PTE_P) || is_leaf(e, level))
			continue;
		const struct pm_ptpage *c = pm_pt(pm, PTE_PFN(e));
		if (!c)
			continue;
		fprintf(f, "  p%llx:e%u -> p%llx;\n", (unsigned long long)p->pfn, i, (unsigned long long)c->pfn);
		dot_rec(f, as, pm, c, level - 1, base + (uint64_t)i * LEVEL_SIZE(level));
	}
}

static int write_svg(struct xs *s, struct vm_as *as, const char *path)
{
	size_t n = strlen(path);
	bool dot_only = n > 4 && !strcmp(path + n - 4, ".dot");
	char dotpath[4200];
	snprintf(dotpath, sizeof(dotpath), "%s%s", path, dot_only ? "" : ".dot");
	FILE *f = fopen(dotpath, "w");
	if (!f)
		return xs_err(s, "show pt: cannot write '%s'", dotpath);
	fprintf(f, "digraph pt {\n  rankdir=LR;\n  node [shape=plaintext, fontname=\"monospace\", fontsize=10];\n");
	dot_rec(f, as, s->b->sys->pm, as->hw.root, s->b->mmu->o.levels, 0);
	fprintf(f, "}\n");
	if (fclose(f))
		return xs_err(s, "show pt: error writing '%s'", dotpath);
	if (dot_only) {
		fprintf(s->out, "  wrote the page table as Graphviz source to %s\n", path);
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0)
		return xs_err(s, "show pt: cannot start dot");
	if (pid == 0) {
		execlp("dot", "dot", "-Tsvg", "-o", path, dotpath, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return xs_err(s, "show pt: Graphviz's dot failed%s; the source is in %s",
			      WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " (not installed: apt-get install graphviz)" : "",
			      dotpath);
	unlink(dotpath);
	fprintf(s->out, "  wrote the page table to %s\n", path);
	return 0;
}

static int show_pt(struct xs *s, struct xcmd *c, struct vm_as *as)
{
	if (c->argc >= 3 && !strcmp(c->argv[2], "--svg")) {
		if (c->argc != 4)
			return xs_err(s, "show pt --svg FILE: give one file name");
		return write_svg(s, as, c->argv[3]);
	}
	if (c->argc >= 3) {
		uint64_t va;
		if (xs_value(s, &s->names, c->argv[2], &va))
			return -1;
		show_path(s, as, va);
		return 0;
	}
	struct xsnap x = { 0 };
	xsnap_pt(s, as, &x);
	fprintf(s->out, "  root (CR3): %s page %#llx, PCID %u\n", pte_level_name(s->b->mmu->o.levels),
		(unsigned long long)as->hw.root->pfn, as->hw.pcid);
	for (size_t i = 0; i < x.n && i < 400; i++)
		fprintf(s->out, "  %s\n", x.line[i]);
	if (x.n > 400)
		fprintf(s->out, "  ... and %zu more lines\n", x.n - 400);
	xsnap_free(&x);
	return 0;
}

/* ---- show tlb ---- */

static void show_array(struct xs *s, const struct tlb *t, const struct tlb_array *a, const char *what)
{
	if (!a || !a->e)
		return;
	uint32_t total = a->sets * a->ways, live = 0;
	for (uint32_t k = 0; k < total; k++)
		live += tlb_entry_at(a, k)->tag && tlb_entry_at(a, k)->gen == t->gen[tlb_entry_at(a, k)->pcid];
	fprintf(s->out, "  %s (%u entries, %u-way): %u live\n", what, total, a->ways, live);
	uint32_t shown = 0;
	for (uint32_t k = 0; k < total && shown < 16; k++) {
		const struct tlb_entry *e = tlb_entry_at(a, k);
		if (!e->tag || e->gen != t->gen[e->pcid])
			continue;
		uint64_t va = (e->tag >> 15) << PG_SHIFT(e->size);
		fprintf(s->out, "    %#014llx -> frame %#llx  PCID %u  allows %s%s%s%s\n", (unsigned long long)va,
			(unsigned long long)e->pfn, e->pcid, (e->allow & ALLOW_R) ? "r" : "", (e->allow & ALLOW_RW) ? "w" : "",
			(e->allow & ALLOW_X) ? "x" : "", (e->allow & ALLOW_RW) && !(e->allow & ALLOW_W) ? " (clean: a write walks to set D)" : "");
		shown++;
	}
	if (live > shown)
		fprintf(s->out, "    ... and %u more\n", live - shown);
}

static int show_tlb(struct xs *s, struct xcmd *c)
{
	uint64_t core = s->core;
	if (c->argc >= 3 && xs_value(s, &s->names, c->argv[2], &core))
		return -1;
	if (core >= s->o.cores)
		return xs_err(s, "show tlb: no core %llu (this machine has cores 0 to %u)", (unsigned long long)core,
			      s->o.cores - 1);
	struct mmu_cpu *cpu = &s->b->mmu->cpus[core];
	const struct tlb *t = &cpu->tlb;
	fprintf(s->out, "  core %llu, running PCID %u\n", (unsigned long long)core, cpu->pcid);
	static const char *sz[3] = { "4 KiB", "2 MiB", "1 GiB" };
	char what[64];
	for (int k = 0; k < 3; k++) {
		snprintf(what, sizeof(what), "L1 data TLB, %s pages", sz[k]);
		if (k == 0 || t->l1d[k] != t->l1d[k - 1])
			show_array(s, t, t->l1d[k], what);
	}
	for (int k = 0; k < 3; k++) {
		snprintf(what, sizeof(what), "L1 instruction TLB, %s pages", sz[k]);
		if (k == 0 || t->l1i[k] != t->l1i[k - 1])
			show_array(s, t, t->l1i[k], what);
	}
	for (int k = 0; k < 3; k++) {
		snprintf(what, sizeof(what), "STLB (L2), %s pages", sz[k]);
		if (k == 0 || t->l2[k] != t->l2[k - 1])
			show_array(s, t, t->l2[k], what);
	}
	for (int l = 2; l <= s->b->mmu->o.levels; l++) {
		const struct psc_level *pl = &cpu->psc[l];
		uint32_t live = 0;
		for (uint32_t i = 0; i < pl->n; i++)
			live += pl->e[i].tag && pl->e[i].gen == cpu->psc_gen[pl->e[i].pcid];
		fprintf(s->out, "  paging-structure cache for %s entries (%u entries): %u live\n", pte_level_name(l), pl->n,
			live);
	}
	return 0;
}

/* ---- show frames, layout, stats, locks ---- */

struct fr {
	uint64_t pfn, va;
	uint32_t pid;
};

static int fr_cmp(const void *a, const void *b)
{
	const struct fr *x = a, *y = b;
	return x->pfn != y->pfn ? (x->pfn < y->pfn ? -1 : 1) : x->pid != y->pid ? (int)x->pid - (int)y->pid : x->va < y->va ? -1 : x->va > y->va;
}

struct frlist {
	struct fr *v;
	size_t n, cap;
};

static void leaves(const struct pm *pm, const struct pm_ptpage *p, int level, uint64_t base, uint32_t pid, struct frlist *l)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t e = pte_load(p, i), va = base + (uint64_t)i * LEVEL_SIZE(level);
		if ((e & PTE_P) && !is_leaf(e, level)) {
			const struct pm_ptpage *c = pm_pt(pm, PTE_PFN(e));
			if (c)
				leaves(pm, c, level - 1, va, pid, l);
		} else if (pte_mapped(e)) {
			if (l->n == l->cap)
				l->v = xrealloc(l->v, (l->cap = l->cap ? 2 * l->cap : 64) * sizeof(*l->v));
			l->v[l->n++] = (struct fr){ PTE_PFN(e), va, pid };
		}
	}
}

static int show_frames(struct xs *s)
{
	const struct pm *pm = s->b->sys->pm;
	fprintf(s->out, "  physical memory: %llu frames, %lld in use (%lld hold page tables), peak %lld\n",
		(unsigned long long)pm->nframes, (long long)pm_in_use(pm), (long long)pm_pt_in_use(pm),
		(long long)atomic_load(&pm->peak));
	fprintf(s->out, "  the shared zero page is frame %#llx\n", (unsigned long long)s->b->sys->zero_pfn);
	struct frlist l = { 0 };
	for (uint32_t i = 0; i < s->nprocs; i++)
		if (s->procs[i])
			leaves(pm, s->procs[i]->hw.root, s->b->mmu->o.levels, 0, i + 1, &l);
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), fr_cmp);
	fprintf(s->out, "  frames mapped by the processes (frame, references, where):\n");
	size_t shown = 0;
	for (size_t i = 0; i < l.n && shown < 40;) {
		size_t j = i;
		fprintf(s->out, "    %#8llx  ref %-3u ", (unsigned long long)l.v[i].pfn, pm_ref(pm, l.v[i].pfn));
		for (; j < l.n && l.v[j].pfn == l.v[i].pfn && j - i < 4; j++)
			fprintf(s->out, " process %u at %#llx", l.v[j].pid, (unsigned long long)l.v[j].va);
		while (j < l.n && l.v[j].pfn == l.v[i].pfn)
			j++;
		fprintf(s->out, "%s\n", l.v[i].pfn == s->b->sys->zero_pfn ? "  (zero page)" : "");
		i = j;
		shown++;
	}
	if (!l.n)
		fprintf(s->out, "    none\n");
	else if (shown == 40)
		fprintf(s->out, "    ... (more not shown)\n");
	xfree(l.v);
	return 0;
}

static int show_stats(struct xs *s)
{
	struct vm_core_stats v;
	vm_stats_sum(s->b->sys, &v);
	struct mmu_cpu_stats m;
	mmu_stats_sum(s->b->mmu, &m);
	struct sim_core_stats c;
	sim_stats_sum(s->b->sim, &c);
	fprintf(s->out, "  mm calls:");
	for (int i = 0; i < VM_OP_COUNT; i++)
		if (v.calls[i])
			fprintf(s->out, " %s %llu (median %llu cycles)", vm_op_names[i], (unsigned long long)v.calls[i],
				(unsigned long long)hist_pct(&v.lat[i], 50));
	fprintf(s->out, "\n  accesses %llu: L1 TLB hits %llu, STLB hits %llu, walks %llu (PSC-shortened %llu, %llu PTE reads, "
			"%llu cycles), page faults %llu\n",
		(unsigned long long)m.accesses, (unsigned long long)m.l1_hits, (unsigned long long)m.l2_hits,
		(unsigned long long)m.walks, (unsigned long long)m.psc_hits, (unsigned long long)m.walk_reads,
		(unsigned long long)m.walk_cycles, (unsigned long long)m.faults);
	fprintf(s->out, "  frames zeroed %llu, copied %llu; shootdowns %llu to %llu cores (%llu cycles waiting), "
			"INVLPGs %llu, full flushes %llu\n",
		(unsigned long long)v.frames_zeroed, (unsigned long long)v.frames_copied, (unsigned long long)m.shootdowns,
		(unsigned long long)m.shootdown_targets, (unsigned long long)m.shootdown_wait, (unsigned long long)m.invlpg,
		(unsigned long long)m.flush_pcid);
	fprintf(s->out, "  locks: %llu acquisitions, %llu waited (%llu cycles spinning, %llu asleep); cache lines: %llu "
			"hits, %llu transfers, %llu from memory\n",
		(unsigned long long)c.lock_acquires, (unsigned long long)c.lock_contended, (unsigned long long)c.spin,
		(unsigned long long)c.sleep, (unsigned long long)c.line_hits, (unsigned long long)c.line_xfers,
		(unsigned long long)c.line_mem);
	fprintf(s->out, "  core clocks:");
	for (uint32_t i = 0; i < s->o.cores; i++)
		fprintf(s->out, " %u:%llu", i, (unsigned long long)s->b->sim->cores[i].clock);
	fprintf(s->out, "\n");
	vm_stats_free(&v);
	return 0;
}

int xs_show(struct xs *s, struct xcmd *c)
{
	if (c->argc < 2)
		return xs_err(s, "show: what? (pt, tlb, layout, frames, locks, stats)");
	const char *w = c->argv[1];
	struct vm_as *as = xs_as(s, c->core >= 0 ? (uint32_t)c->core : s->core);
	if (!strcmp(w, "pt"))
		return show_pt(s, c, as);
	if (c->argc > 3 || (c->argc == 3 && strcmp(w, "tlb")))
		return xs_err(s, "show %s: unexpected '%s'", w, c->argv[2]);
	if (!strcmp(w, "tlb"))
		return show_tlb(s, c);
	if (!strcmp(w, "layout")) {
		struct xsnap x = { 0 };
		xsnap_layout(s, as, &x);
		fprintf(s->out, "  process %u (%s):\n", as->pid, as->d->has_vmas ? "one line per VMA" : "no VMAs: maximal runs of equal per-PTE statuses");
		for (size_t i = 0; i < x.n; i++)
			fprintf(s->out, "    %s\n", x.line[i]);
		if (!x.n)
			fprintf(s->out, "    (nothing mapped)\n");
		xsnap_free(&x);
		return 0;
	}
	if (!strcmp(w, "frames"))
		return show_frames(s);
	if (!strcmp(w, "stats"))
		return show_stats(s);
	if (!strcmp(w, "locks")) {
		fprintf(s->out, "  locks taken by the last command:\n%s", s->last_locks && *s->last_locks ? s->last_locks : "    none\n");
		for (uint32_t i = 0; i < s->o.cores; i++) {
			const struct sim_core_stats *st = &s->b->sim->cores[i].st;
			fprintf(s->out, "  core %u: %llu acquisitions, %llu had to wait (%llu cycles spinning, %llu asleep)\n", i,
				(unsigned long long)st->lock_acquires, (unsigned long long)st->lock_contended,
				(unsigned long long)st->spin, (unsigned long long)st->sleep);
		}
		return 0;
	}
	return xs_err(s, "show: unknown view '%s' (pt, tlb, layout, frames, locks, stats)", w);
}
