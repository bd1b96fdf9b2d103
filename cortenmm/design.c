/* design.c: designs `cortenmm-rw` and `cortenmm-adv`: lifetime, layout, statistics, options and the operations table. */
#include "cortenmm/cm.h"
#include "kmm/kmm.h"

/* ---- host-side queries and lifetime ---- */

struct layout_arg {
	struct vm_as *as;
	vm_visit_fn fn;
	void *arg;
	struct vm_range cur;
	bool have;
	uint64_t next_pgoff;
};

static void layout_flush(struct layout_arg *a)
{
	if (a->have)
		a->fn(a->arg, &a->cur);
	a->have = false;
}

static bool layout_run(void *p, uint64_t lo, uint64_t hi, const struct cm_meta *m, uint64_t pte, int level)
{
	(void)pte, (void)level;
	struct layout_arg *a = p;
	if (m->kind == CM_INVALID) {
		layout_flush(a);
		return true;
	}
	struct vm_range r = {
		.start = lo,
		.end = hi,
		.prot = m->flags & VR_PROT,
		.flags = (m->flags & VR_SHARED ? VM_RANGE_SHARED : 0) | (m->flags & VR_GROWSDOWN ? VM_RANGE_STACK : 0),
		.kind = m->kind == CM_FILE ? VM_KIND_FILE : VM_KIND_ANON,
		.file = m->file,
		.file_id = m->file ? m->file->id : 0,
		.pgoff = m->kind == CM_FILE ? m->pgoff : 0,
	};
	struct vm_range *c = &a->cur;
	bool joins = a->have && c->end == lo && c->prot == r.prot && c->flags == r.flags && c->kind == r.kind &&
		     c->file == r.file && (r.kind != VM_KIND_FILE || a->next_pgoff == r.pgoff);
	if (joins) {
		c->end = hi;
	} else {
		layout_flush(a);
		*c = r;
		a->have = true;
	}
	a->next_pgoff = m->pgoff + ((hi - lo) >> PAGE_SHIFT);
	return true;
}

static void cm_layout(struct vm_as *as, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg)
{
	struct layout_arg a = { .as = as, .fn = fn, .arg = arg };
	cm_host_walk(cm_of(as), start & ~(PAGE_SIZE - 1), MIN(vm_page_up(end), VM_TASK_SIZE), layout_run, &a);
	layout_flush(&a);
}

static int create(struct vm_as *as, bool adv)
{
	struct cm_as *mm = xaligned_zalloc(CACHELINE, sizeof(*mm));
	mm->as = as;
	mm->adv = adv;
	struct cm_pt *root = xaligned_zalloc(CACHELINE, sizeof(*root));
	root->p = as->hw.root;
	root->level = as->sys->mmu->o.levels;
	root->mm = mm;
	lk_rwsem_init(&root->rw);
	lk_mcs_init(&root->mcs);
	as->hw.root->desc = root;
	mm->root = root;
	atomic_store(&mm->desc_bytes, sizeof(*root));
	uint32_t n = as->sys->sim->o.ncores;
	mm->slice_next = xzalloc(sizeof(uint64_t) * n);
	for (uint32_t i = 0; i < n; i++)
		/*
		 * One free page at the bottom of each slice: the first mapping's
		 * lower neighbour (which mmap looks at) is then inside the slice,
		 * not across a 64 GiB boundary, where the covering page would be a
		 * PDPT or the root, shared with other cores.
		 */
		mm->slice_next[i] = CM_SLICE_BASE + ((uint64_t)i << CM_SLICE_SHIFT) + PAGE_SIZE;
	lk_spin_init(&mm->alloc_lock);
	lk_spin_init(&mm->brk_lock);
	pthread_mutex_init(&mm->files_mu, NULL);
	if (as->sys->o.dopt[CM_OPT_LAZY_FLUSH])
		cm_latr_init(as->sys);
	as->priv = mm;
	return 0;
}

static int rw_create(struct vm_as *as, struct mmu_cpu *cpu) { return (void)cpu, create(as, false); }
static int adv_create(struct vm_as *as, struct mmu_cpu *cpu) { return (void)cpu, create(as, true); }

static void cm_destroy(struct vm_as *as, struct mmu_cpu *cpu)
{
	(void)cpu;
	struct cm_as *mm = cm_of(as);
	cm_latr_drain(as->sys, as);
	sim_rcu_barrier(); /* stray tables waiting for their grace period still point at mm */
	cm_destroy_tables(mm);
	xfree(mm->root->meta);
	as->hw.root->desc = NULL;
	xfree(mm->root);
	for (uint32_t i = 0; i < mm->nfiles; i++)
		vm_file_put(as->sys, mm->files[i]);
	xfree(mm->files);
	pthread_mutex_destroy(&mm->files_mu);
	xfree(mm->slice_next);
	xfree(mm);
	as->priv = NULL;
}

