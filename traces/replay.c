/* replay.c: per-thread event sources for the executor, and the board that keeps a replay's threads in their recorded order around memory calls. */
#include "traces/trace.h"
#include "traces/judge.h"
#include "traces/util.h"
#include "sim/sim.h"
#include "sim/util.h"

#include <stdatomic.h>
#include <string.h>

enum { S_IDLE, S_RUN, S_DONE };

/* What one thread publishes to the others. */
struct slot {
	_Atomic uint64_t progress; /* recorded time of its next event not yet finished: all before it are done */
	_Atomic uint32_t asid;	   /* its address space now */
	_Atomic uint32_t state;
} __attribute__((aligned(CACHELINE)));

struct src;

struct tr_replay {
	char *path;
	uint32_t n;
	uint32_t *tids;	 /* the header's threads, in table order */
	uint32_t *rtids; /* their recorded ids */
	struct slot *slots;
	struct src **srcs; /* each slot's source (NULL until it opens) */
	struct jd *jd;	   /* the judge (tr_replay_judge_on), or NULL */
	double ghz;
	uint64_t overhead_ns;
	_Atomic uint64_t events, faults, waits, timeouts;
};

struct tr_replay *tr_replay_new(const char *path, const struct tr_header *h)
{
	struct tr_replay *rp = xzalloc(sizeof(*rp));
	rp->path = xstrdup(path);
	rp->n = h->nthreads;
	rp->tids = xmalloc(sizeof(uint32_t) * (rp->n ? rp->n : 1));
	rp->rtids = xmalloc(sizeof(uint32_t) * (rp->n ? rp->n : 1));
	rp->srcs = xzalloc(sizeof(*rp->srcs) * (rp->n ? rp->n : 1));
	for (uint32_t i = 0; i < rp->n; i++) {
		rp->tids[i] = h->threads[i].tid;
		rp->rtids[i] = h->threads[i].rtid;
	}
	rp->slots = xaligned_zalloc(CACHELINE, sizeof(struct slot) * (rp->n ? rp->n : 1));
	return rp;
}

void tr_replay_free(struct tr_replay *rp)
{
	if (!rp)
		return;
	xfree(rp->path);
	xfree(rp->tids);
	xfree(rp->rtids);
	xfree(rp->srcs);
	jd_free(rp->jd);
	xfree(rp->slots);
	xfree(rp);
}

void tr_replay_stats(const struct tr_replay *rp, struct tr_replay_stats *out)
{
	out->events = atomic_load(&rp->events);
	out->faults = atomic_load(&rp->faults);
	out->sync_waits = atomic_load(&rp->waits);
	out->sync_timeouts = atomic_load(&rp->timeouts);
}

/* The slot of thread tid, or -1. Importers number threads 1..n in table order. */
static int64_t slot_of(const struct tr_replay *rp, uint32_t tid)
{
	if (tid && tid <= rp->n && rp->tids[tid - 1] == tid)
		return tid - 1;
	for (uint32_t i = 0; i < rp->n; i++)
		if (rp->tids[i] == tid)
			return i;
	return -1;
}

/*
 * How far (in recorded ns) the furthest-behind other running thread of
 * address space `asid` is behind time `at`; 0 if none is.
 */
static uint64_t lag_behind(struct tr_replay *rp, uint32_t me, uint32_t asid, uint64_t at)
{
	uint64_t lag = 0;
	for (uint32_t j = 0; j < rp->n; j++) {
		struct slot *s = &rp->slots[j];
		if (j == me || atomic_load_explicit(&s->state, memory_order_acquire) != S_RUN ||
		    atomic_load_explicit(&s->asid, memory_order_relaxed) != asid)
			continue;
		uint64_t p = atomic_load_explicit(&s->progress, memory_order_acquire);
		if (p < at)
			lag = MAX(lag, at - p);
	}
	return lag;
}

struct src {
	struct ev_src src;
	struct tr_replay *rp;
	struct tr_reader *r;
	int64_t slot;
	uint32_t asid;
	struct ev pend; /* the next event, read ahead */
	struct tr_meta pm;
	bool have;
	uint64_t waited; /* ns spun for the pending event */
	/* The event handed out last: its number in the thread, line and recorded time. */
	uint64_t n, line, at;
	/* A call whose recorded end is the next event's time: its kind, start and simulated ns so far. */
	bool tpend;
	uint8_t tkind;
	uint64_t tat, tsim;
};

/* The thread is finished: the others stop waiting for it, and its reader's memory goes back. */
static void finish(struct src *t)
{
	if (t->slot >= 0) {
		struct slot *s = &t->rp->slots[t->slot];
		atomic_store_explicit(&s->progress, UINT64_MAX, memory_order_release);
		atomic_store_explicit(&s->state, S_DONE, memory_order_release);
	}
	if (t->r && tr_error(t->r))
		tu_errf(t->src.err, sizeof(t->src.err), "%s", tr_error(t->r));
	tr_close(t->r);
	t->r = NULL;
	t->have = false;
}

/* Read the next event ahead and publish its time: everything before it is done. */
static bool peek(struct src *t)
{
	if (!t->r)
		return false;
	int k = tr_next(t->r, &t->pend, &t->pm);
	if (k != 1) {
		finish(t);
		return false;
	}
	t->have = true;
	t->waited = 0;
	if (t->tpend && t->pm.at != t->tat) {
		/* The call's recorded end is this event's start (a call cut in pieces: the last piece's). */
		uint64_t rec = t->pm.at - t->tat;
		if (t->rp->jd && t->pm.at > t->tat)
			jd_sample(t->rp->jd, t->tkind, rec > t->rp->overhead_ns ? rec - t->rp->overhead_ns : 0, t->tsim);
		t->tpend = false;
	}
	if (t->pm.asid)
		t->asid = t->pm.asid;
	struct slot *s = &t->rp->slots[t->slot];
	atomic_store_explicit(&s->asid, t->asid, memory_order_relaxed);
	atomic_store_explicit(&s->progress, t->pm.at, memory_order_release);
	return true;
}

