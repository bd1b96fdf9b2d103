/* gt.h: kernel ground truth: parse recorded call sequences (tests/data/linux-*.txt.zst) and replay them against a target. */
#ifndef MMSIM_GT_H
#define MMSIM_GT_H

#include "vm/vm.h"

enum gt_call { GT_MMAP, GT_MUNMAP, GT_MPROTECT, GT_MADVISE, GT_MREMAP, GT_TOUCH };

/* Window geometry of the recordings: pages [-16, 64) around the window base. */
#define GT_LO (-16)
#define GT_HI 64
#define GT_PAGES (GT_HI - GT_LO)

struct gt_vma {
	int32_t start, end; /* pages from the window base */
	uint8_t prot;
	bool shared, file;
	uint32_t fpgoff; /* file offset in pages of `start` */
};

struct gt_step {
	enum gt_call call;
	uint32_t line; /* of the call, in the file */
	int64_t off;
	uint64_t len, len2;
	int64_t to;
	int prot, flags, advice;
	bool file;
	uint64_t foff;
	enum mmu_acc acc;
	char expect[24];
	struct gt_vma *vmas;
	uint32_t nvmas;
	char resident[GT_PAGES + 1];
};

struct gt_seq {
	uint32_t id, line;
	struct gt_step *steps;
	uint32_t n, cap;
};

struct gt {
	char path[256];
	struct gt_seq *seqs;
	uint32_t n, cap;
	uint64_t calls;
};

/* gt_load: parse a ground-truth file. -1 with "FILE:LINE: reason" in err on malformed input. */
int gt_load(struct gt *g, const char *path, char *err, size_t errlen);
void gt_free(struct gt *g);

/*
 * What a replay needs from the thing replayed: the reference model or a
 * design on a simulated core. Addresses are absolute; begin_seq sets up
 * the fresh state of a sequence (guards mapped, a new 32-page file).
 */
struct gt_target {
	void *t;
	bool has_vmas;
	void (*begin_seq)(void *t, uint64_t base);
	void (*end_seq)(void *t);
	long (*mmap)(void *t, uint64_t addr, uint64_t len, int prot, int flags, bool file, uint64_t off);
	long (*munmap)(void *t, uint64_t addr, uint64_t len);
	long (*mprotect)(void *t, uint64_t addr, uint64_t len, int prot);
	long (*madvise)(void *t, uint64_t addr, uint64_t len, int advice);
	long (*mremap)(void *t, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr);
	enum vm_fault (*touch)(void *t, uint64_t va, enum mmu_acc acc);
	void (*layout)(void *t, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg);
	bool (*resident)(void *t, uint64_t va);
};

#define GT_MAX_REPORTS 20

struct gt_report {
	uint64_t calls, sequences;
	uint64_t result_mismatches, layout_mismatches, resident_mismatches, vma_boundary_mismatches;
	uint64_t tlb_violations; /* designs only: TLB coherence checker count */
	int64_t leaked_frames;	 /* designs only: frames still in use after every sequence was torn down */
	uint32_t nmsgs;
	char msgs[GT_MAX_REPORTS][320]; /* the first mismatches, described */
};

/* The window base used for replays: far from anything else a design maps. */
#define GT_BASE 0x7e0000000000ull

/* gt_replay: run every sequence against the target, comparing after every call. */
void gt_replay(const struct gt *g, const struct gt_target *t, struct gt_report *rep);

/*
 * gt_replay_design: replay against a registered design on a fresh
 * one-core system (TLB checker on), then count frames left after teardown.
 * -1 with a message if there is no such design.
 */
int gt_replay_design(const struct gt *g, const char *design, const struct machine *m, struct gt_report *rep,
		     char *err, size_t errlen);

/* The reference model as a target. */
struct gt_target *gt_ref_target(void);
void gt_ref_target_free(struct gt_target *t);

#endif
