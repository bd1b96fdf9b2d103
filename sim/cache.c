/* cache.c: per-core set-associative LRU arrays of 32-bit line codes for L1, L2 and an L3 share: the capacity half of the cache model. */
#include "sim/cache.h"
#include "sim/util.h"

#include <string.h>

/*
 * The code space (cache_code): 1 + (pfn << 6 | line) for a guest line of a
 * frame below 2^25, then host lines by level (level 1: below 2^29 lines, the
 * lines of guest frames below 2^32; levels 2-4: below 2^21 each), then
 * interned codes from CODE_INTERN up. The ranges do not overlap.
 */
#define DATA_LIMIT ((1ull << 31) - 1)
#define CODE_HOST1 (1u << 31)
#define CODE_HOSTN (CODE_HOST1 + (1u << 29))
#define CODE_INTERN (3u << 30)

/* The hash of the intern table: the top `bits` bits of a multiplicative hash. */
static inline uint32_t intern_slot(uint64_t tag, uint32_t cap)
{
	return (uint32_t)((tag * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

/* Double the intern table (or make its first 64 slots). */
static void intern_grow(struct cache_intern *in)
{
	uint32_t cap = in->cap ? in->cap * 2 : 64;
	uint64_t *key = xzalloc(sizeof(uint64_t) * cap);
	uint32_t *code = xzalloc(sizeof(uint32_t) * cap);
	for (uint32_t i = 0; i < in->cap; i++) {
		if (!in->key[i])
			continue;
		uint32_t s = intern_slot(in->key[i], cap);
		while (key[s])
			s = (s + 1) & (cap - 1);
		key[s] = in->key[i];
		code[s] = in->code[i];
	}
	xfree(in->key);
	xfree(in->code);
	in->key = key;
	in->code = code;
	in->cap = cap;
}

/* The interned code of tag: the one it was given, or the next free one. */
static uint32_t intern(struct cache_intern *in, uint64_t tag)
{
	if (!tag)
		panic("cache: tag 0 names no line");
	if (2 * (in->n + 1) > in->cap)
		intern_grow(in);
	uint32_t s = intern_slot(tag, in->cap);
	while (in->key[s] && in->key[s] != tag)
		s = (s + 1) & (in->cap - 1);
	if (!in->key[s]) {
		if (in->n >= UINT32_MAX - CODE_INTERN)
			panic("cache: more than %u lines without a direct code", UINT32_MAX - CODE_INTERN);
		in->key[s] = tag;
		in->code[s] = CODE_INTERN + in->n++;
	}
	return in->code[s];
}

uint32_t cache_code(struct cache *ch, uint64_t tag)
{
	if (tag >> 61 == 2) { /* CACHE_TAG_DATA */
		uint64_t x = tag & ((1ull << 62) - 1);
		if (x < DATA_LIMIT)
			return (uint32_t)x + 1;
	} else if (tag >> 61 == 1) { /* CACHE_TAG_HOST */
		uint64_t level = tag >> 56 & 31, line = tag & ((1ull << 56) - 1);
		if (level == 1 && line < 1u << 29)
			return CODE_HOST1 + (uint32_t)line;
		if (level >= 2 && level <= 4 && line < 1u << 21)
			return CODE_HOSTN + ((uint32_t)(level - 2) << 21 | (uint32_t)line);
	}
	return intern(&ch->in, tag);
}

static void level_init(struct cache_level *l, uint64_t lines, uint32_t ways)
{
	memset(l, 0, sizeof(*l));
	if (!lines || !ways || lines < ways)
		return;
	l->ways = ways;
	l->sets = (uint32_t)(lines / ways);
	l->mask = l->sets & (l->sets - 1) ? 0 : l->sets - 1;
	if (lines <= CACHE_DENSE_LINES)
		l->dense = xzalloc(sizeof(uint32_t) * lines);
	else
		l->grp = xaligned_zalloc(64, sizeof(*l->grp) * ((l->sets + CACHE_GROUP - 1) / CACHE_GROUP));
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
	for (int i = 0; i < 3; i++) {
		struct cache_level *l = &ch->l[i];
		for (uint32_t g = 0; l->grp && g < (l->sets + CACHE_GROUP - 1) / CACHE_GROUP; g++)
			xfree(l->grp[g].code);
		xfree(l->grp);
		xfree(l->dense);
	}
	xfree(ch->in.key);
	xfree(ch->in.code);
	memset(ch, 0, sizeof(*ch));
}

/* The set of tag in l: a multiplicative hash, as tags are addresses whose low bits repeat. */
static inline uint32_t set_of(const struct cache_level *l, uint64_t tag)
{
	uint32_t h = (uint32_t)((tag * 0x9e3779b97f4a7c15ull) >> 32);
	return l->mask ? h & l->mask : h % l->sets;
}

/* The sum of n[0..j-1], eight counts at a time (each below 256: a 16-bit lane of four holds the sum of two). */
static inline uint32_t counts_before(const uint8_t *n, uint32_t j)
{
	uint32_t sum = 0, k = 0;
	for (; k < j; k += 8) {
		uint64_t w;
		memcpy(&w, n + k, 8);
		if (j - k < 8)
			w &= (1ull << 8 * (j - k)) - 1;
		w = (w & 0x00ff00ff00ff00ffull) + (w >> 8 & 0x00ff00ff00ff00ffull);
		sum += (uint32_t)((w * 0x0001000100010001ull) >> 48);
	}
	return sum;
}

/*
 * Look the line of `tag` (coded `code`) up in l; in any case leave it first
 * in its set, the set's least recently used line leaving a full set. Returns
 * whether it was there.
 */
static bool level_touch(struct cache_level *l, uint64_t tag, uint32_t code)
{
	uint32_t set = set_of(l, tag);
	if (l->dense) {
		uint32_t *s = l->dense + (size_t)set * l->ways, i = 0;
		while (i < l->ways && s[i] != code)
			i++;
		bool hit = i < l->ways;
		memmove(s + 1, s, sizeof(uint32_t) * (hit ? i : l->ways - 1)); /* a miss: the least recently used way goes */
		s[0] = code;
		return hit;
	}
	struct cache_group *g = &l->grp[set / CACHE_GROUP];
	uint32_t j = set % CACHE_GROUP, ways = l->ways;
	uint32_t start = g->total == CACHE_GROUP * ways ? j * ways : counts_before(g->n, j); /* a full group: every set full */
	uint32_t *s = g->code + start, n = g->n[j], i = 0;
	while (i < n && s[i] != code)
		i++;
	if (i < n || n == l->ways) { /* a hit, or a miss in a full set: the least recently used way goes */
		bool hit = i < n;
		memmove(s + 1, s, sizeof(uint32_t) * (hit ? i : n - 1));
		s[0] = code;
		return hit;
	}
	if (g->total == g->cap) { /* about an eighth more: jemalloc's size classes are a quarter apart */
		uint32_t step = g->cap / 8 & ~3u, most = CACHE_GROUP * l->ways;
		uint32_t cap = g->cap + (step > 4 ? step : 4);
		g->cap = (uint16_t)(cap < most ? cap : most);
		g->code = xrealloc(g->code, sizeof(uint32_t) * g->cap);
		s = g->code + start;
	}
	memmove(s + 1, s, sizeof(uint32_t) * (g->total - start));
	s[0] = code;
	g->n[j]++;
	g->total++;
	return false;
}

/* cache_touch_slow: cache_touch for a tag other than the last one, with the model on. */
enum cache_where cache_touch_slow(struct cache *ch, uint64_t tag)
{
	ch->last = ch->l[0].sets ? tag : 0;
	uint32_t code = cache_code(ch, tag);
	for (int i = 0; i < 3; i++) {
		if (!ch->l[i].sets)
			continue;
		/* a hit: the levels above were filled by the touches before; the ones below keep their copy */
		if (level_touch(&ch->l[i], tag, code))
			return (enum cache_where)(i + 1);
	}
	return CACHE_MEM;
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
