/* design.c: design `skiplist`: VMAs in a concurrent interval skiplist with per-core arenas and per-core locks; lifetime, layout, stats and options. */
#include "skiplist/sl.h"

/* sl_create: an empty space: the head, the page-table layer (range_locked), per-core arenas with their anchors, shards and tower generators. */
static int sl_create(struct vm_as *as, struct mmu_cpu *cpu)
{
	(void)cpu;
	struct sl_mm *mm = xaligned_zalloc(CACHELINE, sizeof(*mm));
	mm->as = as;
	kmm_init(&mm->pt, as, (unsigned)as->sys->o.dopt[SL_OPT_THP], (unsigned)as->sys->o.dopt[SL_OPT_TLB_FLUSH]);
	mm->pt.range_locked = true; /* sl_unmap's floor and ceiling are inside its range locks */
	sl_list_init(mm);
	atomic_store(&mm->next_av, 1);
	uint32_t n = as->sys->sim->o.ncores;
	mm->slice_next = xzalloc(sizeof(uint64_t) * n);
	mm->slice_anchor = xzalloc(sizeof(*mm->slice_anchor) * n);
	mm->narena = n;
	mm->rng = xzalloc(sizeof(uint64_t) * n);
	for (uint32_t i = 0; i < n; i++) {
		/* one page in: the anchor owns the arena's base, the first mapping's lower neighbour page */
		mm->slice_next[i] = SL_SLICE_BASE + ((uint64_t)i << SL_SLICE_SHIFT) + PAGE_SIZE;
		mm->rng[i] = 0x9E3779B97F4A7C15ull * (i + 1) | 1;
	}
	mm->host_rng = 0x2545F4914F6CDD1Dull;
	mm->arenas = !as->sys->o.dopt[SL_OPT_NO_ARENAS];
	mm->in_place = as->sys->o.dopt[SL_OPT_IN_PLACE];
	atomic_store(&mm->topdown, as->mmap_base);
	if (mm->arenas)
		sl_arenas_init(mm); /* arenas are assigned at creation: one per core, each with its anchor */
	sl_modes_init(mm);
	lk_spin_init(&mm->brk_lock);
	as->priv = mm;
	return 0;
}

/* sl_destroy: host teardown: zap and free every table, then every node at once (no readers are left). */
static void sl_destroy(struct vm_as *as, struct mmu_cpu *cpu)
{
	struct sl_mm *mm = sl_of(as);
	if (cpu) { /* exit runs in global mode; the teardown itself is host work (the process is gone) */
		sl_global_enter(mm, cpu);
		sl_global_exit(mm, cpu);
	}
	kmm_teardown(&mm->pt);
	sl_modes_free(mm);
	sl_free_all(mm);
	xfree(mm->slice_next);
	xfree(mm->slice_anchor);
	xfree(mm->rng);
	xfree(mm);
	as->priv = NULL;
}

/* sl_layout: one range per VMA, in address order (host only). */
static void sl_layout(struct vm_as *as, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg)
{
	struct sl_mm *mm = sl_of(as);
	for (struct sl_node *v = mm->head; v; v = sl_next(NULL, v))
		if (!v->anchor && sn_end(v) > start && sn_start(v) < end) {
			struct vm_range r = vr_range(as, sn_start(v), sn_end(v), v->flags, v->file, v->pgoff);
			fn(arg, &r);
		}
}

static double ratio(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0; }

/* sl_stats: the skiplist's counters (lookups, levels and nodes per lookup, retries, locks) and the kernel layer's. */
static void sl_stats(struct vm_as *as, struct em *e)
{
	struct sl_mm *mm = sl_of(as);
	struct sl_stats *st = &mm->st;
	uint64_t lookups = atomic_load(&st->lookups);
	em_u64(e, "vmas", atomic_load(&mm->nvmas));
	em_u64(e, "skiplist_nodes", atomic_load(&mm->nnodes));
	em_u64(e, "skiplist_levels", atomic_load(&mm->levels));
	em_u64(e, "lookups", lookups);
	em_f64(e, "levels_per_lookup", ratio(atomic_load(&st->levels_visited), lookups));
	em_f64(e, "nodes_per_lookup", ratio(atomic_load(&st->visits), lookups));
	em_u64(e, "lookup_retries", atomic_load(&st->lookup_retries));
	em_u64(e, "lock_retries", atomic_load(&st->lock_retries));
	em_u64(e, "cas_retries", atomic_load(&st->cas_retries));
	em_u64(e, "range_locks", atomic_load(&st->range_locks));
	em_u64(e, "faults_lockfree", atomic_load(&st->faults_lockfree));
	em_u64(e, "faults_range_locked", atomic_load(&st->faults_locked));
	em_u64(e, "vma_splits", atomic_load(&st->splits));
	em_u64(e, "vma_merges", atomic_load(&st->merges));
	em_u64(e, "anchors_made", atomic_load(&st->anchors_made));
	em_u64(e, "anchors_dropped", atomic_load(&st->anchors_dropped));
	em_u64(e, "slice_allocs", atomic_load(&st->slice_allocs));
	em_u64(e, "gap_searches", atomic_load(&st->gap_searches));
	em_u64(e, "local_modes", atomic_load(&st->local_modes));
	em_u64(e, "global_modes", atomic_load(&st->global_modes));
	em_u64(e, "faults_global", atomic_load(&st->faults_global));
	em_u64(e, "node_replacements", atomic_load(&st->replacements));
	kmm_stats_emit(&mm->pt, e);
}

/* Metadata: every node with its tower (VMAs, anchors and the head). */
static uint64_t sl_metadata_bytes(struct vm_as *as) { return atomic_load(&sl_of(as)->node_bytes); }

/* The design's options (indexes: SL_OPT_*). */
static const struct vm_opt sl_opts[] = {
	[SL_OPT_THP] = KMM_OPT_THP,
	[SL_OPT_TLB_FLUSH] = KMM_OPT_TLB_FLUSH,
	[SL_OPT_NO_ARENAS] = { .name = "no-arenas", .type = VM_OPT_BOOL,
			       .help = "no per-core arenas: unfixed mmaps go top-down from one shared cursor (the paper's "
				       "\"w/o arena\" ablation)" },
	[SL_OPT_IN_PLACE] = { .name = "in-place", .type = VM_OPT_BOOL,
			      .help = "change a VMA's node in place under its write lock instead of swapping in a "
				      "replacement (this design's earlier rule)" },
	{ 0 },
};

const struct vm_design vm_design_skiplist = {
	.name = "skiplist",
	.summary = "VMAs in a concurrent interval skiplist: per-core arenas, per-core locks (local/global mode), range locks, replacement nodes, lock-free faults",
	.has_vmas = true,
	.create = sl_create,
	.destroy = sl_destroy,
	.mmap = sl_mmap,
	.munmap = sl_munmap,
	.mprotect = sl_mprotect,
	.madvise = sl_madvise,
	.mremap = sl_mremap,
	.brk = sl_brk,
	.fault = sl_fault,
	.fork = sl_fork,
	.query = sl_query,
	.mlock = sl_mlock,
	.unmap_file = sl_unmap_file,
	.layout = sl_layout,
	.stats = sl_stats,
	.metadata_bytes = sl_metadata_bytes,
	.check = sl_check,
	.opts = sl_opts,
};
