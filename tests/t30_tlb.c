/* t30_tlb.c: the TLB arrays alone: hits, LRU eviction per geometry, the fully associative hash index against a reference model, PCIDs and INVLPG. */
#include "tests/harness.h"

#include <string.h>

static struct machine M;

#define KB4 (1ull << 12)
#define MB2 (1ull << 21)
#define GB1 (1ull << 30)

/* The current generation of `pcid` in t. */
static inline uint32_t gen_of(const struct tlb *t, uint16_t pcid) { return *tlb_gen(t, pcid); }

static bool has(struct tlb *t, struct tlb_array *a, uint64_t va, enum pg_size sz, uint16_t pcid)
{
	return tlb_find(a, va, sz, pcid, gen_of(t, pcid)) != NULL;
}

/* The test machine with the L1D 4K array replaced by `entries` x `ways`. */
static void machine_with_l1d(struct machine *m, uint32_t entries, uint32_t ways)
{
	*m = M;
	m->l1d_4k.entries = entries;
	m->l1d_4k.ways = ways;
}

/* ---- geometry as loaded ---- */

START_TEST(geometry_of_test_machine)
{
	struct tlb t;
	tlb_init(&t, &M);
	ck_assert_uint_eq(t.l1d[PG_4K]->sets, 4);
	ck_assert_uint_eq(t.l1d[PG_4K]->ways, 2);
	ck_assert_uint_eq(t.l1d[PG_2M]->sets, 1);
	ck_assert_uint_eq(t.l1d[PG_2M]->ways, 4);
	ck_assert_uint_eq(t.l1d[PG_1G]->sets, 1);
	ck_assert_uint_eq(t.l1d[PG_1G]->ways, 2);
	ck_assert_uint_eq(t.l1i[PG_4K]->sets, 1);
	ck_assert_uint_eq(t.l1i[PG_4K]->ways, 4);
	ck_assert_uint_eq(t.l2[PG_4K]->sets, 8);
	ck_assert_uint_eq(t.l2[PG_4K]->ways, 4);
	ck_assert_ptr_eq(t.l2[PG_4K], t.l2[PG_2M]);
	ck_assert_ptr_nonnull(t.l2[PG_1G]);
	ck_assert_ptr_ne(t.l2[PG_1G], t.l2[PG_4K]);
	ck_assert_ptr_null(t.l1i[PG_1G]);
	/* Small arrays are scanned; no hash index. */
	ck_assert_ptr_null(t.l1d[PG_4K]->hidx);
	ck_assert_ptr_null(t.l2[PG_4K]->hidx);
	tlb_destroy(&t);
}
END_TEST

/* ---- hits and misses ---- */

START_TEST(hit_and_miss)
{
	struct tlb t;
	tlb_init(&t, &M);
	struct tlb_array *a = t.l1d[PG_4K];
	uint64_t va = 0x7f0000123000ull;
	ck_assert(!has(&t, a, va, PG_4K, 1));
	tlb_fill(&t, a, va, PG_4K, 1, 4242, ALLOW_R | ALLOW_X);
	struct tlb_entry *e = tlb_find(a, va, PG_4K, 1, gen_of(&t, 1));
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->pfn, 4242);
	ck_assert_uint_eq(e->allow, ALLOW_R | ALLOW_X);
	ck_assert_uint_eq(e->size, PG_4K);
	ck_assert_uint_eq(e->pcid, 1);
	/* Any offset inside the page hits; the next page misses; so does another size class. */
	ck_assert(has(&t, a, va + 0xfff, PG_4K, 1));
	ck_assert(!has(&t, a, va + KB4, PG_4K, 1));
	ck_assert(!has(&t, a, va - 1, PG_4K, 1));
	ck_assert(!has(&t, a, va, PG_2M, 1));
	/* A stale generation misses. */
	ck_assert_ptr_null(tlb_find(a, va, PG_4K, 1, gen_of(&t, 1) + 1));
	/* Refilling the same page updates in place: still one live entry. */
	tlb_fill(&t, a, va, PG_4K, 1, 777, ALLOW_R | ALLOW_RW | ALLOW_W);
	e = tlb_find(a, va, PG_4K, 1, gen_of(&t, 1));
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->pfn, 777);
	ck_assert_uint_eq(e->allow, ALLOW_R | ALLOW_RW | ALLOW_W);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 1);
	/* Filling a NULL or absent array is a no-op. */
	tlb_fill(&t, NULL, va, PG_1G, 1, 1, ALLOW_R);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 1);
	tlb_destroy(&t);
}
END_TEST

