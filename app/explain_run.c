/* explain_run.c: teaching mode's machine: boot, processes, and running narrated work on chosen cores. */
#include "app/explain.h"
#include "sim/rcu.h"

#include <stdarg.h>
#include <string.h>

int xs_err(struct xs *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xl_printf(s, XL_ERROR, -1, "error: %s\n", msg);
	s->errors++;
	return -1;
}

int xs_open(struct xs *s)
{
	s->b = sys_boot(&s->so, &s->o, "explain");
	if (!s->b)
		return 2;
	s->nprocs = 1;
	memset(s->procs, 0, sizeof(s->procs));
	s->procs[0] = vm_as_create(s->b->sys, NULL);
	if (!s->procs[0])
		panic("explain: no memory for the first address space");
	s->cur = xzalloc(sizeof(*s->cur) * s->o.cores);
	return 0;
}

void xs_close(struct xs *s)
{
	if (!s->b)
		return;
	/* Cores forget the spaces before they go. */
	for (uint32_t i = 0; i < s->o.cores; i++)
		s->b->mmu->cpus[i].cur = NULL;
	for (uint32_t i = 0; i < s->nprocs; i++)
		vm_as_destroy(s->procs[i], NULL);
	for (uint32_t i = 0; i < XS_MAX_FILES; i++)
		if (s->files[i]) {
			vm_file_put(s->b->sys, s->files[i]);
			s->files[i] = NULL;
		}
	int64_t leaked = boot_destroy(s->b);
	if (leaked)
		fprintf(stderr, "mmsim explain: %lld frames leaked by design '%s'\n", (long long)leaked, s->so.design);
	s->b = NULL;
	xfree(s->cur);
	s->cur = NULL;
}

struct vm_as *xs_as(struct xs *s, uint32_t core) { return s->procs[s->cur[core]]; }

struct batch {
	struct xs *s;
	struct xjob *jobs;
	uint32_t n;
};

static void body(struct sim_core *c, void *arg)
{
	struct batch *bt = arg;
	struct xjob *j = NULL;
	for (uint32_t i = 0; i < bt->n; i++)
		if (bt->jobs[i].core == c->id)
			j = &bt->jobs[i];
	if (!j)
		return;
	struct sim_watch *w = xzalloc(sizeof(*w));
	w->narrate = w->events = w->record = !bt->s->quiet;
	w->max = (size_t)1 << 24;
	c->watch = w;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	j->t0 = c->clock;
	vm_switch(xs_as(bt->s, c->id), cpu);
	j->fn(bt->s, j, cpu);
	j->t1 = c->clock;
	c->watch = NULL;
	j->ev = watch_take_events(w, &j->nev);
	j->spans = w->spans;
	j->nspans = w->nspans;
	w->spans = NULL;
	watch_free(w);
}


void xs_run_jobs(struct xs *s, struct xjob *jobs, uint32_t n)
{
	struct sim *sim = s->b->sim;
	/*
	 * Time flows for every core, busy or idle: a command starts at the
	 * machine's present, the latest clock of any core, and commands given
	 * together start together.
	 */
	cycles_t start = sim_makespan(sim);
	for (uint32_t i = 0; i < n; i++)
		sim->cores[jobs[i].core].clock = start;
	struct batch bt = { s, jobs, n };
	sim_run(sim, body, &bt);
	/* Deferred frees (stray PT pages, VMAs) finish now, so what `show` prints does not depend on host timing. */
	sim_rcu_barrier();
}

struct vm_file *xs_file(struct xs *s, uint32_t id, uint64_t size)
{
	if (id == 0 || id > XS_MAX_FILES)
		return NULL;
	struct vm_file **f = &s->files[id - 1];
	if (!*f) {
		char name[32];
		snprintf(name, sizeof(name), "file%u", id);
		*f = vm_file_create(s->b->sys, name, MAX(size, XS_FILE_SIZE));
	}
	return *f;
}
