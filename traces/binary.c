/* binary.c: the binary form as an importer: recognized by its magic, replayed as it is, and imported as a checked copy (every event read and written again). */
#include "traces/trace.h"

#include <string.h>

/* A verified copy of the binary trace in into w. */
static int recode(const char *in, struct tr_writer *w, const struct tr_import_opts *o, struct tr_import_stats *st,
		  char *err, size_t errlen)
{
	(void)o;
	memset(st, 0, sizeof(*st));
	struct tr_reader *r = tr_open(in, 0, err, errlen);
	if (!r)
		return -1;
	const struct tr_header *h = tr_reader_header(r);
	tr_writer_source(w, h->source ? h->source : "");
	tr_writer_machine(w, h->cpus, h->syscall_ns);
	for (uint32_t i = 0; i < h->nthreads; i++)
		tr_writer_thread(w, &h->threads[i]);
	for (uint32_t i = 0; i < h->nfiles; i++) {
		const struct tr_file *f = &h->files[i];
		tr_writer_file(w, f->id, f->size, f->dev, f->ino, f->name);
	}
	struct ev e;
	struct tr_meta m;
	int k;
	while ((k = tr_next(r, &e, &m)) == 1) {
		if (tr_write(w, e.tid, &e, &m)) {
			snprintf(err, errlen, "%s: cannot write the trace", in);
			k = -2;
			break;
		}
		st->events++;
		st->faults += e.kind == EV_ACCESS;
	}
	if (k == -1)
		snprintf(err, errlen, "%s", tr_error(r));
	st->threads = h->nthreads;
	st->files = h->nfiles;
	tr_close(r);
	return k ? -1 : 0;
}

/* The binary form is recognized by its first bytes. */
static bool detect(const struct tr_probe *p) { return tr_is_binary(p->path); }

const struct tr_importer tr_importer_binary = {
	.name = "binary",
	.what = "an mmsim binary trace",
	.native = true,
	.detect = detect,
	.import = recode,
};
