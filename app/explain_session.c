/* explain_session.c: teaching mode's command interpreter: parsing lines, running operations on cores and explaining them, history, and rebuilding on another design. */
#define _GNU_SOURCE /* strerrorname_np */
#include "app/explain_ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- help ---- */

static const struct {
	const char *name, *usage, *what, *example;
} cmds[] = {
	{ "mmap", "mmap LEN [at ADDR] [PROT] [shared] [fixed] [populate] [stack] [file ID [off N]] [as NAME] [on CORE]",
	  "map memory (private anonymous read-write unless told); 'as NAME' names the result", "mmap 64K rw as buf" },
	{ "munmap", "munmap ADDR LEN [on CORE]", "unmap a range", "munmap buf+16K 16K" },
	{ "mprotect", "mprotect ADDR LEN PROT [on CORE]", "change protection (PROT: r, rw, r-x, rwx, none, ...)",
	  "mprotect buf 4K r" },
	{ "madvise", "madvise ADDR LEN ADVICE [on CORE]",
	  "advice: dontneed, free, willneed, hugepage, nohugepage, normal, random, sequential", "madvise buf 64K dontneed" },
	{ "brk", "brk [ADDR | +LEN | -LEN] [on CORE]", "move the program break (no argument: ask where it is)", "brk +64K" },
	{ "fork", "fork [on CORE]", "copy the process (copy-on-write); the child runs where you 'switch' it", "fork" },
	{ "touch", "touch ADDR [LEN] [r|w|x] [on CORE]",
	  "access memory as the program would (default: read one byte); with LEN every page of the range", "touch buf w on 1" },
	{ "switch", "switch CORE PROCESS", "run a process on a core (its CR3 is loaded at its next step)", "switch 1 2" },
	{ "together", "together CMD ; CMD ...", "run commands on different cores at the same simulated time",
	  "together mmap 16K on 0 ; mmap 16K on 1" },
	{ "advance", "advance TIME", "let every core run idle for TIME (ns, us, ms, s or cycles): ticks fire",
	  "advance 5ms" },
	{ "show", "show pt [ADDR] [--svg FILE] | tlb [CORE] | layout | frames | locks | stats",
	  "look at the page table, a core's TLBs, the mappings, physical frames, the last command's locks, counters",
	  "show pt buf" },
	{ "design", "design NAME", "rebuild the machine with another design and rerun every command so far on it",
	  "design cortenmm-adv" },
	{ "set", "set OPTION VALUE", "change one of the design's options ('mmsim designs' lists them), rebuilding and rerunning as 'design' does",
	  "set lazy-flush on" },
	{ "reset", "reset", "a fresh machine with the same design, and no history", "reset" },
	{ "help", "help [COMMAND]", "this list, or one command", "help touch" },
	{ "quit", "quit", "leave (also 'exit', or end of input)", "quit" },
};

static int help(struct xs *s, const struct xcmd *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (c->argc > 1 && strcmp(c->argv[1], cmds[i].name))
			continue;
		if (c->argc > 1)
			xs_printf(s, "  %s\n    %s\n    example: %s\n", cmds[i].usage, cmds[i].what, cmds[i].example);
		else
			xs_printf(s, "  %-9s %s\n            e.g. %s\n", cmds[i].name, cmds[i].what, cmds[i].example);
		if (c->argc > 1)
			return 0;
	}
	if (c->argc > 1)
		return xs_err(s, "help: no command '%s'", c->argv[1]);
	xs_printf(s, "  Addresses and lengths: 0x7f0000000000, 4096, 16K, 2M, or a name from 'as NAME' with an\n"
			"  offset (buf+0x1000). Commands run on core 0 unless 'on CORE' ends them.\n");
	return 0;
}

/* ---- words ---- */

