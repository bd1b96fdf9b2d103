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
	/* The guard gap is kept only from an accessible VMA below that does not grow down itself. */
	const struct rvma *prev = i > 0 ? &r->v[i - 1] : NULL;
	if (prev && !(prev->flags & RR_GROWSDOWN) && (prev->flags & RR_RWX) && prev->end + VM_STACK_GUARD_GAP > a)
		return -1;
	r->v[i].pgoff -= (r->v[i].start - a) / PG;
	r->v[i].start = a;
	reff_prepare_av(r, i); /* expand_downwards makes sure of the anon_vma */
	return (int)i;
}

/* anon_vma_prepare: reuse the anon_vma of a compatible neighbour (next, then prev) with a chain of one, else a new one. */
void reff_prepare_av(struct ref *r, uint32_t i)
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

enum vm_fault reff_fault(struct ref *r, uint32_t i, uint64_t va, bool write)
{
	struct rvma *v = &r->v[i];
	uint64_t vpn = va / PG;
	uint8_t pte = refps_get(&r->priv, vpn);
	if (pte & RP_GUARD)
		return VM_FAULT_SEGV;
	bool cow = write && !(v->flags & RR_SHARED);
	if (v->file) {
		uint64_t idx = reff_idx(v, va);
		if (cow && !(pte & RP_ANON))
			reff_prepare_av(r, i); /* do_cow_fault prepares the anon_vma before it asks the file */
		if (idx >= reff_pages(v->file))
			return VM_FAULT_BUS;
		if (!(pte & RP_ANON))
			reff_cache(v->file, idx); /* read in (or found) through the page cache */
		if (cow && !(pte & RP_ANON))
			pte = RP_ANON;
	} else if (cow) {
		reff_prepare_av(r, i);
		pte = (pte & RP_MAYBE) | RP_ANON;
	} else if (!(pte & (RP_ANON | RP_ZERO))) {
		pte = RP_ZERO;
	}
	if (write)
		pte &= (uint8_t)~RP_MAYBE; /* written again: no longer free to drop */
	refps_set(&r->priv, vpn, pte);
	return VM_FAULT_OK;
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
	if (acc == ACC_W ? !(r->v[i].flags & VM_PROT_WRITE) : !(r->v[i].flags & RR_RWX))
		return VM_FAULT_SEGV;
	enum vm_fault f = reff_fault(r, (uint32_t)i, va, acc == ACC_W);
	if (f == VM_FAULT_OK && acc == ACC_X && !(r->v[i].flags & VM_PROT_EXEC))
		return VM_FAULT_SEGV; /* mapped, then the NX fault */
	return f;
}

/* populate_vma_page_range over [a, b) of VMA i: -EFAULT when it cannot (PROT_NONE, or a fault fails). */
static int populate_vma(struct ref *r, uint32_t i, uint64_t a, uint64_t b)
{
	uint32_t vf = r->v[i].flags;
	if (vf & RR_LOCKONFAULT)
		return 0; /* locked as pages fault in: nothing to do now */
	if (!(vf & RR_RWX))
		return -EFAULT; /* PROT_NONE is never faulted in */
	bool write = (vf & (VM_PROT_WRITE | RR_SHARED)) == VM_PROT_WRITE;
	for (uint64_t p = a; p < b; p += PG)
		if (reff_fault(r, i, p, write) != VM_FAULT_OK)
			return -EFAULT;
	return 0;
}

int reff_populate(struct ref *r, uint64_t a, uint64_t b, bool ignore_errors)
{
	for (uint64_t cur = a; cur < b;) {
		uint32_t i = refv_find(r, cur);
		if (i == r->n || r->v[i].start >= b)
			break;
		uint64_t s = MAX(cur, r->v[i].start), e = MIN(b, r->v[i].end);
		int err = populate_vma(r, i, s, e);
		if (err && !ignore_errors)
			return err;
		cur = e;
	}
	return 0;
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

enum ref_res ref_residency(struct ref *r, uint64_t va)
{
	int i = refv_lookup(r, va);
	if (i < 0)
		return REF_RES_NO;
	uint8_t pte = refps_get(&r->priv, va / PG);
	if (pte & (RP_ANON | RP_ZERO))
		return pte & RP_MAYBE ? REF_RES_MAYBE : REF_RES_YES;
	const struct rvma *v = &r->v[i];
	if (!v->file) /* nothing mapped (or a guard marker) */
		return REF_RES_NO;
	uint64_t idx = reff_idx(v, va); /* mincore looks the page up in the cache */
	uint8_t c = idx < v->file->ncap ? v->file->cached[idx] : 0;
	if (!(c & RF_CACHED))
		return REF_RES_NO;
	return c & RF_MAYBE ? REF_RES_MAYBE : REF_RES_YES;
}

bool ref_resident(struct ref *r, uint64_t va) { return ref_residency(r, va) != REF_RES_NO; }

uint32_t ref_nvmas(const struct ref *r) { return r->n; }
uint64_t ref_brk_now(const struct ref *r) { return r->brk; }

struct ref *ref_fork(struct ref *r)
{
	struct ref *c = ref_create_on(&r->k);
	c->start_brk = r->start_brk;
	c->brk = r->brk;
	c->next_av = r->next_av + 1000000; /* the child's anon_vmas are new ones */
	for (uint32_t i = 0; i < r->n; i++) {
		struct rvma v = r->v[i];
		if (v.flags & RR_DONTCOPY)
			continue; /* dup_mmap leaves it out */
		if (v.file)
			v.file->refs++;
		v.flags &= ~RR_LOCKED_MASK; /* locks are not inherited */
		if (v.flags & RR_WIPEONFORK)
			v.av = 0, v.chain = 0; /* a clean slate: no anon_vma, no pages */
		else if (v.av)
			v.av = c->next_av++, v.chain = (uint8_t)(r->v[i].chain + 1);
		refv_insert(c, c->n, &v);
	}
	/*
	 * copy_page_range copies the entries only of VMAs with an anon_vma (the
	 * rest refault in the child), and from 6.18 of VMAs that had guard
	 * markers installed too: only the markers matter there.
	 */
	bool guards = r->k.version >= REF_VERSION(6, 18);
	for (uint32_t i = 0; i < c->n; i++)
		for (uint64_t va = c->v[i].start; va < c->v[i].end; va += PG) {
			uint8_t pte = refps_get(&r->priv, va / PG);
			if (pte && (c->v[i].av || (guards && (pte & RP_GUARD))))
				refps_set(&c->priv, va / PG, c->v[i].av ? pte : RP_GUARD);
		}
	return c;
}
