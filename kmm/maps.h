/* maps.h: Linux's mm calls written once over a design's mappings: the mremap rules for every design, and mprotect, madvise, brk, mremap and fork over VMAs for the designs that keep them. */
#ifndef MMSIM_KMM_MAPS_H
#define MMSIM_KMM_MAPS_H

#include "vm/vm.h"
#include "kmm/rules.h"

struct kmm;
struct kmm_ctx;

/* struct kmm_map: one mapping as Linux's rules see it (a VMA): its attributes, and the design's handle (NULL: none). */
struct kmm_map {
	struct vr_attr a;
	void *v;
};

/*
 * struct kmm_maps_ops: how the rules reach a design's mappings. Every
 * operation runs inside one call of the design, under the locks that call
 * holds over what it may change (mmap_lock, range locks, a cursor), on the
 * call's core (x->cpu), and charges what it touches.
 *
 * The first group is what kmm_mremap needs, from every design. Designs
 * with VMAs fill it with the kmm_vma_* functions below, which need the
 * second group.
 */
struct kmm_maps_ops {
	/* handles: a mapping's handle (kmm_map.v) may die in an unmap, so a mapping is looked up again after one. */
	bool handles;
	/* lookup: the mapping holding addr; false if none. */
	bool (*lookup)(struct kmm_ctx *x, uint64_t addr, struct kmm_map *m);
	/* find: the first mapping that ends above addr and starts below limit; false if none. */
	bool (*find)(struct kmm_ctx *x, uint64_t addr, uint64_t limit, struct kmm_map *m);
	/* prep: check_prep_vma for [addr, addr + old_len) of m growing to new_len (moves: it will move): 0 or -errno. */
	long (*prep)(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len,
		     bool moves);
	/* unmap: unmap [start, end), as munmap. */
	void (*unmap)(struct kmm_ctx *x, uint64_t start, uint64_t end);
	/* expand: grow m, which holds [addr, addr + old_len), to new_len in place if Linux would (vma_merge_extend); false if it may not. */
	bool (*expand)(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len);
	/* move: move [addr, addr + len) of m to the free new_addr, as new_len bytes (move_vma): new_addr or -errno. */
	long (*move)(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t len, uint64_t new_addr,
		     uint64_t new_len);
	/* relocate: MREMAP_MAYMOVE without a target: find a free place for new_len bytes and move there: its address or -errno. */
	long (*relocate)(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len);

	/* ---- designs with VMAs: the primitives kmm_vma_* build on (v: a VMA handle) ---- */
	/* from: the first VMA that ends above addr (NULL if none). */
	void *(*from)(struct kmm_ctx *x, uint64_t addr);
	/* attr: a VMA's attributes. */
	struct vr_attr (*attr)(const void *v);
	/* place_new: make the free [a.start, a.end) a mapping with attributes a, merging as vma_merge_new_range: the VMA holding it. */
	void *(*place_new)(struct kmm_ctx *x, struct vr_attr a, struct vm_file *f);
	/* modify: give [a, b) inside v the flags nf, splitting and merging as vma_modify_flags: the VMA holding [a, b). */
	void *(*modify)(struct kmm_ctx *x, void *v, uint64_t a, uint64_t b, uint32_t nf);
	/* grow: move v's end up to end over free, locked space. */
	void (*grow)(struct kmm_ctx *x, void *v, uint64_t end);
	/* absorb: v takes the VMA n right after it (its range and, if v has none, its anon_vma); n goes. */
	void (*absorb)(struct kmm_ctx *x, void *v, void *n);
	/* each: call fn on every VMA in address order while it returns true (fork, under the locks of the whole space). */
	void (*each)(struct kmm_ctx *x, bool (*fn)(void *arg, void *v), void *arg);
	/* clone: a new VMA with attributes a in this (a forked child's, empty) space. */
	void (*clone)(struct kmm_ctx *x, const struct vr_attr *a, struct vm_file *f);
	/* anon: give v an anon_vma (anon_vma_prepare). */
	void (*anon)(struct kmm_ctx *x, void *v);
	/* set_flags: v's flags become nf in place, with no split or merge (vm_flags_clear), and with drop_av its anon_vma goes (unlink_anon_vmas). */
	void (*set_flags)(struct kmm_ctx *x, void *v, uint32_t nf, bool drop_av);
};

