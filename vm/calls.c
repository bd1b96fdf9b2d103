/* calls.c: the calls beyond mapping (mlock, munlock, mlockall, msync, mincore, ftruncate, fallocate) and the work written once over a design's query and fault (populate, MADV_POPULATE_*, MADV_REMOVE), with Linux 6.18's checks and errno. */
#include "vm/calls.h"
#include "sim/watch.h"

#include <string.h>

/* fault_in: one page of m, as GUP faults it in (a write fault for private writable memory unless read_only). */
static enum vm_fault fault_in(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, bool write)
{
	return as->d->fault(as, cpu, va, PF_U | (write ? PF_W : 0));
}

int vm_populate(struct vm_as *as, struct mmu_cpu *cpu, uint64_t a, uint64_t b, bool ignore_errors, bool only_locked)
{
	struct vm_map m;
	for (uint64_t cur = a; cur < b && as->d->query(as, cpu, cur, &m) && m.start < b;) {
		uint64_t s = MAX(cur, m.start), e = MIN(b, m.end);
		cur = e;
		if ((m.flags & VM_MAPF_LOCKONFAULT) || (only_locked && !(m.flags & VM_MAPF_LOCKED)))
			continue; /* locked as pages fault in: nothing to do now */
		int err = 0;
		if (!(m.prot & VM_PROT_MASK))
			err = -EFAULT; /* PROT_NONE is never faulted in */
		bool write = (m.prot & VM_PROT_WRITE) && !(m.flags & VM_MAPF_SHARED);
		for (uint64_t p = s; p < e && !err; p += PAGE_SIZE)
			if (fault_in(as, cpu, p, write) != VM_FAULT_OK)
				err = -EFAULT;
		if (err && !ignore_errors)
			return err;
	}
	return 0;
}

int vm_madv_populate(struct vm_as *as, struct mmu_cpu *cpu, uint64_t a, uint64_t b, bool write)
{
	struct vm_map m;
	for (uint64_t cur = a; cur < b;) {
		if (!as->d->query(as, cpu, cur, &m) || m.start > cur)
			return -ENOMEM;
		if (!(m.prot & (write ? VM_PROT_WRITE : VM_PROT_READ)))
			return -EINVAL; /* check_vma_flags, without FOLL_FORCE */
		uint64_t stop = MIN(b, m.end);
		for (; cur < stop; cur += PAGE_SIZE)
			if (fault_in(as, cpu, cur, write) != VM_FAULT_OK)
				return -EFAULT; /* SIGBUS or SIGSEGV (a guard marker) */
	}
	return 0;
}

/* ---- files: every address space that maps one ---- */

/*
 * unmap_everywhere: unmap_mapping_range of pages [lo, hi) of f in every
 * address space. A space whose process exits meanwhile is skipped once its
 * teardown began; a teardown waits for a call already inside its space.
 */
static void unmap_everywhere(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t lo, uint64_t hi,
			     bool even_cows)
{
	uint32_t n;
	struct vm_as **v = vm_spaces_hold(sys, &n);
	for (uint32_t i = 0; i < n; i++) {
		if (vm_as_enter_unmap(v[i])) {
			v[i]->d->unmap_file(v[i], cpu, f, lo, hi, even_cows);
			vm_as_leave_unmap(v[i], cpu);
		}
		vm_as_unpin(v[i]);
	}
	xfree(v);
}

/* punch: a hole over bytes [a, b) of f: whole pages leave the cache and every mapping of them; private copies stay. */
static void punch(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t a, uint64_t b)
{
	uint64_t lo = (a + PAGE_SIZE - 1) >> PAGE_SHIFT, hi = b >> PAGE_SHIFT;
	if (lo >= hi)
		return;
	unmap_everywhere(sys, cpu, f, lo, hi, false);
	vm_file_drop(sys, cpu, f, lo, hi);
}

int vm_madv_remove(struct vm_as *as, struct mmu_cpu *cpu, uint64_t a, uint64_t b)
{
	int unmapped = 0;
	struct vm_map m;
	/* madvise_walk_vmas: holes are skipped (ENOMEM at the end), each mapping's part is punched. */
	for (uint64_t start = a; start < b;) {
		if (!as->d->query(as, cpu, start, &m))
			return -ENOMEM;
		if (start < m.start) {
			unmapped = -ENOMEM;
			start = m.start;
			if (start >= b)
				break;
		}
		if ((m.flags & VM_MAPF_LOCKED) || !m.file)
			return -EINVAL;
		if (!(m.flags & VM_MAPF_SHARED))
			return -EACCES; /* vma_is_shared_maywrite */
		uint64_t stop = MIN(b, m.end), off = (m.pgoff + ((start - m.start) >> PAGE_SHIFT)) << PAGE_SHIFT;
		punch(as->sys, cpu, m.file, off, off + (stop - start));
		start = stop;
	}
	return unmapped;
}

