/* t56_mtree.c: the linux design's maple tree (baseline_vma/mtree.c): its gap tracking stays sound, and its top-down gap search picks what the old linear search picked, over random inserts, erases and moved ends. */
#include "tests/harness.h"
#include "baseline_vma/mtree.h"
#include "kmm/rules.h"

#include <string.h>

#define P PAGE_SIZE

/* An entry: a range and its flags (VR_GROWSDOWN keeps a stack guard gap below it). */
struct ent {
	uint64_t start, end;
	uint32_t flags;
};

/* The tree's view of an entry (mtree.h: struct mt_ops). */
static uint64_t e_start(const void *e) { return ((const struct ent *)e)->start; }
static uint64_t e_end(const void *e) { return ((const struct ent *)e)->end; }
static const struct mt_ops ops = { e_start, e_end };

/* attr: e's attributes for vr_gap_top (NULL: none). */
static const struct vr_attr *attr(const struct ent *e, struct vr_attr *buf)
{
	if (!e)
		return NULL;
	*buf = (struct vr_attr){ .start = e->start, .end = e->end, .flags = e->flags };
	return buf;
}

struct want {
	uint64_t high, len;
};

/* fit: the test of one gap both searches make, as linux_topdown's (vr_gap_top below want's high). */
static uint64_t fit(void *arg, const void *below, const void *above)
{
	const struct want *w = arg;
	struct vr_attr ba, aa;
	return vr_gap_top(attr(below, &ba), attr(above, &aa), w->high, w->len);
}

/* linear: the search as baseline_vma/vma.c did it before gap tracking: gap by gap down from high, one mt_prev each. */
static uint64_t linear(struct mtree *t, uint64_t high, uint64_t len)
{
	struct want w = { high, len };
	const struct ent *above = mt_find(t, NULL, high - 1);
	const struct ent *below = mt_prev(t, NULL, above ? MIN(above->start, high) : high);
	for (;;) {
		uint64_t a = fit(&w, below, above);
		if (a || !below)
			return a;
		above = below;
		high = below->start;
		below = mt_prev(t, NULL, high);
	}
}

/* The test's own list of the entries, to pick one at random. */
struct set {
	struct mtree t;
	struct ent *e[4096];
	uint32_t n;
	uint64_t rng;
};

/* rnd: a number in [0, n) from s's generator (a 64-bit LCG: the same sequence everywhere). */
static uint64_t rnd(struct set *s, uint64_t n)
{
	s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (s->rng >> 33) % n;
}

/* set_new: an empty tree, its random numbers from seed. */
static struct set *set_new(uint64_t seed)
{
	struct set *s = xzalloc(sizeof(*s));
	s->rng = seed;
	mt_init(&s->t, &ops);
	return s;
}

/* set_free: the entries, the tree and its retired nodes. */
static void set_free(struct set *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		xfree(s->e[i]);
	sim_rcu_barrier();
	mt_destroy(&s->t);
	xfree(s);
}

/* sound: the tree passes its own full check, gaps included. */
static void sound(struct set *s)
{
	char why[256] = "";
	if (mt_check(&s->t, 0, UINT64_MAX, true, why, sizeof(why)))
		ck_abort_msg("%s", why);
}

/* is [a, b) free of entries? */
static bool free_range(struct set *s, uint64_t a, uint64_t b)
{
	const struct ent *n = mt_find(&s->t, NULL, a);
	return !n || n->start >= b;
}

/* One random change: insert, erase, move an end (grow or shrink) or move a start (erase and insert, as linux_set_start). */
static void step(struct set *s, uint64_t space, uint32_t target)
{
	uint64_t op = rnd(s, 10);
	if (s->n < target && op == 9)
		op = 0; /* below the target: more inserts than erases */
	if (s->n < 2 || (op < 5 && s->n < target)) {
		uint64_t a = (1 + rnd(s, space / P - 70)) * P, b = a + (1 + rnd(s, 64)) * P;
		if (!free_range(s, a, b) || s->n == 4096)
			return;
		struct ent *e = xzalloc(sizeof(*e));
		*e = (struct ent){ a, b, rnd(s, 16) ? 0 : VR_GROWSDOWN };
		mt_insert(&s->t, NULL, e);
		s->e[s->n++] = e;
		return;
	}
	uint32_t i = (uint32_t)rnd(s, s->n);
	struct ent *e = s->e[i];
	if (op < 7) { /* erase */
		mt_erase(&s->t, NULL, e->start);
		s->e[i] = s->e[--s->n];
		xfree(e);
	} else if (op < 9) { /* move the end */
		uint64_t end = e->start + (1 + rnd(s, 96)) * P;
		if (end > e->end && !free_range(s, e->end, end))
			return;
		e->end = end;
		mt_update(&s->t, NULL, e->start);
	} else { /* move the start down into free space, or up */
		uint64_t d = (1 + rnd(s, 32)) * P;
		uint64_t start = rnd(s, 2) && e->start > d + P ? e->start - d : e->start + d;
		if (start >= e->end || (start < e->start && !free_range(s, start, e->start)))
			return;
		mt_erase(&s->t, NULL, e->start);
		e->start = start;
		mt_insert(&s->t, NULL, e);
	}
}

