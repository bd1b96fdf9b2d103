/* exec.c: executes per-thread event streams: processes and threads (clone, fork, vfork, exec, exit), time slicing on cores, region-relative addresses. */
#include "vm/exec.h"
#include "sim/rcu.h"

#include <string.h>

const char *const ev_names[EV_KINDS] = { "end", "mmap", "munmap", "mprotect", "madvise", "mremap", "brk",
					 "access", "compute", "barrier", "mark", "thread", "fork", "exec", "exit",
					 "mlock", "munlock", "mlockall", "munlockall", "msync", "mincore", "ftruncate",
					 "fallocate" };

/* ---- processes, threads, regions ---- */

struct region {
	uint32_t id;
	uint64_t base, len;
};

/*
 * struct ex_proc: a process. `as` may be shared with a vfork parent until
 * exec. The region table is the program's own state: a host lock, no
 * simulated cost.
 */
struct ex_proc {
	uint32_t pid;
	struct vm_as *as;
	struct ex_proc *shares; /* vfork: the parent whose address space this one borrows, until exec */
	uint32_t threads;	/* live threads */
	pthread_mutex_t mu;
	struct region *r;
	uint32_t nr, cap;
	uint32_t *hx;	/* index of r by region id: 1 + position in r, 0 empty; open addressing, at most half full */
	uint32_t hmask; /* slots of hx minus one */
	bool exited;
};

struct ex_thread {
	uint32_t tid;
	struct ex_proc *p;
	struct ev_src *src;
	uint32_t core;
	cycles_t ready; /* may not run before this clock (its creation, or the end of a sleep) */
	bool asleep;	/* off its core until `ready` (EVF_SLEEP): its core runs the others meanwhile */
	bool done;
};

struct ex_runq {
	pthread_mutex_t mu;
	struct ex_thread **t;
	uint32_t n, cap, cur;
	bool idle; /* the core is blocked waiting for a thread */
	cycles_t wake_at;
} __attribute__((aligned(CACHELINE)));

struct ex_priv {
	struct ex_runq *rq;
	pthread_mutex_t mu; /* processes, the thread counter, placement */
	struct ex_proc *procs[EX_MAX_PROCS];
	uint32_t nprocs;
	_Atomic uint32_t live; /* threads not yet done */
	uint32_t next_core;
	struct ex_thread **all;
	uint32_t nall, capall;
};

static struct ex_priv *P(const struct ex *x) { return x->priv; }

struct ex *ex_create(struct vm_sys *sys)
{
	struct ex *x = xzalloc(sizeof(*x));
	x->sys = sys;
	x->ncores = sys->sim->o.ncores;
	x->cst = xzalloc(sizeof(*x->cst) * x->ncores);
	x->slice = sys->tick_period;
	struct ex_priv *p = xzalloc(sizeof(*p));
	p->rq = xaligned_zalloc(CACHELINE, sizeof(*p->rq) * x->ncores);
	for (uint32_t i = 0; i < x->ncores; i++)
		pthread_mutex_init(&p->rq[i].mu, NULL);
	pthread_mutex_init(&p->mu, NULL);
	x->priv = p;
	return x;
}

static struct ex_proc *proc_find(struct ex_priv *p, uint32_t pid)
{
	for (uint32_t i = 0; i < p->nprocs; i++)
		if (p->procs[i]->pid == pid)
			return p->procs[i];
	return NULL;
}

static struct ex_proc *proc_new(struct ex_priv *p, uint32_t pid, struct vm_as *as)
{
	if (p->nprocs == EX_MAX_PROCS)
		panic("executor: more than %d processes", EX_MAX_PROCS);
	struct ex_proc *pr = xzalloc(sizeof(*pr));
	pr->pid = pid;
	pr->as = as;
	pthread_mutex_init(&pr->mu, NULL);
	p->procs[p->nprocs++] = pr;
	return pr;
}

