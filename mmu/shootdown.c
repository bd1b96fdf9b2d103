/* shootdown.c: the invalidation mechanism: local INVLPG/PCID flushes and IPI-based remote shootdowns with modelled costs. */
#include "mmu/mmu.h"
#include "sim/watch.h"

#include <stdio.h>

cycles_t mmu_flush_cost(const struct mmu *mmu, const struct mmu_flush *f)
{
	return f->full ? mmu->m->flush_pcid : (cycles_t)f->n * mmu->m->invlpg;
}

/*
 * struct mmu_inval: a flush as another core applies it: what apply() needs of
 * the space (its PCID, its id, and its address, compared, never read: the
 * space may be gone before a core that did not run applies it), and the pages.
 */
struct mmu_inval {
	uint32_t refs;	    /* SIM_DET: cores that have it pending (mmu_cpu.pend) */
	uint32_t space_id;
	const void *space;
	uint16_t pcid;
	bool full;
	uint32_t n;
	uint64_t va[];	    /* n pages */
};

static struct mmu_inval *inval_new(const struct mmu_flush *f)
{
	uint32_t n = f->full ? 0 : f->n;
	struct mmu_inval *iv = xmalloc(sizeof(*iv) + sizeof(uint64_t) * n);
	*iv = (struct mmu_inval){ .space_id = f->sp->id, .space = f->sp, .pcid = f->sp->pcid, .full = f->full, .n = n };
	for (uint32_t i = 0; i < n; i++)
		iv->va[i] = f->va[i];
	return iv;
}

/* Apply an invalidation to cpu's TLB and paging-structure caches, without charging. */
static void apply(struct mmu_cpu *cpu, uint32_t space_id, const void *space, uint16_t sp_pcid, bool full, uint32_t n,
		  const uint64_t *va)
{
	uint16_t pcid;
	if (cpu->mmu->m->pcid) {
		if (*mmu_pcid_owner(cpu, sp_pcid) != space_id)
			return; /* nothing of the space is cached here */
		pcid = sp_pcid;
	} else {
		if (cpu->cur != space)
			return; /* flushed when the space was switched out */
		pcid = 0;
	}
	if (full) {
		tlb_flush_pcid(&cpu->tlb, pcid);
		cpu->st.flush_pcid++;
	} else {
		for (uint32_t i = 0; i < n; i++)
			tlb_invlpg(&cpu->tlb, va[i], pcid);
		cpu->st.invlpg += n;
	}
	/* INVLPG and INVPCID also drop every paging-structure-cache entry of the PCID (SDM 4.10.4.1). */
	if (++*mmu_psc_gen(cpu, pcid) == 0)
		*mmu_psc_gen(cpu, pcid) = 1;
}

static void apply_flush(struct mmu_cpu *cpu, const struct mmu_flush *f)
{
	apply(cpu, f->sp->id, f->sp, f->sp->pcid, f->full, f->n, f->va);
}

void mmu_pending_apply(struct sim_core *c)
{
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	for (uint32_t i = 0; i < cpu->npend; i++) {
		struct mmu_inval *iv = cpu->pend[i];
		apply(cpu, iv->space_id, iv->space, iv->pcid, iv->full, iv->n, iv->va);
		if (--iv->refs == 0)
			xfree(iv);
	}
	cpu->npend = 0;
}

void mmu_pending_drop(struct mmu_cpu *cpu)
{
	for (uint32_t i = 0; i < cpu->npend; i++)
		if (--cpu->pend[i]->refs == 0)
			xfree(cpu->pend[i]);
	cpu->npend = 0;
	xfree(cpu->pend);
	cpu->pend = NULL;
	cpu->pend_cap = 0;
}

/* A core's pending list longer than this is applied at once (memory stays bounded when a core sleeps long). */
#define PEND_MAX 4096

