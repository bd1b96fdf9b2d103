/* header.c: a trace's header (threads and files) and the checks every reader and writer applies to it and to each event. */
#include "traces/trace.h"
#include "traces/util.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void tr_header_free(struct tr_header *h)
{
	for (uint32_t i = 0; i < h->nfiles; i++)
		xfree(h->files[i].name);
	xfree(h->files);
	xfree(h->threads);
	xfree(h->source);
	memset(h, 0, sizeof(*h));
}

/*
 * The entry of a table (n entries of size bytes) whose entries start with
 * their id: entry id - 1 when ids run 1..n in order (as importers number
 * them), else found by a search. NULL if none.
 */
static const void *find_id(const void *table, uint32_t n, size_t size, uint32_t id)
{
	const char *t = table;
	if (id && id <= n && *(const uint32_t *)(t + (id - 1) * size) == id)
		return t + (id - 1) * size;
	for (uint32_t i = 0; i < n; i++)
		if (*(const uint32_t *)(t + i * size) == id)
			return t + i * size;
	return NULL;
}

_Static_assert(offsetof(struct tr_thread, tid) == 0 && offsetof(struct tr_file, id) == 0, "find_id: ids come first");

const struct tr_thread *tr_thread_find(const struct tr_header *h, uint32_t tid)
{
	return find_id(h->threads, h->nthreads, sizeof(struct tr_thread), tid);
}

const struct tr_file *tr_file_find(const struct tr_header *h, uint32_t id)
{
	return find_id(h->files, h->nfiles, sizeof(struct tr_file), id);
}

/* qsort order of uint32_t. */
static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sort ids[0..n) and count the distinct values; *dup is a value that occurs twice (0 if none). */
static uint32_t distinct(uint32_t *ids, uint32_t n, uint32_t *dup)
{
	qsort(ids, n, sizeof(*ids), cmp_u32);
	uint32_t k = n ? 1 : 0;
	*dup = 0;
	for (uint32_t i = 1; i < n; i++) {
		if (ids[i] == ids[i - 1])
			*dup = ids[i];
		else
			k++;
	}
	return k;
}

/* The threads' own checks (ids, parents, at least one initial thread); their ids go to ids. 0, or -1. */
static int check_threads(const struct tr_header *h, uint32_t *ids, char *err, size_t errlen)
{
	uint64_t sum = 0;
	bool initial = false;
	for (uint32_t i = 0; i < h->nthreads; i++) {
		const struct tr_thread *t = &h->threads[i];
		if (!t->tid || !t->pid) {
			tu_errf(err, errlen, "thread %u: thread and process ids must not be 0", t->tid);
			return -1;
		}
		if (t->parent && !tr_thread_find(h, t->parent)) {
			tu_errf(err, errlen, "thread %u: its parent thread %u is not in the trace", t->tid, t->parent);
			return -1;
		}
		if (t->parent == t->tid) {
			tu_errf(err, errlen, "thread %u is its own parent", t->tid);
			return -1;
		}
		initial |= !t->parent;
		sum += t->events;
		ids[i] = t->tid;
	}
	if (h->nthreads && !initial) {
		tu_errf(err, errlen, "no initial thread (every thread has a parent)");
		return -1;
	}
	if (sum != h->events) {
		tu_errf(err, errlen, "the threads' event counts add up to %llu, not %llu", (unsigned long long)sum,
			(unsigned long long)h->events);
		return -1;
	}
	return 0;
}

