/* t24_cache.c: the cache capacity model (sim/cache) against a plain reference LRU of 64-bit tags, its tag codes, and its lazily made groups. */
#include "tests/harness.h"
#include "sim/cache.h"

#include <stdlib.h>
#include <string.h>

/* ---- the reference: each level a flat array of sets of 64-bit tags, most recent first, tag 0 an empty way ---- */

struct ref_level {
	uint64_t *tags;
	uint32_t sets, ways;
};

struct ref {
	struct ref_level l[3];
};

static void ref_level_init(struct ref_level *l, uint64_t lines, uint32_t ways)
{
	memset(l, 0, sizeof(*l));
	if (!lines || !ways || lines < ways)
		return;
	l->ways = ways;
	l->sets = (uint32_t)(lines / ways);
	l->tags = calloc(lines, sizeof(uint64_t));
}

/* The geometry cache.h documents: L1, L2, and the L3 divided among the CCX's cores in whole sets. */
static void ref_init(struct ref *r, const struct machine *m)
{
	ref_level_init(&r->l[0], (uint64_t)m->cache_l1_kib * 16, m->cache_l1_ways);
	ref_level_init(&r->l[1], (uint64_t)m->cache_l2_kib * 16, m->cache_l2_ways);
	uint64_t share = (uint64_t)m->cache_l3_kib * 16 / m->cores_per_ccx;
	ref_level_init(&r->l[2], share / m->cache_l3_ways * m->cache_l3_ways, m->cache_l3_ways);
}

static void ref_fini(struct ref *r)
{
	for (int i = 0; i < 3; i++)
		free(r->l[i].tags);
}

/* One level: the set by the model's multiplicative hash, then LRU by moving the found (or last) way to the front. */
static bool ref_level_touch(struct ref_level *l, uint64_t tag)
{
	uint64_t *s = l->tags + ((tag * 0x9e3779b97f4a7c15ull) >> 32) % l->sets * l->ways;
	uint32_t i = 0;
	while (i < l->ways && s[i] != tag)
		i++;
	bool hit = i < l->ways;
	if (!hit)
		i = l->ways - 1;
	memmove(s + 1, s, sizeof(uint64_t) * i);
	s[0] = tag;
	return hit;
}

static enum cache_where ref_touch(struct ref *r, uint64_t tag)
{
	for (int i = 0; i < 3; i++)
		if (r->l[i].sets && ref_level_touch(&r->l[i], tag))
			return (enum cache_where)(i + 1);
	return CACHE_MEM;
}

/* ---- tag streams ---- */

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A tag of every kind cache_code sorts: data lines below and above 2^25 frames, host lines of each level in and out of range, other bits. */
static uint64_t any_tag(uint32_t k)
{
	switch (k % 8) {
	case 0:
	case 1:
	case 2:
		return CACHE_TAG_DATA(k / 8 % 4096, (uint64_t)(k / 8 / 4096) << 6);
	case 3:
		return CACHE_TAG_DATA((1ull << 25) - 2 + k / 8 % 4, (uint64_t)(k / 32) << 6); /* either side of the direct range */
	case 4:
		return CACHE_TAG_HOST(1, (1u << 29) - 64 + k / 8 % 128); /* either side of level 1's range */
	case 5:
		return CACHE_TAG_HOST(2 + k / 8 % 3, (1u << 21) - 32 + k / 24 % 64); /* levels 2-4, either side */
	case 6:
		return CACHE_TAG_HOST(5 + k / 8 % 2, k / 16); /* a level the host never has */
	default:
		return 0x1000 + k; /* neither kind */
	}
}

/* Touch `n` tags drawn from a pool of `pool` (each an any_tag), skewed to a hot eighth; the model must answer as the reference at each. */
static void compare(const struct machine *m, uint32_t pool, uint32_t n)
{
	struct cache ch;
	struct ref r;
	cache_init(&ch, m);
	ref_init(&r, m);
	ck_assert(ch.on);
	uint32_t seen[CACHE_MEM + 1] = { 0 };
	for (uint32_t i = 0; i < n; i++) {
		uint64_t x = next();
		uint32_t k = (uint32_t)(x >> 8) % (x & 1 ? pool : pool / 8 + 1);
		uint64_t tag = any_tag(k);
		enum cache_where want = ref_touch(&r, tag), got = cache_touch(&ch, tag);
		ck_assert_msg(got == want, "touch %u (tag %#llx): model says %d, reference %d", i, (unsigned long long)tag,
			      got, want);
		seen[want]++;
	}
	/* the stream reached every level, so each level's replacement was compared */
	for (int w = CACHE_L1; w <= CACHE_MEM; w++)
		ck_assert_msg(seen[w] > 0, "no touch answered at level %d", w);
	cache_fini(&ch);
	ref_fini(&r);
}

/* A machine with only the keys cache_init reads. */
static struct machine geometry(uint32_t l1, uint32_t w1, uint32_t l2, uint32_t w2, uint32_t l3, uint32_t w3, uint32_t ccx)
{
	struct machine m;
	memset(&m, 0, sizeof(m));
	m.cache_l1_kib = l1, m.cache_l1_ways = w1;
	m.cache_l2_kib = l2, m.cache_l2_ways = w2;
	m.cache_l3_kib = l3, m.cache_l3_ways = w3;
	m.cores_per_ccx = ccx;
	return m;
}

