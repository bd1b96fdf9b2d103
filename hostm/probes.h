/* probes.h: the host benchmarks `mmsim calibrate` runs; each call is one timed batch and returns nanoseconds per operation. */
#ifndef MMSIM_HM_PROBES_H
#define MMSIM_HM_PROBES_H

#include <stdint.h>

/*
 * Every probe has the shape of a sample for hm_measure: it sets up outside
 * the timed part, times one batch, tears down, and returns ns per
 * operation (a negative value if the host refused a call: errno says why).
 * Regions are MADV_NOHUGEPAGE, as the simulated linux design's default
 * (thp=never).
 */

/* One system call that does nothing (getppid): entry plus exit, with this kernel's mitigations. */
double hm_syscall(void *arg);
/* Clearing one 4 KiB page with rep stosb (the kernel's clear_page_erms), over 64 MiB so pages come cold. */
double hm_zero(void *arg);
/* A read fault on untouched anonymous memory: the kernel maps its shared zero page (no frame, no zeroing). */
double hm_read_fault(void *arg);
/*
 * mprotect of one page to read-only (a VMA split each time), of touched
 * memory (arg NULL: the kernel changes a present PTE and invalidates it) or
 * of untouched memory (arg non-NULL: no PTE, no invalidation).
 */
double hm_mprotect(void *arg);

/*
 * The five operations of the paper's microbenchmarks, as mmsim's workloads
 * of the same names do them (workloads/paper.c), one thread:
 * mmap: mmap 4 pages then munmap them; mmap-pf: MAP_FIXED one page of a
 * 512-page region and write it; pf: a write fault in a 512-page region;
 * munmap-virt: munmap one untouched page; munmap: munmap one touched page.
 */
enum hm_op { HM_MMAP, HM_MMAP_PF, HM_PF, HM_MUNMAP_VIRT, HM_MUNMAP, HM_NOPS };
extern const char *const hm_op_names[HM_NOPS]; /* mmsim's workload names */
/*
 * hm_mmap_merges: whether this process's mmap(NULL) of 4 anonymous pages
 * (the mmap op's request) merges with a mapping beside it, as seen in
 * /proc/self/maps (a glibc process's first anonymous mapping usually sits
 * right under an anonymous one of ld.so's): 1 yes, 0 no, -1 unknown.
 */
int hm_mmap_merges(void);

/* hm_op: one batch of op (arg: a pointer to the enum hm_op). */
double hm_op(void *arg);
/* hm_op2: the same with two threads at once, pinned to CPUs 0 and 1, in the two slots of one region: the median request of both. */
double hm_op2(void *arg);

/* Pair benchmarks (hostm/pair.c): two threads pinned to CPUs 0 and 1. */
/* One cache-line transfer between the two CPUs: half a ping-pong round trip. */
double hm_pingpong(void *arg);
/* munmap of one touched page while a second thread of the process spins on the other CPU (the kernel must shoot down its TLB). */
double hm_munmap_shared(void *arg);

/* The page-stride pointer chase (hostm/chase.c): ns per access over *(uint32_t *)arg pages, one access per page, random cyclic order. */
double hm_chase(void *arg);
/* hm_chase_order: the random cyclic order the chase uses over n pages (order[i] follows page i), seeded: the simulated chase replays it. */
void hm_chase_order(uint32_t *next, uint32_t n, uint64_t seed);

/*
 * hm_program (hostm/program.c): the program calibrate records and replays:
 * `rounds` times, a 16-page anonymous mapping with 8 pages written, one page
 * made read-only, all unmapped; then a 4-page mapping unmapped untouched.
 * 0, or -1 if the host refused a call (errno says why).
 */
int hm_program(unsigned rounds);

#endif