/* Split line into c (words point into buf). Strips a trailing comment and `on CORE`. -1 on error. */
static int tokenize(struct xs *s, char *buf, struct xcmd *c)
{
	memset(c, 0, sizeof(*c));
	c->core = -1;
	char *hash = strchr(buf, '#');
	if (hash)
		*hash = 0;
	for (char *w = strtok(buf, " \t\r\n"); w; w = strtok(NULL, " \t\r\n")) {
		if (c->argc == XS_MAX_ARGS)
			return xs_err(s, "too many words (at most %d)", XS_MAX_ARGS);
		c->argv[c->argc++] = w;
	}
	if (c->argc >= 3 && !strcmp(c->argv[c->argc - 2], "on")) {
		uint64_t core;
		if (xs_value(s, &s->names, c->argv[c->argc - 1], &core))
			return -1;
		if (core >= s->o.cores)
			return xs_err(s, "no core %llu: this machine has cores 0 to %u (--cores)", (unsigned long long)core,
				      s->o.cores - 1);
		c->core = (int)core;
		c->argc -= 2;
	}
	return 0;
}

/* ---- explaining operations ---- */

static void prot_words(int prot, char out[4])
{
	out[0] = (prot & VM_PROT_READ) ? 'r' : '-';
	out[1] = (prot & VM_PROT_WRITE) ? 'w' : '-';
	out[2] = (prot & VM_PROT_EXEC) ? 'x' : '-';
	out[3] = 0;
}

static void result_words(long r, char *buf, size_t n)
{
	if (r < 0 && r > -4096)
		snprintf(buf, n, "-%s (%s)", strerrorname_np((int)-r) ? strerrorname_np((int)-r) : "?", strerror((int)-r));
	else if ((unsigned long)r >= 4096)
		snprintf(buf, n, "%#lx", (unsigned long)r);
	else
		snprintf(buf, n, "%ld", r);
}

/* The heading of one finished operation: "mmap(NULL, 0x4000, rw-, private anonymous) = 0x7ffff7ffc000". */
static void heading(struct xs *s, const struct xop *op, const struct xjob *j, char *buf, size_t n)
{
	char p[4], r[96];
	result_words(j->result, r, sizeof(r));
	static const char *const acc[] = { "read", "write", "execute" };
	switch (op->kind) {
	case X_MMAP: {
		char a[32] = "NULL";
		if (op->addr)
			snprintf(a, sizeof(a), "%#llx", (unsigned long long)op->addr);
		prot_words(op->prot, p);
		snprintf(buf, n, "mmap(%s, %#llx, %s, %s %s%s%s%s) = %s", a, (unsigned long long)op->len, p,
			 (op->flags & VM_MAP_TYPE) == VM_MAP_SHARED ? "shared" : "private", op->file ? "file" : "anonymous",
			 (op->flags & VM_MAP_FIXED) ? ", fixed" : "", (op->flags & VM_MAP_POPULATE) ? ", populate" : "",
			 (op->flags & VM_MAP_STACK) ? ", stack" : "", r);
		break;
	}
	case X_MUNMAP:
		snprintf(buf, n, "munmap(%#llx, %#llx) = %s", (unsigned long long)op->addr, (unsigned long long)op->len, r);
		break;
	case X_MPROTECT:
		prot_words(op->prot, p);
		snprintf(buf, n, "mprotect(%#llx, %#llx, %s) = %s", (unsigned long long)op->addr, (unsigned long long)op->len,
			 p, r);
		break;
	case X_MADVISE:
		snprintf(buf, n, "madvise(%#llx, %#llx, %d) = %s", (unsigned long long)op->addr, (unsigned long long)op->len,
			 op->advice, r);
		break;
	case X_BRK: snprintf(buf, n, "brk(...) = %s", r); break;
	case X_FORK:
		if (op->child)
			snprintf(buf, n, "fork() = process %u (a copy-on-write child)", op->child->pid);
		else
			snprintf(buf, n, "fork() = -ENOMEM");
		break;
	case X_TOUCH: {
		static const char *const out[] = { "ok", "SIGSEGV", "SIGBUS", "out of memory" };
		if (op->single)
			snprintf(buf, n, "%s %#llx: %s", acc[op->acc], (unsigned long long)op->addr, out[op->result]);
		else
			snprintf(buf, n, "%s %llu page%s from %#llx: %s", acc[op->acc], (unsigned long long)op->pages,
				 op->pages == 1 ? "" : "s", (unsigned long long)op->addr,
				 op->result ? out[op->result] : "ok");
		if (op->result && !op->single)
			snprintf(buf + strlen(buf), n - strlen(buf), " at %#llx", (unsigned long long)op->fail_at);
		break;
	}
	}
	(void)s;
}

