/* calls.c: the `skiplist` design's mm calls: each enters local or global mode, takes range locks over what it covers (brk calls also take turns on the brk lock), then applies Linux's rules (kmm/maps.h) to the nodes it holds. */
#include "skiplist/sl.h"
#include "kmm/maps.h"

#include <limits.h>

#define P PAGE_SIZE

/* Lock [a - 1 page, b + 1 page + extra): the range, its neighbours, and `extra` bytes above for guard-gap checks. */
static void lock_around(struct sl_lockset *s, struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t a, uint64_t b,
			uint64_t extra)
{
	sl_lock_range(s, mm, cpu, a >= P ? a - P : 0, b + P + extra);
}

/* Is [a, a + len) free, with the x86 guard-gap rule for a stack above it? */
static bool range_free(struct sl_lockset *s, uint64_t a, uint64_t len)
{
	struct sl_node *n = sl_vma_from(s, a);
	struct vr_attr na;
	if (n)
		na = sl_attr(n);
	return vr_gap_fits(a, len, n ? &na : NULL);
}


/* ---- the nodes as kmm's rules see them (kmm/maps.h), inside one call's range locks ---- */

#define NEED_PLACE LONG_MIN /* mremap must move and no free destination is locked yet */

struct sctx {
	struct kmm_ctx x; /* first: the rules hand it back */
	struct sl_lockset *s;
	uint64_t dest; /* mremap: the free destination this call locked, or 0 */
};

static struct sl_lockset *set_of(struct kmm_ctx *x) { return ((struct sctx *)x)->s; }
static void *s_from(struct kmm_ctx *x, uint64_t addr) { return sl_vma_from(set_of(x), addr); }
static struct vr_attr s_attr(const void *v) { return sl_attr(sl_cur((struct sl_node *)v)); }
static void s_unmap(struct kmm_ctx *x, uint64_t start, uint64_t end) { sl_unmap(set_of(x), start, end); }
static void *s_place_new(struct kmm_ctx *x, struct vr_attr a, struct vm_file *f) { return sl_place_new(set_of(x), a, f); }
static void *s_modify(struct kmm_ctx *x, void *v, uint64_t a, uint64_t b, uint32_t nf)
{
	return sl_modify(set_of(x), sl_cur(v), a, b, nf);
}

/* s_grow: the node's interval takes the gap above it up to end (its anchors go first). */
static void s_grow(struct kmm_ctx *x, void *v, uint64_t end)
{
	struct sl_node *n = sl_cur(v);
	sl_claim(set_of(x), sn_end(n), end);
	sl_set_end(set_of(x), n, end);
}

/* s_absorb: v grows over n before n goes, so n's interval is never seen as a gap. */
static void s_absorb(struct kmm_ctx *x, void *vp, void *np)
{
	struct sl_lockset *s = set_of(x);
	struct sl_node *v = sl_cur(vp), *n = sl_cur(np);
	sl_vma_write(s, n);
	if (!v->av && n->av)
		v->av = n->av, v->chain = n->chain;
	sl_set_end(s, v, sn_end(n));
	sl_remove(s, n);
	sl_inc(&s->mm->st.merges);
}

/* s_relocate: mremap's move needs a destination locked with the source: NEED_PLACE until sl_mremap has one. */
static long s_relocate(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len)
{
	uint64_t dest = ((struct sctx *)x)->dest;
	struct sl_node *taken = dest ? sl_vma_from(set_of(x), dest) : NULL;
	if (!dest || (taken && sn_start(taken) < dest + new_len))
		return NEED_PLACE;
	return kmm_vma_move(x, m, addr, old_len, dest, new_len);
}

/* s_each: fork's walk of the parent's VMAs, under the locks of the whole space. */
static void s_each(struct kmm_ctx *x, bool (*fn)(void *arg, void *v), void *arg)
{
	bool go = true;
	for (struct sl_node *v = sl_vma_from(set_of(x), 0); v && go; v = sl_vma_from(set_of(x), sn_end(v)))
		go = fn(arg, v);
}

/* s_clone: a forked child's copy of a VMA, linked under the child's locks (nobody else sees the child yet). */
static void s_clone(struct kmm_ctx *x, const struct vr_attr *a, struct vm_file *f)
{
	struct sl_lockset *s = set_of(x);
	sl_link(s->mm, s->cpu, sl_vma_new(s, a, f));
}

/* s_anon: anon_vma_prepare for v, under the range locks. */
static void s_anon(struct kmm_ctx *x, void *v) { sl_anon_prepare(set_of(x), v); }

/* s_set_flags: v's flags in place (MREMAP_DONTUNMAP's old VMA), its anon_vma gone with drop_av. */
static void s_set_flags(struct kmm_ctx *x, void *vp, uint32_t nf, bool drop_av)
{
	struct sl_node *v = vp;
	sl_vma_write(set_of(x), v);
	v->flags = nf;
	if (drop_av)
		v->av = 0, v->chain = 0;
}

static const struct kmm_maps_ops sops = { KMM_VMA_OPS(s) };

