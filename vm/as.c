/* as.c: address spaces and the system-call wrappers of the mapping calls every design sits behind: checks, then the design (their bookkeeping: vm/call.c). */
#include "vm/vm.h"
#include "sim/watch.h"

#include <string.h>

#include "vm/calls.h"

struct vm_as *vm_as_create(struct vm_sys *sys, struct mmu_cpu *cpu)
{
	struct vm_as *as = xzalloc(sizeof(*as));
	as->sys = sys;
	as->d = sys->d;
	as->pid = atomic_fetch_add(&sys->next_pid, 1);
	as->mmap_base = VM_MMAP_BASE;
	as->start_brk = as->brk = VM_BRK_BASE;
	if (mmu_space_init(sys->mmu, &as->hw, cpu ? cpu->core : NULL)) {
		xfree(as);
		return NULL;
	}
	if (as->d->create(as, cpu)) {
		mmu_space_fini(&as->hw, cpu ? cpu->core : NULL);
		xfree(as);
		return NULL;
	}
	vm_spaces_add(as);
	return as;
}

void vm_as_destroy(struct vm_as *as, struct mmu_cpu *cpu)
{
	if (!as)
		return;
	vm_spaces_remove(as, cpu);
	vm_check_as(as, 0, VM_TASK_SIZE); /* every run, replay, test and sequence ends here: the full check */
	as->d->destroy(as, cpu);
	mmu_space_fini(&as->hw, cpu ? cpu->core : NULL);
	if (vm_spaces_torn_down(as))
		xfree(as);
}

void vm_switch(struct vm_as *as, struct mmu_cpu *cpu)
{
	if (cpu->cur != &as->hw)
		mmu_switch(cpu, &as->hw);
}

long vm_mmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot, int flags,
	     struct vm_file *f, uint64_t off)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MMAP);
	bool anon = (flags & VM_MAP_ANONYMOUS) || !f;
	int e = vm_check_mmap(addr, &len, prot, flags, anon, off);
	if (e)
		return vm_call_leave(&k, e);
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE))
		vm_call_window(&k, addr, len);
	struct vm_map m;
	if ((flags & VM_MAP_FIXED_NOREPLACE) && !(flags & VM_MAP_FIXED) && as->d->query(as, cpu, addr, &m) &&
	    m.start < addr + len)
		return vm_call_leave(&k, -EEXIST); /* do_mmap, before the kind of mapping is checked */
	if ((e = vm_check_mmap_kind(flags, anon)))
		return vm_call_leave(&k, e);
	long r;
	if (anon && (flags & VM_MAP_TYPE) != VM_MAP_PRIVATE) {
		/* Shared anonymous memory is a shmem file of its own (shmem_zero_setup), so it stays shared across fork. */
		struct vm_file *shm = vm_file_create(as->sys, "shmem", len);
		r = as->d->mmap(as, cpu, addr, len, prot, flags & ~VM_MAP_ANONYMOUS, shm, 0);
		vm_file_put(as->sys, shm);
	} else {
		r = as->d->mmap(as, cpu, addr, len, prot, flags, anon ? NULL : f, off);
	}
	if (flags & VM_MAP_LOCKED)
		as->ever_locked = true;
	/* mm_populate, after the locks are dropped: MAP_POPULATE (without MAP_NONBLOCK) and locked mappings */
	bool locked = (flags & VM_MAP_LOCKED) || (atomic_load(&as->def_lock) & VM_LOCK_ON);
	if (r >= 0 && (locked || (flags & (VM_MAP_POPULATE | VM_MAP_NONBLOCK)) == VM_MAP_POPULATE))
		vm_populate(as, cpu, (uint64_t)r, (uint64_t)r + len, true, false);
	return vm_call_leave(&k, r);
}

int vm_munmap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MUNMAP);
	int e = vm_check_munmap(addr, &len);
	if (e)
		return (int)vm_call_leave(&k, e);
	vm_call_window(&k, addr, len);
	return (int)vm_call_leave(&k, as->d->munmap(as, cpu, addr, len));
}

