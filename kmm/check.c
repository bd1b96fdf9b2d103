/* check.c: invariant checks shared by the designs that keep VMAs: the VMAs are sorted, apart and merged where Linux merges, and the page table maps nothing outside them nor beyond their rights. */
#include "kmm/check.h"
#include "kmm/kmm.h"
#include "kmm/leaf.h"

#include <stdarg.h>
#include <stdio.h>

int kmm_fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

bool kmm_would_merge(const struct vr_attr *a, const struct vr_attr *b)
{
	return a->end == b->start && a->flags == b->flags && a->file == b->file && !a->av && !b->av &&
	       b->pgoff == a->pgoff + ((a->end - a->start) >> PAGE_SHIFT);
}

int kmm_check_maps(const struct kmm *pt, const struct vr_attr *m, uint32_t n, char *why, size_t len)
{
	for (uint32_t i = 0; i < n; i++) {
		if (m[i].start >= m[i].end || (m[i].start | m[i].end) & (PAGE_SIZE - 1) || m[i].end > VM_TASK_SIZE)
			return kmm_fail(why, len, "VMA [%#llx, %#llx) is empty, unaligned or beyond the user space",
					(unsigned long long)m[i].start, (unsigned long long)m[i].end);
		if (!m[i].chain != !m[i].av)
			return kmm_fail(why, len, "VMA [%#llx, %#llx) has an anon_vma without a chain, or a chain without one",
					(unsigned long long)m[i].start, (unsigned long long)m[i].end);
		if (!i)
			continue;
		if (m[i].start < m[i - 1].end)
			return kmm_fail(why, len, "VMAs [%#llx, %#llx) and [%#llx, %#llx) are out of order or overlap",
					(unsigned long long)m[i - 1].start, (unsigned long long)m[i - 1].end,
					(unsigned long long)m[i].start, (unsigned long long)m[i].end);
		if (!pt->unmerged && kmm_would_merge(&m[i - 1], &m[i]))
			return kmm_fail(why, len, "VMAs [%#llx, %#llx) and [%#llx, %#llx) should be one (Linux merges them)",
					(unsigned long long)m[i - 1].start, (unsigned long long)m[i - 1].end,
					(unsigned long long)m[i].start, (unsigned long long)m[i].end);
	}
	return 0;
}

int kmm_check_entry(const struct vm_sys *sys, const struct vr_attr *a, uint64_t va, int level, uint64_t e, char *why,
		    size_t len)
{
	uint64_t size = LEVEL_SIZE(level), pfn = PTE_PFN(e);
	unsigned npages = (unsigned)(size >> PAGE_SHIFT);
	const char *bad = NULL;
	if (!a || va < a->start || va + size > a->end)
		bad = "maps a page outside every VMA";
	else if (!(e & PTE_P) != !(a->flags & VR_PROT))
		bad = (e & PTE_P) ? "is present in a PROT_NONE VMA" : "is not present in an accessible VMA";
	else if ((e & PTE_P) && (!(e & PTE_US) || ((e & PTE_RW) && !(a->flags & VM_PROT_WRITE)) ||
				 !(e & PTE_NX) != !!(a->flags & VM_PROT_EXEC)))
		bad = "grants other rights than its VMA's";
	else if (a->flags & VR_SHARED) {
		const struct vm_file *f = a->file;
		uint64_t idx = a->pgoff + ((va - a->start) >> PAGE_SHIFT);
		if (!f || level != 1 || idx >= f->npages_cap || f->pages[idx] != pfn)
			bad = "of a shared mapping is not its file's cached page";
	} else {
		for (unsigned k = 0; k < npages && !bad; k++) {
			uint64_t p = pfn + k;
			if (p >= sys->pm->nframes || (!a->file && p != sys->zero_pfn && vm_frame_is_file(sys, p)))
				bad = "of an anonymous mapping maps a page-cache frame";
			else if ((e & PTE_RW) && !kmm_exclusive_anon(sys, p))
				bad = "is writable but its frame is not this process's alone (copy-on-write broken)";
		}
	}
	if (!bad)
		return 0;
	return kmm_fail(why, len, "the level-%d entry for %#llx (%#llx) %s (VMA [%#llx, %#llx) flags %#x)", level,
			(unsigned long long)va, (unsigned long long)e, bad, a ? (unsigned long long)a->start : 0ull,
			a ? (unsigned long long)a->end : 0ull, a ? a->flags : 0u);
}

/* The leaf walk: every mapped leaf checked against the mapping that holds it, found by moving along the sorted maps. */
struct leaves {
	const struct vm_sys *sys;
	const struct vr_attr *m;
	uint32_t n, i;
	char *why;
	size_t len;
	int err;
};

static int leaf(void *arg, const struct pm_ptpage *p, unsigned idx, int level, uint64_t va, uint64_t e)
{
	(void)p, (void)idx;
	struct leaves *w = arg;
	if (!pte_is_leaf(e, level))
		return 1;
	if (!pte_mapped(e))
		return 0;
	while (w->i < w->n && w->m[w->i].end <= va)
		w->i++;
	const struct vr_attr *a = w->i < w->n && w->m[w->i].start <= va ? &w->m[w->i] : NULL;
	w->err = kmm_check_entry(w->sys, a, va, level, e, w->why, w->len);
	return w->err ? -1 : 0;
}

int kmm_check_leaves(const struct vm_as *as, const struct vr_attr *m, uint32_t n, uint64_t start, uint64_t end,
		     char *why, size_t len)
{
	struct leaves w = { as->sys, m, n, 0, why, len, 0 };
	mmu_visit_host(&as->hw, start, end, leaf, &w);
	return w.err;
}
