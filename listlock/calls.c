/* calls.c: the `listlock` design's mm calls and page faults: each takes the one lock, does Linux's work on the sorted array (kmm/maps.h, kmm_fault), and releases it. */
#include "listlock/ll.h"

/* ---- the array as kmm's rules see it (kmm/maps.h), inside one call holding the lock ---- */

struct lctx {
	struct kmm_ctx x; /* first: the rules hand it back */
	struct llmm *mm;
	struct llvma *v; /* a fault's VMA */
};

static struct llmm *mm_of(struct kmm_ctx *x) { return ((struct lctx *)x)->mm; }
static void *c_from(struct kmm_ctx *x, uint64_t addr) { return ll_from(mm_of(x), x->cpu, addr); }
static struct vr_attr c_attr(const void *v) { return ll_attr(v); }
static void c_unmap(struct kmm_ctx *x, uint64_t start, uint64_t end) { ll_unmap(mm_of(x), x->cpu, start, end); }
static void *c_place_new(struct kmm_ctx *x, struct vr_attr a, struct vm_file *f)
{
	return ll_place_new(mm_of(x), x->cpu, a, f);
}
static void *c_modify(struct kmm_ctx *x, void *v, uint64_t a, uint64_t b, uint32_t nf)
{
	return ll_modify(mm_of(x), x->cpu, v, a, b, nf);
}
static void c_grow(struct kmm_ctx *x, void *vp, uint64_t end)
{
	struct llvma *v = vp;
	ll_set(mm_of(x), x->cpu, v, v->start, end, v->pgoff);
}
static void c_absorb(struct kmm_ctx *x, void *v, void *n) { ll_absorb(mm_of(x), x->cpu, v, n); }

/* c_relocate: mremap's move to a new place: the top-down search, as mmap's. */
static long c_relocate(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len)
{
	uint64_t na = ll_topdown(mm_of(x), x->cpu, new_len);
	return na ? kmm_vma_move(x, m, addr, old_len, na, new_len) : -ENOMEM;
}

/* c_each: fork's walk over the parent's VMAs, in order (fork_one only reads them). */
static void c_each(struct kmm_ctx *x, bool (*fn)(void *arg, void *v), void *arg)
{
	struct llmm *mm = mm_of(x);
	for (uint32_t i = 0; i < mm->n && fn(arg, mm->v[i]); i++)
		;
}

/* c_clone: the forked child's copy of a VMA: the parent's come in order, so each goes at the end. */
static void c_clone(struct kmm_ctx *x, const struct vr_attr *a, struct vm_file *f) { ll_append(mm_of(x), x->cpu, a, f); }

/* c_anon: anon_vma_prepare for v. */
static void c_anon(struct kmm_ctx *x, void *v) { ll_anon_prepare(mm_of(x), x->cpu, v); }

/* c_set_flags: v's flags in place (MREMAP_DONTUNMAP's old VMA), and its anon_vma gone with drop_av. */
static void c_set_flags(struct kmm_ctx *x, void *vp, uint32_t nf, bool drop_av)
{
	struct llvma *v = vp;
	v->flags = nf;
	if (drop_av)
		v->av = 0, v->chain = 0;
	ll_set(mm_of(x), x->cpu, v, v->start, v->end, v->pgoff); /* the line written */
}

static const struct kmm_maps_ops ops = { KMM_VMA_OPS(c) };

/* ---- the lock ---- */

/* begin: take as's one lock for `what` (narrated with the wait), and the rules' view of its VMAs. */
static struct lctx begin(struct vm_as *as, struct mmu_cpu *cpu, const char *what)
{
	struct llmm *mm = ll_of(as);
	lk_mutex_lock(cpu->core, &mm->lock);
	sim_note_lock(cpu->core, "the mm lock (the address space's one mutex), for %s: no other mm call or page fault "
				 "of this process runs until it is released", what);
	return (struct lctx){ { &ops, &mm->pt, cpu, false }, mm, NULL };
}

/* end: release the lock begin took. */
static void end(struct lctx *c)
{
	lk_mutex_unlock(c->x.cpu->core, &c->mm->lock);
	sim_note(c->x.cpu->core, "the mm lock released");
}

/* ---- the calls ---- */

/* where: mmap's address: addr with MAP_FIXED(_NOREPLACE: -EEXIST over a VMA), the hint if free, else top-down (-ENOMEM). */
static long where(struct llmm *mm, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int flags)
{
	if (flags & VM_MAP_FIXED_NOREPLACE) {
		struct llvma *v = ll_from(mm, cpu, addr);
		return v && v->start < addr + len ? -EEXIST : (long)addr;
	}
	if (flags & VM_MAP_FIXED)
		return (long)addr;
	uint64_t hint = vr_hint(addr);
	struct vr_attr na;
	if (hint && hint <= VM_TASK_SIZE - len && vr_gap_fits(hint, len, ll_attr_of(ll_from(mm, cpu, hint), &na)))
		return (long)hint;
	uint64_t a = ll_topdown(mm, cpu, len);
	return a ? (long)a : -ENOMEM;
}

