/* tlb.c: TLB geometry from the machine description, LRU fills and invalidation. */
#include "mmu/tlb.h"

#include <string.h>

static void array_init(struct tlb_array *a, const struct tlb_geom *g, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->name = name;
	if (!g->entries)
		return;
	a->ways = g->ways;
	a->sets = g->entries / g->ways;
	a->set_mask = a->sets - 1;
	a->e = xaligned_zalloc(CACHELINE, sizeof(struct tlb_entry) * g->entries);
	if (a->ways > TLB_SCAN_WAYS) {
		uint32_t n = 1;
		while (n < 4 * g->entries)
			n <<= 1;
		a->hidx = xzalloc(sizeof(uint32_t) * n);
		a->hmask = n - 1;
		a->prev = xzalloc(sizeof(uint32_t) * g->entries);
		a->next = xzalloc(sizeof(uint32_t) * g->entries);
		for (uint32_t i = 0; i < g->entries; i++) {
			a->prev[i] = i ? i - 1 : 0;
			a->next[i] = i + 1 < g->entries ? i + 1 : 0;
		}
		a->head = 0;
		a->tail = g->entries - 1;
	}
}

void tlb_init(struct tlb *t, const struct machine *m)
{
	memset(t, 0, sizeof(*t));
	array_init(&t->arrays[0], &m->l1d_4k, "L1D-4K");
	array_init(&t->arrays[1], &m->l1d_2m, "L1D-2M");
	array_init(&t->arrays[2], &m->l1d_1g, "L1D-1G");
	array_init(&t->arrays[3], &m->l1i_4k, "L1I-4K");
	array_init(&t->arrays[4], &m->l1i_2m, "L1I-2M");
	array_init(&t->arrays[5], &m->l2, "STLB");
	array_init(&t->arrays[6], &m->l2_1g, "STLB-1G");
	t->l1d[PG_4K] = &t->arrays[0];
	t->l1d[PG_2M] = m->l1d_2m.entries ? &t->arrays[1] : &t->arrays[0];
	t->l1d[PG_1G] = m->l1d_1g.entries ? &t->arrays[2] : &t->arrays[0];
	t->l1i[PG_4K] = m->l1i_4k.entries ? &t->arrays[3] : &t->arrays[0];
	t->l1i[PG_2M] = m->l1i_2m.entries ? &t->arrays[4] : t->l1i[PG_4K];
	t->l1i[PG_1G] = NULL; /* instruction fetches from 1 GiB pages are cached as 2 MiB pieces */
	t->l2[PG_4K] = &t->arrays[5];
	t->l2[PG_2M] = &t->arrays[5];
	t->l2[PG_1G] = m->l2_1g.entries ? &t->arrays[6] : NULL;
	t->gen = xzalloc(sizeof(uint32_t) * PCID_COUNT);
	for (uint32_t i = 0; i < PCID_COUNT; i++)
		t->gen[i] = 1;
}

void tlb_destroy(struct tlb *t)
{
	for (unsigned i = 0; i < ARRAY_SIZE(t->arrays); i++) {
		xfree(t->arrays[i].e);
		xfree(t->arrays[i].hidx);
		xfree(t->arrays[i].prev);
		xfree(t->arrays[i].next);
	}
	xfree(t->gen);
	memset(t, 0, sizeof(*t));
}

/* Hash index maintenance (fully associative arrays). */
static void hidx_insert(struct tlb_array *a, uint64_t tag, uint32_t slot)
{
	uint32_t h = tlb_hash(tag) & a->hmask;
	while (a->hidx[h])
		h = (h + 1) & a->hmask;
	a->hidx[h] = slot + 1;
}

