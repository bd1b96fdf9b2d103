/* explain_log.c: teaching mode's structured log: the lines of each step, what the cores did, the machine's changes at the end of a step, and the terminal renderer. */
#include "app/explain_json.h"

#include <stdarg.h>
#include <string.h>

/* ---- lines ---- */

/* Append a line (a copy of len bytes of text) to the current step. */
static void line_add(struct xlog *g, enum xl_kind k, int core, cycles_t t, unsigned depth, uint32_t seq, const char *text,
		     size_t len)
{
	struct xl_step *st = &g->cur;
	if (st->n == st->cap)
		st->l = xrealloc(st->l, (st->cap = st->cap ? 2 * st->cap : 32) * sizeof(*st->l));
	char *copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = 0;
	st->l[st->n++] = (struct xl_line){ copy, t, core, seq, (uint8_t)k, (uint8_t)MIN(depth, 255u) };
}

void xl_printf(struct xs *s, enum xl_kind k, int core, const char *fmt, ...)
{
	struct xlog *g = &s->log;
	if (!g->partial.n) {
		g->pkind = k;
		g->pcore = core;
	}
	va_list ap;
	va_start(ap, fmt);
	jb_vprintf(&g->partial, fmt, ap);
	va_end(ap);
	if (!g->partial.n)
		return;
	char *p = g->partial.s, *nl;
	while ((nl = strchr(p, '\n'))) {
		line_add(g, (enum xl_kind)g->pkind, g->pcore, 0, 0, 0, p, (size_t)(nl - p));
		p = nl + 1;
	}
	size_t rest = strlen(p);
	memmove(g->partial.s, p, rest + 1);
	g->partial.n = rest;
}

/* The partial line, if any, becomes a line. */
static void flush_partial(struct xs *s)
{
	struct xlog *g = &s->log;
	if (g->partial.n)
		line_add(g, (enum xl_kind)g->pkind, g->pcore, 0, 0, 0, g->partial.s, g->partial.n);
	g->partial.n = 0;
}

/* ---- steps ---- */

/* Forget what the cores did in the step. */
static void act_clear(struct xlog *g)
{
	for (uint32_t c = 0; c < g->ncores; c++) {
		struct xl_act *a = &g->act[c];
		watch_events_free(a->ev, a->nev);
		xfree(a->spans);
		xfree(a->look);
		xfree(a->what);
		memset(a, 0, sizeof(*a));
	}
}

void xl_input(struct xs *s, const char *line, bool command)
{
	struct xlog *g = &s->log;
	if (command) {
		if (g->cur.cmd)
			xl_end(s);
		g->cur.cmd = xstrdup(line);
		g->t0 = sim_makespan(s->b->sim);
		if (!g->act || g->ncores != s->o.cores) {
			act_clear(g);
			g->ncores = s->o.cores;
			g->act = xrealloc(g->act, sizeof(*g->act) * g->ncores);
			memset(g->act, 0, sizeof(*g->act) * g->ncores);
			g->st0 = xrealloc(g->st0, sizeof(*g->st0) * g->ncores);
		}
		for (uint32_t c = 0; c < g->ncores; c++)
			g->st0[c] = s->b->mmu->cpus[c].st;
	}
	if (s->interactive)
		return;
	if (command)
		xl_printf(s, XL_ECHO, -1, "mmsim> %s\n", line);
	else
		xl_printf(s, XL_COMMENT, -1, "%s\n", line);
}

void xjob_free(struct xjob *j)
{
	watch_events_free(j->ev, j->nev);
	xfree(j->spans);
	xfree(j->look);
	xfree(j->what);
	j->ev = NULL;
	j->spans = NULL;
	j->look = NULL;
	j->what = NULL;
	j->nev = j->nspans = j->nlook = 0;
}

bool xl_said(const struct xjob *j)
{
	for (size_t i = 0; i < j->nev; i++)
		if (j->ev[i].kind == WEV_NOTE || j->ev[i].kind == WEV_LOCK_NOTE)
			return true;
	return false;
}

/*
 * One narration event (the seq-th of its core) as the terminal's lines:
 * indented by its depth, a lock's with its wait; "lock: ..." also into locks.
 */
