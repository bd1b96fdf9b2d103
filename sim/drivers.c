/* drivers.c: the engine micro-drivers: atomics on shared/private lines and an rwsem acquire/release loop. */
#include "sim/drivers.h"
#include "sim/lock.h"

struct lines_arg {
	struct coh_line *lines;
	bool shared;
	uint64_t ops;
};

static void lines_body(struct sim_core *c, void *p)
{
	struct lines_arg *a = p;
	struct coh_line *l = a->shared ? &a->lines[0] : &a->lines[c->id];
	for (uint64_t i = 0; i < a->ops; i++)
		coh_atomic(c, l);
}

uint64_t drv_lines(struct sim *s, bool shared, uint64_t ops)
{
	struct lines_arg a = { .shared = shared, .ops = ops };
	a.lines = xaligned_zalloc(CACHELINE, sizeof(struct coh_line) * s->o.ncores);
	sim_run(s, lines_body, &a);
	xfree(a.lines);
	return ops * s->o.ncores;
}

struct rwsem_arg {
	struct lk_rwsem sem;
	uint64_t ops;
	uint32_t write_pct;
	cycles_t cs;
};

static void rwsem_body(struct sim_core *c, void *p)
{
	struct rwsem_arg *a = p;
	uint64_t x = 0x9E3779B97F4A7C15ull * (c->id + 1);
	for (uint64_t i = 0; i < a->ops; i++) {
		bool w = (util_xorshift64(&x) % 100) < a->write_pct;
		if (w)
			lk_down_write(c, &a->sem);
		else
			lk_down_read(c, &a->sem);
		sim_advance(c, a->cs);
		if (w)
			lk_up_write(c, &a->sem);
		else
			lk_up_read(c, &a->sem);
	}
}

uint64_t drv_rwsem(struct sim *s, uint64_t ops, uint32_t write_pct, cycles_t cs)
{
	struct rwsem_arg *a = xaligned_zalloc(CACHELINE, sizeof(*a));
	lk_rwsem_init(&a->sem);
	a->ops = ops;
	a->write_pct = write_pct;
	a->cs = cs;
	sim_run(s, rwsem_body, a);
	xfree(a);
	return ops * s->o.ncores;
}

double drv_ops_per_sec(const struct sim *s, uint64_t ops)
{
	double secs = machine_seconds(s->m, sim_makespan(s));
	return secs > 0 ? (double)ops / secs : 0;
}
