/* list.c: the `listlock` design's VMAs: a sorted array searched by bisection, and Linux's VMA changes on it (split, merge, unmap, top-down search, anon_vma), all under the one lock. */
#include "listlock/ll.h"

#include <string.h>

/* changed: the array (or a VMA in it) was written: its line, and node_visit per cache line of pointers moved. */
static void changed(struct llmm *mm, struct mmu_cpu *cpu, uint32_t moved)
{
	if (!cpu)
		return;
	coh_write(cpu->core, &mm->line);
	sim_advance(cpu->core, mm->as->sys->m->node_visit * (1 + moved / 8));
}

uint32_t ll_index(struct llmm *mm, struct mmu_cpu *cpu, uint64_t addr)
{
	uint32_t lo = 0, hi = mm->n, probes = 0;
	while (lo < hi) { /* the ends are sorted too: the VMAs are disjoint */
		uint32_t mid = lo + (hi - lo) / 2;
		probes++;
		if (mm->v[mid]->end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (cpu) {
		coh_read(cpu->core, &mm->line);
		sim_advance(cpu->core, mm->as->sys->m->node_visit * (probes + 1));
		mm->searches++;
		mm->probes += probes;
	}
	return lo;
}

struct llvma *ll_from(struct llmm *mm, struct mmu_cpu *cpu, uint64_t addr)
{
	uint32_t i = ll_index(mm, cpu, addr);
	return i < mm->n ? mm->v[i] : NULL;
}

struct llvma *ll_before(struct llmm *mm, struct mmu_cpu *cpu, uint64_t addr)
{
	uint32_t i = ll_index(mm, cpu, addr);
	if (i < mm->n && mm->v[i]->start < addr)
		return mm->v[i];
	return i ? mm->v[i - 1] : NULL;
}

struct vr_attr ll_attr(const struct llvma *v)
{
	return (struct vr_attr){ v->start, v->end, v->flags, v->file, v->pgoff, v->av, v->chain };
}

const struct vr_attr *ll_attr_of(const struct llvma *v, struct vr_attr *buf)
{
	if (!v)
		return NULL;
	*buf = ll_attr(v);
	return buf;
}

/* insert: put v at index i (everything from i moves up one). */
static void insert(struct llmm *mm, struct mmu_cpu *cpu, uint32_t i, struct llvma *v)
{
	if (mm->n == mm->cap)
		mm->v = xrealloc(mm->v, sizeof(*mm->v) * (mm->cap = mm->cap ? mm->cap * 2 : 16));
	memmove(mm->v + i + 1, mm->v + i, sizeof(*mm->v) * (mm->n - i));
	mm->v[i] = v;
	mm->n++;
	changed(mm, cpu, mm->n - i);
}

/* cut: take the entries [i, k) out of the array (what follows moves down). */
static void cut(struct llmm *mm, struct mmu_cpu *cpu, uint32_t i, uint32_t k)
{
	memmove(mm->v + i, mm->v + k, sizeof(*mm->v) * (mm->n - k));
	mm->n -= k - i;
	changed(mm, cpu, mm->n - i);
}

static struct llvma *vma_new(const struct vr_attr *a, struct vm_file *f)
{
	struct llvma *v = xzalloc(sizeof(*v));
	*v = (struct llvma){ a->start, a->end, a->flags, f, a->pgoff, a->av, a->chain };
	if (f)
		vm_file_get(f);
	return v;
}

/* vma_free: no fault can be looking at v (they all hold the lock), so it goes at once: no RCU. */
static void vma_free(struct llmm *mm, struct llvma *v)
{
	if (v->file)
		vm_file_put(mm->as->sys, v->file);
	xfree(v);
}

void ll_append(struct llmm *mm, struct mmu_cpu *cpu, const struct vr_attr *a, struct vm_file *f)
{
	insert(mm, cpu, mm->n, vma_new(a, f));
}

void ll_set(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v, uint64_t start, uint64_t end, uint64_t pgoff)
{
	v->start = start;
	v->end = end;
	v->pgoff = pgoff;
	changed(mm, cpu, 0);
}

/* take_av: dst inherits src's anon_vma when it has none (a merge keeps the pages' reverse map). */
static void take_av(struct llvma *dst, const struct llvma *src)
{
	if (!dst->av && src->av) {
		dst->av = src->av;
		dst->chain = src->chain;
	}
}

/* split: cut v at addr (split_vma); returns the new VMA [addr, end), inserted right after v. */
static struct llvma *split(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v, uint64_t addr)
{
	uint32_t i = ll_index(mm, cpu, v->start);
	struct vr_attr hi = ll_attr(v);
	hi.pgoff += (addr - hi.start) >> PAGE_SHIFT;
	hi.start = addr;
	struct llvma *n = vma_new(&hi, v->file);
	sim_note(cpu->core, "split VMA [%#llx, %#llx) at %#llx: its upper part is a new VMA at index %u of the array",
		 (unsigned long long)v->start, (unsigned long long)v->end, (unsigned long long)addr, i + 1);
	v->end = addr;
	insert(mm, cpu, i + 1, n);
	mm->splits++;
	return n;
}

void ll_absorb(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v, struct llvma *n)
{
	uint32_t i = ll_index(mm, cpu, n->start);
	take_av(v, n);
	v->end = n->end;
	cut(mm, cpu, i, i + 1);
	vma_free(mm, n);
	mm->merges++;
}

/* neighbours: the VMA before index lo if it ends at a, and the one at index hi if it starts at b (NULL: not so). */
static void neighbours(struct llmm *mm, uint32_t lo, uint32_t hi, uint64_t a, uint64_t b, struct llvma **prev,
		       struct llvma **next)
{
	*prev = lo && mm->v[lo - 1]->end == a ? mm->v[lo - 1] : NULL;
	*next = hi < mm->n && mm->v[hi]->start == b ? mm->v[hi] : NULL;
}

struct llvma *ll_place_new(struct llmm *mm, struct mmu_cpu *cpu, struct vr_attr a, struct vm_file *f)
{
	uint32_t i = ll_index(mm, cpu, a.start);
	struct llvma *prev, *next;
	neighbours(mm, i, i, a.start, a.end, &prev, &next);
	struct vr_attr pa, na;
	bool left, right;
	kmm_merge_sides(ll_attr_of(prev, &pa), &a, ll_attr_of(next, &na), &left, &right);
	if (!left && !right) {
		struct llvma *v = vma_new(&a, f);
		insert(mm, cpu, i, v);
		sim_note(cpu->core, "new VMA [%#llx, %#llx) inserted at index %u of the sorted array (%u VMA%s now)",
			 (unsigned long long)a.start, (unsigned long long)a.end, i, mm->n, mm->n == 1 ? "" : "s");
		return v;
	}
	struct llvma *into = left ? prev : next;
	if (!into->av && a.av)
		into->av = a.av, into->chain = a.chain;
	if (left && right) {
		ll_absorb(mm, cpu, prev, next); /* counts the merge */
	} else {
		ll_set(mm, cpu, into, left ? prev->start : a.start, left ? a.end : next->end, left ? prev->pgoff : a.pgoff);
		mm->merges++;
	}
	sim_note(cpu->core, "the new range merges into the VMA %s: now [%#llx, %#llx)",
		 left && right ? "before it and the one after" : left ? "before it" : "after it",
		 (unsigned long long)into->start, (unsigned long long)into->end);
	return into;
}

struct llvma *ll_modify(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v, uint64_t a, uint64_t b, uint32_t nf)
{
	if (v->flags == nf)
		return v;
	if (v->start < a)
		v = split(mm, cpu, v, a);
	if (v->end > b)
		split(mm, cpu, v, b);
	v->flags = nf;
	changed(mm, cpu, 0);
	uint32_t i = ll_index(mm, cpu, v->start);
	struct llvma *prev, *next;
	neighbours(mm, i, i + 1, v->start, v->end, &prev, &next);
	struct vr_attr me = ll_attr(v), pa, na;
	bool left, right;
	kmm_merge_sides(ll_attr_of(prev, &pa), &me, ll_attr_of(next, &na), &left, &right);
	sim_note(cpu->core, "VMA [%#llx, %#llx) gets its new flags%s", (unsigned long long)me.start,
		 (unsigned long long)me.end, left || right ? " and merges with its equal neighbour" : "");
	if (right) { /* next takes v's range and v goes */
		take_av(next, v);
		cut(mm, cpu, i, i + 1);
		ll_set(mm, cpu, next, me.start, next->end, me.pgoff);
		vma_free(mm, v);
		v = next;
		mm->merges++;
	}
	if (left) {
		ll_absorb(mm, cpu, prev, v);
		v = prev;
	}
	return v;
}

void ll_unmap(struct llmm *mm, struct mmu_cpu *cpu, uint64_t start, uint64_t end)
{
	uint32_t i = ll_index(mm, cpu, start);
	if (i == mm->n || mm->v[i]->start >= end)
		return;
	if (mm->v[i]->start < start)
		split(mm, cpu, mm->v[i++], start);
	uint32_t k = ll_index(mm, cpu, end - 1);
	if (k < mm->n && mm->v[k]->start < end && mm->v[k]->end > end)
		split(mm, cpu, mm->v[k], end);
	k = ll_index(mm, cpu, end); /* the first VMA at or above end: [i, k) goes */
	uint32_t gone = k - i;
	struct llvma **dead = xmalloc(sizeof(*dead) * gone);
	memcpy(dead, mm->v + i, sizeof(*dead) * gone);
	cut(mm, cpu, i, k);
	sim_note(cpu->core, "%u VMA%s taken out of the array; now the page table under [%#llx, %#llx)", gone,
		 gone == 1 ? "" : "s", (unsigned long long)start, (unsigned long long)end);
	/* free_pgtables may free the tables up to the neighbours: nobody can map anything there while we hold the lock. */
	uint64_t floor = i ? mm->v[i - 1]->end : 0, ceiling = i < mm->n ? mm->v[i]->start : 0;
	struct kmm_flush fl = { 0 };
	kmm_zap(&mm->pt, cpu, start, end, &fl);
	kmm_free_tables(&mm->pt, cpu, start, end, floor, ceiling, &fl);
	kmm_flush_finish(&mm->pt, cpu, &fl);
	for (uint32_t j = 0; j < gone; j++)
		vma_free(mm, dead[j]);
	xfree(dead);
}

uint64_t ll_topdown(struct llmm *mm, struct mmu_cpu *cpu, uint64_t len)
{
	uint64_t high = mm->as->mmap_base;
	uint32_t i = ll_index(mm, cpu, high - 1); /* the gaps from the mmap base down: between v[i - 1] and v[i] */
	for (;; i--) {
		const struct llvma *above = i < mm->n ? mm->v[i] : NULL, *below = i ? mm->v[i - 1] : NULL;
		struct vr_attr ba, aa;
		if (cpu)
			sim_advance(cpu->core, mm->as->sys->m->node_visit);
		uint64_t a = vr_gap_top(ll_attr_of(below, &ba), ll_attr_of(above, &aa), high, len);
		if (a || !below)
			return a;
		high = below->start;
	}
}

void ll_anon_prepare(struct llmm *mm, struct mmu_cpu *cpu, struct llvma *v)
{
	if (v->av)
		return;
	uint32_t i = ll_index(mm, cpu, v->start);
	struct vr_attr me = ll_attr(v), na, pa;
	const struct llvma *next = i + 1 < mm->n ? mm->v[i + 1] : NULL, *prev = i ? mm->v[i - 1] : NULL;
	uint32_t av = kmm_reusable_av(&me, ll_attr_of(next, &na), ll_attr_of(prev, &pa));
	v->av = av ? av : atomic_fetch_add(&mm->next_av, 1);
	v->chain = 1;
	changed(mm, cpu, 0);
	sim_note(cpu->core, "the VMA gets %s anon_vma (%u) for its anonymous pages", av ? "its neighbour's" : "a new", v->av);
}

void ll_free_all(struct llmm *mm)
{
	for (uint32_t i = 0; i < mm->n; i++)
		vma_free(mm, mm->v[i]);
	xfree(mm->v);
	mm->v = NULL;
	mm->n = mm->cap = 0;
}
