/* drivers.h: micro-drivers that exercise the engine alone (used by `mmsim bench-*`, tests and bench/). */
#ifndef MMSIM_DRIVERS_H
#define MMSIM_DRIVERS_H

#include "sim/sim.h"

/* drv_lines: every core does `ops` atomics on one shared line, or each on its own. Returns total ops. */
uint64_t drv_lines(struct sim *s, bool shared, uint64_t ops);

/*
 * drv_rwsem: every core loops `ops` acquire/release pairs on one rwsem,
 * write_pct percent of them for writing, with `cs` cycles inside. Returns total ops.
 */
uint64_t drv_rwsem(struct sim *s, uint64_t ops, uint32_t write_pct, cycles_t cs);

/* drv_ops_per_sec: ops per simulated second of the last run. */
double drv_ops_per_sec(const struct sim *s, uint64_t ops);

#endif
