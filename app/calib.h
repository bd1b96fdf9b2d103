/* calib.h: `mmsim calibrate`: what was measured on the host, the machine file fitted from it, and the simulated side of each comparison. */
#ifndef MMSIM_CALIB_H
#define MMSIM_CALIB_H

#include "hostm/cpu.h"
#include "hostm/probes.h"
#include "hostm/stats.h"
#include "sim/machine.h"

#define CAL_MAX_CHASE 20

/* A measurement: its benchmark in words, its estimate, and whether a key of the file is fitted from it. */
struct cal_m {
	const char *name;  /* short name, for tables and refusals */
	const char *bench; /* what was run */
	struct hm_est e;
	bool fit;	   /* a key is fitted from it: it must be ok for the file to be written */
	bool done;	   /* measured at all (a pair benchmark needs 2 CPUs) */
};

enum cal_id { CM_CLOCK, CM_SYSCALL, CM_ZERO, CM_RFAULT, CM_MPROTECT, CM_MPROTECT_UNTOUCHED, CM_PINGPONG, CM_SHARED_MUNMAP, CM_NFIT };

struct calib {
	struct hm_cpu cpu;
	char host[64], kernel[160], date[32];
	const char *base; /* preset whose values are kept where nothing is measured */
	struct hm_plan plan;
	bool quick, force;
	struct cal_m m[CM_NFIT];
	struct cal_m ops[HM_NOPS];	/* the validation set: never fitted */
	struct cal_m ops2[HM_NOPS];	/* ... with two threads (2 CPUs needed) */
	uint32_t nchase, chase_n[CAL_MAX_CHASE];
	struct cal_m chase[CAL_MAX_CHASE];
	double sim_chase_native[CAL_MAX_CHASE]; /* ns per access on the fitted machine with npt off */
	double sim_chase[CAL_MAX_CHASE];	/* ... and as written */
	double trap_rest_ns;			/* the simulated rest of a fault, beside kern.trap (fit of kern.trap) */
	double sim_ops[HM_NOPS];		/* simulated ns per op on the written machine */
	double sim_ops2[HM_NOPS];		/* ... per thread's op on 2 cores */
	int mmap_merges; /* hm_mmap_merges: the host's mmap request merged with a neighbour (1), did not (0), unknown (-1) */
};

/* calib_chase_points: the reach-curve sizes and indices of the four points the derived costs use (32, 128, 2048, 8192 pages). */
void calib_chase_points(struct calib *c);
/* calib_chase_index: index of the point of n pages, or -1. */
int calib_chase_index(const struct calib *c, uint32_t n);

/*
 * calib_sim_chase: the same page-stride chase (hm_chase_order's order over
 * n pages) on one simulated core of m: ns per access after two warm passes.
 * The simulated figure is translation only (mmsim charges no data latency).
 */
double calib_sim_chase(const struct machine *m, uint32_t n);

/*
 * calib_sim_op: simulated ns per op of workload `w` (`cores` threads,
 * design linux, low contention) on m, as one thread sees it: cores * 1e9 /
 * ops_per_sim_sec; with neighbour, mmap's requests merge with an anonymous
 * mapping as the host's did (wl_params.neighbour). -1 on failure (message on stderr).
 */
double calib_sim_op(const struct machine *m, const char *w, uint32_t cores, bool neighbour);

/*
 * calib_text: the machine description fitted from c's measurements, every
 * value with its source, into a malloc'd string; m gets it loaded. NULL with
 * err on failure (a value the parser refuses: a bug).
 */
char *calib_text(struct calib *c, struct machine *m, char *err, size_t errlen);

/*
 * calib_rec_validate (calib_rec.c): record `mmsim calibrate
 * --recorded-program rounds` with `mmsim record` (perf), replay it with
 * --design linux on the machine `machine_text`, and print each call's
 * recorded and simulated median latency and their ratio. Prints why it was
 * skipped instead when the host cannot record (no perf, no permission); it
 * never fails calibrate.
 */
void calib_rec_validate(const char *machine_text, unsigned rounds);

#endif