START_TEST(sizes_hit_whole_page)
{
	struct tlb t;
	tlb_init(&t, &M);
	uint64_t b2 = 5 * MB2, b1 = 3 * GB1;
	tlb_fill(&t, t.l1d[PG_2M], b2, PG_2M, 1, 512 * 9, ALLOW_R);
	tlb_fill(&t, t.l1d[PG_1G], b1, PG_1G, 1, 262144, ALLOW_R);
	ck_assert(has(&t, t.l1d[PG_2M], b2, PG_2M, 1));
	ck_assert(has(&t, t.l1d[PG_2M], b2 + MB2 - 1, PG_2M, 1));
	ck_assert(has(&t, t.l1d[PG_2M], b2 + 0x12345, PG_2M, 1));
	ck_assert(!has(&t, t.l1d[PG_2M], b2 + MB2, PG_2M, 1));
	ck_assert(!has(&t, t.l1d[PG_2M], b2 - 1, PG_2M, 1));
	ck_assert(has(&t, t.l1d[PG_1G], b1 + GB1 - 1, PG_1G, 1));
	ck_assert(has(&t, t.l1d[PG_1G], b1 + 0x1234567, PG_1G, 1));
	ck_assert(!has(&t, t.l1d[PG_1G], b1 + GB1, PG_1G, 1));
	tlb_destroy(&t);
}
END_TEST

/* ---- LRU capacity eviction ---- */

/*
 * Fill ways+1 pages of set 0 of `a` (stride: sets pages) in order 0..ways,
 * touching page `touch` (if >= 0) just before the last fill. The victim is
 * page `touch == 0 ? 1 : 0`; every other one must stay.
 */
static void lru_case(struct tlb *t, struct tlb_array *a, enum pg_size sz, int touch)
{
	uint64_t stride = (uint64_t)a->sets * PG_BYTES(sz);
	uint32_t w = a->ways;
	for (uint32_t i = 0; i < w; i++)
		tlb_fill(t, a, (i + 1) * stride, sz, 1, 100 + i, ALLOW_R);
	for (uint32_t i = 0; i < w; i++)
		ck_assert_msg(has(t, a, (i + 1) * stride, sz, 1), "%s: page %u missing before eviction", a->name,
			      i);
	/* The checks above touched pages 0..w-1 in order: LRU order is unchanged. */
	if (touch >= 0)
		ck_assert(has(t, a, (uint64_t)(touch + 1) * stride, sz, 1));
	tlb_fill(t, a, (w + 1) * stride, sz, 1, 100 + w, ALLOW_R);
	uint32_t victim = touch == 0 ? 1 : 0;
	for (uint32_t i = 0; i <= w; i++) {
		struct tlb_entry *e = tlb_find(a, (i + 1) * stride, sz, 1, gen_of(t, 1));
		if (i == victim) {
			ck_assert_msg(e == NULL, "%s: page %u should have been evicted", a->name, i);
		} else {
			ck_assert_msg(e != NULL, "%s: page %u should remain", a->name, i);
			ck_assert_uint_eq(e->pfn, 100 + i);
		}
	}
	ck_assert_uint_eq(tlb_count_live(t, 1), w);
}

START_TEST(lru_l1d_4k_2way)
{
	struct tlb t;
	tlb_init(&t, &M);
	lru_case(&t, t.l1d[PG_4K], PG_4K, -1);
	tlb_destroy(&t);
	tlb_init(&t, &M);
	lru_case(&t, t.l1d[PG_4K], PG_4K, 0);
	tlb_destroy(&t);
}
END_TEST

START_TEST(lru_l1d_4k_sets_independent)
{
	/* Pages of different sets do not evict each other: 4 sets x 2 ways hold 8 pages. */
	struct tlb t;
	tlb_init(&t, &M);
	struct tlb_array *a = t.l1d[PG_4K];
	for (uint64_t p = 0; p < 8; p++)
		tlb_fill(&t, a, p * KB4, PG_4K, 1, p + 1, ALLOW_R);
	for (uint64_t p = 0; p < 8; p++)
		ck_assert(has(&t, a, p * KB4, PG_4K, 1));
	ck_assert_uint_eq(tlb_count_live(&t, 1), 8);
	/* A ninth page (set 0) evicts page 0, the LRU of set 0, and nothing else. */
	tlb_fill(&t, a, 8 * KB4, PG_4K, 1, 9, ALLOW_R);
	ck_assert(!has(&t, a, 0, PG_4K, 1));
	for (uint64_t p = 1; p <= 8; p++)
		ck_assert(has(&t, a, p * KB4, PG_4K, 1));
	tlb_destroy(&t);
}
END_TEST

START_TEST(lru_stlb_4way)
{
	struct tlb t;
	for (int touch = -1; touch < 4; touch++) {
		tlb_init(&t, &M);
		lru_case(&t, t.l2[PG_4K], PG_4K, touch);
		tlb_destroy(&t);
	}
	/* 2 MiB pages in the STLB follow the same rule (set index from va >> 21). */
	tlb_init(&t, &M);
	lru_case(&t, t.l2[PG_2M], PG_2M, 2);
	tlb_destroy(&t);
}
END_TEST