/* Leave iv for core t, which does not run now: it applies its pending list, in order, before it runs on. */
static void defer(struct mmu_cpu *t, struct mmu_inval *iv)
{
	if (t->npend == t->pend_cap) {
		if (t->pend_cap == PEND_MAX)
			mmu_pending_apply(t->core);
		else
			t->pend = xrealloc(t->pend, sizeof(*t->pend) * (t->pend_cap = t->pend_cap ? 2 * t->pend_cap : 16));
	}
	t->pend[t->npend++] = iv;
	iv->refs++;
	t->core->resume_due = true;
}

/* Narrate what a flush drops: "all of PCID 3" or "4 pages: 0x1000 0x2000 ...". */
static void describe_flush(const struct mmu_flush *f, char *buf, size_t n)
{
	if (f->full) {
		snprintf(buf, n, "every entry of PCID %u (a full flush)", f->sp->pcid);
		return;
	}
	size_t len = (size_t)snprintf(buf, n, "%u page%s:", f->n, f->n == 1 ? "" : "s");
	for (uint32_t i = 0; i < f->n && len < n; i++) {
		if (i == 6 && f->n > 7) {
			snprintf(buf + len, n - len, " ... %#llx", (unsigned long long)f->va[f->n - 1]);
			return;
		}
		len += (size_t)snprintf(buf + len, n - len, " %#llx", (unsigned long long)f->va[i]);
	}
}

void mmu_flush_local(struct mmu_cpu *cpu, const struct mmu_flush *f)
{
	if (!f->full && !f->n)
		return;
	apply_flush(cpu, f);
	sim_advance(cpu->core, mmu_flush_cost(cpu->mmu, f));
	if (sim_narrating(cpu->core)) {
		char d[256];
		describe_flush(f, d, sizeof(d));
		sim_note(cpu->core, "local TLB flush (%s) of %s: %llu cycles", f->full ? "INVPCID" : "INVLPG", d,
			 (unsigned long long)mmu_flush_cost(cpu->mmu, f));
	}
}

struct ipi_arg {
	const struct mmu_flush *f;
	struct mmu_inval *iv; /* SIM_DET: the copy each target applies when it next runs */
	cycles_t work;
};

/*
 * The handler on target t. Its cost is charged at once (it moves t's clock,
 * which orders the schedule). In SIM_DET the TLB work waits until t runs:
 * only t observes its TLBs, and nothing runs on t in between, so they are
 * the same whenever they are looked at; the sender touches one pointer of a
 * cold core instead of its TLB arrays.
 */
/* Target t applies the flush: now, or (SIM_DET) from its pending list before it next runs. */
static void target_apply(struct sim_core *t, struct ipi_arg *a)
{
	if (a->iv)
		defer(mmu_cpu_of(t), a->iv);
	else
		apply_flush(mmu_cpu_of(t), a->f);
}

static void ipi_flush(struct sim_core *t, void *arg)
{
	struct ipi_arg *a = arg;
	target_apply(t, a);
	cycles_t at = t->clock;
	sim_charge_irq(t, a->work);
	sim_tl_span(t, TL_IRQ, at, at + a->work);
}

/* Reserve the target's interrupt handling from `arrive` for `work` cycles; returns when it starts. */
static cycles_t irq_reserve(struct mmu_cpu *t, cycles_t arrive, cycles_t work)
{
	cycles_t busy = atomic_load_explicit(&t->irq_busy_until, memory_order_relaxed), start;
	do {
		start = arrive > busy ? arrive : busy;
	} while (!atomic_compare_exchange_weak(&t->irq_busy_until, &busy, start + work));
	return start;
}

/*
 * struct fanout: the remote cores of one flush, in increasing id order (the
 * set bits of the target mask, the sender left out), and an interrupt
 * request for each.
 */
struct fanout {
	uint32_t n;
	uint32_t *id;
	struct irq_req *req;
	uint32_t id_small[8];
	struct irq_req req_small[8];
};

