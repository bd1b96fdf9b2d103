/* t53_checks.c: the designs' invariant checks fire: each invariant is broken on purpose in a live address space, the check must name it, and pass again once it is mended; local checks see only their range. */
#include "tests/harness.h"
#include "baseline_vma/linux.h"
#include "cortenmm/cm.h"
#include "skiplist/sl.h"
#include "vm/boot.h"

#include <string.h>

static struct machine M;

#define P PAGE_SIZE
#define A 0x600000000000ull	   /* anonymous: [0, 8) RW (page 1 written), [8, 12) R (page 9 read), [12, 16) RW */
#define B (A + 64 * P)		   /* a shared file mapping, 4 pages, page 0 written */
#define FAR (A + (1ull << 30))	   /* nothing here */
#define GAP (A + 32 * P)	   /* unmapped, between the mappings */
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED)

struct fix {
	struct boot *b;
	struct vm_as *as, *child;
	struct vm_file *f;
	char why[512];
};

/* body: the mappings above, a fork (so page 1's frame is shared, copy-on-write), and, for the skiplist, towers. */
static void body(struct sim_core *c, void *arg)
{
	struct fix *f = arg;
	struct mmu_cpu *cpu = mmu_cpu_of(c);
	vm_switch(f->as, cpu);
	ck_assert_int_eq(vm_mmap(f->as, cpu, A, 8 * P, RW, ANON, NULL, 0), (long)A);
	ck_assert_int_eq(vm_mmap(f->as, cpu, A + 8 * P, 4 * P, VM_PROT_READ, ANON, NULL, 0), (long)(A + 8 * P));
	ck_assert_int_eq(vm_mmap(f->as, cpu, A + 12 * P, 4 * P, RW, ANON, NULL, 0), (long)(A + 12 * P));
	ck_assert_int_eq(vm_mmap(f->as, cpu, B, 4 * P, RW, VM_MAP_SHARED | VM_MAP_FIXED, f->f, 0), (long)B);
	for (int i = 0; i < 40; i++) /* apart, so they do not merge: towers of several levels */
		ck_assert_int_eq(vm_mmap(f->as, cpu, A + (200 + 2 * i) * P, P, RW, ANON, NULL, 0), (long)(A + (200 + 2 * i) * P));
	ck_assert_int_eq(vm_access(f->as, cpu, A + P, ACC_W), VM_FAULT_OK);
	ck_assert_int_eq(vm_access(f->as, cpu, A + 9 * P, ACC_R), VM_FAULT_OK);
	ck_assert_int_eq(vm_access(f->as, cpu, B, ACC_W), VM_FAULT_OK);
	f->child = vm_fork(f->as, cpu);
	ck_assert_ptr_nonnull(f->child);
}

static struct fix *fix_new(const char *design)
{
	struct fix *f = xzalloc(sizeof(*f));
	struct boot_opts o;
	boot_defaults(&o, &M, vm_design_find(design), 1);
	f->b = boot_create(&o);
	f->as = vm_as_create(f->b->sys, NULL);
	f->f = vm_file_create(f->b->sys, "file", 8 * P);
	sim_run(f->b->sim, body, f);
	return f;
}

static void fix_free(struct fix *f)
{
	f->b->mmu->cpus[0].cur = NULL;
	vm_as_destroy(f->child, NULL); /* each runs the full check once more */
	vm_as_destroy(f->as, NULL);
	vm_file_put(f->b->sys, f->f);
	ck_assert_int_eq(boot_destroy(f->b), 0);
	xfree(f);
}

/* check: the design's check over [lo, hi); 0 or -1 (f->why says why). */
static int check(struct fix *f, uint64_t lo, uint64_t hi) { return f->as->d->check(f->as, lo, hi, f->why, sizeof(f->why)); }

/* broken: the check over [lo, hi) must fail and say `what`. */
static void broken(struct fix *f, uint64_t lo, uint64_t hi, const char *what)
{
	ck_assert_msg(check(f, lo, hi) == -1, "%s: a broken invariant (%s) passed the check over [%#llx, %#llx)",
		      f->as->d->name, what, (unsigned long long)lo, (unsigned long long)hi);
	ck_assert_msg(strstr(f->why, what), "%s: expected '%s', the check said: %s", f->as->d->name, what, f->why);
}

/* mended: the whole space passes again. */
static void mended(struct fix *f)
{
	ck_assert_msg(check(f, 0, VM_TASK_SIZE) == 0, "%s: still failing after the repair: %s", f->as->d->name, f->why);
}