int tr_header_check(const struct tr_header *h, char *err, size_t errlen)
{
	if (h->nthreads > TR_MAX_THREADS || h->nfiles > TR_MAX_FILES) {
		tu_errf(err, errlen, "too many threads or files");
		return -1;
	}
	uint32_t *ids = xmalloc(sizeof(uint32_t) * (h->nthreads + h->nfiles + 1)), dup;
	int rc = -1;
	if (check_threads(h, ids, err, errlen))
		goto out;
	distinct(ids, h->nthreads, &dup);
	if (dup) {
		tu_errf(err, errlen, "thread %u is declared twice", dup);
		goto out;
	}
	for (uint32_t i = 0; i < h->nthreads; i++)
		ids[i] = h->threads[i].pid;
	uint32_t procs = distinct(ids, h->nthreads, &dup);
	if (procs > TR_MAX_PROCS) {
		tu_errf(err, errlen, "%u processes: the executor runs at most %u", procs, TR_MAX_PROCS);
		goto out;
	}
	for (uint32_t i = 0; i < h->nfiles; i++) {
		const struct tr_file *f = &h->files[i];
		if (!f->id) {
			tu_errf(err, errlen, "file id 0 is reserved");
			goto out;
		}
		if (f->size > TR_MAX_FILE_SIZE) {
			tu_errf(err, errlen, "file %u: size %llu is larger than %llu", f->id, (unsigned long long)f->size,
				(unsigned long long)TR_MAX_FILE_SIZE);
			goto out;
		}
		ids[i] = f->id;
	}
	distinct(ids, h->nfiles, &dup);
	if (dup) {
		tu_errf(err, errlen, "file %u is declared twice", dup);
		goto out;
	}
	rc = 0;
out:
	xfree(ids);
	return rc;
}

/* The checks of thread and fork events: the header lists the new thread as the creator's child. */
static const char *check_create(const struct tr_header *h, const struct tr_thread *t, const struct ev *e)
{
	const struct tr_thread *c = tr_thread_find(h, e->tid2);
	if (!c || c->parent != t->tid)
		return "creates a thread the header does not list as its child";
	if (e->kind == EV_THREAD && c->pid != t->pid)
		return "a new thread in another process (use fork)";
	if (e->kind == EV_FORK && (c->pid != e->pid2 || e->pid2 == t->pid))
		return "fork: the child's process id does not match the header";
	return NULL;
}

const char *tr_check_event(const struct tr_header *h, uint32_t tid, const struct ev *e)
{
	const struct tr_thread *t = tr_thread_find(h, tid);
	if (!t)
		return "its thread is not in the header";
	if (e->kind == EV_END || e->kind >= EV_KINDS)
		return "unknown event kind";
	if (e->kind == EV_BARRIER)
		return "barrier events belong to synthetic workloads, not traces";
	if (e->fl & ~(EVF_OP | EVF_REGION | EVF_REGION2 | EVF_CHECK | EVF_NS | EVF_SLEEP))
		return "unknown event flags";
	if ((e->fl & EVF_REGION) && (e->kind < EV_MMAP || e->kind > EV_ACCESS) && e->kind != EV_MLOCK &&
	    e->kind != EV_MUNLOCK && e->kind != EV_MSYNC && e->kind != EV_MINCORE)
		return "a region-relative address on an event without an address";
	if ((e->fl & EVF_REGION) && !e->region)
		return "region 0 (regions are numbered from 1)";
	if ((e->fl & EVF_REGION2) && (e->kind != EV_MREMAP || !e->region2))
		return "a second region only belongs to mremap";
	if ((e->fl & (EVF_NS | EVF_SLEEP)) && e->kind != EV_COMPUTE)
		return "nanoseconds and sleep only belong to compute";
	if (e->new_region == EV_REGION_BRK)
		return "the brk region cannot be redefined";
	switch (e->kind) {
	case EV_MMAP:
		if (!(e->flags & VM_MAP_ANONYMOUS) && !tr_file_find(h, e->file))
			return "a file mapping of a file that is not in the header";
		break;
	case EV_FTRUNCATE:
	case EV_FALLOCATE:
		if (!tr_file_find(h, e->file))
			return "a file call on a file that is not in the header";
		if (e->len > TR_MAX_FILE_SIZE || e->off > TR_MAX_FILE_SIZE - e->len)
			return "a file size beyond 64 GiB";
		break;
	case EV_ACCESS:
		if (e->acc > 2)
			return "access type is not r, w or x";
		break;
	case EV_COMPUTE:
		if (e->cycles > TR_MAX_COMPUTE)
			return "compute gap too long";
		break;
	case EV_THREAD:
	case EV_FORK: return check_create(h, t, e);
	}
	return NULL;
}