static struct sctx ctx(struct sl_lockset *s) { return (struct sctx){ { &sops, &s->mm->pt, s->cpu, false }, s, 0 }; }

/*
 * Placement without a global lock. A hint that Linux would honour is used
 * as is, in any area. Otherwise the address comes from this core's 64 GiB
 * arena: its hint (a cursor only this core touches) and its anchor at the
 * base, so the arena's gaps are its own and no other core's range lock
 * covers them. When the arena is full, a lock-free first-fit search of the
 * arena, then of the whole mmap area (never ENOMEM while a gap fits).
 * Every candidate is validated under the range locks (another core may
 * have taken it since), and a failed one costs a retry, not a lock.
 * With --no-arenas: top-down from one shared cursor instead.
 */
static uint64_t place(struct sl_lockset *s, struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	uint64_t hint = vr_hint(addr);
	if (hint && hint <= VM_TASK_SIZE - len) {
		lock_around(s, mm, cpu, hint, hint + len, VM_STACK_GUARD_GAP);
		if (range_free(s, hint, len))
			return hint;
		sl_unlock(s);
	}
	sl_anchor_slice(mm, cpu);
	for (int attempt = 0; attempt < 64; attempt++) {
		uint64_t a = sl_candidate(mm, cpu, len, attempt);
		if (!a)
			return 0;
		lock_around(s, mm, cpu, a, a + len, VM_STACK_GUARD_GAP);
		if (range_free(s, a, len))
			return a;
		sl_unlock(s);
	}
	return 0;
}

long sl_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
	     struct vm_file *f, uint64_t off)
{
	struct sl_mm *mm = sl_of(as);
	struct sl_lockset s;
	uint32_t vf = vr_mmap_flags(prot, flags) | vr_def_flags(as);
	bool fixed = flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE);
	/* local mode unless a fixed range or a hint spans areas (an unfixed mapping goes to this core's arena) */
	uint64_t want = fixed ? addr : vr_hint(addr);
	bool g = sl_mode_enter(mm, cpu, want && !sl_one_area(mm, want, want + len));
	if (fixed) {
		lock_around(&s, mm, cpu, addr, addr + len, 0);
		if (flags & VM_MAP_FIXED_NOREPLACE) {
			struct sl_node *v = sl_vma_from(&s, addr);
			if (v && sn_start(v) < addr + len) {
				sl_unlock(&s);
				sl_mode_exit(mm, cpu, g);
				return -EEXIST;
			}
		}
	} else {
		addr = place(&s, mm, cpu, addr, len);
		if (!addr) {
			sl_mode_exit(mm, cpu, g);
			return -ENOMEM;
		}
	}
	kmm_vma_call(cpu);
	if (flags & VM_MAP_FIXED)
		sl_unmap(&s, addr, addr + len);
	uint64_t pgoff = kmm_mmap_pgoff(vf, f, off, addr);
	sl_place_new(&s, (struct vr_attr){ addr, addr + len, vf, f, pgoff, 0, 0 }, f);
	sl_unlock(&s);
	sl_mode_exit(mm, cpu, g);
	return (long)addr;
}

int sl_munmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct sl_mm *mm = sl_of(as);
	struct sl_lockset s;
	bool g = sl_mode_enter(mm, cpu, !sl_one_area(mm, addr, addr + len));
	lock_around(&s, mm, cpu, addr, addr + len, 0);
	kmm_vma_call(cpu);
	sl_unmap(&s, addr, addr + len);
	sl_unlock(&s);
	sl_mode_exit(mm, cpu, g);
	return 0;
}

/* under_locks: one of kmm's VMA calls (mprotect, madvise) over [addr, addr + len), under the range locks around it. */
static int under_locks(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len,
		       int (*call)(struct kmm_ctx *x, uint64_t start, uint64_t end, int arg), int arg)
{
	struct sl_mm *mm = sl_of(as);
	struct sl_lockset s;
	bool g = sl_mode_enter(mm, cpu, !sl_one_area(mm, addr, addr + len));
	lock_around(&s, mm, cpu, addr, addr + len, 0);
	struct sctx c = ctx(&s);
	int r = call(&c.x, addr, addr + len, arg);
	sl_unlock(&s);
	sl_mode_exit(mm, cpu, g);
	return r;
}

int sl_mprotect(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot)
{
	return under_locks(as, cpu, addr, len, kmm_vma_mprotect, prot);
}

int sl_madvise(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice)
{
	return under_locks(as, cpu, addr, len, kmm_vma_madvise, advice);
}

