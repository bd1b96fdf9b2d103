/* tlb.c: TLB geometry from the machine description, LRU fills and invalidation. */
#include "mmu/tlb.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/*
 * Where a TLB's arrays come from: an arena (the entries of scanned arrays
 * from its lazy part, `lazy`, the rest from its hot part), or the heap when
 * ar is NULL. An arena not mapped yet only counts what would be taken
 * (tlb_arena_init's sizing pass: nothing may be written through the pointer).
 */
static void *tlb_alloc(struct tlb_arena *ar, size_t n, unsigned lazy)
{
	if (!ar)
		return xaligned_zalloc(CACHELINE, n);
	n = (n + CACHELINE - 1) & ~(size_t)(CACHELINE - 1);
	if (!ar->map) {
		ar->size[lazy] += n;
		return NULL;
	}
	if (ar->used[lazy] + n > ar->size[lazy])
		panic("tlb arena: %zu bytes used of %zu, %zu more asked", ar->used[lazy], ar->size[lazy], n);
	void *p = ar->base[lazy] + ar->used[lazy]; /* fresh anonymous memory: already zero */
	ar->used[lazy] += n;
	return p;
}

/* Slots of the hash index of a fully associative array of `entries` (a power of two, at least 4x the entries). */
static uint32_t hidx_slots(uint32_t entries)
{
	uint32_t n = 1;
	while (n < 4 * entries)
		n <<= 1;
	return n;
}

static void array_init(struct tlb_array *a, const struct tlb_geom *g, const char *name, struct tlb_arena *ar)
{
	memset(a, 0, sizeof(*a));
	a->name = name;
	if (!g->entries)
		return;
	a->ways = g->ways;
	a->sets = g->entries / g->ways;
	a->set_mask = a->sets - 1;
	a->e = tlb_alloc(ar, sizeof(struct tlb_entry) * g->entries, g->ways <= TLB_SCAN_WAYS);
	if (a->ways <= TLB_SCAN_WAYS) {
		a->used = tlb_alloc(ar, a->sets, 0);
		a->fp = tlb_alloc(ar, sizeof(uint16_t) * g->entries, 0);
		a->gshift = a->ways % 4 == 0 ? 2 : 0;
	} else {
		uint32_t n = hidx_slots(g->entries);
		if (g->entries >= 0xffff)
			panic("%s: %u entries in a fully associative array (at most 65534)", name, g->entries);
		a->hidx = tlb_alloc(ar, sizeof(uint32_t) * n, 0);
		a->hmask = n - 1;
		a->slot_pcid = tlb_alloc(ar, sizeof(uint16_t) * g->entries, 0);
		a->prev = tlb_alloc(ar, sizeof(uint32_t) * g->entries, 0); /* zero: the initial list (lru_prev) */
		a->next = tlb_alloc(ar, sizeof(uint32_t) * g->entries, 0);
		a->head = 0;
		a->tail = g->entries - 1;
	}
}

/* The machine's seven arrays, in the order of struct tlb's `arrays`. */
static const struct tlb_geom *geom(const struct machine *m, unsigned i)
{
	const struct tlb_geom *g[7] = { &m->l1d_4k, &m->l1d_2m, &m->l1d_1g, &m->l1i_4k, &m->l1i_2m, &m->l2, &m->l2_1g };
	return g[i];
}

void tlb_init_in(struct tlb *t, const struct machine *m, struct tlb_arena *ar)
{
	static const char *const names[7] = { "L1D-4K", "L1D-2M", "L1D-1G", "L1I-4K", "L1I-2M", "STLB", "STLB-1G" };
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < ARRAY_SIZE(t->arrays); i++)
		array_init(&t->arrays[i], geom(m, i), names[i], ar);
	t->l1d[PG_4K] = &t->arrays[0];
	t->l1d[PG_2M] = m->l1d_2m.entries ? &t->arrays[1] : &t->arrays[0];
	t->l1d[PG_1G] = m->l1d_1g.entries ? &t->arrays[2] : &t->arrays[0];
	t->l1i[PG_4K] = m->l1i_4k.entries ? &t->arrays[3] : &t->arrays[0];
	t->l1i[PG_2M] = m->l1i_2m.entries ? &t->arrays[4] : t->l1i[PG_4K];
	t->l1i[PG_1G] = NULL; /* instruction fetches from 1 GiB pages are cached as 2 MiB pieces */
	t->l2[PG_4K] = &t->arrays[5];
	t->l2[PG_2M] = &t->arrays[5];
	t->l2[PG_1G] = m->l2_1g.entries ? &t->arrays[6] : NULL;
	/* Every PCID starts at generation 0: zero memory. */
	t->pstride = 1;
	if (!ar) {
		t->gens = xaligned_zalloc(CACHELINE, sizeof(uint32_t) * PCID_COUNT);
	} else if (ar->map) {
		t->gens = tlb_arena_pcid(ar, UINT32_MAX, ar->ntlbs++); /* table "-1": the generations */
		t->pstride = ar->ncores;
	}
	t->in_arena = ar != NULL;
}

