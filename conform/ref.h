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

struct ref *ref_create(void);
void ref_destroy(struct ref *r);
/* ref_fork: a copy of r as fork leaves the child (anon_vma chains inherited). */
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
/* ref_touch: a one-byte access; its effect on residency, and the signal if any. */
enum vm_fault ref_touch(struct ref *r, uint64_t va, enum mmu_acc acc);

/* ref_layout: one range per VMA overlapping [start, end), in order. */
void ref_layout(struct ref *r, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg);
/* ref_resident: what mincore reports for the page at va. */
bool ref_resident(struct ref *r, uint64_t va);
/* Number of VMAs, and the current break. */
uint32_t ref_nvmas(const struct ref *r);
uint64_t ref_brk_now(const struct ref *r);

#endif
