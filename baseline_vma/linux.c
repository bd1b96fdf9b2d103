/* linux.c: designs `linux` and `linux-mmap-lock`: every mm call under mmap_lock, Linux's rules (kmm/maps.h) over the VMAs of vma.c; lifetime, layout and stats. */
#include "baseline_vma/linux.h"
#include "kmm/maps.h"

/* ---- the VMAs as kmm's rules see them (kmm/maps.h), inside one call holding mmap_lock for writing ---- */

struct lctx {
	struct kmm_ctx x; /* first: the rules hand it back */
	struct lmm *mm;
};

static struct lmm *mm_of(struct kmm_ctx *x) { return ((struct lctx *)x)->mm; }
static void *l_from(struct kmm_ctx *x, uint64_t addr) { return linux_find(mm_of(x), x->cpu, addr); }
static struct vr_attr l_attr(const void *v) { return linux_attr(v); }
static void l_unmap(struct kmm_ctx *x, uint64_t start, uint64_t end) { linux_unmap(mm_of(x), x->cpu, start, end, false); }
static void *l_place_new(struct kmm_ctx *x, struct vr_attr a, struct vm_file *f)
{
	return linux_place_new(mm_of(x), x->cpu, a, f);
}
static void *l_modify(struct kmm_ctx *x, void *v, uint64_t a, uint64_t b, uint32_t nf)
{
	return linux_modify(mm_of(x), x->cpu, v, a, b, nf);
}
static void l_grow(struct kmm_ctx *x, void *v, uint64_t end) { linux_grow(mm_of(x), x->cpu, v, end); }
static void l_absorb(struct kmm_ctx *x, void *v, void *n) { linux_absorb(mm_of(x), x->cpu, v, n); }

/* l_relocate: mremap's move to a new place: the top-down search. */
static long l_relocate(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len)
{
	uint64_t na = linux_topdown(mm_of(x), x->cpu, new_len);
	return na ? kmm_vma_move(x, m, addr, old_len, na, new_len) : -ENOMEM;
}

/* l_each: fork's walk over the parent's VMAs (read from the tree without charge, as dup_mmap's iterator). */
static void l_each(struct kmm_ctx *x, bool (*fn)(void *arg, void *v), void *arg)
{
	struct lvma_list c = { 0 };
	mt_for_each(&mm_of(x)->mt, 0, VM_TASK_SIZE, linux_collect, &c);
	for (uint32_t i = 0; i < c.n && fn(arg, c.v[i]); i++)
		;
	xfree(c.v);
}

/* l_clone: a forked child's copy of a VMA (nobody else sees the child yet: not write-locked). */
static void l_clone(struct kmm_ctx *x, const struct vr_attr *a, struct vm_file *f)
{
	struct lvma *n = linux_vma_new(mm_of(x), x->cpu, a, f);
	atomic_store(&n->lock_seq, UINT64_MAX);
	linux_tree_insert(mm_of(x), x->cpu, n);
}

/* l_anon: anon_vma_prepare for v. */
static void l_anon(struct kmm_ctx *x, void *v) { linux_anon_prepare(mm_of(x), x->cpu, v); }

/* l_set_flags: v's flags in place (MREMAP_DONTUNMAP's old VMA, under mmap_lock for writing), its anon_vma gone with drop_av. */
static void l_set_flags(struct kmm_ctx *x, void *vp, uint32_t nf, bool drop_av)
{
	struct lvma *v = vp;
	linux_vma_write_lock(mm_of(x), x->cpu, v);
	v->flags = nf;
	if (drop_av) {
		v->av = 0;
		v->chain = 0;
	}
	coh_write(x->cpu->core, &v->line);
}

static const struct kmm_maps_ops lops = { KMM_VMA_OPS(l) };

static struct lctx ctx(struct lmm *mm, struct mmu_cpu *cpu) { return (struct lctx){ { &lops, &mm->pt, cpu, false }, mm }; }

/* ---- the operations ---- */

static long linux_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
		       struct vm_file *f, uint64_t off)
{
	struct lmm *mm = lmm_of(as);
	linux_mmap_write_lock(mm, cpu);
	uint32_t vf = vr_mmap_flags(prot, flags) | vr_def_flags(as);
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) {
		if (flags & VM_MAP_FIXED_NOREPLACE) {
			struct lvma *v = linux_find(mm, cpu, addr);
			if (v && lv_start(v) < addr + len) {
				linux_mmap_write_unlock(mm, cpu);
				return -EEXIST;
			}
		}
	} else {
		uint64_t hint = vr_hint(addr);
		if (hint && hint <= VM_TASK_SIZE - len && linux_range_free(mm, cpu, hint, len)) {
			addr = hint;
		} else {
			addr = linux_topdown(mm, cpu, len);
			if (!addr) {
				linux_mmap_write_unlock(mm, cpu);
				return -ENOMEM;
			}
		}
	}
	kmm_vma_call(cpu);
	if (flags & VM_MAP_FIXED)
		linux_unmap(mm, cpu, addr, addr + len, false);
	uint64_t pgoff = kmm_mmap_pgoff(vf, f, off, addr);
	linux_place_new(mm, cpu, (struct vr_attr){ addr, addr + len, vf, f, pgoff, 0, 0 }, f);
	linux_mmap_write_unlock(mm, cpu);
	return (long)addr;
}

