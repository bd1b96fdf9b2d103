/* reader.c: the streaming reader of the binary form: the header, then every event (or one thread's), each checked, with memory bounded by one zstd window. */
#include "traces/codec.h"
#include "traces/util.h"
#include "sim/util.h"

#include <errno.h>
#include <string.h>
#include <zstd.h>

#define ZWINDOW_LOG_MAX 23 /* readers refuse frames that want more than 8 MiB */

/* A byte stream out of the zstd-compressed file. */
struct zin {
	FILE *f;
	ZSTD_DStream *ds;
	uint8_t *ib, *ob;
	size_t ipos, ilen, icap, opos, olen, ocap;
	bool ieof, frame_open;
	uint64_t consumed; /* decompressed bytes handed out */
};

struct tr_reader {
	char path[1024];
	struct zin z;
	struct tr_header h;
	uint32_t only;	     /* 0, or the one thread wanted */
	uint64_t only_left;  /* events of that thread still to come */
	uint64_t seen;	     /* events decoded (all threads) */
	uint64_t *counts;    /* per thread-table index (full reads only) */
	uint64_t *last_at;   /* per thread-table index (full reads only) */
	uint64_t only_at;    /* the time of the one thread's last event */
	uint8_t *created;    /* per thread-table index: created by an event yet (full reads only) */
	bool done;
	char err[512];
};

/* Refill the output buffer: 1 more bytes, 0 at a clean end of the input, -1 error (in r->err). */
static int z_fill(struct tr_reader *r)
{
	struct zin *z = &r->z;
	for (;;) {
		if (z->ipos == z->ilen && !z->ieof) {
			z->ilen = fread(z->ib, 1, z->icap, z->f);
			z->ipos = 0;
			if (!z->ilen) {
				z->ieof = true;
				if (ferror(z->f)) {
					tu_errf(r->err, sizeof(r->err), "%s: read error", r->path);
					return -1;
				}
			}
		}
		if (z->ieof && z->ipos == z->ilen && !z->frame_open)
			return 0;
		ZSTD_inBuffer in = { z->ib, z->ilen, z->ipos };
		ZSTD_outBuffer out = { z->ob, z->ocap, 0 };
		size_t rc = ZSTD_decompressStream(z->ds, &out, &in);
		if (ZSTD_isError(rc)) {
			tu_errf(r->err, sizeof(r->err), "%s: corrupt compressed data: %s", r->path, ZSTD_getErrorName(rc));
			return -1;
		}
		z->frame_open = rc != 0;
		bool moved = in.pos != z->ipos || out.pos;
		z->ipos = in.pos;
		z->opos = 0;
		z->olen = out.pos;
		if (out.pos)
			return 1;
		if (!moved && z->ieof && z->ipos == z->ilen) {
			tu_errf(r->err, sizeof(r->err), "%s: cut short (the compressed data ends inside a frame)", r->path);
			return -1;
		}
	}
}

/* Read n bytes; 1 done, 0 the data ended first, -1 error. */
static int z_read(struct tr_reader *r, void *dst, size_t n)
{
	uint8_t *d = dst;
	while (n) {
		if (r->z.opos == r->z.olen) {
			int k = z_fill(r);
			if (k <= 0)
				return k;
		}
		size_t m = MIN(n, r->z.olen - r->z.opos);
		memcpy(d, r->z.ob + r->z.opos, m);
		r->z.opos += m;
		r->z.consumed += m;
		d += m;
		n -= m;
	}
	return 1;
}

static int z_byte(struct tr_reader *r, uint8_t *b)
{
	if (likely(r->z.opos < r->z.olen)) {
		*b = r->z.ob[r->z.opos++];
		r->z.consumed++;
		return 1;
	}
	return z_read(r, b, 1);
}

/* A varint from the stream: 1, 0 at the end of data, -1 error or malformed. */
static int z_uv(struct tr_reader *r, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;
		int k = z_byte(r, &b);
		if (k <= 0)
			return shift ? (k < 0 ? -1 : -2) : k;
		if (shift == 63 && (b & 0x7e))
			return -3;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 1;
		}
	}
	return -3;
}

