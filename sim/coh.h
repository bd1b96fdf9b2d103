/* coh.h: the coherence model: a directory entry per modelled cache line, with owner/sharers and a busy-until time. */
#ifndef MMSIM_COH_H
#define MMSIM_COH_H

#include "sim/sim.h"

/*
 * struct coh_line: the directory entry of one modelled 64-byte cache line.
 * Zero-initialised memory is a valid line that no core holds.
 *
 * Invariants: if `owner` != 0 then core owner-1 holds the line exclusively
 * (Modified) and `sharers` is empty. Otherwise `sharers` holds every core
 * with a read copy. `busy_until` is the simulated time at which the last
 * transfer of this line completes; transfers of one line serialize on it.
 * In SIM_PAR the fields are guarded by `hl`; in SIM_DET the token guards them.
 */
struct coh_line {
	cycles_t busy_until;
	uint16_t owner;	     /* 1 + id of the exclusive owner, or 0 */
	uint16_t last;	     /* 1 + id of the last writer (where a read miss is served from), or 0 */
	uint16_t nsharers;
	_Atomic uint8_t hl;  /* SIM_PAR host spin lock */
	uint64_t sharers[SIM_MASK_WORDS];
};

enum coh_op {
	COH_READ,   /* a load */
	COH_WRITE,  /* a store: needs the line exclusively */
	COH_ATOMIC, /* a locked read-modify-write: exclusive, plus coh.atomic */
};

/*
 * coh_access: core c performs `op` on `l` at its current clock. This is a
 * synchronization point. Advances c's clock by the cost and returns it:
 * a local hit costs coh.hit; a miss waits for the line to be free
 * (busy_until), then pays the transfer from the current holder (by
 * topological distance) or a memory fill, plus coh.inval_sharer for each
 * further sharer a write invalidates.
 */
cycles_t coh_access(struct sim_core *c, struct coh_line *l, enum coh_op op);

/*
 * coh_access_nosync: as coh_access, without the synchronization point.
 * For a sequence that is atomic on real hardware (a page walk): the caller
 * calls sim_sync() once before the sequence.
 */
cycles_t coh_access_nosync(struct sim_core *c, struct coh_line *l, enum coh_op op);

/*
 * coh_access_at, coh_access_nosync_at: as above, for a line with a place in
 * the core's caches (sim/cache.h): `tag` names it (a physical line: the same
 * on every run, so deterministic runs stay bit-identical), and a line the
 * core holds costs where capacity left it. Tag 0: no capacity (an L1 hit),
 * as coh_access does for lines without a physical address (locks, metadata).
 */
cycles_t coh_access_at(struct sim_core *c, struct coh_line *l, enum coh_op op, uint64_t tag);
cycles_t coh_access_nosync_at(struct sim_core *c, struct coh_line *l, enum coh_op op, uint64_t tag);

static inline cycles_t coh_read(struct sim_core *c, struct coh_line *l) { return coh_access(c, l, COH_READ); }
static inline cycles_t coh_write(struct sim_core *c, struct coh_line *l) { return coh_access(c, l, COH_WRITE); }
static inline cycles_t coh_atomic(struct sim_core *c, struct coh_line *l) { return coh_access(c, l, COH_ATOMIC); }

/* coh_xfer_cost: cycles to move a line from core a to core b (coh.hit when a == b). */
cycles_t coh_xfer_cost(const struct sim *s, uint32_t a, uint32_t b);

/* coh_line_init: reset a line to "held by no core". */
static inline void coh_line_init(struct coh_line *l) { __builtin_memset(l, 0, sizeof(*l)); }

/* coh_holds: whether core id holds a valid copy (test helper). */
bool coh_holds(const struct coh_line *l, uint32_t id);

#endif