static void cm_stats(struct vm_as *as, struct em *e)
{
	struct cm_as *mm = cm_of(as);
	em_u64(e, "cursors", atomic_load(&mm->st.cursors));
	em_u64(e, "cursor_retries", atomic_load(&mm->st.retries));
	em_u64(e, "dfs_locks", atomic_load(&mm->st.dfs_locks));
	for (int l = 1; l <= 5; l++) {
		char key[32];
		snprintf(key, sizeof(key), "cover_level%d", l);
		em_u64(e, key, atomic_load(&mm->st.cover_level[l]));
	}
	em_u64(e, "status_pushdowns", atomic_load(&mm->st.pushdowns));
	em_u64(e, "big_marks", atomic_load(&mm->st.big_marks));
	em_u64(e, "pt_pages_allocated", atomic_load(&mm->st.pt_alloc));
	em_u64(e, "pt_pages_freed", atomic_load(&mm->st.pt_free));
	em_u64(e, "slice_allocs", atomic_load(&mm->st.slice_allocs));
	em_u64(e, "cow_copies", atomic_load(&mm->st.cow_copies));
	em_u64(e, "cow_reuses", atomic_load(&mm->st.cow_reuses));
	em_u64(e, "latr_deferred_flushes", cm_latr_deferred(as->sys));
	em_u64(e, "meta_bytes", atomic_load(&mm->meta_bytes));
	em_u64(e, "descriptor_bytes", atomic_load(&mm->desc_bytes));
}

/* describe_entry (vm.h): the status kept beside entry i of PT page p. */
static bool cm_describe_entry(struct vm_as *as, const struct pm_ptpage *p, int level, unsigned i, char *buf, size_t n)
{
	(void)as;
	(void)level;
	const struct cm_pt *d = p->desc;
	if (!d || !d->meta || d->meta[i].kind == CM_INVALID)
		return false;
	cm_meta_describe(&d->meta[i], buf, n);
	return true;
}

static uint64_t cm_metadata_bytes(struct vm_as *as)
{
	struct cm_as *mm = cm_of(as);
	return atomic_load(&mm->meta_bytes) + atomic_load(&mm->desc_bytes);
}

/* The options of both CortenMM designs (indexes: CM_OPT_*). */
static const struct vm_opt cm_opts[] = {
	[CM_OPT_LAZY_FLUSH] = { .name = "lazy-flush", .type = VM_OPT_BOOL,
				.help = "LATR-style lazy remote TLB flushes: remote cores flush at their next tick, "
					"freed frames wait until all have" },
	[CM_OPT_NO_SLICES] = { .name = "no-slices", .type = VM_OPT_BOOL,
			       .help = "allocate addresses top-down under one lock, not from per-core slices" },
	[CM_OPT_TLB_FLUSH] = KMM_OPT_TLB_FLUSH,
	[CM_OPT_NO_PT_POOL] = { .name = "no-pt-pool", .type = VM_OPT_BOOL,
				.help = "allocate and zero a missing page table under its parent's lock, not from the "
					"core's pool of zeroed frames that every cursor tops up before locking" },
	{ 0 },
};

/* CM_DESIGN: the two designs share every operation; their spaces differ in the lock protocol (create). */
#define CM_DESIGN(NAME, CREATE, SUMMARY)                                                                          \
	{                                                                                                           \
		.name = NAME, .summary = SUMMARY, .create = CREATE, .opts = cm_opts, .has_vmas = false,             \
		.destroy = cm_destroy, .mmap = cm_mmap, .munmap = cm_munmap, .mprotect = cm_mprotect,               \
		.madvise = cm_madvise, .mremap = cm_mremap, .brk = cm_brk, .fault = cm_fault, .fork = cm_fork,      \
		.query = cm_query_op, .mlock = cm_mlock, .unmap_file = cm_unmap_file,                               \
		.layout = cm_layout, .tick = cm_latr_tick, .describe_entry = cm_describe_entry, .stats = cm_stats, \
		.metadata_bytes = cm_metadata_bytes, .check = cm_check,                                             \
	}

const struct vm_design vm_design_cortenmm_rw =
	CM_DESIGN("cortenmm-rw", rw_create, "CortenMM, rw protocol: read-lock the path, write-lock the covering PT page");
const struct vm_design vm_design_cortenmm_adv =
	CM_DESIGN("cortenmm-adv", adv_create,
		  "CortenMM, adv protocol: lock-free RCU descent, MCS-lock the covering page and its children");