static void note_lines(struct xs *s, uint32_t core, const struct watch_ev *e, uint32_t seq, struct jb *locks)
{
	char tail[96] = "";
	if (e->kind == WEV_LOCK_NOTE) {
		if (e->spin || e->sleep)
			snprintf(tail, sizeof(tail), " (waited %llu cycles spinning, %llu asleep)", (unsigned long long)e->spin,
				 (unsigned long long)e->sleep);
		else
			snprintf(tail, sizeof(tail), " (free: no wait)");
	}
	bool lock = e->kind == WEV_LOCK_NOTE;
	size_t need = 2 + 2 * (size_t)e->arg + 6 + strlen(e->text) + strlen(tail) + 1;
	char *full = xmalloc(need);
	snprintf(full, need, "%*s%s%s%s", 2 * (int)e->arg, "", lock ? "lock: " : "", e->text, tail);
	/* A line with newlines in it is several lines, the later ones without the indentation. */
	for (const char *l = full; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char *text = xmalloc(len + 3);
		snprintf(text, len + 3, "  %.*s", (int)len, l);
		line_add(&s->log, lock ? XL_LOCK : XL_NOTE, (int)core, e->t, e->arg, seq, text, strlen(text));
		const char *k = l;
		while (k < l + len && *k == ' ')
			k++;
		if (locks && !strncmp(k, "lock: ", 6))
			jb_printf(locks, "    %.*s\n", (int)(l + len - k), k);
		xfree(text);
		l += len + (nl ? 1 : 0);
	}
	xfree(full);
}

void xl_job(struct xs *s, struct xjob *j, bool lines, struct jb *locks)
{
	struct xlog *g = &s->log;
	uint32_t seq = 0;
	if (lines)
		for (size_t i = 0; i < j->nev; i++)
			if (j->ev[i].kind == WEV_NOTE || j->ev[i].kind == WEV_LOCK_NOTE)
				note_lines(s, j->core, &j->ev[i], seq++, locks);
	if (g->act && j->core < g->ncores) {
		struct xl_act *a = &g->act[j->core];
		a->t0 = a->ran ? MIN(a->t0, j->t0) : j->t0;
		a->t1 = a->ran ? MAX(a->t1, j->t1) : j->t1;
		a->ran = true;
		if (j->what && !a->what) {
			a->what = j->what;
			j->what = NULL;
		}
		/* Keep the events (the narration's text only where it names a lock: the lines hold the rest). */
		a->ev = xrealloc(a->ev, (a->nev + j->nev + 1) * sizeof(*a->ev));
		for (size_t i = 0; i < j->nev; i++) {
			struct watch_ev *e = &j->ev[i];
			a->ev[a->nev++] = *e;
			if (e->kind == WEV_NOTE)
				xfree(e->text), a->ev[a->nev - 1].text = NULL;
			e->text = NULL;
		}
		a->spans = xrealloc(a->spans, (a->nspans + j->nspans + 1) * sizeof(*a->spans));
		if (j->nspans)
			memcpy(a->spans + a->nspans, j->spans, j->nspans * sizeof(*j->spans));
		a->nspans += j->nspans;
		a->look = xrealloc(a->look, (a->nlook + j->nlook + 1) * sizeof(*a->look));
		if (j->nlook)
			memcpy(a->look + a->nlook, j->look, j->nlook * sizeof(*j->look));
		a->nlook += j->nlook;
	}
	xjob_free(j);
}

void xl_sync(struct xs *s, bool print)
{
	struct xlog *g = &s->log;
	struct xstate *now = xstate_take(s);
	struct jb said = { 0 };
	xstate_diff(s, g->prev, now, &g->changes, print ? &said : NULL, !g->told);
	if (said.n)
		xl_printf(s, XL_DIFF, -1, "%s", said.s);
	jb_free(&said);
	g->told = true;
	xstate_free(g->prev);
	g->prev = now;
	g->synced = true;
}

void xl_design(struct xs *s)
{
	struct xlog *g = &s->log;
	char opts[256] = "", d[320];
	struct vm_opts vo;
	const struct vm_design *des = vm_design_find(s->so.design);
	if (des && !sys_vm_opts(&s->so, des, &vo, "explain"))
		vm_opts_str(des, &vo, opts, sizeof(opts));
	snprintf(d, sizeof(d), "%s%s%s%s", s->so.design, *opts ? " (" : "", opts, *opts ? ")" : "");
	if (g->design && strcmp(g->design, d))
		g->design_changed = true;
	xfree(g->design);
	g->design = xstrdup(d);
	if (!g->first_design)
		g->first_design = xstrdup(d);
	if (g->prev)
		g->rebuilt = true;
	else
		g->prev = xstate_take(s);
}

