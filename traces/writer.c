/* writer.c: the streaming writer of the binary form: events are compressed as they come, and the header (which counts them) is written in front at the end. */
#include "traces/codec.h"
#include "traces/util.h"
#include "sim/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define ZLEVEL 3
#define ZWINDOW_LOG 18 /* 256 KiB: what each per-thread reader must hold */
#define WBUF (64u << 10)

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
	struct tu_map tix; /* tid -> thread index */
	uint64_t *last_at; /* per thread index: the time of its last event */
	bool ioerr;
};

/* The index of thread tid in the table, added (with pid 0: undeclared) if new. */
static uint32_t w_thread(struct tr_writer *w, uint32_t tid)
{
	uint32_t idx;
	if (tu_map_get(&w->tix, tid, &idx))
		return idx;
	if (w->h.nthreads == w->cap_threads) {
		w->cap_threads *= 2;
		w->h.threads = xrealloc(w->h.threads, sizeof(struct tr_thread) * w->cap_threads);
		w->last_at = xrealloc(w->last_at, sizeof(uint64_t) * w->cap_threads);
	}
	idx = w->h.nthreads++;
	memset(&w->h.threads[idx], 0, sizeof(struct tr_thread));
	w->last_at[idx] = 0;
	w->h.threads[idx].tid = tid;
	tu_map_put(&w->tix, tid, idx);
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
		tu_errf(err, errlen, "%s: cannot make a temporary file: %s", tmpl, strerror(errno));
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
	size_t n = codec_encode_event(rec, tid, e, m, w->last_at[idx]);
	if (m)
		w->last_at[idx] = m->at;
	if (w->n + n + CODEC_UV_MAX > WBUF)
		w_flush(w, ZSTD_e_continue);
	w->n += codec_put_uv(w->buf + w->n, n);
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
	tu_map_free(&w->tix);
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
	struct codec_buf hb = { 0 };
	for (uint32_t i = 0; i < w->h.nthreads; i++)
		if (!w->h.threads[i].pid) {
			tu_errf(err, errlen, "%s: thread %u has events but was never declared (no process)", w->path,
				w->h.threads[i].tid);
			goto done;
		}
	char why[300];
	if (tr_header_check(&w->h, why, sizeof(why))) {
		tu_errf(err, errlen, "%s: %s", w->path, why);
		goto done;
	}
	/* The end: a record of length 0 and the event count. */
	w->n += codec_put_uv(w->buf + w->n, 0);
	w->n += codec_put_uv(w->buf + w->n, w->h.events);
	w_flush(w, ZSTD_e_end);
	if (w->ioerr || fflush(w->tmp)) {
		tu_errf(err, errlen, "%s: cannot write the temporary file: %s", w->path, strerror(errno));
		goto done;
	}
	/* The header, as its own zstd frame, then the events' frames. */
	codec_encode_header(&hb, &w->h);
	size_t zb = ZSTD_compressBound(hb.n);
	uint8_t *z = xmalloc(zb);
	ZSTD_CCtx_reset(w->cc, ZSTD_reset_session_only);
	size_t zn = ZSTD_compress2(w->cc, z, zb, hb.p, hb.n);
	if (ZSTD_isError(zn))
		panic("zstd: %s", ZSTD_getErrorName(zn));
	out = strcmp(w->path, "-") ? fopen(w->path, "wb") : stdout;
	if (!out) {
		tu_errf(err, errlen, "%s: cannot create: %s", w->path, strerror(errno));
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
		tu_errf(err, errlen, "%s: write error: %s", w->path, strerror(errno));
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
