/* cpu.c: CPUID decoding (AMD leaves 0x80000005/6/19/1D, Intel leaves 4 and 0x18), the clock measurement, pinning. */
#define _GNU_SOURCE
#include "hostm/cpu.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <cpuid.h>
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) { __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]); }
#else
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) { r[0] = r[1] = r[2] = r[3] = 0; }
#endif

uint64_t hm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* AMD's encoded L2 TLB associativity (AMD APM Vol. 3, CPUID Fn8000_0006, "L2/L3 cache and TLB associativity field"). */
static uint32_t amd_assoc(uint32_t code, uint32_t entries)
{
	static const uint32_t t[16] = { 0, 1, 2, 3, 4, 6, 8, 0, 16, 0, 32, 48, 64, 96, 128, 0 };
	return code == 0xF ? entries : t[code & 15];
}

static void amd_tlbs(struct hm_cpu *c)
{
	uint32_t r[4], max;
	cpuid(0x80000000, 0, r);
	max = r[0];
	if (max < 0x80000006) {
		strcpy(c->tlb_leaf, "none (extended leaves masked)");
		return;
	}
	cpuid(0x80000005, 0, r);
	/* EBX: 4 KiB L1 DTLB assoc [31:24] (0xFF full), entries [23:16]; ITLB [15:8], [7:0]. EAX: the same for 2 MiB. */
	c->l1d_4k.entries = r[1] >> 16 & 0xff;
	c->l1d_4k.ways = (r[1] >> 24) == 0xff ? c->l1d_4k.entries : r[1] >> 24;
	c->l1i_4k.entries = r[1] & 0xff;
	c->l1i_4k.ways = (r[1] >> 8 & 0xff) == 0xff ? c->l1i_4k.entries : r[1] >> 8 & 0xff;
	c->l1d_2m.entries = r[0] >> 16 & 0xff;
	c->l1d_2m.ways = (r[0] >> 24) == 0xff ? c->l1d_2m.entries : r[0] >> 24;
	cpuid(0x80000006, 0, r);
	/* EBX: 4 KiB L2 DTLB assoc [31:28] (encoded), entries [27:16]. */
	c->l2_4k.entries = r[1] >> 16 & 0xfff;
	c->l2_4k.ways = amd_assoc(r[1] >> 28, c->l2_4k.entries);
	if (max >= 0x80000019) {
		cpuid(0x80000019, 0, r);
		c->l1d_1g.entries = r[0] >> 16 & 0xfff;
		c->l1d_1g.ways = amd_assoc(r[0] >> 28, c->l1d_1g.entries);
		c->l2_1g.entries = r[1] >> 16 & 0xfff;
		c->l2_1g.ways = amd_assoc(r[1] >> 28, c->l2_1g.entries);
	}
	strcpy(c->tlb_leaf, c->l1d_4k.entries ? "CPUID 0x80000005/6/19" : "none (leaves 0x80000005/6 read 0)");
}

static void intel_tlbs(struct hm_cpu *c, uint32_t max)
{
	uint32_t r[4];
	if (max < 0x18) {
		strcpy(c->tlb_leaf, "none (leaf 0x18 absent or masked)");
		return;
	}
	cpuid(0x18, 0, r);
	uint32_t subs = r[0];
	for (uint32_t s = 0; s <= subs && s < 64; s++) {
		cpuid(0x18, s, r);
		uint32_t type = r[3] & 31, level = r[3] >> 5 & 7;
		if (!type)
			continue;
		uint32_t ways = r[1] >> 16, sets = r[2], entries = ways * sets;
		bool p4k = r[1] & 1, p2m = r[1] & 2, p1g = r[1] & 8;
		struct hm_tlb t = { entries, (r[3] & 0x100) ? entries : ways };
		if (level == 1 && (type == 1 || type == 4)) {
			if (p4k && !c->l1d_4k.entries)
				c->l1d_4k = t;
			if (p2m && !p4k)
				c->l1d_2m = t;
			if (p1g && !p4k && !p2m)
				c->l1d_1g = t;
		} else if (level == 1 && type == 2 && p4k) {
			c->l1i_4k = t;
		} else if (level == 2 && type == 3) {
			if (p4k)
				c->l2_4k = t;
			else if (p1g)
				c->l2_1g = t;
		}
	}
	strcpy(c->tlb_leaf, c->l1d_4k.entries ? "CPUID 0x18" : "none (leaf 0x18 read 0)");
}

