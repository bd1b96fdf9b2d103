/* ref.c: the reference model: Linux's VMA rules (split, merge, anon_vma, accounting flags) over a sorted array, plus residency. */
#include "conform/ref.h"
#include "kmm/rules.h"

#include <stdlib.h>
#include <string.h>

#define F_PROT VR_PROT
#define F_SHARED VR_SHARED
#define F_ACCOUNT VR_ACCOUNT
#define F_NORESERVE VR_NORESERVE
#define F_GROWSDOWN VR_GROWSDOWN
#define F_LOCKED VR_LOCKED

#define PG PAGE_SIZE

struct ref_file {
	uint32_t id;
	uint64_t size, ncap;
	uint8_t *cached; /* page cache: one byte per page */
	int refs;
};

struct rvma {
	uint64_t start, end;
	uint32_t flags;
	struct ref_file *file;
	uint64_t pgoff; /* in pages */
	uint32_t av;	/* anon_vma identity, 0 = none yet */
	uint8_t chain;	/* length of the anon_vma chain: 1 normally, more after fork */
};

/* A set of page numbers: pages with a private frame (or the zero page) mapped. */
struct pset {
	uint64_t *k; /* 0 empty, 1 deleted, else vpn + 2 */
	uint64_t cap, n, used;
};

struct ref {
	struct rvma *v;
	uint32_t n, cap;
	struct pset priv;
	uint64_t start_brk, brk;
	uint32_t next_av;
};

/* ---- page sets ---- */

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static void ps_insert(struct pset *s, uint64_t vpn);

static void ps_grow(struct pset *s)
{
	struct pset o = *s;
	s->cap = o.cap ? o.cap * 2 : 64;
	if (o.n * 4 < o.cap)
		s->cap = o.cap; /* mostly tombstones: rehash at the same size */
	s->k = xzalloc(sizeof(uint64_t) * s->cap);
	s->n = s->used = 0;
	for (uint64_t i = 0; i < o.cap; i++)
		if (o.k[i] > 1)
			ps_insert(s, o.k[i] - 2);
	xfree(o.k);
}

static bool ps_has(const struct pset *s, uint64_t vpn)
{
	if (!s->cap)
		return false;
	for (uint64_t i = hash64(vpn) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->k[i] == 0)
			return false;
		if (s->k[i] == vpn + 2)
			return true;
	}
}

static void ps_insert(struct pset *s, uint64_t vpn)
{
	if (ps_has(s, vpn))
		return;
	if ((s->used + 1) * 2 > s->cap)
		ps_grow(s);
	uint64_t i = hash64(vpn) & (s->cap - 1);
	while (s->k[i] > 1)
		i = (i + 1) & (s->cap - 1);
	if (s->k[i] == 0)
		s->used++;
	s->k[i] = vpn + 2;
	s->n++;
}

static void ps_remove(struct pset *s, uint64_t vpn)
{
	if (!s->cap)
		return;
	for (uint64_t i = hash64(vpn) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->k[i] == 0)
			return;
		if (s->k[i] == vpn + 2) {
			s->k[i] = 1;
			s->n--;
			return;
		}
	}
}

/* Collect (and remove) the pages of [a, b) into out; returns the count. */
static uint64_t ps_take_range(struct pset *s, uint64_t a, uint64_t b, uint64_t **out)
{
	uint64_t n = 0, cap = 16;
	uint64_t *v = out ? xmalloc(sizeof(uint64_t) * cap) : NULL;
	uint64_t va = a >> PAGE_SHIFT, vb = b >> PAGE_SHIFT;
	if (vb - va <= s->n) {
		for (uint64_t p = va; p < vb; p++)
			if (ps_has(s, p)) {
				ps_remove(s, p);
				if (v) {
					if (n == cap)
						v = xrealloc(v, sizeof(uint64_t) * (cap *= 2));
					v[n] = p;
				}
				n++;
			}
	} else {
		for (uint64_t i = 0; i < s->cap; i++)
			if (s->k[i] > 1 && s->k[i] - 2 >= va && s->k[i] - 2 < vb) {
				if (v) {
					if (n == cap)
						v = xrealloc(v, sizeof(uint64_t) * (cap *= 2));
					v[n] = s->k[i] - 2;
				}
				s->k[i] = 1;
				s->n--;
				n++;
			}
	}
	if (out)
		*out = v;
	return n;
}

