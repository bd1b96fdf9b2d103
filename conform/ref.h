/* ref.h: the sequential reference model of Linux address-space semantics: the oracle that designs are compared against. */
#ifndef MMSIM_REF_H
#define MMSIM_REF_H

#include "vm/vm.h"

/*
 * The reference model keeps what Linux keeps and nothing else: a sorted
 * array of VMAs with Linux's flags, file offsets and anon_vma identities
 * (so it splits and merges exactly as Linux does, which decides results
 * such as mremap's EFAULT), the set of pages with a private frame, and each
 * file's page cache. It has no page tables, no timing and no concurrency:
 * one caller at a time.
 */
struct ref;
struct ref_file;

/* The kernel the model imitates, where results differ between kernels, their configuration or the caller's rights. */
struct ref_kernel {
	uint32_t version;		    /* REF_VERSION(major, minor) */
	bool thp, ksm, memory_failure;	    /* CONFIG_TRANSPARENT_HUGEPAGE, CONFIG_KSM, CONFIG_MEMORY_FAILURE */
	bool overcommit_never;		    /* vm.overcommit_memory = 2: MAP_NORESERVE is ignored */
	bool cap_ipc_lock, cap_sys_admin;   /* the caller's capabilities */
	uint64_t memlock_limit;		    /* RLIMIT_MEMLOCK in bytes; UINT64_MAX: unlimited */
};
#define REF_VERSION(major, minor) ((uint32_t)(major) << 16 | (uint32_t)(minor) << 8)

/* ref_kernel_default: Linux 6.18 with THP and KSM, called by root (the kernel of tests/data/linux-6.18-seed1). */
void ref_kernel_default(struct ref_kernel *k);
/* ref_create_on: an empty address space on kernel k (copied). ref_create: on the default kernel. */
struct ref *ref_create_on(const struct ref_kernel *k);
struct ref *ref_create(void);
void ref_destroy(struct ref *r);
/* ref_fork: a copy of r as fork leaves the child (anon_vma chains inherited; DONTFORK, WIPEONFORK and locks honoured). */
struct ref *ref_fork(struct ref *r);

/* Files: id is what layouts report as file_id. */
struct ref_file *ref_file_create(uint32_t id, uint64_t size);
void ref_file_put(struct ref_file *f);

/* The calls, with Linux's results. f is ignored for anonymous mappings. */
long ref_mmap(struct ref *r, uint64_t addr, uint64_t len, int prot, int flags, struct ref_file *f, uint64_t off);
int ref_munmap(struct ref *r, uint64_t addr, uint64_t len);
int ref_mprotect(struct ref *r, uint64_t addr, uint64_t len, int prot);
int ref_madvise(struct ref *r, uint64_t addr, uint64_t len, int advice);
long ref_mremap(struct ref *r, uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr);
long ref_brk(struct ref *r, uint64_t newbrk);
int ref_mlock(struct ref *r, uint64_t addr, uint64_t len, int flags); /* mlock2; mlock is flags 0 */
int ref_munlock(struct ref *r, uint64_t addr, uint64_t len);
int ref_mlockall(struct ref *r, int flags);
int ref_munlockall(struct ref *r);
int ref_msync(struct ref *r, uint64_t addr, uint64_t len, int flags);
/* ref_mincore: the call's result (residency itself: ref_residency). */
int ref_mincore(struct ref *r, uint64_t addr, uint64_t len);
/* ref_ftruncate, ref_fallocate: change f (mapped in r, and nowhere else alive) as the calls on its descriptor do. */
int ref_ftruncate(struct ref *r, struct ref_file *f, uint64_t size);
int ref_fallocate(struct ref *r, struct ref_file *f, int mode, int64_t off, int64_t len);
/* ref_touch: a one-byte access; its effect on residency, and the signal if any. */
enum vm_fault ref_touch(struct ref *r, uint64_t va, enum mmu_acc acc);

/* ref_layout: one range per VMA overlapping [start, end), in order. */
void ref_layout(struct ref *r, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg);
/* ref_residency: what mincore reports for the page at va; MAYBE where memory pressure or a daemon decides. */
enum ref_res { REF_RES_NO, REF_RES_YES, REF_RES_MAYBE };
enum ref_res ref_residency(struct ref *r, uint64_t va);
/* ref_resident: the same with nothing reclaimed (MAYBE counts as resident). */
bool ref_resident(struct ref *r, uint64_t va);
/* Number of VMAs, and the current break. */
uint32_t ref_nvmas(const struct ref *r);
uint64_t ref_brk_now(const struct ref *r);

#endif