/* Run the parsed ops (one per core) at once and explain each; returns 0 or -1. */
static int run_ops(struct xs *s, struct xop *ops, const struct xcmd *c, uint32_t n)
{
	struct xjob jobs[XS_MAX_ARGS];
	struct mmu_cpu_stats st0[XS_MAX_ARGS];
	struct sim_core_stats cs0[XS_MAX_ARGS];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t core = c[i].core >= 0 ? (uint32_t)c[i].core : s->core;
		for (uint32_t k = 0; k < i; k++)
			if (jobs[k].core == core)
				return xs_err(s, "together: two commands on core %u (give each its own 'on CORE')", core);
		jobs[i] = (struct xjob){ .core = core, .fn = xs_op_job, .arg = &ops[i] };
		st0[i] = s->b->mmu->cpus[core].st;
		cs0[i] = s->b->sim->cores[core].st;
	}
	xs_run_jobs(s, jobs, n);
	cycles_t start = jobs[0].t0, end = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct xop *op = &ops[i];
		end = MAX(end, jobs[i].t1);
		if (op->kind == X_MMAP && op->name && jobs[i].result >= 0)
			*xs_name_slot(&s->names, op->name, true) = (uint64_t)jobs[i].result;
		if (op->kind == X_FORK && op->child) {
			if (s->nprocs == XS_MAX_PROCS) {
				vm_as_destroy(op->child, NULL);
				op->child = NULL;
				xs_err(s, "fork: at most %d processes in a session", XS_MAX_PROCS);
			} else {
				s->procs[s->nprocs++] = op->child;
			}
		}
	}
	s->last_cycles = end - start;
	if (s->replaying && s->replay_idx < s->nhist)
		s->hist_cycles[s->replay_idx] = end - start;
	struct jb locks = { 0 };
	for (uint32_t i = 0; i < n && !s->quiet; i++) {
		struct xop *op = &ops[i];
		struct xjob *j = &jobs[i];
		char h[512];
		heading(s, op, j, h, sizeof(h));
		j->what = xstrdup(h);
		xl_printf(s, XL_OP, (int)j->core, "core %u, process %u: %s   [%llu cycles%s]\n", j->core, xs_as(s, j->core)->pid, h,
			  (unsigned long long)(j->t1 - j->t0), n > 1 ? "" : "");
		if (op->kind == X_TOUCH && op->single)
			xs_split_address(s, op->addr, (int)j->core);
		const struct mmu_cpu_stats *a = &st0[i], *b = &s->b->mmu->cpus[j->core].st;
		if (op->kind == X_TOUCH && !op->single)
			xl_printf(s, XL_TEXT, (int)j->core,
				  "  %llu accesses: %llu L1 TLB hits, %llu STLB hits, %llu page walks, %llu page faults\n",
				  (unsigned long long)(b->accesses - a->accesses), (unsigned long long)(b->l1_hits - a->l1_hits),
				  (unsigned long long)(b->l2_hits - a->l2_hits), (unsigned long long)(b->walks - a->walks),
				  (unsigned long long)(b->faults - a->faults));
		else if (op->kind == X_TOUCH && !xl_said(j) && b->walks == a->walks && b->l1_hits > a->l1_hits)
			xl_printf(s, XL_TEXT, (int)j->core, "  L1 %s TLB hit: no walk, %llu extra cycles%s\n",
				  op->acc == ACC_X ? "instruction" : "data", (unsigned long long)s->b->sys->m->tlb_l1_hit,
				  s->b->sys->m->tlb_l1_hit ? "" : " (an L1 hit hides in the load's own latency)");
		/* per-page narration of a long touch would drown the summary: its lines are left out */
		xl_job(s, j, !(op->kind == X_TOUCH && !op->single), &locks);
		if (n > 1) {
			const struct sim_core_stats *x = &cs0[i], *y = &s->b->sim->cores[j->core].st;
			xl_printf(s, XL_TEXT, (int)j->core,
				  "  core %u ran from cycle %llu to %llu: %llu cycles waiting for locks, %llu queued for "
				  "cache lines other cores held\n",
				  j->core, (unsigned long long)j->t0, (unsigned long long)j->t1,
				  (unsigned long long)(y->spin + y->sleep - x->spin - x->sleep),
				  (unsigned long long)(y->line_wait - x->line_wait));
		}
	}
	for (uint32_t i = 0; i < n; i++)
		xjob_free(&jobs[i]);
	if (!s->quiet) {
		xl_sync(s, true);
		xfree(s->last_locks);
		s->last_locks = jb_take(&locks);
	}
	return 0;
}