/* ---- files ---- */

struct ref_file *ref_file_create(uint32_t id, uint64_t size)
{
	struct ref_file *f = xzalloc(sizeof(*f));
	f->id = id;
	f->size = size;
	f->ncap = (size + PG - 1) / PG + 1;
	f->cached = xzalloc(f->ncap);
	f->refs = 1;
	return f;
}

void ref_file_put(struct ref_file *f)
{
	if (f && --f->refs == 0) {
		xfree(f->cached);
		xfree(f);
	}
}

static uint64_t file_pages(const struct ref_file *f) { return (f->size + PG - 1) / PG; }

static void file_cache(struct ref_file *f, uint64_t idx)
{
	if (idx < file_pages(f))
		f->cached[idx] = 1;
}

/* ---- the VMA array ---- */

struct ref *ref_create(void)
{
	struct ref *r = xzalloc(sizeof(*r));
	r->start_brk = r->brk = VM_BRK_BASE;
	r->next_av = 1;
	return r;
}

void ref_destroy(struct ref *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->n; i++)
		ref_file_put(r->v[i].file);
	xfree(r->v);
	xfree(r->priv.k);
	xfree(r);
}

/* Index of the first VMA with end > addr (r->n if none). */
static uint32_t find(const struct ref *r, uint64_t addr)
{
	uint32_t lo = 0, hi = r->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (r->v[mid].end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The VMA containing addr, or -1. */
static int lookup(const struct ref *r, uint64_t addr)
{
	uint32_t i = find(r, addr);
	return i < r->n && r->v[i].start <= addr ? (int)i : -1;
}

static void insert_at(struct ref *r, uint32_t i, const struct rvma *v)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->v = xrealloc(r->v, sizeof(struct rvma) * r->cap);
	}
	memmove(&r->v[i + 1], &r->v[i], sizeof(struct rvma) * (r->n - i));
	r->v[i] = *v;
	r->n++;
}

static void remove_at(struct ref *r, uint32_t i)
{
	ref_file_put(r->v[i].file);
	memmove(&r->v[i], &r->v[i + 1], sizeof(struct rvma) * (r->n - i - 1));
	r->n--;
}

/* Split VMA i at addr (strictly inside it); the upper part becomes i + 1. */
static void split(struct ref *r, uint32_t i, uint64_t addr)
{
	struct rvma hi = r->v[i];
	hi.start = addr;
	hi.pgoff += (addr - r->v[i].start) / PG;
	if (hi.file)
		hi.file->refs++;
	r->v[i].end = addr;
	insert_at(r, i + 1, &hi);
}

static uint64_t pages(const struct rvma *v) { return (v->end - v->start) / PG; }

static struct vr_attr attr(const struct rvma *v)
{
	return (struct vr_attr){ v->start, v->end, v->flags, v->file, v->pgoff, v->av, v->chain };
}

static bool merge_after(const struct rvma *prev, uint32_t flags, const struct ref_file *f, uint64_t pgoff, uint32_t av)
{
	struct vr_attr p = attr(prev), x = { prev->end, prev->end + PG, flags, f, pgoff, av, 0 };
	return vr_merge_after(&p, &x);
}

static bool merge_before(const struct rvma *next, uint32_t flags, const struct ref_file *f, uint64_t pgoff,
			 uint64_t npages, uint32_t av)
{
	struct vr_attr n = attr(next), x = { next->start - npages * PG, next->start, flags, f, pgoff, av, 0 };
	return vr_merge_before(&n, &x);
}