START_TEST(lru_l1d_2m_1g)
{
	struct tlb t;
	tlb_init(&t, &M);
	lru_case(&t, t.l1d[PG_2M], PG_2M, 3);
	tlb_destroy(&t);
	tlb_init(&t, &M);
	lru_case(&t, t.l1d[PG_1G], PG_1G, 0);
	tlb_destroy(&t);
}
END_TEST

START_TEST(lru_fully_associative_scanned)
{
	/* 8 entries x 8 ways: one set, below TLB_SCAN_WAYS, so scanned without a hash index. */
	struct machine m;
	machine_with_l1d(&m, 8, 8);
	struct tlb t;
	for (int touch = -1; touch < 8; touch += 3) {
		tlb_init(&t, &m);
		ck_assert_uint_eq(t.l1d[PG_4K]->sets, 1);
		ck_assert_ptr_null(t.l1d[PG_4K]->hidx);
		lru_case(&t, t.l1d[PG_4K], PG_4K, touch);
		tlb_destroy(&t);
	}
}
END_TEST

START_TEST(lru_fully_associative_hashed)
{
	/* 64 x 64: above TLB_SCAN_WAYS, so looked up through the hash index. */
	struct machine m;
	machine_with_l1d(&m, 64, 64);
	struct tlb t;
	for (int touch = -1; touch < 64; touch += 21) {
		tlb_init(&t, &m);
		ck_assert_uint_eq(t.l1d[PG_4K]->sets, 1);
		ck_assert_ptr_nonnull(t.l1d[PG_4K]->hidx);
		lru_case(&t, t.l1d[PG_4K], PG_4K, touch);
		tlb_destroy(&t);
	}
}
END_TEST

/* ---- fully associative array against a reference LRU model ---- */

#define REF_CAP 64
#define REF_POOL 160

struct ref_ent {
	bool present;
	uint64_t lru;
	uint64_t pfn;
};

struct ref {
	struct ref_ent e[2][REF_POOL]; /* by pcid index (pcid 1 or 2), page index */
	uint32_t n;
	uint64_t stamp;
};

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Pool pages spread over the address space, so the hash index sees varied tags and collisions. */
static uint64_t pool_va[REF_POOL];

static void ref_fill(struct ref *r, int p, int i, uint64_t pfn)
{
	struct ref_ent *x = &r->e[p][i];
	if (!x->present) {
		if (r->n == REF_CAP) {
			struct ref_ent *v = NULL;
			for (int q = 0; q < 2; q++)
				for (int j = 0; j < REF_POOL; j++)
					if (r->e[q][j].present && (!v || r->e[q][j].lru < v->lru))
						v = &r->e[q][j];
			v->present = false;
			r->n--;
		}
		x->present = true;
		r->n++;
	}
	x->pfn = pfn;
	x->lru = ++r->stamp;
}

static bool ref_find(struct ref *r, int p, int i, uint64_t *pfn)
{
	struct ref_ent *x = &r->e[p][i];
	if (!x->present)
		return false;
	x->lru = ++r->stamp;
	*pfn = x->pfn;
	return true;
}

static void ref_drop_pcid(struct ref *r, int p)
{
	for (int j = 0; j < REF_POOL; j++)
		if (r->e[p][j].present) {
			r->e[p][j].present = false;
			r->n--;
		}
}

static uint32_t ref_count(const struct ref *r, int p)
{
	uint32_t n = 0;
	for (int j = 0; j < REF_POOL; j++)
		n += r->e[p][j].present;
	return n;
}

