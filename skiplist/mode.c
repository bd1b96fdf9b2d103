/* mode.c: the `skiplist` design's per-core locks: local mode (one reader's shard) for calls inside one area, global mode (every shard, for writing) for calls across areas, fork and exit. */
#include "skiplist/sl.h"

/*
 * The paper's kernel shards mmap_lock per core (CONFIG_SHARDED_MMAP_LOCK:
 * an array of rwsems, one per CPU). A call in local mode read-locks the
 * shard of the core it runs on: an atomic on a line no other core writes,
 * so local calls of different cores never meet there. A call in global
 * mode write-locks every shard in core order, which waits out every local
 * call in flight and keeps new ones out.
 *
 * Here the range locks (range.c) alone keep the list and the VMAs
 * consistent; the modes add the paper's exclusion and its costs on top:
 * what a local call pays (its own shard) and what a global one does to
 * everybody (a transfer of every shard's line, and a wait for every core's
 * call in flight).
 */

void sl_modes_init(struct sl_mm *mm)
{
	mm->shard = xaligned_zalloc(CACHELINE, sizeof(*mm->shard) * mm->narena);
	for (uint32_t i = 0; i < mm->narena; i++)
		lk_rwsem_init(&mm->shard[i].rw);
}

void sl_modes_free(struct sl_mm *mm) { xfree(mm->shard); }

uint32_t sl_area(const struct sl_mm *mm, uint64_t addr)
{
	if (addr < SL_SLICE_BASE)
		return mm->narena;
	uint64_t k = (addr - SL_SLICE_BASE) >> SL_SLICE_SHIFT;
	return k < mm->narena ? (uint32_t)k : mm->narena;
}

bool sl_one_area(const struct sl_mm *mm, uint64_t lo, uint64_t hi)
{
	return hi <= lo || sl_area(mm, lo) == sl_area(mm, hi - 1);
}

void sl_global_enter(struct sl_mm *mm, struct mmu_cpu *cpu)
{
	struct sim_core *c = cpu->core;
	for (uint32_t i = 0; i < mm->narena; i++)
		lk_down_write(c, &mm->shard[i].rw);
	sl_inc(&mm->st.global_modes);
	sim_note_lock(c, "global mode: every core's shard lock for writing (no local call runs)");
}

void sl_global_exit(struct sl_mm *mm, struct mmu_cpu *cpu)
{
	for (uint32_t i = mm->narena; i-- > 0;)
		lk_up_write(cpu->core, &mm->shard[i].rw);
}

bool sl_mode_enter(struct sl_mm *mm, struct mmu_cpu *cpu, bool global)
{
	if (global) {
		sl_global_enter(mm, cpu);
		return true;
	}
	lk_down_read(cpu->core, &mm->shard[cpu->core->id % mm->narena].rw);
	sl_inc(&mm->st.local_modes);
	sim_note_lock(cpu->core, "local mode: this core's shard lock for reading");
	return false;
}

void sl_mode_exit(struct sl_mm *mm, struct mmu_cpu *cpu, bool global)
{
	if (global)
		sl_global_exit(mm, cpu);
	else
		lk_up_read(cpu->core, &mm->shard[cpu->core->id % mm->narena].rw);
}