static bool av_ok(uint32_t a1, uint32_t a2, const struct rvma *nb)
{
	struct vr_attr n;
	if (nb)
		n = attr(nb);
	return vr_av_ok(a1, a2, nb ? &n : NULL);
}

/* Absorb the anon_vma of a VMA being merged away (dup_anon_vma). */
static void take_av(struct rvma *dst, const struct rvma *src)
{
	if (!dst->av && src->av) {
		dst->av = src->av;
		dst->chain = src->chain;
	}
}

/*
 * Place a new range [start, end) (nothing mapped there) with the given
 * attributes, merging with its neighbours as vma_merge_new_range does.
 * Takes over one reference on f. Returns the index of the VMA holding it.
 */
static uint32_t place_new(struct ref *r, uint64_t start, uint64_t end, uint32_t flags, struct ref_file *f,
			  uint64_t pgoff, uint32_t av, uint8_t chain)
{
	uint32_t i = find(r, start); /* first VMA after the range */
	struct rvma *prev = i > 0 && r->v[i - 1].end == start ? &r->v[i - 1] : NULL;
	struct rvma *next = i < r->n && r->v[i].start == end ? &r->v[i] : NULL;
	uint64_t np = (end - start) / PG;
	bool left = prev && merge_after(prev, flags, f, pgoff, av);
	bool right = next && merge_before(next, flags, f, pgoff, np, av);
	if (left && right)
		right = av_ok(prev->av, next->av, NULL);
	if (left) {
		prev->end = right ? next->end : end;
		if (!prev->av && av) {
			prev->av = av;
			prev->chain = chain;
		}
		if (right) {
			take_av(prev, next);
			remove_at(r, i);
		}
		ref_file_put(f);
		return i - 1;
	}
	if (right) {
		next->start = start;
		next->pgoff = pgoff;
		if (!next->av && av) {
			next->av = av;
			next->chain = chain;
		}
		ref_file_put(f);
		return i;
	}
	struct rvma v = { .start = start, .end = end, .flags = flags, .file = f, .pgoff = pgoff, .av = av,
			  .chain = av ? chain : 0 };
	insert_at(r, i, &v);
	return i;
}

/* Drop the private pages of [a, b). */
static void zap(struct ref *r, uint64_t a, uint64_t b) { ps_take_range(&r->priv, a, b, NULL); }

/* Unmap [a, b): split the VMAs at the ends, remove what is inside, drop its pages. */
static void unmap(struct ref *r, uint64_t a, uint64_t b)
{
	uint32_t i = find(r, a);
	if (i < r->n && r->v[i].start < a && r->v[i].end > a)
		split(r, i++, a);
	while (i < r->n && r->v[i].start < b) {
		if (r->v[i].end > b)
			split(r, i, b);
		remove_at(r, i);
	}
	zap(r, a, b);
}

/* Is [a, a + len) free, counting the guard gap below a grows-down VMA? (the x86 hint test) */
static bool range_free(const struct ref *r, uint64_t a, uint64_t len)
{
	uint32_t i = find(r, a);
	struct vr_attr n;
	if (i < r->n)
		n = attr(&r->v[i]);
	return vr_gap_fits(a, len, i < r->n ? &n : NULL);
}

/* Top-down search below the mmap base for a gap of len bytes (vm_unmapped_area, top-down). */
static uint64_t topdown(const struct ref *r, uint64_t len)
{
	uint64_t high = VM_MMAP_BASE;
	uint32_t i = find(r, high - 1);
	for (;;) {
		/* The gap below `high` down to the end of the VMA before it. */
		uint64_t low = i > 0 ? r->v[i - 1].end : VM_MMAP_MIN_ADDR;
		uint64_t top = high;
		if (i < r->n && r->v[i].start < top)
			top = r->v[i].start;
		if (i < r->n && (r->v[i].flags & F_GROWSDOWN))
			top = top > VM_STACK_GUARD_GAP ? top - VM_STACK_GUARD_GAP : 0;
		if (top >= low && top - low >= len)
			return top - len;
		if (i == 0)
			return 0;
		i--;
		high = r->v[i].start;
	}
}