/* ---- mlock, munlock, mlockall, munlockall ---- */

/*
 * lock_range: mlock's and munlock's range (mm/mlock.c): [*addr, *addr + *len)
 * widened to whole pages. Returns -EINVAL if it wraps, 0 if it is empty (the
 * call succeeds doing nothing), else 1 with k's window opened over it.
 */
static int lock_range(struct vm_call *k, uint64_t *addr, uint64_t *len)
{
	*len = vm_page_up(*len + (*addr & (PAGE_SIZE - 1)));
	*addr &= ~(PAGE_SIZE - 1);
	if (*addr + *len < *addr)
		return -EINVAL;
	if (!*len)
		return 0;
	vm_call_window(k, *addr, *len);
	return 1;
}

int vm_mlock(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int flags)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MLOCK);
	if (flags & ~VM_MLOCK_ONFAULT)
		return (int)vm_call_leave(&k, -EINVAL);
	int e = lock_range(&k, &addr, &len);
	if (e <= 0)
		return (int)vm_call_leave(&k, e);
	as->ever_locked = true;
	int r = as->d->mlock(as, cpu, addr, len, VM_LOCK_ON | (flags & VM_MLOCK_ONFAULT ? VM_LOCK_ONFAULT : 0));
	if (!r)
		r = vm_populate(as, cpu, addr, addr + len, false, false) ? -ENOMEM : 0; /* __mlock_posix_error_return */
	return (int)vm_call_leave(&k, r);
}

int vm_munlock(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MLOCK);
	int e = lock_range(&k, &addr, &len);
	if (e <= 0)
		return (int)vm_call_leave(&k, e);
	return (int)vm_call_leave(&k, as->d->mlock(as, cpu, addr, len, 0));
}

int vm_mlockall(struct vm_as *as, struct mmu_cpu *cpu, int flags)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MLOCK);
	int all = VM_MCL_CURRENT | VM_MCL_FUTURE | VM_MCL_ONFAULT;
	if (!flags || (flags & ~all) || flags == VM_MCL_ONFAULT)
		return (int)vm_call_leave(&k, -EINVAL);
	unsigned to = VM_LOCK_ON | (flags & VM_MCL_ONFAULT ? VM_LOCK_ONFAULT : 0);
	atomic_store(&as->def_lock, flags & VM_MCL_FUTURE ? to : 0);
	as->ever_locked = true;
	if (flags & VM_MCL_CURRENT) {
		vm_call_window(&k, 0, VM_TASK_SIZE);
		as->d->mlock(as, cpu, 0, 0, to | VM_LOCK_ALL);
		vm_populate(as, cpu, 0, VM_TASK_SIZE, true, false);
	}
	return (int)vm_call_leave(&k, 0);
}

int vm_munlockall(struct vm_as *as, struct mmu_cpu *cpu)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MLOCK);
	atomic_store(&as->def_lock, 0);
	vm_call_window(&k, 0, VM_TASK_SIZE);
	as->d->mlock(as, cpu, 0, 0, VM_LOCK_ALL);
	return (int)vm_call_leave(&k, 0);
}

/* ---- msync, mincore ---- */

int vm_msync(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int flags)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MSYNC);
	if ((flags & ~(VM_MS_ASYNC | VM_MS_INVALIDATE | VM_MS_SYNC)) || (addr & (PAGE_SIZE - 1)) ||
	    ((flags & VM_MS_ASYNC) && (flags & VM_MS_SYNC)))
		return (int)vm_call_leave(&k, -EINVAL);
	uint64_t end = addr + vm_page_up(len);
	if (end < addr)
		return (int)vm_call_leave(&k, -ENOMEM);
	int unmapped = 0;
	struct vm_map m;
	/* The pages are memory files' (nothing to write back): only the walk's answers matter. */
	for (uint64_t cur = addr; cur < end;) {
		if (!as->d->query(as, cpu, cur, &m))
			return (int)vm_call_leave(&k, -ENOMEM);
		if (cur < m.start) {
			if (flags == VM_MS_ASYNC)
				return (int)vm_call_leave(&k, -ENOMEM);
			cur = m.start;
			if (cur >= end)
				return (int)vm_call_leave(&k, -ENOMEM);
			unmapped = -ENOMEM;
		}
		if ((flags & VM_MS_INVALIDATE) && (m.flags & VM_MAPF_LOCKED))
			return (int)vm_call_leave(&k, -EBUSY);
		cur = m.end;
	}
	return (int)vm_call_leave(&k, unmapped);
}