static int linux_munmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct lmm *mm = lmm_of(as);
	linux_mmap_write_lock(mm, cpu);
	kmm_vma_call(cpu);
	if (linux_unmap(mm, cpu, addr, addr + len, true)) {
		lk_up_read(cpu->core, &mm->mmap_lock);
		sim_note(cpu->core, "mmap_lock released");
	} else
		linux_mmap_write_unlock(mm, cpu);
	return 0;
}

static int linux_mprotect(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot)
{
	struct lmm *mm = lmm_of(as);
	linux_mmap_write_lock(mm, cpu);
	struct lctx c = ctx(mm, cpu);
	int err = kmm_vma_mprotect(&c.x, addr, addr + len, prot);
	linux_mmap_write_unlock(mm, cpu);
	return err;
}

static int linux_madvise(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice)
{
	struct lmm *mm = lmm_of(as);
	/* Advice that changes VMA flags takes mmap_lock for writing; the rest only reads the VMAs. */
	bool wr = vr_changes_flags(advice);
	if (wr)
		linux_mmap_write_lock(mm, cpu);
	else
		lk_down_read(cpu->core, &mm->mmap_lock);
	struct lctx c = ctx(mm, cpu);
	int r = kmm_vma_madvise(&c.x, addr, addr + len, advice);
	if (wr)
		linux_mmap_write_unlock(mm, cpu);
	else
		lk_up_read(cpu->core, &mm->mmap_lock);
	return r;
}

static long linux_mremap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t old_len, uint64_t new_len,
			 int flags, uint64_t new_addr)
{
	struct lmm *mm = lmm_of(as);
	linux_mmap_write_lock(mm, cpu);
	struct lctx c = ctx(mm, cpu);
	long r = kmm_mremap(&c.x, addr, old_len, new_len, flags, new_addr);
	linux_mmap_write_unlock(mm, cpu);
	return r;
}

static long linux_brk(struct vm_as *as, struct mmu_cpu *cpu, uint64_t brk)
{
	struct lmm *mm = lmm_of(as);
	linux_mmap_write_lock(mm, cpu);
	struct lctx c = ctx(mm, cpu);
	long r = kmm_vma_brk(&c.x, as, brk);
	linux_mmap_write_unlock(mm, cpu);
	return r;
}

static int linux_fork(struct vm_as *parent, struct vm_as *child, struct mmu_cpu *cpu)
{
	struct lmm *pm = lmm_of(parent), *cm = lmm_of(child);
	linux_mmap_write_lock(pm, cpu);
	struct lctx p = ctx(pm, cpu), c = ctx(cm, cpu);
	int err = kmm_vma_fork(&p.x, &c.x, &pm->next_av, &cm->next_av);
	linux_mmap_write_unlock(pm, cpu);
	return err;
}

/* linux_query: the VMA at or above addr, under mmap_lock for reading. */
static bool linux_query(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, struct vm_map *m)
{
	struct lmm *mm = lmm_of(as);
	lk_down_read(cpu->core, &mm->mmap_lock);
	struct lctx c = ctx(mm, cpu);
	bool r = kmm_vma_query(&c.x, addr, m);
	lk_up_read(cpu->core, &mm->mmap_lock);
	return r;
}

static int linux_mlock(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, unsigned to)
{
	struct lmm *mm = lmm_of(as);
	linux_mmap_write_lock(mm, cpu);
	struct lctx c = ctx(mm, cpu);
	int r = kmm_vma_lock(&c.x, addr, len, to);
	linux_mmap_write_unlock(mm, cpu);
	return r;
}

/* linux_unmap_file: unmap_mapping_range walks the file's i_mmap; here the VMAs, under mmap_lock for reading. */
static void linux_unmap_file(struct vm_as *as, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi,
			     bool even_cows)
{
	struct lmm *mm = lmm_of(as);
	lk_down_read(cpu->core, &mm->mmap_lock);
	struct lctx c = ctx(mm, cpu);
	kmm_vma_unmap_file(&c.x, f, lo, hi, even_cows);
	lk_up_read(cpu->core, &mm->mmap_lock);
}

/* ---- host-side queries and lifetime ---- */

