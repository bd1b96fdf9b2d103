/* writer.c: the streaming writer of the binary form: events go out in checksummed blocks as they come; the header and the footer, which count them, follow at the close. */
#include "traces/block.h"
#include "traces/codec.h"
#include "traces/util.h"
#include "io/out.h"
#include "sim/util.h"

#include <errno.h>
#include <string.h>

struct tr_writer {
	char path[4096];
	struct out out;
	struct blk_writer bw;
	uint8_t *buf;	  /* the events block being filled: whole records */
	size_t n;
	uint32_t nbuf;	  /* records in buf */
	uint32_t eblocks; /* events blocks written */
	uint64_t off;	  /* bytes written: the file offset of the next block */
	struct tr_header h;
	uint32_t cap_threads, cap_files;
	struct tu_map tix; /* tid -> thread index */
	uint64_t *last_at; /* per thread index: the time of its last event */
	int ioerr;	   /* errno of the first failed write (0: none) */
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

/* Write n bytes at the end of the file. */
static void w_put(struct tr_writer *w, const void *p, size_t n)
{
	if (!out_write(&w->out, p, n) && !w->ioerr)
		w->ioerr = errno ? errno : EIO;
	w->off += n;
}

struct tr_writer *tr_writer_open(const char *path, char *err, size_t errlen)
{
	struct out out;
	if (out_open(&out, path, err, errlen))
		return NULL;
	struct tr_writer *w = xzalloc(sizeof(*w));
	snprintf(w->path, sizeof(w->path), "%s", path);
	w->out = out;
	blk_writer_init(&w->bw);
	w->buf = xmalloc(BLK_RAW_MAX);
	w->cap_threads = 16;
	w->h.threads = xmalloc(sizeof(struct tr_thread) * w->cap_threads);
	w->last_at = xmalloc(sizeof(uint64_t) * w->cap_threads);
	w->cap_files = 16;
	w->h.files = xmalloc(sizeof(struct tr_file) * w->cap_files);
	uint8_t prefix[BLK_PREFIX];
	blk_put_prefix(prefix);
	w_put(w, prefix, sizeof(prefix));
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
			if ((dev || ino) && !f->dev && !f->ino) {
				f->dev = dev; /* known by a descriptor first, by its device, inode and name now */
				f->ino = ino;
				if (name && *name) {
					xfree(f->name);
					f->name = xstrdup(name);
				}
			}
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

void tr_writer_machine(struct tr_writer *w, uint32_t cpus, uint64_t syscall_ns)
{
	if (cpus)
		w->h.cpus = cpus;
	if (syscall_ns)
		w->h.syscall_ns = syscall_ns;
}

void tr_writer_source(struct tr_writer *w, const char *source)
{
	xfree(w->h.source);
	w->h.source = xstrdup(source);
}

/* Write the events block being filled, if it holds any record. */
static void w_flush(struct tr_writer *w)
{
	if (!w->nbuf)
		return;
	struct blk_desc d = { .kind = BLK_EVENTS, .index = w->eblocks++, .first_event = w->h.events - w->nbuf,
			      .nevents = w->nbuf };
	w_put(w, w->bw.z, blk_encode(&w->bw, &d, w->buf, w->n));
	w->n = 0;
	w->nbuf = 0;
}

int tr_write(struct tr_writer *w, uint32_t tid, const struct ev *e, const struct tr_meta *m)
{
	uint8_t rec[TR_MAX_RECORD];
	uint32_t idx = w_thread(w, tid);
	size_t n = codec_encode_event(rec, tid, e, m, w->last_at[idx]);
	if (m)
		w->last_at[idx] = m->at;
	if (w->n + n + CODEC_UV_MAX > BLK_RAW_MAX)
		w_flush(w);
	w->n += codec_put_uv(w->buf + w->n, n);
	memcpy(w->buf + w->n, rec, n);
	w->n += n;
	w->nbuf++;
	w->h.threads[idx].events++;
	w->h.events++;
	return w->ioerr ? -1 : 0;
}

/* Free w's memory (its output is committed or aborted already). */
static void writer_free(struct tr_writer *w)
{
	blk_writer_free(&w->bw);
	xfree(w->buf);
	tu_map_free(&w->tix);
	xfree(w->last_at);
	tr_header_free(&w->h);
	xfree(w);
}

int tr_writer_error(const struct tr_writer *w, char *err, size_t errlen)
{
	if (!w->ioerr)
		return 0;
	tu_errf(err, errlen, "%s: write error: %s", w->path, strerror(w->ioerr));
	return -1;
}

void tr_writer_abort(struct tr_writer *w)
{
	if (!w)
		return;
	out_abort(&w->out);
	writer_free(w);
}

/* The header in blocks of its own, then the footer. */
static void w_end(struct tr_writer *w)
{
	struct codec_buf hb = { 0 };
	codec_encode_header(&hb, &w->h);
	struct blk_footer ft = { .eblocks = w->eblocks, .events = w->h.events, .hoff = w->off,
				 .nthreads = w->h.nthreads };
	for (size_t at = 0; at < hb.n || !ft.hblocks; at += BLK_RAW_MAX) {
		struct blk_desc d = { .kind = BLK_HEADER, .index = ft.hblocks++ };
		w_put(w, w->bw.z, blk_encode(&w->bw, &d, hb.p + at, MIN(hb.n - at, BLK_RAW_MAX)));
	}
	xfree(hb.p);
	ft.counts = xmalloc(sizeof(uint64_t) * (w->h.nthreads + 1));
	for (uint32_t i = 0; i < w->h.nthreads; i++)
		ft.counts[i] = w->h.threads[i].events;
	ft.foff = w->off;
	uint64_t n = blk_footer_size(ft.nthreads);
	uint8_t *p = xmalloc(n);
	blk_put_footer(p, &ft);
	w_put(w, p, n);
	xfree(p);
	xfree(ft.counts);
}

int tr_writer_close(struct tr_writer *w, char *err, size_t errlen)
{
	char why[300];
	for (uint32_t i = 0; i < w->h.nthreads; i++)
		if (!w->h.threads[i].pid) {
			tu_errf(err, errlen, "%s: thread %u has events but was never declared (no process)", w->path,
				w->h.threads[i].tid);
			goto fail;
		}
	if (tr_header_check(&w->h, why, sizeof(why))) {
		tu_errf(err, errlen, "%s: %s", w->path, why);
		goto fail;
	}
	w_flush(w);
	w_end(w);
	int rc = out_commit(&w->out, err, errlen);
	writer_free(w);
	return rc;
fail:
	tr_writer_abort(w);
	return -1;
}
