/* format.c: the binary trace form: header and event encoding, the streaming zstd writer and reader, event checks. */
#include "traces/trace.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define ZLEVEL 3
#define ZWINDOW_LOG 18	    /* 256 KiB: what each per-thread reader must hold */
#define ZWINDOW_LOG_MAX 23  /* readers refuse frames that want more than 8 MiB */
#define WBUF (64u << 10)

void tr_errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- varints (LEB128) and zigzag ---- */

static size_t put_uv(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static uint64_t zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzz(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* Parse a varint from [*p, end). false if it runs past the end or past 64 bits. */
static bool get_uv(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return false;
		uint8_t b = *(*p)++;
		if (shift == 63 && (b & 0x7e))
			return false;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* ---- event records ---- */

/* The optional fields of an event, in the order of the presence mask. */
enum {
	F_ACC, F_REGION, F_REGION2, F_NEW_REGION, F_TID2, F_PID2, F_FILE, F_PROT, F_FLAGS, F_ADVICE,
	F_ADDR, F_ADDR2, F_LEN, F_LEN2, F_OFF, F_HINT, F_RET, F_CYCLES, F_COUNT
};

static uint64_t field_get(const struct ev *e, int i)
{
	switch (i) {
	case F_ACC: return e->acc;
	case F_REGION: return e->region;
	case F_REGION2: return e->region2;
	case F_NEW_REGION: return e->new_region;
	case F_TID2: return e->tid2;
	case F_PID2: return e->pid2;
	case F_FILE: return e->file;
	case F_PROT: return zz(e->prot);
	case F_FLAGS: return zz(e->flags);
	case F_ADVICE: return zz(e->advice);
	case F_ADDR: return e->addr;
	case F_ADDR2: return e->addr2;
	case F_LEN: return e->len;
	case F_LEN2: return e->len2;
	case F_OFF: return e->off;
	case F_HINT: return e->hint;
	case F_RET: return zz(e->ret);
	default: return e->cycles;
	}
}

/* Store field i; false if the value does not fit the field. */
static bool field_set(struct ev *e, int i, uint64_t v)
{
	int64_t s;
	switch (i) {
	case F_ACC:
		if (v > 255)
			return false;
		e->acc = (uint8_t)v;
		return true;
	case F_REGION:
	case F_REGION2:
	case F_NEW_REGION:
	case F_TID2:
	case F_PID2:
	case F_FILE:
		if (v > UINT32_MAX)
			return false;
		if (i == F_REGION)
			e->region = (uint32_t)v;
		else if (i == F_REGION2)
			e->region2 = (uint32_t)v;
		else if (i == F_NEW_REGION)
			e->new_region = (uint32_t)v;
		else if (i == F_TID2)
			e->tid2 = (uint32_t)v;
		else if (i == F_PID2)
			e->pid2 = (uint32_t)v;
		else
			e->file = (uint32_t)v;
		return true;
	case F_PROT:
	case F_FLAGS:
	case F_ADVICE:
		s = unzz(v);
		if (s < INT32_MIN || s > INT32_MAX)
			return false;
		if (i == F_PROT)
			e->prot = (int32_t)s;
		else if (i == F_FLAGS)
			e->flags = (int32_t)s;
		else
			e->advice = (int32_t)s;
		return true;
	case F_ADDR: e->addr = v; return true;
	case F_ADDR2: e->addr2 = v; return true;
	case F_LEN: e->len = v; return true;
	case F_LEN2: e->len2 = v; return true;
	case F_OFF: e->off = v; return true;
	case F_HINT: e->hint = v; return true;
	case F_RET: e->ret = unzz(v); return true;
	default: e->cycles = v; return true;
	}
}

/* Bits of a record's extra mask: what follows the event's fields. */
#define X_SYNC 1u
#define X_AT 2u	  /* zigzag(at - the thread's previous at) */
#define X_ASID 4u /* the address space id */

/* Encode an event (without its length prefix) into p (TR_MAX_RECORD bytes); returns the length. */
static size_t ev_encode(uint8_t *p, uint32_t tid, const struct ev *e, const struct tr_meta *m, uint64_t last_at)
{
	size_t n = put_uv(p, tid);
	p[n++] = e->kind;
	n += put_uv(p + n, e->fl);
	uint64_t mask = 0;
	for (int i = 0; i < F_COUNT; i++)
		if (field_get(e, i))
			mask |= 1ull << i;
	n += put_uv(p + n, mask);
	for (int i = 0; i < F_COUNT; i++)
		if (mask & (1ull << i))
			n += put_uv(p + n, field_get(e, i));
	uint32_t x = 0;
	if (m && m->sync)
		x |= X_SYNC;
	if (m && m->at != last_at)
		x |= X_AT;
	if (m && m->asid)
		x |= X_ASID;
	n += put_uv(p + n, x);
	if (x & X_AT)
		n += put_uv(p + n, zz((int64_t)(m->at - last_at)));
	if (x & X_ASID)
		n += put_uv(p + n, m->asid);
	return n;
}

/* Decode one record body (m->at: the thread's previous time, updated). NULL, or what is wrong with it. */
static const char *ev_decode(const uint8_t *p, size_t len, uint32_t *tid, struct ev *e, struct tr_meta *m)
{
	const uint8_t *end = p + len;
	uint64_t v, mask, fl;
	memset(e, 0, sizeof(*e));
	if (!get_uv(&p, end, &v) || v == 0 || v > UINT32_MAX)
		return "bad thread id";
	*tid = (uint32_t)v;
	if (p >= end)
		return "record cut short";
	e->kind = *p++;
	if (!get_uv(&p, end, &fl) || fl > 0xffff)
		return "bad flags";
	e->fl = (uint16_t)fl;
	if (!get_uv(&p, end, &mask) || mask >> F_COUNT)
		return "bad field mask";
	for (int i = 0; i < F_COUNT; i++)
		if (mask & (1ull << i)) {
			if (!get_uv(&p, end, &v))
				return "record cut short";
			if (!field_set(e, i, v))
				return "field value out of range";
		}
	uint64_t x;
	if (!get_uv(&p, end, &x) || x > 7)
		return "bad extra mask";
	m->sync = x & X_SYNC;
	m->asid = 0;
	if (x & X_AT) {
		if (!get_uv(&p, end, &v))
			return "record cut short";
		m->at += (uint64_t)unzz(v);
	}
	if (x & X_ASID) {
		if (!get_uv(&p, end, &v) || !v || v > UINT32_MAX)
			return "bad address space id";
		m->asid = (uint32_t)v;
	}
	if (p != end)
		return "record longer than its fields";
	e->tid = *tid;
	return NULL;
}

/* ---- headers ---- */

void tr_header_free(struct tr_header *h)
{
	for (uint32_t i = 0; i < h->nfiles; i++)
		xfree(h->files[i].name);
	xfree(h->files);
	xfree(h->threads);
	xfree(h->source);
	memset(h, 0, sizeof(*h));
}

const struct tr_thread *tr_thread_find(const struct tr_header *h, uint32_t tid)
{
	/* Importers number threads 1..n in table order: try that first. */
	if (tid && tid <= h->nthreads && h->threads[tid - 1].tid == tid)
		return &h->threads[tid - 1];
	for (uint32_t i = 0; i < h->nthreads; i++)
		if (h->threads[i].tid == tid)
			return &h->threads[i];
	return NULL;
}

const struct tr_file *tr_file_find(const struct tr_header *h, uint32_t id)
{
	if (id && id <= h->nfiles && h->files[id - 1].id == id)
		return &h->files[id - 1];
	for (uint32_t i = 0; i < h->nfiles; i++)
		if (h->files[i].id == id)
			return &h->files[i];
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int tr_header_check(const struct tr_header *h, char *err, size_t errlen)
{
	if (h->nthreads > TR_MAX_THREADS || h->nfiles > TR_MAX_FILES) {
		tr_errf(err, errlen, "too many threads or files");
		return -1;
	}
	uint32_t *ids = xmalloc(sizeof(uint32_t) * (h->nthreads + h->nfiles + 1));
	int rc = -1;
	uint64_t sum = 0;
	bool initial = false;
	for (uint32_t i = 0; i < h->nthreads; i++) {
		const struct tr_thread *t = &h->threads[i];
		if (!t->tid || !t->pid) {
			tr_errf(err, errlen, "thread %u: thread and process ids must not be 0", t->tid);
			goto out;
		}
		if (t->parent && !tr_thread_find(h, t->parent)) {
			tr_errf(err, errlen, "thread %u: its parent thread %u is not in the trace", t->tid, t->parent);
			goto out;
		}
		if (t->parent == t->tid) {
			tr_errf(err, errlen, "thread %u is its own parent", t->tid);
			goto out;
		}
		initial |= !t->parent;
		sum += t->events;
		ids[i] = t->tid;
	}
	if (h->nthreads && !initial) {
		tr_errf(err, errlen, "no initial thread (every thread has a parent)");
		goto out;
	}
	qsort(ids, h->nthreads, sizeof(*ids), cmp_u32);
	for (uint32_t i = 1; i < h->nthreads; i++)
		if (ids[i] == ids[i - 1]) {
			tr_errf(err, errlen, "thread %u is declared twice", ids[i]);
			goto out;
		}
	for (uint32_t i = 0; i < h->nthreads; i++)
		ids[i] = h->threads[i].pid;
	qsort(ids, h->nthreads, sizeof(*ids), cmp_u32);
	uint32_t procs = h->nthreads ? 1 : 0;
	for (uint32_t i = 1; i < h->nthreads; i++)
		procs += ids[i] != ids[i - 1];
	if (procs > TR_MAX_PROCS) {
		tr_errf(err, errlen, "%u processes: the executor runs at most %u", procs, TR_MAX_PROCS);
		goto out;
	}
	if (sum != h->events) {
		tr_errf(err, errlen, "the threads' event counts add up to %llu, not %llu", (unsigned long long)sum,
			(unsigned long long)h->events);
		goto out;
	}
	for (uint32_t i = 0; i < h->nfiles; i++) {
		if (!h->files[i].id) {
			tr_errf(err, errlen, "file id 0 is reserved");
			goto out;
		}
		if (h->files[i].size > TR_MAX_FILE_SIZE) {
			tr_errf(err, errlen, "file %u: size %llu is larger than %llu", h->files[i].id,
				(unsigned long long)h->files[i].size, (unsigned long long)TR_MAX_FILE_SIZE);
			goto out;
		}
		ids[i] = h->files[i].id;
	}
	qsort(ids, h->nfiles, sizeof(*ids), cmp_u32);
	for (uint32_t i = 1; i < h->nfiles; i++)
		if (ids[i] == ids[i - 1]) {
			tr_errf(err, errlen, "file %u is declared twice", ids[i]);
			goto out;
		}
	rc = 0;
out:
	xfree(ids);
	return rc;
}

/* A growable byte buffer for the header. */
struct bbuf {
	uint8_t *p;
	size_t n, cap;
};

static void bb_room(struct bbuf *b, size_t want)
{
	if (b->cap - b->n < want)
		b->p = xrealloc(b->p, b->cap = (b->cap + want) * 2);
}

static void bb_uv(struct bbuf *b, uint64_t v)
{
	bb_room(b, 10);
	b->n += put_uv(b->p + b->n, v);
}

static void bb_str(struct bbuf *b, const char *s)
{
	size_t n = s ? strnlen(s, TR_MAX_STR) : 0;
	bb_uv(b, n);
	bb_room(b, n);
	memcpy(b->p + b->n, s ? s : "", n);
	b->n += n;
}

static void header_encode(struct bbuf *b, const struct tr_header *h)
{
	bb_room(b, 12);
	memcpy(b->p, TR_MAGIC, 8);
	uint32_t v = TR_VERSION;
	for (int i = 0; i < 4; i++)
		b->p[8 + i] = (uint8_t)(v >> (8 * i));
	b->n = 12;
	bb_str(b, h->source);
	bb_uv(b, h->nthreads);
	for (uint32_t i = 0; i < h->nthreads; i++) {
		const struct tr_thread *t = &h->threads[i];
		bb_uv(b, t->tid);
		bb_uv(b, t->pid);
		bb_uv(b, t->parent);
		bb_uv(b, t->events);
		bb_uv(b, t->rtid);
		bb_uv(b, t->rpid);
		bb_str(b, t->comm);
	}
	bb_uv(b, h->nfiles);
	for (uint32_t i = 0; i < h->nfiles; i++) {
		const struct tr_file *f = &h->files[i];
		bb_uv(b, f->id);
		bb_uv(b, f->size);
		bb_uv(b, f->dev);
		bb_uv(b, f->ino);
		bb_str(b, f->name);
	}
	bb_uv(b, h->events);
}

/* ---- the writer ---- */

struct tr_writer {
	char path[4096];
	FILE *tmp; /* unlinked: the compressed events */
	ZSTD_CCtx *cc;
	uint8_t *buf; /* uncompressed events not yet compressed */
	size_t n;
	uint8_t *zout;
	size_t zcap;
	struct tr_header h;
	uint32_t cap_threads, cap_files;
	uint32_t *tix; /* open-addressing index: tid -> thread index + 1 */
	uint32_t tix_cap;
	uint64_t *last_at; /* per thread index: the time of its last event */
	bool ioerr;
};

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static void tix_put(struct tr_writer *w, uint32_t tid, uint32_t idx)
{
	uint32_t m = w->tix_cap - 1, i = hash32(tid) & m;
	while (w->tix[i])
		i = (i + 1) & m;
	w->tix[i] = idx + 1;
}

/* The index of thread tid in the table, added (with pid 0: undeclared) if new. */
static uint32_t w_thread(struct tr_writer *w, uint32_t tid)
{
	uint32_t m = w->tix_cap - 1;
	for (uint32_t i = hash32(tid) & m; w->tix[i]; i = (i + 1) & m)
		if (w->h.threads[w->tix[i] - 1].tid == tid)
			return w->tix[i] - 1;
	if (w->h.nthreads == w->cap_threads) {
		w->cap_threads *= 2;
		w->h.threads = xrealloc(w->h.threads, sizeof(struct tr_thread) * w->cap_threads);
		w->last_at = xrealloc(w->last_at, sizeof(uint64_t) * w->cap_threads);
	}
	uint32_t idx = w->h.nthreads++;
	memset(&w->h.threads[idx], 0, sizeof(struct tr_thread));
	w->last_at[idx] = 0;
	w->h.threads[idx].tid = tid;
	if (w->h.nthreads * 2 > w->tix_cap) {
		xfree(w->tix);
		w->tix = xzalloc(sizeof(uint32_t) * (w->tix_cap *= 2));
		for (uint32_t i = 0; i < w->h.nthreads; i++)
			tix_put(w, w->h.threads[i].tid, i);
	} else {
		tix_put(w, tid, idx);
	}
	return idx;
}

struct tr_writer *tr_writer_open(const char *path, char *err, size_t errlen)
{
	struct tr_writer *w = xzalloc(sizeof(*w));
	snprintf(w->path, sizeof(w->path), "%s", path);
	char tmpl[4200];
	snprintf(tmpl, sizeof(tmpl), "%s/mmsim-trace-XXXXXX", util_tmpdir());
	int fd = mkstemp(tmpl);
	if (fd < 0) {
		tr_errf(err, errlen, "%s: cannot make a temporary file: %s", tmpl, strerror(errno));
		xfree(w);
		return NULL;
	}
	unlink(tmpl);
	w->tmp = fdopen(fd, "w+b");
	w->cc = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(w->cc, ZSTD_c_compressionLevel, ZLEVEL);
	ZSTD_CCtx_setParameter(w->cc, ZSTD_c_windowLog, ZWINDOW_LOG);
	ZSTD_CCtx_setParameter(w->cc, ZSTD_c_checksumFlag, 1);
	w->buf = xmalloc(WBUF);
	w->zcap = ZSTD_CStreamOutSize();
	w->zout = xmalloc(w->zcap);
	w->cap_threads = 16;
	w->h.threads = xmalloc(sizeof(struct tr_thread) * w->cap_threads);
	w->last_at = xmalloc(sizeof(uint64_t) * w->cap_threads);
	w->cap_files = 16;
	w->h.files = xmalloc(sizeof(struct tr_file) * w->cap_files);
	w->tix_cap = 64;
	w->tix = xzalloc(sizeof(uint32_t) * w->tix_cap);
	return w;
}

void tr_writer_thread(struct tr_writer *w, const struct tr_thread *t)
{
	uint32_t idx = w_thread(w, t->tid); /* may move the table */
	struct tr_thread *d = &w->h.threads[idx];
	uint64_t events = d->events;
	*d = *t;
	d->events = events;
	d->comm[sizeof(d->comm) - 1] = 0;
}

void tr_writer_file(struct tr_writer *w, uint32_t id, uint64_t size, uint32_t dev, uint64_t ino, const char *name)
{
	for (uint32_t i = 0; i < w->h.nfiles; i++) {
		struct tr_file *f = &w->h.files[i];
		if (f->id == id) {
			f->size = MAX(f->size, size);
			if (name && (!f->name || !*f->name)) {
				xfree(f->name);
				f->name = xstrdup(name);
			}
			return;
		}
	}
	if (w->h.nfiles == w->cap_files)
		w->h.files = xrealloc(w->h.files, sizeof(struct tr_file) * (w->cap_files *= 2));
	w->h.files[w->h.nfiles++] = (struct tr_file){ id, size, dev, ino, xstrdup(name ? name : "") };
}

void tr_writer_source(struct tr_writer *w, const char *source)
{
	xfree(w->h.source);
	w->h.source = xstrdup(source);
}

/* Compress the buffered events (mode: continue or end the frame) into the temporary file. */
static void w_flush(struct tr_writer *w, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { w->buf, w->n, 0 };
	for (;;) {
		ZSTD_outBuffer out = { w->zout, w->zcap, 0 };
		size_t left = ZSTD_compressStream2(w->cc, &out, &in, mode);
		if (ZSTD_isError(left))
			panic("zstd: %s", ZSTD_getErrorName(left));
		if (out.pos && fwrite(w->zout, 1, out.pos, w->tmp) != out.pos)
			w->ioerr = true;
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			break;
	}
	w->n = 0;
}

int tr_write(struct tr_writer *w, uint32_t tid, const struct ev *e, const struct tr_meta *m)
{
	uint8_t rec[TR_MAX_RECORD];
	uint32_t idx = w_thread(w, tid);
	size_t n = ev_encode(rec, tid, e, m, w->last_at[idx]);
	if (m)
		w->last_at[idx] = m->at;
	if (w->n + n + 10 > WBUF)
		w_flush(w, ZSTD_e_continue);
	w->n += put_uv(w->buf + w->n, n);
	memcpy(w->buf + w->n, rec, n);
	w->n += n;
	w->h.threads[idx].events++;
	w->h.events++;
	return w->ioerr ? -1 : 0;
}

static void writer_free(struct tr_writer *w)
{
	if (w->tmp)
		fclose(w->tmp);
	ZSTD_freeCCtx(w->cc);
	xfree(w->buf);
	xfree(w->zout);
	xfree(w->tix);
	xfree(w->last_at);
	tr_header_free(&w->h);
	xfree(w);
}

void tr_writer_abort(struct tr_writer *w)
{
	if (w)
		writer_free(w);
}

int tr_writer_close(struct tr_writer *w, char *err, size_t errlen)
{
	int rc = -1;
	FILE *out = NULL;
	struct bbuf hb = { 0 };
	for (uint32_t i = 0; i < w->h.nthreads; i++)
		if (!w->h.threads[i].pid) {
			tr_errf(err, errlen, "%s: thread %u has events but was never declared (no process)", w->path,
				w->h.threads[i].tid);
			goto done;
		}
	if (tr_header_check(&w->h, err, errlen)) {
		char why[300];
		snprintf(why, sizeof(why), "%s", err);
		tr_errf(err, errlen, "%s: %s", w->path, why);
		goto done;
	}
	/* The end: a record of length 0 and the event count. */
	w->n += put_uv(w->buf + w->n, 0);
	w->n += put_uv(w->buf + w->n, w->h.events);
	w_flush(w, ZSTD_e_end);
	if (w->ioerr || fflush(w->tmp)) {
		tr_errf(err, errlen, "%s: cannot write the temporary file: %s", w->path, strerror(errno));
		goto done;
	}
	/* The header, as its own zstd frame, then the events' frames. */
	header_encode(&hb, &w->h);
	size_t zb = ZSTD_compressBound(hb.n);
	uint8_t *z = xmalloc(zb);
	ZSTD_CCtx_reset(w->cc, ZSTD_reset_session_only);
	size_t zn = ZSTD_compress2(w->cc, z, zb, hb.p, hb.n);
	if (ZSTD_isError(zn))
		panic("zstd: %s", ZSTD_getErrorName(zn));
	out = strcmp(w->path, "-") ? fopen(w->path, "wb") : stdout;
	if (!out) {
		tr_errf(err, errlen, "%s: cannot create: %s", w->path, strerror(errno));
		xfree(z);
		goto done;
	}
	bool bad = fwrite(z, 1, zn, out) != zn;
	xfree(z);
	rewind(w->tmp);
	size_t k;
	while (!bad && (k = fread(w->buf, 1, WBUF, w->tmp)) > 0)
		bad = fwrite(w->buf, 1, k, out) != k;
	bad |= ferror(w->tmp) != 0;
	bad |= out == stdout ? fflush(out) != 0 : fclose(out) != 0;
	out = NULL;
	if (bad) {
		tr_errf(err, errlen, "%s: write error: %s", w->path, strerror(errno));
		if (strcmp(w->path, "-"))
			unlink(w->path);
		goto done;
	}
	rc = 0;
done:
	xfree(hb.p);
	writer_free(w);
	return rc;
}

/* ---- the reader ---- */

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
					tr_errf(r->err, sizeof(r->err), "%s: read error", r->path);
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
			tr_errf(r->err, sizeof(r->err), "%s: corrupt compressed data: %s", r->path, ZSTD_getErrorName(rc));
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
			tr_errf(r->err, sizeof(r->err), "%s: cut short (the compressed data ends inside a frame)", r->path);
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
		tr_errf(r->err, sizeof(r->err), "%s: cannot open: %s", path, strerror(errno));
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
		tr_errf(r->err, sizeof(r->err), "%s: header: %s %llu is out of range", r->path, what,
			(unsigned long long)*v);
	else if (k == 0 || k == -2)
		tr_errf(r->err, sizeof(r->err), "%s: cut short (in the header, at %s)", r->path, what);
	else
		tr_errf(r->err, sizeof(r->err), "%s: header: malformed number (at %s)", r->path, what);
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
			tr_errf(r->err, sizeof(r->err), "%s: cut short (in the header, at %s)", r->path, what);
		return -1;
	}
	s[n] = 0;
	if (memchr(s, 0, n)) {
		xfree(s);
		tr_errf(r->err, sizeof(r->err), "%s: header: %s holds a NUL byte", r->path, what);
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
		tr_errf(r->err, sizeof(r->err), "%s: not an mmsim binary trace (no \"%s\" header)", r->path, TR_MAGIC);
		return -1;
	}
	uint32_t ver = (uint32_t)m[8] | (uint32_t)m[9] << 8 | (uint32_t)m[10] << 16 | (uint32_t)m[11] << 24;
	if (ver != TR_VERSION) {
		tr_errf(r->err, sizeof(r->err),
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
		tr_errf(r->err, sizeof(r->err), "%s: header: %s", r->path, why);
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
			tr_errf(r->err, sizeof(r->err), "%s: thread %u is not in the trace", path, only_tid);
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
	tr_errf(err, errlen, "%s", r->err);
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

const char *tr_check_event(const struct tr_header *h, uint32_t tid, const struct ev *e)
{
	const struct tr_thread *t = tr_thread_find(h, tid);
	if (!t)
		return "its thread is not in the header";
	if (e->kind == EV_END || e->kind >= EV_KINDS)
		return "unknown event kind";
	if (e->kind == EV_BARRIER)
		return "barrier events belong to synthetic workloads, not traces";
	if (e->fl & ~(EVF_OP | EVF_REGION | EVF_REGION2 | EVF_CHECK | EVF_NS))
		return "unknown event flags";
	if ((e->fl & EVF_REGION) && (e->kind < EV_MMAP || e->kind > EV_ACCESS))
		return "a region-relative address on an event without an address";
	if ((e->fl & EVF_REGION) && !e->region)
		return "region 0 (regions are numbered from 1)";
	if ((e->fl & EVF_REGION2) && (e->kind != EV_MREMAP || !e->region2))
		return "a second region only belongs to mremap";
	if ((e->fl & EVF_NS) && e->kind != EV_COMPUTE)
		return "nanoseconds only belong to compute";
	if (e->new_region == EV_REGION_BRK)
		return "the brk region cannot be redefined";
	switch (e->kind) {
	case EV_MMAP:
		if (!(e->flags & VM_MAP_ANONYMOUS) && !tr_file_find(h, e->file))
			return "a file mapping of a file that is not in the header";
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
	case EV_FORK: {
		const struct tr_thread *c = tr_thread_find(h, e->tid2);
		if (!c || c->parent != tid)
			return "creates a thread the header does not list as its child";
		if (e->kind == EV_THREAD && c->pid != t->pid)
			return "a new thread in another process (use fork)";
		if (e->kind == EV_FORK && (c->pid != e->pid2 || e->pid2 == t->pid))
			return "fork: the child's process id does not match the header";
		break;
	}
	}
	return NULL;
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
			tr_errf(r->err, sizeof(r->err), "%s: cut short after %llu events (no end record)", r->path,
				(unsigned long long)r->seen);
			return -1;
		}
		if (k < 0 || len > TR_MAX_RECORD) {
			if (!r->err[0])
				tr_errf(r->err, sizeof(r->err), "%s: event %llu (byte %llu): malformed record length",
					r->path, (unsigned long long)r->seen + 1, (unsigned long long)at);
			return -1;
		}
		if (len == 0) {
			uint64_t total;
			uint8_t extra;
			if (z_uv(r, &total) != 1 || total != r->seen || total != r->h.events) {
				if (!r->err[0])
					tr_errf(r->err, sizeof(r->err),
						"%s: the end record does not match the %llu events read", r->path,
						(unsigned long long)r->seen);
				return -1;
			}
			if (!r->only) {
				int x = z_byte(r, &extra);
				if (x != 0) {
					if (x > 0)
						tr_errf(r->err, sizeof(r->err), "%s: data after the end record", r->path);
					return -1;
				}
				for (uint32_t i = 0; i < r->h.nthreads; i++)
					if (r->counts[i] != r->h.threads[i].events) {
						tr_errf(r->err, sizeof(r->err),
							"%s: thread %u has %llu events, the header says %llu", r->path,
							r->h.threads[i].tid, (unsigned long long)r->counts[i],
							(unsigned long long)r->h.threads[i].events);
						return -1;
					}
			} else if (r->only_left) {
				tr_errf(r->err, sizeof(r->err), "%s: thread %u has fewer events than the header says",
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
				tr_errf(r->err, sizeof(r->err), "%s: cut short after %llu events (inside a record)",
					r->path, (unsigned long long)r->seen);
			return -1;
		}
		r->seen++;
		if (r->seen > r->h.events) {
			tr_errf(r->err, sizeof(r->err), "%s: more events than the header says (%llu)", r->path,
				(unsigned long long)r->h.events);
			return -1;
		}
		uint32_t tid;
		/* The thread's previous time: peek the thread id first. */
		const uint8_t *q = rec;
		uint64_t t64 = 0;
		const struct tr_thread *th = NULL;
		if (get_uv(&q, rec + len, &t64) && t64 && t64 <= UINT32_MAX)
			th = tr_thread_find(&r->h, (uint32_t)t64);
		if (r->only && t64 != r->only)
			continue;
		uint64_t *lastp = r->only ? &r->only_at : th ? &r->last_at[th - r->h.threads] : NULL;
		meta->at = lastp ? *lastp : 0;
		const char *why = ev_decode(rec, len, &tid, e, meta);
		if (!why && lastp)
			*lastp = meta->at;
		if (!why)
			why = tr_check_event(&r->h, tid, e);
		if (!why && !r->only)
			why = track(r, tid, e);
		if (why) {
			tr_errf(r->err, sizeof(r->err), "%s: event %llu (byte %llu): %s", r->path,
				(unsigned long long)r->seen, (unsigned long long)at, why);
			return -1;
		}
		if (r->only)
			r->only_left--;
		return 1;
	}
}