/* struct kmm_ctx: one call's view of a design: its operations and, for designs on Linux's page tables, its kmm and core. Embedded first in the design's own context. */
struct kmm_ctx {
	const struct kmm_maps_ops *ops;
	struct kmm *pt;
	struct mmu_cpu *cpu;
	bool dontunmap; /* set by kmm_mremap for its moves: MREMAP_DONTUNMAP leaves the old range mapped, empty */
};

/*
 * kmm_mremap: mremap's rules (do_mremap after its argument checks): a
 * fixed move of every mapping in the range keeping the gaps, a move to a
 * fixed target, shrinking, growing in place, or moving (MAYMOVE). Returns
 * the new address or -errno.
 */
long kmm_mremap(struct kmm_ctx *x, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr);

/* kmm_mmap_pgoff: a new mapping's vm_pgoff: its file offset in pages, 0 for shared anonymous memory, else its address in pages. */
static inline uint64_t kmm_mmap_pgoff(uint32_t vflags, const struct vm_file *f, uint64_t off, uint64_t addr)
{
	return f ? off >> PAGE_SHIFT : (vflags & VR_SHARED) ? 0 : addr >> PAGE_SHIFT;
}

/*
 * kmm_merge_sides: vma_merge's decision for x (a new range, or a VMA whose
 * flags just changed) between prev, which ends where x starts, and next,
 * which starts where x ends (either NULL: none there): whether x merges
 * into prev (*left) and whether next joins (*right); both only if prev's and
 * next's anon_vmas may be one.
 */
static inline void kmm_merge_sides(const struct vr_attr *prev, const struct vr_attr *x, const struct vr_attr *next,
				   bool *left, bool *right)
{
	*left = prev && vr_merge_after(prev, x);
	*right = next && vr_merge_before(next, x);
	if (*left && *right)
		*right = vr_av_ok(prev->av, next->av, NULL);
}

/*
 * kmm_reusable_av: find_mergeable_anon_vma for x (which has none yet):
 * the anon_vma of next, else of prev, where that one's chain is single and
 * anon_vma_compatible allows sharing it (either may be NULL); 0 if neither.
 */
static inline uint32_t kmm_reusable_av(const struct vr_attr *x, const struct vr_attr *next, const struct vr_attr *prev)
{
	if (next && next->av && next->chain == 1 && vr_av_compatible(x, next))
		return next->av;
	if (prev && prev->av && prev->chain == 1 && vr_av_compatible(prev, x))
		return prev->av;
	return 0;
}

/* kmm_map_file: a mapping's file (NULL: anonymous). */
static inline struct vm_file *kmm_map_file(const struct vr_attr *a) { return (struct vm_file *)(uintptr_t)a->file; }

/* ---- the designs with VMAs: kmm_maps_ops entries and whole calls (kmm/vma.c) ---- */

/*
 * KMM_VMA_RULES: the kmm_maps_ops entries a design with VMAs takes from
 * here as they are (its handles may die in an unmap); it adds unmap,
 * relocate and the primitives:
 *     static const struct kmm_maps_ops ops = { KMM_VMA_RULES, .unmap = ..., ... };
 */
#define KMM_VMA_RULES                                                                                               \
	.handles = true, .lookup = kmm_vma_lookup, .find = kmm_vma_find, .prep = kmm_vma_prep,                      \
	.expand = kmm_vma_expand, .move = kmm_vma_move

/*
 * KMM_VMA_OPS(p): a whole kmm_maps_ops for a design with VMAs whose unmap,
 * relocate and primitives are named p_unmap, p_relocate, p_from, ... p_anon, p_set_flags:
 *     static const struct kmm_maps_ops ops = { KMM_VMA_OPS(l) };
 */
