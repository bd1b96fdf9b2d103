/* check.c: the TLB coherence checker (a hit must never grant more than the page table does now) and its in-flight windows. */
#include "mmu/mmu.h"

#include <string.h>

static void win_lock(struct mmu_space *sp)
{
	while (atomic_exchange_explicit(&sp->win_lock, 1, memory_order_acquire))
		__builtin_ia32_pause();
}

static void win_unlock(struct mmu_space *sp) { atomic_store_explicit(&sp->win_lock, 0, memory_order_release); }

uint32_t mmu_window_open(struct mmu_space *sp, uint64_t start, uint64_t end)
{
	win_lock(sp);
	uint32_t i;
	for (i = 0; i < sp->win_cap && sp->win[i].used; i++)
		;
	if (i == sp->win_cap) {
		if (sp->win_cap >= MMU_MAX_WINDOWS)
			panic("more than %d checker windows open", MMU_MAX_WINDOWS);
		sp->win = xrealloc(sp->win, sizeof(struct mmu_window) * sp->win_cap * 2);
		memset(sp->win + sp->win_cap, 0, sizeof(struct mmu_window) * sp->win_cap);
		sp->win_cap *= 2;
	}
	sp->win[i] = (struct mmu_window){ .start = start, .end = end, .used = true };
	atomic_fetch_add(&sp->nwin, 1);
	win_unlock(sp);
	return i;
}

void mmu_window_close(struct mmu_space *sp, uint32_t h)
{
	win_lock(sp);
	ASSERT(h < sp->win_cap && sp->win[h].used);
	sp->win[h].used = false;
	atomic_fetch_sub(&sp->nwin, 1);
	win_unlock(sp);
}

bool mmu_window_covers(struct mmu_space *sp, uint64_t va)
{
	if (!atomic_load_explicit(&sp->nwin, memory_order_acquire))
		return false;
	bool hit = false;
	win_lock(sp);
	for (uint32_t i = 0; i < sp->win_cap && !hit; i++)
		hit = sp->win[i].used && va >= sp->win[i].start && va < sp->win[i].end;
	win_unlock(sp);
	return hit;
}

/* Frame that an entry of size class `sz` (or a leaf at `level`) gives for va. */
static uint64_t frame_for(uint64_t base_pfn, int shift, uint64_t va)
{
	return base_pfn + ((va & ((1ull << shift) - 1)) >> PAGE_SHIFT);
}

void mmu_check_hit(struct mmu_cpu *cpu, uint64_t va, const struct tlb_entry *e)
{
	struct mmu_space *sp = cpu->cur;
	cpu->st.checked_hits++;
	if (!sp)
		return;
	int level = 0;
	uint64_t pte = mmu_translate_host(sp, va, &level);
	bool bad;
	if (!pte || !(pte & PTE_US)) {
		bad = true;
	} else {
		uint64_t leaf_pfn = PTE_PFN(pte) & ~((1ull << (9 * (level - 1))) - 1);
		bad = frame_for(leaf_pfn, LEVEL_SHIFT(level), va) != frame_for(e->pfn, PG_SHIFT(e->size), va);
		/* Permissions: writability and execute must not exceed the page table's. */
		if ((e->allow & (ALLOW_W | ALLOW_RW)) && !(pte & PTE_RW))
			bad = true;
		if ((e->allow & ALLOW_X) && (pte & PTE_NX))
			bad = true;
	}
	if (bad && !mmu_window_covers(sp, va))
		cpu->st.tlb_violations++;
}
