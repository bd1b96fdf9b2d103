/* call.c: the bookkeeping of every system call and fault (entry cost, checker windows, latency, the flush-count invariant, the debug invariant check when a space settles), apart from the calls themselves. */
#include "vm/calls.h"
#include "sim/watch.h"

void vm_check_as(struct vm_as *as, uint64_t start, uint64_t end)
{
	char why[512];
	if (as->d->check && as->d->check(as, start, end, why, sizeof(why)))
		panic("design %s, process %u: invariant broken in [%#llx, %#llx): %s", as->d->name, as->pid,
		      (unsigned long long)start, (unsigned long long)end, why);
}

/* vm_call_settle (vm/calls.h). */
void vm_call_settle(struct vm_as *as, uint64_t lo, uint64_t hi)
{
	uint32_t left = atomic_fetch_sub_explicit(&as->inflight, 1, memory_order_relaxed) - 1;
#ifndef NDEBUG
	if (!left && as->sys->sim->o.mode == SIM_DET && lo < hi)
		vm_check_as(as, lo, hi);
#else
	(void)left, (void)lo, (void)hi;
#endif
}

/* Leaves of the tables counted in 4 KiB pages (mmu_visit_host's visitor of vm_mapped_pages). */
static int count_mapped(void *arg, const struct pm_ptpage *p, unsigned i, int level, uint64_t va, uint64_t e)
{
	(void)p, (void)i, (void)va;
	if (pte_is_table(e, level))
		return 1;
	if (pte_mapped(e))
		*(uint64_t *)arg += LEVEL_SIZE(level) >> PAGE_SHIFT;
	return 0;
}

uint64_t vm_mapped_pages(const struct vm_as *as)
{
	uint64_t n = 0;
	mmu_visit_host(&as->hw, 0, VM_TASK_SIZE, count_mapped, &n);
	return n;
}

/*
 * check_flushed: the invariant on the flush counter (vm_core_stats.pages_flushed),
 * in debug builds: a call flushes no more pages than its windows hold, and
 * fork no more than it mapped in the child (k->flush_bound). The core runs
 * one call at a time and its counter is its own, so the difference since
 * entry is this call's.
 */
static void check_flushed(const struct vm_call *k)
{
#ifndef NDEBUG
	uint64_t got = vm_cst(k->as, k->cpu)->pages_flushed - k->flushed0;
	uint64_t bound = k->flush_bound != UINT64_MAX ? k->flush_bound
			 : k->nwin ? (vm_page_up(k->hi) - (k->lo & ~(PAGE_SIZE - 1))) >> PAGE_SHIFT : 0;
	if (got > bound)
		panic("design %s, process %u: %s flushed %llu pages, more than the %llu it may (%s)", k->as->d->name,
		      k->as->pid, vm_op_names[k->op], (unsigned long long)got, (unsigned long long)bound,
		      k->op == VM_OP_FORK ? "the pages mapped in the child" : "the pages of the ranges it names");
#else
	(void)k;
#endif
}

void vm_call_enter(struct vm_call *k, struct vm_as *as, struct mmu_cpu *cpu, enum vm_op op)
{
	k->as = as;
	k->cpu = cpu;
	k->op = op;
	k->nwin = 0;
	k->lo = k->hi = 0;
	k->flushed0 = vm_cst(as, cpu)->pages_flushed;
	k->flush_bound = UINT64_MAX;
	k->t0 = cpu->core->clock;
	atomic_fetch_add_explicit(&as->inflight, 1, memory_order_relaxed);
	sim_tl_begin(cpu->core, TL_SYSCALL);
	sim_advance(cpu->core, as->sys->m->syscall);
	sim_note(cpu->core, "system call entry and exit: %llu cycles", (unsigned long long)as->sys->m->syscall);
}

void vm_call_window(struct vm_call *k, uint64_t start, uint64_t len)
{
	uint64_t end = start + len;
	if (end < start || end > VM_TASK_SIZE)
		end = VM_TASK_SIZE;
	k->win[k->nwin++] = mmu_window_open(&k->as->hw, start, end);
	k->lo = k->nwin == 1 ? start : MIN(k->lo, start);
	k->hi = k->nwin == 1 ? end : MAX(k->hi, end);
}

long vm_call_leave(struct vm_call *k, long r)
{
	for (int i = 0; i < k->nwin; i++)
		mmu_window_close(&k->as->hw, k->win[i]);
	struct vm_core_stats *st = vm_cst(k->as, k->cpu);
	st->calls[k->op]++;
	if (r < 0 && r > -4096)
		st->errors[k->op]++;
	hist_record(&st->lat[k->op], k->cpu->core->clock - k->t0);
	sim_tl_end(k->cpu->core);
	check_flushed(k);
	vm_call_settle(k->as, k->lo, k->hi);
	return r;
}