/* Deterministic cache parameters: leaf 4 (Intel) or 0x8000001D (AMD), the same layout. */
static void caches(struct hm_cpu *c, uint32_t leaf)
{
	uint32_t r[4];
	for (uint32_t s = 0; s < 16; s++) {
		cpuid(leaf, s, r);
		uint32_t type = r[0] & 31, level = r[0] >> 5 & 7;
		if (!type)
			break;
		if (type == 2)
			continue;
		uint64_t ways = (r[1] >> 22) + 1, parts = (r[1] >> 12 & 0x3ff) + 1, line = (r[1] & 0xfff) + 1,
			 sets = (uint64_t)r[2] + 1;
		struct hm_cache k = { (uint32_t)(ways * parts * line * sets / 1024), (uint32_t)ways,
				      (r[0] >> 14 & 0xfff) + 1 };
		if (level == 1)
			c->l1d = k;
		else if (level == 2)
			c->l2 = k;
		else if (level == 3)
			c->l3 = k;
	}
}

void hm_cpu_read(struct hm_cpu *c)
{
	uint32_t r[4];
	memset(c, 0, sizeof(*c));
	cpuid(0, 0, r);
	uint32_t max = r[0];
	memcpy(c->vendor, &r[1], 4);
	memcpy(c->vendor + 4, &r[3], 4);
	memcpy(c->vendor + 8, &r[2], 4);
	cpuid(1, 0, r);
	c->family = (r[0] >> 8 & 15) + ((r[0] >> 8 & 15) == 15 ? (r[0] >> 20 & 0xff) : 0);
	c->model = (r[0] >> 4 & 15) | (r[0] >> 12 & 0xf0);
	c->is_vm = r[2] >> 31 & 1;
	c->pcid = r[2] >> 17 & 1;
	if (max >= 7) {
		cpuid(7, 0, r);
		c->la57 = r[2] >> 16 & 1;
	}
	if (c->is_vm) {
		cpuid(0x40000000, 0, r);
		memcpy(c->hypervisor, &r[1], 4);
		memcpy(c->hypervisor + 4, &r[2], 4);
		memcpy(c->hypervisor + 8, &r[3], 4);
	}
	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			cpuid(0x80000002 + i, 0, r);
			memcpy(c->brand + 16 * i, r, 16);
		}
	}
	bool amd = !strcmp(c->vendor, "AuthenticAMD") || !strcmp(c->vendor, "HygonGenuine");
	if (amd) {
		amd_tlbs(c);
		cpuid(0x80000000, 0, r);
		if (r[0] >= 0x8000001D)
			caches(c, 0x8000001D);
	} else {
		intel_tlbs(c, max);
		if (max >= 4)
			caches(c, 4);
	}
	/* Brand strings and hypervisor signatures are padded with spaces on some parts. */
	for (size_t n = strlen(c->brand); n && c->brand[n - 1] == ' ';)
		c->brand[--n] = 0;
	for (size_t n = strlen(c->hypervisor); n && c->hypervisor[n - 1] == ' ';)
		c->hypervisor[--n] = 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double hm_median(double *v, uint32_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(double), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double hm_timer_ns(void)
{
	static double t = -1;
	if (t >= 0)
		return t;
	double v[1001];
	for (int i = 0; i < 1001; i++) {
		uint64_t a = hm_now_ns(), b = hm_now_ns();
		v[i] = (double)(b - a);
	}
	t = hm_median(v, 1001);
	return t;
}

double hm_clock_sample(void *arg)
{
	(void)arg;
	const uint64_t iters = 400000; /* 400 k dependent adds: ~100-200 us, short enough to run unpreempted */
	/*
	 * The addend is a register whose value the core cannot know ahead: Intel's
	 * Golden Cove and later fold chains of add-immediate in the renamer and
	 * retire several a cycle (measured on a Sapphire-Rapids-class KVM guest:
	 * "add $1" chains at 10-12 adds/ns, register adds and imul/3 at 2.9).
	 */
	static volatile uint64_t one_v = 1;
	const uint64_t one = one_v;
	double v[15];
	for (int r = 0; r < 15; r++) {
		uint64_t x = 0, k = one;
		uint64_t t0 = hm_now_ns();
		for (uint64_t i = 0; i < iters; i += 8)
			__asm__ volatile("add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
					 "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0"
					 : "+r"(x)
					 : "r"(k));
		uint64_t t1 = hm_now_ns();
		v[r] = (double)iters / ((double)(t1 - t0) - hm_timer_ns());
	}
	return hm_median(v, 15);
}

int hm_pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(pthread_self(), sizeof(s), &s) ? -1 : 0;
}

int hm_ncpus(void)
{
	cpu_set_t s;
	if (sched_getaffinity(0, sizeof(s), &s))
		return 1;
	return CPU_COUNT(&s);
}
