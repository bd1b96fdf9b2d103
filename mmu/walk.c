/* walk.c: the TLB-miss path: STLB lookup, paging-structure caches, and the hardware page walk with A/D updates. */
#include "mmu/mmu.h"
#include "sim/watch.h"

static const uint8_t need_bits[3] = { ALLOW_R, ALLOW_W, ALLOW_X };

/* ---- paging-structure caches ---- */

static inline uint64_t psc_tag(uint64_t va, int level, uint16_t pcid)
{
	return ((va >> LEVEL_SHIFT(level)) << 13) | ((uint64_t)pcid << 1) | 1;
}

static struct psc_entry *psc_find(struct mmu_cpu *cpu, int level, uint64_t va)
{
	struct psc_level *pl = &cpu->psc[level];
	uint64_t tag = psc_tag(va, level, cpu->pcid);
	uint32_t gen = *mmu_psc_gen(cpu, cpu->pcid);
	for (uint32_t i = 0; i < pl->n; i++) {
		struct psc_entry *e = &pl->e[i];
		if (e->tag == tag && e->gen == gen) {
			e->lru = ++pl->stamp;
			return e;
		}
	}
	return NULL;
}

static void psc_fill(struct mmu_cpu *cpu, int level, uint64_t va, uint64_t next, uint8_t allow)
{
	struct psc_level *pl = &cpu->psc[level];
	if (!pl->n)
		return;
	uint64_t tag = psc_tag(va, level, cpu->pcid);
	struct psc_entry *v = NULL;
	for (uint32_t i = 0; i < pl->n; i++) {
		struct psc_entry *e = &pl->e[i];
		if (e->tag == tag || !e->tag || e->gen != *mmu_psc_gen(cpu, e->pcid)) {
			v = e;
			break;
		}
		if (!v || e->lru < v->lru)
			v = e;
	}
	v->tag = tag;
	v->next = next;
	v->gen = *mmu_psc_gen(cpu, cpu->pcid);
	v->allow = allow;
	v->pcid = cpu->pcid;
	v->lru = ++pl->stamp;
}

/* ---- the walk ---- */

/* Permissions granted by one entry, to be ANDed down the path. */
static inline uint8_t entry_allow(uint64_t e)
{
	uint8_t a = ALLOW_R;
	if (e & PTE_RW)
		a |= ALLOW_RW;
	if (!(e & PTE_NX))
		a |= ALLOW_X;
	return a;
}

static inline uint32_t fault_code(enum mmu_acc acc, bool present)
{
	return PF_U | (present ? PF_P : 0) | (acc == ACC_W ? PF_W : 0) | (acc == ACC_X ? PF_I : 0);
}

/*
 * walk: translate va for acc, starting from the longest paging-structure
 * cache hit. On success fills the TLBs and returns 0; otherwise returns the
 * fault code. Runs as one atomic hardware event: the caller has synced.
 */