static bool z_open(struct tr_reader *r, const char *path)
{
	r->z.f = fopen(path, "rb");
	if (!r->z.f) {
		tu_errf(r->err, sizeof(r->err), "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	r->z.ds = ZSTD_createDStream();
	ZSTD_DCtx_setParameter(r->z.ds, ZSTD_d_windowLogMax, ZWINDOW_LOG_MAX);
	r->z.icap = ZSTD_DStreamInSize();
	r->z.ocap = ZSTD_DStreamOutSize();
	r->z.ib = xmalloc(r->z.icap);
	r->z.ob = xmalloc(r->z.ocap);
	return true;
}

static void z_close(struct zin *z)
{
	if (z->f)
		fclose(z->f);
	ZSTD_freeDStream(z->ds);
	xfree(z->ib);
	xfree(z->ob);
	memset(z, 0, sizeof(*z));
}

bool tr_is_binary(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	uint8_t m[4];
	bool zstd = fread(m, 1, 4, f) == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd;
	fclose(f);
	if (!zstd)
		return false;
	struct tr_reader *r = xzalloc(sizeof(*r));
	char magic[8];
	bool yes = z_open(r, path) && z_read(r, magic, 8) == 1 && !memcmp(magic, TR_MAGIC, 8);
	z_close(&r->z);
	xfree(r);
	return yes;
}

/* Header reading helpers: -1 (with r->err) on any failure. */
static int h_uv(struct tr_reader *r, uint64_t *v, uint64_t max, const char *what)
{
	int k = z_uv(r, v);
	if (k == 1 && *v <= max)
		return 0;
	if (k == -1)
		return -1;
	if (k == 1)
		tu_errf(r->err, sizeof(r->err), "%s: header: %s %llu is out of range", r->path, what,
			(unsigned long long)*v);
	else if (k == 0 || k == -2)
		tu_errf(r->err, sizeof(r->err), "%s: cut short (in the header, at %s)", r->path, what);
	else
		tu_errf(r->err, sizeof(r->err), "%s: header: malformed number (at %s)", r->path, what);
	return -1;
}

static int h_str(struct tr_reader *r, char **out, const char *what)
{
	uint64_t n;
	if (h_uv(r, &n, TR_MAX_STR, what))
		return -1;
	char *s = xmalloc(n + 1);
	int k = z_read(r, s, n);
	if (k != 1) {
		xfree(s);
		if (k == 0)
			tu_errf(r->err, sizeof(r->err), "%s: cut short (in the header, at %s)", r->path, what);
		return -1;
	}
	s[n] = 0;
	if (memchr(s, 0, n)) {
		xfree(s);
		tu_errf(r->err, sizeof(r->err), "%s: header: %s holds a NUL byte", r->path, what);
		return -1;
	}
	*out = s;
	return 0;
}

static int read_header(struct tr_reader *r)
{
	uint8_t m[12];
	int k = z_read(r, m, 12);
	if (k < 0)
		return -1;
	if (k == 0 || memcmp(m, TR_MAGIC, 8)) {
		tu_errf(r->err, sizeof(r->err), "%s: not an mmsim binary trace (no \"%s\" header)", r->path, TR_MAGIC);
		return -1;
	}
	uint32_t ver = (uint32_t)m[8] | (uint32_t)m[9] << 8 | (uint32_t)m[10] << 16 | (uint32_t)m[11] << 24;
	if (ver != TR_VERSION) {
		tu_errf(r->err, sizeof(r->err),
			"%s: trace format version %u; this mmsim reads version %u (import the recording again)", r->path,
			ver, TR_VERSION);
		return -1;
	}
	struct tr_header *h = &r->h;
	h->version = ver;
	uint64_t v, n;
	if (h_str(r, &h->source, "the source") || h_uv(r, &n, TR_MAX_THREADS, "the thread count"))
		return -1;
	h->threads = xzalloc(sizeof(struct tr_thread) * (n ? n : 1));
	for (uint64_t i = 0; i < n; i++) {
		struct tr_thread *t = &h->threads[i];
		char *comm = NULL;
		h->nthreads = (uint32_t)i + 1;
		if (h_uv(r, &v, UINT32_MAX, "a thread id"))
			return -1;
		t->tid = (uint32_t)v;
		if (h_uv(r, &v, UINT32_MAX, "a process id"))
			return -1;
		t->pid = (uint32_t)v;
		if (h_uv(r, &v, UINT32_MAX, "a parent thread"))
			return -1;
		t->parent = (uint32_t)v;
		if (h_uv(r, &t->events, UINT64_MAX, "an event count") || h_uv(r, &v, UINT32_MAX, "a recorded tid"))
			return -1;
		t->rtid = (uint32_t)v;
		if (h_uv(r, &v, UINT32_MAX, "a recorded pid"))
			return -1;
		t->rpid = (uint32_t)v;
		if (h_str(r, &comm, "a thread name"))
			return -1;
		snprintf(t->comm, sizeof(t->comm), "%s", comm);
		xfree(comm);
	}
	if (h_uv(r, &n, TR_MAX_FILES, "the file count"))
		return -1;
	h->files = xzalloc(sizeof(struct tr_file) * (n ? n : 1));
	for (uint64_t i = 0; i < n; i++) {
		struct tr_file *f = &h->files[i];
		if (h_uv(r, &v, UINT32_MAX, "a file id"))
			return -1;
		f->id = (uint32_t)v;
		if (h_uv(r, &f->size, UINT64_MAX, "a file size") || h_uv(r, &v, UINT32_MAX, "a device"))
			return -1;
		f->dev = (uint32_t)v;
		if (h_uv(r, &f->ino, UINT64_MAX, "an inode") || h_str(r, &f->name, "a file name"))
			return -1;
		h->nfiles = (uint32_t)i + 1;
	}
	if (h_uv(r, &h->events, UINT64_MAX, "the event count"))
		return -1;
	char why[300];
	if (tr_header_check(h, why, sizeof(why))) {
		tu_errf(r->err, sizeof(r->err), "%s: header: %s", r->path, why);
		return -1;
	}
	return 0;
}

struct tr_reader *tr_open(const char *path, uint32_t only_tid, char *err, size_t errlen)
{
	struct tr_reader *r = xzalloc(sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (!z_open(r, path) || read_header(r))
		goto fail;
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

const struct tr_header *tr_reader_header(const struct tr_reader *r) { return &r->h; }
const char *tr_error(const struct tr_reader *r) { return r->err[0] ? r->err : NULL; }

void tr_close(struct tr_reader *r)
{
	if (!r)
		return;
	z_close(&r->z);
	tr_header_free(&r->h);
	xfree(r->counts);
	xfree(r->last_at);
	xfree(r->created);
	xfree(r);
}

/* Full reads: a thread may be created once, by its parent, and run events only after that. */
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
		uint64_t at = r->z.consumed, len;
		int k = z_uv(r, &len);
		if (k == 0 || k == -2) {
			tu_errf(r->err, sizeof(r->err), "%s: cut short after %llu events (no end record)", r->path,
				(unsigned long long)r->seen);
			return -1;
		}
		if (k < 0 || len > TR_MAX_RECORD) {
			if (!r->err[0])
				tu_errf(r->err, sizeof(r->err), "%s: event %llu (byte %llu): malformed record length",
					r->path, (unsigned long long)r->seen + 1, (unsigned long long)at);
			return -1;
		}
		if (len == 0) {
			uint64_t total;
			uint8_t extra;
			if (z_uv(r, &total) != 1 || total != r->seen || total != r->h.events) {
				if (!r->err[0])
					tu_errf(r->err, sizeof(r->err),
						"%s: the end record does not match the %llu events read", r->path,
						(unsigned long long)r->seen);
				return -1;
			}
			if (!r->only) {
				int x = z_byte(r, &extra);
				if (x != 0) {
					if (x > 0)
						tu_errf(r->err, sizeof(r->err), "%s: data after the end record", r->path);
					return -1;
				}
				for (uint32_t i = 0; i < r->h.nthreads; i++)
					if (r->counts[i] != r->h.threads[i].events) {
						tu_errf(r->err, sizeof(r->err),
							"%s: thread %u has %llu events, the header says %llu", r->path,
							r->h.threads[i].tid, (unsigned long long)r->counts[i],
							(unsigned long long)r->h.threads[i].events);
						return -1;
					}
			} else if (r->only_left) {
				tu_errf(r->err, sizeof(r->err), "%s: thread %u has fewer events than the header says",
					r->path, r->only);
				return -1;
			}
			r->done = true;
			return 0;
		}
		uint8_t rec[TR_MAX_RECORD];
		k = z_read(r, rec, len);
		if (k != 1) {
			if (k == 0)
				tu_errf(r->err, sizeof(r->err), "%s: cut short after %llu events (inside a record)",
					r->path, (unsigned long long)r->seen);
			return -1;
		}
		r->seen++;
		if (r->seen > r->h.events) {
			tu_errf(r->err, sizeof(r->err), "%s: more events than the header says (%llu)", r->path,
				(unsigned long long)r->h.events);
			return -1;
		}
		uint32_t tid;
		/* The thread's previous time: peek the thread id first. */
		uint32_t t32 = codec_peek_tid(rec, len);
		const struct tr_thread *th = t32 ? tr_thread_find(&r->h, t32) : NULL;
		if (r->only && t32 != r->only)
			continue;
		uint64_t *lastp = r->only ? &r->only_at : th ? &r->last_at[th - r->h.threads] : NULL;
		meta->at = lastp ? *lastp : 0;
		const char *why = codec_decode_event(rec, len, &tid, e, meta);
		if (!why && lastp)
			*lastp = meta->at;
		if (!why)
			why = tr_check_event(&r->h, tid, e);
		if (!why && !r->only)
			why = track(r, tid, e);
		if (why) {
			tu_errf(r->err, sizeof(r->err), "%s: event %llu (byte %llu): %s", r->path,
				(unsigned long long)r->seen, (unsigned long long)at, why);
			return -1;
		}
		if (r->only)
			r->only_left--;
		return 1;
	}
}