static void fanout_init(struct fanout *o, const struct mmu *mmu, const struct sim_core *c, const uint64_t *targets)
{
	uint32_t nt = 0, ncores = mmu->sim->o.ncores;
	for (uint32_t w = 0; w < SIM_MASK_WORDS; w++)
		nt += (uint32_t)popcount64(targets[w]);
	o->n = 0;
	o->id = nt > ARRAY_SIZE(o->id_small) ? xmalloc(sizeof(*o->id) * nt) : o->id_small;
	o->req = nt > ARRAY_SIZE(o->req_small) ? xmalloc(sizeof(*o->req) * nt) : o->req_small;
	for (uint32_t w = 0; w < SIM_MASK_WORDS; w++)
		for (uint64_t bits = targets[w]; bits; bits &= bits - 1) {
			uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
			if (i >= ncores)
				break;
			if (i != c->id)
				o->id[o->n++] = i;
		}
}

/* fanout_wait: the sender spends `send` cycles, then waits until every request has run and its clock reaches `done`. */
static void fanout_wait(struct fanout *o, struct sim_core *c, cycles_t send, cycles_t done)
{
	sim_advance(c, send);
	sim_irq_wait(c, o->req, o->n);
	if (c->clock < done)
		c->clock = done;
}

static void fanout_free(struct fanout *o)
{
	if (o->id != o->id_small)
		xfree(o->id);
	if (o->req != o->req_small)
		xfree(o->req);
}

uint32_t mmu_shootdown(struct mmu_cpu *cpu, const uint64_t *targets, const struct mmu_flush *f, bool early_ack)
{
	struct sim_core *c = cpu->core;
	struct mmu *mmu = cpu->mmu;
	const struct machine *m = mmu->m;
	uint32_t ncores = mmu->sim->o.ncores, k = 0;
	if (!f->full && !f->n)
		return 0;

	sim_sync(c);
	sim_tl_begin(c, TL_SHOOTDOWN);
	cycles_t t0 = c->clock, last_ack = t0;
	cycles_t work = m->ipi_handler + mmu_flush_cost(mmu, f);
	struct ipi_arg arg = { .f = f, .work = work };
	if (mmu->sim->o.mode == SIM_DET)
		arg.iv = inval_new(f);
	struct fanout o;
	fanout_init(&o, mmu, c, targets);
	for (; k < o.n; k++) {
		uint32_t i = o.id[k];
		struct mmu_cpu *t = &mmu->cpus[i];
		cycles_t sent = t0 + m->ipi_send + (cycles_t)k * m->ipi_send_extra;
		cycles_t start = irq_reserve(t, sent + m->ipi_deliver, work);
		cycles_t ack = (early_ack ? start : start + work) + m->ipi_ack;
		if (ack > last_ack)
			last_ack = ack;
		sim_watch_ipi(c, i, sent, start, ack, work);
		o.req[k] = (struct irq_req){ .fn = ipi_flush, .arg = &arg };
		sim_irq_send(c, t->core, &o.req[k]);
	}
	if (k) {
		fanout_wait(&o, c, m->ipi_send + (cycles_t)(k - 1) * m->ipi_send_extra, last_ack);
		cpu->st.shootdowns++;
		cpu->st.shootdown_targets += k;
		cpu->st.shootdown_wait += c->clock - t0;
	}
	sim_tl_end(c);
	if (k && sim_narrating(c)) {
		char d[256], who[256];
		size_t len = 0;
		who[0] = 0;
		for (uint32_t i = 0; i < ncores && len < sizeof(who); i++)
			if (i != c->id && (targets[i / 64] >> (i % 64) & 1))
				len += (size_t)snprintf(who + len, sizeof(who) - len, "%s%u", len ? "," : "", i);
		describe_flush(f, d, sizeof(d));
		sim_note(c, "shootdown: IPIs to core%s %s to flush %s", k == 1 ? "" : "s", who, d);
		sim_note(c, "  each target spends %llu cycles in the handler (%llu entry + %llu flush) and acks %s;"
			    " this core waited %llu cycles for the last ack",
			 (unsigned long long)work, (unsigned long long)m->ipi_handler,
			 (unsigned long long)mmu_flush_cost(mmu, f), early_ack ? "on entry (early ack)" : "when done",
			 (unsigned long long)(c->clock - t0));
	}
	fanout_free(&o);
	if (arg.iv && !arg.iv->refs)
		xfree(arg.iv);
	return k;
}