struct layout_arg {
	struct vm_as *as;
	vm_visit_fn fn;
	void *arg;
};

static void layout_one(void *p, void *vma)
{
	struct layout_arg *a = p;
	const struct lvma *v = vma;
	struct vm_range r = vr_range(a->as, lv_start(v), lv_end(v), v->flags, v->file, v->pgoff);
	a->fn(a->arg, &r);
}

static void linux_layout(struct vm_as *as, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg)
{
	struct layout_arg a = { as, fn, arg };
	mt_for_each(&lmm_of(as)->mt, start, end, layout_one, &a);
}

static int create(struct vm_as *as, bool per_vma)
{
	struct lmm *mm = xaligned_zalloc(CACHELINE, sizeof(*mm));
	mm->as = as;
	mm->per_vma_locks = per_vma;
	lk_rwsem_init(&mm->mmap_lock);
	kmm_init(&mm->pt, as, (unsigned)as->sys->o.dopt[LINUX_OPT_THP], (unsigned)as->sys->o.dopt[LINUX_OPT_TLB_FLUSH]);
	linux_tree_init(mm);
	atomic_store(&mm->next_av, 1);
	atomic_store(&mm->mm_lock_seq, 1);
	as->priv = mm;
	return 0;
}

static int linux_create(struct vm_as *as, struct mmu_cpu *cpu) { return (void)cpu, create(as, true); }
static int linux_mmap_lock_create(struct vm_as *as, struct mmu_cpu *cpu) { return (void)cpu, create(as, false); }

static void linux_destroy(struct vm_as *as, struct mmu_cpu *cpu)
{
	struct lmm *mm = lmm_of(as);
	(void)cpu; /* teardown is host work: the process is gone */
	struct lvma_list c = { 0 };
	mt_for_each(&mm->mt, 0, UINT64_MAX, linux_collect, &c);
	kmm_teardown(&mm->pt);
	mt_destroy(&mm->mt);
	for (uint32_t i = 0; i < c.n; i++) {
		if (c.v[i]->file)
			vm_file_put(as->sys, c.v[i]->file);
		xfree(c.v[i]);
	}
	xfree(c.v);
	xfree(mm);
	as->priv = NULL;
}

static void linux_stats(struct vm_as *as, struct em *e)
{
	struct lmm *mm = lmm_of(as);
	em_u64(e, "vmas", atomic_load(&mm->nvmas));
	em_u64(e, "tree_nodes", mm->mt.nodes);
	em_u64(e, "tree_height", mm->mt.height);
	em_u64(e, "faults_vma_locked", atomic_load(&mm->vma_lock_faults));
	em_u64(e, "faults_mmap_locked", atomic_load(&mm->mmap_lock_faults));
	em_u64(e, "vma_splits", mm->st.splits);
	em_u64(e, "vma_merges", mm->st.merges);
	kmm_stats_emit(&mm->pt, e);
}

static uint64_t linux_metadata_bytes(struct vm_as *as)
{
	struct lmm *mm = lmm_of(as);
	return atomic_load(&mm->nvmas) * sizeof(struct lvma) + mm->mt.nodes * sizeof(struct mt_node);
}

/* The options of both Linux designs (indexes: LINUX_OPT_*). */
static const struct vm_opt linux_opts[] = { [LINUX_OPT_THP] = KMM_OPT_THP, [LINUX_OPT_TLB_FLUSH] = KMM_OPT_TLB_FLUSH, { 0 } };

/* LINUX_DESIGN: the two designs share every operation; their spaces differ in how faults lock (create). */
#define LINUX_DESIGN(NAME, CREATE, SUMMARY)                                                                       \
	{                                                                                                           \
		.name = NAME, .summary = SUMMARY, .create = CREATE, .opts = linux_opts, .has_vmas = true,           \
		.destroy = linux_destroy, .mmap = linux_mmap, .munmap = linux_munmap, .mprotect = linux_mprotect,   \
		.madvise = linux_madvise, .mremap = linux_mremap, .brk = linux_brk, .fault = linux_fault,           \
		.fork = linux_fork, .query = linux_query, .mlock = linux_mlock, .unmap_file = linux_unmap_file,    \
		.layout = linux_layout, .stats = linux_stats,                                   \
		.metadata_bytes = linux_metadata_bytes, .check = linux_check,                                       \
	}

const struct vm_design vm_design_linux =
	LINUX_DESIGN("linux", linux_create,
		     "Linux 6.x: VMAs in a maple-shaped tree, mmap_lock, faults under per-VMA locks found by RCU");
const struct vm_design vm_design_linux_mmap_lock = LINUX_DESIGN(
	"linux-mmap-lock", linux_mmap_lock_create, "Linux before 6.4: as `linux`, but every fault takes mmap_lock for reading");