long ll_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
	     struct vm_file *f, uint64_t off)
{
	struct lctx c = begin(as, cpu, "mmap");
	uint32_t vf = vr_mmap_flags(prot, flags) | vr_def_flags(as);
	long r = where(c.mm, cpu, addr, len, flags);
	if (r >= 0) {
		addr = (uint64_t)r;
		kmm_vma_call(cpu);
		if (flags & VM_MAP_FIXED) /* MAP_FIXED replaces what was there */
			ll_unmap(c.mm, cpu, addr, addr + len);
		uint64_t pgoff = kmm_mmap_pgoff(vf, f, off, addr);
		ll_place_new(c.mm, cpu, (struct vr_attr){ addr, addr + len, vf, f, pgoff, 0, 0 }, f);
	}
	end(&c);
	return r;
}

int ll_munmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct lctx c = begin(as, cpu, "munmap");
	kmm_vma_call(cpu);
	ll_unmap(c.mm, cpu, addr, addr + len);
	end(&c);
	return 0;
}

int ll_mprotect(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot)
{
	struct lctx c = begin(as, cpu, "mprotect");
	int r = kmm_vma_mprotect(&c.x, addr, addr + len, prot);
	end(&c);
	return r;
}

int ll_madvise(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice)
{
	struct lctx c = begin(as, cpu, "madvise");
	int r = kmm_vma_madvise(&c.x, addr, addr + len, advice);
	end(&c);
	return r;
}

long ll_mremap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr)
{
	struct lctx c = begin(as, cpu, "mremap");
	long r = kmm_mremap(&c.x, addr, old_len, new_len, flags, new_addr);
	end(&c);
	return r;
}

long ll_brk(struct vm_as *as, struct mmu_cpu *cpu, uint64_t brk)
{
	struct lctx c = begin(as, cpu, "brk");
	long r = kmm_vma_brk(&c.x, as, brk);
	end(&c);
	return r;
}

bool ll_query(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, struct vm_map *m)
{
	struct lctx c = begin(as, cpu, "a look at the VMAs");
	bool r = kmm_vma_query(&c.x, addr, m);
	end(&c);
	return r;
}

int ll_mlock(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, unsigned to)
{
	struct lctx c = begin(as, cpu, "mlock");
	int r = kmm_vma_lock(&c.x, addr, len, to);
	end(&c);
	return r;
}

void ll_unmap_file(struct vm_as *as, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi, bool even_cows)
{
	struct lctx c = begin(as, cpu, "unmapping a file's pages");
	kmm_vma_unmap_file(&c.x, f, lo, hi, even_cows);
	end(&c);
}

/* ll_fork: the parent under its lock; the child is not locked: nobody else can see it yet. */
int ll_fork(struct vm_as *parent, struct vm_as *child, struct mmu_cpu *cpu)
{
	struct lctx p = begin(parent, cpu, "fork");
	struct lctx c = { { &ops, &ll_of(child)->pt, cpu, false }, ll_of(child), NULL };
	int err = kmm_vma_fork(&p.x, &c.x, &p.mm->next_av, &c.mm->next_av);
	end(&p);
	return err;
}

/* ---- page faults ---- */

/* expand_stack: grow the grows-down VMA v (above va) down to va's page; NULL if Linux would not. */
static struct llvma *expand_stack(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v, uint64_t va)
{
	uint64_t start = va & ~(PAGE_SIZE - 1);
	if (!(v->flags & VR_GROWSDOWN) || start < VM_MMAP_MIN_ADDR || v->end - start > VR_STACK_LIMIT)
		return NULL;
	struct llvma *prev = ll_before(mm, cpu, v->start);
	if (prev && !vr_stack_gap_ok(prev->flags, prev->end, start))
		return NULL;
	sim_note(cpu->core, "the stack VMA [%#llx, %#llx) grows down to %#llx", (unsigned long long)v->start,
		 (unsigned long long)v->end, (unsigned long long)start);
	ll_set(mm, cpu, v, start, v->end, v->pgoff - ((v->start - start) >> PAGE_SHIFT));
	return v;
}

/* anon_prepare_cb: kmm_fault's anon_vma_prepare for the fault's VMA (arg: its lctx): always possible, the fault holds the one lock. */
static bool anon_prepare_cb(void *arg, struct mmu_cpu *cpu)
{
	struct lctx *c = arg;
	ll_anon_prepare(c->mm, cpu, c->v);
	return true;
}

/* ll_fault: under the one lock, like any call: find the VMA (or grow the stack to va), then kmm_fault. */
enum vm_fault ll_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err)
{
	struct lctx c = begin(as, cpu, "a page fault");
	struct llvma *v = ll_from(c.mm, cpu, va);
	if (v && v->start > va)
		v = expand_stack(c.mm, cpu, v, va);
	enum vm_fault r = VM_FAULT_SEGV;
	if (v) {
		c.v = v;
		struct kmm_vma kv = { v->start, v->end, v->flags, v->file, v->pgoff, v->av != 0, anon_prepare_cb, &c };
		r = kmm_fault(&c.mm->pt, cpu, &kv, va, err);
	} else {
		sim_note(cpu->core, "no VMA holds %#llx: SIGSEGV", (unsigned long long)va);
	}
	end(&c);
	return r;
}
