/* shootdown.c: the invalidation mechanism: local INVLPG/PCID flushes and IPI-based remote shootdowns with modelled costs. */
#include "mmu/mmu.h"
#include "sim/watch.h"

#include <stdio.h>

cycles_t mmu_flush_cost(const struct mmu *mmu, const struct mmu_flush *f)
{
	return f->full ? mmu->m->flush_pcid : (cycles_t)f->n * mmu->m->invlpg;
}

/* Apply f to cpu's TLB and paging-structure caches, without charging. */
static void apply(struct mmu_cpu *cpu, const struct mmu_flush *f)
{
	struct mmu_space *sp = f->sp;
	uint16_t pcid;
	if (cpu->mmu->m->pcid) {
		if (cpu->pcid_owner[sp->pcid] != sp->id)
			return; /* nothing of sp is cached here */
		pcid = sp->pcid;
	} else {
		if (cpu->cur != sp)
			return; /* flushed when sp was switched out */
		pcid = 0;
	}
	if (f->full) {
		tlb_flush_pcid(&cpu->tlb, pcid);
		cpu->st.flush_pcid++;
	} else {
		for (uint32_t i = 0; i < f->n; i++)
			tlb_invlpg(&cpu->tlb, f->va[i], pcid);
		cpu->st.invlpg += f->n;
	}
	/* INVLPG and INVPCID also drop every paging-structure-cache entry of the PCID (SDM 4.10.4.1). */
	if (++cpu->psc_gen[pcid] == 0)
		cpu->psc_gen[pcid] = 1;
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
	apply(cpu, f);
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
	cycles_t work;
};

static void ipi_flush(struct sim_core *t, void *arg)
{
	struct ipi_arg *a = arg;
	apply(mmu_cpu_of(t), a->f);
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
	struct irq_req reqs_small[8], *reqs = reqs_small;
	uint32_t nt = 0;
	for (uint32_t w = 0; w < SIM_MASK_WORDS; w++)
		nt += (uint32_t)popcount64(targets[w]);
	if (nt > ARRAY_SIZE(reqs_small))
		reqs = xmalloc(sizeof(*reqs) * nt);

	/* The targets in increasing id order, visiting only the set bits (not every core). */
	for (uint32_t w = 0; w < SIM_MASK_WORDS; w++) {
		for (uint64_t bits = targets[w]; bits; bits &= bits - 1) {
			uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
			if (i >= ncores)
				break;
			if (i == c->id)
				continue;
			struct mmu_cpu *t = &mmu->cpus[i];
			cycles_t sent = t0 + m->ipi_send + (cycles_t)k * m->ipi_send_extra;
			cycles_t start = irq_reserve(t, sent + m->ipi_deliver, work);
			cycles_t ack = (early_ack ? start : start + work) + m->ipi_ack;
			if (ack > last_ack)
				last_ack = ack;
			reqs[k] = (struct irq_req){ .fn = ipi_flush, .arg = &arg };
			sim_irq_send(c, t->core, &reqs[k]);
			k++;
		}
	}
	if (k) {
		sim_advance(c, m->ipi_send + (cycles_t)(k - 1) * m->ipi_send_extra);
		sim_irq_wait(c, reqs, k);
		if (c->clock < last_ack)
			c->clock = last_ack;
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
	if (reqs != reqs_small)
		xfree(reqs);
	return k;
}
