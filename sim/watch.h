/* watch.h: observers of one core, for teaching mode and timelines: a narration of its steps, a structured record of its locks and IPIs, and where its time goes. Off (NULL) in normal runs. */
#ifndef MMSIM_WATCH_H
#define MMSIM_WATCH_H

#include "sim/sim.h"

/* What a core is doing during a span of simulated time (innermost wins when spans nest). */
enum tl_kind {
	TL_SYSCALL,   /* inside an mm call */
	TL_FAULT,     /* inside the page-fault handler */
	TL_WALK,      /* the hardware page walker */
	TL_SHOOTDOWN, /* sending IPIs and waiting for their acknowledgements */
	TL_IRQ,	      /* handling another core's shootdown interrupt */
	TL_SPIN,      /* spinning for a lock */
	TL_SLEEP,     /* asleep waiting for a lock */
	TL_BARRIER,   /* waiting at a workload barrier, or idle with nothing to run */
	TL_KINDS
};
extern const char *const tl_names[TL_KINDS];

struct tl_span {
	cycles_t start, end;
	uint8_t kind;
};

#define WATCH_DEPTH 8

/* What a watched core did, in the order it did it (teaching mode's structured log). */
enum watch_ev_kind {
	WEV_NOTE,      /* a line of narration (sim_note) */
	WEV_LOCK_NOTE, /* a lock named in the narration just after it was taken (sim_note_lock) */
	WEV_LOCK,      /* a lock taken, released or downgraded (sim/lock.c) */
	WEV_IPI,       /* a shootdown interrupt sent to one core (mmu/shootdown.c) */
};

/* What happened to a lock, for WEV_LOCK. */
enum wl_op {
	WL_SPIN,      /* a spinlock (or mutex) taken */
	WL_MCS,	      /* an MCS lock taken */
	WL_READ,      /* a rwsem taken for reading */
	WL_WRITE,     /* a rwsem taken for writing */
	WL_RELEASE,   /* any lock released (one reader of a rwsem) */
	WL_DOWNGRADE, /* a rwsem held for writing now held for reading */
};

/*
 * struct watch_ev: one structured event. `t` is the core's clock when it
 * happened (for a lock taken: when it was granted). Fields unused by a kind
 * are 0.
 */
struct watch_ev {
	cycles_t t;
	cycles_t a, b, d;     /* WEV_LOCK taken: a = when the request began; WEV_IPI: a = sent, b = the target's handler starts, d = its ack arrives */
	cycles_t spin, sleep; /* WEV_LOCK_NOTE, WEV_LOCK taken: cycles waited spinning and asleep */
	cycles_t work;	      /* WEV_IPI: cycles the target spends in the handler */
	const void *obj;      /* WEV_LOCK: the lock (an identity only: never printed) */
	char *text;	      /* WEV_NOTE, WEV_LOCK_NOTE: the line, without indentation (owned) */
	uint32_t arg;	      /* WEV_NOTE, WEV_LOCK_NOTE: nesting depth; WEV_LOCK: enum wl_op; WEV_IPI: the target core */
	uint8_t kind;	      /* enum watch_ev_kind */
};

/*
 * struct sim_watch: attached to a core by teaching mode or `mmsim
 * timeline`. Written only by the core's own thread (or on its behalf
 * while it does not run, like its clock).
 */
struct sim_watch {
	/* narration and structured events */
	bool narrate;			/* record sim_note lines */
	bool events;			/* record locks and IPIs */
	struct watch_ev *ev;
	size_t nev, ev_cap;
	int indent;
	cycles_t wait_spin, wait_sleep; /* lock waits not yet reported by sim_note_lock */
	cycles_t lk_spin, lk_sleep;	/* lock waits not yet given to a WEV_LOCK */
	/* timeline */
	bool record;
	struct tl_span *spans;
	size_t nspans, spans_cap, max; /* max: spans kept; later ones are counted in `dropped` */
	uint64_t dropped;
	cycles_t open_start[WATCH_DEPTH];
	uint8_t open_kind[WATCH_DEPTH];
	int depth;
};

void sim_note_(struct sim_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_note_lock_(struct sim_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_tl_span_(struct sim_core *c, enum tl_kind k, cycles_t start, cycles_t end);
void sim_tl_begin_(struct sim_core *c, enum tl_kind k);
void sim_tl_end_(struct sim_core *c);

static inline bool sim_narrating(const struct sim_core *c) { return unlikely(c->watch != NULL) && c->watch->narrate; }

void sim_watch_lock_(struct sim_core *c, const void *lock, enum wl_op op, cycles_t since);
void sim_watch_ipi_(struct sim_core *c, uint32_t target, cycles_t sent, cycles_t start, cycles_t ack, cycles_t work);

/* sim_note: one line of narration ("took mmap_lock for writing"), indented by the current depth. */
#define sim_note(c, ...)                                     \
	do {                                                 \
		if (sim_narrating(c))                        \
			sim_note_((c), __VA_ARGS__);         \
	} while (0)
/* sim_note_lock: a lock was just taken: names it and adds how long this core waited for it. */
#define sim_note_lock(c, ...)                                \
	do {                                                 \
		if (sim_narrating(c))                        \
			sim_note_lock_((c), __VA_ARGS__);    \
	} while (0)
/* sim_note_in / sim_note_out: indent the narration of a nested step. */
static inline void sim_note_in(struct sim_core *c)
{
	if (sim_narrating(c))
		c->watch->indent++;
}
static inline void sim_note_out(struct sim_core *c)
{
	if (sim_narrating(c) && c->watch->indent > 0)
		c->watch->indent--;
}

/* Timeline: a span [start, end) of kind k, or begin/end pairs around nested work. */
static inline void sim_tl_span(struct sim_core *c, enum tl_kind k, cycles_t start, cycles_t end)
{
	if (unlikely(c->watch != NULL) && c->watch->record && end > start)
		sim_tl_span_(c, k, start, end);
}
static inline void sim_tl_begin(struct sim_core *c, enum tl_kind k)
{
	if (unlikely(c->watch != NULL) && c->watch->record)
		sim_tl_begin_(c, k);
}
static inline void sim_tl_end(struct sim_core *c)
{
	if (unlikely(c->watch != NULL) && c->watch->record)
		sim_tl_end_(c);
}

/* A lock wait that began at t0 ended now: account it for narration, the structured log and the timeline. */
void sim_watch_wait(struct sim_core *c, bool spin, cycles_t t0);

/*
 * sim_watch_lock: lock `lock` was taken (the request began at `since`),
 * released or downgraded by core c now. Called by sim/lock.c only.
 */
static inline void sim_watch_lock(struct sim_core *c, const void *lock, enum wl_op op, cycles_t since)
{
	if (unlikely(c->watch != NULL) && c->watch->events)
		sim_watch_lock_(c, lock, op, since);
}

/*
 * sim_watch_ipi: core c sent a shootdown IPI to `target` at `sent`; its
 * handler runs from `start` for `work` cycles and the ack reaches c at `ack`.
 */
static inline void sim_watch_ipi(struct sim_core *c, uint32_t target, cycles_t sent, cycles_t start, cycles_t ack,
				 cycles_t work)
{
	if (unlikely(c->watch != NULL) && c->watch->events)
		sim_watch_ipi_(c, target, sent, start, ack, work);
}

/*
 * watch_take_events: the events so far (*n of them; NULL if none), and
 * forget them. The caller frees them with watch_events_free.
 */
struct watch_ev *watch_take_events(struct sim_watch *w, size_t *n);
void watch_events_free(struct watch_ev *ev, size_t n);
void watch_free(struct sim_watch *w);

#endif
