/* exec.c: executes per-thread event streams: region-relative addresses, barriers, phases, time slicing of threads on cores. */
#include "vm/exec.h"

#include <string.h>

const char *const ev_names[EV_KINDS] = { "end", "mmap", "munmap", "mprotect", "madvise", "mremap", "brk",
					 "access", "compute", "barrier", "mark", "thread", "fork", "exec", "exit" };

/* A process: its address space and its regions (id -> where the design put them). */
struct region {
	uint32_t id;
	uint64_t base, len;
};

struct ex_proc {
	uint32_t pid;
	struct vm_as *as;
	pthread_mutex_t mu; /* the region table is the program's own state: host lock, no simulated cost */
	struct region *r;
	uint32_t nr, cap;
};

struct ex_thread {
	uint32_t tid;
	struct ex_proc *p;
	struct ev_src *src;
	bool done;
};

struct ex *ex_create(struct vm_sys *sys)
{
	struct ex *x = xzalloc(sizeof(*x));
	x->sys = sys;
	x->ncores = sys->sim->o.ncores;
	x->cst = xzalloc(sizeof(*x->cst) * x->ncores);
	x->runq = xzalloc(sizeof(*x->runq) * x->ncores);
	x->nrun = xzalloc(sizeof(*x->nrun) * x->ncores);
	x->procs = xzalloc(sizeof(*x->procs) * 64);
	x->slice = (cycles_t)(sys->m->freq_ghz * 1e9 / sys->m->tick_hz);
	return x;
}

static struct ex_proc *proc(struct ex *x, uint32_t pid)
{
	for (uint32_t i = 0; i < x->nprocs; i++)
		if (x->procs[i].pid == pid)
			return &x->procs[i];
	if (x->nprocs == 64)
		panic("executor: more than 64 processes");
	struct ex_proc *p = &x->procs[x->nprocs++];
	p->pid = pid;
	p->as = vm_as_create(x->sys, NULL);
	if (!p->as)
		panic("executor: no memory for an address space");
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

void ex_add_thread(struct ex *x, uint32_t pid, uint32_t tid, struct ev_src *src, uint32_t core)
{
	struct ex_thread *t = xzalloc(sizeof(*t));
	t->tid = tid;
	t->p = proc(x, pid);
	t->src = src;
	core %= x->ncores;
	x->runq[core] = xrealloc(x->runq[core], sizeof(*x->runq[core]) * (x->nrun[core] + 1));
	x->runq[core][x->nrun[core]++] = *t;
	xfree(t);
}

struct vm_file *ex_file(struct ex *x, uint32_t id, uint64_t size)
{
	for (uint32_t i = 0; i < x->nfiles; i++)
		if (x->files[i]->id == id)
			return x->files[i];
	x->files = xrealloc(x->files, sizeof(*x->files) * (x->nfiles + 1));
	struct vm_file *f = vm_file_create(x->sys, "file", size);
	f->id = id;
	x->files[x->nfiles++] = f;
	return f;
}

/* ---- regions ---- */

static struct region *region_find(struct ex_proc *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->nr; i++)
		if (p->r[i].id == id)
			return &p->r[i];
	return NULL;
}

static void region_set(struct ex_proc *p, uint32_t id, uint64_t base, uint64_t len)
{
	pthread_mutex_lock(&p->mu);
	struct region *r = region_find(p, id);
	if (!r) {
		if (p->nr == p->cap)
			p->r = xrealloc(p->r, sizeof(*p->r) * (p->cap = p->cap ? p->cap * 2 : 16));
		r = &p->r[p->nr++];
	}
	*r = (struct region){ id, base, len };
	pthread_mutex_unlock(&p->mu);
}

/* Resolve a (region, offset) address. false if the region is unknown (never mapped, or the mmap failed). */
static bool resolve(struct ex_proc *p, uint32_t region, bool rel, uint64_t off, uint64_t *out)
{
	if (!rel) {
		*out = off;
		return true;
	}
	pthread_mutex_lock(&p->mu);
	struct region *r = region_find(p, region);
	bool ok = r != NULL;
	if (ok)
		*out = r->base + off;
	pthread_mutex_unlock(&p->mu);
	return ok;
}

/* ---- running ---- */

