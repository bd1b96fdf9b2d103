/* imp.h: the importer core shared by the perf and strace importers: recorded processes and threads, their region maps, and the events the recorded calls become. */
#ifndef MMSIM_TRACES_IMP_H
#define MMSIM_TRACES_IMP_H

#include "traces/trace.h"
#include "traces/util.h"

struct lines;

/* x86-64 system call numbers the importers know. */
enum {
	NR_CLOSE = 3, NR_MMAP = 9, NR_MPROTECT = 10, NR_MUNMAP = 11, NR_BRK = 12, NR_MREMAP = 25, NR_MSYNC = 26,
	NR_MINCORE = 27, NR_MADVISE = 28, NR_SHMGET = 29, NR_SHMAT = 30, NR_CLONE = 56, NR_FORK = 57, NR_VFORK = 58,
	NR_EXECVE = 59, NR_EXIT = 60, NR_SHMDT = 67, NR_FTRUNCATE = 77, NR_MLOCK = 149, NR_MUNLOCK = 150,
	NR_MLOCKALL = 151, NR_MUNLOCKALL = 152, NR_EXIT_GROUP = 231, NR_FALLOCATE = 285, NR_MLOCK2 = 325,
	NR_PKEY_MPROTECT = 329, NR_CLONE3 = 435
};

/* imp_memory_call: whether a call of this number becomes events through imp_syscall. */
bool imp_memory_call(uint32_t nr);

/* shmat's flags (Linux's SHM_RDONLY, SHM_REMAP, SHM_EXEC). */
#define IMP_SHM_RDONLY 0x1000ull
#define IMP_SHM_REMAP 0x4000ull
#define IMP_SHM_EXEC 0x8000ull

#define CLONE_VM 0x100ull
#define CLONE_VFORK 0x4000ull
#define CLONE_THREAD 0x10000ull

/* One interval of a process's region map: recorded addresses [start, end) name (region, addr - base). */
struct imp_iv {
	uint64_t start, end, base;
	uint32_t region; /* 0: absolute addresses */
	uint32_t root;	 /* placement root: pieces with one root keep their relative layout in every design */
	uint32_t definer; /* the thread whose event made this interval, and when */
	uint64_t def_at;
};

struct imp_proc {
	uint32_t rpid, pid;
	uint32_t asid; /* the address space it uses (a vfork child shares its parent's until it execs) */
	struct imp_iv *iv; /* sorted, disjoint */
	uint32_t n, cap;
	uint64_t brk_base, brk_cur; /* recorded start of brk and current break */
	bool brk_known;
	uint32_t live; /* threads not yet exited */
	struct tu_map fds; /* descriptor -> the file id it was last seen naming (0: none), for ftruncate and fallocate */
	struct imp_shm { uint64_t addr, len; } *shm; /* SysV segments attached (shmat), for shmdt */
	uint32_t nshm, cap_shm;
	/* Happens-before: the latest end of a memory call, by which thread, and the latest by any other thread. */
	uint64_t call_end, call_end_other;
	uint32_t call_tid;
	uint32_t unmapping; /* perf: its threads inside a munmap now (settle_unmaps looks only when some are) */
};

/*
 * struct imp_fkey: what tells one file from another: its device, inode and
 * inode generation (a deleted file's inode number is soon given to a new file,
 * as linkers' and compilers' temporary files show; the generation differs), or,
 * while none of those is known, its process and descriptor + 1 (dev and ino 0).
 */
struct imp_fkey {
	uint32_t dev;
	uint64_t ino, gen;
	uint32_t rpid, fd;
};

/* A mapping as the kernel reported it (perf's MMAP2), or as strace's arguments give it. */
struct imp_map {
	uint64_t start, len, pgoff;
	uint32_t dev; /* major << 20 | minor */
	uint64_t ino;
	uint64_t gen; /* the inode's generation (perf's MMAP2; 0 from strace) */
	int prot;
	bool shared;
	char name[256];
};

#define IMP_EXEC_MAX 256 /* mappings of one new image */