long sl_brk(struct vm_as *as, struct mmu_cpu *cpu, uint64_t brk)
{
	struct sl_mm *mm = sl_of(as);
	lk_spin_lock(cpu->core, &mm->brk_lock); /* as->brk is process-wide: brk calls take turns, then range locks */
	sim_note_lock(cpu->core, "the brk lock (brk and start_brk are process-wide)");
	uint64_t newbrk = vm_page_up(brk), oldbrk = vm_page_up(as->brk);
	uint64_t lo = MIN(oldbrk, newbrk), hi = MAX(oldbrk, newbrk);
	bool g = sl_mode_enter(mm, cpu, !sl_one_area(mm, lo, hi));
	struct sl_lockset s;
	lock_around(&s, mm, cpu, lo, hi, P + VM_STACK_GUARD_GAP);
	struct sctx c = ctx(&s);
	long ret = kmm_vma_brk(&c.x, as, brk);
	sl_unlock(&s);
	sl_mode_exit(mm, cpu, g);
	lk_spin_unlock(cpu->core, &mm->brk_lock);
	return ret;
}

long sl_mremap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr)
{
	struct sl_mm *mm = sl_of(as);
	bool target = vr_mremap_target(flags, new_addr);
	uint64_t dest = 0;
	for (int attempt = 0; attempt < 64; attempt++) {
		/* The old range and, when known, the destination, taken together in address order. */
		uint64_t a[3], b[3];
		a[0] = addr >= P ? addr - P : 0;
		b[0] = addr + MAX(old_len, new_len) + P;
		int n = 1;
		if (target) { /* MREMAP_FIXED's target, or MREMAP_DONTUNMAP's nonzero hint */
			a[n] = new_addr >= P ? new_addr - P : 0;
			b[n++] = new_addr + new_len + P + VM_STACK_GUARD_GAP;
		}
		if (dest) {
			a[n] = dest >= P ? dest - P : 0;
			b[n++] = dest + new_len + P;
		}
		/* local mode when the source and the destination lie in one area */
		bool g = sl_mode_enter(mm, cpu, !sl_one_area(mm, addr, addr + MAX(old_len, new_len)) ||
						       (n == 2 && !(sl_one_area(mm, a[1] + P, b[1] - P) &&
								    sl_area(mm, a[1] + P) == sl_area(mm, addr))));
		struct sl_lockset s;
		sl_lock_ranges(&s, mm, cpu, a, b, n);
		struct sctx c = ctx(&s);
		c.dest = dest;
		long r = kmm_mremap(&c.x, addr, old_len, new_len, flags, new_addr);
		sl_unlock(&s);
		sl_mode_exit(mm, cpu, g);
		if (r != NEED_PLACE)
			return r;
		/* It must move: pick a destination, then lock both ranges together and redo the checks. */
		sl_anchor_slice(mm, cpu);
		dest = sl_candidate(mm, cpu, new_len, attempt);
		if (!dest)
			return -ENOMEM;
	}
	return -ENOMEM;
}

bool sl_query(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, struct vm_map *m)
{
	/* the range from addr to the end: the first node at or above addr is inside it */
	struct sl_mm *mm = sl_of(as);
	struct sl_lockset s;
	bool g = sl_mode_enter(mm, cpu, !sl_one_area(mm, addr & ~(P - 1), VM_TASK_SIZE));
	sl_lock_range(&s, mm, cpu, addr & ~(P - 1), VM_TASK_SIZE);
	struct sctx c = ctx(&s);
	bool r = kmm_vma_query(&c.x, addr, m);
	sl_unlock(&s);
	sl_mode_exit(mm, cpu, g);
	return r;
}

/* lock_call: kmm_vma_lock as under_locks' call (to: the lock state). */
static int lock_call(struct kmm_ctx *x, uint64_t start, uint64_t end, int to)
{
	return kmm_vma_lock(x, start, end - start, (unsigned)to);
}

int sl_mlock(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, unsigned to)
{
	if (to & VM_LOCK_ALL)
		addr = 0, len = VM_TASK_SIZE;
	return under_locks(as, cpu, addr, len, lock_call, (int)to);
}

void sl_unmap_file(struct vm_as *as, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi, bool even_cows)
{
	struct sl_mm *mm = sl_of(as);
	struct sl_lockset s;
	bool g = sl_mode_enter(mm, cpu, true); /* the file's mappings may be in any area */
	sl_lock_range(&s, mm, cpu, 0, VM_TASK_SIZE);
	struct sctx c = ctx(&s);
	kmm_vma_unmap_file(&c.x, f, lo, hi, even_cows);
	sl_unlock(&s);
	sl_mode_exit(mm, cpu, g);
}

int sl_fork(struct vm_as *parent, struct vm_as *child, struct mmu_cpu *cpu)
{
	struct sl_mm *pm = sl_of(parent), *cm = sl_of(child);
	struct sl_lockset s, cs;
	sl_global_enter(pm, cpu); /* fork runs in global mode: no call of the parent runs meanwhile */
	sl_lock_range(&s, pm, cpu, 0, VM_TASK_SIZE); /* every node: fork copies the whole space */
	sl_lock_range(&cs, cm, cpu, 0, VM_TASK_SIZE); /* the child's head (nobody else sees it yet) */
	struct sctx p = ctx(&s), c = ctx(&cs);
	int err = kmm_vma_fork(&p.x, &c.x, &pm->next_av, &cm->next_av);
	sl_unlock(&cs);
	sl_unlock(&s);
	sl_global_exit(pm, cpu);
	return err;
}