/*
 * Random changes up to `target` entries in `space` bytes; after each, the
 * tree is sound and both searches agree. The tree reaches min_height.
 */
static void run(uint64_t seed, uint64_t space, uint32_t target, uint32_t steps, uint32_t min_height)
{
	uint32_t height = 0;
	struct set *s = set_new(seed);
	uint64_t found = 0, searches = 0;
	for (uint32_t k = 0; k < steps; k++) {
		step(s, space, target);
		sound(s);
		for (int j = 0; j < 2; j++) {
			uint64_t high = rnd(s, 4) ? space : (1 + rnd(s, space / P)) * P;
			static const uint64_t most[] = { 8, 128, 1024, 8192 }; /* pages: from fits anywhere to fits nowhere */
			uint64_t len = (1 + rnd(s, most[rnd(s, 4)])) * P;
			struct want w = { high, len };
			uint64_t old = linear(&s->t, high, len), got = mt_gap_rev(&s->t, NULL, high, len, fit, &w);
			ck_assert_msg(old == got, "step %u, %u entries: below %#llx, %llu pages: linear %#llx, gap search %#llx", k,
				      s->n, (unsigned long long)high, (unsigned long long)(len / P), (unsigned long long)old,
				      (unsigned long long)got);
			found += got != 0;
			searches++;
		}
		height = MAX(height, s->t.height);
		if (k % 256 == 0)
			sim_rcu_barrier(); /* free the retired nodes */
	}
	/* Both outcomes were exercised: searches that fit and searches that did not. */
	ck_assert_uint_gt(found, 0);
	ck_assert_uint_lt(found, searches);
	ck_assert_uint_ge(height, min_height);
	set_free(s);
}

/* A small tree (one or two levels): every split and merge of the root, the leftmost leaf coming and going. */
START_TEST(small_random)
{
	for (uint64_t seed = 1; seed <= 8; seed++)
		run(seed, 1024 * P, 40, 1500, 2);
}
END_TEST

/* A tree of three and four levels, crowded (most gaps small, some under a stack's guard gap). */
START_TEST(large_random)
{
	run(42, 1ull << 30, 2000, 8000, 3);
	run(7, 16384 * P, 1200, 6000, 3);
}
END_TEST

/* A gap recorded wrong, or left stale by ends moved without mt_update, is found by the check. */
START_TEST(check_sees_wrong_gaps)
{
	struct set *s = set_new(3);
	while (s->t.height < 3)
		step(s, 1ull << 30, 1000);
	sound(s);
	char why[256] = "";
	s->t.root->gap[1] += P;
	ck_assert_int_eq(mt_check(&s->t, 0, UINT64_MAX, true, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "gap recorded"), "%s", why);
	s->t.root->gap[1] -= P;
	sound(s);
	/* Every entry shrinks to one byte: every gap grows, so every leaf's largest does. */
	for (uint32_t i = 0; i < s->n; i++)
		s->e[i]->end = s->e[i]->start + 1;
	ck_assert_int_eq(mt_check(&s->t, 0, UINT64_MAX, true, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "gap recorded"), "%s", why);
	for (uint32_t i = 0; i < s->n; i++)
		mt_update(&s->t, NULL, s->e[i]->start);
	sound(s);
	set_free(s);
}
END_TEST

/* leaf_of: the leaf a lookup of addr reaches (the test's own descent: last child whose key is <= addr). */
static const struct mt_node *leaf_of(const struct mtree *t, uint64_t addr)
{
	const struct mt_node *n = t->root;
	while (n && !n->leaf) {
		int i = 0;
		while (i + 1 < n->n && n->key[i + 1] <= addr)
			i++;
		n = n->child[i];
	}
	return n;
}

/*
 * A change that leaves its leaf neither split nor empty puts the new leaf in
 * its parent's slot, as Linux's maple tree does: the root is the same node
 * after it, and the tree holds as many nodes; with the entries at the
 * leaf's front erased, the inner keys above were rewritten in place.
 */
START_TEST(change_in_a_leaf_copies_no_path)
{
	struct set *s = set_new(5);
	while (s->t.height < 3)
		step(s, 1ull << 30, 1000);
	sound(s);
	uint32_t erased = 0, fronts = 0;
	for (uint32_t k = 0; k < s->n && erased < 100;) {
		struct ent *e = s->e[k];
		const struct mt_node *leaf = leaf_of(&s->t, e->start);
		if (leaf->n < 2) {
			k++;
			continue;
		}
		fronts += leaf->key[0] == e->start;
		const struct mt_node *root = s->t.root;
		uint64_t nodes = s->t.nodes;
		mt_erase(&s->t, NULL, e->start);
		s->e[k] = s->e[--s->n];
		xfree(e);
		ck_assert_ptr_eq(s->t.root, root);
		ck_assert_uint_eq(s->t.nodes, nodes);
		sound(s);
		erased++;
	}
	ck_assert_uint_eq(erased, 100);
	ck_assert_uint_gt(fronts, 0);
	set_free(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("t56_mtree");
	TCase *tc = tcase_create("gaps");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, small_random);
	tcase_add_test(tc, large_random);
	tcase_add_test(tc, check_sees_wrong_gaps);
	tcase_add_test(tc, change_in_a_leaf_copies_no_path);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