/* resident: what mincore says of page va inside m: a frame mapped, or a page of m's file in the cache. */
static bool resident(struct vm_as *as, const struct vm_map *m, uint64_t va)
{
	if (pte_mapped(mmu_walk_host(&as->hw, va, NULL)))
		return true;
	return m->file && vm_file_cached(m->file, m->pgoff + ((va - m->start) >> PAGE_SHIFT));
}

int vm_mincore(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, uint8_t *vec)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MINCORE);
	if (addr & (PAGE_SIZE - 1))
		return (int)vm_call_leave(&k, -EINVAL);
	if (addr + len < addr || addr + len > VM_TASK_SIZE + PAGE_SIZE)
		return (int)vm_call_leave(&k, -ENOMEM); /* access_ok */
	uint64_t end = addr + vm_page_up(len);
	struct vm_map m;
	for (uint64_t cur = addr; cur < end;) {
		if (!as->d->query(as, cpu, cur, &m) || m.start > cur)
			return (int)vm_call_leave(&k, -ENOMEM);
		for (; cur < MIN(end, m.end); cur += PAGE_SIZE) {
			sim_advance(cpu->core, as->sys->m->node_visit); /* one entry looked at (mincore_pte_range) */
			if (vec)
				vec[(cur - addr) >> PAGE_SHIFT] = resident(as, &m, cur);
		}
	}
	return (int)vm_call_leave(&k, 0);
}

/* ---- ftruncate, fallocate: the file, and every mapping of it ---- */

/* file_call: a call on a file by the thread on cpu: its entry cost, count, error and latency (no address space of its own). */
static int file_call(struct vm_sys *sys, struct mmu_cpu *cpu, cycles_t t0, int r)
{
	struct vm_core_stats *st = &sys->cst[cpu->core->id];
	st->calls[VM_OP_FILE]++;
	if (r < 0)
		st->errors[VM_OP_FILE]++;
	hist_record(&st->lat[VM_OP_FILE], cpu->core->clock - t0);
	return r;
}

int vm_ftruncate(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, uint64_t size)
{
	cycles_t t0 = cpu->core->clock;
	sim_advance(cpu->core, sys->m->syscall);
	if ((int64_t)size < 0)
		return file_call(sys, cpu, t0, -EINVAL);
	uint64_t old = f->size, hole = (size + PAGE_SIZE - 1) >> PAGE_SHIFT; /* the first page wholly beyond */
	f->size = size;
	if (size < old) { /* shmem_setattr: the pages beyond go, private copies too, from every mapping */
		unmap_everywhere(sys, cpu, f, hole, UINT64_MAX >> PAGE_SHIFT, true);
		vm_file_drop(sys, cpu, f, hole, UINT64_MAX >> PAGE_SHIFT);
	}
	return file_call(sys, cpu, t0, 0);
}

#define FALLOC_MODES 0xfe /* PUNCH_HOLE, COLLAPSE_RANGE, ZERO_RANGE, INSERT_RANGE, UNSHARE_RANGE, WRITE_ZEROES */

int vm_fallocate(struct vm_sys *sys, struct mmu_cpu *cpu, struct vm_file *f, int mode, uint64_t off, uint64_t len)
{
	cycles_t t0 = cpu->core->clock;
	sim_advance(cpu->core, sys->m->syscall);
	/* vfs_fallocate */
	if ((int64_t)off < 0 || (int64_t)len <= 0)
		return file_call(sys, cpu, t0, -EINVAL);
	if (mode & ~(FALLOC_MODES | VM_FALLOC_KEEP_SIZE))
		return file_call(sys, cpu, t0, -EOPNOTSUPP);
	if ((mode & VM_FALLOC_PUNCH_HOLE) && !(mode & VM_FALLOC_KEEP_SIZE))
		return file_call(sys, cpu, t0, -EOPNOTSUPP);
	/* shmem_fallocate: only a hole punch or an allocation */
	if (mode & ~(VM_FALLOC_KEEP_SIZE | VM_FALLOC_PUNCH_HOLE))
		return file_call(sys, cpu, t0, -EOPNOTSUPP);
	if (off + len < off)
		return file_call(sys, cpu, t0, -EFBIG);
	if (mode & VM_FALLOC_PUNCH_HOLE) {
		punch(sys, cpu, f, off, off + len);
		return file_call(sys, cpu, t0, 0);
	}
	vm_file_allocate(sys, cpu, f, off >> PAGE_SHIFT, (off + len + PAGE_SIZE - 1) >> PAGE_SHIFT);
	if (!(mode & VM_FALLOC_KEEP_SIZE) && off + len > f->size)
		f->size = off + len;
	return file_call(sys, cpu, t0, 0);
}