/* ---- advance ---- */

struct adv_arg {
	cycles_t n;
};

static void advance_job(struct xs *s, struct xjob *j, struct mmu_cpu *cpu)
{
	struct adv_arg *a = j->arg;
	struct sim_core *c = cpu->core;
	cycles_t until = c->clock + a->n;
	while (c->clock < until) {
		cycles_t next = s->b->sys->next_tick[c->id];
		c->clock = MIN(until, MAX(next, c->clock));
		vm_tick_check(s->b->sys, cpu);
		if (next <= c->clock && s->b->sys->next_tick[c->id] <= next)
			break; /* no ticks configured */
	}
}

static int parse_time(struct xs *s, const char *w, const struct machine *m, cycles_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(w, &end);
	double mul = 1;
	if (!strcmp(end, "ns"))
		mul = m->freq_ghz;
	else if (!strcmp(end, "us"))
		mul = m->freq_ghz * 1e3;
	else if (!strcmp(end, "ms"))
		mul = m->freq_ghz * 1e6;
	else if (!strcmp(end, "s"))
		mul = m->freq_ghz * 1e9;
	else if (*end && strcmp(end, "cyc"))
		return xs_err(s, "advance: '%s' is not a time (like 5ms, 200us, 100000cyc)", w);
	if (errno || end == w || v < 0 || v * mul > 1e15)
		return xs_err(s, "advance: '%s' is not a time (like 5ms, 200us, 100000cyc)", w);
	*out = (cycles_t)(v * mul);
	return 0;
}

static int advance(struct xs *s, const struct xcmd *c)
{
	if (c->argc != 2)
		return xs_err(s, "advance: usage: advance TIME");
	struct adv_arg a;
	if (parse_time(s, c->argv[1], s->b->sys->m, &a.n))
		return -1;
	uint32_t n = s->o.cores;
	struct xjob *jobs = xzalloc(sizeof(*jobs) * n);
	for (uint32_t i = 0; i < n; i++)
		jobs[i] = (struct xjob){ .core = i, .fn = advance_job, .arg = &a };
	xs_run_jobs(s, jobs, n);
	if (!s->quiet)
		xs_printf(s, "every core ran idle for %llu cycles\n", (unsigned long long)a.n);
	for (uint32_t i = 0; i < n; i++) {
		bool said = xl_said(&jobs[i]);
		if (!s->quiet && said)
			xl_printf(s, XL_TEXT, (int)i, "core %u:\n", i);
		if (!s->quiet)
			xl_job(s, &jobs[i], said, NULL);
		xjob_free(&jobs[i]);
	}
	xfree(jobs);
	return 0;
}

/* ---- rebuilding ---- */

static void hist_add(struct xs *s, const char *line)
{
	if (s->replaying)
		return;
	if (s->nhist == s->hist_cap) {
		s->hist_cap = s->hist_cap ? 2 * s->hist_cap : 32;
		s->hist = xrealloc(s->hist, s->hist_cap * sizeof(*s->hist));
		s->hist_cycles = xrealloc(s->hist_cycles, s->hist_cap * sizeof(*s->hist_cycles));
	}
	s->hist_cycles[s->nhist] = s->last_cycles;
	s->hist[s->nhist++] = xstrdup(line);
}

