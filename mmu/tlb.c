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

static void drop(struct tlb_array *a, struct tlb_entry *e)
{
	if (a->hidx && e->tag)
		hidx_remove(a, e->tag, (uint32_t)(e - a->e));
	e->tag = 0;
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
