/* watch.c: narration and timeline recording for one watched core. */
#include "sim/watch.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const tl_names[TL_KINDS] = {
	[TL_SYSCALL] = "mm call", [TL_FAULT] = "fault",	  [TL_WALK] = "walk",	[TL_SHOOTDOWN] = "shootdown",
	[TL_IRQ] = "IPI handler", [TL_SPIN] = "lock spin", [TL_SLEEP] = "lock sleep", [TL_BARRIER] = "barrier/idle",
};

/* Append formatted text to the narration buffer. */
static void put(struct sim_watch *w, const char *fmt, va_list ap)
{
	for (;;) {
		size_t room = w->cap - w->len;
		va_list aq;
		va_copy(aq, ap);
		int n = vsnprintf(w->text ? w->text + w->len : NULL, w->text ? room : 0, fmt, aq);
		va_end(aq);
		if (n < 0)
			return;
		if (w->text && (size_t)n < room) {
			w->len += (size_t)n;
			return;
		}
		w->cap = MAX(w->cap * 2, w->len + (size_t)n + 256);
		w->text = xrealloc(w->text, w->cap);
	}
}

static void puts_(struct sim_watch *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put(w, fmt, ap);
	va_end(ap);
}

/* One indented line: prefix, then the formatted text, then tail. */
static void line(struct sim_watch *w, const char *prefix, const char *tail, const char *fmt, va_list ap)
{
	puts_(w, "%*s%s", 2 * w->indent, "", prefix);
	put(w, fmt, ap);
	puts_(w, "%s\n", tail);
}

void sim_note_(struct sim_core *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line(c->watch, "", "", fmt, ap);
	va_end(ap);
}

void sim_note_lock_(struct sim_core *c, const char *fmt, ...)
{
	struct sim_watch *w = c->watch;
	char tail[96] = " (free: no wait)";
	if (w->wait_spin || w->wait_sleep)
		snprintf(tail, sizeof(tail), " (waited %llu cycles spinning, %llu asleep)", (unsigned long long)w->wait_spin,
			 (unsigned long long)w->wait_sleep);
	va_list ap;
	va_start(ap, fmt);
	line(w, "lock: ", tail, fmt, ap);
	va_end(ap);
	w->wait_spin = w->wait_sleep = 0;
}

void sim_watch_wait(struct sim_core *c, bool spin, cycles_t t0)
{
	struct sim_watch *w = c->watch;
	if (likely(!w))
		return;
	if (spin)
		w->wait_spin += c->clock - t0;
	else
		w->wait_sleep += c->clock - t0;
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

char *watch_take_text(struct sim_watch *w)
{
	char *t = w->text ? w->text : xzalloc(1);
	w->text = NULL;
	w->len = w->cap = 0;
	return t;
}

void watch_free(struct sim_watch *w)
{
	if (!w)
		return;
	xfree(w->text);
	xfree(w->spans);
	xfree(w);
}