struct imp_thread {
	uint32_t rtid, tid, parent;
	struct imp_proc *p;
	char comm[32];
	uint64_t last;	       /* end of its last event, ns (0: none yet) */
	uint64_t off;	       /* perf switch events: when it left its CPU (0: it is on one) */
	bool off_preempt;      /* ... preempted (still runnable), not blocked */
	uint64_t cur;	       /* start of the event being written */
	uint64_t synced_until; /* its last sync event: the others had run everything recorded before this */
	uint32_t emitted_asid; /* the address space its stream last named */
	bool exited;
	bool pending; /* a fault waiting for its outcome */
	struct ev fault;
	uint64_t fault_at;
	bool fault_sync;
	/* a block off its CPU right after that fault, not yet known to be the fault's: written after the fault */
	bool held;
	uint64_t held_off, held_in;
	/* perf: the system call in progress */
	bool in_sys;
	uint32_t nr;
	uint64_t args[6];
	uint64_t t_enter, line_enter;
	uint64_t line; /* the input line of the event being written (0: none) */
	uint64_t fault_line;
	bool have_map;
	struct imp_map map; /* the MMAP2 record inside the call */
	bool vfork_parent;  /* created a vfork-like child in this call: its wait counts as compute */
	bool settled;	    /* its munmap in progress was emitted already (settle_unmaps): its sys_exit only ends it */
	/* an exec in progress: the new image's mappings */
	bool in_exec, first_image, had_syscall;
	struct imp_map *exec_maps;
	uint32_t nexec;
	/* strace: the unfinished first half of a call */
	char *partial;
	uint64_t partial_ts, partial_line;
	uint8_t spawning;  /* an unfinished clone/fork/vfork: the kind of task it makes + 1 (0: none) */
	uint32_t spawned;  /* the task that appeared while it was unfinished (0: none yet) */
};

struct imp {
	struct tr_writer *w;
	struct tr_import_opts o;
	struct tr_import_stats *st;
	struct lines *l; /* the input, for error positions */
	char *err;
	size_t errlen;
	struct imp_thread **threads; /* every thread ever seen (exited ones too) */
	uint32_t nthreads, cap_threads;
	struct tu_map tix; /* rtid -> index in threads of its latest thread */
	struct imp_proc **procs;
	uint32_t nprocs, cap_procs;
	struct imp_file { struct imp_fkey k; uint32_t id; } *files;
	uint32_t nfiles, cap_files;
	uint32_t next_region, next_asid;
	uint64_t cpus_seen[TR_MAX_CPUS / 64]; /* perf: the CPUs the recording's lines name */
	struct tu_map shm_pages; /* SysV segment id -> its size in pages (from shmget), for shmat without a record */
	bool blind_exec; /* the recording does not show exec-time mappings (strace): calls outside known regions go unchecked */
	uint64_t base;	 /* the first time seen: times in the trace count from it */
	bool have_base;
	bool ioerr;
	char *prev;	/* the line before (perf), to skip one that repeats it */
	size_t prev_cap;
};

/* What a line-oriented recording format adds to the importer core. */
struct imp_format {
	const char *name;      /* the trace's source is NAME:FILE */
	const char *empty_why; /* the error for an input in which no thread did anything */
	bool blind_exec;       /* see struct imp */
	/* line: one line of input, without its leading blanks and not empty. 0, or -1 with imp_bad's message. */
	int (*line)(struct imp *m, const char *s);
};

/*
 * imp_run: the importer's loop over the lines of `in`: m (which the format
 * may embed in its own state) is initialized, fed every line, finished
 * (pending faults flushed, stats filled) and freed. 0, or -1 with
 * "FILE:LINE: reason" in err.
 */
int imp_run(struct imp *m, const struct imp_format *f, const char *in, struct tr_writer *w,
	    const struct tr_import_opts *o, struct tr_import_stats *st, char *err, size_t errlen);

/* imp_bad(m, fmt, ...): "FILE:LINE: reason" for the current line into m's err; -1. */
#define imp_bad(m, ...) tu_errf_line((m)->err, (m)->errlen, (m)->l, __VA_ARGS__)

/* imp_thread_find: the live or last thread recorded as rtid, or NULL. */
struct imp_thread *imp_thread_find(struct imp *m, uint32_t rtid);
/* imp_initial: a thread that exists from the start (no creation record): process rpid (new if unknown). */
struct imp_thread *imp_initial(struct imp *m, uint32_t rpid, uint32_t rtid, const char *comm);
/* imp_comm: the thread's name changed. */
void imp_comm(struct imp *m, struct imp_thread *t, const char *comm);

enum imp_clone_kind { IMP_THREAD, IMP_FORK, IMP_VFORK };
/*
 * imp_clone: parent created child_rtid (in process child_rpid unless a
 * thread) at time ns: EV_THREAD or EV_FORK in the parent's stream, and the
 * child's process state (a copy of the parent's region map for a process).
 */
struct imp_thread *imp_clone(struct imp *m, struct imp_thread *parent, uint32_t child_rtid, uint32_t child_rpid,
			     enum imp_clone_kind kind, uint64_t ns);

/* imp_begin: an event of t starts at ns: flush its pending fault, emit the compute gap. */
void imp_begin(struct imp *m, struct imp_thread *t, uint64_t ns);
/* imp_end: t's current event ended at ns (the next compute gap counts from here). */
static inline void imp_end(struct imp_thread *t, uint64_t ns) { t->last = ns; }

