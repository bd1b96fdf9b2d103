/* fault.c: the `skiplist` design's page faults in three steps: a lock-free search with the per-VMA read lock; range locks in local mode (anon_vma, stack growth, races); the global mode when the VMA keeps changing. */
#include "skiplist/sl.h"

#define P PAGE_SIZE

/* What the shared fault code may call back: anon_vma_prepare needs the range locks of the VMA and its neighbours. */
struct sfault {
	struct sl_lockset *s; /* NULL: only the per-VMA read lock is held */
	struct sl_node *v;
};

/* anon_prepare_cb: kmm_fault's anon_vma_prepare: possible only on the range-locked path (false: retry there). */
static bool anon_prepare_cb(void *arg, struct mmu_cpu *cpu)
{
	struct sfault *x = arg;
	if (!x->s)
		return false;
	sl_anon_prepare(x->s, x->v);
	return true;
}

/* resolve: the shared fault code on x->v, which cannot change while this fault holds its lock. */
static enum vm_fault resolve(struct sl_mm *mm, struct mmu_cpu *cpu, struct sfault *x, uint64_t va, uint32_t err)
{
	struct sl_node *v = x->v;
	struct kmm_vma kv = { sn_start(v), sn_end(v), v->flags, v->file, v->pgoff, v->av != 0, anon_prepare_cb, x };
	return kmm_fault(&mm->pt, cpu, &kv, va, err);
}

/*
 * lock_vma_lockfree: find the VMA holding va by a lock-free search under
 * RCU and read-lock it (trylock: a writer holds it only while it changes
 * it). A VMA that was split, moved or unlinked between the search and the
 * lock fails validation: search again. NULL: take the locked path.
 */
static struct sl_node *lock_vma_lockfree(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t va)
{
	struct sim_core *c = cpu->core;
	for (int tries = 0; tries < 4; tries++) {
		sim_rcu_read_lock();
		struct sl_node *v = sl_search(mm, cpu, va);
		if (v->anchor || va >= sn_end(v)) {
			sim_rcu_read_unlock();
			sim_note(c, "no VMA holds %#llx in a lock-free search: take the range locks", (unsigned long long)va);
			return NULL;
		}
		if (!lk_down_read_trylock(c, &v->vma)) {
			sim_rcu_read_unlock();
			sim_note(c, "the VMA's writer holds its lock: take the range locks (they wait for the writer)");
			return NULL;
		}
		if (atomic_load(&v->detached) || va < sn_start(v) || va >= sn_end(v)) {
			lk_up_read(c, &v->vma);
			sim_rcu_read_unlock();
			sl_inc(&mm->st.lookup_retries);
			sim_note(c, "the VMA changed (split, moved or unlinked) between the search and its lock: search again");
			continue;
		}
		sim_rcu_read_unlock(); /* v cannot be unlinked while we hold its read lock */
		sim_note_lock(c, "per-VMA lock of [%#llx, %#llx) for reading, found by a lock-free skiplist search (no range lock)",
			      (unsigned long long)sn_start(v), (unsigned long long)sn_end(v));
		return v;
	}
	return NULL;
}

/*
 * The addresses the locked path must hold: the VMA holding va with its
 * neighbours (anon_vma sharing), or for a stack growing down to va, the
 * guard gap below va up to the stack's start. False: nothing can hold va.
 */
static bool bounds(struct sl_node *v, uint64_t va, uint64_t *lo, uint64_t *hi)
{
	if (v && sn_start(v) <= va) {
		*lo = sn_start(v);
		*hi = sn_end(v);
		return true;
	}
	if (v && (v->flags & VR_GROWSDOWN)) {
		uint64_t a = va & ~(P - 1);
		*lo = a > VM_STACK_GUARD_GAP ? a - VM_STACK_GUARD_GAP : 0;
		*hi = sn_start(v) + P;
		return true;
	}
	return false;
}

