/* ref_madvise.c: the reference model's madvise: every advice Linux 6.18 knows, with its checks, its effect on VMAs and pages, and its errno. */
#include "conform/ref_int.h"

#define RR_HPAGE (2ull << 20) /* a PMD-sized transparent huge page */

/* Set (or clear) bit b in the page table entries of [a, z) that have a bit of `on`. */
static void mark(struct ref *r, uint64_t a, uint64_t z, uint8_t on, uint8_t b, bool set)
{
	for (uint64_t p = a; p < z; p += PG) {
		uint8_t pte = refps_get(&r->priv, p / PG);
		if (pte & on)
			refps_set(&r->priv, p / PG, set ? pte | b : pte & (uint8_t)~b);
	}
}

/* Mark the cached file pages under [a, z) of VMA v as ones that may be reclaimed (COLD, PAGEOUT). */
static void mark_cache(const struct rvma *v, uint64_t a, uint64_t z)
{
	for (uint64_t p = a; v->file && p < z; p += PG) {
		uint64_t idx = reff_idx(v, p);
		if (idx < v->file->ncap && (v->file->cached[idx] & RF_CACHED))
			v->file->cached[idx] |= RF_MAYBE;
	}
}

/* MADV_POPULATE_(READ|WRITE) over [a, z): faultin_page_range, VMA by VMA. */
static int populate(struct ref *r, uint64_t a, uint64_t z, bool write)
{
	for (uint64_t cur = a; cur < z;) {
		int i = refv_lookup(r, cur);
		if (i < 0)
			return -ENOMEM;
		if (!(r->v[i].flags & (write ? VM_PROT_WRITE : VM_PROT_READ)))
			return -EINVAL; /* check_vma_flags without FOLL_FORCE */
		uint64_t stop = MIN(z, r->v[i].end);
		for (; cur < stop; cur += PG)
			if (reff_fault(r, (uint32_t)i, cur, write) != VM_FAULT_OK)
				return -EFAULT; /* SIGBUS or SIGSEGV */
	}
	return 0;
}

/* MADV_REMOVE over [a, z) of VMA v: punch a hole in its file. */
static int remove_range(struct ref *r, const struct rvma *v, uint64_t a, uint64_t z)
{
	if (v->flags & RR_LOCKED)
		return -EINVAL;
	if (!v->file)
		return -EINVAL;
	if (!(v->flags & RR_SHARED))
		return -EACCES; /* vma_is_shared_maywrite */
	return ref_fallocate(r, v->file, 3 /* PUNCH_HOLE | KEEP_SIZE */, (int64_t)(reff_idx(v, a) * PG),
			     (int64_t)(z - a));
}

/* MADV_GUARD_INSTALL over [a, z) of VMA i: what was mapped goes, markers come. */
static int guard_install(struct ref *r, uint32_t i, uint64_t a, uint64_t z)
{
	if (r->v[i].flags & RR_LOCKED)
		return -EINVAL;
	if (r->v[i].file && r->k.version < REF_VERSION(6, 15))
		return -EINVAL; /* anonymous memory only before 6.15 */
	if (!r->v[i].file)
		reff_prepare_av(r, i);
	for (uint64_t p = a; p < z; p += PG)
		refps_set(&r->priv, p / PG, RP_GUARD);
	return 0;
}

/* One advice over [a, z), all inside VMA *i (which may change: a split or merge). 0 or -errno. */
static int advise(struct ref *r, uint32_t *i, uint64_t a, uint64_t z, int advice)
{
	struct rvma *v = &r->v[*i];
	bool locked = v->flags & RR_LOCKED, private_anon = !v->file && !(v->flags & RR_SHARED);
	switch (advice) {
	case VM_MADV_WILLNEED:	   /* reads swap back in; no swap here, and shmem holes stay holes */
	case RR_MADV_HWPOISON:	   /* (without CAP_SYS_ADMIN: EPERM, before the walk; the recorder never */
	case RR_MADV_SOFT_OFFLINE: /* poisons a page, so what it would do is not modelled) */
		return 0;
	case VM_MADV_DONTNEED:
	case RR_MADV_DONTNEED_LOCKED:
		if (locked && advice == VM_MADV_DONTNEED)
			return -EINVAL;
		refps_take(&r->priv, a, z, RP_GUARD, NULL); /* guard markers stay */
		return 0;
	case VM_MADV_FREE:
		if (locked || !private_anon)
			return -EINVAL;
		mark(r, a, z, RP_ANON, RP_MAYBE, true); /* lazily freed: dropped only under pressure */
		return 0;
	case RR_MADV_COLD:
	case RR_MADV_PAGEOUT:
		if (locked)
			return -EINVAL;
		mark(r, a, z, RP_ANON, RP_MAYBE, true);
		mark_cache(v, a, z);
		return 0;
	case RR_MADV_POPULATE_READ:
	case RR_MADV_POPULATE_WRITE: return 0; /* done over the whole range by ref_madvise */
	case RR_MADV_REMOVE: return remove_range(r, v, a, z);
	case RR_MADV_GUARD_INSTALL: return guard_install(r, *i, a, z);
	case RR_MADV_GUARD_REMOVE: mark(r, a, z, RP_GUARD, RP_GUARD, false); return 0;
	case RR_MADV_COLLAPSE: {
		/* Only a private anonymous VMA with room for an aligned huge page may collapse (thp_vma_allowable_order). */
		uint64_t h0 = (v->start + RR_HPAGE - 1) & ~(RR_HPAGE - 1), h1 = v->end & ~(RR_HPAGE - 1);
		if (!private_anon || h0 >= h1 || (v->flags & RR_NOHUGEPAGE))
			return -EINVAL;
		mark(r, a, z, RP_ANON | RP_ZERO, RP_MAYBE, true); /* khugepaged's work: may go either way */
		return 0;
	}
	case RR_MADV_WIPEONFORK:
		if (v->file || (v->flags & RR_SHARED))
			return -EINVAL; /* anonymous private memory only */
		break;
	}
	uint32_t nf = rr_flags_of_madvise(v->flags, advice);
	*i = refv_modify(r, *i, a, z, nf);
	if (advice == RR_MADV_MERGEABLE && (nf & RR_MERGEABLE))
		mark(r, a, z, RP_ANON, RP_MAYBE, true); /* ksmd may merge them */
	return 0;
}

int ref_madvise(struct ref *r, uint64_t addr, uint64_t len, int advice)
{
	int e = refchk_madvise(r, addr, &len, advice);
	if (e)
		return e == REFCHK_NOOP ? 0 : e;
	uint64_t start = addr, end = addr + len;
	if ((advice == RR_MADV_HWPOISON || advice == RR_MADV_SOFT_OFFLINE) && !r->k.cap_sys_admin)
		return -EPERM; /* madvise_inject_error, before any VMA is looked at */
	if (advice == RR_MADV_POPULATE_READ || advice == RR_MADV_POPULATE_WRITE)
		return populate(r, start, end, advice == RR_MADV_POPULATE_WRITE);
	int unmapped = 0;
	/* madvise_walk_vmas: skip holes (ENOMEM at the end), apply to each VMA's part. */
	for (uint32_t i = refv_find(r, start); start < end; i = refv_find(r, start)) {
		if (i == r->n)
			return -ENOMEM;
		if (start < r->v[i].start) {
			unmapped = -ENOMEM;
			start = r->v[i].start;
			if (start >= end)
				break;
		}
		uint64_t stop = MIN(r->v[i].end, end);
		if ((e = advise(r, &i, start, stop, advice)))
			return e;
		start = MAX(stop, MIN(r->v[i].end, end));
	}
	return unmapped;
}
