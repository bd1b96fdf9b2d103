/* design.c: design `listlock`: one lock per address space over a sorted array of VMAs, the smallest correct design; lifetime, layout and stats. */
#include "listlock/ll.h"

/* ll_create: an empty space: no VMA, the lock free, the page-table layer (kmm) with the --thp option. */
static int ll_create(struct vm_as *as, struct mmu_cpu *cpu)
{
	(void)cpu;
	struct llmm *mm = xaligned_zalloc(CACHELINE, sizeof(*mm));
	mm->as = as;
	lk_mutex_init(&mm->lock);
	kmm_init(&mm->pt, as, (unsigned)as->sys->o.dopt[LL_OPT_THP], (unsigned)as->sys->o.dopt[LL_OPT_TLB_FLUSH]);
	atomic_store(&mm->next_av, 1);
	as->priv = mm;
	return 0;
}

/* ll_destroy: host teardown: zap every entry (dropping the frames), free every table, then every VMA. */
static void ll_destroy(struct vm_as *as, struct mmu_cpu *cpu)
{
	struct llmm *mm = ll_of(as);
	(void)cpu; /* teardown is host work: the process is gone */
	kmm_teardown(&mm->pt);
	ll_free_all(mm);
	xfree(mm);
	as->priv = NULL;
}

/* ll_layout: one range per VMA meeting [start, end), in address order (host only). */
static void ll_layout(struct vm_as *as, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg)
{
	struct llmm *mm = ll_of(as);
	for (uint32_t i = ll_index(mm, NULL, start); i < mm->n && mm->v[i]->start < end; i++) {
		const struct llvma *v = mm->v[i];
		struct vm_range r = vr_range(as, v->start, v->end, v->flags, v->file, v->pgoff);
		fn(arg, &r);
	}
}

/* ll_stats: the array's counters, then the page-table layer's. */
static void ll_stats(struct vm_as *as, struct em *e)
{
	struct llmm *mm = ll_of(as);
	em_u64(e, "vmas", mm->n);
	em_u64(e, "searches", mm->searches); /* binary searches of the array (ll_index on a core) */
	em_f64(e, "probes_per_search", mm->searches ? (double)mm->probes / (double)mm->searches : 0);
	em_u64(e, "vma_splits", mm->splits);
	em_u64(e, "vma_merges", mm->merges);
	kmm_stats_emit(&mm->pt, e);
}

/* Metadata: the VMAs and the array of pointers to them. */
static uint64_t ll_metadata_bytes(struct vm_as *as)
{
	struct llmm *mm = ll_of(as);
	return mm->n * sizeof(struct llvma) + mm->cap * sizeof(*mm->v);
}

/* The design's options (indexes: LL_OPT_*). */
static const struct vm_opt ll_opts[] = { [LL_OPT_THP] = KMM_OPT_THP, [LL_OPT_TLB_FLUSH] = KMM_OPT_TLB_FLUSH, { 0 } };

const struct vm_design vm_design_listlock = {
	.name = "listlock",
	.summary = "the smallest design: one lock per process, taken by every mm call and every fault, over a sorted array of VMAs",
	.has_vmas = true,
	.opts = ll_opts,
	.create = ll_create,
	.destroy = ll_destroy,
	.mmap = ll_mmap,
	.munmap = ll_munmap,
	.mprotect = ll_mprotect,
	.madvise = ll_madvise,
	.mremap = ll_mremap,
	.brk = ll_brk,
	.fault = ll_fault,
	.query = ll_query,
	.mlock = ll_mlock,
	.unmap_file = ll_unmap_file,
	.fork = ll_fork,
	.layout = ll_layout,
	.stats = ll_stats,
	.metadata_bytes = ll_metadata_bytes,
	.check = ll_check,
};
