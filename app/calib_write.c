/* calib_write.c: the machine description fitted from calibration's measurements, each value with where it came from. */
#include "app/calib.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One key's value and its source, as the file will say them. */
struct kv {
	char val[96];
	char src[320];
	bool set;
};

struct fit {
	struct kv *kv; /* by key index (machine_key_name) */
	struct calib *c;
};

static void put(struct fit *f, const char *key, const char *val, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(struct fit *f, const char *key, const char *val, const char *fmt, ...)
{
	for (size_t i = 0; i < machine_nkeys(); i++)
		if (!strcmp(machine_key_name(i), key)) {
			struct kv *k = &f->kv[i];
			snprintf(k->val, sizeof(k->val), "%s", val);
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(k->src, sizeof(k->src), fmt, ap);
			va_end(ap);
			k->set = true;
			return;
		}
	panic("calibrate: no machine key '%s'", key);
}

/* "measured: BENCH, median of N (95% CI lo-hi, +-r%), HOST, DATE" (noisy ones say so). */
static void msrc(const struct calib *c, const struct cal_m *m, const char *unit, char *out, size_t n)
{
	snprintf(out, n, "measured: %s; median of %u, 95%% CI %.3g-%.3g %s (+-%.0f%%)%s; %s, %s", m->bench, m->e.n, m->e.lo,
		 m->e.hi, unit, isfinite(m->e.rel) ? 100 * m->e.rel : 999.0, m->e.ok ? "" : " TOO NOISY (--force)",
		 c->host, c->date);
}

static void put_ns(struct fit *f, const char *key, double ns, const struct cal_m *m, const char *how)
{
	char v[64], s[256];
	snprintf(v, sizeof(v), "%.1f ns", ns);
	msrc(f->c, m, "ns", s, sizeof(s));
	put(f, key, v, "%s%s", how, s);
}

static void put_int(struct fit *f, const char *key, uint32_t x, const char *src)
{
	char v[32];
	snprintf(v, sizeof(v), "%u", x);
	put(f, key, v, "%s", src);
}

/* TLB geometry from CPUID where it gives a set count mmsim can model (a power of two). */
static void put_tlb(struct fit *f, const char *key, const struct hm_tlb *t)
{
	if (!t->entries || !t->ways || t->entries % t->ways)
		return;
	uint32_t sets = t->entries / t->ways;
	if (sets & (sets - 1))
		return;
	char k[64], src[128];
	snprintf(src, sizeof(src), "CPUID (%s): %u entries, %u-way", f->c->cpu.tlb_leaf, t->entries, t->ways);
	snprintf(k, sizeof(k), "%s.entries", key);
	put_int(f, k, t->entries, src);
	snprintf(k, sizeof(k), "%s.ways", key);
	put_int(f, k, t->ways, src);
}

static void put_cache(struct fit *f, int level, const struct hm_cache *k)
{
	if (!k->kib || !k->ways || k->kib * 16 % k->ways)
		return;
	char key[32], src[160];
	snprintf(src, sizeof(src), "CPUID deterministic cache parameters: L%d %u KiB %u-way, shared by %u CPUs", level,
		 k->kib, k->ways, k->shared_by);
	snprintf(key, sizeof(key), "cache.l%d.kib", level);
	put_int(f, key, k->kib, src);
	snprintf(key, sizeof(key), "cache.l%d.ways", level);
	put_int(f, key, k->ways, src);
}

/* The fit that needs no simulation: clock, CPUID, direct measurements. */
static void fit_direct(struct fit *f)
{
	struct calib *c = f->c;
	char v[64], s[256];
	snprintf(v, sizeof(v), "%.3f", c->m[CM_CLOCK].e.median);
	msrc(c, &c->m[CM_CLOCK], "GHz", s, sizeof(s));
	put(f, "freq_ghz", v, "%s", s);
	put_ns(f, "kern.syscall", c->m[CM_SYSCALL].e.median, &c->m[CM_SYSCALL], "");
	put_ns(f, "kern.zero_page", c->m[CM_ZERO].e.median, &c->m[CM_ZERO], "");
	if (c->m[CM_PINGPONG].done)
		put_ns(f, "coh.xfer_ccx", c->m[CM_PINGPONG].e.median, &c->m[CM_PINGPONG],
		       "the two CPUs this process may use are taken to share a CCX (a VM does not say); ");
	put(f, "tlb.pcid", c->cpu.pcid ? "yes" : "no", "CPUID.1:ECX.PCID[bit 17]%s",
	    c->cpu.pcid ? "" : " is clear: every CR3 write flushes the TLB");
	put_tlb(f, "tlb.l1d.4k", &c->cpu.l1d_4k);
	put_tlb(f, "tlb.l1i.4k", &c->cpu.l1i_4k);
	/*
	 * A hypervisor may report an STLB smaller than the one the reach curve
	 * shows: CPUID's size is taken only if the real curve has no walk-sized
	 * step (half the 2048-to-8192 rise) at or below 4x that many pages.
	 */
	const struct hm_tlb *l2 = &c->cpu.l2_4k;
	int i128 = calib_chase_index(c, 128), i2k = calib_chase_index(c, 2048), i8k = calib_chase_index(c, 8192);
	bool contradicts = false;
	if (l2->entries && i128 >= 0 && i2k >= 0 && i8k >= 0 && 4 * l2->entries <= 2048) {
		double rise = c->chase[i8k].e.median - c->chase[i2k].e.median;
		contradicts = c->chase[i2k].e.median - c->chase[i128].e.median < rise / 2;
	}
	if (contradicts) {
		char e[64], w[64];
		machine_preset_raw(c->base, "tlb.l2.entries", e, sizeof(e));
		machine_preset_raw(c->base, "tlb.l2.ways", w, sizeof(w));
		char src[256];
		snprintf(src, sizeof(src),
			 "kept from preset %s: CPUID says %u entries, but the reach curve walks no more at 2048 pages than at 128 "
			 "(a hypervisor's masked value)", c->base, l2->entries);
		put(f, "tlb.l2.entries", e, "%s", src);
		put(f, "tlb.l2.ways", w, "%s", src);
	} else {
		put_tlb(f, "tlb.l2", l2);
	}
	put_cache(f, 1, &c->cpu.l1d);
	put_cache(f, 2, &c->cpu.l2);
	put_cache(f, 3, &c->cpu.l3);
}

/* Assemble the text from the keys set and the base preset's values. */
static char *render(struct fit *f)
{
	struct calib *c = f->c;
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	if (!o)
		return NULL;
	fprintf(o, "# calibrated.machine: written by `mmsim calibrate` on %s (%s), %s.\n", c->host, c->kernel, c->date);
	fprintf(o, "# CPU: %s (%s, family %#x model %#x)%s%s.\n", c->cpu.brand[0] ? c->cpu.brand : "?", c->cpu.vendor,
		c->cpu.family, c->cpu.model, c->cpu.is_vm ? "; a virtual machine, hypervisor " : "; bare metal",
		c->cpu.is_vm ? c->cpu.hypervisor : "");
	fprintf(o, "# Every value says where it came from: CPUID, a measurement on this host (benchmark, median of N\n"
		   "# samples, its 95%% confidence interval), a fit (a measurement less the simulated rest of its path),\n"
		   "# or kept from preset %s (mmsim machine show %s gives that preset's sources).\n",
		c->base, c->base);
	fprintf(o, "# Repeated until the 95%% CI of each median was within +-%.0f%%, at most %u samples.\n\n",
		100 * c->plan.tol, c->plan.max);
	for (size_t i = 0; i < machine_nkeys(); i++) {
		const char *k = machine_key_name(i);
		if (f->kv[i].set) {
			fprintf(o, "%s = %s    # %s\n", k, f->kv[i].val, f->kv[i].src);
		} else {
			char v[160];
			if (machine_preset_raw(c->base, k, v, sizeof(v)))
				panic("calibrate: preset %s has no key %s", c->base, k);
			fprintf(o, "%s = %s    # kept from preset %s\n", k, v, c->base);
		}
	}
	fclose(o);
	return buf;
}

static int load(struct fit *f, struct machine *m, char *err, size_t errlen)
{
	char *t = render(f);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = machine_load_text(m, t, "calibrated machine", err, errlen);
	free(t);
	return rc;
}

/* ns per access of the chase point of n pages, real and simulated. */
static double real_at(const struct calib *c, uint32_t n)
{
	int i = calib_chase_index(c, n);
	return i < 0 ? NAN : c->chase[i].e.median;
}

char *calib_text(struct calib *c, struct machine *m, char *err, size_t errlen)
{
	struct fit f = { .kv = xzalloc(sizeof(struct kv) * machine_nkeys()), .c = c };
	char v[64], s[400], ms[256];
	char *text = NULL;
	char nm[64];
	snprintf(nm, sizeof(nm), "\"calibrated-%.40s\"", c->host);
	put(&f, "name", nm, "the host's name");
	char d[200];
	snprintf(d, sizeof(d), "\"%.100s calibrated on %.40s, %.20s\"", c->cpu.brand[0] ? c->cpu.brand : c->cpu.vendor, c->host,
		 c->date);
	put(&f, "description", d, "CPUID brand string");
	fit_direct(&f);
	/*
	 * kern.trap: a read fault on untouched memory (the kernel maps its zero
	 * page: no frame, no zeroing) less the simulated rest of the fault path
	 * (the pf workload's per-fault time with kern.trap, kern.zero_page and
	 * kern.frame_alloc at 0: lookup, locks, the PTE write, the retried access).
	 */
	put(&f, "kern.trap", "0 cyc", "(fit in progress)");
	put(&f, "kern.frame_alloc", "0 cyc", "(fit in progress)");
	put(&f, "kern.zero_page", "0 cyc", "(fit in progress)");
	if (load(&f, m, err, errlen))
		goto out;
	c->trap_rest_ns = calib_sim_op(m, "pf", 1, false);
	fit_direct(&f); /* restores kern.zero_page */
	{
		char fa[160];
		if (machine_preset_raw(c->base, "kern.frame_alloc", fa, sizeof(fa)))
			goto out;
		put(&f, "kern.frame_alloc", fa, "kept from preset %s: the page allocator cannot be timed apart from user space",
		    c->base);
	}
	double trap = c->m[CM_RFAULT].e.median - c->trap_rest_ns;
	msrc(c, &c->m[CM_RFAULT], "ns", ms, sizeof(ms));
	if (c->trap_rest_ns > 0 && trap > 0) {
		snprintf(v, sizeof(v), "%.1f ns", trap);
		put(&f, "kern.trap", v, "fit: read fault on the zero page %.1f ns less the simulated rest of that path %.1f ns; %s",
		    c->m[CM_RFAULT].e.median, c->trap_rest_ns, ms);
	} else {
		char tv[160];
		machine_preset_raw(c->base, "kern.trap", tv, sizeof(tv));
		put(&f, "kern.trap", tv, "kept from preset %s: the measured read fault (%.1f ns) is not above the simulated rest (%.1f ns)",
		    c->base, c->m[CM_RFAULT].e.median, c->trap_rest_ns);
	}
	/*
	 * tlb.invlpg: mprotect of a touched page less the same of an untouched
	 * one is changing one present PTE and invalidating it (the simulated
	 * PTE-line reads and writes of that difference, a few ns, are neglected).
	 */
	{
		const struct cal_m *t = &c->m[CM_MPROTECT], *u = &c->m[CM_MPROTECT_UNTOUCHED];
		double inv = t->e.median - u->e.median;
		char ts[256], us[256];
		msrc(c, t, "ns", ts, sizeof(ts));
		msrc(c, u, "ns", us, sizeof(us));
		if (inv > 0) {
			snprintf(v, sizeof(v), "%.1f ns", inv);
			put(&f, "tlb.invlpg", v, "fit: mprotect of a touched page %.1f ns less of an untouched one %.1f ns (one present "
						 "PTE changed and invalidated); touched: %s; untouched: %s",
			    t->e.median, u->e.median, ts, us);
		}
	}
	if (load(&f, m, err, errlen))
		goto out;
	/*
	 * ipi.deliver: a munmap of a touched page with a second thread on the
	 * other CPU less the same munmap alone (measured: the shootdown), less
	 * the other modelled parts of a one-target shootdown.
	 */
	if (c->m[CM_SHARED_MUNMAP].done) {
		double sd = c->m[CM_SHARED_MUNMAP].e.median - c->ops[HM_MUNMAP].e.median;
		double rest = (double)(m->ipi_send + m->ipi_handler + m->ipi_ack + m->invlpg) / m->freq_ghz;
		msrc(c, &c->m[CM_SHARED_MUNMAP], "ns", ms, sizeof(ms));
		if (sd - rest > 0) {
			snprintf(v, sizeof(v), "%.1f ns", sd - rest);
			snprintf(s, sizeof(s), "fit: shootdown %.1f ns (munmap with a sibling thread %.1f less alone %.1f) less "
					       "send+handler+ack+invlpg %.1f ns; %s",
				 sd, c->m[CM_SHARED_MUNMAP].e.median, c->ops[HM_MUNMAP].e.median, rest, ms);
			put(&f, "ipi.deliver", v, "%s", s);
		}
		if (load(&f, m, err, errlen))
			goto out;
	}
	/*
	 * Nested paging: on when CPUID says a hypervisor runs us and the real
	 * walk (8192 against 2048 pages) costs more than twice the native
	 * simulated walk.
	 */
	int a = calib_chase_index(c, 2048), b = calib_chase_index(c, 8192);
	for (uint32_t i = 0; i < c->nchase; i++)
		c->sim_chase_native[i] = calib_sim_chase(m, c->chase_n[i]);
	if (a >= 0 && b >= 0) {
		double real_walk = real_at(c, 8192) - real_at(c, 2048);
		double sim_walk = c->sim_chase_native[b] - c->sim_chase_native[a];
		bool on = c->cpu.is_vm && real_walk > 2 * sim_walk;
		put(&f, "npt", on ? "yes" : "no",
		    "CPUID hypervisor bit %s (%s); reach curve: walk (8192 against 2048 pages) %.1f ns real against %.1f ns "
		    "simulated without nested paging%s",
		    c->cpu.is_vm ? "set" : "clear", c->cpu.is_vm ? c->cpu.hypervisor : "bare metal", real_walk, sim_walk,
		    on ? ": more than twice, so nested paging is on" : "");
		if (on)
			put(&f, "npt.host_level", "1",
			    "assumption: the host backs this guest's memory with 4 KiB pages (a guest cannot see its host's page size)");
	}
	if (load(&f, m, err, errlen))
		goto out;
	for (uint32_t i = 0; i < c->nchase; i++)
		c->sim_chase[i] = calib_sim_chase(m, c->chase_n[i]);
	text = render(&f);
out:
	xfree(f.kv);
	return text;
}