static uint32_t walk(struct mmu_cpu *cpu, uint64_t va, enum mmu_acc acc)
{
	struct sim_core *c = cpu->core;
	struct mmu *mmu = cpu->mmu;
	const struct machine *m = mmu->m;
	const int top = mmu->o.levels;
	cycles_t t0 = c->clock;
	int retries = 0;

	cpu->st.walks++;
	if (!cpu->cur)
		return fault_code(acc, false);
restart:;
	int level = top;
	uint64_t table = cpu->cr3;
	uint8_t allow = ALLOW_R | ALLOW_RW | ALLOW_X;
	for (int l = 2; l <= top; l++) {
		struct psc_entry *pe = psc_find(cpu, l, va);
		if (pe) {
			level = l - 1;
			table = pe->next;
			allow = pe->allow;
			cpu->st.psc_hits++;
			sim_note(c, "paging-structure cache hit for the level-%d entry: the walk starts at the %s", l,
				 pte_level_name(l - 1));
			break;
		}
	}
	if (level == top)
		sim_note(c, "no paging-structure cache hit: the walk starts at the root (CR3)");
	uint64_t path_pfn[6] = { 0 }; /* next-table pfn read at each level on this walk (0: not read) */
	uint8_t path_allow[6] = { 0 };
	for (;;) {
		struct pm_ptpage *p = pm_pt(mmu->pm, table);
		if (unlikely(!p))
			panic("core %u walked into frame %llu, which is not a page table (va %#llx, level %d): "
			      "a PT page was freed while still reachable",
			      c->id, (unsigned long long)table, (unsigned long long)va, level);
		unsigned idx = (unsigned)PT_INDEX(va, level);
		cycles_t tr = c->clock;
		npt_translate(cpu, table); /* nested paging: the host translates the table's guest frame first */
		coh_access_nosync_at(c, pte_line(p, idx), COH_READ, pte_tag(p, idx));
		sim_advance(c, m->walk_step);
		cpu->st.walk_reads++;
		uint64_t e = pte_load(p, idx);
		if (sim_narrating(c)) {
			char d[160];
			pte_describe(e, level, d, sizeof(d));
			sim_note(c, "%-4s[%3u] in PT page %#llx: %s  (%llu cycles)", pte_level_name(level), idx,
				 (unsigned long long)table, d, (unsigned long long)(c->clock - tr));
		}
		if (!(e & PTE_P)) {
			cpu->st.walk_cycles += c->clock - t0;
			return fault_code(acc, false);
		}
		bool leaf = pte_is_leaf(e, level);
		if (!(e & PTE_US) || ((e & PTE_PS) && level > 3)) {
			cpu->st.walk_cycles += c->clock - t0;
			return fault_code(acc, true) | (((e & PTE_PS) && level > 3) ? PF_RSVD : 0);
		}
		allow &= entry_allow(e);
		/* Accessed bit on every entry used; dirty bit on the leaf for a write that is allowed. */
		uint64_t want = e | PTE_A;
		if (leaf && acc == ACC_W && (allow & ALLOW_RW))
			want |= PTE_D;
		if (want != e) {
			sim_note(c, "  the walker sets %s with an atomic on the entry's line",
				 (want & ~e) == (PTE_A | PTE_D) ? "A and D" : (want & ~e) == PTE_D ? "D" : "A");
			coh_access_nosync_at(c, pte_line(p, idx), COH_ATOMIC, pte_tag(p, idx));
			cpu->st.ad_updates++;
			if (!pte_cas(p, idx, e, want)) {
				if (++retries > 64)
					panic("walker: entry keeps changing under A/D update");
				goto restart;
			}
			e = want;
		}
		if (leaf) {
			if (!(allow & need_bits[acc] & (ALLOW_R | ALLOW_X)) && acc != ACC_W) {
				cpu->st.walk_cycles += c->clock - t0;
				return fault_code(acc, true);
			}
			if (acc == ACC_W && !(allow & ALLOW_RW)) {
				cpu->st.walk_cycles += c->clock - t0;
				return fault_code(acc, true);
			}
			if ((allow & ALLOW_RW) && (e & PTE_D))
				allow |= ALLOW_W;
			enum pg_size sz = (enum pg_size)(level - 1);
			uint64_t pfn = PTE_PFN(e) & ~((1ull << (9 * sz)) - 1);
			uint64_t piece = pfn + ((va >> PAGE_SHIFT) & ((1ull << (9 * sz)) - 1));
			npt_translate(cpu, piece); /* and the data page's guest frame */
			mmu_data_touch(c, piece, va);
			struct tlb_array *l1 = acc == ACC_X ? cpu->tlb.l1i[sz] : cpu->tlb.l1d[sz];
			if (acc == ACC_X && sz == PG_1G) {
				/* No 1 GiB ITLB entries: cache the 2 MiB piece. */
				tlb_fill(&cpu->tlb, cpu->tlb.l1i[PG_2M], va, PG_2M, cpu->pcid,
					 pfn + (((va >> 21) & 511) << 9), allow);
			} else {
				tlb_fill(&cpu->tlb, l1, va, sz, cpu->pcid, pfn, allow);
			}
			if (sz == PG_1G && !cpu->tlb.l2[PG_1G])
				/* No 1 GiB STLB entries: cache the touched 2 MiB piece ("smashing"). */
				tlb_fill(&cpu->tlb, cpu->tlb.l2[PG_2M], va, PG_2M, cpu->pcid,
					 pfn + (((va >> 21) & 511) << 9), allow);
			else
				tlb_fill(&cpu->tlb, cpu->tlb.l2[sz], va, sz, cpu->pcid, pfn, allow);
			for (int l = level + 1; l <= top; l++)
				if (path_pfn[l])
					psc_fill(cpu, l, va, path_pfn[l], path_allow[l]);
			cpu->st.walk_cycles += c->clock - t0;
			sim_note(c, "translation found: a %s page; the L1 %s TLB and the STLB are filled (walk %llu cycles)",
				 sz == PG_4K ? "4 KiB" : sz == PG_2M ? "2 MiB" : "1 GiB", acc == ACC_X ? "instruction" : "data",
				 (unsigned long long)(c->clock - t0));
			return 0;
		}
		path_pfn[level] = PTE_PFN(e);
		path_allow[level] = allow;
		table = PTE_PFN(e);
		level--;
	}
}

