/* watch.c: narration, structured events (locks, IPIs) and timeline recording for one watched core. */
#include "sim/watch.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const tl_names[TL_KINDS] = {
	[TL_SYSCALL] = "mm call", [TL_FAULT] = "fault",	  [TL_WALK] = "walk",	[TL_SHOOTDOWN] = "shootdown",
	[TL_IRQ] = "IPI handler", [TL_SPIN] = "lock spin", [TL_SLEEP] = "lock sleep", [TL_BARRIER] = "barrier/idle",
};

/* A new event of `kind` at the core's clock, zeroed apart from that. */
static struct watch_ev *push(struct sim_core *c, uint8_t kind)
{
	struct sim_watch *w = c->watch;
	if (w->nev == w->ev_cap) {
		w->ev_cap = MAX(w->ev_cap * 2, 64);
		w->ev = xrealloc(w->ev, w->ev_cap * sizeof(*w->ev));
	}
	struct watch_ev *e = &w->ev[w->nev++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->t = c->clock;
	return e;
}

/* The formatted text of a narration line. */
static char *format(const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	char *t = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	if (n > 0)
		vsnprintf(t, (size_t)n + 1, fmt, ap);
	else
		t[0] = 0;
	return t;
}

void sim_note_(struct sim_core *c, const char *fmt, ...)
{
	struct watch_ev *e = push(c, WEV_NOTE);
	e->arg = (uint32_t)c->watch->indent;
	va_list ap;
	va_start(ap, fmt);
	e->text = format(fmt, ap);
	va_end(ap);
}

void sim_note_lock_(struct sim_core *c, const char *fmt, ...)
{
	struct sim_watch *w = c->watch;
	struct watch_ev *e = push(c, WEV_LOCK_NOTE);
	e->arg = (uint32_t)w->indent;
	e->spin = w->wait_spin;
	e->sleep = w->wait_sleep;
	va_list ap;
	va_start(ap, fmt);
	e->text = format(fmt, ap);
	va_end(ap);
	w->wait_spin = w->wait_sleep = 0;
}

void sim_watch_lock_(struct sim_core *c, const void *lock, enum wl_op op, cycles_t since)
{
	struct sim_watch *w = c->watch;
	struct watch_ev *e = push(c, WEV_LOCK);
	e->obj = lock;
	e->arg = (uint32_t)op;
	if (op != WL_RELEASE && op != WL_DOWNGRADE) {
		e->a = since;
		e->spin = w->lk_spin;
		e->sleep = w->lk_sleep;
		w->lk_spin = w->lk_sleep = 0;
	}
}

void sim_watch_ipi_(struct sim_core *c, uint32_t target, cycles_t sent, cycles_t start, cycles_t ack, cycles_t work)
{
	struct watch_ev *e = push(c, WEV_IPI);
	e->arg = target;
	e->a = sent;
	e->b = start;
	e->d = ack;
	e->work = work;
}

void sim_watch_wait(struct sim_core *c, bool spin, cycles_t t0)
{
	struct sim_watch *w = c->watch;
	if (likely(!w))
		return;
	cycles_t n = c->clock - t0;
	if (spin)
		w->wait_spin += n, w->lk_spin += n;
	else
		w->wait_sleep += n, w->lk_sleep += n;
	sim_tl_span(c, spin ? TL_SPIN : TL_SLEEP, t0, c->clock);
}

void sim_tl_span_(struct sim_core *c, enum tl_kind k, cycles_t start, cycles_t end)
{
	struct sim_watch *w = c->watch;
	if (w->nspans == w->max) {
		w->dropped++;
		return;
	}
	if (w->nspans == w->spans_cap) {
		w->spans_cap = MAX(w->spans_cap * 2, 1024);
		w->spans = xrealloc(w->spans, w->spans_cap * sizeof(*w->spans));
	}
	w->spans[w->nspans++] = (struct tl_span){ start, end, (uint8_t)k };
}

void sim_tl_begin_(struct sim_core *c, enum tl_kind k)
{
	struct sim_watch *w = c->watch;
	if (w->depth < WATCH_DEPTH) {
		w->open_start[w->depth] = c->clock;
		w->open_kind[w->depth] = (uint8_t)k;
	}
	w->depth++;
}

void sim_tl_end_(struct sim_core *c)
{
	struct sim_watch *w = c->watch;
	if (w->depth == 0)
		panic("timeline: span ended on core %u that none began", c->id);
	w->depth--;
	if (w->depth < WATCH_DEPTH)
		sim_tl_span_(c, (enum tl_kind)w->open_kind[w->depth], w->open_start[w->depth], c->clock);
}

struct watch_ev *watch_take_events(struct sim_watch *w, size_t *n)
{
	struct watch_ev *ev = w->ev;
	*n = w->nev;
	w->ev = NULL;
	w->nev = w->ev_cap = 0;
	return ev;
}

void watch_events_free(struct watch_ev *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xfree(ev[i].text);
	xfree(ev);
}

void watch_free(struct sim_watch *w)
{
	if (!w)
		return;
	watch_events_free(w->ev, w->nev);
	xfree(w->spans);
	xfree(w);
}
