/* harness.h: test fixtures: a machine with round numbers (so expected costs can be computed by hand) and helpers. */
#ifndef MMSIM_TEST_HARNESS_H
#define MMSIM_TEST_HARNESS_H

#include <check.h>

#include "mmu/mmu.h"
#include "sim/machine.h"
#include "sim/sim.h"

/* The test machine: 1 GHz, 4 cores per CCX, 2 CCX per socket, up to 8 sockets. See harness.c. */
extern const char *test_machine_text;
void test_machine(struct machine *m);

/* Run `body` once on `ncores` cores in `mode` with the test machine. */
struct sim *test_sim(uint32_t ncores, enum sim_mode mode, const struct machine *m);

/* test_design: the registered design `name`; exits with status 2 (and says so) if there is none. */
struct vm_design;
const struct vm_design *test_design(const char *name);

/* Standard main: runs the suite built by `make_suite`, returns the exit status. */
int test_main(Suite *(*make_suite)(void));

#endif