static void populate(struct ref *r, uint64_t a, uint64_t b, uint32_t flags)
{
	enum mmu_acc acc = (flags & VM_PROT_WRITE) && !(flags & F_SHARED) ? ACC_W : ACC_R;
	for (uint64_t p = a; p < b; p += PG)
		if (ref_touch(r, p, acc) != VM_FAULT_OK)
			break;
}

long ref_mmap(struct ref *r, uint64_t addr, uint64_t len, int prot, int flags, struct ref_file *f, uint64_t off)
{
	bool anon = (flags & VM_MAP_ANONYMOUS) || !f;
	int e = vm_check_mmap(addr, &len, prot, flags, anon, off);
	if (e)
		return e;
	uint32_t vf = vr_mmap_flags(prot, flags);
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) {
		if (flags & VM_MAP_FIXED_NOREPLACE) {
			uint32_t i = find(r, addr);
			if (i < r->n && r->v[i].start < addr + len)
				return -EEXIST;
		}
	} else {
		uint64_t hint = vr_hint(addr);
		if (hint && hint <= VM_TASK_SIZE - len && range_free(r, hint, len)) {
			addr = hint;
		} else {
			addr = topdown(r, len);
			if (!addr)
				return -ENOMEM;
		}
	}
	if (flags & VM_MAP_FIXED)
		unmap(r, addr, addr + len);
	if (anon && (vf & F_SHARED)) { /* shared anonymous memory is a shmem file of its own */
		f = ref_file_create(0x40000000u + r->next_av++, len);
		anon = false;
		off = 0;
		f->refs--; /* the mapping takes the creation reference */
	}
	uint64_t pgoff = anon ? addr / PG : off / PG;
	if (!anon)
		f->refs++;
	place_new(r, addr, addr + len, vf, anon ? NULL : f, pgoff, 0, 0);
	if (flags & VM_MAP_POPULATE)
		populate(r, addr, addr + len, vf);
	return (long)addr;
}

int ref_munmap(struct ref *r, uint64_t addr, uint64_t len)
{
	int e = vm_check_munmap(addr, &len);
	if (e)
		return e;
	unmap(r, addr, addr + len);
	return 0;
}

/*
 * Give [a, b) (inside VMA i) new flags: split off the parts outside, then
 * merge with the neighbours where Linux would (vma_modify_flags). Returns
 * the index of the VMA that now holds [a, b).
 */
static uint32_t modify(struct ref *r, uint32_t i, uint64_t a, uint64_t b, uint32_t nf)
{
	if (r->v[i].flags == nf)
		return i;
	if (r->v[i].start < a)
		split(r, i++, a);
	if (r->v[i].end > b)
		split(r, i, b);
	struct rvma *m = &r->v[i];
	m->flags = nf;
	struct rvma *prev = i > 0 && r->v[i - 1].end == m->start ? &r->v[i - 1] : NULL;
	struct rvma *next = i + 1 < r->n && r->v[i + 1].start == m->end ? &r->v[i + 1] : NULL;
	bool left = prev && merge_after(prev, nf, m->file, m->pgoff, m->av);
	bool right = next && merge_before(next, nf, m->file, m->pgoff, pages(m), m->av);
	if (left && right)
		right = av_ok(prev->av, next->av, NULL);
	if (right) {
		next->start = m->start;
		next->pgoff = m->pgoff;
		take_av(next, m);
		remove_at(r, i);
		m = &r->v[i]; /* the merged VMA */
	}
	if (left) {
		prev = &r->v[i - 1];
		prev->end = r->v[i].end;
		take_av(prev, &r->v[i]);
		remove_at(r, i);
		return i - 1;
	}
	return i;
}

