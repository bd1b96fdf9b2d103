/* trace.h: mmsim traces: the versioned, zstd-compressed binary form, its text form, streaming readers and writers, per-thread event sources and the perf/strace importers. */
#ifndef MMSIM_TRACE_H
#define MMSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vm/exec.h"

/*
 * The binary form (docs/trace-format.md, traces/block.h): a prefix with the
 * magic "MMSIMTRC" and the version, the events in time order (each tagged
 * with its thread) in zstd blocks of at most 256 KiB, the header (threads
 * and files) in blocks of its own, and a footer with the event counts per
 * thread. Every block carries a CRC-32C. A reader for one thread decodes
 * the blocks and keeps only that thread's events, so memory stays bounded
 * however long the trace.
 */
#define TR_MAGIC "MMSIMTRC"
#define TR_VERSION 3u /* written; version 2 (the same without input lines) is read too */
#define TR_TEXT_VERSION 1u /* the text form's own version ("mmsim-trace 1") */

/* Limits a reader enforces (a trace beyond them is rejected, never a crash). */
#define TR_MAX_THREADS (1u << 20)
#define TR_MAX_FILES (1u << 20)
#define TR_MAX_PROCS 4096u		  /* the executor's process table */
#define TR_MAX_STR 4096u		  /* names and the source string */
#define TR_MAX_FILE_SIZE (1ull << 36)	  /* 64 GiB: the executor allocates a page index per file */
#define TR_MAX_COMPUTE (1ull << 40)	  /* one compute gap: cycles or nanoseconds */
#define TR_MAX_RECORD 256u		  /* bytes of one encoded event */
#define TR_MAX_CPUS 65536u		  /* the CPUs a recording says it ran on */

/* One thread of the trace. `tid` and `pid` are the trace's own ids (nonzero). */
struct tr_thread {
	uint32_t tid, pid;
	uint32_t parent;     /* the thread that created it (EV_THREAD/EV_FORK), 0 for an initial thread */
	uint64_t events;     /* events in its stream */
	uint32_t rtid, rpid; /* the recorded ids (0 when unknown) */
	char comm[32];
};

/* One file that mappings name by `id` (ev.file). */
struct tr_file {
	uint32_t id;
	uint64_t size;	/* bytes: the largest offset+length mapped (or as declared) */
	uint32_t dev;	/* recorded major:minor as (major << 20 | minor), 0 if unknown */
	uint64_t ino;	/* recorded inode, 0 if unknown */
	char *name;
};

struct tr_header {
	uint32_t version;
	char *source; /* what the trace was made from (free text) */
	struct tr_thread *threads;
	uint32_t nthreads;
	struct tr_file *files;
	uint32_t nfiles;
	uint64_t events;
	/* What the recording says of its machine (version 3; 0: unknown). */
	uint32_t cpus;	     /* the CPUs its threads ran on */
	uint64_t syscall_ns; /* perf's own cost per recorded system call (the recipe's null-call measurement) */
};

void tr_header_free(struct tr_header *h);
/* tr_thread_find: the thread with this trace tid, or NULL. */
const struct tr_thread *tr_thread_find(const struct tr_header *h, uint32_t tid);
const struct tr_file *tr_file_find(const struct tr_header *h, uint32_t id);
/* tr_header_check: the header's own consistency (ids, parents, limits). 0, or -1 with a reason in err. */
int tr_header_check(const struct tr_header *h, char *err, size_t errlen);

/* ---- output files ---- */


/* ---- writing the binary form ---- */

struct tr_writer;

/*
 * tr_writer_open: start a trace that tr_writer_close will leave at path
 * ("-" for standard output), written through io/out.h (whole or not at all): the events go
 * to its temporary file as they come, the header and the footer (which
 * count them) follow at the close.
 */
struct tr_writer *tr_writer_open(const char *path, char *err, size_t errlen);
/* tr_writer_thread: declare or update thread t->tid (its event count is kept by the writer). */
void tr_writer_thread(struct tr_writer *w, const struct tr_thread *t);
/* tr_writer_file: declare or update a file; size only grows, dev and ino are set once (a file first known by a descriptor: its name too). */
void tr_writer_file(struct tr_writer *w, uint32_t id, uint64_t size, uint32_t dev, uint64_t ino, const char *name);
void tr_writer_source(struct tr_writer *w, const char *source);
/* tr_writer_machine: what the recording says of its machine (struct tr_header: cpus, syscall_ns; 0 leaves one as it is). */
void tr_writer_machine(struct tr_writer *w, uint32_t cpus, uint64_t syscall_ns);
/*
 * What a trace keeps of an event beside struct ev, for replaying threads
 * in the recorded order where it matters.
 */