START_TEST(fully_associative_vs_reference)
{
	struct machine m;
	machine_with_l1d(&m, REF_CAP, REF_CAP);
	struct tlb t;
	tlb_init(&t, &m);
	struct tlb_array *a = t.l1d[PG_4K];
	ck_assert_ptr_nonnull(a->hidx);
	static struct ref r;
	memset(&r, 0, sizeof(r));
	rng_state = 0x243F6A8885A308D3ull;
	for (int i = 0; i < REF_POOL; i++) {
		/* Half clustered (neighbouring pages), half scattered over 47 bits. */
		pool_va[i] = i < REF_POOL / 2 ? 0x10000000ull + (uint64_t)i * KB4
					      : (rng() & ((1ull << 47) - 1)) & ~(KB4 - 1);
		for (int j = 0; j < i; j++)
			if (pool_va[j] == pool_va[i]) {
				pool_va[i] += KB4 * 977;
				j = -1; /* recheck against all */
			}
	}
	uint64_t nfill = 0, nfind = 0, ninv = 0, nhit = 0;
	for (int step = 0; step < 40000; step++) {
		int p = (int)(rng() % 2), i = (int)(rng() % REF_POOL);
		uint16_t pcid = (uint16_t)(p + 1);
		uint64_t va = pool_va[i] + (rng() & (KB4 - 1));
		uint32_t op = (uint32_t)(rng() % 100);
		if (op < 45) {
			uint64_t pfn = rng() & 0xffffff;
			tlb_fill(&t, a, va, PG_4K, pcid, pfn, ALLOW_R);
			ref_fill(&r, p, i, pfn);
			nfill++;
		} else if (op < 85) {
			uint64_t want = 0;
			bool exp = ref_find(&r, p, i, &want);
			struct tlb_entry *e = tlb_find(a, va, PG_4K, pcid, gen_of(&t, pcid));
			ck_assert_msg((e != NULL) == exp, "step %d: find page %d pcid %u: tlb %d, model %d", step, i,
				      pcid, e != NULL, exp);
			if (e)
				ck_assert_uint_eq(e->pfn, want);
			nfind++;
			nhit += exp;
		} else if (op < 99) {
			uint32_t n = tlb_invlpg(&t, va, pcid);
			struct ref_ent *x = &r.e[p][i];
			ck_assert_uint_eq(n, x->present ? 1 : 0);
			if (x->present) {
				x->present = false;
				r.n--;
			}
			ninv++;
		} else {
			tlb_flush_pcid(&t, pcid);
			ref_drop_pcid(&r, p);
		}
		if (step % 997 == 0) {
			ck_assert_uint_eq(tlb_count_live(&t, 1), ref_count(&r, 0));
			ck_assert_uint_eq(tlb_count_live(&t, 2), ref_count(&r, 1));
			/* Full sweep: every pool page, both PCIDs (both sides refresh LRU alike). */
			for (int q = 0; q < 2; q++)
				for (int j = 0; j < REF_POOL; j++) {
					uint64_t want = 0;
					bool exp = ref_find(&r, q, j, &want);
					struct tlb_entry *e =
						tlb_find(a, pool_va[j], PG_4K, (uint16_t)(q + 1), gen_of(&t, (uint16_t)(q + 1)));
					ck_assert_msg((e != NULL) == exp, "step %d sweep: page %d pcid %d", step, j, q + 1);
					if (e)
						ck_assert_uint_eq(e->pfn, want);
				}
		}
	}
	/* The sequence must have exercised every path. */
	ck_assert_uint_gt(nfill, 10000);
	ck_assert_uint_gt(nfind, 10000);
	ck_assert_uint_gt(ninv, 3000);
	ck_assert_uint_gt(nhit, 1000);
	ck_assert_uint_lt(nhit, nfind);
	/* The hash index holds exactly one slot per entry with a tag. */
	uint32_t tagged = 0, indexed = 0;
	for (uint32_t j = 0; j < a->sets * a->ways; j++)
		tagged += a->e[j].tag != 0;
	for (uint32_t h = 0; h <= a->hmask; h++)
		indexed += a->hidx[h] != 0;
	ck_assert_uint_eq(indexed, tagged);
	tlb_destroy(&t);
}
END_TEST

/* Pages (from `from` up) whose tags have hash-index home `home` in array a (PCID 1). */
static uint32_t pages_with_home(const struct tlb_array *a, uint32_t home, uint64_t from, uint64_t *out, uint32_t n)
{
	uint32_t k = 0;
	for (uint64_t p = from; k < n; p++)
		if ((tlb_hash(tlb_tag(p * KB4, PG_4K, 1)) & a->hmask) == home)
			out[k++] = p * KB4;
	return k;
}

START_TEST(hash_index_wraparound)
{
	/*
	 * Probe chains that wrap past the end of the hash index: four tags whose
	 * home is the last slot, two whose home is slot 0, one whose home is
	 * slot 1. They sit in slots last, 0, 1, ... Deleting any one of them (and
	 * then the others, in every rotation) must leave the rest findable.
	 */
	struct machine m;
	machine_with_l1d(&m, 64, 64);
	struct tlb t;
	tlb_init(&t, &m);
	uint32_t last = t.l1d[PG_4K]->hmask;
	uint64_t va[7];
	pages_with_home(t.l1d[PG_4K], last, 1, va, 4);
	pages_with_home(t.l1d[PG_4K], 0, 1, va + 4, 2);
	pages_with_home(t.l1d[PG_4K], 1, 1, va + 6, 1);
	tlb_destroy(&t);
	for (int first = 0; first < 7; first++) {
		tlb_init(&t, &m);
		struct tlb_array *a = t.l1d[PG_4K];
		for (int i = 0; i < 7; i++)
			tlb_fill(&t, a, va[i], PG_4K, 1, (uint64_t)i + 1, ALLOW_R);
		/* The chain really wraps: slot 0 holds one of the last slot's tags. */
		ck_assert_uint_ne(a->hidx[0], 0);
		ck_assert_uint_eq(tlb_hash(a->e[TLB_HIDX_SLOT(a->hidx[0])].tag) & a->hmask, last);
		bool gone[7] = { false };
		for (int r = 0; r < 7; r++) {
			int d = (first + r * 3) % 7; /* 3 is coprime with 7: every index once */
			ck_assert_uint_eq(tlb_invlpg(&t, va[d], 1), 1);
			gone[d] = true;
			for (int i = 0; i < 7; i++) {
				struct tlb_entry *e = tlb_find(a, va[i], PG_4K, 1, gen_of(&t, 1));
				if (gone[i])
					ck_assert_msg(e == NULL, "first %d: page %d found after its INVLPG", first, i);
				else
					ck_assert_msg(e && e->pfn == (uint64_t)i + 1,
						      "first %d, round %d: page %d lost after deleting %d", first, r, i, d);
			}
		}
		for (uint32_t h = 0; h <= a->hmask; h++)
			ck_assert_uint_eq(a->hidx[h], 0);
		tlb_destroy(&t);
	}
}
END_TEST