/* expand_stack: grow the grows-down VMA v down to va (range-locked). NULL if it may not. */
static struct sl_node *expand_stack(struct sl_lockset *s, struct sl_node *v, uint64_t va)
{
	uint64_t a = va & ~(P - 1);
	if (a < VM_MMAP_MIN_ADDR || sn_end(v) - a > VR_STACK_LIMIT)
		return NULL;
	struct sl_node *prev = sl_vma_before(s, sn_start(v));
	if (prev && sn_end(prev) + VM_STACK_GUARD_GAP > a)
		return NULL;
	sim_note(s->cpu->core, "the stack VMA [%#llx, %#llx) grows down to %#llx (a replacement node)",
		 (unsigned long long)sn_start(v), (unsigned long long)sn_end(v), (unsigned long long)a);
	sl_claim(s, a, sn_start(v));
	return sl_set_start(s, v, a, v->pgoff - ((sn_start(v) - a) >> PAGE_SHIFT));
}

#define LOCKED_TRIES 4 /* range-locked attempts before the global mode */

/*
 * The locked paths: the range locks over what the fault may change, found
 * lock-free, then checked under the locks; in local mode (step 2), or in
 * global mode (step 3) after LOCKED_TRIES attempts that found the VMA
 * changed under them (nothing changes in global mode, so it settles).
 */
static enum vm_fault fault_locked(struct sl_mm *mm, struct mmu_cpu *cpu, uint64_t va, uint32_t err)
{
	int tries = 0;
	bool g = sl_mode_enter(mm, cpu, false);
	uint64_t lo = va & ~(P - 1), hi = lo + P;
	sim_rcu_read_lock();
	struct sl_node *o = sl_search(mm, cpu, va);
	struct sl_node *peek = !o->anchor && sn_end(o) > va ? o : sl_next(cpu->core, o);
	while (peek && peek->anchor)
		peek = sl_next(cpu->core, peek);
	uint64_t plo, phi;
	if (bounds(peek, va, &plo, &phi))
		lo = MIN(lo, plo), hi = MAX(hi, phi);
	sim_rcu_read_unlock();
	for (;;) {
		struct sl_lockset s;
		sl_lock_range(&s, mm, cpu, lo >= P ? lo - P : 0, hi + P);
		struct sl_node *v = sl_vma_from(&s, va);
		if (!bounds(v, va, &plo, &phi)) {
			sl_unlock(&s);
			sl_mode_exit(mm, cpu, g);
			return VM_FAULT_SEGV;
		}
		if (plo < lo || phi > hi) { /* it changed since we looked: lock what it needs now */
			lo = MIN(lo, plo);
			hi = MAX(hi, phi);
			sl_unlock(&s);
			sl_inc(&mm->st.lock_retries);
			if (++tries == LOCKED_TRIES && !g) {
				sl_mode_exit(mm, cpu, g);
				sim_note(cpu->core, "the VMA kept changing under the range locks: take the global mode");
				g = sl_mode_enter(mm, cpu, true);
				sl_inc(&mm->st.faults_global);
			}
			continue;
		}
		enum vm_fault r = VM_FAULT_SEGV;
		if (sn_start(v) > va)
			v = expand_stack(&s, v, va);
		if (v) {
			struct sfault x = { &s, v };
			r = resolve(mm, cpu, &x, va, err);
		}
		sl_unlock(&s);
		sl_mode_exit(mm, cpu, g);
		return r;
	}
}

enum vm_fault sl_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err)
{
	struct sl_mm *mm = sl_of(as);
	struct sl_node *v = lock_vma_lockfree(mm, cpu, va);
	if (v) {
		struct sfault x = { NULL, v };
		enum vm_fault r = resolve(mm, cpu, &x, va, err | KMM_PF_VMA_LOCKED);
		lk_up_read(cpu->core, &v->vma);
		if (r != KMM_FAULT_RETRY) {
			sl_inc(&mm->st.faults_lockfree);
			return r;
		}
		sim_note(cpu->core, "the VMA has no anon_vma yet, which needs its neighbours: retry under the range locks");
	}
	sl_inc(&mm->st.faults_locked);
	return fault_locked(mm, cpu, va, err);
}