/* Rebuild the machine with the current options and rerun the history quietly; compare cycles with `old_name`. */
static int rebuild(struct xs *s, const char *old_name)
{
	xs_close(s);
	memset(&s->names, 0, sizeof(s->names));
	if (xs_open(s))
		return -1;
	cycles_t *old = s->nhist ? xmalloc(sizeof(*old) * s->nhist) : NULL;
	if (old)
		memcpy(old, s->hist_cycles, sizeof(*old) * s->nhist);
	bool q = s->quiet;
	s->quiet = s->replaying = true;
	for (s->replay_idx = 0; s->replay_idx < s->nhist; s->replay_idx++)
		xs_exec(s, s->hist[s->replay_idx]);
	s->quiet = q;
	s->replaying = false;
	xl_design(s);
	if (!s->quiet) {
		char opts[256];
		struct vm_opts vo;
		const struct vm_design *d = vm_design_find(s->so.design);
		opts[0] = 0;
		if (!sys_vm_opts(&s->so, d, &vo, "explain"))
			vm_opts_str(d, &vo, opts, sizeof(opts));
		xs_printf(s, "rebuilt the machine with design %s%s%s%s; reran %zu command%s\n", s->so.design,
			*opts ? " (" : "", opts, *opts ? ")" : "", s->nhist, s->nhist == 1 ? "" : "s");
		bool header = false;
		for (size_t i = 0; i < s->nhist; i++) {
			if (!old[i] && !s->hist_cycles[i])
				continue;
			if (!header) {
				xs_printf(s, "  %-48s %14s %14s\n", "command", old_name, "now");
				header = true;
			}
			xs_printf(s, "  %-48.48s %14llu %14llu\n", s->hist[i], (unsigned long long)old[i],
				(unsigned long long)s->hist_cycles[i]);
		}
		if (header)
			xs_printf(s, "  (simulated cycles per command)\n");
	}
	xfree(old);
	return 0;
}

/*
 * set_option: `set OPTION VALUE`: one of the current design's options, kept in
 * s->so (the value copied into s->dval), then the machine is rebuilt.
 */
static int set_option(struct xs *s, const struct xcmd *c)
{
	if (c->argc != 3)
		return xs_err(s, "set: usage: set OPTION VALUE (the design's options: 'mmsim designs')");
	const struct vm_design *d = vm_design_find(s->so.design);
	struct vm_opts now, o;
	char err[512], label[96], v[64];
	if (sys_vm_opts(&s->so, d, &now, "explain"))
		return xs_err(s, "set: the current options do not fit design %s", d->name);
	o = now;
	if (vm_opt_set(&o, d, c->argv[1], c->argv[2], err, sizeof(err)))
		return xs_err(s, "set: %s", err);
	if (strlen(c->argv[2]) >= sizeof(s->dval[0]))
		return xs_err(s, "set: value '%s' too long", c->argv[2]);
	int i = vm_opt_find(d, c->argv[1]), k = 0;
	snprintf(label, sizeof(label), "%s %s", d->opts[i].name, vm_opt_value(d, &now, i, v, sizeof(v)));
	while (k < s->so.ndopt && strcmp(s->so.dopt[k].name, d->opts[i].name))
		k++;
	if (k == SYS_MAX_DOPTS)
		return xs_err(s, "set: too many options");
	snprintf(s->dval[k], sizeof(s->dval[k]), "%s", c->argv[2]);
	s->so.dopt[k].name = d->opts[i].name;
	s->so.dopt[k].value = s->dval[k];
	if (k == s->so.ndopt)
		s->so.ndopt++;
	return rebuild(s, label);
}

static int set_design(struct xs *s, const struct xcmd *c)
{
	if (c->argc != 2)
		return xs_err(s, "design: usage: design NAME");
	const struct vm_design *d = vm_design_find(c->argv[1]);
	if (!d)
		return xs_err(s, "design: no design '%s' (%s)", c->argv[1], "see 'mmsim designs'");
	char old[64];
	snprintf(old, sizeof(old), "%s", s->so.design);
	s->so.design = d->name;
	/* Options the new design does not take are dropped, and said so. */
	int kept = 0;
	for (int k = 0; k < s->so.ndopt; k++) {
		if (vm_opt_find(d, s->so.dopt[k].name) < 0) {
			if (!s->quiet)
				xs_printf(s, "(--%s dropped: design %s does not take it)\n", s->so.dopt[k].name, d->name);
			continue;
		}
		if (kept != k) {
			memcpy(s->dval[kept], s->dval[k], sizeof(s->dval[k]));
			s->so.dopt[kept] = s->so.dopt[k];
			if (s->so.dopt[kept].value == s->dval[k])
				s->so.dopt[kept].value = s->dval[kept];
		}
		kept++;
	}
	s->so.ndopt = kept;
	return rebuild(s, old);
}