/* imp_fault: a user access that faulted (acc 0 r, 1 w, 2 x), resolved unless imp_signal follows. */
void imp_fault(struct imp *m, struct imp_thread *t, uint64_t ns, uint64_t addr, int acc, bool check);
/* imp_signal: signal sig was delivered to t: a SIGSEGV/SIGBUS right after a fault is its outcome. */
void imp_signal(struct imp *m, struct imp_thread *t, int sig);

/*
 * imp_syscall: a completed memory call (imp_memory_call: mmap, munmap,
 * mprotect, pkey_mprotect, madvise, mremap, brk, mlock, mlock2, munlock,
 * mlockall, munlockall, msync, mincore, ftruncate, fallocate, shmget,
 * shmat, shmdt, close) with its raw arguments and result, entered at t0
 * (on input line t->line_enter, 0: the current one) and returned at t1.
 * map: the kernel's record of the mapping made inside the call (perf), or
 * NULL. fd_name: for strace, the path strace printed for the fd (-y), or
 * NULL.
 */
void imp_syscall(struct imp *m, struct imp_thread *t, uint32_t nr, const uint64_t *a, int64_t ret, uint64_t t0,
		 uint64_t t1, const struct imp_map *map, const char *fd_name);

/* imp_shm_record: a SysV segment's mapping recorded outside any followed call (a recording without shmat): its attach. */
void imp_shm_record(struct imp *m, struct imp_thread *t, uint64_t ns, const struct imp_map *map);

/* imp_exec: t's process now runs a new image with these initial mappings (MAP_FIXED at their addresses). */
void imp_exec(struct imp *m, struct imp_thread *t, uint64_t ns, const struct imp_map *maps, uint32_t n, bool emit_exec);

/* imp_exit: t exits (group: the whole process). */
void imp_exit(struct imp *m, struct imp_thread *t, uint64_t ns, bool group);

/* imp_call_done: t's memory call (or fork) returned at ns: the other threads' later faults are ordered after it. */
void imp_call_done(struct imp_thread *t, uint64_t ns);

/* ---- the core's pieces that the calls (imp_calls.c) build on ---- */

/* imp_put: write an event of t at the start of its current event (sync: see struct tr_meta). */
void imp_put(struct imp *m, struct imp_thread *t, const struct ev *e, bool sync);
/* imp_emit_range: e over the recorded range [a, a + len): one event per piece placed independently (checked, sync). */
void imp_emit_range(struct imp *m, struct imp_thread *t, struct ev *e, uint64_t a, uint64_t len);
/* imp_iv_remove: forget [s, e) in p's region map. */
void imp_iv_remove(struct imp_proc *p, uint64_t s, uint64_t e);
/*
 * imp_switch: t left its CPU at ns (in false; preempt: it was still runnable)
 * or came back (in true), from perf's switch events. Back from blocking, the
 * time off is a sleep event (EVF_SLEEP: its core runs others meanwhile), after
 * the work before it; back from a preemption it is neither work nor sleep:
 * the recording host's CPUs were busy, and in the replay the thread has its
 * core. Without switch events (older recordings, strace) every gap is work.
 */
void imp_switch(struct imp *m, struct imp_thread *t, uint64_t ns, bool in, bool preempt);

/*
 * imp_ran: t entered a system call (any, modelled or not): it ran on after
 * its last fault, which was therefore resolved. A fault stays pending until
 * then, a SIGSEGV/SIGBUS, or the thread's end (then it is unjudged).
 */
void imp_ran(struct imp *m, struct imp_thread *t);
/* imp_file_id: the trace's id of the file keyed k (a new id for a new key), grown to `end` bytes. */
uint32_t imp_file_id(struct imp *m, struct imp_fkey k, const char *name, uint64_t end);
/* imp_file_adopt: the file `id`, known so far only by a descriptor, is the one mapping record r names, unless that file has an id already. */
void imp_file_adopt(struct imp *m, uint32_t id, const struct imp_map *r);
/* imp_file_retire: process rpid closed descriptor fd: a later use of the number is another file. */
void imp_file_retire(struct imp *m, uint32_t rpid, uint32_t fd);
/* imp_do_mmap, imp_do_mremap, imp_do_brk: a recorded mmap, mremap, brk with its raw arguments (see imp_syscall). */
void imp_do_mmap(struct imp *m, struct imp_thread *t, const uint64_t *a, int64_t ret, const struct imp_map *map,
		 const char *fd_name);
void imp_do_mremap(struct imp *m, struct imp_thread *t, const uint64_t *a, int64_t ret);
void imp_do_brk(struct imp *m, struct imp_thread *t, const uint64_t *a, int64_t ret, const struct imp_map *map);

#endif