/* The last-level table mapping va (it must exist) and its entry index. */
static struct pm_ptpage *pt_of(struct vm_as *as, uint64_t va)
{
	const struct pm *pm = as->sys->pm;
	struct pm_ptpage *p = as->hw.root;
	for (int l = as->sys->mmu->o.levels; l > 1; l--) {
		uint64_t e = pte_load(p, (unsigned)PT_INDEX(va, l));
		ck_assert(pte_is_table(e, l));
		p = pm_pt(pm, PTE_PFN(e));
	}
	return p;
}

#define IDX(va) ((unsigned)PT_INDEX(va, 1))

/* The page-table invariants every design checks through kmm_check_entry; `stray_page`: what it says of a page mapped where nothing is. */
static void entry_mutations(struct fix *f, const char *stray_page)
{
	/* A page mapped where no mapping is (in an existing table); seen by a check of its range, not by one far away. */
	ck_assert_int_eq(mmu_map_host(&f->as->hw, GAP, f->b->sys->zero_pfn, PTE_US | PTE_NX, 1), 0);
	broken(f, GAP, GAP + P, stray_page);
	ck_assert_int_eq(check(f, FAR, FAR + P), 0);
	pte_store(pt_of(f->as, GAP), IDX(GAP), 0);
	mended(f);
	/* Rights beyond the mapping's: the read-only mapping's zero page made writable. */
	struct pm_ptpage *p = pt_of(f->as, A + 9 * P);
	uint64_t e = pte_load(p, IDX(A + 9 * P));
	pte_store(p, IDX(A + 9 * P), e | PTE_RW);
	broken(f, A + 9 * P, A + 10 * P, "other rights");
	pte_store(p, IDX(A + 9 * P), e);
	/* Copy-on-write broken: page 1's frame, shared with the child, writable in the parent. */
	e = pte_load(p, IDX(A + P));
	ck_assert(!(e & PTE_RW));
	pte_store(p, IDX(A + P), e | PTE_RW);
	broken(f, A, A + 16 * P, "copy-on-write broken");
	pte_store(p, IDX(A + P), e);
	/* A shared page that is not its file's cached page. */
	p = pt_of(f->as, B);
	e = pte_load(p, IDX(B));
	pte_store(p, IDX(B), PTE_MK(f->b->sys->zero_pfn, e & ~PTE_PFN_MASK));
	broken(f, B, B + P, "not its file's cached page");
	pte_store(p, IDX(B), e);
	mended(f);
}

START_TEST(linux_checks)
{
	struct fix *f = fix_new("linux");
	struct lmm *mm = lmm_of(f->as);
	mended(f);
	entry_mutations(f, "outside every VMA");
	/* The tree: a key that is not its entry's start (keys checked on the path to the range). */
	struct mt_node *leaf = mm->mt.root;
	while (!leaf->leaf)
		leaf = leaf->child[0];
	leaf->key[1] += P;
	broken(f, 0, VM_TASK_SIZE, "is not at its key");
	leaf->key[1] -= P;
	mm->mt.nodes++;
	broken(f, 0, VM_TASK_SIZE, "nodes reachable");
	mm->mt.nodes--;
	/* VMAs: detached but in the tree; write-locked with no call in flight; a chain without an anon_vma. */
	struct lvma *v = linux_find(mm, NULL, A + 8 * P), *w = linux_find(mm, NULL, A + 12 * P);
	atomic_store(&v->detached, true);
	broken(f, A + 8 * P, A + 9 * P, "detached");
	atomic_store(&v->detached, false);
	uint64_t seq = atomic_load(&v->lock_seq);
	atomic_store(&v->lock_seq, atomic_load(&mm->mm_lock_seq));
	broken(f, A + 8 * P, A + 9 * P, "still write-locked");
	atomic_store(&v->lock_seq, seq);
	v->chain = 1;
	broken(f, A + 8 * P, A + 9 * P, "chain");
	v->chain = 0;
	/* Neighbours Linux would have merged: [8, 12) given [12, 16)'s flags (neither has an anon_vma). */
	uint32_t flags = v->flags;
	v->flags = w->flags;
	broken(f, A + 12 * P, A + 13 * P, "should be one");
	v->flags = flags;
	/* Counts (full checks only). */
	atomic_fetch_add(&mm->nvmas, 1);
	broken(f, 0, VM_TASK_SIZE, "counted");
	atomic_fetch_sub(&mm->nvmas, 1);
	mended(f);
	fix_free(f);
}
END_TEST