/* ---- PCIDs and flushes ---- */

START_TEST(pcid_isolation)
{
	struct tlb t;
	tlb_init(&t, &M);
	struct tlb_array *a = t.l1d[PG_4K];
	uint64_t va = 0x400000;
	tlb_fill(&t, a, va, PG_4K, 1, 11, ALLOW_R);
	ck_assert(has(&t, a, va, PG_4K, 1));
	ck_assert(!has(&t, a, va, PG_4K, 2));
	ck_assert(!has(&t, a, va, PG_4K, 0));
	/* The same page under PCID 2 is a separate entry with its own frame. */
	tlb_fill(&t, a, va, PG_4K, 2, 22, ALLOW_R);
	ck_assert_uint_eq(tlb_find(a, va, PG_4K, 1, gen_of(&t, 1))->pfn, 11);
	ck_assert_uint_eq(tlb_find(a, va, PG_4K, 2, gen_of(&t, 2))->pfn, 22);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 1);
	ck_assert_uint_eq(tlb_count_live(&t, 2), 1);
	/* INVLPG in PCID 2 leaves PCID 1's entry. */
	ck_assert_uint_eq(tlb_invlpg(&t, va, 2), 1);
	ck_assert(has(&t, a, va, PG_4K, 1));
	ck_assert(!has(&t, a, va, PG_4K, 2));
	tlb_destroy(&t);
}
END_TEST

START_TEST(flush_pcid_and_all)
{
	struct tlb t;
	tlb_init(&t, &M);
	/* Entries of PCIDs 1 and 2 in several arrays. */
	for (uint64_t p = 0; p < 3; p++) {
		tlb_fill(&t, t.l1d[PG_4K], p * KB4, PG_4K, 1, p + 1, ALLOW_R);
		tlb_fill(&t, t.l2[PG_4K], p * KB4, PG_4K, 1, p + 1, ALLOW_R);
		tlb_fill(&t, t.l1d[PG_4K], (p + 8) * KB4, PG_4K, 2, p + 1, ALLOW_R);
	}
	tlb_fill(&t, t.l1d[PG_2M], 7 * MB2, PG_2M, 1, 512, ALLOW_R);
	tlb_fill(&t, t.l2[PG_1G], 2 * GB1, PG_1G, 2, 262144, ALLOW_R);
	tlb_fill(&t, t.l1i[PG_4K], 0x1000, PG_4K, 3, 5, ALLOW_X);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 7);
	ck_assert_uint_eq(tlb_count_live(&t, 2), 4);
	ck_assert_uint_eq(tlb_count_live(&t, 3), 1);

	tlb_flush_pcid(&t, 1);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 0);
	ck_assert_uint_eq(tlb_count_live(&t, 2), 4);
	ck_assert_uint_eq(tlb_count_live(&t, 3), 1);
	ck_assert(!has(&t, t.l1d[PG_4K], 0, PG_4K, 1));
	ck_assert(!has(&t, t.l1d[PG_2M], 7 * MB2, PG_2M, 1));
	ck_assert(has(&t, t.l1d[PG_4K], 8 * KB4, PG_4K, 2));
	ck_assert(has(&t, t.l2[PG_1G], 2 * GB1, PG_1G, 2));

	/* A flushed PCID can be refilled; the stale entry does not come back. */
	tlb_fill(&t, t.l1d[PG_4K], 0, PG_4K, 1, 99, ALLOW_R);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 1);
	ck_assert_uint_eq(tlb_find(t.l1d[PG_4K], 0, PG_4K, 1, gen_of(&t, 1))->pfn, 99);
	ck_assert(!has(&t, t.l1d[PG_4K], KB4, PG_4K, 1));

	tlb_flush_all(&t);
	for (uint16_t p = 0; p < 4; p++)
		ck_assert_uint_eq(tlb_count_live(&t, p), 0);
	ck_assert(!has(&t, t.l1d[PG_4K], 8 * KB4, PG_4K, 2));
	ck_assert(!has(&t, t.l2[PG_1G], 2 * GB1, PG_1G, 2));
	ck_assert(!has(&t, t.l1i[PG_4K], 0x1000, PG_4K, 3));
	/* Usable after a full flush. */
	tlb_fill(&t, t.l1d[PG_4K], 0, PG_4K, 2, 1, ALLOW_R);
	ck_assert_uint_eq(tlb_count_live(&t, 2), 1);
	tlb_destroy(&t);
}
END_TEST