int ref_mprotect(struct ref *r, uint64_t addr, uint64_t len, int prot)
{
	int e = vm_check_mprotect(addr, &len, prot);
	if (e)
		return e == VM_CHECK_NOOP ? 0 : e;
	uint64_t end = addr + len;
	uint32_t i = find(r, addr);
	if (i == r->n || r->v[i].start >= end || r->v[i].start > addr)
		return -ENOMEM;
	uint64_t tmp = r->v[i].start, cur = addr;
	int err = 0;
	for (;;) {
		i = find(r, cur);
		if (i == r->n || r->v[i].start >= end)
			break;
		if (r->v[i].start != tmp) {
			err = -ENOMEM;
			break;
		}
		uint32_t nf = vr_mprotect_flags(r->v[i].flags, prot, !r->v[i].file && !(r->v[i].flags & F_SHARED),
						r->v[i].av != 0);
		uint64_t stop = MIN(end, r->v[i].end);
		uint32_t j = modify(r, i, cur, stop, nf);
		tmp = r->v[j].end;
		cur = tmp;
		if (cur >= end)
			break;
	}
	if (!err && tmp < end)
		err = -ENOMEM;
	return err;
}

int ref_madvise(struct ref *r, uint64_t addr, uint64_t len, int advice)
{
	int e = vm_check_madvise(addr, &len, advice);
	if (e)
		return e == VM_CHECK_NOOP ? 0 : e;
	uint64_t start = addr, end = addr + len;
	int unmapped = 0;
	uint32_t i = find(r, start);
	for (;;) {
		if (i == r->n)
			return -ENOMEM;
		if (start < r->v[i].start) {
			unmapped = -ENOMEM;
			start = r->v[i].start;
			if (start >= end)
				break;
		}
		uint64_t tmp = MIN(r->v[i].end, end);
		struct rvma *v = &r->v[i];
		switch (advice) {
		case VM_MADV_DONTNEED:
			if (v->flags & F_LOCKED)
				return -EINVAL;
			zap(r, start, tmp);
			break;
		case VM_MADV_FREE:
			if (v->file || (v->flags & F_SHARED))
				return -EINVAL; /* MADV_FREE works only on private anonymous memory */
			break;		/* no memory pressure: the pages stay */
		case VM_MADV_WILLNEED:
			if (v->file)
				for (uint64_t p = start; p < tmp; p += PG)
					file_cache(v->file, v->pgoff + (p - v->start) / PG);
			break;
		default: {
			i = modify(r, i, start, tmp, vr_madvise_flags(v->flags, advice));
			tmp = MIN(r->v[i].end, end);
		}
		}
		start = tmp;
		if (start >= end)
			break;
		i = find(r, start);
	}
	return unmapped;
}

/* ---- mremap ---- */

/* Move [addr, addr + len) of VMA i to new_addr (already free), as move_vma does. Returns new_addr. */
static uint64_t move(struct ref *r, uint32_t i, uint64_t addr, uint64_t len, uint64_t new_addr, uint64_t new_len)
{
	struct rvma v = r->v[i];
	uint64_t pgoff = v.pgoff + (addr - v.start) / PG;
	/* copy_vma: unfaulted anonymous memory takes the pgoff of its new place, to merge more easily. */
	if (!v.file && !(v.flags & F_SHARED) && !v.av)
		pgoff = new_addr / PG;
	uint64_t *pg = NULL;
	uint64_t n = ps_take_range(&r->priv, addr, addr + len, &pg);
	if (v.file)
		v.file->refs++;
	place_new(r, new_addr, new_addr + new_len, v.flags, v.file, pgoff, v.av, v.chain);
	unmap(r, addr, addr + len);
	for (uint64_t k = 0; k < n; k++)
		ps_insert(&r->priv, pg[k] - addr / PG + new_addr / PG);
	xfree(pg);
	return new_addr;
}