static struct ex_thread *thread_new(struct ex *x, struct ex_proc *pr, uint32_t tid, struct ev_src *src, uint32_t core,
				    cycles_t ready)
{
	struct ex_priv *p = P(x);
	struct ex_thread *t = xzalloc(sizeof(*t));
	t->tid = tid;
	t->p = pr;
	t->src = src;
	t->core = core % x->ncores;
	t->ready = ready;
	pr->threads++;
	atomic_fetch_add(&p->live, 1);
	if (p->nall == p->capall)
		p->all = xrealloc(p->all, sizeof(*p->all) * (p->capall = p->capall ? p->capall * 2 : 64));
	p->all[p->nall++] = t;
	return t;
}

/* Put t on its core's run queue; wake the core if it is idle. `waker` may be NULL (before the run). */
static void enqueue(struct ex *x, struct sim_core *waker, struct ex_thread *t)
{
	struct ex_runq *q = &P(x)->rq[t->core];
	pthread_mutex_lock(&q->mu);
	if (q->n == q->cap)
		q->t = xrealloc(q->t, sizeof(*q->t) * (q->cap = q->cap ? q->cap * 2 : 8));
	q->t[q->n++] = t;
	bool wake = q->idle;
	q->idle = false;
	pthread_mutex_unlock(&q->mu);
	if (wake && waker)
		sim_wake(waker, &x->sys->sim->cores[t->core], t->ready);
}

void ex_add_thread(struct ex *x, uint32_t pid, uint32_t tid, struct ev_src *src, uint32_t core)
{
	struct ex_priv *p = P(x);
	struct ex_proc *pr = proc_find(p, pid);
	if (!pr) {
		struct vm_as *as = vm_as_create(x->sys, NULL);
		if (!as)
			panic("executor: no memory for an address space");
		pr = proc_new(p, pid, as);
	}
	enqueue(x, NULL, thread_new(x, pr, tid, src, core, 0));
}

struct vm_file *ex_file(struct ex *x, uint32_t id, uint64_t size)
{
	/* Cores call this at once in parallel mode: the table is host state, under the executor's lock. */
	struct ex_priv *p = P(x);
	struct vm_file *f = NULL;
	pthread_mutex_lock(&p->mu);
	for (uint32_t i = 0; i < x->nfiles && !f; i++)
		if (x->files[i]->id == id)
			f = x->files[i];
	if (!f) {
		x->files = xrealloc(x->files, sizeof(*x->files) * (x->nfiles + 1));
		f = vm_file_create(x->sys, "file", size);
		f->id = id;
		x->files[x->nfiles++] = f;
	}
	pthread_mutex_unlock(&p->mu);
	return f;
}

/*
 * Regions by id: a hash index beside the table, so finding one costs the
 * same with 1 or 384 threads' regions (a linear search grew with the
 * thread count on every access). Ids are unique in the table.
 */
static uint32_t region_slot(uint32_t id, uint32_t mask) { return (id * 0x9E3779B1u) & mask; }

static void region_index_add(struct ex_proc *p, uint32_t i)
{
	uint32_t h = region_slot(p->r[i].id, p->hmask);
	while (p->hx[h])
		h = (h + 1) & p->hmask;
	p->hx[h] = i + 1;
}

/* Rebuild the index for the first p->nr regions, with room for twice the table's capacity. */
static void region_reindex(struct ex_proc *p)
{
	uint32_t n = 32;
	while (n < 2 * p->cap)
		n <<= 1;
	xfree(p->hx);
	p->hx = xzalloc(sizeof(uint32_t) * n);
	p->hmask = n - 1;
	for (uint32_t i = 0; i < p->nr; i++)
		region_index_add(p, i);
}

static struct region *region_find(struct ex_proc *p, uint32_t id)
{
	if (!p->hx)
		return NULL;
	for (uint32_t h = region_slot(id, p->hmask); p->hx[h]; h = (h + 1) & p->hmask)
		if (p->r[p->hx[h] - 1].id == id)
			return &p->r[p->hx[h] - 1];
	return NULL;
}

