/* hostperf.c: host cost of the simulator's hot paths: a TLB-hit stream, a walk-heavy stream, and deterministic handoffs (2, 64 and, where the machine has them, 384 cores). */
#include "mmu/mmu.h"
#include "sim/drivers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE 0x100000000ull
#define WALK_PAGES (1u << 16) /* 256 MiB of 4 KiB pages: far beyond any STLB's reach */

struct stream {
	struct mmu *mmu;
	struct mmu_space sp;
	uint64_t n;
	bool walk;
};

static void stream_body(struct sim_core *c, void *p)
{
	struct stream *s = p;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	mmu_switch(cpu, &s->sp);
	uint64_t x = 88172645463325252ull, fails = 0;
	mmu_access(cpu, BASE, ACC_R); /* warm */
	if (s->walk) {
		for (uint64_t i = 0; i < s->n; i++) {
			fails += mmu_access(cpu, BASE + (util_xorshift64(&x) % WALK_PAGES) * PAGE_SIZE, ACC_R) != 0;
		}
	} else {
		for (uint64_t i = 0; i < s->n; i++)
			fails += mmu_access(cpu, BASE + ((i & 7) << 3), ACC_R) != 0;
	}
	if (fails)
		fprintf(stderr, "hostperf: %llu unexpected faults\n", (unsigned long long)fails);
}

static double run_stream(const struct machine *m, bool walk, bool check, uint64_t n, struct mmu_cpu_stats *st)
{
	struct sim_opts so = { .ncores = 1, .mode = SIM_DET, .m = m };
	struct sim *sim = sim_create(&so);
	struct mmu_opts mo = { .nframes = 1u << 20, .levels = 4, .check = check };
	struct stream *s = xzalloc(sizeof(*s));
	s->mmu = mmu_create(sim, &mo);
	s->n = n;
	s->walk = walk;
	mmu_space_init(s->mmu, &s->sp, NULL);
	for (uint64_t i = 0; i < (walk ? WALK_PAGES : 1); i++) {
		uint64_t pfn = pm_alloc(s->mmu->pm, NULL);
		mmu_map_host(&s->sp, BASE + i * PAGE_SIZE, pfn, PTE_US | PTE_RW, 1);
	}
	sim_run(sim, stream_body, s);
	*st = s->mmu->cpus[0].st;
	double ns = sim->host_seconds * 1e9 / (double)n; /* the run's host time, as for handoffs below */
	mmu_destroy(s->mmu);
	xfree(s);
	sim_destroy(sim);
	return ns;
}

static double run_handoffs(const struct machine *m, uint32_t cores, uint64_t *handoffs)
{
	struct sim_opts so = { .ncores = cores, .mode = SIM_DET, .m = m };
	struct sim *sim = sim_create(&so);
	drv_lines(sim, false, 20000);
	struct sim_core_stats st;
	sim_stats_sum(sim, &st);
	*handoffs = st.handoffs;
	double ns = sim->host_seconds * 1e9 / (double)st.handoffs;
	sim_destroy(sim);
	return ns;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	const char *mname = argc > 1 ? argv[1] : MACHINE_DEFAULT;
	struct machine m;
	char err[256];
	if (machine_load(&m, mname, err, sizeof(err))) {
		fprintf(stderr, "hostperf: %s\n", err);
		return 2;
	}
	if (argc > 2 && !strcmp(argv[2], "walk")) { /* profiling aid: the walk stream alone */
		struct mmu_cpu_stats st;
		printf("walk-heavy stream: %.2f host ns/access\n", run_stream(&m, true, false, 20000000, &st));
		return 0;
	}
	enum { RUNS = 5 };
	double hit[RUNS], hitc[RUNS], walk[RUNS], hand2[RUNS], hand64[RUNS], hand384[RUNS];
	struct mmu_cpu_stats sh, sw;
	uint64_t h2 = 0, h64 = 0, h384 = 0;
	for (int r = 0; r < RUNS; r++) {
		hit[r] = run_stream(&m, false, false, 20000000, &sh);
		hitc[r] = run_stream(&m, false, true, 5000000, &sh);
		walk[r] = run_stream(&m, true, false, 2000000, &sw);
		hand2[r] = run_handoffs(&m, 2, &h2);
		hand64[r] = run_handoffs(&m, 64, &h64);
		hand384[r] = machine_max_cores(&m) >= 384 ? run_handoffs(&m, 384, &h384) : 0;
	}
	printf("machine %s; median of %d runs\n", m.name, RUNS);
	printf("tlb-hit stream:            %6.2f host ns/access (checker off)\n", median(hit, RUNS));
	printf("tlb-hit stream:            %6.2f host ns/access (checker on)\n", median(hitc, RUNS));
	printf("walk-heavy stream:         %6.2f host ns/access (%.1f%% walks, %.2f PTE reads/walk)\n",
	       median(walk, RUNS), 100.0 * sw.walks / sw.accesses, (double)sw.walk_reads / sw.walks);
	printf("deterministic handoff:     %6.0f host ns (2 cores, %llu handoffs)\n", median(hand2, RUNS),
	       (unsigned long long)h2);
	printf("deterministic handoff:     %6.0f host ns (64 cores, %llu handoffs)\n", median(hand64, RUNS),
	       (unsigned long long)h64);
	if (h384)
		printf("deterministic handoff:     %6.0f host ns (384 cores, %llu handoffs)\n", median(hand384, RUNS),
		       (unsigned long long)h384);
	return 0;
}