/* check_prep_vma for a resize or move of [addr, addr + old_len) inside VMA i. */
static long prep(struct ref *r, uint32_t i, uint64_t addr, uint64_t old_len, uint64_t new_len, bool moves)
{
	const struct rvma *v = &r->v[i];
	if (new_len <= old_len && !moves)
		return 0;
	/* Duplicating a private mapping (old_len 0) makes no sense. */
	if (!old_len && !(v->flags & F_SHARED))
		return -EINVAL;
	/* The part a shrink unmaps may cross VMA boundaries; the rest may not. */
	if (new_len < old_len)
		old_len = new_len;
	if (old_len > v->end - addr)
		return -EFAULT;
	if (new_len == old_len)
		return 0;
	uint64_t pgoff = v->pgoff + (addr - v->start) / PG;
	if (pgoff + new_len / PG < pgoff)
		return -EINVAL;
	return 0;
}

/* mremap_to: the move to a fixed new address, after unmapping the target. */
static long remap_to(struct ref *r, uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t new_addr)
{
	unmap(r, new_addr, new_addr + new_len);
	int i = lookup(r, addr);
	if (i < 0)
		return -EFAULT;
	if (new_len < old_len) {
		unmap(r, addr + new_len, addr + old_len);
		old_len = new_len;
		i = lookup(r, addr);
	}
	return (long)move(r, (uint32_t)i, addr, old_len, new_addr, new_len);
}

/* mremap(MREMAP_FIXED) with equal lengths: every VMA in the range moves, keeping the gaps between them. */
static long remap_move(struct ref *r, uint64_t start, uint64_t len, uint64_t new_addr)
{
	uint64_t end = start + len, target = new_addr, last_end = 0, cur = start;
	long res = -EFAULT;
	bool seen = false;
	for (;;) {
		uint32_t i = find(r, cur);
		if (i == r->n || r->v[i].start >= end)
			break;
		struct rvma v = r->v[i];
		uint64_t a = MAX(v.start, start), l = MIN(end, v.end) - a;
		if (!seen && start < v.start)
			return -EFAULT;
		uint64_t offset = seen ? v.start - last_end : 0;
		last_end = v.end;
		long e = prep(r, i, a, l, l, true);
		if (e)
			return e;
		long got = remap_to(r, a, l, l, target + offset);
		if (got < 0)
			return got;
		if (!seen)
			res = got;
		seen = true;
		target = (uint64_t)got + l;
		cur = MIN(end, v.end);
	}
	return res;
}

long ref_mremap(struct ref *r, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
	int e = vm_check_mremap(addr, &old_len, &new_len, flags, new_addr);
	if (e)
		return e;
	bool fixed = flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP);
	if ((flags & VM_MREMAP_FIXED) && old_len == new_len)
		return remap_move(r, addr, old_len, new_addr);
	int i = lookup(r, addr);
	if (i < 0)
		return -EFAULT;
	long pe = prep(r, (uint32_t)i, addr, old_len, new_len, fixed);
	if (pe)
		return pe;
	if (fixed)
		return remap_to(r, addr, old_len, new_len, new_addr);
	if (new_len == old_len)
		return (long)addr;
	if (new_len < old_len) {
		unmap(r, addr + new_len, addr + old_len);
		return (long)addr;
	}
	/* Grow: in place if the range reaches the VMA's end and the space after it is free. */
	struct rvma *v = &r->v[i];
	uint64_t delta = new_len - old_len;
	if (addr + old_len == v->end && v->end + delta <= VM_TASK_SIZE && v->end + delta > v->end) {
		uint32_t j = find(r, v->end);
		if (j == r->n || r->v[j].start >= v->end + delta) {
			/* vma_merge_extend: grow, and join the next VMA if it now touches and matches. */
			uint64_t old_end = v->end;
			v->end += delta;
			if (j < r->n && r->v[j].start == v->end &&
			    merge_before(&r->v[j], v->flags, v->file, v->pgoff + (old_end - v->start) / PG,
					 delta / PG, v->av) &&
			    av_ok(v->av, r->v[j].av, NULL)) {
				v->end = r->v[j].end;
				take_av(v, &r->v[j]);
				remove_at(r, j);
			}
			return (long)addr;
		}
	}
	if (!(flags & VM_MREMAP_MAYMOVE))
		return -ENOMEM;
	uint64_t na = topdown(r, new_len);
	if (!na)
		return -ENOMEM;
	return (long)move(r, (uint32_t)i, addr, old_len, na, new_len);
}