static long do_event(struct ex *x, struct ex_thread *t, struct mmu_cpu *cpu, const struct ev *e)
{
	struct ex_proc *p = t->p;
	struct vm_as *as = p->as;
	uint64_t a = 0, a2 = 0;
	bool ok = true;
	if (e->kind >= EV_MMAP && e->kind <= EV_ACCESS) {
		ok = resolve(p, e->region, e->fl & EVF_REGION, e->addr, &a);
		if (e->kind == EV_MREMAP && ok)
			ok = resolve(p, e->region2, e->fl & EVF_REGION2, e->addr2, &a2);
	}
	if (!ok)
		return -EFAULT; /* a region that never came to be: the program would have crashed; count and go on */
	switch (e->kind) {
	case EV_MMAP: {
		struct vm_file *f = (e->flags & VM_MAP_ANONYMOUS) ? NULL : ex_file(x, e->file, 1ull << 30);
		long r = vm_mmap(as, cpu, a, e->len, e->prot, e->flags, f, e->off);
		if (r >= 0 && e->new_region)
			region_set(p, e->new_region, (uint64_t)r, e->len);
		return r;
	}
	case EV_MUNMAP: return vm_munmap(as, cpu, a, e->len);
	case EV_MPROTECT: return vm_mprotect(as, cpu, a, e->len, e->prot);
	case EV_MADVISE: return vm_madvise(as, cpu, a, e->len, e->advice);
	case EV_MREMAP: {
		long r = vm_mremap(as, cpu, a, e->len, e->len2, e->flags, a2);
		if (r >= 0 && e->new_region)
			region_set(p, e->new_region, (uint64_t)r, e->len2);
		return r;
	}
	case EV_BRK: return vm_brk(as, cpu, e->addr);
	case EV_ACCESS: return (long)vm_access(as, cpu, a, (enum mmu_acc)e->acc);
	case EV_COMPUTE: sim_advance(cpu->core, e->cycles); return 0;
	case EV_BARRIER: {
		uint32_t i = (uint32_t)e->addr % EX_MAX_BARRIERS;
		lk_barrier_wait(cpu->core, &x->barrier[i]);
		return 0;
	}
	}
	return 0;
}

static void core_body(struct sim_core *c, void *arg)
{
	struct ex *x = arg;
	struct ex_core_stats *st = &x->cst[c->id];
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	uint32_t n = x->nrun[c->id], live = n, cur = 0;
	struct ex_thread *q = x->runq[c->id];
	st->mark = c->clock;
	if (!n)
		return;
	vm_switch(q[0].p->as, cpu);
	struct ex_thread *running = &q[0];
	cycles_t slice_end = c->clock + x->slice;
	while (live) {
		struct ex_thread *t = &q[cur];
		if (t->done) {
			cur = (cur + 1) % n;
			continue;
		}
		if (t != running) { /* context switch */
			sim_advance(c, x->sys->m->ctx_switch);
			vm_switch(t->p->as, cpu);
			running = t;
			st->ctx_switches++;
			slice_end = c->clock + x->slice;
		}
		struct ev e;
		if (!t->src->next(t->src, &e) || e.kind == EV_END) {
			t->done = true;
			live--;
			continue;
		}
		st->events++;
		if (e.kind == EV_MARK) {
			st->mark = c->clock;
			st->marked = true;
			continue;
		}
		vm_tick_check(x->sys, cpu);
		long r = do_event(x, t, cpu, &e);
		if (e.fl & EVF_OP)
			st->ops++;
		if (e.fl & EVF_CHECK) {
			if (e.kind == EV_ACCESS) {
				if ((r == VM_FAULT_OK) != (e.ret == 0))
					st->fault_outcome_mismatches++;
			} else if ((r < 0) != (e.ret < 0)) {
				st->result_mismatches++;
			}
		}
		if (n > 1 && c->clock >= slice_end)
			cur = (cur + 1) % n; /* the tick: round robin */
	}
	st->end = c->clock;
}

void ex_run(struct ex *x)
{
	for (uint32_t i = 0; i < EX_MAX_BARRIERS; i++) {
		uint32_t threads = 0;
		for (uint32_t c = 0; c < x->ncores; c++)
			threads += x->nrun[c];
		lk_barrier_init(&x->barrier[i], x->barrier_n[i] ? x->barrier_n[i] : threads);
	}
	sim_run(x->sys->sim, core_body, x);
}

void ex_totals(const struct ex *x, struct ex_core_stats *sum, cycles_t *window)
{
	memset(sum, 0, sizeof(*sum));
	cycles_t lo = UINT64_MAX, hi = 0;
	for (uint32_t i = 0; i < x->ncores; i++) {
		const struct ex_core_stats *c = &x->cst[i];
		sum->ops += c->ops;
		sum->events += c->events;
		sum->result_mismatches += c->result_mismatches;
		sum->fault_outcome_mismatches += c->fault_outcome_mismatches;
		sum->ctx_switches += c->ctx_switches;
		if (!x->nrun[i])
			continue;
		lo = MIN(lo, c->mark);
		hi = MAX(hi, c->end);
	}
	*window = hi > lo ? hi - lo : 0;
}

struct vm_as *ex_as(const struct ex *x, uint32_t i) { return i < x->nprocs ? x->procs[i].as : NULL; }

void ex_destroy(struct ex *x)
{
	for (uint32_t i = 0; i < x->ncores; i++) {
		for (uint32_t j = 0; j < x->nrun[i]; j++)
			if (x->runq[i][j].src->close)
				x->runq[i][j].src->close(x->runq[i][j].src);
		xfree(x->runq[i]);
		x->sys->mmu->cpus[i].cur = NULL;
	}
	for (uint32_t i = 0; i < x->nprocs; i++) {
		vm_as_destroy(x->procs[i].as, NULL);
		pthread_mutex_destroy(&x->procs[i].mu);
		xfree(x->procs[i].r);
	}
	for (uint32_t i = 0; i < x->nfiles; i++)
		vm_file_put(x->sys, x->files[i]);
	xfree(x->files);
	xfree(x->procs);
	xfree(x->runq);
	xfree(x->nrun);
	xfree(x->cst);
	xfree(x);
}
