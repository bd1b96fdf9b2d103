/* t20_coh.c: the coherence model: hand-computed costs, and the scaling properties that contention must produce. */
#include "tests/harness.h"
#include "sim/coh.h"
#include "sim/drivers.h"

#include <string.h>

static struct machine M;

/* ---- hand-computed costs on the round-number machine ---- */

struct script {
	struct coh_line line;
	cycles_t cost[16];
	cycles_t start[16];
	enum coh_op op[16];
};

static void script_body(struct sim_core *c, void *p)
{
	struct script *s = p;
	sim_advance(c, s->start[c->id]);
	s->cost[c->id] = coh_access(c, &s->line, s->op[c->id]);
}

/* Cores act at the given start times, in order; returns their costs. */
static void run_script(struct script *s, uint32_t n)
{
	struct sim *sim = test_sim(n, SIM_DET, &M);
	sim_run(sim, script_body, s);
	sim_destroy(sim);
}

static void script_init(struct script *s, enum coh_op op)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 16; i++)
		s->start[i] = 1000000, s->op[i] = op; /* cores not in the script act late */
}

START_TEST(costs_by_distance)
{
	/* 0 fills from memory; then 1 (same CCX as 0), 4 (other CCX), 7 (same CCX as 4), 8 (other socket). */
	struct script s;
	script_init(&s, COH_ATOMIC);
	s.start[0] = 0, s.start[1] = 1000, s.start[4] = 2000, s.start[7] = 3000, s.start[8] = 4000;
	run_script(&s, 9);
	ck_assert_uint_eq(s.cost[0], 100 + 10); /* memory fill + atomic */
	ck_assert_uint_eq(s.cost[1], 20 + 10);	/* same CCX */
	ck_assert_uint_eq(s.cost[4], 50 + 10);	/* other CCX, same socket */
	ck_assert_uint_eq(s.cost[7], 20 + 10);	/* same CCX as 4 */
	ck_assert_uint_eq(s.cost[8], 100 + 10); /* other socket */
}
END_TEST

static void hits_body(struct sim_core *c, void *p)
{
	struct script *x = p;
	x->cost[1] = coh_atomic(c, &x->line);
	x->cost[2] = coh_write(c, &x->line);
	x->cost[3] = coh_read(c, &x->line);
}

START_TEST(hits)
{
	/* The owner's second atomic is a hit; a plain store too. */
	struct script s;
	script_init(&s, COH_ATOMIC);
	s.start[0] = 0;
	run_script(&s, 1);
	struct sim *sim = test_sim(1, SIM_DET, &M);
	sim_run(sim, hits_body, &s);
	sim_destroy(sim);
	ck_assert_uint_eq(s.cost[1], 1 + 10);
	ck_assert_uint_eq(s.cost[2], 1);
	ck_assert_uint_eq(s.cost[3], 1);
}
END_TEST

START_TEST(transfers_serialize)
{
	/* Core 0 takes the line at 0 (busy until 110). Core 1 asks at 50: waits to 110, then 20 + 10. */
	struct script s;
	script_init(&s, COH_ATOMIC);
	s.start[0] = 0;
	s.start[1] = 50;
	run_script(&s, 2);
	ck_assert_uint_eq(s.cost[0], 110);
	ck_assert_uint_eq(s.cost[1], (110 - 50) + 20 + 10);
}
END_TEST

START_TEST(write_invalidates_sharers)
{
	/* 0 writes; 1, 2, 4 read (sharers); 3 writes: invalidating 0,1,2,4 costs the farthest (other CCX: 50) + 3 x 5. */
	struct script s;
	script_init(&s, COH_READ);
	s.op[0] = COH_WRITE, s.start[0] = 0;
	s.start[1] = 1000, s.start[2] = 2000, s.start[4] = 3000;
	s.op[3] = COH_WRITE, s.start[3] = 4000;
	run_script(&s, 5);
	ck_assert_uint_eq(s.cost[0], 100);	     /* fill from memory */
	ck_assert_uint_eq(s.cost[1], 20);	     /* from 0's cache */
	ck_assert_uint_eq(s.cost[2], 20);	     /* from the last writer, 0 */
	ck_assert_uint_eq(s.cost[4], 50);	     /* from 0, other CCX */
	ck_assert_uint_eq(s.cost[3], 50 + 3 * 5);     /* 4 other sharers: farthest + 3 more */
}
END_TEST

/* ---- scaling properties (issue: coherence model, as properties) ---- */

static double lines_rate(const struct machine *m, uint32_t n, bool shared, enum sim_mode mode)
{
	struct sim *s = test_sim(n, mode, m);
	uint64_t ops = drv_lines(s, shared, 300);
	double r = drv_ops_per_sec(s, ops);
	sim_destroy(s);
	return r;
}

static double rwsem_rate(const struct machine *m, uint32_t n)
{
	struct sim *s = test_sim(n, SIM_DET, m);
	uint64_t ops = drv_rwsem(s, 200, 0, 0);
	double r = drv_ops_per_sec(s, ops);
	sim_destroy(s);
	return r;
}

/* The properties at n = 64 cores, or at every core of a smaller machine (xeon6248r: 48). */
static void check_properties(const struct machine *m)
{
	uint32_t n = MIN(64u, machine_max_cores(m));
	double s1 = lines_rate(m, 1, true, SIM_DET), s2 = lines_rate(m, 2, true, SIM_DET);
	double s64 = lines_rate(m, n, true, SIM_DET);
	ck_assert_msg(s64 <= 1.1 * s2, "%s: shared line %u cores %.3g > 1.1 x 2 cores %.3g", m->name, n, s64, s2);
	ck_assert_msg(s64 <= s1, "%s: shared line %u cores %.3g > 1 core %.3g", m->name, n, s64, s1);

	double p1 = lines_rate(m, 1, false, SIM_DET), p64 = lines_rate(m, n, false, SIM_DET);
	ck_assert_msg(p64 >= 0.9 * n * p1, "%s: private lines %u cores %.3g < 0.9 x %u x %.3g", m->name, n, p64, n, p1);

	double r1 = rwsem_rate(m, 1), r2 = rwsem_rate(m, 2), r64 = rwsem_rate(m, n);
	ck_assert_msg(r64 <= 1.1 * r2, "%s: rwsem readers %u cores %.3g > 1.1 x 2 cores %.3g", m->name, n, r64, r2);
	ck_assert_msg(r64 <= r1, "%s: rwsem readers %u cores %.3g > 1 core %.3g", m->name, n, r64, r1);
}

START_TEST(properties_test_machine) { check_properties(&M); }
END_TEST

START_TEST(properties_presets)
{
	for (const char *const *p = machine_preset_names(); *p; p++) {
		struct machine m;
		char err[256];
		ck_assert(machine_load(&m, *p, err, sizeof(err)) == 0);
		check_properties(&m);
	}
}
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t20_coh");
	TCase *tc = tcase_create("costs");
	tcase_add_test(tc, costs_by_distance);
	tcase_add_test(tc, hits);
	tcase_add_test(tc, transfers_serialize);
	tcase_add_test(tc, write_invalidates_sharers);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("properties");
	tcase_set_timeout(tp, 120);
	tcase_add_test(tp, properties_test_machine);
	tcase_add_test(tp, properties_presets);
	suite_add_tcase(s, tp);
	return s;
}

int main(void) { return test_main(suite); }
