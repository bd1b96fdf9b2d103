/* calib_sim.c: the simulated side of calibration: the pointer chase on one simulated core, and the five workloads on design linux. */
#include "app/calib.h"
#include "app/point.h"
#include "mmu/mmu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void calib_chase_points(struct calib *c)
{
	static const uint32_t full[] = { 16, 32, 48, 64, 72, 80, 96, 128, 256, 512, 1024, 2048, 3072, 4096, 8192, 16384 };
	static const uint32_t quick[] = { 32, 128, 2048, 8192 };
	const uint32_t *p = c->quick ? quick : full;
	c->nchase = c->quick ? 4 : sizeof(full) / sizeof(full[0]);
	memcpy(c->chase_n, p, sizeof(uint32_t) * c->nchase);
}

int calib_chase_index(const struct calib *c, uint32_t n)
{
	for (uint32_t i = 0; i < c->nchase; i++)
		if (c->chase_n[i] == n)
			return (int)i;
	return -1;
}

#define CHASE_BASE 0x100000000ull

struct chase {
	struct mmu_space sp;
	uint32_t n, *next;
	double ns;
};

static void chase_body(struct sim_core *c, void *arg)
{
	struct chase *ch = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	mmu_switch(cpu, &ch->sp);
	uint32_t p = 0;
	for (uint32_t i = 0; i < 2 * ch->n; i++, p = ch->next[p])
		mmu_access(cpu, CHASE_BASE + (uint64_t)p * PAGE_SIZE, ACC_R);
	uint64_t steps = ch->n * 4u < 20000u ? 20000u : ch->n * 4u;
	cycles_t t0 = c->clock;
	for (uint64_t i = 0; i < steps; i++, p = ch->next[p])
		mmu_access(cpu, CHASE_BASE + (uint64_t)p * PAGE_SIZE, ACC_R);
	ch->ns = (double)(c->clock - t0) / c->sim->m->freq_ghz / (double)steps;
}

double calib_sim_chase(const struct machine *m, uint32_t n)
{
	struct sim_opts so = { .ncores = 1, .mode = SIM_DET, .m = m };
	struct sim *s = sim_create(&so);
	struct mmu_opts mo = { .nframes = 1u << 20, .levels = 4, .check = false };
	struct mmu *mmu = mmu_create(s, &mo);
	struct chase *ch = xzalloc(sizeof(*ch));
	ch->n = n;
	ch->next = xmalloc(sizeof(uint32_t) * n);
	hm_chase_order(ch->next, n, 0x9e3779b97f4a7c15ull);
	double ns = -1;
	if (mmu_space_init(mmu, &ch->sp, NULL))
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (mmu_map_host(&ch->sp, CHASE_BASE + (uint64_t)i * PAGE_SIZE, (1ull << 30) + i, PTE_P | PTE_RW | PTE_US | PTE_A, 1))
			goto out;
	sim_run(s, chase_body, ch);
	ns = ch->ns;
out:
	xfree(ch->sp.win); /* the space's window array; its tables go with the frames in mmu_destroy */
	mmu_destroy(mmu);
	sim_destroy(s);
	xfree(ch->next);
	xfree(ch);
	return ns;
}

double calib_sim_op(const struct machine *m, const char *wname, uint32_t cores, bool neighbour)
{
	const struct wl_def *w = wl_find(wname);
	if (!w)
		return -1;
	struct point pt;
	memset(&pt, 0, sizeof(pt));
	cli_common_defaults(&pt.o);
	pt.o.m = *m;
	pt.o.machine_name = "calibrated";
	pt.o.cores = cores;
	pt.o.json = true;
	sys_defaults(&pt.s);
	pt.s.no_check = true;
	pt.w = w;
	pt.wp.threads = cores;
	pt.wp.neighbour = neighbour;
	char msg[256];
	if (wl_check(w, &pt.wp, msg, sizeof(msg))) {
		fprintf(stderr, "mmsim calibrate: %s: %s\n", wname, msg);
		return -1;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -1;
	struct em e;
	em_init(&e, f, EM_JSON);
	em_begin(&e);
	int rc = point_run(&pt, &e, "calibrate");
	em_end(&e);
	fclose(f);
	double v = -1;
	const char *k = strstr(buf, "\"ops_per_sim_sec\":");
	if (!rc && k)
		v = strtod(k + strlen("\"ops_per_sim_sec\":"), NULL);
	free(buf);
	return v > 0 ? cores * 1e9 / v : -1;
}
