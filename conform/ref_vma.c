/* ref_vma.c: the reference model's sorted VMA array: lookup, split, merge on placement and on flag changes, unmap, free-gap search. */
#include "conform/ref_int.h"

#include <string.h>

void ref_kernel_default(struct ref_kernel *k)
{
	*k = (struct ref_kernel){ .version = REF_VERSION(6, 18), .thp = true, .ksm = true, .memory_failure = false,
				  .overcommit_never = false, .cap_ipc_lock = true, .cap_sys_admin = true,
				  .memlock_limit = 8ull << 20 };
}

struct ref *ref_create_on(const struct ref_kernel *k)
{
	struct ref *r = xzalloc(sizeof(*r));
	r->start_brk = r->brk = VM_BRK_BASE;
	r->next_av = 1;
	r->k = *k;
	return r;
}

struct ref *ref_create(void)
{
	struct ref_kernel k;
	ref_kernel_default(&k);
	return ref_create_on(&k);
}

void ref_destroy(struct ref *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->n; i++)
		ref_file_put(r->v[i].file);
	xfree(r->v);
	refps_free(&r->priv);
	xfree(r);
}

uint32_t refv_find(const struct ref *r, uint64_t addr)
{
	uint32_t lo = 0, hi = r->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (r->v[mid].end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int refv_lookup(const struct ref *r, uint64_t addr)
{
	uint32_t i = refv_find(r, addr);
	return i < r->n && r->v[i].start <= addr ? (int)i : -1;
}

void refv_insert(struct ref *r, uint32_t i, const struct rvma *v)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->v = xrealloc(r->v, sizeof(struct rvma) * r->cap);
	}
	memmove(&r->v[i + 1], &r->v[i], sizeof(struct rvma) * (r->n - i));
	r->v[i] = *v;
	r->n++;
}

void refv_remove(struct ref *r, uint32_t i)
{
	ref_file_put(r->v[i].file);
	memmove(&r->v[i], &r->v[i + 1], sizeof(struct rvma) * (r->n - i - 1));
	r->n--;
}

/* Split VMA i at addr (strictly inside it): the upper part becomes i + 1. */
static void split(struct ref *r, uint32_t i, uint64_t addr)
{
	struct rvma hi = r->v[i];
	hi.start = addr;
	hi.pgoff += (addr - r->v[i].start) / PG;
	if (hi.file)
		hi.file->refs++;
	r->v[i].end = addr;
	refv_insert(r, i + 1, &hi);
}

struct rr_vma refv_rr(const struct rvma *v)
{
	return (struct rr_vma){ v->start, v->end, v->flags, v->file, v->pgoff, v->av, v->chain };
}

void refv_absorb_av(struct rvma *dst, const struct rvma *src)
{
	if (!dst->av && src->av) {
		dst->av = src->av;
		dst->chain = src->chain;
	}
}

/*
 * Which neighbours the piece x (not in the array) joins: prev ends where x
 * starts, next starts where x ends. When both would, their anon_vmas must
 * agree too, or only prev takes it.
 */
static void joins(const struct rvma *prev, const struct rvma *next, const struct rvma *x, bool *left, bool *right)
{
	struct rr_vma px = refv_rr(x), pp, pn;
	if (prev)
		pp = refv_rr(prev);
	if (next)
		pn = refv_rr(next);
	*left = prev && rr_can_follow(&pp, &px);
	*right = next && rr_can_precede(&pn, &px);
	if (*left && *right)
		*right = rr_av_mergeable(prev->av, 1, next->av, 1);
}

uint32_t refv_place(struct ref *r, uint64_t start, uint64_t end, uint32_t flags, struct ref_file *f, uint64_t pgoff,
		    uint32_t av, uint8_t chain)
{
	uint32_t i = refv_find(r, start); /* the first VMA above the range */
	struct rvma x = { .start = start, .end = end, .flags = flags, .file = f, .pgoff = pgoff, .av = av,
			  .chain = av ? chain : 0 };
	struct rvma *prev = i > 0 && r->v[i - 1].end == start ? &r->v[i - 1] : NULL;
	struct rvma *next = i < r->n && r->v[i].start == end ? &r->v[i] : NULL;
	bool left, right;
	joins(prev, next, &x, &left, &right);
	if (!left && !right) {
		refv_insert(r, i, &x);
		return i;
	}
	ref_file_put(f); /* the neighbour already holds the file */
	if (left) {
		prev->end = right ? next->end : end;
		refv_absorb_av(prev, &x);
		if (right) {
			refv_absorb_av(prev, next);
			refv_remove(r, i);
		}
		return i - 1;
	}
	next->start = start;
	next->pgoff = pgoff;
	refv_absorb_av(next, &x);
	return i;
}

uint32_t refv_modify(struct ref *r, uint32_t i, uint64_t a, uint64_t b, uint32_t nf)
{
	if (r->v[i].flags == nf)
		return i;
	if (r->v[i].start < a)
		split(r, i++, a);
	if (r->v[i].end > b)
		split(r, i, b);
	r->v[i].flags = nf;
	struct rvma *prev = i > 0 && r->v[i - 1].end == r->v[i].start ? &r->v[i - 1] : NULL;
	struct rvma *next = i + 1 < r->n && r->v[i + 1].start == r->v[i].end ? &r->v[i + 1] : NULL;
	bool left, right;
	joins(prev, next, &r->v[i], &left, &right);
	if (right) { /* next grows down over the middle */
		next->start = r->v[i].start;
		next->pgoff = r->v[i].pgoff;
		refv_absorb_av(next, &r->v[i]);
		refv_remove(r, i);
	}
	if (left) { /* prev grows up over the middle (or what now holds it) */
		prev = &r->v[i - 1];
		prev->end = r->v[i].end;
		refv_absorb_av(prev, &r->v[i]);
		refv_remove(r, i);
		return i - 1;
	}
	return i;
}

void refv_unmap(struct ref *r, uint64_t a, uint64_t b)
{
	if (a >= b)
		return; /* nothing to unmap, nothing to split */
	uint32_t i = refv_find(r, a);
	if (i < r->n && r->v[i].start < a)
		split(r, i++, a);
	while (i < r->n && r->v[i].start < b) {
		if (r->v[i].end > b)
			split(r, i, b);
		refv_remove(r, i);
	}
	refps_take(&r->priv, a, b, 0, NULL);
}

bool refv_is_free(const struct ref *r, uint64_t a, uint64_t len)
{
	uint32_t i = refv_find(r, a);
	struct rr_vma next;
	if (i < r->n)
		next = refv_rr(&r->v[i]);
	return rr_fits_below(a, len, i < r->n ? &next : NULL);
}

uint64_t refv_topdown(const struct ref *r, uint64_t len)
{
	uint64_t high = VM_MMAP_BASE;
	uint32_t i = refv_find(r, high - 1);
	for (;;) {
		/* The gap below `high`, down to the end of the VMA before it. */
		uint64_t low = i > 0 ? r->v[i - 1].end : VM_MMAP_MIN_ADDR;
		uint64_t top = high;
		if (i < r->n && r->v[i].start < top)
			top = r->v[i].start;
		if (i < r->n && (r->v[i].flags & RR_GROWSDOWN))
			top = top > VM_STACK_GUARD_GAP ? top - VM_STACK_GUARD_GAP : 0;
		if (top >= low && top - low >= len)
			return top - len;
		if (i == 0)
			return 0;
		i--;
		high = r->v[i].start;
	}
}
