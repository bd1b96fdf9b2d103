/* fault.c: CortenMM's page faults: a frame cleared before any lock, a cursor over the page, the shared decision (kmm/leaf.h) on its status and entry; stack growth; marking a mapping's anon_vma. */
#include "cortenmm/cm.h"

/* How kmm_fault_apply writes an entry here: through the cursor, which flushes what it replaces at unlock. */
struct cmset {
	struct cm_cursor *k;
	uint64_t page;
};

static void cmset_set(void *arg, uint64_t e)
{
	struct cmset *x = arg;
	cm_map(x->k, x->page, PTE_PFN(e), e & ~PTE_PFN_MASK);
}

static void cmset_drop(void *arg, uint64_t pfn) { cm_release_frame(((struct cmset *)arg)->k, pfn); }

static const struct kmm_fault_ops cmset_ops = { cmset_set, cmset_drop };

static void set_av(void *arg, struct cm_meta *m)
{
	(void)arg;
	m->av = CM_AV_OWN;
}

/* Grow a grows-down mapping down to va, if Linux would. Returns true if it grew. */
static bool grow_stack(struct cm_as *mm, struct mmu_cpu *cpu, uint64_t va)
{
	uint64_t a = va & ~(PAGE_SIZE - 1);
	if (a < VM_MMAP_MIN_ADDR)
		return false;
	uint64_t lo = a > VM_STACK_GUARD_GAP ? a - VM_STACK_GUARD_GAP : 0;
	struct cm_cursor k;
	cm_lock(&k, mm, cpu, lo, MIN(a + VR_STACK_LIMIT, VM_TASK_SIZE));
	struct cm_runs rs = cm_runs_of(&k, lo, MIN(a + VR_STACK_LIMIT, VM_TASK_SIZE));
	bool grew = false;
	/* The first mapping above va must grow down; nothing may be mapped in the guard gap below. */
	struct cm_run *above = NULL;
	bool clear_below = true;
	for (uint32_t i = 0; i < rs.n; i++) {
		struct cm_run *r = &rs.r[i];
		if (r->m.kind == CM_INVALID)
			continue;
		if (r->hi <= a) {
			clear_below = false;
			continue;
		}
		if (r->lo > a) {
			above = r;
			break;
		}
	}
	if (above && clear_below && (above->m.flags & VR_GROWSDOWN)) {
		uint64_t top = cm_extent_end(&k, above->lo, VM_TASK_SIZE > above->lo + VR_STACK_LIMIT
							       ? above->lo + VR_STACK_LIMIT
							       : VM_TASK_SIZE);
		if (top - a <= VR_STACK_LIMIT) {
			struct cm_meta m = above->m;
			m.pgoff -= (above->lo - a) >> PAGE_SHIFT;
			cm_mark(&k, a, above->lo, &m);
			grew = true;
		}
	}
	xfree(rs.r);
	cm_unlock(&k);
	return grew;
}

/*
 * The first private frame of a mapping: mark every page of the mapping (as
 * Linux's VMA) as having had one, as Linux gives the VMA its anon_vma, so
 * that what remains of it after splits behaves as Linux's would. A mapping
 * is all-marked or all-unmarked, so this runs once per mapping. It walks
 * out from the page one 2 MiB chunk (one cursor) at a time rather than
 * locking the whole mapping: the mark only ever goes from 0 to 1.
 */
void cm_propagate_av(struct cm_as *mm, struct mmu_cpu *cpu, uint64_t page)
{
	struct cm_cursor k;
	for (int dir = 1; dir >= -1; dir -= 2) {
		struct cm_run prev = { 0 };
		bool have = false, go = true;
		uint64_t c = page & ~(HUGE_2M - 1);
		for (bool first = true; go; first = false) {
			uint64_t lo = c, hi = c + HUGE_2M;
			/* Beyond the first chunk only existing statuses are looked at: no tables are made for empty space. */
			if (first)
				cm_lock(&k, mm, cpu, lo, hi);
			else
				cm_lock_look(&k, mm, cpu, lo, hi);
			struct cm_runs rs = cm_runs_of(&k, lo, hi);
			for (uint32_t n = 0; n < rs.n && go; n++) {
				struct cm_run *r = &rs.r[dir > 0 ? n : rs.n - 1 - n];
				if (!have) { /* skip to the run holding the faulting page */
					if (!(r->lo <= page && page < r->hi))
						continue;
					have = true;
				} else if (!(dir > 0 ? cm_continues(&prev, r) : cm_continues(r, &prev)) || r->m.av) {
					go = false; /* the mapping ends, or another core marks from here on */
					break;
				}
				prev = *r;
				if (r->m.kind != CM_INVALID && !r->m.av)
					cm_set(&k, r->lo, r->hi, set_av, NULL);
			}
			xfree(rs.r);
			cm_unlock(&k);
			if (dir > 0 ? hi >= VM_TASK_SIZE : lo == 0)
				break;
			c = dir > 0 ? hi : lo - HUGE_2M;
		}
	}
}

