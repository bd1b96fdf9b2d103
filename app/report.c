/* report.c: the result record every simulation command prints: configuration, throughput, latencies, TLB, shootdowns, locks, memory. */
#include "app/report.h"

#include <string.h>

void report_config(const struct cli_common *o, const struct sysopts *s, char *buf, size_t n)
{
	const struct vm_design *d = vm_design_find(s->design);
	struct vm_opts vo;
	char dopts[512] = "?";
	if (d && !sys_vm_opts(s, d, &vo, "config"))
		vm_opts_str(d, &vo, dopts, sizeof(dopts));
	snprintf(buf, n, "build=%s;machine=%s:%016llx;mode=%s;knob=%llu;seed=%llu;cores=%u;design=%s;dopts=%s;"
		 "frames=%llu;levels=%d;check=%d",
		 mmsim_build_id, o->m.name, (unsigned long long)machine_digest(&o->m), o->mode == SIM_DET ? "det" : "par",
		 (unsigned long long)(o->mode == SIM_DET ? o->lookahead : o->quantum), (unsigned long long)o->seed,
		 o->cores, s->design, dopts, (unsigned long long)s->frames, s->levels, !s->no_check);
}

void report_key(const char *config, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)util_fnv64(config, strlen(config), UTIL_FNV64_INIT));
}

/*
 * emit_method: how the point was measured and its throughput. loop: every
 * op over the measured window. paper: the artifact's formula
 * (scripts/plot_scripts/plot_micro_scale.py avg_lat_to_tput): cores / the
 * mean latency of the last WL_PAPER_LAST requests, each request's latency
 * averaged over threads and repetitions first (common.h run_test_and_print).
 */
static void emit_method(struct em *e, const struct cli_common *o, const struct report_method *m, uint64_t ops,
			double secs)
{
	bool paper = m && m->samples;
	em_str(e, "method", m ? m->name : "loop");
	em_u64(e, "reps", m ? m->reps : 1);
	double ns[WL_PAPER_REQS] = { 0 }, first = 0, last = 0;
	char list[WL_PAPER_REQS * 12] = "-";
	size_t at = 0;
	for (int j = 0; paper && j < WL_PAPER_REQS; j++) {
		ns[j] = machine_seconds(&o->m, 1) * 1e9 * m->req_cycles[j] / (double)m->samples;
		if (j < WL_PAPER_REQS - WL_PAPER_LAST)
			first += ns[j] / (WL_PAPER_REQS - WL_PAPER_LAST);
		else
			last += ns[j] / WL_PAPER_LAST;
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%.1f", j ? " " : "", ns[j]);
	}
	em_f64(e, "ops_per_sim_sec", paper ? (last > 0 ? (double)o->cores * 1e9 / last : 0) : secs > 0 ? (double)ops / secs : 0);
	em_f64(e, "req_lat_first16_ns", first);
	em_f64(e, "req_lat_last16_ns", last);
	em_str(e, "req_lat_ns", list);
}

