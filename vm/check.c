/* check.c: argument checks that need no address-space state, in the order Linux makes them. */
#include "vm/vm.h"

/* Page-align up; 0 on overflow (as Linux's PAGE_ALIGN wraps to 0). */
static uint64_t page_align(uint64_t x) { return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

int vm_check_mmap(uint64_t addr, uint64_t *len, int prot, int flags, bool anon, uint64_t off)
{
	(void)prot;
	/* arch/x86 sys_mmap: the byte offset must be page aligned. */
	if (off & (PAGE_SIZE - 1))
		return -EINVAL;
	/*
	 * ksys_mmap_pgoff: MAP_HUGETLB on a file that is not hugetlbfs is
	 * EINVAL; anonymous MAP_HUGETLB needs huge pages reserved
	 * (vm.nr_hugepages), which the simulated kernel has none of: ENOMEM.
	 */
	if (flags & VM_MAP_HUGETLB)
		return anon ? -ENOMEM : -EINVAL;
	/* do_mmap */
	if (!*len)
		return -EINVAL;
	uint64_t l = page_align(*len);
	if (!l)
		return -ENOMEM;
	uint64_t pgoff = anon ? 0 : off >> PAGE_SHIFT;
	if (pgoff + (l >> PAGE_SHIFT) < pgoff)
		return -EOVERFLOW;
	/* __get_unmapped_area */
	if (l > VM_TASK_SIZE)
		return -ENOMEM;
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) {
		if (addr > VM_TASK_SIZE - l)
			return -ENOMEM;
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (addr < VM_MMAP_MIN_ADDR)
			return -EPERM;
	}
	*len = l;
	return 0;
}

/* The flags LEGACY_MAP_MASK holds: MAP_SHARED_VALIDATE refuses the others with EOPNOTSUPP. */
#define LEGACY_MAP_FLAGS 0x407f933

int vm_check_mmap_kind(int flags, bool anon)
{
	int type = flags & VM_MAP_TYPE;
	if (anon) {
		if (type != VM_MAP_SHARED && type != VM_MAP_PRIVATE)
			return -EINVAL;
		return type == VM_MAP_SHARED && (flags & VM_MAP_GROWSDOWN) ? -EINVAL : 0;
	}
	if (type == VM_MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_FLAGS))
		return -EOPNOTSUPP;
	if (type != VM_MAP_SHARED && type != VM_MAP_PRIVATE && type != VM_MAP_SHARED_VALIDATE)
		return -EINVAL;
	return flags & VM_MAP_GROWSDOWN ? -EINVAL : 0;
}

int vm_check_munmap(uint64_t addr, uint64_t *len)
{
	/* do_vmi_munmap */
	if ((addr & (PAGE_SIZE - 1)) || addr > VM_TASK_SIZE || *len > VM_TASK_SIZE - addr)
		return -EINVAL;
	uint64_t l = page_align(*len);
	if (!l)
		return -EINVAL;
	*len = l;
	return 0;
}

int vm_check_mprotect(uint64_t addr, uint64_t *len, int prot)
{
	/* do_mprotect_pkey */
	int grows = prot & (VM_PROT_GROWSDOWN | VM_PROT_GROWSUP);
	if (grows == (VM_PROT_GROWSDOWN | VM_PROT_GROWSUP)) /* not both */
		return -EINVAL;
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!*len)
		return VM_CHECK_NOOP;
	uint64_t l = page_align(*len);
	if (!l || addr + l <= addr)
		return -ENOMEM;
	if (prot & ~(VM_PROT_MASK | VM_PROT_SEM | VM_PROT_GROWSDOWN | VM_PROT_GROWSUP)) /* arch_validate_prot */
		return -EINVAL;
	*len = l;
	return 0;
}

bool vm_advice_known(int a)
{
	switch (a) {
	case VM_MADV_NORMAL:
	case VM_MADV_RANDOM:
	case VM_MADV_SEQUENTIAL:
	case VM_MADV_WILLNEED:
	case VM_MADV_DONTNEED:
	case VM_MADV_FREE:
	case VM_MADV_REMOVE:
	case VM_MADV_DONTFORK:
	case VM_MADV_DOFORK:
	case VM_MADV_MERGEABLE:	  /* CONFIG_KSM */
	case VM_MADV_UNMERGEABLE:
	case VM_MADV_HUGEPAGE:	  /* CONFIG_TRANSPARENT_HUGEPAGE */
	case VM_MADV_NOHUGEPAGE:
	case VM_MADV_DONTDUMP:
	case VM_MADV_DODUMP:
	case VM_MADV_WIPEONFORK:
	case VM_MADV_KEEPONFORK:
	case VM_MADV_COLD:
	case VM_MADV_PAGEOUT:
	case VM_MADV_POPULATE_READ:
	case VM_MADV_POPULATE_WRITE:
	case VM_MADV_DONTNEED_LOCKED:
	case VM_MADV_COLLAPSE:	  /* since 6.1, with THP */
	case VM_MADV_GUARD_INSTALL: /* since 6.13 */
	case VM_MADV_GUARD_REMOVE:
		return true;
	}
	return false; /* HWPOISON and SOFT_OFFLINE need CONFIG_MEMORY_FAILURE, which this kernel lacks */
}

int vm_check_madvise(uint64_t addr, uint64_t *len, int advice)
{
	/* do_madvise */
	if (!vm_advice_known(advice)) /* madvise_should_skip */
		return -EINVAL;
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	uint64_t l = page_align(*len);
	if (*len && !l)
		return -EINVAL;
	if (addr + l < addr)
		return -EINVAL;
	if (!l)
		return VM_CHECK_NOOP;
	*len = l;
	return 0;
}

int vm_check_mremap(uint64_t old, uint64_t *old_len, uint64_t *new_len, int flags, uint64_t new_addr)
{
	/* do_mremap + check_mremap_params */
	uint64_t ol = page_align(*old_len), nl = page_align(*new_len);
	if (flags & ~(VM_MREMAP_FIXED | VM_MREMAP_MAYMOVE | VM_MREMAP_DONTUNMAP))
		return -EINVAL;
	if (old & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!nl)
		return -EINVAL;
	if (nl > VM_TASK_SIZE)
		return -EINVAL;
	if (flags & (VM_MREMAP_FIXED | VM_MREMAP_DONTUNMAP)) {
		if (new_addr > VM_TASK_SIZE - nl)
			return -EINVAL;
		if (new_addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (!(flags & VM_MREMAP_MAYMOVE))
			return -EINVAL;
		if ((flags & VM_MREMAP_DONTUNMAP) && ol != nl)
			return -EINVAL;
		/* The target must not overlap the source. */
		if (old < new_addr + nl && new_addr < old + ol)
			return -EINVAL;
	}
	*old_len = ol;
	*new_len = nl;
	return 0;
}