enum vm_fault cm_fault(struct vm_as *as, struct mmu_cpu *cpu, uint64_t va, uint32_t err)
{
	struct cm_as *mm = cm_of(as);
	struct vm_sys *sys = as->sys;
	struct sim_core *c = cpu->core;
	bool write = err & PF_W;
	uint64_t page = va & ~(PAGE_SIZE - 1);
	/* A frame for a write, allocated and cleared before any lock is taken. */
	uint64_t newpfn = 0;
	if (write) {
		newpfn = pm_alloc(sys->pm, c);
		if (!newpfn)
			return VM_FAULT_OOM;
		sys->pm->frames[newpfn].owner = as->pid;
		cycles_t tz = c->clock;
		pm_zero(c);
		sim_note(c, "a write: frame %#llx allocated and zeroed before any lock is taken (%llu cycles)",
			 (unsigned long long)newpfn, (unsigned long long)(c->clock - tz));
	}
	struct cm_cursor k;
	enum vm_fault r = VM_FAULT_OK;
	bool need_av = false;
	for (int pass = 0; pass < 2; pass++) {
		cm_lock(&k, mm, cpu, page, page + PAGE_SIZE);
		uint64_t pte;
		struct cm_meta m = cm_query(&k, page, &pte);
		if (sim_narrating(c)) {
			char d[128] = "nothing mapped";
			if (m.kind != CM_INVALID)
				cm_meta_describe(&m, d, sizeof(d));
			sim_note(c, "the page's status in the PT page's metadata: %s", d);
		}
		if (m.kind == CM_INVALID) {
			cm_unlock(&k);
			if (pass == 0 && grow_stack(mm, cpu, va))
				continue;
			r = VM_FAULT_SEGV;
			goto done;
		}
		if (m.flags & CM_GUARD) {
			sim_note(c, "a guard marker (MADV_GUARD_INSTALL) in the page's status: SIGSEGV");
			r = VM_FAULT_SEGV;
			break;
		}
		uint32_t vf = m.flags;
		bool file = m.kind == CM_FILE, shared = vf & VR_SHARED;
		if ((pte & PTE_PS) && pte_mapped(pte)) /* inside a huge page: work on its 4 KiB piece */
			pte = PTE_MK(PTE_PFN(pte) + ((page >> PAGE_SHIFT) & 511), pte & ~(PTE_PFN_MASK | PTE_PS));
		enum kmm_fa a = kmm_fault_decide(sys, vf, file, file && m.pgoff >= vm_file_npages(m.file), err, pte);
		if (a == KMM_FA_SEGV || a == KMM_FA_BUS) {
			r = a == KMM_FA_SEGV ? VM_FAULT_SEGV : VM_FAULT_BUS;
			break;
		}
		uint64_t cache = 0;
		if (a == KMM_FA_FILE || a == KMM_FA_FILE_COPY) {
			cache = vm_file_page(sys, cpu, m.file, m.pgoff);
			if (!cache) {
				r = VM_FAULT_OOM;
				break;
			}
		}
		struct cmset cs = { &k, page };
		struct kmm_fault_do x = { .as = as, .cpu = cpu, .vflags = vf, .write = write, .pte = pte, .file_idx = m.pgoff,
					  .cache_pfn = cache, .newpfn = newpfn, .cow_reuses = &mm->st.cow_reuses,
					  .cow_copies = &mm->st.cow_copies, .ops = &cmset_ops, .arg = &cs };
		kmm_fault_apply(&x, a);
		newpfn = x.newpfn;
		need_av = write && !shared && !m.av;
		break;
	}
	cm_unlock(&k);
	if (need_av && r == VM_FAULT_OK)
		cm_propagate_av(mm, cpu, page);
done:
	if (newpfn)
		pm_put(sys->pm, c, newpfn);
	return r;
}

