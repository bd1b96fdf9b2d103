/* event.h: what a program does, as events: mm calls, accesses, compute gaps, threads and processes. Traces and workloads both produce these. */
#ifndef MMSIM_EVENT_H
#define MMSIM_EVENT_H

#include <stdint.h>

enum ev_kind {
	EV_END = 0,	/* the thread has no more events */
	EV_MMAP,	/* addr (in region, or absolute), len, prot, flags, file, off; defines new_region */
	EV_MUNMAP,	/* addr, len */
	EV_MPROTECT,	/* addr, len, prot */
	EV_MADVISE,	/* addr, len, advice */
	EV_MREMAP,	/* addr, len (old), len2 (new), flags, addr2 (new address when fixed); redefines new_region */
	EV_BRK,		/* addr: the new break (absolute); 0 queries */
	EV_ACCESS,	/* addr, acc (0 r, 1 w, 2 x) */
	EV_COMPUTE,	/* cycles of user work */
	EV_BARRIER,	/* wait until `len` threads have reached barrier `addr` (synthetic workloads) */
	EV_MARK,	/* the measured phase starts here (synthetic workloads) */
	EV_THREAD,	/* start thread `tid2` in this process */
	EV_FORK,	/* start process `pid2` (with thread `tid2`): a copy-on-write child, or (flags != 0) a vfork child sharing this address space until it execs */
	EV_EXEC,	/* replace this process's address space by a new, empty one */
	EV_EXIT,	/* the thread exits; `len` != 0: the whole process exits */
	/* Later kinds (numbers kept: traces store them). */
	EV_MLOCK,	/* addr, len, flags (mlock2's MLOCK_ONFAULT; 0 for mlock) */
	EV_MUNLOCK,	/* addr, len */
	EV_MLOCKALL,	/* flags (MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT) */
	EV_MUNLOCKALL,	/* no arguments */
	EV_MSYNC,	/* addr, len, flags (MS_ASYNC, MS_INVALIDATE, MS_SYNC) */
	EV_MINCORE,	/* addr, len: the residency query (its result is the errno; the vector is not recorded) */
	EV_FTRUNCATE,	/* file, len: the file's new size in bytes */
	EV_FALLOCATE,	/* file, flags (the mode: FALLOC_FL_*), off, len */
	EV_KINDS
};

/* Special regions: addresses relative to the process's start of brk (the heap). */
#define EV_REGION_BRK 0xfffffffeu

/* Event flags. */
#define EVF_OP (1u << 0)     /* counts as one operation of the workload's throughput */
#define EVF_REGION (1u << 1) /* addr is relative to `region` (else absolute) */
#define EVF_REGION2 (1u << 2) /* addr2 is relative to `region2` */
#define EVF_CHECK (1u << 3)  /* `ret` holds the recorded result, to compare with */
#define EVF_NS (1u << 4)     /* EV_COMPUTE: `cycles` is in nanoseconds (converted with the machine's clock) */
#define EVF_YIELD (1u << 5)  /* EV_COMPUTE: the thread waits for others (a replay's sync): another thread queued on its core runs next */
#define EVF_SLEEP (1u << 6)  /* EV_COMPUTE: the thread is off its core (blocked in the recording) for `cycles`: the core runs others, or idles */

/*
 * struct ev: one event of one thread. Addresses are region-relative where
 * the program did not choose them: an mmap without MAP_FIXED defines a
 * region id, and later events name (region, offset), so each design may
 * place mappings where it likes. `hint` keeps the recorded address.
 */
struct ev {
	uint8_t kind;
	uint8_t acc;
	uint16_t fl; /* EVF_* */
	uint32_t region, region2, new_region;
	uint32_t tid, tid2, pid2, file;
	int32_t prot, flags, advice;
	uint64_t addr, addr2, len, len2, off;
	uint64_t hint;
	int64_t ret;
	uint64_t cycles;
};

extern const char *const ev_names[EV_KINDS];

#endif