struct tr_meta {
	uint64_t at;   /* recorded start time, ns from the start of the trace (0: unknown) */
	uint32_t asid; /* the thread's address space from this event on (0: unchanged) */
	bool sync;     /* before this event, the other threads of the address space must have run every event recorded before `at` */
	uint64_t line; /* the line of the recording (perf or strace text) the event comes from (0: unknown) */
};

/* tr_write: append one event of thread tid (m may be NULL: same time as its last event, no sync). -1 on an I/O error. */
int tr_write(struct tr_writer *w, uint32_t tid, const struct ev *e, const struct tr_meta *m);
/*
 * tr_writer_close: check the header (every thread that has events is
 * declared), write it and the footer, commit the file and free w. -1 with
 * a message on error (the destination is then as it was before).
 */
int tr_writer_close(struct tr_writer *w, char *err, size_t errlen);
/* tr_writer_error: if a write failed: "PATH: write error: reason" into err, and -1; else 0. */
int tr_writer_error(const struct tr_writer *w, char *err, size_t errlen);
/* tr_writer_abort: free w and write nothing (the destination stays as it was). */
void tr_writer_abort(struct tr_writer *w);

/* ---- reading the binary form ---- */

struct tr_reader;

/* tr_is_binary: whether path holds a binary trace of any version (by its first bytes; it may still be corrupt). */
bool tr_is_binary(const char *path);
/*
 * tr_open: open a binary trace: its prefix, footer and header are read and
 * checked. If only_tid is not 0, tr_next skips every other thread's events
 * (their blocks' checksums are still checked). NULL with "FILE: reason" in
 * err; reasons about the file's content name a byte offset and an event.
 */
struct tr_reader *tr_open(const char *path, uint32_t only_tid, char *err, size_t errlen);
/*
 * tr_open_checked: tr_open (every thread) and then every event read with
 * every check: what each command does before it uses a trace, so that a
 * corrupt one is refused before anything is simulated or written. The
 * reader is returned at the end (its header stays valid), or NULL with the
 * first problem and its position in err.
 */
struct tr_reader *tr_open_checked(const char *path, char *err, size_t errlen);
const struct tr_header *tr_reader_header(const struct tr_reader *r);
/* tr_next: 1 with the next event in *e (e->tid set) and *m (may be NULL), 0 at the end, -1 on malformed input (tr_error). */
int tr_next(struct tr_reader *r, struct ev *e, struct tr_meta *m);
const char *tr_error(const struct tr_reader *r);
void tr_close(struct tr_reader *r);

/*
 * tr_check_event: whether an event is one a trace may hold (known kind and
 * flags, ranges the executor accepts, files and threads in the header).
 * NULL, or the reason.
 */
const char *tr_check_event(const struct tr_header *h, uint32_t tid, const struct ev *e);

/* ---- per-thread event sources for the executor ---- */

/*
 * struct tr_replay: what the event sources of one replay share: the
 * trace's path and a board where each thread publishes the recorded time
 * of its next event and its address space. A source holds back an event
 * marked sync until the other threads of its address space have run every
 * event recorded before it (meanwhile the thread spins in simulated time).
 */
struct tr_replay;

struct tr_replay_stats {
	uint64_t events;	/* trace events handed to the executor */
	uint64_t faults;	/* of which accesses */
	uint64_t sync_waits;	/* spins while waiting for other threads */
	uint64_t sync_timeouts; /* events that stopped waiting after TR_SYNC_LIMIT_NS (inconsistent times) */
};

#define TR_SYNC_LIMIT_NS (60ull * 1000000000ull) /* simulated wait after which a sync gives up */

/*
 * tr_replay_judge_on: judge every event (tr_replay_judge): results
 * compared fully (errno; the mapping an address names, in det mode:
 * inspect), `keep` mismatches kept with their position and explanation,
 * call latencies sampled (recorded minus overhead_ns; simulated cycles at
 * ghz). Call before the replay runs.
 */
void tr_replay_judge_on(struct tr_replay *rp, bool inspect, uint64_t keep, double ghz, uint64_t overhead_ns);
/* tr_replay_judge: the executor's judge hook (struct ex.judge, ctx the replay). */
int tr_replay_judge(void *ctx, struct mmu_cpu *cpu, struct vm_as *as, const struct ev *e, uint64_t addr, long r,
		    cycles_t start);
/* tr_replay_jd: the replay's judge (traces/judge.h), or NULL. */
struct jd *tr_replay_jd(const struct tr_replay *rp);

