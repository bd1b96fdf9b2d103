/* ref_check.c: the reference model's own argument checks, made before any state is looked at, in the order Linux makes them (x86-64). */
#include "conform/ref_int.h"

/* Round up to pages; 0 when that wraps (as PAGE_ALIGN does). */
static uint64_t up(uint64_t x) { return (x + PG - 1) & ~(PG - 1); }

int refchk_mmap(const struct ref *r, uint64_t addr, uint64_t *len, int flags, uint64_t off)
{
	if (off & (PG - 1)) /* sys_mmap */
		return -EINVAL;
	if (!*len) /* do_mmap */
		return -EINVAL;
	uint64_t l = up(*len);
	if (!l)
		return -ENOMEM;
	uint64_t pgoff = off / PG; /* anonymous mappings ignore it, but not this check */
	if (pgoff + l / PG < pgoff)
		return -EOVERFLOW;
	if (l > VM_TASK_SIZE) /* __get_unmapped_area */
		return -ENOMEM;
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) {
		if (addr > VM_TASK_SIZE - l)
			return -ENOMEM;
		if (addr & (PG - 1))
			return -EINVAL;
		if (addr < VM_MMAP_MIN_ADDR && !r->k.cap_sys_admin)
			return -EPERM; /* security_mmap_addr: CAP_SYS_RAWIO may go lower (root has it) */
	}
	*len = l;
	return 0;
}

int refchk_munmap(uint64_t addr, uint64_t *len)
{
	if ((addr & (PG - 1)) || addr > VM_TASK_SIZE || *len > VM_TASK_SIZE - addr) /* do_vmi_munmap */
		return -EINVAL;
	uint64_t l = up(*len);
	if (!l)
		return -EINVAL;
	*len = l;
	return 0;
}

#define PROT_GROWS (RR_PROT_GROWSDOWN | RR_PROT_GROWSUP)

int refchk_mprotect(uint64_t addr, uint64_t *len, int prot)
{
	if ((prot & PROT_GROWS) == PROT_GROWS) /* do_mprotect_pkey: not both */
		return -EINVAL;
	if (addr & (PG - 1))
		return -EINVAL;
	if (!*len)
		return REFCHK_NOOP;
	uint64_t l = up(*len);
	if (!l || addr + l <= addr)
		return -ENOMEM;
	if (prot & ~(PROT_GROWS | VM_PROT_MASK | RR_PROT_SEM)) /* arch_validate_prot: PROT_SEM is allowed */
		return -EINVAL;
	*len = l;
	return 0;
}

/* madvise_behavior_valid: the advice this kernel knows. */
static bool advice_known(const struct ref_kernel *k, int a)
{
	switch (a) {
	case VM_MADV_NORMAL:
	case VM_MADV_RANDOM:
	case VM_MADV_SEQUENTIAL:
	case VM_MADV_WILLNEED:
	case VM_MADV_DONTNEED:
	case VM_MADV_FREE:
	case RR_MADV_REMOVE:
	case RR_MADV_DONTFORK:
	case RR_MADV_DOFORK:
	case RR_MADV_DONTDUMP:
	case RR_MADV_DODUMP:
	case RR_MADV_WIPEONFORK:
	case RR_MADV_KEEPONFORK:
	case RR_MADV_COLD:
	case RR_MADV_PAGEOUT:
	case RR_MADV_POPULATE_READ:
	case RR_MADV_POPULATE_WRITE:
	case RR_MADV_DONTNEED_LOCKED: return true;
	case RR_MADV_MERGEABLE:
	case RR_MADV_UNMERGEABLE: return k->ksm;
	case VM_MADV_HUGEPAGE:
	case VM_MADV_NOHUGEPAGE: return k->thp;
	case RR_MADV_COLLAPSE: return k->thp && k->version >= REF_VERSION(6, 1);
	case RR_MADV_GUARD_INSTALL:
	case RR_MADV_GUARD_REMOVE: return k->version >= REF_VERSION(6, 13);
	case RR_MADV_HWPOISON:
	case RR_MADV_SOFT_OFFLINE: return k->memory_failure;
	}
	return false;
}

int refchk_madvise(const struct ref *r, uint64_t addr, uint64_t *len, int advice)
{
	if (!advice_known(&r->k, advice)) /* madvise_should_skip */
		return -EINVAL;
	if (addr & (PG - 1))
		return -EINVAL;
	uint64_t l = up(*len);
	if (*len && !l)
		return -EINVAL;
	if (addr + l < addr)
		return -EINVAL;
	if (!l)
		return REFCHK_NOOP;
	*len = l;
	return 0;
}

int refchk_mremap(uint64_t old, uint64_t *old_len, uint64_t *new_len, int flags, uint64_t new_addr)
{
	uint64_t ol = up(*old_len), nl = up(*new_len);
	if (flags & ~(VM_MREMAP_FIXED | VM_MREMAP_MAYMOVE | VM_MREMAP_DONTUNMAP)) /* check_mremap_params */
		return -EINVAL;
	if (old & (PG - 1))
		return -EINVAL;
	if (!nl || nl > VM_TASK_SIZE)
		return -EINVAL;
	if (flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP)) { /* a new address is named */
		if (new_addr > VM_TASK_SIZE - nl || (new_addr & (PG - 1)))
			return -EINVAL;
		if (!(flags & VM_MREMAP_MAYMOVE))
			return -EINVAL;
		if ((flags & VM_MREMAP_DONTUNMAP) && ol != nl)
			return -EINVAL;
		if (old < new_addr + nl && new_addr < old + ol)
			return -EINVAL;
	}
	*old_len = ol;
	*new_len = nl;
	return 0;
}