/* The current step as a JSON object. */
static char *step_json(struct xs *s, cycles_t t0, cycles_t t1)
{
	struct xlog *g = &s->log;
	struct jb b = { 0 };
	jb_raw(&b, "{\"cmd\":");
	if (g->cur.cmd)
		jb_str(&b, g->cur.cmd);
	else
		jb_raw(&b, "null");
	jb_printf(&b, ",\"t0\":%llu,\"t1\":%llu", (unsigned long long)t0, (unsigned long long)t1);
	if (g->design_changed) {
		jb_raw(&b, ",\"design\":");
		jb_str(&b, g->design);
	}
	json_lines(&b, &g->cur);
	if (g->act)
		json_act(&b, g);
	if (g->changes.s)
		jb_raw(&b, g->changes.s);
	jb_raw(&b, "}");
	return jb_take(&b);
}

void xl_end(struct xs *s)
{
	struct xlog *g = &s->log;
	flush_partial(s);
	if (g->cur.cmd && !g->synced && s->b)
		xl_sync(s, false);
	cycles_t t1 = s->b ? sim_makespan(s->b->sim) : 0, t0 = g->cur.cmd && !g->rebuilt ? g->t0 : t1;
	if (g->keep) {
		if (g->nsteps == g->steps_cap)
			g->steps = xrealloc(g->steps, (g->steps_cap = g->steps_cap ? 2 * g->steps_cap : 32) * sizeof(*g->steps));
		g->steps[g->nsteps++] = step_json(s, t0, t1);
	}
	for (size_t i = 0; i < g->cur.n; i++) {
		if (g->term) {
			fputs(g->cur.l[i].text, g->term);
			fputc('\n', g->term);
		}
		xfree(g->cur.l[i].text);
	}
	g->nlines += g->cur.n;
	xfree(g->cur.l);
	xfree(g->cur.cmd);
	memset(&g->cur, 0, sizeof(g->cur));
	if (g->act)
		act_clear(g);
	jb_free(&g->changes);
	g->synced = g->rebuilt = g->design_changed = false;
}

void xl_finish(struct xs *s)
{
	flush_partial(s);
	if (s->log.cur.n || s->log.cur.cmd)
		xl_end(s);
}

void xl_run_json(struct xs *s, struct jb *b)
{
	struct xlog *g = &s->log;
	jb_raw(b, "{\"design\":");
	jb_str(b, g->first_design ? g->first_design : "");
	jb_raw(b, ",\"steps\":[\n");
	for (size_t i = 0; i < g->nsteps; i++) {
		jb_raw(b, g->steps[i]);
		jb_raw(b, i + 1 < g->nsteps ? ",\n" : "\n");
	}
	jb_raw(b, "]}");
}

void xl_machine_json(struct xs *s, struct jb *b)
{
	const struct machine *m = s->b->sys->m;
	const struct tlb *t = &s->b->mmu->cpus[0].tlb;
	jb_printf(b, "\"cores\":%u,\"levels\":%d,\"freq_ghz\":%g,\"machine\":", s->o.cores, s->b->mmu->o.levels,
		  m->freq_ghz);
	jb_str(b, m->name);
	jb_raw(b, ",\"kinds\":[");
	for (int k = 0; k < TL_KINDS; k++) {
		jb_raw(b, k ? "," : "");
		jb_str(b, tl_names[k]);
	}
	jb_raw(b, "],\"tlbs\":[");
	for (unsigned k = 0; k < ARRAY_SIZE(t->arrays); k++) {
		const struct tlb_array *a = &t->arrays[k];
		jb_printf(b, "%s[", k ? "," : "");
		jb_str(b, a->name ? a->name : "");
		jb_printf(b, ",%u,%u]", a->e ? a->sets * a->ways : 0, a->e ? a->ways : 0);
	}
	jb_raw(b, "]");
}

void xl_free(struct xs *s)
{
	struct xlog *g = &s->log;
	for (size_t i = 0; i < g->nsteps; i++)
		xfree(g->steps[i]);
	xfree(g->steps);
	act_clear(g);
	xfree(g->act);
	xfree(g->st0);
	for (size_t i = 0; i < g->cur.n; i++)
		xfree(g->cur.l[i].text);
	xfree(g->cur.l);
	xfree(g->cur.cmd);
	jb_free(&g->changes);
	jb_free(&g->partial);
	xstate_free(g->prev);
	xfree(g->design);
	xfree(g->first_design);
	memset(g, 0, sizeof(*g));
}
