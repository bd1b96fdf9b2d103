/* ref_fault.c: the reference model's faults (touch, populate, stack growth), fork and the queries (layout, residency). */
#include "conform/ref_int.h"

/* ---- faults ---- */

/* Grow a grows-down VMA down to va if Linux would (expand_downwards). Returns its index or -1. */
static int grow_stack(struct ref *r, uint64_t va)
{
	uint32_t i = refv_find(r, va);
	if (i == r->n || !(r->v[i].flags & RR_GROWSDOWN))
		return -1;
	uint64_t a = va & ~(PG - 1);
	if (a < VM_MMAP_MIN_ADDR || r->v[i].end - a > RR_STACK_MAX)
		return -1;
	if (i > 0 && r->v[i - 1].end + VM_STACK_GUARD_GAP > a)
		return -1;
	r->v[i].pgoff -= (r->v[i].start - a) / PG;
	r->v[i].start = a;
	return (int)i;
}

/* anon_vma_prepare: reuse the anon_vma of a compatible neighbour (next, then prev) with a chain of one, else a new one. */
static void prepare_av(struct ref *r, uint32_t i)
{
	struct rvma *v = &r->v[i];
	if (v->av)
		return;
	struct rr_vma me = refv_rr(v);
	if (i + 1 < r->n) {
		struct rr_vma next = refv_rr(&r->v[i + 1]);
		if (rr_av_shareable(&me, &next) && next.av && next.chain == 1) {
			v->av = next.av, v->chain = 1;
			return;
		}
	}
	if (i > 0) {
		struct rr_vma prev = refv_rr(&r->v[i - 1]);
		if (rr_av_shareable(&prev, &me) && prev.av && prev.chain == 1) {
			v->av = prev.av, v->chain = 1;
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
	int i = refv_lookup(r, va);
	if (i < 0)
		i = grow_stack(r, va);
	if (i < 0)
		return VM_FAULT_SEGV;
	struct rvma *v = &r->v[i];
	if (acc == ACC_W ? !(v->flags & VM_PROT_WRITE) : !(v->flags & RR_RWX))
		return VM_FAULT_SEGV;
	uint64_t vpn = va / PG;
	bool cow = acc == ACC_W && !(v->flags & RR_SHARED);
	if (v->file) {
		uint64_t idx = v->pgoff + (va - v->start) / PG;
		if (idx >= reff_pages(v->file))
			return VM_FAULT_BUS;
		reff_cache(v->file, idx);
		if (cow && !refps_has(&r->priv, vpn)) {
			prepare_av(r, (uint32_t)i);
			refps_insert(&r->priv, vpn);
		}
	} else {
		if (cow)
			prepare_av(r, (uint32_t)i);
		refps_insert(&r->priv, vpn);
	}
	if (acc == ACC_X && !(r->v[i].flags & VM_PROT_EXEC))
		return VM_FAULT_SEGV; /* mapped, then the NX fault */
	return VM_FAULT_OK;
}

void reff_populate(struct ref *r, uint64_t a, uint64_t b, uint32_t vf)
{
	enum mmu_acc acc = (vf & VM_PROT_WRITE) && !(vf & RR_SHARED) ? ACC_W : ACC_R;
	for (uint64_t p = a; p < b; p += PG)
		if (ref_touch(r, p, acc) != VM_FAULT_OK)
			break;
}

/* ---- queries ---- */

void ref_layout(struct ref *r, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg)
{
	bool heap_on = r->brk > r->start_brk;
	for (uint32_t i = refv_find(r, start); i < r->n && r->v[i].start < end; i++) {
		const struct rvma *v = &r->v[i];
		bool heap = heap_on && !v->file && v->start >= r->start_brk && v->end <= vm_page_up(r->brk);
		struct vm_range g = { .start = v->start,
				      .end = v->end,
				      .prot = v->flags & RR_RWX,
				      .flags = (v->flags & RR_SHARED ? VM_RANGE_SHARED : 0) |
					       (v->flags & RR_GROWSDOWN ? VM_RANGE_STACK : 0) | (heap ? VM_RANGE_HEAP : 0),
				      .kind = v->file ? VM_KIND_FILE : VM_KIND_ANON,
				      .file_id = v->file ? v->file->id : 0,
				      .pgoff = v->file ? v->pgoff : 0 };
		fn(arg, &g);
	}
}

bool ref_resident(struct ref *r, uint64_t va)
{
	int i = refv_lookup(r, va);
	if (i < 0)
		return false;
	if (refps_has(&r->priv, va / PG))
		return true;
	const struct rvma *v = &r->v[i];
	if (!v->file)
		return false;
	uint64_t idx = v->pgoff + (va - v->start) / PG;
	return idx < reff_pages(v->file) && v->file->cached[idx];
}

uint32_t ref_nvmas(const struct ref *r) { return r->n; }
uint64_t ref_brk_now(const struct ref *r) { return r->brk; }

struct ref *ref_fork(struct ref *r)
{
	struct ref *c = ref_create();
	c->start_brk = r->start_brk;
	c->brk = r->brk;
	c->next_av = r->next_av + 1000000; /* the child's anon_vmas are new ones */
	for (uint32_t i = 0; i < r->n; i++) {
		struct rvma v = r->v[i];
		if (v.file)
			v.file->refs++;
		if (v.av) {
			v.av = c->next_av++;
			v.chain = (uint8_t)(r->v[i].chain + 1);
		}
		refv_insert(c, c->n, &v);
	}
	/* copy_page_range copies the entries only of VMAs with an anon_vma; the rest refault in the child. */
	for (uint64_t k = 0; k < r->priv.cap; k++) {
		if (r->priv.k[k] <= 1)
			continue;
		uint64_t vpn = r->priv.k[k] - 2;
		int i = refv_lookup(r, vpn * PG);
		if (i >= 0 && r->v[i].av)
			refps_insert(&c->priv, vpn);
	}
	return c;
}