START_TEST(flush_pcid_hashed)
{
	/* The O(1) flush on a hash-indexed array: stale entries are replaced and refilled correctly. */
	struct machine m;
	machine_with_l1d(&m, 64, 64);
	struct tlb t;
	tlb_init(&t, &m);
	struct tlb_array *a = t.l1d[PG_4K];
	for (uint64_t p = 0; p < 40; p++)
		tlb_fill(&t, a, p * KB4, PG_4K, 1, p + 1, ALLOW_R);
	for (uint64_t p = 0; p < 20; p++)
		tlb_fill(&t, a, p * KB4, PG_4K, 2, p + 1, ALLOW_R);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 40);
	ck_assert_uint_eq(tlb_count_live(&t, 2), 20);
	tlb_flush_pcid(&t, 1);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 0);
	ck_assert_uint_eq(tlb_count_live(&t, 2), 20);
	/* 44 new PCID-2 pages fit by reusing the 40 dead slots plus the 4 free ones: nothing live is evicted. */
	for (uint64_t p = 100; p < 144; p++)
		tlb_fill(&t, a, p * KB4, PG_4K, 2, p, ALLOW_R);
	ck_assert_uint_eq(tlb_count_live(&t, 2), 64);
	for (uint64_t p = 0; p < 20; p++)
		ck_assert(has(&t, a, p * KB4, PG_4K, 2));
	for (uint64_t p = 100; p < 144; p++)
		ck_assert(has(&t, a, p * KB4, PG_4K, 2));
	for (uint64_t p = 0; p < 40; p++)
		ck_assert(!has(&t, a, p * KB4, PG_4K, 1));
	tlb_destroy(&t);
}
END_TEST

/* ---- INVLPG ---- */

/* Fill one page of each size, in L1 and STLB as the walker does, plus neighbours. */
static void fill_all_sizes(struct tlb *t, uint64_t b4, uint64_t b2, uint64_t b1)
{
	tlb_fill(t, t->l1d[PG_4K], b4, PG_4K, 1, 1, ALLOW_R);
	tlb_fill(t, t->l2[PG_4K], b4, PG_4K, 1, 1, ALLOW_R);
	tlb_fill(t, t->l1d[PG_4K], b4 + KB4, PG_4K, 1, 2, ALLOW_R); /* neighbour */
	tlb_fill(t, t->l2[PG_4K], b4 - KB4, PG_4K, 1, 3, ALLOW_R);  /* neighbour */
	tlb_fill(t, t->l1d[PG_2M], b2, PG_2M, 1, 512, ALLOW_R);
	tlb_fill(t, t->l2[PG_2M], b2, PG_2M, 1, 512, ALLOW_R);
	tlb_fill(t, t->l1d[PG_2M], b2 + MB2, PG_2M, 1, 1024, ALLOW_R); /* neighbour */
	tlb_fill(t, t->l1d[PG_1G], b1, PG_1G, 1, 262144, ALLOW_R);
	if (t->l2[PG_1G])
		tlb_fill(t, t->l2[PG_1G], b1, PG_1G, 1, 262144, ALLOW_R);
	tlb_fill(t, t->l1d[PG_1G], b1 + GB1, PG_1G, 1, 524288, ALLOW_R); /* neighbour */
}

