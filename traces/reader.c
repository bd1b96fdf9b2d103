/* reader.c: the reader of the binary form: prefix, footer and header at the open, then every event (or one thread's) block by block, each block's CRC and each event checked, with memory bounded by one block. */
#include "traces/block.h"
#include "traces/codec.h"
#include "traces/util.h"
#include "sim/util.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

struct tr_reader {
	char path[1024];
	FILE *f;
	uint64_t fsize;
	struct blk_reader br;
	struct blk_footer ft;
	struct tr_header h;
	/* The block being read: its descriptor, file offset, and how far its content is read. */
	struct blk_desc d;
	uint64_t boff;
	size_t rpos;
	uint32_t bseen;	   /* records decoded from it */
	uint64_t next;	   /* file offset of the next block */
	uint32_t nblock;   /* blocks of the current kind read so far: the next one's index */
	uint64_t seen;	   /* events decoded (all threads) */
	uint32_t only;	   /* 0, or the one thread wanted */
	uint64_t only_left; /* events of that thread still to come */
	uint64_t only_at;   /* the time of its last event */
	uint64_t *counts;   /* per thread-table index (full reads only) */
	uint64_t *last_at;  /* per thread-table index (full reads only) */
	uint8_t *created;   /* per thread-table index: created by an event yet (full reads only) */
	bool done;
	char err[512];
};