/* ev_src.next: the thread's next event, or a spin while a sync event waits for the others. */
static bool src_next(struct ev_src *s, struct ev *e)
{
	struct src *t = (struct src *)s;
	/* The board is shared with the other cores: reach a synchronization point first (deterministic order). */
	struct sim_core *c = sim_self();
	if (c)
		sim_sync(c);
	if (!t->have && !peek(t))
		return false;
	if (t->pm.sync && t->waited < TR_SYNC_LIMIT_NS) {
		uint64_t lag = lag_behind(t->rp, (uint32_t)t->slot, t->asid, t->pm.at);
		if (lag) {
			/* Spin in simulated time, by about half of what the others have to catch up. */
			uint64_t spin = MIN(MAX(lag / 2, 1000), 100000);
			t->waited += spin;
			atomic_fetch_add_explicit(&t->rp->waits, 1, memory_order_relaxed);
			if (t->waited >= TR_SYNC_LIMIT_NS)
				atomic_fetch_add_explicit(&t->rp->timeouts, 1, memory_order_relaxed);
			/*
			 * A wait, not work: the core goes to another thread queued on it
			 * (EVF_YIELD). With more threads than cores, a waiter that kept its
			 * core for a whole time slice kept the thread it waits for from
			 * running (apache2 with 25 workers on 2 cores: 66 M waits, 1,970
			 * simulated seconds for a 9-second recording).
			 */
			*e = (struct ev){ .kind = EV_COMPUTE, .fl = EVF_NS | EVF_YIELD, .cycles = spin, .tid = t->pend.tid };
			return true;
		}
	}
	*e = t->pend;
	t->have = false;
	t->n++;
	t->line = t->pm.line;
	t->at = t->pm.at;
	atomic_fetch_add_explicit(&t->rp->events, 1, memory_order_relaxed);
	if (e->kind == EV_ACCESS)
		atomic_fetch_add_explicit(&t->rp->faults, 1, memory_order_relaxed);
	if (e->kind == EV_EXIT)
		finish(t); /* the executor asks for nothing after an exit */
	else if (e->kind == EV_COMPUTE)
		peek(t); /* a gap touches no memory: the others need not wait for it to pass */
	return true;
}

/* ev_src.close */
static void src_close(struct ev_src *s)
{
	struct src *t = (struct src *)s;
	if (t->slot >= 0 && t->rp->srcs[t->slot] == t)
		t->rp->srcs[t->slot] = NULL;
	tr_close(t->r);
	xfree(t);
}

struct ev_src *tr_src_open(struct tr_replay *rp, uint32_t tid)
{
	struct src *t = xzalloc(sizeof(*t));
	t->src.next = src_next;
	t->src.close = src_close;
	t->rp = rp;
	t->slot = slot_of(rp, tid);
	if (t->slot < 0) {
		tu_errf(t->src.err, sizeof(t->src.err), "%s: thread %u is not in the trace", rp->path, tid);
		return &t->src;
	}
	rp->srcs[t->slot] = t;
	t->r = tr_open(rp->path, tid, t->src.err, sizeof(t->src.err));
	struct slot *s = &rp->slots[t->slot];
	if (t->r) {
		/* Running from now on, at the time of its first event. */
		peek(t);
		if (t->have)
			atomic_store_explicit(&s->state, S_RUN, memory_order_release);
	} else {
		finish(t);
	}
	return &t->src;
}

void tr_replay_judge_on(struct tr_replay *rp, bool inspect, uint64_t keep, double ghz, uint64_t overhead_ns)
{
	jd_free(rp->jd);
	rp->jd = jd_new(inspect, keep);
	rp->ghz = ghz;
	rp->overhead_ns = overhead_ns;
}

/* Whether an event kind is a memory call whose latency the timing check samples. */
static bool timed(uint8_t k) { return (k >= EV_MMAP && k <= EV_BRK) || (k >= EV_MLOCK && k <= EV_FALLOCATE); }

int tr_replay_judge(void *ctx, struct mmu_cpu *cpu, struct vm_as *as, const struct ev *e, uint64_t addr, long r,
		    cycles_t start)
{
	struct tr_replay *rp = ctx;
	int64_t slot = slot_of(rp, e->tid);
	struct src *t = slot >= 0 ? rp->srcs[slot] : NULL;
	if (!rp->jd || !t || (!(e->fl & EVF_CHECK) && !timed(e->kind) && e->kind != EV_FORK && e->kind != EV_EXEC))
		return 0;
	struct jd_pos pos = { e->tid, rp->rtids[slot], t->n, t->line };
	int k = jd_check(rp->jd, &pos, as, e, addr, r);
	if (timed(e->kind) && t->at) {
		uint64_t sim = (uint64_t)((double)(cpu->core->clock - start) / rp->ghz);
		if (t->tpend && t->tat == t->at && t->tkind == e->kind) {
			t->tsim += sim; /* another piece of the same call */
		} else {
			t->tpend = true;
			t->tkind = e->kind;
			t->tat = t->at;
			t->tsim = sim;
		}
	}
	return k;
}

struct jd *tr_replay_jd(const struct tr_replay *rp) { return rp->jd; }