void tlb_init(struct tlb *t, const struct machine *m) { tlb_init_in(t, m, NULL); }

uint32_t *tlb_arena_pcid(struct tlb_arena *ar, uint32_t k, uint32_t c)
{
	return (uint32_t *)ar->base[2] + (size_t)(k + 1) * PCID_COUNT * ar->ncores + c; /* k + 1: the TLBs' table first */
}

void tlb_arena_init(struct tlb_arena *ar, const struct machine *m, uint32_t n, uint32_t tables)
{
	memset(ar, 0, sizeof(*ar));
	struct tlb one;
	tlb_init_in(&one, m, ar); /* the sizing pass: what one core takes */
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	for (unsigned k = 0; k < 2; k++)
		ar->size[k] = (ar->size[k] * n + pg - 1) & ~(pg - 1);
	ar->size[2] = ((size_t)(1 + tables) * PCID_COUNT * n * sizeof(uint32_t) + pg - 1) & ~(pg - 1);
	ar->ncores = n;
	ar->map_size = ar->size[0] + ar->size[1] + ar->size[2];
	void *p = mmap(NULL, ar->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		panic("tlb arena: cannot map %zu bytes", ar->map_size);
	ar->map = p;
	ar->base[0] = p;
	ar->base[1] = (char *)p + ar->size[0];
	ar->base[2] = ar->base[1] + ar->size[1];
	/* The hot part at once, in one call (older kernels refuse it: then it faults in as used). */
	(void)madvise(ar->base[0], ar->size[0], MADV_POPULATE_WRITE);
}

void tlb_arena_fini(struct tlb_arena *ar)
{
	if (ar->map)
		munmap(ar->map, ar->map_size);
	memset(ar, 0, sizeof(*ar));
}

void tlb_destroy(struct tlb *t)
{
	for (unsigned i = 0; i < ARRAY_SIZE(t->arrays) && !t->in_arena; i++) {
		xfree(t->arrays[i].e);
		xfree(t->arrays[i].used);
		xfree(t->arrays[i].fp);
		xfree(t->arrays[i].slot_pcid);
		xfree(t->arrays[i].hidx);
		xfree(t->arrays[i].prev);
		xfree(t->arrays[i].next);
	}
	if (!t->in_arena)
		xfree(t->gens);
	memset(t, 0, sizeof(*t));
}

/* Hash index maintenance (fully associative arrays): each used cell is TLB_HIDX(tag, slot). */
static void hidx_insert(struct tlb_array *a, uint64_t tag, uint32_t slot)
{
	uint32_t h = tlb_hash(tag) & a->hmask;
	while (a->hidx[h])
		h = (h + 1) & a->hmask;
	a->hidx[h] = TLB_HIDX(tag, slot);
}

static void hidx_remove(struct tlb_array *a, uint64_t tag, uint32_t slot)
{
	uint32_t h = tlb_hash(tag) & a->hmask;
	while (TLB_HIDX_SLOT(a->hidx[h]) != slot) {
		if (!a->hidx[h])
			panic("TLB hash index lost slot %u of %s", slot, a->name);
		h = (h + 1) & a->hmask;
	}
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	uint32_t hole = h;
	for (uint32_t j = (h + 1) & a->hmask; a->hidx[j]; j = (j + 1) & a->hmask) {
		uint32_t home = tlb_hash(a->e[TLB_HIDX_SLOT(a->hidx[j])].tag) & a->hmask;
		bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
		if (movable) {
			a->hidx[hole] = a->hidx[j];
			hole = j;
		}
	}
	a->hidx[hole] = 0;
}

/* Move slot s of a hashed array to the LRU tail (it is empty now, so it is reused first). */
static void lru_to_tail(struct tlb_array *a, uint32_t s)
{
	if (a->tail == s)
		return;
	if (a->head == s)
		a->head = lru_next(a, s);
	else
		lru_set_next(a, lru_prev(a, s), lru_next(a, s));
	lru_set_prev(a, lru_next(a, s), lru_prev(a, s));
	lru_set_prev(a, s, a->tail);
	lru_set_next(a, a->tail, s);
	a->tail = s;
}

/* Where the fingerprint of scanned entry e lives (the inverse of tlb_at). */
static uint16_t *fp_of(const struct tlb_array *a, const struct tlb_entry *e)
{
	uint32_t i = (uint32_t)(e - a->e), g = a->gshift;
	uint32_t set = (i >> g) & a->set_mask, way = ((i >> g) / a->sets << g) | (i & ((1u << g) - 1));
	return &a->fp[(size_t)set * a->ways + way];
}

static void drop(struct tlb_array *a, struct tlb_entry *e)
{
	if (!e->tag)
		return;
	a->nsize[e->size]--;
	if (a->fp)
		*fp_of(a, e) = 0;
	if (a->hidx) {
		uint32_t s = (uint32_t)(e - a->e);
		hidx_remove(a, e->tag, s);
		lru_to_tail(a, s);
		a->slot_pcid[s] = 0;
	}
	e->tag = 0;
}

/* Give the empty entry e (just dropped) to the translation `tag` of size sz in pcid. */
static void claim(struct tlb_array *a, struct tlb_entry *e, uint64_t tag, enum pg_size sz, uint16_t pcid)
{
	e->tag = tag;
	e->size = (uint8_t)sz;
	e->pcid = pcid;
	a->nsize[sz]++;
	if (a->fp)
		*fp_of(a, e) = tlb_fp(tag);
	if (a->hidx)
		a->slot_pcid[e - a->e] = (uint16_t)(pcid + 1);
}

static struct tlb_entry *hashed_lookup(struct tlb_array *a, uint64_t tag)
{
	uint32_t want = TLB_HIDX(tag, 0) & ~0xffffu;
	for (uint32_t h = tlb_hash(tag) & a->hmask;; h = (h + 1) & a->hmask) {
		uint32_t v = a->hidx[h];
		if (!v)
			return NULL;
		if ((v & ~0xffffu) == want && a->e[TLB_HIDX_SLOT(v)].tag == tag)
			return &a->e[TLB_HIDX_SLOT(v)];
	}
}

static bool live(const struct tlb *t, const struct tlb_entry *e)
{
	return e->tag && e->gen == *tlb_gen(t, e->pcid);
}

/* The entry of `set` holding tag (live or stale) in a scanned array, or NULL: fingerprints first. */
static struct tlb_entry *find_way(const struct tlb_array *a, uint32_t set, uint64_t tag)
{
	const uint16_t *f = &a->fp[(size_t)set * a->ways], want = tlb_fp(tag);
	for (uint32_t w = 0; w < a->used[set]; w++)
		if (f[w] == want && tlb_at(a, set, w)->tag == tag)
			return tlb_at(a, set, w);
	return NULL;
}

void tlb_fill(struct tlb *t, struct tlb_array *a, uint64_t va, enum pg_size sz, uint16_t pcid, uint64_t pfn,
	      uint8_t allow)
{
	if (!a || !a->e)
		return;
	uint64_t r = (va >> 21) % 512, tag = tlb_tag(va, sz, pcid);
	t->regions[r / 64] |= 1ull << (r % 64);
	t->big |= sz == PG_1G;
	if (a->hidx) {
		/* Fully associative: reuse the tag's slot, else the LRU (or an emptied) slot at the tail. */
		struct tlb_entry *v = hashed_lookup(a, tag);
		if (!v) {
			v = &a->e[a->tail];
			drop(a, v);
			claim(a, v, tag, sz, pcid);
			hidx_insert(a, tag, (uint32_t)(v - a->e));
		}
		tlb_lru_touch(a, (uint32_t)(v - a->e));
		v->pfn = pfn;
		v->gen = *tlb_gen(t, pcid);
		v->allow = allow;
		v->size = (uint8_t)sz;
		v->pcid = pcid;
		return;
	}
	uint32_t set = (uint32_t)((va >> PG_SHIFT(sz)) & a->set_mask), n = a->used[set];
	struct tlb_entry *victim = NULL;
	/* Same tag already present (maybe stale): overwrite it in place. */
	victim = find_way(a, set, tag);
	if (!victim) {
		/* The first way that holds nothing live (the unused ways are empty), else the least recently used. */
		bool empty = false;
		for (uint32_t w = 0; w < n && !empty; w++) {
			struct tlb_entry *e = tlb_at(a, set, w);
			empty = !live(t, e);
			if (empty || !victim || e->lru < victim->lru)
				victim = e;
		}
		if (!empty && n < a->ways) {
			victim = tlb_at(a, set, n); /* never used: empty, and not read before it is written */
			a->used[set]++;
		} else {
			drop(a, victim);
		}
		claim(a, victim, tag, sz, pcid);
	}
	victim->pfn = pfn;
	victim->gen = *tlb_gen(t, pcid);
	victim->allow = allow;
	victim->size = (uint8_t)sz;
	victim->pcid = pcid;
	victim->lru = ++a->stamp;
}

static uint32_t inval_one(struct tlb *t, struct tlb_array *a, uint64_t va, enum pg_size sz, uint16_t pcid)
{
	if (!a || !a->e || !a->nsize[sz])
		return 0;
	uint64_t tag = tlb_tag(va, sz, pcid);
	if (a->hidx) {
		struct tlb_entry *e = hashed_lookup(a, tag);
		if (!e)
			return 0;
		uint32_t was = live(t, e);
		drop(a, e);
		return was;
	}
	struct tlb_entry *e = find_way(a, (uint32_t)((va >> PG_SHIFT(sz)) & a->set_mask), tag);
	if (!e)
		return 0;
	uint32_t was = live(t, e);
	drop(a, e);
	return was;
}

uint32_t tlb_invlpg(struct tlb *t, uint64_t va, uint16_t pcid)
{
	uint64_t r = (va >> 21) % 512;
	if (!t->big && !(t->regions[r / 64] & (1ull << (r % 64))))
		return 0; /* nothing was ever filled there: no entry to drop */
	uint32_t n = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(t->arrays); i++)
		for (int sz = PG_4K; sz <= PG_1G; sz++)
			n += inval_one(t, &t->arrays[i], va, (enum pg_size)sz, pcid);
	return n;
}

