/* gt.h: kernel ground truth: parse recorded call sequences (tests/data/linux-*.txt.zst) and replay them against a target. */
#ifndef MMSIM_GT_H
#define MMSIM_GT_H

#include "vm/vm.h"

enum gt_call {
	GT_MMAP, GT_MUNMAP, GT_MPROTECT, GT_MADVISE, GT_MREMAP, GT_TOUCH,
	/* recorded by conform/live/gtrec.c (the format's extensions: tests/data/linux-6.18-seed1.README.md) */
	GT_FORK, GT_MLOCK, GT_MUNLOCK, GT_MLOCKALL, GT_MUNLOCKALL, GT_MSYNC, GT_MINCORE, GT_FTRUNCATE, GT_FALLOCATE,
};

/* Window geometry of the recordings: pages [-16, 64) around the window base. */
#define GT_LO (-16)
#define GT_HI 64
#define GT_PAGES (GT_HI - GT_LO)

struct gt_vma {
	int32_t start, end; /* pages from the window base */
	uint8_t prot;
	bool shared, file;
	bool shmem;	 /* shared anonymous memory (its own shmem file), shown as "shmem+OFF"; file is set too */
	uint32_t fpgoff; /* file offset in pages of `start` */
};

struct gt_step {
	enum gt_call call;
	uint32_t line;	/* of the call, in the file */
	char text[112]; /* the call as written (cut short if longer), for reports */
	int64_t off;
	uint64_t len, len2;
	int64_t to;
	int prot, flags, advice; /* flags: of mmap, mremap, mlock2, mlockall, msync, fallocate; fork: 1 = child */
	bool file;
	uint64_t foff; /* mmap's file offset; ftruncate's size */
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

/* A `setting KEY VALUE` line of the header: what the kernel's results depend on beyond the calls. */
struct gt_setting {
	char key[32], value[96];
};

struct gt {
	char path[256];
	char kernel[96]; /* `kernel RELEASE` (uname -r), empty in files recorded before the header existed */
	struct gt_setting *settings;
	uint32_t nsettings;
	struct gt_seq *seqs;
	uint32_t n, cap;
	uint64_t calls;
};

/* gt_setting: the value of a setting, or NULL. */
const char *gt_setting(const struct gt *g, const char *key);

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
	/* fork: the target goes on as the child (child) or as the parent once the child has exited. 0 or -errno. */
	long (*fork)(void *t, bool child);
	long (*mlock)(void *t, uint64_t addr, uint64_t len, int flags); /* mlock2 */
	long (*munlock)(void *t, uint64_t addr, uint64_t len);
	long (*mlockall)(void *t, int flags);
	long (*munlockall)(void *t);
	long (*msync)(void *t, uint64_t addr, uint64_t len, int flags);
	long (*mincore)(void *t, uint64_t addr, uint64_t len);
	long (*ftruncate)(void *t, uint64_t size);		      /* of the sequence's file */
	long (*fallocate)(void *t, int mode, int64_t off, int64_t len); /* of the sequence's file */
	void (*layout)(void *t, uint64_t start, uint64_t end, vm_visit_fn fn, void *arg);
	/* seq_file: the file_id layouts give the sequence's file (other files are shared anonymous memory). */
	uint32_t (*seq_file)(void *t);
	/* resident: what mincore would say of the page at va: GT_RES_*. */
	int (*resident)(void *t, uint64_t va);
};

/* Residency: GT_RES_MAYBE where it depends on memory pressure or daemons (after FREE, COLD, PAGEOUT, MERGEABLE, COLLAPSE). */
enum { GT_RES_NO = 0, GT_RES_YES = 1, GT_RES_MAYBE = 2 };

#define GT_MAX_REPORTS 40

struct gt_report {
	uint64_t calls, sequences;
	uint64_t result_mismatches, layout_mismatches, resident_mismatches, vma_boundary_mismatches;
	uint64_t unsupported_calls; /* calls the target has no way to make (designs: no such operation); each is a result mismatch too */
	uint64_t tlb_violations; /* designs only: TLB coherence checker count */
	int64_t leaked_frames;	 /* designs only: frames still in use after every sequence was torn down */
	uint32_t nmsgs;
	uint32_t msg_seq;		/* 1 + the index of the sequence of the last message */
	char msgs[GT_MAX_REPORTS][512]; /* the first mismatch of each sequence (what follows it may only be its echo) */
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

/* The reference model as a target, imitating the kernel g was recorded on (its `kernel` and `setting` lines; NULL: Linux 6.18 as configured here). */
struct gt_target *gt_ref_target(const struct gt *g);
void gt_ref_target_free(struct gt_target *t);

#endif
