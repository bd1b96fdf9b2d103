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

#define SUB (1u << HIST_SUB_BITS)

/* The counter of bucket i, made if absent. */
static uint32_t *counter(struct hist *h, uint32_t i)
{
	if (unlikely(!h->g))
		h->g = xzalloc(sizeof(*h->g) * HIST_GROUPS);
	uint32_t **grp = &h->g[i >> HIST_SUB_BITS];
	if (unlikely(!*grp))
		*grp = xzalloc(sizeof(uint32_t) * SUB);
	return &(*grp)[i & (SUB - 1)];
}

/* The count in bucket i (0 where nothing was recorded). */
static uint32_t count(const struct hist *h, uint32_t i)
{
	const uint32_t *grp = h->g ? h->g[i >> HIST_SUB_BITS] : NULL;
	return grp ? grp[i & (SUB - 1)] : 0;
}

void hist_record(struct hist *h, uint64_t v)
{
	(*counter(h, bucket_of(v)))++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (!src->n)
		return;
	for (uint32_t k = 0; k < HIST_GROUPS; k++)
		for (uint32_t j = 0; src->g[k] && j < SUB; j++)
			if (src->g[k][j])
				*counter(dst, (k << HIST_SUB_BITS) + j) += src->g[k][j];
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
		seen += count(h, i);
		if (seen >= rank)
			return MIN(bucket_hi(i), h->max);
	}
	return h->max;
}

void hist_free(struct hist *h)
{
	for (uint32_t k = 0; h->g && k < HIST_GROUPS; k++)
		xfree(h->g[k]);
	xfree(h->g);
	h->g = NULL;
	h->n = h->sum = h->max = 0;
}