START_TEST(same_as_reference_small)
{
	/* 8 x 2-way L1, 16 x 2-way L2 (dense), 96 x 3-way L3 share: evictions everywhere */
	struct machine m = geometry(1, 2, 2, 2, 18, 3, 1);
	compare(&m, 2000, 200000);
}
END_TEST

START_TEST(same_as_reference_grouped)
{
	/* L2 and L3 in groups: 1,088 lines in 64 x 17-way sets, an L3 share of 32 x 64-way sets */
	struct machine m = geometry(2, 4, 68, 17, 256, 64, 2);
	compare(&m, 6000, 300000);
	/* a direct-mapped L1, and an L2 whose 340 x 12-way sets are no multiple of CACHE_GROUP */
	m = geometry(1, 1, 255, 12, 4096, 16, 8);
	compare(&m, 12000, 300000);
}
END_TEST

START_TEST(same_as_reference_presets)
{
	for (const char *const *p = machine_preset_names(); *p; p++) {
		struct machine m;
		char err[256];
		ck_assert(machine_load(&m, *p, err, sizeof(err)) == 0);
		/* a pool well past each L2: L2 and L3 share hits and misses */
		compare(&m, 1u << 16, 120000);
	}
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

START_TEST(codes_injective)
{
	struct cache ch;
	struct machine m = geometry(1, 2, 2, 2, 8, 2, 1);
	cache_init(&ch, &m);
	enum { N = 1 << 16 };
	uint64_t *tag = malloc(sizeof(uint64_t) * N), *code = malloc(sizeof(uint64_t) * N);
	for (uint32_t k = 0; k < N; k++)
		tag[k] = any_tag(k);
	qsort(tag, N, sizeof(uint64_t), cmp_u64);
	uint32_t n = 0;
	for (uint32_t k = 0; k < N; k++)
		if (!n || tag[k] != tag[n - 1])
			tag[n++] = tag[k];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = cache_code(&ch, tag[i]);
		ck_assert_msg(c != 0, "tag %#llx got code 0 (an empty way)", (unsigned long long)tag[i]);
		code[i] = (uint64_t)c << 32 | i;
	}
	/* the same tag keeps its code */
	for (uint32_t i = 0; i < n; i += 97)
		ck_assert_uint_eq(cache_code(&ch, tag[i]), code[i] >> 32);
	/* distinct tags, distinct codes: sort the codes, look at neighbours */
	qsort(code, n, sizeof(uint64_t), cmp_u64);
	for (uint32_t i = 1; i < n; i++)
		ck_assert_msg(code[i] >> 32 != code[i - 1] >> 32, "tags %#llx and %#llx share code %#x",
			      (unsigned long long)tag[(uint32_t)code[i]], (unsigned long long)tag[(uint32_t)code[i - 1]],
			      (unsigned)(code[i] >> 32));
	/* the tags outside the direct ranges were interned; the last ones inside were not */
	ck_assert_uint_gt(ch.in.n, 0);
	uint32_t before = ch.in.n;
	cache_code(&ch, CACHE_TAG_DATA((1u << 25) - 1, 63 << 6));
	cache_code(&ch, CACHE_TAG_HOST(1, (1u << 29) - 1));
	cache_code(&ch, CACHE_TAG_HOST(4, (1u << 21) - 1));
	ck_assert_uint_eq(ch.in.n, before);
	free(tag);
	free(code);
	cache_fini(&ch);
}
END_TEST

/* The groups of a grouped level whose code array exists. */
static uint32_t groups_made(const struct cache_level *l)
{
	uint32_t n = 0;
	for (uint32_t g = 0; g < (l->sets + CACHE_GROUP - 1) / CACHE_GROUP; g++)
		n += l->grp[g].code != NULL;
	return n;
}

START_TEST(groups_made_on_first_use)
{
	struct machine m;
	char err[256];
	ck_assert(machine_load(&m, "epyc9965", err, sizeof(err)) == 0);
	struct cache ch;
	cache_init(&ch, &m);
	/* the L1 fills at once: one dense array; L2 and L3 are grouped, nothing made yet */
	ck_assert_ptr_nonnull(ch.l[0].dense);
	ck_assert_ptr_null(ch.l[1].dense);
	ck_assert_ptr_null(ch.l[2].dense);
	ck_assert_uint_eq(groups_made(&ch.l[1]), 0);
	ck_assert_uint_eq(groups_made(&ch.l[2]), 0);
	/* k distinct lines make at most k groups in each level, and keep at most k codes */
	for (uint32_t k = 1; k <= 40; k++) {
		ck_assert_int_eq(cache_touch(&ch, CACHE_TAG_DATA(k, 0)), CACHE_MEM);
		for (int i = 1; i < 3; i++) {
			uint32_t made = groups_made(&ch.l[i]), kept = 0;
			ck_assert_uint_le(made, k);
			for (uint32_t g = 0; g < (ch.l[i].sets + CACHE_GROUP - 1) / CACHE_GROUP; g++)
				kept += ch.l[i].grp[g].total;
			ck_assert_uint_eq(kept, k);
		}
	}
	ck_assert_int_eq(cache_touch(&ch, CACHE_TAG_DATA(1, 0)), CACHE_L1);
	cache_fini(&ch);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("t24_cache");
	TCase *tc = tcase_create("cache");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, same_as_reference_small);
	tcase_add_test(tc, same_as_reference_grouped);
	tcase_add_test(tc, same_as_reference_presets);
	tcase_add_test(tc, codes_injective);
	tcase_add_test(tc, groups_made_on_first_use);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
