/* cache.c: per-core set-associative LRU tag arrays for L1, L2 and an L3 share: the capacity half of the cache model. */
#include "sim/cache.h"
#include "sim/util.h"

#include <string.h>

static void level_init(struct cache_level *l, uint64_t lines, uint32_t ways)
{
	if (!lines || !ways || lines < ways) {
		memset(l, 0, sizeof(*l));
		return;
	}
	l->ways = ways;
	l->sets = (uint32_t)(lines / ways);
	l->tags = xzalloc(sizeof(uint64_t) * lines); /* large: the pages come on first use */
}

void cache_init(struct cache *ch, const struct machine *m)
{
	memset(ch, 0, sizeof(*ch));
	if (!m->cache_l1_kib)
		return;
	ch->on = true;
	level_init(&ch->l[0], (uint64_t)m->cache_l1_kib * 16, m->cache_l1_ways);
	level_init(&ch->l[1], (uint64_t)m->cache_l2_kib * 16, m->cache_l2_ways);
	/* This core's share of its CCX's L3, in whole sets. */
	uint64_t share = (uint64_t)m->cache_l3_kib * 16 / (m->cores_per_ccx ? m->cores_per_ccx : 1);
	uint32_t w = m->cache_l3_ways;
	level_init(&ch->l[2], w ? share / w * w : 0, w);
}

void cache_fini(struct cache *ch)
{
	for (int i = 0; i < 3; i++)
		xfree(ch->l[i].tags);
	memset(ch, 0, sizeof(*ch));
}

/* The set of tag in l: a multiplicative hash, as tags are addresses whose low bits repeat. */
static inline uint64_t *set_of(const struct cache_level *l, uint64_t tag)
{
	uint64_t h = tag * 0x9e3779b97f4a7c15ull;
	return l->tags + (size_t)((h >> 32) % l->sets) * l->ways;
}

/* Look tag up in l; in any case leave it first in its set. Returns whether it was there. */
static bool level_touch(struct cache_level *l, uint64_t tag)
{
	uint64_t *s = set_of(l, tag);
	uint32_t i = 0;
	while (i < l->ways && s[i] != tag)
		i++;
	bool hit = i < l->ways;
	if (!hit)
		i = l->ways - 1; /* the least recently used way goes */
	memmove(s + 1, s, sizeof(uint64_t) * i);
	s[0] = tag;
	return hit;
}

/* cache_touch_slow: cache_touch for a tag other than the last one, with the model on. */
enum cache_where cache_touch_slow(struct cache *ch, uint64_t tag)
{
	ch->last = ch->l[0].sets ? tag : 0;
	enum cache_where w = CACHE_MEM;
	for (int i = 0; i < 3; i++) {
		if (!ch->l[i].sets)
			continue;
		if (level_touch(&ch->l[i], tag)) {
			w = (enum cache_where)(i + 1);
			/* the levels above were filled by the touches before; the ones below keep their copy */
			return w;
		}
	}
	return w;
}

cycles_t cache_cost(const struct machine *m, enum cache_where w)
{
	switch (w) {
	case CACHE_L1:
		return m->coh_hit;
	case CACHE_L2:
		return m->cache_l2_hit;
	case CACHE_L3:
		return m->cache_l3_hit;
	default:
		return m->coh_mem;
	}
}
