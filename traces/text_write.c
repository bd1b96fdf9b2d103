/* text_write.c: writing the text form (one line per event, docs/trace-format.md): event lines, header lines, and trace-dump. */
#include "traces/text.h"
#include "traces/util.h"
#include "io/out.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <inttypes.h>
#include <string.h>

/* ret= of a checked event: addresses in hex (mmap, mremap, brk), other results in decimal. */
static void put_ret(FILE *f, const struct ev *e)
{
	if (e->kind == EV_MMAP || e->kind == EV_MREMAP || e->kind == EV_BRK)
		fprintf(f, " ret=%s0x%" PRIx64, e->ret < 0 ? "-" : "",
			e->ret < 0 ? (uint64_t)0 - (uint64_t)e->ret : (uint64_t)e->ret);
	else
		fprintf(f, " ret=%" PRId64, e->ret);
}

void tr_text_event(FILE *f, uint32_t tid, const struct ev *e, const struct tr_meta *m, uint64_t last_at)
{
	struct ev rest = *e; /* the fields not yet written */
	rest.fl = 0;
	rest.tid = 0;
	bool known = e->kind < EV_KINDS && txt_kinds[e->kind];
	fprintf(f, "%" PRIu32 " %s", tid, known ? txt_kinds[e->kind] : "?");
	for (const char *a = known && txt_args[e->kind] ? txt_args[e->kind] : ""; *a; a++)
		txt_put_arg(f, *a, e, &rest);
	if (e->kind == EV_FORK && e->flags == 1)
		fputs(" vfork", f), rest.flags = 0;
	if (e->kind == EV_EXIT && e->len == 1)
		fputs(" group", f), rest.len = 0;
	if (e->kind == EV_MREMAP && (e->addr2 || (e->fl & EVF_REGION2))) {
		txt_put_addr(f, "to=", e->fl & EVF_REGION2, e->region2, e->addr2);
		rest.addr2 = 0;
		if (e->fl & EVF_REGION2)
			rest.region2 = 0;
	}
	if (e->new_region)
		fprintf(f, " new=r%" PRIu32, e->new_region), rest.new_region = 0;
	if (e->kind == EV_MMAP && !(e->flags & VM_MAP_ANONYMOUS)) {
		fprintf(f, " file=%" PRIu32 " off=0x%" PRIx64, e->file, e->off);
		rest.file = 0, rest.off = 0;
	}
	if (e->fl & EVF_CHECK)
		put_ret(f, e), rest.ret = 0;
	if (e->hint)
		fprintf(f, " hint=0x%" PRIx64, e->hint), rest.hint = 0;
	if (e->fl & EVF_OP)
		fputs(" op", f);
	if (e->fl & EVF_SLEEP)
		fputs(" sleep", f);
	if (m && m->at != last_at)
		fprintf(f, " at=%" PRIu64, m->at);
	if (m && m->asid)
		fprintf(f, " as=%" PRIu32, m->asid);
	if (m && m->sync)
		fputs(" sync", f);
	if (m && m->line)
		fprintf(f, " line=%" PRIu64, m->line);
	txt_put_fields(f, &rest);
	fputc('\n', f);
}

/* " KEY=NAME" (escaped; spaces too, unless keep_spaces), or nothing for an empty name. */
static void put_named(FILE *f, const char *key, const char *name, bool keep_spaces)
{
	if (!name || !*name)
		return;
	fputs(key, f);
	txt_put_name(f, name, keep_spaces);
}

void tr_text_header(FILE *f, const struct tr_header *h)
{
	fprintf(f, "mmsim-trace %u\n", TR_TEXT_VERSION);
	if (h->source && *h->source) {
		put_named(f, "source ", h->source, true);
		fputc('\n', f);
	}
	if (h->cpus || h->syscall_ns)
		fprintf(f, "recorded cpus=%" PRIu32 " syscall_ns=%" PRIu64 "\n", h->cpus, h->syscall_ns);
	for (uint32_t i = 0; i < h->nthreads; i++) {
		const struct tr_thread *t = &h->threads[i];
		fprintf(f, "thread %" PRIu32 " pid=%" PRIu32, t->tid, t->pid);
		if (t->parent)
			fprintf(f, " parent=%" PRIu32, t->parent);
		if (t->rtid)
			fprintf(f, " rtid=%" PRIu32, t->rtid);
		if (t->rpid)
			fprintf(f, " rpid=%" PRIu32, t->rpid);
		fprintf(f, " events=%" PRIu64, t->events);
		put_named(f, " comm=", t->comm, false);
		fputc('\n', f);
	}
	for (uint32_t i = 0; i < h->nfiles; i++) {
		const struct tr_file *fl = &h->files[i];
		fprintf(f, "file %" PRIu32 " size=0x%" PRIx64, fl->id, fl->size);
		if (fl->dev || fl->ino)
			fprintf(f, " dev=%" PRIx32 ":%" PRIx32 " ino=%" PRIu64, fl->dev >> 20, fl->dev & 0xfffff, fl->ino);
		put_named(f, " name=", fl->name, false);
		fputc('\n', f);
	}
}

int tr_dump(const char *path, const char *out, char *err, size_t errlen)
{
	struct tr_reader *r = tr_open_checked(path, err, errlen);
	tr_close(r);
	r = r ? tr_open(path, 0, err, errlen) : NULL;
	if (!r)
		return -1;
	struct out o;
	if (out_open(&o, out ? out : "-", err, errlen)) {
		tr_close(r);
		return -1;
	}
	FILE *f = o.f;
	const struct tr_header *h = tr_reader_header(r);
	tr_text_header(f, h);
	uint64_t *last = xzalloc(sizeof(uint64_t) * (h->nthreads + 1));
	struct ev e;
	struct tr_meta m;
	int k;
	while ((k = tr_next(r, &e, &m)) == 1) {
		uint64_t *l = &last[tr_thread_find(h, e.tid) - h->threads];
		tr_text_event(f, e.tid, &e, &m, *l);
		*l = m.at;
	}
	xfree(last);
	if (k < 0) {
		tu_errf(err, errlen, "%s", tr_error(r)); /* changed since it was checked */
		out_abort(&o);
	} else {
		k = out_commit(&o, err, errlen);
	}
	tr_close(r);
	return k < 0 ? -1 : 0;
}
