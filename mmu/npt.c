/* npt.c: the two-dimensional walk: each guest frame a walk touches is translated by a 4-level host walk, with its own caches. */
#include "mmu/npt.h"
#include "mmu/mmu.h"
#include "sim/watch.h"

#include <string.h>

#define HOST_LEVELS 4 /* the host's tables: 4-level, as KVM's NPT/EPT under a 4-level host */

static void level_init(struct npt_level *l, uint32_t n)
{
	memset(l, 0, sizeof(*l));
	if (!n)
		return;
	l->n = n;
	l->tag = xzalloc(sizeof(uint64_t) * n);
	l->lru = xzalloc(sizeof(uint64_t) * n);
}

void npt_init(struct npt *n, const struct machine *m)
{
	memset(n, 0, sizeof(*n));
	if (!m->npt)
		return;
	level_init(&n->tlb, m->npt_tlb);
	for (uint32_t l = m->npt_host_level + 1; l <= HOST_LEVELS; l++)
		level_init(&n->psc[l], m->npt_psc);
}

void npt_fini(struct npt *n)
{
	xfree(n->tlb.tag);
	xfree(n->tlb.lru);
	for (int l = 0; l < 5; l++) {
		xfree(n->psc[l].tag);
		xfree(n->psc[l].lru);
	}
	memset(n, 0, sizeof(*n));
}

/* Look tag up; on a miss, put it in place of the least recently used entry. Returns whether it was there. */
static bool level_use(struct npt_level *l, uint64_t tag)
{
	if (!l->n)
		return false;
	uint32_t v = 0;
	for (uint32_t i = 0; i < l->n; i++) {
		if (l->tag[i] == tag) {
			l->lru[i] = ++l->stamp;
			return true;
		}
		if (l->lru[i] < l->lru[v])
			v = i;
	}
	l->tag[v] = tag;
	l->lru[v] = ++l->stamp;
	return false;
}

void npt_translate(struct mmu_cpu *cpu, uint64_t gpfn)
{
	const struct machine *m = cpu->mmu->m;
	if (!m->npt)
		return;
	struct sim_core *c = cpu->core;
	struct npt *n = &cpu->npt;
	const uint32_t leaf = m->npt_host_level;
	if (level_use(&n->tlb, (gpfn >> (9 * (leaf - 1))) + 1)) {
		cpu->st.ntlb_hits++;
		return;
	}
	cpu->st.npt_walks++;
	/* Start below the lowest host level whose entry a paging-structure cache holds. */
	uint32_t start = HOST_LEVELS;
	for (uint32_t l = leaf + 1; l <= HOST_LEVELS; l++)
		if (n->psc[l].n) {
			uint64_t tag = (gpfn >> (9 * (l - 1))) + 1;
			uint32_t i = 0;
			while (i < n->psc[l].n && n->psc[l].tag[i] != tag)
				i++;
			if (i < n->psc[l].n) {
				n->psc[l].lru[i] = ++n->psc[l].stamp;
				start = l - 1;
				break;
			}
		}
	for (uint32_t l = start; l >= leaf; l--) {
		uint64_t line = (gpfn >> (9 * (l - 1))) >> 3; /* 8 entries a line */
		enum cache_where w = cache_touch(&c->cache, CACHE_TAG_HOST(l, line));
		sim_advance(c, cache_cost(m, w) + m->walk_step);
		cpu->st.npt_reads++;
		if (l > leaf)
			level_use(&n->psc[l], (gpfn >> (9 * (l - 1))) + 1);
	}
	sim_note(c, "  nested paging: guest frame %#llx translated by a host walk from host level %u",
		 (unsigned long long)gpfn, start);
}
