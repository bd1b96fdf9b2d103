/* exec.h: the executor: runs event streams (from traces or workloads) on simulated cores against a design. */
#ifndef MMSIM_EXEC_H
#define MMSIM_EXEC_H

#include "vm/event.h"
#include "vm/vm.h"
#include "sim/lock.h"

/* An event source: one thread's events, in order. */
struct ev_src {
	/* next: fill *e with the next event; false at the end (or on a read error, see err). */
	bool (*next)(struct ev_src *s, struct ev *e);
	void (*close)(struct ev_src *s);
	char err[256];
};

/* Per-core results, written only by that core. */
struct ex_core_stats {
	uint64_t ops;	       /* events flagged EVF_OP */
	uint64_t events;       /* events executed */
	cycles_t mark, end;    /* clock at the EV_MARK (or start) and at the end */
	bool marked;
	uint64_t result_mismatches;	   /* EVF_CHECK events whose result differed from the recording */
	uint64_t fault_outcome_mismatches; /* accesses resolved where the recording failed, or the reverse */
	uint64_t ctx_switches;
	uint64_t addr; /* the resolved address of the event being run (for judge) */
	/* The clock at the end of each EVF_OP event, in order (the first ex.req_cap; NULL when req_cap is 0). */
	cycles_t *req_end;
	uint32_t nreq;
};

#define EX_MAX_BARRIERS 8
/* Processes a run may create (initial and forked; an exited process keeps its slot until ex_destroy). */
#define EX_MAX_PROCS 4096

/*
 * struct ex: the executor. Threads start where ex_add_thread puts them, or
 * when a running thread creates them (EV_THREAD, EV_FORK): their events
 * then come from spawn(spawn_ctx, tid), and they go to the cores in
 * round-robin order. Threads sharing a core are time-sliced by the tick.
 */
struct ex {
	struct vm_sys *sys;
	uint32_t ncores;
	struct ex_core_stats *cst;
	struct lk_barrier barrier[EX_MAX_BARRIERS];
	uint32_t barrier_n[EX_MAX_BARRIERS];
	struct vm_file **files;
	uint32_t nfiles;
	cycles_t slice; /* time slice when threads share a core (one tick) */
	struct ev_src *(*spawn)(void *ctx, uint32_t tid);
	void *spawn_ctx;
	char err[256]; /* the first event-source error (a malformed trace), if any */
	/*
	 * judge: if set, called on the core after every event it ran, with the
	 * result r, its resolved address, the thread's address space and the core's clock when the
	 * event began (a replay's mismatch list and timing). It returns 1 for a
	 * fault-outcome mismatch, 2 for a result mismatch, else 0. Unset:
	 * EVF_CHECK events are compared by the sign of their result.
	 */
	int (*judge)(void *ctx, struct mmu_cpu *cpu, struct vm_as *as, const struct ev *e, uint64_t addr, long r,
		     cycles_t start);
	void *judge_ctx;
	/*
	 * req_cap: set before ex_run to have each core record the clock at the
	 * end of its first req_cap EVF_OP events (ex_core_stats.req_end): the
	 * per-request timestamps of a method that times each request.
	 */
	uint32_t req_cap;
	void *priv;
};

struct ex *ex_create(struct vm_sys *sys);
/* ex_add_thread: thread `tid` of process `pid` (created on first use) runs `src` on `core`. */
void ex_add_thread(struct ex *x, uint32_t pid, uint32_t tid, struct ev_src *src, uint32_t core);
/* ex_file: the file with this id (created with `size` bytes on first use). */
struct vm_file *ex_file(struct ex *x, uint32_t id, uint64_t size);
/* ex_run: run every thread to its end (sim_run). */
void ex_run(struct ex *x);
/* ex_destroy: tear down processes and files; returns nothing leaked check (see boot_destroy). */
void ex_destroy(struct ex *x);

/* Totals over cores: ops, events, and the measured window (min mark to max end). */
void ex_totals(const struct ex *x, struct ex_core_stats *sum, cycles_t *window);
/* Process i's address space (for stats and layout), and how many processes there were. */
struct vm_as *ex_as(const struct ex *x, uint32_t i);
uint32_t ex_nprocs(const struct ex *x);
/* How many threads ran (initial ones and those created by EV_THREAD and EV_FORK). */
uint32_t ex_nthreads(const struct ex *x);

#endif