/* ---- broadcast invalidation: AMD INVLPGB + TLBSYNC, Intel RAR ---- */

/* A message to the farthest core of the machine and its completion back: two fabric crossings. */
static cycles_t far_round_trip(const struct machine *m)
{
	cycles_t one = m->sockets > 1 ? m->coh_xfer_remote : m->ccx_per_socket > 1 ? m->coh_xfer_socket : m->coh_xfer_ccx;
	return 2 * one;
}

/* The invalidation as target t's hardware performs it: no interrupt, no software, so t's clock does not move. */
static void bcast_apply(struct sim_core *t, void *arg) { target_apply(t, arg); }

uint32_t mmu_broadcast(struct mmu_cpu *cpu, const uint64_t *targets, const struct mmu_flush *f)
{
	struct sim_core *c = cpu->core;
	struct mmu *mmu = cpu->mmu;
	const struct machine *m = mmu->m;
	uint32_t k = 0;
	if (m->bcast == MACHINE_BCAST_NONE)
		panic("mmu_broadcast: machine '%s' has no broadcast invalidation", m->name);
	if (!f->full && !f->n)
		return 0;
	sim_sync(c);
	sim_tl_begin(c, TL_SHOOTDOWN);
	cycles_t t0 = c->clock, work = mmu_flush_cost(mmu, f), done = t0;
	/* INVLPGB: one instruction per bcast_pages pages (one for a whole PCID); RAR: one payload */
	uint32_t ninstr = m->bcast == MACHINE_BCAST_INVLPGB && !f->full ? (f->n + m->bcast_pages - 1) / m->bcast_pages : 1;
	cycles_t issued = t0 + (cycles_t)ninstr * m->bcast_issue;
	struct ipi_arg arg = { .f = f, .work = 0 };
	if (mmu->sim->o.mode == SIM_DET)
		arg.iv = inval_new(f);
	struct fanout o;
	fanout_init(&o, mmu, c, targets);
	for (; k < o.n; k++) {
		cycles_t ack;
		if (m->bcast == MACHINE_BCAST_RAR) /* an APIC message per target, handled by microcode, acked in memory */
			ack = issued + m->ipi_send + (cycles_t)k * m->ipi_send_extra + m->ipi_deliver + work + m->ipi_ack;
		else /* INVLPGB reaches every core; TLBSYNC returns when the farthest has invalidated */
			ack = issued + far_round_trip(m) + work;
		done = MAX(done, ack);
		o.req[k] = (struct irq_req){ .fn = bcast_apply, .arg = &arg };
		sim_irq_send(c, mmu->cpus[o.id[k]].core, &o.req[k]);
	}
	if (k) {
		fanout_wait(&o, c, issued - t0, done);
		cpu->st.broadcasts++;
		cpu->st.broadcast_targets += k;
		cpu->st.broadcast_wait += c->clock - t0;
	}
	sim_tl_end(c);
	if (k && sim_narrating(c)) {
		char d[256];
		describe_flush(f, d, sizeof(d));
		sim_note(c, "broadcast invalidation (%s) of %s: %u core%s reached without interrupts; this core waited %llu cycles",
			 m->bcast == MACHINE_BCAST_RAR ? "RAR" : "INVLPGB + TLBSYNC", d, k, k == 1 ? "" : "s",
			 (unsigned long long)(c->clock - t0));
	}
	fanout_free(&o);
	if (arg.iv && !arg.iv->refs)
		xfree(arg.iv);
	return k;
}