/* tr_replay_new: the shared state for replaying the trace at path, whose header is h. */
struct tr_replay *tr_replay_new(const char *path, const struct tr_header *h);
void tr_replay_free(struct tr_replay *rp);
void tr_replay_stats(const struct tr_replay *rp, struct tr_replay_stats *out);

/*
 * tr_src_open: the events of thread tid, as an ev_src (each source is its
 * own streaming reader of the file). Never NULL: a source that cannot open
 * ends at once with the reason in its err.
 */
struct ev_src *tr_src_open(struct tr_replay *rp, uint32_t tid);

/* ---- the text form ---- */

/* tr_text_header: write the header lines of the text form. */
void tr_text_header(FILE *f, const struct tr_header *h);
/* tr_text_event: write one event line; `last_at` is the thread's previous time (at= is written when it changes). */
void tr_text_event(FILE *f, uint32_t tid, const struct ev *e, const struct tr_meta *m, uint64_t last_at);
/*
 * tr_dump: binary trace -> text form at out ("-" or NULL: standard output),
 * written through io/out.h (whole or not at all) after the whole trace was checked
 * (tr_open_checked). 0, or -1 with a message.
 */
int tr_dump(const char *path, const char *out, char *err, size_t errlen);
/* tr_compile: text form -> binary trace at out (tr_import with the text importer). 0, or -1 with "FILE:LINE: reason". */
int tr_compile(const char *in, const char *out, char *err, size_t errlen);

/* ---- importers: every input format, in one table ---- */

/* The comment `mmsim record` puts first in perf script's text: perf's cost per recorded call, then " ns". */
#define TR_PERF_COST_NOTE "# mmsim record: perf's cost per system call (median null call): "

/* Options of the importers (apart from state). */
struct tr_import_opts {
	bool no_compute; /* drop the compute gaps between a thread's events (perf, strace) */
};

struct tr_import_stats {
	uint64_t lines, events, faults, syscalls, signals;
	uint32_t threads, processes, files;
	uint64_t absolute; /* addresses that fell in no known region */
	uint64_t dropped;  /* calls left out: file mmaps refused for their descriptor (EBADF, EACCES, ...), pkey_mprotects refused for their key */
	uint64_t duplicates; /* input lines that repeated the line before them to the letter (perf script can print an event twice) */
	uint64_t sleeps;     /* times a thread blocked off its CPU (perf switch events), written as sleep events */
	uint64_t unjudged;   /* faults whose outcome the recording does not show (the thread died before running on): not checked */
};

/* What detection sees of a file. */
struct tr_probe {
	const char *path;
	const uint8_t *head; /* its first bytes as stored (nhead of them, at most 16) */
	size_t nhead;
	const char *line; /* its first line that is not blank or a '#' comment, decompressed (.xz, .zst); NULL if none */
};

/*
 * struct tr_importer: one input format that `mmsim import` and `mmsim
 * replay` read. Each format defines one in its own file and has one entry
 * in tr_importers (traces/importers.c); nothing else names it.
 */
struct tr_importer {
	const char *name; /* as `mmsim import NAME` and replay's trace_format say it */
	const char *what; /* what it reads, for help and messages */
	bool native;	  /* the binary form itself: replayed as it is, without conversion */
	/* detect: whether the probed file is in this format. Reads nothing but the probe (native: also the file). */
	bool (*detect)(const struct tr_probe *p);
	/*
	 * import: read `in` (plain, .xz or .zst) and write its events into w,
	 * with the trace's source. w stays open (the caller closes or aborts
	 * it). 0, or -1 with the reason and its position ("FILE:LINE: reason",
	 * or for a binary trace its byte and event) in err.
	 */
	int (*import)(const char *in, struct tr_writer *w, const struct tr_import_opts *o, struct tr_import_stats *st,
		      char *err, size_t errlen);
};

/* The importers, in the order detection tries them (the first that says yes wins); NULL-terminated. */
extern const struct tr_importer *const tr_importers[];
/* tr_importer_find: the importer called name, or NULL. */
const struct tr_importer *tr_importer_find(const char *name);
/* tr_detect: the importer of the file at path, or NULL with "FILE: reason" in err. */
const struct tr_importer *tr_detect(const char *path, char *err, size_t errlen);
/*
 * tr_import: `in` through imp into a new binary trace at out (written
 * whole or not at all). st may be NULL. 0, or -1 with the reason in err.
 */
int tr_import(const struct tr_importer *imp, const char *in, const char *out, const struct tr_import_opts *o,
	      struct tr_import_stats *st, char *err, size_t errlen);

#endif