#define KMM_VMA_OPS(p)                                                                                              \
	KMM_VMA_RULES, .unmap = p##_unmap, .relocate = p##_relocate, .from = p##_from, .attr = p##_attr,           \
	.place_new = p##_place_new, .modify = p##_modify, .grow = p##_grow, .absorb = p##_absorb,                 \
	.each = p##_each, .clone = p##_clone, .anon = p##_anon, .set_flags = p##_set_flags

/*
 * kmm_vma_call: the VMA layer's own code in one call that changes VMAs
 * (mmap_region, vma_modify, do_vmi_munmap, do_brk_flags, mremap's
 * vma_merge_extend and move_vma: the iterator's set-up, merge checks,
 * vma_prepare and vma_complete, statistics and hooks), charged once per such
 * call by the designs that keep VMAs, on the call's core and under its locks,
 * beside the tree, the slab objects and the locks, which are charged apart
 * (kern.vma_call).
 */
void kmm_vma_call(struct mmu_cpu *cpu);
bool kmm_vma_lookup(struct kmm_ctx *x, uint64_t addr, struct kmm_map *m);
bool kmm_vma_find(struct kmm_ctx *x, uint64_t addr, uint64_t limit, struct kmm_map *m);
long kmm_vma_prep(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len,
		  bool moves);
bool kmm_vma_expand(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t old_len, uint64_t new_len);
long kmm_vma_move(struct kmm_ctx *x, const struct kmm_map *m, uint64_t addr, uint64_t len, uint64_t new_addr,
		  uint64_t new_len);

/* kmm_vma_mprotect: mprotect of [addr, end) (do_mprotect_pkey's loop): splits, merges, new entry bits, one flush. 0 or -errno. */
int kmm_vma_mprotect(struct kmm_ctx *x, uint64_t addr, uint64_t end, int prot);
/* kmm_vma_madvise: madvise of [addr, end): flag changes split and merge; DONTNEED, FREE, WILLNEED and GUARD_* work on the entries. */
int kmm_vma_madvise(struct kmm_ctx *x, uint64_t addr, uint64_t end, int advice);
/* kmm_vma_query: the design's query (struct vm_design): the VMA holding addr or the first above. */
bool kmm_vma_query(struct kmm_ctx *x, uint64_t addr, struct vm_map *m);
/* kmm_vma_lock: the design's mlock (apply_vma_lock_flags, apply_mlockall_flags): 0 or -ENOMEM. */
int kmm_vma_lock(struct kmm_ctx *x, uint64_t addr, uint64_t len, unsigned to);
/* kmm_vma_unmap_file: the design's unmap_file over every VMA of f (unmap_mapping_range), one flush. */
void kmm_vma_unmap_file(struct kmm_ctx *x, struct vm_file *f, uint64_t lo, uint64_t hi, bool even_cows);

/* What brk does, from the break alone (the first checks of sys_brk). */
enum kmm_brk { KMM_BRK_REFUSE, KMM_BRK_SAME, KMM_BRK_SHRINK, KMM_BRK_GROW };
/* kmm_brk_plan: the case for moving as's break to brk; *oldbrk and *newbrk get the page-aligned old and new ends. */
enum kmm_brk kmm_brk_plan(const struct vm_as *as, uint64_t brk, uint64_t *oldbrk, uint64_t *newbrk);
/* kmm_vma_brk: the whole brk call (sys_brk, do_brk_flags) over VMAs: the new break, or the old one when it cannot move. */
long kmm_vma_brk(struct kmm_ctx *x, struct vm_as *as, uint64_t brk);

/*
 * kmm_vma_fork: dup_mmap: every VMA of the parent (p) into the empty child
 * (c), with anon_vma_fork's chains (new identities from the child's counter
 * c_next_av, which then moves far past the parent's p_next_av) and
 * copy_page_range for the VMAs that have an anon_vma, then the parent's
 * flush. 0 or -ENOMEM.
 */
int kmm_vma_fork(struct kmm_ctx *p, struct kmm_ctx *c, _Atomic uint32_t *p_next_av, _Atomic uint32_t *c_next_av);

#endif