static int do_switch(struct xs *s, const struct xcmd *c)
{
	uint64_t core, pid;
	if (c->argc != 3)
		return xs_err(s, "switch: usage: switch CORE PROCESS");
	if (xs_value(s, &s->names, c->argv[1], &core) || xs_value(s, &s->names, c->argv[2], &pid))
		return -1;
	if (core >= s->o.cores)
		return xs_err(s, "switch: no core %llu (cores 0 to %u)", (unsigned long long)core, s->o.cores - 1);
	if (pid < 1 || pid > s->nprocs || !s->procs[pid - 1])
		return xs_err(s, "switch: no process %llu (processes 1 to %u; 'fork' makes more)", (unsigned long long)pid,
			      s->nprocs);
	s->cur[core] = (uint32_t)(pid - 1);
	if (!s->quiet)
		xs_printf(s, "core %llu now runs process %llu (its CR3 is loaded at the core's next step)\n",
			(unsigned long long)core, (unsigned long long)pid);
	return 0;
}

/* ---- the interpreter ---- */

static int ops_line(struct xs *s, char *rest, bool together)
{
	struct xcmd cs[XS_MAX_ARGS];
	struct xop ops[XS_MAX_ARGS];
	uint32_t n = 0;
	for (char *seg = rest, *next; seg; seg = next) {
		next = together ? strchr(seg, ';') : NULL;
		if (next)
			*next++ = 0;
		if (n == XS_MAX_ARGS)
			return xs_err(s, "together: too many commands");
		if (tokenize(s, seg, &cs[n]))
			return -1;
		if (!cs[n].argc)
			continue;
		if (xs_parse_op(s, &s->names, &cs[n], &ops[n]))
			return -1;
		n++;
	}
	if (!n)
		return xs_err(s, "together: no commands (together CMD ; CMD ...)");
	return run_ops(s, ops, cs, n);
}

void xs_exec(struct xs *s, const char *line)
{
	size_t len = strcspn(line, "\n");
	char *buf = xmalloc(len + 1);
	memcpy(buf, line, len);
	buf[len] = 0;
	const char *p = buf + strspn(buf, " \t");
	bool command = *p != '#' && *p;
	if (!s->quiet)
		xl_input(s, buf, command);
	char *copy = xstrdup(buf);
	struct xcmd c;
	if (!command || tokenize(s, buf, &c) || !c.argc)
		goto out;
	const char *w = c.argv[0];
	int r = 0;
	bool state = false;
	s->last_cycles = 0;
	if (!strcmp(w, "help"))
		r = help(s, &c);
	else if (!strcmp(w, "show"))
		r = xs_show(s, &c);
	else if (!strcmp(w, "design"))
		r = set_design(s, &c);
	else if (!strcmp(w, "set"))
		r = set_option(s, &c);
	else if (!strcmp(w, "reset")) {
		for (size_t i = 0; i < s->nhist; i++)
			xfree(s->hist[i]);
		s->nhist = 0;
		r = rebuild(s, s->so.design);
	} else if (!strcmp(w, "switch"))
		r = do_switch(s, &c), state = true;
	else if (!strcmp(w, "advance"))
		r = advance(s, &c), state = true;
	else if (!strcmp(w, "together")) {
		char *again = xstrdup(copy);
		r = ops_line(s, strstr(again, "together") + strlen("together"), true), state = true;
		xfree(again);
	} else {
		char *again = xstrdup(copy);
		r = ops_line(s, again, false), state = true;
		xfree(again);
	}
	if (!r && state)
		hist_add(s, copy);
out:
	if (command && !s->quiet)
		xl_end(s);
	xfree(copy);
	xfree(buf);
}