void tlb_flush_pcid(struct tlb *t, uint16_t pcid)
{
	/* Hashed arrays drop the entries now, so their empty slots are reused before live ones. */
	for (unsigned i = 0; i < ARRAY_SIZE(t->arrays); i++) {
		struct tlb_array *a = &t->arrays[i];
		if (!a->hidx)
			continue;
		for (uint32_t j = 0; j < a->sets * a->ways; j++) /* the compact side array, not the entries */
			if (a->slot_pcid[j] == pcid + 1)
				drop(a, &a->e[j]);
	}
	if (++*tlb_gen(t, pcid) == 0) {
		/* The generation wrapped: clear everything so no old entry can match again. */
		tlb_flush_all(t);
		*tlb_gen(t, pcid) = 1;
	}
}

void tlb_flush_all(struct tlb *t)
{
	for (unsigned i = 0; i < ARRAY_SIZE(t->arrays); i++) {
		struct tlb_array *a = &t->arrays[i];
		if (!a->e)
			continue;
		memset(a->e, 0, sizeof(struct tlb_entry) * a->sets * a->ways);
		if (a->used)
			memset(a->used, 0, a->sets);
		if (a->fp)
			memset(a->fp, 0, sizeof(uint16_t) * a->sets * a->ways);
		if (a->slot_pcid)
			memset(a->slot_pcid, 0, sizeof(uint16_t) * a->sets * a->ways);
		memset(a->nsize, 0, sizeof(a->nsize));
		if (a->hidx)
			memset(a->hidx, 0, sizeof(uint32_t) * (a->hmask + 1));
	}
	memset(t->regions, 0, sizeof(t->regions));
	t->big = false;
}

uint32_t tlb_count_live(const struct tlb *t, uint16_t pcid)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(t->arrays); i++) {
		const struct tlb_array *a = &t->arrays[i];
		for (uint32_t j = 0; a->e && j < a->sets * a->ways; j++)
			if (live(t, &a->e[j]) && a->e[j].pcid == pcid)
				n++;
	}
	return n;
}