void report_emit(struct em *e, const struct report_in *in)
{
	const struct cli_common *o = in->o;
	struct boot *b = in->b;
	struct ex_core_stats tot;
	cycles_t window = 0;
	ex_totals(in->x, &tot, &window);
	const struct report_method *m = in->method;
	if (m) { /* every repetition counts */
		tot.ops = m->ops;
		tot.events = m->events;
		window = m->window;
	}
	double secs = machine_seconds(&o->m, window);

	em_str(e, "design", b->sys->d->name);
	em_str(e, "workload", in->workload);
	em_str(e, "contention", in->contention ? in->contention : "-");
	em_bool(e, "fixed", in->fixed);
	em_u64(e, "ops_per_thread", in->ops_per_thread);
	em_bool(e, "processes", in->processes);
	em_u64(e, "size_bytes", in->size);
	em_str(e, "machine", o->m.name);
	em_str(e, "mode", o->mode == SIM_DET ? "det" : "par");
	em_u64(e, o->mode == SIM_DET ? "lookahead" : "quantum", o->mode == SIM_DET ? o->lookahead : b->sim->o.quantum);
	em_u64(e, "seed", o->seed);
	em_u64(e, "cores", o->cores);
	/* The design's own options: one string every design has (CSV), and each option as its own key. */
	const struct vm_design *d = b->sys->d;
	char buf[512];
	vm_opts_str(d, &b->sys->o, buf, sizeof(buf));
	em_str(e, "design_options", buf);
	bool saved = e->designless;
	e->designless = e->fmt == EM_CSV;
	for (int i = 0; i < vm_opt_count(d); i++) {
		char key[64];
		snprintf(key, sizeof(key), "%s", d->opts[i].name);
		for (char *p = key; *p; p++)
			if (*p == '-')
				*p = '_';
		if (d->opts[i].type == VM_OPT_BOOL)
			em_bool(e, key, b->sys->o.dopt[i]);
		else if (d->opts[i].type == VM_OPT_U64)
			em_u64(e, key, b->sys->o.dopt[i]);
		else
			em_str(e, key, vm_opt_value(d, &b->sys->o, i, buf, sizeof(buf)));
	}
	e->designless = saved;
	em_str(e, "build", mmsim_build_id);
	em_str(e, "config_key", in->config_key ? in->config_key : "-");
	em_u64(e, "ops", tot.ops);
	em_u64(e, "events", tot.events);
	em_u64(e, "sim_cycles", window);
	em_f64(e, "sim_seconds", secs);
	emit_method(e, o, m, tot.ops, secs);

	/* Latency of each kind of call, in cycles, syscall or trap entry included. */
	struct vm_core_stats vs;
	vm_stats_sum(b->sys, &vs);
	for (int k = 0; k < VM_OP_COUNT; k++) {
		char key[64];
		snprintf(key, sizeof(key), "%s_calls", vm_op_names[k]);
		em_u64(e, key, vs.calls[k]);
		snprintf(key, sizeof(key), "%s_errors", vm_op_names[k]);
		em_u64(e, key, vs.errors[k]);
		snprintf(key, sizeof(key), "%s_mean_cycles", vm_op_names[k]);
		em_f64(e, key, vs.lat[k].n ? (double)vs.lat[k].sum / (double)vs.lat[k].n : 0);
		static const double pct[] = { 50, 90, 99 };
		for (size_t i = 0; i < ARRAY_SIZE(pct); i++) {
			snprintf(key, sizeof(key), "%s_p%.0f_cycles", vm_op_names[k], pct[i]);
			em_u64(e, key, hist_pct(&vs.lat[k], pct[i]));
		}
		snprintf(key, sizeof(key), "%s_max_cycles", vm_op_names[k]);
		em_u64(e, key, vs.lat[k].max);
	}
	em_u64(e, "accesses", vs.accesses);
	em_u64(e, "segv", vs.segv);
	em_u64(e, "frames_zeroed", vs.frames_zeroed);
	em_u64(e, "frames_copied", vs.frames_copied);
	em_u64(e, "zero_cycles", (vs.frames_zeroed + vs.frames_copied) * o->m.zero_page); /* clearing and copying */
	vm_stats_free(&vs);

	struct mmu_cpu_stats ms;
	mmu_stats_sum(b->mmu, &ms);
	em_u64(e, "tlb_l1_hits", ms.l1_hits);
	em_u64(e, "tlb_l2_hits", ms.l2_hits);
	em_u64(e, "walks", ms.walks);
	em_f64(e, "tlb_l1_hit_rate", ms.accesses ? (double)ms.l1_hits / (double)ms.accesses : 0);
	em_f64(e, "tlb_l2_hit_rate", ms.accesses > ms.l1_hits ? (double)ms.l2_hits / (double)(ms.accesses - ms.l1_hits) : 0);
	em_u64(e, "walk_cycles", ms.walk_cycles);
	em_u64(e, "walk_pte_reads", ms.walk_reads);
	em_u64(e, "psc_hits", ms.psc_hits);
	em_u64(e, "hw_faults", ms.faults);
	em_u64(e, "shootdowns", ms.shootdowns);
	em_u64(e, "ipis", ms.shootdown_targets);
	em_u64(e, "shootdown_wait_cycles", ms.shootdown_wait);
	em_u64(e, "broadcasts", ms.broadcasts); /* INVLPGB + TLBSYNC or RAR flushes (--tlb-flush) */
	em_u64(e, "broadcast_targets", ms.broadcast_targets);
	em_u64(e, "broadcast_wait_cycles", ms.broadcast_wait);
	em_u64(e, "invlpg", ms.invlpg);
	em_u64(e, "flush_pcid", ms.flush_pcid);
	em_u64(e, "full_flushes", ms.flush_full);
	em_u64(e, "pages_flushed", vs.pages_flushed);
	em_u64(e, "flush_batches_full", vs.full_flushes);
	em_u64(e, "tlb_coherence_violations", ms.tlb_violations);
	em_bool(e, "tlb_checker", b->mmu->o.check);

	cli_emit_sim_stats(e, b->sim);
	struct vm_as *as = ex_as(in->x, 0);
	if (as) {
		em_u64(e, "metadata_bytes", b->sys->d->metadata_bytes(as));
		em_u64(e, "frames_in_use", (uint64_t)pm_in_use(b->mmu->pm));
		em_u64(e, "pt_pages_in_use", (uint64_t)pm_pt_in_use(b->mmu->pm));
		/* Design-specific counters: in JSON and tables; a CSV keeps the columns every design has. */
		saved = e->designless;
		e->designless = e->fmt == EM_CSV;
		b->sys->d->stats(as, e);
		e->designless = saved;
	}
	em_u64(e, "result_mismatches", tot.result_mismatches);
	em_u64(e, "fault_outcome_mismatches", tot.fault_outcome_mismatches);
	em_u64(e, "context_switches", tot.ctx_switches);
	em_u64(e, "processes_run", ex_nprocs(in->x)); /* initial and forked */
	em_u64(e, "threads_run", ex_nthreads(in->x)); /* initial and created */
	em_f64(e, "host_seconds", b->sim->host_seconds);
	em_f64(e, "host_cpu_seconds", b->sim->host_cpu_seconds);
	em_f64(e, "host_events_per_sec", b->sim->host_seconds > 0 ? (double)tot.events / b->sim->host_seconds : 0);
}
