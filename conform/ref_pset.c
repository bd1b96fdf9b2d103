/* ref_pset.c: sets of page numbers for the reference model (open addressing with tombstones). */
#include "conform/ref_int.h"

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
	s->n = s->used = 0;
	for (uint64_t i = 0; i < o.cap; i++)
		if (o.k[i] > 1)
			refps_insert(s, o.k[i] - 2);
	xfree(o.k);
}

bool refps_has(const struct refps *s, uint64_t vpn) { return s->cap && s->k[probe(s, vpn)] == vpn + 2; }

void refps_insert(struct refps *s, uint64_t vpn)
{
	if (refps_has(s, vpn))
		return;
	if ((s->used + 1) * 2 > s->cap)
		rehash(s);
	uint64_t i = mix(vpn) & (s->cap - 1);
	while (s->k[i] > 1)
		i = (i + 1) & (s->cap - 1);
	s->used += s->k[i] == 0;
	s->k[i] = vpn + 2;
	s->n++;
}

/* Append vpn to the growing array *v of *n entries. */
static void push(uint64_t **v, uint64_t n, uint64_t vpn)
{
	if (!*v)
		return;
	if (n >= 16 && !(n & (n - 1)))
		*v = xrealloc(*v, sizeof(uint64_t) * n * 2);
	(*v)[n] = vpn;
}

uint64_t refps_take(struct refps *s, uint64_t a, uint64_t b, uint64_t **out)
{
	uint64_t n = 0, lo = a / PG, hi = b / PG;
	uint64_t *v = out ? xmalloc(sizeof(uint64_t) * 16) : NULL;
	if (!s->cap)
		goto done;
	if (hi - lo <= s->n) { /* a short range: look each page up */
		for (uint64_t p = lo; p < hi; p++) {
			uint64_t i = probe(s, p);
			if (s->k[i] != p + 2)
				continue;
			s->k[i] = 1;
			s->n--;
			push(&v, n++, p);
		}
	} else { /* a long one: scan the table */
		for (uint64_t i = 0; i < s->cap; i++) {
			if (s->k[i] <= 1 || s->k[i] - 2 < lo || s->k[i] - 2 >= hi)
				continue;
			push(&v, n++, s->k[i] - 2);
			s->k[i] = 1;
			s->n--;
		}
	}
done:
	if (out)
		*out = v;
	return n;
}