long ref_brk(struct ref *r, uint64_t brk)
{
	uint64_t orig = r->brk;
	if (brk < r->start_brk)
		return (long)orig;
	uint64_t newbrk = vm_page_up(brk), oldbrk = vm_page_up(r->brk);
	if (oldbrk == newbrk) {
		r->brk = brk;
		return (long)brk;
	}
	if (brk <= r->brk) {
		/* Shrink: the brk VMA must reach from below newbrk's page to oldbrk. */
		uint32_t i = find(r, newbrk);
		if (i == r->n || r->v[i].start >= oldbrk)
			return (long)orig;
		r->brk = brk;
		unmap(r, newbrk, oldbrk);
		return (long)brk;
	}
	/* Grow: nothing may sit within a page and the guard gap above the new break. */
	uint32_t i = find(r, oldbrk);
	if (i < r->n && r->v[i].start < newbrk + PG + VM_STACK_GUARD_GAP) {
		uint64_t gap = r->v[i].start;
		if (r->v[i].flags & F_GROWSDOWN)
			gap = gap > VM_STACK_GUARD_GAP ? gap - VM_STACK_GUARD_GAP : 0;
		if (newbrk + PG > gap)
			return (long)orig;
	}
	uint32_t f = VM_PROT_READ | VM_PROT_WRITE | F_ACCOUNT;
	/* do_brk_flags: extend the VMA ending at oldbrk when it matches, else a new one. */
	uint32_t j = find(r, oldbrk - 1);
	if (oldbrk > r->start_brk && j < r->n && r->v[j].end == oldbrk && r->v[j].start >= r->start_brk &&
	    r->v[j].flags == f && !r->v[j].file)
		r->v[j].end = newbrk;
	else
		place_new(r, oldbrk, newbrk, f, NULL, oldbrk / PG, 0, 0);
	r->brk = brk;
	return (long)brk;
}

/* ---- faults ---- */

/* Grow a grows-down VMA down to va if Linux would (expand_downwards). Returns its index or -1. */
static int grow_stack(struct ref *r, uint64_t va)
{
	uint32_t i = find(r, va);
	if (i == r->n || !(r->v[i].flags & F_GROWSDOWN))
		return -1;
	uint64_t a = va & ~(PG - 1);
	if (a < VM_MMAP_MIN_ADDR || r->v[i].end - a > VR_STACK_LIMIT)
		return -1;
	if (i > 0 && r->v[i - 1].end + VM_STACK_GUARD_GAP > a)
		return -1;
	r->v[i].pgoff -= (r->v[i].start - a) / PG;
	r->v[i].start = a;
	return (int)i;
}

/* anon_vma_prepare: reuse a compatible neighbour's anon_vma, else a new one. */
static void prepare_av(struct ref *r, uint32_t i)
{
	struct rvma *v = &r->v[i];
	if (v->av)
		return;
	for (int side = 0; side < 2; side++) {
		/* next first, then prev */
		uint32_t j = side == 0 ? i + 1 : i - 1;
		if ((side == 0 && i + 1 >= r->n) || (side == 1 && i == 0))
			continue;
		struct rvma *old = &r->v[j];
		struct vr_attr va = attr(v), vo = attr(old);
		bool compat = side == 0 ? vr_av_compatible(&va, &vo) : vr_av_compatible(&vo, &va);
		if (compat && old->av && old->chain == 1) {
			v->av = old->av;
			v->chain = 1;
			return;
		}
	}
	v->av = r->next_av++;
	v->chain = 1;
}