int vm_mprotect(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int prot)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MPROTECT);
	int e = vm_check_mprotect(addr, &len, prot);
	if (e)
		return (int)vm_call_leave(&k, e == VM_CHECK_NOOP ? 0 : e);
	uint64_t end = addr + len;
	if (prot & (VM_PROT_GROWSDOWN | VM_PROT_GROWSUP)) {
		/* do_mprotect_pkey: PROT_GROWSDOWN reaches down to the start of a grows-down VMA; none grows up on x86 */
		struct vm_map m;
		if (!as->d->query(as, cpu, addr, &m) || m.start >= end)
			return (int)vm_call_leave(&k, -ENOMEM);
		if (prot & VM_PROT_GROWSDOWN) {
			if (!(m.flags & VM_MAPF_GROWSDOWN))
				return (int)vm_call_leave(&k, -EINVAL);
			addr = m.start;
		} else {
			return (int)vm_call_leave(&k, m.start > addr ? -ENOMEM : -EINVAL);
		}
	}
	prot &= VM_PROT_MASK; /* PROT_SEM means nothing on x86 */
	vm_call_window(&k, addr, end - addr);
	/* mprotect_fixup: locked private memory that becomes writable is faulted in (copied) now */
	struct vm_map lk[8];
	uint32_t nlk = 0;
	struct vm_map m;
	for (uint64_t cur = addr; as->ever_locked && (prot & VM_PROT_WRITE) && cur < end && nlk < ARRAY_SIZE(lk) &&
				  as->d->query(as, cpu, cur, &m) && m.start <= cur;
	     cur = m.end) /* up to the first hole, where mprotect stops */
		if ((m.flags & (VM_MAPF_LOCKED | VM_MAPF_SHARED)) == VM_MAPF_LOCKED && !(m.prot & VM_PROT_WRITE))
			lk[nlk++] = m;
	int r = as->d->mprotect(as, cpu, addr, end - addr, prot);
	if (nlk) /* a page made writable is flushed, then flushed again by the copy-on-write fault that populates it */
		k.flush_bound = 2 * ((vm_page_up(end) - addr) >> PAGE_SHIFT);
	for (uint32_t i = 0; i < nlk; i++)
		vm_populate(as, cpu, MAX(addr, lk[i].start), MIN(end, lk[i].end), true, true);
	return (int)vm_call_leave(&k, r);
}

int vm_madvise(struct vm_as *as, struct mmu_cpu *cpu, uint64_t addr, uint64_t len, int advice)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MADVISE);
	int e = vm_check_madvise(addr, &len, advice);
	if (e)
		return (int)vm_call_leave(&k, e == VM_CHECK_NOOP ? 0 : e);
	vm_call_window(&k, addr, len);
	if (advice == VM_MADV_POPULATE_READ || advice == VM_MADV_POPULATE_WRITE)
		return (int)vm_call_leave(&k, vm_madv_populate(as, cpu, addr, addr + len, advice == VM_MADV_POPULATE_WRITE));
	if (advice == VM_MADV_REMOVE) {
		k.flush_bound = UINT64_MAX - 1; /* the hole reaches every mapping of the file, wherever it is */
		return (int)vm_call_leave(&k, vm_madv_remove(as, cpu, addr, addr + len));
	}
	return (int)vm_call_leave(&k, as->d->madvise(as, cpu, addr, len, advice));
}

long vm_mremap(struct vm_as *as, struct mmu_cpu *cpu, uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_MREMAP);
	int e = vm_check_mremap(old, &old_len, &new_len, flags, new_addr);
	if (e)
		return vm_call_leave(&k, e);
	/* The source and, when given, the destination; a move elsewhere only adds a new mapping. */
	vm_call_window(&k, old, MAX(old_len, new_len));
	if (flags & VM_MREMAP_FIXED)
		vm_call_window(&k, new_addr, new_len);
	long r = as->d->mremap(as, cpu, old, old_len, new_len, flags, new_addr);
	/* a locked mapping that grew: the new part is faulted in */
	if (r >= 0 && as->ever_locked && new_len > old_len)
		vm_populate(as, cpu, (uint64_t)r + old_len, (uint64_t)r + new_len, true, true);
	return vm_call_leave(&k, r);
}

long vm_brk(struct vm_as *as, struct mmu_cpu *cpu, uint64_t newbrk)
{
	struct vm_call k;
	vm_call_enter(&k, as, cpu, VM_OP_BRK);
	uint64_t lo = MIN(as->brk, newbrk), hi = MAX(as->brk, newbrk);
	if (newbrk >= as->start_brk && hi - lo < VM_TASK_SIZE)
		vm_call_window(&k, lo & ~(PAGE_SIZE - 1), vm_page_up(hi) - (lo & ~(PAGE_SIZE - 1)));
	return vm_call_leave(&k, as->d->brk(as, cpu, newbrk));
}