/* "PATH: byte OFF, event EVENT: reason" into r->err (the first problem stays); returns -1. */
static int fail(struct tr_reader *r, uint64_t off, uint64_t event, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(struct tr_reader *r, uint64_t off, uint64_t event, const char *fmt, ...)
{
	if (r->err[0])
		return -1;
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tu_errf(r->err, sizeof(r->err), "%s: byte %llu, event %llu: %s", r->path, (unsigned long long)off,
		(unsigned long long)event, why);
	return -1;
}

/* Read the next block (of kind, which must end by limit) into r->d and r->br.raw. 0, or -1. */
static int load(struct tr_reader *r, uint8_t kind, uint64_t limit)
{
	const char *name = kind == BLK_EVENTS ? "events" : "header";
	r->boff = r->next;
	r->rpos = 0;
	r->bseen = 0;
	const char *why = blk_read(&r->br, r->f, r->next, limit, r->fsize, &r->d);
	if (why) {
		r->d.raw = 0;
		return fail(r, r->boff, r->seen + 1, "%s block %u: %s", name, r->nblock, why);
	}
	if (r->d.kind != kind || r->d.index != r->nblock)
		return fail(r, r->boff, r->seen + 1, "expected %s block %u, found %s block %u", name, r->nblock,
			    r->d.kind == BLK_EVENTS ? "events" : "header", r->d.index);
	if (r->d.first_event != (kind == BLK_EVENTS ? r->seen : 0) || (kind == BLK_HEADER && r->d.nevents))
		return fail(r, r->boff, r->seen + 1, "%s block %u says it starts at event %llu", name, r->nblock,
			    (unsigned long long)r->d.first_event + 1);
	r->next += BLK_DESC + r->d.zsize;
	r->nblock++;
	return 0;
}

/* ---- the footer and the header ---- */

/* Read and check the footer; where it is not, say where the file's structure breaks. 0, or -1. */
static int read_footer(struct tr_reader *r)
{
	uint8_t t[BLK_TRAILER];
	uint64_t foff = 0, off, ev;
	if (r->fsize >= BLK_PREFIX + BLK_FOOTER_MIN && !fseeko(r->f, (off_t)(r->fsize - BLK_TRAILER), SEEK_SET) &&
	    fread(t, 1, BLK_TRAILER, r->f) == BLK_TRAILER && !memcmp(t + 12, "MMTE", 4))
		foff = tu_get_le(t, 8);
	uint8_t fh[8]; /* the footer frame's header: it must reach exactly to the end of the file */
	if (foff < BLK_PREFIX || foff > r->fsize - BLK_FOOTER_MIN || r->fsize - foff > blk_footer_size(TR_MAX_THREADS) ||
	    fseeko(r->f, (off_t)foff, SEEK_SET) || fread(fh, 1, 8, r->f) != 8 || tu_get_le(fh, 4) != BLK_MAGIC ||
	    tu_get_le(fh + 4, 4) != r->fsize - foff - 8) {
		char why[300];
		blk_walk(r->f, r->fsize, &off, &ev, why, sizeof(why));
		return fail(r, off, ev, "%s", why);
	}
	uint64_t n = r->fsize - foff;
	uint8_t *p = xmalloc(n);
	const char *why = fseeko(r->f, (off_t)foff, SEEK_SET) || fread(p, 1, n, r->f) != n ? "read error"
											  : blk_get_footer(p, n, &r->ft);
	xfree(p);
	if (why || r->ft.foff != foff)
		return fail(r, foff, 1, "%s", why ? why : "the footer is corrupt (it gives another offset)");
	return 0;
}

/* Read n bytes of the header, from header block to header block. 0, or -1. */
static int h_read(struct tr_reader *r, void *dst, size_t n, const char *what)
{
	uint8_t *d = dst;
	while (n) {
		if (r->rpos == r->d.raw) {
			if (r->nblock == r->ft.hblocks)
				return fail(r, r->boff, 1, "the header ends inside %s", what);
			if (load(r, BLK_HEADER, r->ft.foff))
				return -1;
			continue;
		}
		size_t m = MIN(n, r->d.raw - r->rpos);
		memcpy(d, r->br.raw + r->rpos, m);
		r->rpos += m;
		d += m;
		n -= m;
	}
	return 0;
}

/* A header varint at most max. 0, or -1. */
static int h_uv(struct tr_reader *r, uint64_t *v, uint64_t max, const char *what)
{
	*v = 0;
	for (unsigned shift = 0;; shift += 7) {
		uint8_t b;
		if (h_read(r, &b, 1, what))
			return -1;
		if (shift > 63 || (shift == 63 && (b & 0x7e)))
			return fail(r, r->boff, 1, "header: malformed number (at %s)", what);
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	if (*v > max)
		return fail(r, r->boff, 1, "header: %s %llu is out of range", what, (unsigned long long)*v);
	return 0;
}

/* A header string (no NUL, at most TR_MAX_STR bytes) into *out (xmalloc'd). 0, or -1. */
static int h_str(struct tr_reader *r, char **out, const char *what)
{
	uint64_t n;
	if (h_uv(r, &n, TR_MAX_STR, what))
		return -1;
	char *s = xmalloc(n + 1);
	if (h_read(r, s, n, what)) {
		xfree(s);
		return -1;
	}
	s[n] = 0;
	if (memchr(s, 0, n)) {
		xfree(s);
		return fail(r, r->boff, 1, "header: %s holds a NUL byte", what);
	}
	*out = s;
	return 0;
}

/* One thread of the header's table. 0, or -1. */
static int h_thread(struct tr_reader *r, struct tr_thread *t)
{
	uint64_t v[6];
	static const char *const what[] = { "a thread id",  "a process id", "a parent thread",
					    "an event count", "a recorded tid", "a recorded pid" };
	for (int i = 0; i < 6; i++)
		if (h_uv(r, &v[i], i == 3 ? UINT64_MAX : UINT32_MAX, what[i]))
			return -1;
	*t = (struct tr_thread){ .tid = (uint32_t)v[0], .pid = (uint32_t)v[1], .parent = (uint32_t)v[2],
				 .events = v[3], .rtid = (uint32_t)v[4], .rpid = (uint32_t)v[5] };
	char *comm;
	if (h_str(r, &comm, "a thread name"))
		return -1;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	xfree(comm);
	return 0;
}

/* One file of the header's table. 0, or -1. */
static int h_file(struct tr_reader *r, struct tr_file *f)
{
	uint64_t id, dev;
	if (h_uv(r, &id, UINT32_MAX, "a file id") || h_uv(r, &f->size, UINT64_MAX, "a file size") ||
	    h_uv(r, &dev, UINT32_MAX, "a device") || h_uv(r, &f->ino, UINT64_MAX, "an inode"))
		return -1;
	f->id = (uint32_t)id;
	f->dev = (uint32_t)dev;
	return h_str(r, &f->name, "a file name");
}

/* The header, from its blocks; then it must agree with the footer and hold together. 0, or -1. */
static int read_header(struct tr_reader *r)
{
	struct tr_header *h = &r->h;
	uint64_t n;
	r->next = r->ft.hoff;
	r->nblock = 0;
	if (h_str(r, &h->source, "the source") || h_uv(r, &n, TR_MAX_THREADS, "the thread count"))
		return -1;
	h->threads = xzalloc(sizeof(struct tr_thread) * (n ? n : 1));
	for (; h->nthreads < n; h->nthreads++)
		if (h_thread(r, &h->threads[h->nthreads]))
			return -1;
	if (h_uv(r, &n, TR_MAX_FILES, "the file count"))
		return -1;
	h->files = xzalloc(sizeof(struct tr_file) * (n ? n : 1));
	for (; h->nfiles < n; h->nfiles++)
		if (h_file(r, &h->files[h->nfiles]))
			return -1;
	if (h_uv(r, &h->events, UINT64_MAX, "the event count"))
		return -1;
	if (h->version >= 3) {
		if (h_uv(r, &n, TR_MAX_CPUS, "the recording's CPU count") ||
		    h_uv(r, &h->syscall_ns, 1000000000, "the recording's cost per system call"))
			return -1;
		h->cpus = (uint32_t)n;
	}
	if (r->rpos != r->d.raw || r->nblock != r->ft.hblocks || r->next != r->ft.foff)
		return fail(r, r->boff, 1, "the header blocks hold more than the header");
	if (h->nthreads != r->ft.nthreads || h->events != r->ft.events)
		return fail(r, r->ft.foff, 1, "the footer counts %u threads and %llu events, the header %u and %llu",
			    r->ft.nthreads, (unsigned long long)r->ft.events, h->nthreads, (unsigned long long)h->events);
	for (uint32_t i = 0; i < h->nthreads; i++)
		if (h->threads[i].events != r->ft.counts[i])
			return fail(r, r->ft.foff, 1, "thread %u: the footer counts %llu events, the header %llu",
				    h->threads[i].tid, (unsigned long long)r->ft.counts[i],
				    (unsigned long long)h->threads[i].events);
	char why[300];
	if (tr_header_check(h, why, sizeof(why)))
		return fail(r, r->ft.hoff, 1, "header: %s", why);
	return 0;
}

/* ---- opening ---- */

/* The prefix: an mmsim trace of this version. 0, or -1. */
static int read_prefix(struct tr_reader *r)
{
	uint8_t p[BLK_PREFIX];
	size_t n = fread(p, 1, sizeof(p), r->f);
	uint32_t v = blk_get_prefix(p, n, r->f);
	if (!v)
		return fail(r, 0, 1, "not an mmsim binary trace (no \"%s\" prefix)", TR_MAGIC);
	if (v != TR_VERSION && v != 2)
		return fail(r, 0, 1,
			    "trace format version %u; this mmsim reads versions 2 and %u (checksummed blocks and a footer): "
			    "import the recording again (mmsim import), or compile its text form (mmsim trace-compile)",
			    v, TR_VERSION);
	r->h.version = v;
	return 0;
}

bool tr_is_binary(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	uint8_t p[BLK_PREFIX];
	size_t n = fread(p, 1, sizeof(p), f);
	/* Any skippable frame: a damaged prefix is still read as a trace, so that the reader says what is wrong. */
	bool yes = (n >= 4 && (tu_get_le(p, 4) & ~0xfull) == (BLK_MAGIC & ~0xfull)) || blk_get_prefix(p, n, f);
	fclose(f);
	return yes;
}

struct tr_reader *tr_open(const char *path, uint32_t only_tid, char *err, size_t errlen)
{
	struct tr_reader *r = xzalloc(sizeof(*r));
	struct stat st;
	snprintf(r->path, sizeof(r->path), "%s", path);
	blk_reader_init(&r->br);
	r->f = fopen(path, "rb");
	if (!r->f)
		tu_errf(r->err, sizeof(r->err), "%s: cannot open: %s", path, strerror(errno));
	else if (fstat(fileno(r->f), &st) || !S_ISREG(st.st_mode))
		tu_errf(r->err, sizeof(r->err), "%s: not a regular file (a binary trace is read with seeks)", path);
	if (r->err[0])
		goto fail;
	r->fsize = (uint64_t)st.st_size;
	if (read_prefix(r) || read_footer(r) || read_header(r))
		goto fail;
	/* The events: from the first block after the prefix to the header. */
	r->next = BLK_PREFIX;
	r->nblock = 0;
	r->d = (struct blk_desc){ 0 };
	r->rpos = r->bseen = 0;
	r->only = only_tid;
	if (only_tid) {
		const struct tr_thread *t = tr_thread_find(&r->h, only_tid);
		if (!t) {
			tu_errf(r->err, sizeof(r->err), "%s: thread %u is not in the trace", path, only_tid);
			goto fail;
		}
		r->only_left = t->events;
	} else {
		r->counts = xzalloc(sizeof(uint64_t) * (r->h.nthreads + 1));
		r->last_at = xzalloc(sizeof(uint64_t) * (r->h.nthreads + 1));
		r->created = xzalloc(r->h.nthreads + 1);
	}
	return r;
fail:
	tu_errf(err, errlen, "%s", r->err);
	tr_close(r);
	return NULL;
}

struct tr_reader *tr_open_checked(const char *path, char *err, size_t errlen)
{
	struct tr_reader *r = tr_open(path, 0, err, errlen);
	if (!r)
		return NULL;
	struct ev e;
	int k;
	while ((k = tr_next(r, &e, NULL)) == 1)
		;
	if (k == 0)
		return r;
	tu_errf(err, errlen, "%s", tr_error(r));
	tr_close(r);
	return NULL;
}

const struct tr_header *tr_reader_header(const struct tr_reader *r) { return &r->h; }
const char *tr_error(const struct tr_reader *r) { return r->err[0] ? r->err : NULL; }

void tr_close(struct tr_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	blk_reader_free(&r->br);
	xfree(r->ft.counts);
	tr_header_free(&r->h);
	xfree(r->counts);
	xfree(r->last_at);
	xfree(r->created);
	xfree(r);
}

/* ---- events ---- */

/* Full reads: a thread may be created once, by its parent, and have no more events than the header says. */
static const char *track(struct tr_reader *r, uint32_t tid, const struct ev *e)
{
	const struct tr_thread *t = tr_thread_find(&r->h, tid);
	uint32_t i = (uint32_t)(t - r->h.threads);
	if (++r->counts[i] > t->events)
		return "more events for this thread than the header says";
	if (e->kind == EV_THREAD || e->kind == EV_FORK) {
		uint32_t c = (uint32_t)(tr_thread_find(&r->h, e->tid2) - r->h.threads);
		if (r->created[c])
			return "creates a thread that was already created";
		r->created[c] = 1;
	}
	return NULL;
}

/* After the last events block: it ends where the header starts, and every count adds up. 0, or -1. */
static int end(struct tr_reader *r)
{
	uint64_t ev = r->seen + 1;
	if (r->next != r->ft.hoff)
		return fail(r, r->next, ev, "the events blocks end here, but the header starts at byte %llu",
			    (unsigned long long)r->ft.hoff);
	if (r->seen != r->ft.events)
		return fail(r, r->next, ev, "the blocks hold %llu events, the footer says %llu", (unsigned long long)r->seen,
			    (unsigned long long)r->ft.events);
	for (uint32_t i = 0; !r->only && i < r->h.nthreads; i++)
		if (r->counts[i] != r->h.threads[i].events)
			return fail(r, r->next, ev, "thread %u has %llu events, the header says %llu", r->h.threads[i].tid,
				    (unsigned long long)r->counts[i], (unsigned long long)r->h.threads[i].events);
	if (r->only && r->only_left)
		return fail(r, r->next, ev, "thread %u has fewer events than the header says", r->only);
	r->done = true;
	return 0;
}

/* Decode and check the record of len bytes at rec (event r->seen). 1 with it in *e and *meta, 0 if another thread's, -1. */
static int record(struct tr_reader *r, const uint8_t *rec, size_t len, struct ev *e, struct tr_meta *meta)
{
	uint32_t tid, t32 = codec_peek_tid(rec, len);
	if (r->only && t32 != r->only)
		return 0;
	const struct tr_thread *th = t32 ? tr_thread_find(&r->h, t32) : NULL;
	uint64_t *lastp = r->only ? &r->only_at : th ? &r->last_at[th - r->h.threads] : NULL;
	meta->at = lastp ? *lastp : 0;
	const char *why = codec_decode_event(rec, len, &tid, e, meta);
	if (!why && lastp)
		*lastp = meta->at;
	if (!why)
		why = tr_check_event(&r->h, tid, e);
	if (!why && !r->only)
		why = track(r, tid, e);
	if (why)
		return fail(r, r->boff, r->seen, "events block %u, +%zu: %s", r->d.index,
			    (size_t)(rec - r->br.raw), why);
	if (r->only)
		r->only_left--;
	return 1;
}

int tr_next(struct tr_reader *r, struct ev *e, struct tr_meta *meta)
{
	struct tr_meta mbuf;
	if (!meta)
		meta = &mbuf;
	if (r->err[0])
		return -1;
	for (;;) {
		if (r->done || (r->only && !r->only_left)) {
			r->done = true;
			return 0;
		}
		if (r->rpos == r->d.raw) {
			if (r->bseen != r->d.nevents)
				return fail(r, r->boff, r->seen + 1, "events block %u holds %u events, its descriptor says %u",
					    r->d.index, r->bseen, r->d.nevents);
			if (r->nblock == r->ft.eblocks)
				return end(r);
			if (load(r, BLK_EVENTS, r->ft.hoff))
				return -1;
			continue;
		}
		const uint8_t *p = r->br.raw + r->rpos, *lim = r->br.raw + r->d.raw;
		uint64_t len;
		if (!codec_get_uv(&p, lim, &len) || !len || len > TR_MAX_RECORD || len > (uint64_t)(lim - p))
			return fail(r, r->boff, r->seen + 1, "events block %u, +%zu: malformed record length", r->d.index,
				    r->rpos);
		r->rpos = (size_t)(p + len - r->br.raw);
		r->bseen++;
		if (++r->seen > r->ft.events)
			return fail(r, r->boff, r->seen, "more events than the footer says (%llu)",
				    (unsigned long long)r->ft.events);
		int k = record(r, p, (size_t)len, e, meta);
		if (k)
			return k;
	}
}
