/* ref_pset.c: the reference model's page table: a map from page number to RP_* bits (open addressing with tombstones). */
#include "conform/ref_int.h"

/* mix: a 64-bit finalizer (murmur3's), for the probe start. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* Slot of vpn in s, or of the empty slot that ends its probe. s->cap > 0. */
static uint64_t probe(const struct refps *s, uint64_t vpn)
{
	uint64_t i = mix(vpn) & (s->cap - 1);
	while (s->k[i] != 0 && s->k[i] != vpn + 2)
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* Rehash into a table twice as large, or as large when it is mostly tombstones. */
static void rehash(struct refps *s)
{
	struct refps o = *s;
	s->cap = !o.cap ? 64 : o.n * 4 < o.cap ? o.cap : o.cap * 2;
	s->k = xzalloc(sizeof(uint64_t) * s->cap);
	s->v = xzalloc(s->cap);
	s->n = s->used = 0;
	for (uint64_t i = 0; i < o.cap; i++)
		if (o.k[i] > 1)
			refps_set(s, o.k[i] - 2, o.v[i]);
	xfree(o.k);
	xfree(o.v);
}

uint8_t refps_get(const struct refps *s, uint64_t vpn)
{
	if (!s->cap)
		return 0;
	uint64_t i = probe(s, vpn);
	return s->k[i] == vpn + 2 ? s->v[i] : 0;
}

void refps_set(struct refps *s, uint64_t vpn, uint8_t v)
{
	uint64_t i = s->cap ? probe(s, vpn) : 0;
	if (s->cap && s->k[i] == vpn + 2) {
		if (v)
			s->v[i] = v;
		else
			s->k[i] = 1, s->n--;
		return;
	}
	if (!v)
		return;
	if ((s->used + 1) * 2 > s->cap)
		rehash(s);
	i = mix(vpn) & (s->cap - 1);
	while (s->k[i] > 1)
		i = (i + 1) & (s->cap - 1);
	s->used += s->k[i] == 0;
	s->k[i] = vpn + 2;
	s->v[i] = v;
	s->n++;
}

/* Append x to the growing array *v of n entries (none kept when *v is NULL). */
static void push(uint64_t **v, uint64_t n, uint64_t x)
{
	if (!*v)
		return;
	if (n >= 16 && !(n & (n - 1)))
		*v = xrealloc(*v, sizeof(uint64_t) * n * 2);
	(*v)[n] = x;
}

uint64_t refps_take(struct refps *s, uint64_t a, uint64_t b, uint8_t keep, uint64_t **out)
{
	uint64_t n = 0, lo = a / PG, hi = b / PG;
	uint64_t *v = out ? xmalloc(sizeof(uint64_t) * 16) : NULL;
	bool scan = hi - lo > s->n; /* a long range: scan the table instead of looking each page up */
	for (uint64_t j = 0, p = lo; s->cap && (scan ? j < s->cap : p < hi); j++, p++) {
		uint64_t i = scan ? j : probe(s, p);
		if (s->k[i] <= 1 || s->k[i] - 2 < lo || s->k[i] - 2 >= hi || (s->v[i] & keep))
			continue;
		push(&v, n++, (s->k[i] - 2) << 8 | s->v[i]);
		s->k[i] = 1;
		s->n--;
	}
	if (out)
		*out = v;
	return n;
}

void refps_free(struct refps *s)
{
	xfree(s->k);
	xfree(s->v);
	s->k = NULL;
	s->v = NULL;
	s->cap = s->n = s->used = 0;
}