static void check_invlpg_sizes(const struct machine *m)
{
	const uint64_t b4 = 0x12345000ull, b2 = 9 * MB2, b1 = 5 * GB1;
	struct tlb t;
	tlb_init(&t, m);
	fill_all_sizes(&t, b4, b2, b1);
	uint32_t live0 = tlb_count_live(&t, 1);
	ck_assert_uint_eq(live0, 10u - (t.l2[PG_1G] ? 0 : 1));

	/* 4 KiB: an address inside the page removes its L1 and STLB entries only. */
	ck_assert_uint_eq(tlb_invlpg(&t, b4 + 0x7ff, 1), 2);
	ck_assert(!has(&t, t.l1d[PG_4K], b4, PG_4K, 1));
	ck_assert(!has(&t, t.l2[PG_4K], b4, PG_4K, 1));
	ck_assert(has(&t, t.l1d[PG_4K], b4 + KB4, PG_4K, 1));
	ck_assert(has(&t, t.l2[PG_4K], b4 - KB4, PG_4K, 1));
	ck_assert_uint_eq(tlb_count_live(&t, 1), live0 - 2);
	/* Again: nothing left to drop. */
	ck_assert_uint_eq(tlb_invlpg(&t, b4, 1), 0);

	/* 2 MiB: any address inside it (not only its base) removes it. */
	ck_assert_uint_eq(tlb_invlpg(&t, b2 + 0x1ff000 + 0x123, 1), 2);
	ck_assert(!has(&t, t.l1d[PG_2M], b2, PG_2M, 1));
	ck_assert(!has(&t, t.l2[PG_2M], b2, PG_2M, 1));
	ck_assert(has(&t, t.l1d[PG_2M], b2 + MB2, PG_2M, 1));
	ck_assert_uint_eq(tlb_count_live(&t, 1), live0 - 4);

	/* 1 GiB: an address deep inside it. */
	ck_assert_uint_eq(tlb_invlpg(&t, b1 + 0x3ffff000 - 7 * MB2, 1), t.l2[PG_1G] ? 2 : 1);
	ck_assert(!has(&t, t.l1d[PG_1G], b1, PG_1G, 1));
	if (t.l2[PG_1G])
		ck_assert(!has(&t, t.l2[PG_1G], b1, PG_1G, 1));
	ck_assert(has(&t, t.l1d[PG_1G], b1 + GB1, PG_1G, 1));
	ck_assert_uint_eq(tlb_count_live(&t, 1), live0 - 4 - (t.l2[PG_1G] ? 2 : 1));

	/* The neighbours are all still there, with their frames. */
	ck_assert_uint_eq(tlb_find(t.l1d[PG_4K], b4 + KB4, PG_4K, 1, gen_of(&t, 1))->pfn, 2);
	ck_assert_uint_eq(tlb_find(t.l2[PG_4K], b4 - KB4, PG_4K, 1, gen_of(&t, 1))->pfn, 3);
	ck_assert_uint_eq(tlb_find(t.l1d[PG_2M], b2 + MB2, PG_2M, 1, gen_of(&t, 1))->pfn, 1024);
	ck_assert_uint_eq(tlb_find(t.l1d[PG_1G], b1 + GB1, PG_1G, 1, gen_of(&t, 1))->pfn, 524288);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 4);
	tlb_destroy(&t);
}

START_TEST(invlpg_each_size)
{
	check_invlpg_sizes(&M);
}
END_TEST

START_TEST(invlpg_shared_arrays)
{
	/* 2 MiB and 1 GiB pages share the 4K L1D array; the STLB has no 1G part (1G pages smashed). */
	struct machine m = M;
	m.l1d_2m.entries = m.l1d_2m.ways = 0;
	m.l1d_1g.entries = m.l1d_1g.ways = 0;
	m.l1d_4k.entries = 16, m.l1d_4k.ways = 16; /* room for every entry of the test */
	m.l2_1g.entries = m.l2_1g.ways = 0;
	struct tlb t;
	tlb_init(&t, &m);
	ck_assert_ptr_eq(t.l1d[PG_2M], t.l1d[PG_4K]);
	ck_assert_ptr_eq(t.l1d[PG_1G], t.l1d[PG_4K]);
	ck_assert_ptr_null(t.l2[PG_1G]);
	tlb_destroy(&t);
	check_invlpg_sizes(&m);

	/* The 2-way shared array: a 2 MiB entry next to 4 KiB entries inside it. */
	m = M;
	m.l1d_2m.entries = m.l1d_2m.ways = 0;
	tlb_init(&t, &m);
	struct tlb_array *a = t.l1d[PG_4K];
	ck_assert_ptr_eq(t.l1d[PG_2M], a);
	uint64_t b2 = 3 * MB2;
	tlb_fill(&t, a, b2, PG_2M, 1, 512 * 3, ALLOW_R);
	tlb_fill(&t, a, b2 + 5 * KB4, PG_4K, 1, 7, ALLOW_R);    /* a 4 KiB page inside the 2 MiB one */
	tlb_fill(&t, a, b2 + MB2 + KB4, PG_4K, 1, 8, ALLOW_R);  /* a 4 KiB page in the next 2 MiB */
	ck_assert_uint_eq(tlb_count_live(&t, 1), 3);
	/* INVLPG of another address inside the 2 MiB page: drops the 2 MiB entry only. */
	ck_assert_uint_eq(tlb_invlpg(&t, b2 + 0x100000, 1), 1);
	ck_assert(!has(&t, a, b2, PG_2M, 1));
	ck_assert(has(&t, a, b2 + 5 * KB4, PG_4K, 1));
	ck_assert(has(&t, a, b2 + MB2 + KB4, PG_4K, 1));
	/* INVLPG of the 4 KiB page's address drops it. */
	ck_assert_uint_eq(tlb_invlpg(&t, b2 + 5 * KB4 + 8, 1), 1);
	ck_assert(!has(&t, a, b2 + 5 * KB4, PG_4K, 1));
	ck_assert_uint_eq(tlb_count_live(&t, 1), 1);
	tlb_destroy(&t);
}
END_TEST

