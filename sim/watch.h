/* watch.h: observers of one core, for teaching mode and timelines: a narration of its steps and a record of where its time goes. Off (NULL) in normal runs. */
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

/*
 * struct sim_watch: attached to a core by teaching mode or `mmsim
 * timeline`. Written only by the core's own thread (or on its behalf
 * while it does not run, like its clock).
 */
struct sim_watch {
	/* narration */
	bool narrate;
	char *text;
	size_t len, cap;
	int indent;
	cycles_t wait_spin, wait_sleep; /* lock waits not yet reported by sim_note_lock */
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

/* A lock wait of `n` cycles ended now: account it for narration and the timeline. */
void sim_watch_wait(struct sim_core *c, bool spin, cycles_t t0);

/* watch_take_text: the narration so far (NUL-terminated; "" if none), and clear it. The caller frees it. */
char *watch_take_text(struct sim_watch *w);
void watch_free(struct sim_watch *w);

#endif
