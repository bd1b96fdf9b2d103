/* explain_show.c: teaching mode's views of the machine: page tables (text and Graphviz), TLBs, layout, frames, locks, stats. */
#include "app/explain.h"
#include "io/out.h"
#include "app/explain_ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static bool entry_meta(struct vm_as *as, const struct pm_ptpage *p, int level, unsigned i, char *buf, size_t n)
{
	return as->d->describe_entry && as->d->describe_entry(as, p, level, i, buf, n);
}

/* ---- show pt ---- */

void xs_split_address(struct xs *s, uint64_t va, int core)
{
	int top = s->b->mmu->o.levels;
	xl_printf(s, XL_TEXT, core, "  address %#llx:", (unsigned long long)va);
	for (int l = top; l >= 1; l--)
		xl_printf(s, XL_TEXT, core, " %s %u |", pte_level_name(l), (unsigned)PT_INDEX(va, l));
	xl_printf(s, XL_TEXT, core, " offset %#llx\n", (unsigned long long)(va & (PAGE_SIZE - 1)));
}

static void show_path(struct xs *s, struct vm_as *as, uint64_t va)
{
	xs_split_address(s, va, -1);
	struct mmu_hostwalk w;
	mmu_walk_host(&as->hw, va, &w);
	for (int l = s->b->mmu->o.levels; l >= w.bottom; l--) {
		unsigned i = (unsigned)PT_INDEX(va, l);
		char d[160], m[160];
		pte_describe(w.e[l], l, d, sizeof(d));
		bool hm = entry_meta(as, w.p[l], l, i, m, sizeof(m));
		xs_printf(s, "  %-4s[%3u] in PT page %#llx: %s%s%s\n", pte_level_name(l), i,
			  (unsigned long long)w.p[l]->pfn, d, hm ? "  | status: " : "", hm ? m : "");
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
		if (pte_is_table(e, level)) {
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
		if (!pte_is_table(e, level))
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
	char dotpath[4200], tmp[4300], err[4400];
	snprintf(dotpath, sizeof(dotpath), "%s%s", path, dot_only ? "" : ".dot");
	struct out o;
	if (out_open(&o, dotpath, err, sizeof(err)))
		return xs_err(s, "show pt: %s", err);
	FILE *f = o.f;
	fprintf(f, "digraph pt {\n  rankdir=LR;\n  node [shape=plaintext, fontname=\"monospace\", fontsize=10];\n");
	dot_rec(f, as, s->b->sys->pm, as->hw.root, s->b->mmu->o.levels, 0);
	fprintf(f, "}\n");
	if (out_commit(&o, err, sizeof(err)))
		return xs_err(s, "show pt: %s", err);
	if (dot_only) {
		xs_printf(s, "  wrote the page table as Graphviz source to %s\n", path);
		return 0;
	}
	/* dot draws into a temporary file beside the picture, renamed once it succeeded. */
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	pid_t pid = fork();
	if (pid < 0)
		return xs_err(s, "show pt: cannot start dot");
	if (pid == 0) {
		execlp("dot", "dot", "-Tsvg", "-o", tmp, dotpath, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		unlink(tmp);
		return xs_err(s, "show pt: Graphviz's dot failed%s; the source is in %s",
			      WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " (not installed: apt-get install graphviz)" : "",
			      dotpath);
	}
	if (rename(tmp, path)) {
		unlink(tmp);
		return xs_err(s, "show pt: cannot write '%s': %s", path, strerror(errno));
	}
	unlink(dotpath);
	xs_printf(s, "  wrote the page table to %s\n", path);
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
	xs_printf(s, "  root (CR3): %s page %#llx, PCID %u\n", pte_level_name(s->b->mmu->o.levels),
		(unsigned long long)as->hw.root->pfn, as->hw.pcid);
	for (size_t i = 0; i < x.n && i < 400; i++)
		xs_printf(s, "  %s\n", x.l[i].text);
	if (x.n > 400)
		xs_printf(s, "  ... and %zu more lines\n", x.n - 400);
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
		live += tlb_entry_at(a, k)->tag && tlb_entry_at(a, k)->gen == *tlb_gen(t, tlb_entry_at(a, k)->pcid);
	xs_printf(s, "  %s (%u entries, %u-way): %u live\n", what, total, a->ways, live);
	uint32_t shown = 0;
	for (uint32_t k = 0; k < total && shown < 16; k++) {
		const struct tlb_entry *e = tlb_entry_at(a, k);
		if (!e->tag || e->gen != *tlb_gen(t, e->pcid))
			continue;
		uint64_t va = (e->tag >> 15) << PG_SHIFT(e->size);
		xs_printf(s, "    %#014llx -> frame %#llx  PCID %u  allows %s%s%s%s\n", (unsigned long long)va,
			(unsigned long long)e->pfn, e->pcid, (e->allow & ALLOW_R) ? "r" : "", (e->allow & ALLOW_RW) ? "w" : "",
			(e->allow & ALLOW_X) ? "x" : "", (e->allow & ALLOW_RW) && !(e->allow & ALLOW_W) ? " (clean: a write walks to set D)" : "");
		shown++;
	}
	if (live > shown)
		xs_printf(s, "    ... and %u more\n", live - shown);
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
	xs_printf(s, "  core %llu, running PCID %u\n", (unsigned long long)core, cpu->pcid);
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
			live += pl->e[i].tag && pl->e[i].gen == *mmu_psc_gen(cpu, pl->e[i].pcid);
		xs_printf(s, "  paging-structure cache for %s entries (%u entries): %u live\n", pte_level_name(l), pl->n,
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
		if (pte_is_table(e, level)) {
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
	xs_printf(s, "  physical memory: %llu frames, %lld in use (%lld hold page tables), peak %lld\n",
		(unsigned long long)pm->nframes, (long long)pm_in_use(pm), (long long)pm_pt_in_use(pm),
		(long long)atomic_load(&pm->peak));
	xs_printf(s, "  the shared zero page is frame %#llx\n", (unsigned long long)s->b->sys->zero_pfn);
	struct frlist l = { 0 };
	for (uint32_t i = 0; i < s->nprocs; i++)
		if (s->procs[i])
			leaves(pm, s->procs[i]->hw.root, s->b->mmu->o.levels, 0, i + 1, &l);
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), fr_cmp);
	xs_printf(s, "  frames mapped by the processes (frame, references, where):\n");
	size_t shown = 0;
	for (size_t i = 0; i < l.n && shown < 40;) {
		size_t j = i;
		xs_printf(s, "    %#8llx  ref %-3u ", (unsigned long long)l.v[i].pfn, pm_ref(pm, l.v[i].pfn));
		for (; j < l.n && l.v[j].pfn == l.v[i].pfn && j - i < 4; j++)
			xs_printf(s, " process %u at %#llx", l.v[j].pid, (unsigned long long)l.v[j].va);
		while (j < l.n && l.v[j].pfn == l.v[i].pfn)
			j++;
		xs_printf(s, "%s\n", l.v[i].pfn == s->b->sys->zero_pfn ? "  (zero page)" : "");
		i = j;
		shown++;
	}
	if (!l.n)
		xs_printf(s, "    none\n");
	else if (shown == 40)
		xs_printf(s, "    ... (more not shown)\n");
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
	xs_printf(s, "  mm calls:");
	for (int i = 0; i < VM_OP_COUNT; i++)
		if (v.calls[i])
			xs_printf(s, " %s %llu (median %llu cycles)", vm_op_names[i], (unsigned long long)v.calls[i],
				(unsigned long long)hist_pct(&v.lat[i], 50));
	xs_printf(s, "\n  accesses %llu: L1 TLB hits %llu, STLB hits %llu, walks %llu (PSC-shortened %llu, %llu PTE reads, "
			"%llu cycles), page faults %llu\n",
		(unsigned long long)m.accesses, (unsigned long long)m.l1_hits, (unsigned long long)m.l2_hits,
		(unsigned long long)m.walks, (unsigned long long)m.psc_hits, (unsigned long long)m.walk_reads,
		(unsigned long long)m.walk_cycles, (unsigned long long)m.faults);
	xs_printf(s, "  frames zeroed %llu, copied %llu; shootdowns %llu to %llu cores (%llu cycles waiting), "
			"INVLPGs %llu, full flushes %llu\n",
		(unsigned long long)v.frames_zeroed, (unsigned long long)v.frames_copied, (unsigned long long)m.shootdowns,
		(unsigned long long)m.shootdown_targets, (unsigned long long)m.shootdown_wait, (unsigned long long)m.invlpg,
		(unsigned long long)m.flush_pcid);
	xs_printf(s, "  locks: %llu acquisitions, %llu waited (%llu cycles spinning, %llu asleep); cache lines: %llu "
			"hits, %llu transfers, %llu from memory\n",
		(unsigned long long)c.lock_acquires, (unsigned long long)c.lock_contended, (unsigned long long)c.spin,
		(unsigned long long)c.sleep, (unsigned long long)c.line_hits, (unsigned long long)c.line_xfers,
		(unsigned long long)c.line_mem);
	xs_printf(s, "  core clocks:");
	for (uint32_t i = 0; i < s->o.cores; i++)
		xs_printf(s, " %u:%llu", i, (unsigned long long)s->b->sim->cores[i].clock);
	xs_printf(s, "\n");
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
		xs_printf(s, "  process %u (%s):\n", as->pid, as->d->has_vmas ? "one line per VMA" : "no VMAs: maximal runs of equal per-PTE statuses");
		for (size_t i = 0; i < x.n; i++)
			xs_printf(s, "    %s\n", x.l[i].text);
		if (!x.n)
			xs_printf(s, "    (nothing mapped)\n");
		xsnap_free(&x);
		return 0;
	}
	if (!strcmp(w, "frames"))
		return show_frames(s);
	if (!strcmp(w, "stats"))
		return show_stats(s);
	if (!strcmp(w, "locks")) {
		xs_printf(s, "  locks taken by the last command:\n%s", s->last_locks && *s->last_locks ? s->last_locks : "    none\n");
		for (uint32_t i = 0; i < s->o.cores; i++) {
			const struct sim_core_stats *st = &s->b->sim->cores[i].st;
			xs_printf(s, "  core %u: %llu acquisitions, %llu had to wait (%llu cycles spinning, %llu asleep)\n", i,
				(unsigned long long)st->lock_acquires, (unsigned long long)st->lock_contended,
				(unsigned long long)st->spin, (unsigned long long)st->sleep);
		}
		return 0;
	}
	return xs_err(s, "show: unknown view '%s' (pt, tlb, layout, frames, locks, stats)", w);
}