START_TEST(skiplist_checks)
{
	struct fix *f = fix_new("skiplist");
	struct sl_mm *mm = sl_of(f->as);
	mended(f);
	entry_mutations(f, "outside every VMA");
	/* A node whose tower reaches level 1 and has a successor there, among the small mappings. */
	struct sl_node *n = mm->head, *prev = NULL;
	do {
		prev = n;
		n = sl_next(NULL, n);
	} while (n && (n->anchor || n->height < 2 || !atomic_load(&n->lv[1].next) || sn_start(n) < A + 200 * P));
	ck_assert_ptr_nonnull(n);
	uint64_t at = sn_start(n);
	/* Level 1 skips its next tower: no longer a sublist of level 0. */
	uintptr_t save = atomic_load(&n->lv[1].next);
	atomic_store(&n->lv[1].next, atomic_load(&((struct sl_node *)save)->lv[1].next));
	broken(f, at, at + P, "not a sublist of level 0");
	atomic_store(&n->lv[1].next, save);
	/* Level 0 out of order. */
	atomic_store(&n->start, sn_start(prev));
	broken(f, at, at + P, "out of order");
	atomic_store(&n->start, at);
	/* Deleted but linked; a lock left held; an anchor that is not empty. */
	atomic_store(&n->detached, true);
	broken(f, at, at + P, "deleted but still linked");
	atomic_store(&n->detached, false);
	n->range.s.holder = 1;
	broken(f, at, at + P, "still held");
	n->range.s.holder = 0;
	struct sl_node *tail = mm->tail;
	atomic_store(&tail->end, 0);
	broken(f, 0, VM_TASK_SIZE, "anchor");
	atomic_store(&tail->end, UINT64_MAX);
	atomic_fetch_add(&mm->nnodes, 1);
	broken(f, 0, VM_TASK_SIZE, "counted");
	atomic_fetch_sub(&mm->nnodes, 1);
	mended(f);
	fix_free(f);
}
END_TEST

static void cortenmm_checks(const char *design)
{
	struct fix *f = fix_new(design);
	mended(f);
	entry_mutations(f, "with no status");
	struct pm_ptpage *p = pt_of(f->as, A + P);
	struct cm_pt *d = cm_pt_of(p), *pd = d->parent;
	unsigned i = IDX(A + P), j = (unsigned)PT_INDEX(A, 2);
	/* Counts of children and statuses. */
	d->parent->nchild++;
	broken(f, A, A + P, "counts");
	d->parent->nchild--;
	d->nmeta++;
	broken(f, A, A + P, "counts");
	d->nmeta--;
	/* A status on an entry that points to a table. */
	struct cm_meta m = cm_meta_get(d, i);
	cm_meta_set(pd, j, &m);
	broken(f, A, A + P, "points to a table and has a status");
	cm_meta_set(pd, j, NULL);
	/* A mapped page without a status, then with one that does not allow its entry. */
	cm_meta_set(d, i, NULL);
	broken(f, A + P, A + 2 * P, "with no status");
	struct cm_meta ro = m;
	ro.flags &= (uint16_t)~VM_PROT_WRITE;
	uint64_t e = pte_load(p, i);
	pte_store(p, i, e | PTE_RW); /* as if a write had resolved */
	cm_meta_set(d, i, &ro);
	broken(f, A + P, A + 2 * P, "other rights");
	pte_store(p, i, e);
	cm_meta_set(d, i, &m);
	/* A stray page still reachable; a descriptor at the wrong address; a lock left held. */
	atomic_store(&d->stray, true);
	broken(f, A, A + P, "stray");
	ck_assert_int_eq(check(f, FAR, FAR + P), 0); /* local: a range elsewhere does not see it */
	atomic_store(&d->stray, false);
	d->base += P;
	broken(f, A, A + P, "no descriptor, or one of another");
	d->base -= P;
	d->rw.writer = 1;
	broken(f, A, A + P, "still locked");
	d->rw.writer = 0;
	mended(f);
	fix_free(f);
}

START_TEST(cortenmm_rw_checks) { cortenmm_checks("cortenmm-rw"); }
END_TEST
START_TEST(cortenmm_adv_checks) { cortenmm_checks("cortenmm-adv"); }
END_TEST

/* Every registered design has a check. */
START_TEST(every_design_checks)
{
	for (const struct vm_design *const *d = vm_designs(); *d; d++)
		ck_assert_msg((*d)->check != NULL, "design %s has no invariant check", (*d)->name);
}
END_TEST

static Suite *suite(void)
{
	test_machine(&M);
	Suite *s = suite_create("t53_checks");
	TCase *tc = tcase_create("mutations");
	tcase_add_test(tc, every_design_checks);
	tcase_add_test(tc, linux_checks);
	tcase_add_test(tc, skiplist_checks);
	tcase_add_test(tc, cortenmm_rw_checks);
	tcase_add_test(tc, cortenmm_adv_checks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return test_main(suite); }
