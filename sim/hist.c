/* hist.c: log-linear histogram buckets; bucket i covers a range about 1/32 of its lower bound wide. */
#include "sim/hist.h"
#include "sim/util.h"

static uint32_t bucket_of(uint64_t v)
{
	if (v < (1u << HIST_SUB_BITS))
		return (uint32_t)v;
	uint32_t msb = 63 - (uint32_t)__builtin_clzll(v);
	uint32_t shift = msb - HIST_SUB_BITS;
	return ((shift + 1) << HIST_SUB_BITS) + (uint32_t)((v >> shift) & ((1u << HIST_SUB_BITS) - 1));
}

static uint64_t bucket_hi(uint32_t i)
{
	if (i < (1u << HIST_SUB_BITS))
		return i;
	uint32_t shift = (i >> HIST_SUB_BITS) - 1;
	uint64_t sub = i & ((1u << HIST_SUB_BITS) - 1);
	return (((uint64_t)(1u << HIST_SUB_BITS) + sub + 1) << shift) - 1;
}

void hist_record(struct hist *h, uint64_t v)
{
	if (unlikely(!h->b))
		h->b = xzalloc(sizeof(uint32_t) * HIST_BUCKETS);
	h->b[bucket_of(v)]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (!src->n)
		return;
	if (!dst->b)
		dst->b = xzalloc(sizeof(uint32_t) * HIST_BUCKETS);
	for (uint32_t i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist_pct(const struct hist *h, double p)
{
	if (!h->n)
		return 0;
	uint64_t rank = (uint64_t)((p / 100.0) * (double)h->n + 0.5);
	if (rank < 1)
		rank = 1;
	if (rank > h->n)
		rank = h->n;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			return MIN(bucket_hi(i), h->max);
	}
	return h->max;
}

void hist_free(struct hist *h)
{
	xfree(h->b);
	h->b = NULL;
	h->n = h->sum = h->max = 0;
}