static void hidx_remove(struct tlb_array *a, uint64_t tag, uint32_t slot)
{
	uint32_t h = tlb_hash(tag) & a->hmask;
	while (a->hidx[h] != slot + 1) {
		if (!a->hidx[h])
			panic("TLB hash index lost slot %u of %s", slot, a->name);
		h = (h + 1) & a->hmask;
	}
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	uint32_t hole = h;
	for (uint32_t j = (h + 1) & a->hmask; a->hidx[j]; j = (j + 1) & a->hmask) {
		uint32_t home = tlb_hash(a->e[a->hidx[j] - 1].tag) & a->hmask;
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
		a->head = a->next[s];
	else
		a->next[a->prev[s]] = a->next[s];
	a->prev[a->next[s]] = a->prev[s];
	a->prev[s] = a->tail;
	a->next[a->tail] = s;
	a->tail = s;
}

static void drop(struct tlb_array *a, struct tlb_entry *e)
{
	if (a->hidx && e->tag) {
		uint32_t s = (uint32_t)(e - a->e);
		hidx_remove(a, e->tag, s);
		lru_to_tail(a, s);
	}
	e->tag = 0;
}

static struct tlb_entry *hashed_lookup(struct tlb_array *a, uint64_t tag)
{
	for (uint32_t h = tlb_hash(tag) & a->hmask;; h = (h + 1) & a->hmask) {
		uint32_t s = a->hidx[h];
		if (!s)
			return NULL;
		if (a->e[s - 1].tag == tag)
			return &a->e[s - 1];
	}
}

static bool live(const struct tlb *t, const struct tlb_entry *e)
{
	return e->tag && e->gen == t->gen[e->pcid];
}

void tlb_fill(struct tlb *t, struct tlb_array *a, uint64_t va, enum pg_size sz, uint16_t pcid, uint64_t pfn,
	      uint8_t allow)
{
	if (!a || !a->e)
		return;
	uint64_t tag = tlb_tag(va, sz, pcid);
	if (a->hidx) {
		/* Fully associative: reuse the tag's slot, else the LRU (or an emptied) slot at the tail. */
		struct tlb_entry *v = hashed_lookup(a, tag);
		if (!v) {
			v = &a->e[a->tail];
			drop(a, v);
			v->tag = tag;
			hidx_insert(a, tag, (uint32_t)(v - a->e));
		}
		tlb_lru_touch(a, (uint32_t)(v - a->e));
		v->pfn = pfn;
		v->gen = t->gen[pcid];
		v->allow = allow;
		v->size = (uint8_t)sz;
		v->pcid = pcid;
		return;
	}
	uint32_t set = (uint32_t)((va >> PG_SHIFT(sz)) & a->set_mask);
	struct tlb_entry *base = &a->e[set * a->ways], *victim = NULL;
	/* Same tag already present (maybe stale): overwrite it in place. */
	for (uint32_t w = 0; w < a->ways; w++)
		if (base[w].tag == tag) {
			victim = &base[w];
			break;
		}
	if (!victim) {
		for (uint32_t w = 0; w < a->ways; w++) {
			struct tlb_entry *e = &base[w];
			if (!live(t, e)) {
				victim = e;
				break;
			}
			if (!victim || e->lru < victim->lru)
				victim = e;
		}
		drop(a, victim);
		victim->tag = tag;
		if (a->hidx)
			hidx_insert(a, tag, (uint32_t)(victim - a->e));
	}
	victim->pfn = pfn;
	victim->gen = t->gen[pcid];
	victim->allow = allow;
	victim->size = (uint8_t)sz;
	victim->pcid = pcid;
	victim->lru = ++a->stamp;
}

static uint32_t inval_one(struct tlb *t, struct tlb_array *a, uint64_t va, enum pg_size sz, uint16_t pcid)
{
	if (!a || !a->e)
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
	struct tlb_entry *base = &a->e[((va >> PG_SHIFT(sz)) & a->set_mask) * a->ways];
	for (uint32_t w = 0; w < a->ways; w++)
		if (base[w].tag == tag) {
			uint32_t was = live(t, &base[w]);
			drop(a, &base[w]);
			return was;
		}
	return 0;
}

uint32_t tlb_invlpg(struct tlb *t, uint64_t va, uint16_t pcid)
{
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
		for (uint32_t j = 0; j < a->sets * a->ways; j++)
			if (a->e[j].tag && a->e[j].pcid == pcid)
				drop(a, &a->e[j]);
	}
	if (++t->gen[pcid] == 0) {
		/* The generation wrapped: clear everything so no old entry can match again. */
		tlb_flush_all(t);
		t->gen[pcid] = 1;
	}
}

void tlb_flush_all(struct tlb *t)
{
	for (unsigned i = 0; i < ARRAY_SIZE(t->arrays); i++) {
		struct tlb_array *a = &t->arrays[i];
		if (!a->e)
			continue;
		memset(a->e, 0, sizeof(struct tlb_entry) * a->sets * a->ways);
		if (a->hidx)
			memset(a->hidx, 0, sizeof(uint32_t) * (a->hmask + 1));
	}
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