enum vm_fault ref_touch(struct ref *r, uint64_t va, enum mmu_acc acc)
{
	if (va >= VM_TASK_SIZE)
		return VM_FAULT_SEGV;
	int i = lookup(r, va);
	if (i < 0)
		i = grow_stack(r, va);
	if (i < 0)
		return VM_FAULT_SEGV;
	struct rvma *v = &r->v[i];
	if (acc == ACC_W ? !(v->flags & VM_PROT_WRITE) : !(v->flags & F_PROT))
		return VM_FAULT_SEGV;
	uint64_t vpn = va / PG;
	if (v->file) {
		uint64_t idx = v->pgoff + (va - v->start) / PG;
		if (idx >= file_pages(v->file))
			return VM_FAULT_BUS;
		file_cache(v->file, idx);
		if (acc == ACC_W && !(v->flags & F_SHARED) && !ps_has(&r->priv, vpn)) {
			prepare_av(r, (uint32_t)i);
			ps_insert(&r->priv, vpn);
		}
	} else {
		if (acc == ACC_W && !(v->flags & F_SHARED))
			prepare_av(r, (uint32_t)i);
		ps_insert(&r->priv, vpn);
	}
	v = &r->v[i];
	if (acc == ACC_X && !(v->flags & VM_PROT_EXEC))
		return VM_FAULT_SEGV; /* mapped, then the NX fault */
	return VM_FAULT_OK;
}

/* ---- queries ---- */

void ref_layout(struct ref *r, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg)
{
	for (uint32_t i = find(r, start); i < r->n && r->v[i].start < end; i++) {
		const struct rvma *v = &r->v[i];
		struct vm_range g = { .start = v->start,
				      .end = v->end,
				      .prot = v->flags & F_PROT,
				      .flags = (v->flags & F_SHARED ? VM_RANGE_SHARED : 0) |
					       (v->flags & F_GROWSDOWN ? VM_RANGE_STACK : 0) |
					       (!v->file && v->start >= r->start_brk && v->end <= vm_page_up(r->brk) &&
							r->brk > r->start_brk
						? VM_RANGE_HEAP
						: 0),
				      .kind = v->file ? VM_KIND_FILE : VM_KIND_ANON,
				      .file = NULL,
				      .file_id = v->file ? v->file->id : 0,
				      .pgoff = v->file ? v->pgoff : 0 };
		fn(arg, &g);
	}
}

bool ref_resident(struct ref *r, uint64_t va)
{
	int i = lookup(r, va);
	if (i < 0)
		return false;
	if (ps_has(&r->priv, va / PG))
		return true;
	const struct rvma *v = &r->v[i];
	if (!v->file)
		return false;
	uint64_t idx = v->pgoff + (va - v->start) / PG;
	return idx < file_pages(v->file) && v->file->cached[idx];
}

uint32_t ref_nvmas(const struct ref *r) { return r->n; }
uint64_t ref_brk_now(const struct ref *r) { return r->brk; }

struct ref *ref_fork(struct ref *r)
{
	struct ref *c = ref_create();
	c->start_brk = r->start_brk;
	c->brk = r->brk;
	c->next_av = r->next_av + 1000000; /* child anon_vmas are new ones */
	for (uint32_t i = 0; i < r->n; i++) {
		struct rvma v = r->v[i];
		if (v.file)
			v.file->refs++;
		if (v.av) {
			v.av = c->next_av++;
			v.chain = (uint8_t)(r->v[i].chain + 1);
		}
		insert_at(c, c->n, &v);
	}
	/* copy_page_range copies the entries only of VMAs with an anon_vma; the rest refault in the child. */
	for (uint64_t k = 0; k < r->priv.cap; k++) {
		if (r->priv.k[k] <= 1)
			continue;
		uint64_t vpn = r->priv.k[k] - 2;
		int i = lookup(r, vpn * PG);
		if (i >= 0 && r->v[i].av)
			ps_insert(&c->priv, vpn);
	}
	return c;
}