START_TEST(invlpg_overlapping_sizes)
{
	/* A 4 KiB entry and a 2 MiB entry both covering va: one INVLPG removes both. */
	struct tlb t;
	tlb_init(&t, &M);
	uint64_t va = 6 * MB2 + 17 * KB4;
	tlb_fill(&t, t.l1d[PG_4K], va, PG_4K, 1, 1, ALLOW_R);
	tlb_fill(&t, t.l1d[PG_2M], va, PG_2M, 1, 512, ALLOW_R);
	tlb_fill(&t, t.l1d[PG_1G], va, PG_1G, 1, 262144, ALLOW_R);
	tlb_fill(&t, t.l1d[PG_4K], va + KB4, PG_4K, 1, 2, ALLOW_R);
	ck_assert_uint_eq(tlb_invlpg(&t, va, 1), 3);
	ck_assert_uint_eq(tlb_count_live(&t, 1), 1);
	ck_assert(has(&t, t.l1d[PG_4K], va + KB4, PG_4K, 1));
	tlb_destroy(&t);
}
END_TEST

START_TEST(invlpg_hashed)
{
	/* INVLPG on a hash-indexed array: the rest stay findable (backward-shift deletion). */
	struct machine m;
	machine_with_l1d(&m, 64, 64);
	struct tlb t;
	tlb_init(&t, &m);
	struct tlb_array *a = t.l1d[PG_4K];
	for (uint64_t p = 0; p < 64; p++)
		tlb_fill(&t, a, p * KB4 * 3, PG_4K, 1, p + 1, ALLOW_R);
	for (uint64_t p = 0; p < 64; p += 2)
		ck_assert_uint_eq(tlb_invlpg(&t, p * KB4 * 3, 1), 1);
	for (uint64_t p = 0; p < 64; p++) {
		struct tlb_entry *e = tlb_find(a, p * KB4 * 3, PG_4K, 1, gen_of(&t, 1));
		if (p % 2)
			ck_assert(e && e->pfn == p + 1);
		else
			ck_assert_ptr_null(e);
	}
	ck_assert_uint_eq(tlb_count_live(&t, 1), 32);
	tlb_destroy(&t);
}
END_TEST

/* ---- every preset ---- */

START_TEST(presets_set0_capacity)
{
	int n = 0;
	for (const char *const *p = machine_preset_names(); *p; p++, n++) {
		struct machine m;
		char err[256];
		ck_assert_msg(machine_load(&m, *p, err, sizeof(err)) == 0, "%s: %s", *p, err);
		struct tlb t;
		tlb_init(&t, &m);
		struct tlb_array *a = t.l1d[PG_4K];
		ck_assert_uint_eq(a->sets * a->ways, m.l1d_4k.entries);
		ck_assert_uint_eq(a->ways, m.l1d_4k.ways);
		uint32_t entries = m.l1d_4k.entries;
		uint64_t stride = (uint64_t)a->sets * KB4; /* sets is a power of two: every page lands in set 0 */
		for (uint32_t i = 0; i <= entries; i++)
			tlb_fill(&t, a, 0x100000000ull + i * stride, PG_4K, 5, i + 1, ALLOW_R);
		uint32_t found = 0;
		for (uint32_t i = 0; i <= entries; i++) {
			bool h = has(&t, a, 0x100000000ull + i * stride, PG_4K, 5);
			found += h;
			/* LRU: the most recent `ways` fills remain. */
			ck_assert_msg(h == (i > entries - a->ways), "%s: page %u of %u findable=%d", *p, i, entries, h);
		}
		ck_assert_msg(found == a->ways, "%s: %u of %u findable, expected %u ways", *p, found, entries + 1,
			      a->ways);
		ck_assert_uint_eq(tlb_count_live(&t, 5), a->ways);
		tlb_destroy(&t);
	}
	ck_assert_int_ge(n, 1);
}
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t30_tlb");
	TCase *tc = tcase_create("arrays");
	tcase_add_test(tc, geometry_of_test_machine);
	tcase_add_test(tc, hit_and_miss);
	tcase_add_test(tc, sizes_hit_whole_page);
	tcase_add_test(tc, lru_l1d_4k_2way);
	tcase_add_test(tc, lru_l1d_4k_sets_independent);
	tcase_add_test(tc, lru_stlb_4way);
	tcase_add_test(tc, lru_l1d_2m_1g);
	tcase_add_test(tc, lru_fully_associative_scanned);
	tcase_add_test(tc, lru_fully_associative_hashed);
	tcase_add_test(tc, fully_associative_vs_reference);
	tcase_add_test(tc, hash_index_wraparound);
	tcase_add_test(tc, pcid_isolation);
	tcase_add_test(tc, flush_pcid_and_all);
	tcase_add_test(tc, flush_pcid_hashed);
	tcase_add_test(tc, invlpg_each_size);
	tcase_add_test(tc, invlpg_shared_arrays);
	tcase_add_test(tc, invlpg_overlapping_sizes);
	tcase_add_test(tc, invlpg_hashed);
	tcase_add_test(tc, presets_set0_capacity);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