uint32_t mmu_access_slow(struct mmu_cpu *cpu, uint64_t va, enum mmu_acc acc)
{
	struct sim_core *c = cpu->core;
	const struct machine *m = cpu->mmu->m;
	uint8_t need = need_bits[acc];
	uint16_t pcid = cpu->pcid;
	uint32_t gen = *tlb_gen(&cpu->tlb, pcid);

	/* Other L1 page sizes, then the STLB. */
	bool denied = false; /* a cached entry exists but does not allow this access */
	{
		struct tlb_array *a = acc == ACC_X ? cpu->tlb.l1i[PG_4K] : cpu->tlb.l1d[PG_4K];
		denied = tlb_find(a, va, PG_4K, pcid, gen) != NULL;
	}
	for (int sz = PG_2M; sz <= PG_1G; sz++) {
		struct tlb_array *a = acc == ACC_X ? cpu->tlb.l1i[sz] : cpu->tlb.l1d[sz];
		struct tlb_entry *e = a ? tlb_find(a, va, (enum pg_size)sz, pcid, gen) : NULL;
		denied |= e != NULL;
		if (e && (e->allow & need)) {
			cpu->st.l1_hits++;
			sim_note(c, "L1 %s TLB hit (%s entry)", acc == ACC_X ? "instruction" : "data",
				 sz == PG_2M ? "2 MiB" : "1 GiB");
			sim_advance(c, m->tlb_l1_hit);
			mmu_data_touch(c, e->pfn + ((va >> PAGE_SHIFT) & ((1ull << (9 * sz)) - 1)), va);
			if (cpu->mmu->o.check)
				mmu_check_hit(cpu, va, e);
			return 0;
		}
	}
	sim_advance(c, m->tlb_l2_hit);
	for (int sz = PG_4K; sz <= PG_1G; sz++) {
		struct tlb_array *a = cpu->tlb.l2[sz];
		struct tlb_entry *e = a ? tlb_find(a, va, (enum pg_size)sz, pcid, gen) : NULL;
		denied |= e != NULL;
		if (e && (e->allow & need)) {
			cpu->st.l2_hits++;
			sim_note(c, "L1 TLB miss, STLB hit (%s entry): the L1 TLB is refilled",
				 sz == PG_4K ? "4 KiB" : sz == PG_2M ? "2 MiB" : "1 GiB");
			struct tlb_entry copy = *e;
			enum pg_size fsz = (enum pg_size)sz;
			mmu_data_touch(c, copy.pfn + ((va >> PAGE_SHIFT) & ((1ull << (9 * sz)) - 1)), va);
			struct tlb_array *l1 = acc == ACC_X ? cpu->tlb.l1i[sz] : cpu->tlb.l1d[sz];
			if (acc == ACC_X && sz == PG_1G)
				tlb_fill(&cpu->tlb, cpu->tlb.l1i[PG_2M], va, PG_2M, pcid,
					 copy.pfn + (((va >> 21) & 511) << 9), copy.allow);
			else
				tlb_fill(&cpu->tlb, l1, va, fsz, pcid, copy.pfn, copy.allow);
			if (cpu->mmu->o.check)
				mmu_check_hit(cpu, va, &copy);
			return 0;
		}
	}
	/*
	 * A cached entry without the needed permission (or a write to a clean
	 * page) is dropped and the walk decides, as on AMD; Intel may fault
	 * from the TLB instead and the kernel retries, which ends the same way.
	 */
	if (denied) {
		sim_note(c, "a cached translation does not allow this access: it is dropped and the walker decides");
		tlb_invlpg(&cpu->tlb, va, pcid);
	}
	sim_note(c, "TLB miss (L1 and STLB): page walk");
	sim_sync(c);
	sim_tl_begin(c, TL_WALK);
	uint32_t err = walk(cpu, va, acc);
	sim_tl_end(c);
	if (err) {
		cpu->st.faults++;
		if (sim_narrating(c)) {
			char d[96];
			pf_describe(err, d, sizeof(d));
			sim_note(c, "page fault, error code %#x: %s", err, d);
		}
	}
	return err;
}