bool vm_brk_place(struct vm_as *as, uint64_t base)
{
	if (as->brk != as->start_brk || base == as->start_brk || (base & (PAGE_SIZE - 1)) || base < VM_MMAP_MIN_ADDR ||
	    base >= VM_TASK_SIZE)
		return false;
	as->start_brk = as->brk = base;
	return true;
}

struct vm_as *vm_fork(struct vm_as *parent, struct mmu_cpu *cpu)
{
	struct vm_call k;
	vm_call_enter(&k, parent, cpu, VM_OP_FORK);
	vm_call_window(&k, 0, VM_TASK_SIZE);
	struct vm_as *child = vm_as_create(parent->sys, cpu);
	long r = -ENOMEM;
	if (child) {
		child->start_brk = parent->start_brk;
		child->brk = parent->brk;
		child->mmap_base = parent->mmap_base;
		r = parent->d->fork(parent, child, cpu);
		if (r) {
			vm_as_destroy(child, cpu);
			child = NULL;
		}
	}
#ifndef NDEBUG
	/* fork write-protects only entries it copies: the child maps at least the pages it flushed. */
	if (child)
		k.flush_bound = vm_mapped_pages(child);
#endif
	vm_call_leave(&k, r);
	return child;
}

enum vm_fault vm_access(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, enum mmu_acc acc)
{
	struct vm_core_stats *st = vm_cst(as, cpu);
	st->accesses++;
	vm_tick_check(as->sys, cpu);
	if (va >= VM_TASK_SIZE) { /* kernel or non-canonical: the hardware faults, the kernel signals */
		st->segv++;
		return VM_FAULT_SEGV;
	}
	for (int tries = 0;; tries++) {
		uint32_t err = mmu_access(cpu, va, acc);
		if (likely(!err))
			return VM_FAULT_OK;
		if (tries > 16)
			panic("design %s: fault at %#llx (err %#x) keeps recurring after being resolved", as->d->name,
			      (unsigned long long)va, err);
		cycles_t t0 = cpu->core->clock;
		atomic_fetch_add_explicit(&as->inflight, 1, memory_order_relaxed);
		sim_tl_begin(cpu->core, TL_FAULT);
		sim_advance(cpu->core, as->sys->m->trap);
		sim_note(cpu->core, "trap into the kernel's fault handler (%s): %llu cycles", as->d->name,
			 (unsigned long long)as->sys->m->trap);
		sim_note_in(cpu->core);
		enum vm_fault r = as->d->fault(as, cpu, va, err);
		sim_note_out(cpu->core);
		sim_tl_end(cpu->core);
		vm_call_settle(as, va & ~(PAGE_SIZE - 1), (va & ~(PAGE_SIZE - 1)) + PAGE_SIZE);
		sim_note(cpu->core, "fault handler done after %llu cycles: %s", (unsigned long long)(cpu->core->clock - t0),
			 r == VM_FAULT_OK ? "retry the access" : r == VM_FAULT_BUS ? "SIGBUS" : r == VM_FAULT_OOM ? "out of memory" : "SIGSEGV");
		st->calls[VM_OP_FAULT]++;
		hist_record(&st->lat[VM_OP_FAULT], cpu->core->clock - t0);
		if (r != VM_FAULT_OK) {
			st->errors[VM_OP_FAULT]++;
			if (r == VM_FAULT_BUS)
				st->bus++;
			else
				st->segv++;
			return r;
		}
	}
}

void vm_layout(struct vm_as *as, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg)
{
	as->d->layout(as, start, end, fn, arg);
}

struct one_range {
	struct vm_range r;
	bool found;
};

static void take_first(void *arg, const struct vm_range *r)
{
	struct one_range *o = arg;
	if (!o->found) {
		o->r = *r;
		o->found = true;
	}
}

bool vm_resident(struct vm_as *as, uint64_t va)
{
	va &= ~(PAGE_SIZE - 1);
	if (pte_mapped(mmu_walk_host(&as->hw, va, NULL))) /* a frame, with or without access (PROT_NONE counts, as in mincore) */
		return true;
	struct one_range o = { .found = false };
	as->d->layout(as, va, va + PAGE_SIZE, take_first, &o);
	if (!o.found || o.r.kind != VM_KIND_FILE || va < o.r.start || va >= o.r.end)
		return false;
	return vm_file_cached(o.r.file, o.r.pgoff + ((va - o.r.start) >> PAGE_SHIFT));
}
