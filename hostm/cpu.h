/* cpu.h: what the host's CPU says about itself (CPUID: vendor, brand, hypervisor, TLB and cache geometry), its clock, and pinning. */
#ifndef MMSIM_HM_CPU_H
#define MMSIM_HM_CPU_H

#include <stdbool.h>
#include <stdint.h>

/* One TLB array as CPUID reports it; entries 0: not reported (a VM may mask the leaf). */
struct hm_tlb {
	uint32_t entries, ways; /* ways == entries: fully associative */
};

/* One cache level as CPUID reports it (the data or unified cache); kib 0: not reported. */
struct hm_cache {
	uint32_t kib, ways, shared_by; /* shared_by: logical CPUs sharing it */
};

struct hm_cpu {
	char vendor[13];
	char brand[49];
	char hypervisor[13]; /* CPUID 0x40000000 signature, "" on bare metal */
	bool is_vm;	     /* CPUID.1:ECX bit 31 */
	uint32_t family, model;
	bool pcid;	     /* CPUID.1:ECX bit 17 */
	bool la57;	     /* CPUID.7.0:ECX bit 16 */
	struct hm_tlb l1d_4k, l1d_2m, l1d_1g, l1i_4k, l2_4k, l2_1g;
	struct hm_cache l1d, l2, l3;
	char tlb_leaf[64];   /* which CPUID leaves gave the TLB numbers, or why there are none */
};

/* hm_cpu_read: fill *c from CPUID (x86-64 only; elsewhere everything stays 0). */
void hm_cpu_read(struct hm_cpu *c);

/*
 * hm_clock_sample: one measurement of the core clock in GHz: a chain of
 * dependent register additions (one per cycle on every x86 core since the
 * P6; not add-immediate, which newer Intel cores fold) timed
 * with CLOCK_MONOTONIC, in 15 short runs of which the median counts (a run
 * the host preempted is an outlier). A sample for hm_measure (arg unused;
 * result in cycles per ns, i.e. GHz).
 */
double hm_clock_sample(void *arg);

/* hm_pin: pin the calling thread to CPU cpu. 0, or -1 (e.g. only one CPU is allowed). */
int hm_pin(int cpu);

/* hm_ncpus: CPUs this process may run on. */
int hm_ncpus(void);

/* hm_now_ns: CLOCK_MONOTONIC in nanoseconds. */
uint64_t hm_now_ns(void);

/* hm_timer_ns: the cost of one hm_now_ns (median of back-to-back pairs), taken off each timed operation. */
double hm_timer_ns(void);

/* hm_median: the median of v[0..n) (v is reordered). */
double hm_median(double *v, uint32_t n);

#endif