static void region_set(struct ex_proc *p, uint32_t id, uint64_t base, uint64_t len)
{
	pthread_mutex_lock(&p->mu);
	struct region *r = region_find(p, id);
	if (!r) {
		bool grow = p->nr == p->cap;
		if (grow)
			p->r = xrealloc(p->r, sizeof(*p->r) * (p->cap = p->cap ? p->cap * 2 : 16));
		r = &p->r[p->nr++];
		r->id = id;
		if (grow || !p->hx)
			region_reindex(p);
		else
			region_index_add(p, p->nr - 1);
	}
	*r = (struct region){ id, base, len };
	pthread_mutex_unlock(&p->mu);
}

static bool resolve(struct ex_proc *p, uint32_t region, bool rel, uint64_t off, uint64_t *out)
{
	if (!rel) {
		*out = off;
		return true;
	}
	if (region == EV_REGION_BRK) {
		*out = (p->shares ? p->shares->as : p->as)->start_brk + off;
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

/* The address space the thread's process uses now (its own, or a vfork parent's). */
static struct vm_as *as_of(struct ex_proc *p) { return p->shares ? p->shares->as : p->as; }

/* ---- process and thread events ---- */

static struct ev_src *open_thread(struct ex *x, uint32_t tid)
{
	if (!x->spawn)
		panic("executor: a thread was created but no source of thread streams was given");
	return x->spawn(x->spawn_ctx, tid);
}

static uint32_t place(struct ex *x)
{
	struct ex_priv *p = P(x);
	return p->next_core++ % x->ncores;
}

static void do_thread(struct ex *x, struct ex_thread *t, struct mmu_cpu *cpu, const struct ev *e)
{
	struct ex_priv *p = P(x);
	sim_advance(cpu->core, x->sys->m->syscall); /* clone */
	pthread_mutex_lock(&p->mu);
	struct ex_thread *n = thread_new(x, t->p, e->tid2, open_thread(x, e->tid2), place(x), cpu->core->clock);
	pthread_mutex_unlock(&p->mu);
	enqueue(x, cpu->core, n);
}

static void do_fork(struct ex *x, struct ex_thread *t, struct mmu_cpu *cpu, const struct ev *e)
{
	struct ex_priv *p = P(x);
	struct vm_as *child_as = NULL;
	bool vfork = e->flags != 0;
	if (!vfork) {
		child_as = vm_fork(as_of(t->p), cpu);
		if (!child_as)
			return;
	} else {
		sim_advance(cpu->core, x->sys->m->syscall);
	}
	pthread_mutex_lock(&p->mu);
	struct ex_proc *c = proc_new(p, e->pid2, child_as);
	if (vfork)
		c->shares = t->p->shares ? t->p->shares : t->p;
	/* The child inherits the parent's regions. */
	pthread_mutex_lock(&t->p->mu);
	c->r = xmalloc(sizeof(*c->r) * (t->p->nr ? t->p->nr : 1));
	memcpy(c->r, t->p->r, sizeof(*c->r) * t->p->nr);
	c->nr = c->cap = t->p->nr;
	region_reindex(c);
	pthread_mutex_unlock(&t->p->mu);
	struct ex_thread *n = thread_new(x, c, e->tid2, open_thread(x, e->tid2), place(x), cpu->core->clock);
	pthread_mutex_unlock(&p->mu);
	enqueue(x, cpu->core, n);
}

static void do_exec(struct ex *x, struct ex_thread *t, struct mmu_cpu *cpu)
{
	struct ex_proc *pr = t->p;
	struct vm_as *old = pr->shares ? NULL : pr->as;
	sim_advance(cpu->core, x->sys->m->syscall);
	pr->shares = NULL;
	pr->as = vm_as_create(x->sys, cpu);
	if (!pr->as)
		panic("executor: no memory for an address space");
	pthread_mutex_lock(&pr->mu);
	pr->nr = 0;
	if (pr->hx)
		memset(pr->hx, 0, sizeof(uint32_t) * (pr->hmask + 1));
	pthread_mutex_unlock(&pr->mu);
	vm_switch(pr->as, cpu);
	if (old) {
		/* Other cores that ran the old space forget it; its memory goes. */
		for (uint32_t i = 0; i < x->ncores; i++)
			if (x->sys->mmu->cpus[i].cur == &old->hw && i == cpu->core->id)
				x->sys->mmu->cpus[i].cur = NULL;
		vm_as_destroy(old, cpu);
	}
}

/* ---- running ---- */

/*
 * place_brk: a brk event names the recorded start of brk (off): the image's
 * first one puts this space's heap there (vm_brk_place), while the process
 * has one thread and the space is its own (not a vfork parent's).
 */
static void place_brk(struct ex *x, struct ex_proc *p, struct vm_as *as, uint64_t base)
{
	pthread_mutex_lock(&P(x)->mu);
	bool alone = p->threads == 1 && !p->shares;
	pthread_mutex_unlock(&P(x)->mu);
	if (alone)
		vm_brk_place(as, base);
}


static long do_event(struct ex *x, struct ex_thread *t, struct mmu_cpu *cpu, const struct ev *e)
{
	struct ex_proc *p = t->p;
	struct vm_as *as = as_of(p);
	uint64_t a = 0, a2 = 0;
	bool ok = true;
	bool addressed = (e->kind >= EV_MMAP && e->kind <= EV_ACCESS) || e->kind == EV_MLOCK || e->kind == EV_MUNLOCK ||
			 e->kind == EV_MSYNC || e->kind == EV_MINCORE;
	if (addressed) {
		ok = resolve(p, e->region, e->fl & EVF_REGION, e->addr, &a);
		if (e->kind == EV_MREMAP && ok)
			ok = resolve(p, e->region2, e->fl & EVF_REGION2, e->addr2, &a2);
	}
	if (!ok)
		return -EFAULT; /* a region that never came to be (its mmap failed): counted, and the run goes on */
	x->cst[cpu->core->id].addr = a;
	switch (e->kind) {
	case EV_MMAP: {
		struct vm_file *f = (e->flags & VM_MAP_ANONYMOUS) ? NULL : ex_file(x, e->file, e->off + e->len);
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
	case EV_BRK: {
		if (e->off && e->off != as->start_brk)
			place_brk(x, p, as, e->off);
		uint64_t b = e->addr;
		if ((e->fl & EVF_REGION) && e->region == EV_REGION_BRK)
			b = e->addr ? as->start_brk + e->addr : 0;
		return vm_brk(as, cpu, b);
	}
	case EV_ACCESS: return (long)vm_access(as, cpu, a, (enum mmu_acc)e->acc);
	case EV_COMPUTE: {
		cycles_t n = (e->fl & EVF_NS) ? (cycles_t)((double)e->cycles * x->sys->m->freq_ghz) : e->cycles;
		if (e->fl & EVF_SLEEP) { /* blocked, not working: the core is free until then */
			t->ready = cpu->core->clock + n;
			t->asleep = true;
		} else {
			sim_advance(cpu->core, n);
		}
		return 0;
	}
	case EV_MLOCK: return vm_mlock(as, cpu, a, e->len, e->flags);
	case EV_MUNLOCK: return vm_munlock(as, cpu, a, e->len);
	case EV_MLOCKALL: return vm_mlockall(as, cpu, e->flags);
	case EV_MUNLOCKALL: return vm_munlockall(as, cpu);
	case EV_MSYNC: return vm_msync(as, cpu, a, e->len, e->flags);
	case EV_MINCORE: return vm_mincore(as, cpu, a, e->len, NULL);
	case EV_FTRUNCATE: return vm_ftruncate(x->sys, cpu, ex_file(x, e->file, e->len), e->len);
	case EV_FALLOCATE: return vm_fallocate(x->sys, cpu, ex_file(x, e->file, 0), e->flags, e->off, e->len);
	case EV_BARRIER: lk_barrier_wait(cpu->core, &x->barrier[e->addr % EX_MAX_BARRIERS]); return 0;
	case EV_THREAD: do_thread(x, t, cpu, e); return 0;
	case EV_FORK: do_fork(x, t, cpu, e); return 0;
	case EV_EXEC: do_exec(x, t, cpu); return 0;
	}
	return 0;
}

/* A thread is finished: when it is the last of everything, idle cores may stop. */
static void thread_done(struct ex *x, struct ex_thread *t, struct sim_core *c)
{
	struct ex_priv *p = P(x);
	t->done = true;
	pthread_mutex_lock(&p->mu);
	t->p->threads--;
	pthread_mutex_unlock(&p->mu);
	if (atomic_fetch_sub(&p->live, 1) != 1)
		return;
	for (uint32_t i = 0; i < x->ncores; i++) {
		struct ex_runq *q = &p->rq[i];
		pthread_mutex_lock(&q->mu);
		bool wake = q->idle;
		q->idle = false;
		pthread_mutex_unlock(&q->mu);
		if (wake)
			sim_wake(c, &x->sys->sim->cores[i], c->clock);
	}
}

/*
 * awake: q's next thread in round-robin order from q->cur that may run at
 * `now` (its `ready` passed: awake, or created), else the one that wakes or
 * starts first; q->cur moves to it. Called only when the round robin met a
 * sleeping thread, so a queue where nobody sleeps keeps its order.
 */
static struct ex_thread *awake(struct ex_runq *q, cycles_t now)
{
	uint32_t best = q->cur;
	for (uint32_t k = 0; k < q->n; k++) {
		uint32_t i = (q->cur + k) % q->n;
		struct ex_thread *u = q->t[i];
		if (u->ready <= now) {
			best = i;
			break;
		}
		if (u->ready < q->t[best]->ready)
			best = i;
	}
	q->cur = best;
	return q->t[best];
}

/* The next thread of this core to run, round robin; NULL if it has none (it then waits, or stops). */
static struct ex_thread *pick(struct ex *x, struct sim_core *c)
{
	struct ex_priv *p = P(x);
	struct ex_runq *q = &p->rq[c->id];
	for (;;) {
		pthread_mutex_lock(&q->mu);
		/* drop finished threads */
		uint32_t keep = 0;
		for (uint32_t i = 0; i < q->n; i++)
			if (!q->t[i]->done)
				q->t[keep++] = q->t[i];
		q->n = keep;
		if (q->n) {
			q->cur = (q->cur + 1) % q->n;
			struct ex_thread *t = q->t[q->cur];
			if (t->asleep && t->ready > c->clock)
				t = awake(q, c->clock);
			if (t->asleep && t->ready > c->clock) {
				/*
				 * Every thread here sleeps: the core idles a tick at most, then
				 * looks again, so a thread another core makes meanwhile starts by
				 * the next tick (a jump to the first wake would start it then).
				 */
				cycles_t step = MIN(t->ready - c->clock, x->slice);
				pthread_mutex_unlock(&q->mu);
				sim_advance(c, step);
				sim_sync(c);
				continue;
			}
			pthread_mutex_unlock(&q->mu);
			if (c->clock < t->ready)
				c->clock = t->ready; /* idle until it exists, or wakes */
			t->asleep = false;
			return t;
		}
		if (!atomic_load(&p->live)) {
			pthread_mutex_unlock(&q->mu);
			return NULL;
		}
		q->idle = true;
		pthread_mutex_unlock(&q->mu);
		sim_rcu_idle(c, true); /* an idle core holds nothing: grace periods do not wait for it */
		sim_block(c);
		sim_rcu_idle(c, false);
	}
}

static void core_body(struct sim_core *c, void *arg)
{
	struct ex *x = arg;
	struct ex_core_stats *st = &x->cst[c->id];
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	st->mark = c->clock;
	struct ex_thread *running = NULL;
	for (;;) {
		struct ex_thread *t = pick(x, c);
		if (!t)
			break;
		if (t != running) {
			if (running)
				sim_advance(c, x->sys->m->ctx_switch);
			st->ctx_switches += running != NULL;
			running = t;
		}
		vm_switch(as_of(t->p), cpu);
		cycles_t slice_end = c->clock + x->slice;
		/* Run it until its slice ends (if others share the core) or it finishes. */
		for (;;) {
			struct ev e;
			sim_rcu_quiescent(c); /* between two events: a quiescent state for RCU */
			if (!t->src->next(t->src, &e) || e.kind == EV_END || e.kind == EV_EXIT) {
				if (t->src->err[0] && !x->err[0])
					snprintf(x->err, sizeof(x->err), "%s", t->src->err);
				thread_done(x, t, c);
				break;
			}
			st->events++;
			if (e.kind == EV_MARK) {
				st->mark = c->clock;
				st->marked = true;
				continue;
			}
			vm_tick_check(x->sys, cpu);
			cycles_t start = c->clock;
			st->addr = 0;
			long r = do_event(x, t, cpu, &e);
			if (e.fl & EVF_OP) {
				st->ops++;
				if (st->nreq < x->req_cap)
					st->req_end[st->nreq++] = c->clock;
			}
			if (x->judge) {
				int k = x->judge(x->judge_ctx, cpu, as_of(t->p), &e, st->addr, r, start);
				st->fault_outcome_mismatches += k == 1;
				st->result_mismatches += k == 2;
			} else if (e.fl & EVF_CHECK) {
				if (e.kind == EV_ACCESS) {
					if ((r == VM_FAULT_OK) != (e.ret == 0))
						st->fault_outcome_mismatches++;
				} else if ((r < 0) != (e.ret < 0)) {
					st->result_mismatches++;
				}
			}
			if (e.kind == EV_EXEC)
				vm_switch(as_of(t->p), cpu);
			if ((c->clock >= slice_end || (e.fl & EVF_YIELD)) && P(x)->rq[c->id].n > 1)
				break; /* the tick, or a thread that waits for others: round robin */
			if (e.fl & EVF_SLEEP)
				break; /* off the core: another thread, or idle until it wakes */
		}
	}
	st->end = c->clock;
}

void ex_run(struct ex *x)
{
	uint32_t threads = atomic_load(&P(x)->live);
	for (uint32_t i = 0; i < x->ncores && x->req_cap; i++)
		if (!x->cst[i].req_end)
			x->cst[i].req_end = xzalloc(sizeof(cycles_t) * x->req_cap);
	for (uint32_t i = 0; i < EX_MAX_BARRIERS; i++)
		lk_barrier_init(&x->barrier[i], x->barrier_n[i] ? x->barrier_n[i] : threads);
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
		if (!c->events)
			continue;
		lo = MIN(lo, c->mark);
		hi = MAX(hi, c->end);
	}
	*window = hi > lo ? hi - lo : 0;
}

struct vm_as *ex_as(const struct ex *x, uint32_t i)
{
	struct ex_priv *p = P(x);
	return i < p->nprocs ? as_of(p->procs[i]) : NULL;
}

uint32_t ex_nprocs(const struct ex *x) { return P(x)->nprocs; }
uint32_t ex_nthreads(const struct ex *x) { return P(x)->nall; }

void ex_destroy(struct ex *x)
{
	struct ex_priv *p = P(x);
	for (uint32_t i = 0; i < x->ncores; i++)
		x->sys->mmu->cpus[i].cur = NULL;
	for (uint32_t i = 0; i < p->nall; i++) {
		if (p->all[i]->src->close)
			p->all[i]->src->close(p->all[i]->src);
		xfree(p->all[i]);
	}
	for (uint32_t i = 0; i < p->nprocs; i++) {
		struct ex_proc *pr = p->procs[i];
		if (pr->as)
			vm_as_destroy(pr->as, NULL);
		pthread_mutex_destroy(&pr->mu);
		xfree(pr->r);
		xfree(pr->hx);
		xfree(pr);
	}
	for (uint32_t i = 0; i < x->ncores; i++) {
		pthread_mutex_destroy(&p->rq[i].mu);
		xfree(p->rq[i].t);
	}
	for (uint32_t i = 0; i < x->nfiles; i++)
		vm_file_put(x->sys, x->files[i]);
	pthread_mutex_destroy(&p->mu);
	xfree(p->all);
	xfree(p->rq);
	xfree(p);
	xfree(x->files);
	for (uint32_t i = 0; i < x->ncores; i++)
		xfree(x->cst[i].req_end);
	xfree(x->cst);
	xfree(x);
}
