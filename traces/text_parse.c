/* text_parse.c: the text form's importer: parses it line by line (errors name the line) and writes the binary form, streaming. */
#include "traces/text.h"
#include "traces/util.h"
#include "io/lines.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <string.h>

/*
 * The compiler's state. h is the header as the lines so far declare and
 * imply it (what tr_check_event sees); the arrays run beside h.threads.
 */
struct comp {
	struct lines *l;
	struct tr_writer *w;
	struct tr_import_stats *st;
	struct tr_header h;
	uint32_t cap_threads, cap_files;
	struct tu_map tix;    /* tid -> index in h.threads */
	uint64_t *first_line; /* per thread: the line of its first event (to report undeclared threads) */
	uint64_t *at;	      /* per thread: the time of its last event */
	uint64_t *decl_line;  /* per thread: the line declaring it, or creating it */
	uint8_t *declared, *created;
	uint8_t *auto_size;   /* per file: no line declared it, so it is as large as its mappings reach */
	bool seen_version;
	char *err;
	size_t errlen;
};

/* bad(c, fmt, ...): "FILE:LINE: reason" for the current line; -1. */
#define bad(c, ...) tu_errf_line((c)->err, (c)->errlen, (c)->l, __VA_ARGS__)

/* The index of thread tid in c->h, added (undeclared, uncreated) if new. */
static uint32_t c_thread(struct comp *c, uint32_t tid)
{
	uint32_t i;
	if (tu_map_get(&c->tix, tid, &i))
		return i;
	if (c->h.nthreads == c->cap_threads) {
		c->cap_threads = c->cap_threads ? c->cap_threads * 2 : 16;
		c->h.threads = xrealloc(c->h.threads, sizeof(struct tr_thread) * c->cap_threads);
		c->first_line = xrealloc(c->first_line, sizeof(uint64_t) * c->cap_threads);
		c->at = xrealloc(c->at, sizeof(uint64_t) * c->cap_threads);
		c->decl_line = xrealloc(c->decl_line, sizeof(uint64_t) * c->cap_threads);
		c->declared = xrealloc(c->declared, c->cap_threads);
		c->created = xrealloc(c->created, c->cap_threads);
	}
	i = c->h.nthreads++;
	memset(&c->h.threads[i], 0, sizeof(struct tr_thread));
	c->h.threads[i].tid = tid;
	c->first_line[i] = 0;
	c->at[i] = 0;
	c->decl_line[i] = lines_lineno(c->l);
	c->declared[i] = c->created[i] = 0;
	tu_map_put(&c->tix, tid, i);
	return i;
}

/* Add file id to the header (the caller checked it is new and within TR_MAX_FILES). */
static void c_file(struct comp *c, uint32_t id, uint64_t size, uint32_t dev, uint64_t ino, const char *name, bool automatic)
{
	if (c->h.nfiles == c->cap_files) {
		c->cap_files = c->cap_files ? c->cap_files * 2 : 16;
		c->h.files = xrealloc(c->h.files, sizeof(struct tr_file) * c->cap_files);
		c->auto_size = xrealloc(c->auto_size, c->cap_files);
	}
	c->auto_size[c->h.nfiles] = automatic;
	c->h.files[c->h.nfiles++] = (struct tr_file){ id, size, dev, ino, xstrdup(name) };
	tr_writer_file(c->w, id, size, dev, ino, name);
}

/* One KEY=VALUE field of a declaration (what: "thread" or "file"): *val is the value; name_key's is unescaped. 0, or -1. */
static int decl_kv(struct comp *c, const char *what, char *tok, const char *name_key, char **val)
{
	char *eq = strchr(tok, '=');
	if (!eq)
		return bad(c, "%s: '%s' is not key=value", what, tok);
	*eq++ = 0;
	*val = eq;
	if (!strcmp(tok, name_key) && !txt_unescape(eq))
		return bad(c, "%s: %s=: a bad %%XX escape", what, name_key);
	return 0;
}

/* "thread TID pid=PID [parent=TID] [rtid=N] [rpid=N] [events=N] [comm=NAME]" */
static int c_line_thread(struct comp *c, char **tok, int n)
{
	uint64_t v;
	if (n < 2 || !txt_num_u(tok[1], UINT32_MAX, &v) || !v)
		return bad(c, "thread: expected a thread id (1 or more)");
	if (c->h.nthreads >= TR_MAX_THREADS)
		return bad(c, "more than %u threads", TR_MAX_THREADS);
	uint32_t i = c_thread(c, (uint32_t)v);
	if (c->declared[i])
		return bad(c, "thread %s is declared twice", tok[1]);
	struct tr_thread t = c->h.threads[i];
	uint32_t pid = 0;
	for (int k = 2; k < n; k++) {
		char *val;
		if (decl_kv(c, "thread", tok[k], "comm", &val))
			return -1;
		if (!strcmp(tok[k], "comm")) {
			snprintf(t.comm, sizeof(t.comm), "%s", val);
			continue;
		}
		if (!txt_num_u(val, UINT64_MAX, &v))
			return bad(c, "thread: %s=%s is not a number", tok[k], val);
		if (!strcmp(tok[k], "pid") && v && v <= UINT32_MAX)
			pid = (uint32_t)v;
		else if (!strcmp(tok[k], "parent") && v <= UINT32_MAX)
			t.parent = (uint32_t)v;
		else if (!strcmp(tok[k], "rtid") && v <= UINT32_MAX)
			t.rtid = (uint32_t)v;
		else if (!strcmp(tok[k], "rpid") && v <= UINT32_MAX)
			t.rpid = (uint32_t)v;
		else if (strcmp(tok[k], "events"))
			return bad(c, "thread: unknown or out-of-range key '%s'", tok[k]);
	}
	if (!pid)
		return bad(c, "thread %s: pid=N (1 or more) is required", tok[1]);
	/* Created by an event already? Then the declaration must agree. */
	if (c->created[i] && (c->h.threads[i].pid != pid || c->h.threads[i].parent != t.parent))
		return bad(c, "thread %s: pid or parent disagrees with the event that created it", tok[1]);
	t.pid = pid;
	t.events = 0;
	c->h.threads[i] = t;
	c->declared[i] = 1;
	c->decl_line[i] = lines_lineno(c->l);
	tr_writer_thread(c->w, &t);
	return 0;
}

/* dev=MAJ:MIN (hex) as major << 20 | minor. */
static bool parse_dev(const char *s, uint32_t *dev)
{
	const char *colon = strchr(s, ':');
	char ma[16], mi[16];
	uint64_t a, b;
	if (!colon || (size_t)(colon - s) >= sizeof(ma) || strlen(colon + 1) >= sizeof(mi) || colon == s || !colon[1])
		return false;
	snprintf(ma, sizeof(ma), "0x%.*s", (int)(colon - s), s);
	snprintf(mi, sizeof(mi), "0x%s", colon + 1);
	if (!txt_num_u(ma, 0xfff, &a) || !txt_num_u(mi, 0xfffff, &b))
		return false;
	*dev = (uint32_t)(a << 20 | b);
	return true;
}

/* "file ID [size=N] [dev=MAJ:MIN] [ino=N] [name=NAME]" */
static int c_line_file(struct comp *c, char **tok, int n)
{
	uint64_t id, size = 0, ino = 0, v;
	uint32_t dev = 0;
	const char *name = "";
	if (n < 2 || !txt_num_u(tok[1], UINT32_MAX, &id) || !id)
		return bad(c, "file: expected a file id (1 or more)");
	if (tr_file_find(&c->h, (uint32_t)id))
		return bad(c, "file %s is declared twice (or used before its declaration)", tok[1]);
	if (c->h.nfiles >= TR_MAX_FILES)
		return bad(c, "more than %u files", TR_MAX_FILES);
	for (int k = 2; k < n; k++) {
		char *val;
		if (decl_kv(c, "file", tok[k], "name", &val))
			return -1;
		if (!strcmp(tok[k], "name")) {
			name = val;
		} else if (!strcmp(tok[k], "dev")) {
			if (!parse_dev(val, &dev))
				return bad(c, "file: dev=%s is not MAJOR:MINOR (hex)", val);
		} else if (!txt_num_u(val, UINT64_MAX, &v)) {
			return bad(c, "file: %s=%s is not a number", tok[k], val);
		} else if (!strcmp(tok[k], "size")) {
			if (v > TR_MAX_FILE_SIZE)
				return bad(c, "file: size %s is larger than %llu", val, (unsigned long long)TR_MAX_FILE_SIZE);
			size = v;
		} else if (!strcmp(tok[k], "ino")) {
			ino = v;
		} else {
			return bad(c, "file: unknown key '%s'", tok[k]);
		}
	}
	c_file(c, (uint32_t)id, size, dev, ino, name, false);
	return 0;
}

/* A word after the positional arguments: op, sync, nocheck, and vfork (fork), group (exit) or sleep (compute). 0, or -1. */
static int c_word(struct comp *c, struct ev *e, struct tr_meta *m, const char *w, bool *nocheck)
{
	if (!strcmp(w, "op"))
		e->fl |= EVF_OP;
	else if (!strcmp(w, "sync"))
		m->sync = true;
	else if (!strcmp(w, "sleep") && e->kind == EV_COMPUTE)
		e->fl |= EVF_SLEEP;
	else if (!strcmp(w, "nocheck"))
		*nocheck = true;
	else if (!strcmp(w, "vfork") && e->kind == EV_FORK)
		e->flags = 1;
	else if (!strcmp(w, "group") && e->kind == EV_EXIT)
		e->len = 1;
	else
		return bad(c, "'%s' is not key=value (nor op, sync, nocheck%s)", w,
			   e->kind == EV_FORK ? ", vfork" : e->kind == EV_EXIT ? ", group" : e->kind == EV_COMPUTE ? ", sleep" : "");
	return 0;
}

/* One field after the positional arguments: a word (c_word) or KEY=VALUE. 0, or -1. */
static int c_key(struct comp *c, struct ev *e, struct tr_meta *m, char *key, bool *nocheck)
{
	char *val = strchr(key, '=');
	if (!val)
		return c_word(c, e, m, key, nocheck);
	*val++ = 0;
	uint64_t v;
	bool rel;
	if (!strcmp(key, "at")) {
		if (!txt_num_u(val, UINT64_MAX, &m->at))
			return bad(c, "at=%s is not a time in ns", val);
	} else if (!strcmp(key, "as")) {
		if (!txt_num_u(val, UINT32_MAX, &v) || !v)
			return bad(c, "as=%s is not an address space id (from 1)", val);
		m->asid = (uint32_t)v;
	} else if (!strcmp(key, "line")) {
		if (!txt_num_u(val, UINT64_MAX, &m->line) || !m->line)
			return bad(c, "line=%s is not a line number (from 1)", val);
	} else if (!strcmp(key, "new")) {
		if (val[0] != 'r' || !txt_num_u(val + 1, UINT32_MAX, &v) || !v || v == EV_REGION_BRK)
			return bad(c, "new=%s: expected rN (N from 1)", val);
		e->new_region = (uint32_t)v;
	} else if (!strcmp(key, "to")) {
		if (!txt_addr(val, &rel, &e->region2, &e->addr2))
			return bad(c, "to=%s is not an address", val);
		if (rel)
			e->fl |= EVF_REGION2;
	} else if (!strcmp(key, "ret")) {
		if (!txt_num_s(val, INT64_MIN, INT64_MAX, &e->ret))
			return bad(c, "ret=%s is not a number", val);
		e->fl |= EVF_CHECK;
	} else {
		char why[300];
		int k = txt_field(key, val, e, why, sizeof(why));
		if (k < 0)
			return bad(c, "%s", why);
		if (!k)
			return bad(c, "unknown key '%s'", key);
	}
	return 0;
}

/* A thread or fork event of thread index i: the child's place in the header (pid, parent), created once. */
static int c_create(struct comp *c, uint32_t i, const struct ev *e)
{
	uint32_t tid = c->h.threads[i].tid;
	if (e->tid2 == tid)
		return bad(c, "thread %u cannot create itself", tid);
	if (!c->h.threads[i].pid)
		return bad(c, "thread %u creates a thread before its process is known (declare it: thread %u pid=N)", tid,
			   tid);
	if (c->h.nthreads >= TR_MAX_THREADS)
		return bad(c, "more than %u threads", TR_MAX_THREADS);
	uint32_t j = c_thread(c, e->tid2);
	struct tr_thread *ch = &c->h.threads[j];
	uint32_t pid = e->kind == EV_THREAD ? c->h.threads[i].pid : e->pid2;
	if (c->created[j])
		return bad(c, "thread %u is created twice", e->tid2);
	if (c->declared[j] && (ch->pid != pid || ch->parent != tid))
		return bad(c, "thread %u was declared with pid=%u parent=%u, but this event makes it pid %u, parent %u",
			   e->tid2, ch->pid, ch->parent, pid, tid);
	ch->pid = pid;
	ch->parent = tid;
	c->created[j] = 1;
	tr_writer_thread(c->w, ch);
	return 0;
}

/*
 * A file mapping (or ftruncate, fallocate): its file exists (declared, or
 * made now), and a file no line declared grows to what it maps (a size
 * change says nothing of the size the file had at the start).
 */
static int c_map_file(struct comp *c, const struct ev *e)
{
	const struct tr_file *f = tr_file_find(&c->h, e->file);
	if (!f) {
		if (!e->file)
			return bad(c, "a file mapping needs file=N (or the anon flag)");
		if (c->h.nfiles >= TR_MAX_FILES)
			return bad(c, "more than %u files", TR_MAX_FILES);
		c_file(c, e->file, 0, 0, 0, "", true);
		f = &c->h.files[c->h.nfiles - 1];
	}
	uint32_t k = (uint32_t)(f - c->h.files);
	if (e->kind != EV_MMAP)
		return 0;
	uint64_t end = e->off + vm_page_up(e->len);
	if (c->auto_size[k] && end >= e->off && end <= TR_MAX_FILE_SIZE && end > f->size) {
		c->h.files[k].size = end;
		tr_writer_file(c->w, f->id, end, 0, 0, NULL);
	}
	return 0;
}

/* tr_check_event on an event of thread index i, which may not be declared yet (the end checks that it is). */
static int c_check(struct comp *c, uint32_t i, const struct ev *e)
{
	const char *why;
	if (c->h.threads[i].pid) {
		why = tr_check_event(&c->h, c->h.threads[i].tid, e);
	} else {
		/* Not created nor declared yet: tr_check_event needs a process. */
		c->h.threads[i].pid = UINT32_MAX;
		why = tr_check_event(&c->h, c->h.threads[i].tid, e);
		c->h.threads[i].pid = 0;
	}
	return why ? bad(c, "%s", why) : 0;
}

/* "TID KIND ARGS... [KEY=VALUE...]" */
static int c_line_event(struct comp *c, char **tok, int n)
{
	uint64_t v;
	if (!txt_num_u(tok[0], UINT32_MAX, &v) || !v)
		return bad(c, "'%s' is neither a header keyword nor a thread id", tok[0]);
	uint32_t tid = (uint32_t)v;
	if (n < 2)
		return bad(c, "an event needs a kind after the thread id");
	struct ev e = { 0 };
	if (!txt_kind(tok[1], &e.kind))
		return bad(c, "unknown event kind '%s'", tok[1]);
	int np = (int)strlen(txt_args[e.kind]);
	if (n < 2 + np)
		return bad(c, "%s needs %d argument%s", tok[1], np, np == 1 ? "" : "s");
	char why[300];
	for (int k = 0; k < np; k++)
		if (!txt_arg(txt_args[e.kind][k], tok[1], tok[2 + k], &e, why, sizeof(why)))
			return bad(c, "%s", why);
	if (c->h.nthreads >= TR_MAX_THREADS)
		return bad(c, "more than %u threads", TR_MAX_THREADS);
	uint32_t i = c_thread(c, tid);
	struct tr_meta meta = { .at = c->at[i] };
	bool nocheck = false;
	for (int k = 2 + np; k < n; k++)
		if (c_key(c, &e, &meta, tok[k], &nocheck))
			return -1;
	if (nocheck)
		e.fl &= ~EVF_CHECK;
	c->at[i] = meta.at;
	if (!c->first_line[i])
		c->first_line[i] = lines_lineno(c->l);
	/* The header as the events imply it: who creates whom, which files exist. */
	if ((e.kind == EV_THREAD || e.kind == EV_FORK) && c_create(c, i, &e))
		return -1;
	if (((e.kind == EV_MMAP && !(e.flags & VM_MAP_ANONYMOUS)) || e.kind == EV_FTRUNCATE ||
	     e.kind == EV_FALLOCATE) &&
	    c_map_file(c, &e))
		return -1;
	if (c_check(c, i, &e))
		return -1;
	if (tr_write(c->w, tid, &e, &meta))
		return bad(c, "cannot write the trace");
	c->st->events++;
	c->st->faults += e.kind == EV_ACCESS;
	return 0;
}

/* "recorded cpus=N syscall_ns=N": what the recording says of its machine. */
static int c_line_recorded(struct comp *c, char **tok, int n)
{
	uint64_t cpus = 0, ns = 0;
	for (int k = 1; k < n; k++) {
		bool ok;
		if (!strncmp(tok[k], "cpus=", 5))
			ok = txt_num_u(tok[k] + 5, TR_MAX_CPUS, &cpus);
		else if (!strncmp(tok[k], "syscall_ns=", 11))
			ok = txt_num_u(tok[k] + 11, 1000000000, &ns);
		else
			return bad(c, "recorded: unknown field '%s' (cpus=N, syscall_ns=N)", tok[k]);
		if (!ok)
			return bad(c, "recorded: '%s' is out of range", tok[k]);
	}
	tr_writer_machine(c->w, (uint32_t)cpus, ns);
	return 0;
}

/* "source TEXT": the rest of the line, unescaped. */
static int c_line_source(struct comp *c, const char *p)
{
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	char *u = xstrdup(p);
	int rc = txt_unescape(u) ? 0 : bad(c, "source: a bad %%XX escape");
	if (!rc)
		tr_writer_source(c->w, u);
	xfree(u);
	return rc;
}

/* One line that is not blank or a comment (buf: a copy the tokenizer may cut up). */
static int c_line(struct comp *c, const char *p, char *buf)
{
	char *tok[64];
	if (!c->seen_version) {
		c->seen_version = true;
		int n = txt_tokens(buf, tok, 64);
		if (n != 2 || strcmp(tok[0], "mmsim-trace"))
			return bad(c, "expected the first line 'mmsim-trace %u'", TR_TEXT_VERSION);
		char want[16];
		snprintf(want, sizeof(want), "%u", TR_TEXT_VERSION);
		if (strcmp(tok[1], want))
			return bad(c, "text trace version %s; this mmsim reads version %u", tok[1], TR_TEXT_VERSION);
		return 0;
	}
	if (!strncmp(p, "source", 6) && (p[6] == ' ' || p[6] == '\t' || !p[6]))
		return c_line_source(c, p);
	int n = txt_tokens(buf, tok, 64);
	if (n < 0)
		return bad(c, "too many fields");
	if (!strcmp(tok[0], "thread"))
		return c_line_thread(c, tok, n);
	if (!strcmp(tok[0], "file"))
		return c_line_file(c, tok, n);
	if (!strcmp(tok[0], "recorded"))
		return c_line_recorded(c, tok, n);
	return c_line_event(c, tok, n);
}

/* After the last line: every thread with events is declared or created, and the header holds together. */
static int c_end(struct comp *c, const char *in)
{
	if (!c->seen_version)
		return bad(c, "empty: expected the first line 'mmsim-trace %u'", TR_TEXT_VERSION);
	for (uint32_t i = 0; i < c->h.nthreads; i++) {
		const struct tr_thread *t = &c->h.threads[i], *p = t->parent ? tr_thread_find(&c->h, t->parent) : NULL;
		if (!t->pid) {
			tu_errf(c->err, c->errlen,
				"%s:%llu: thread %u has events but is neither declared (thread %u pid=N) nor created", in,
				(unsigned long long)c->first_line[i], t->tid, t->tid);
			return -1;
		}
		if (t->parent && (!p || !p->pid)) {
			tu_errf(c->err, c->errlen, "%s:%llu: thread %u: its parent thread %u is not in the trace", in,
				(unsigned long long)c->decl_line[i], t->tid, t->parent);
			return -1;
		}
	}
	char why[300]; /* (the threads' event counts are all 0 here: the writer keeps them) */
	if (tr_header_check(&c->h, why, sizeof(why))) {
		tu_errf(c->err, c->errlen, "%s: %s", in, why);
		return -1;
	}
	return 0;
}

/* Free what the compiler holds (not its writer or reader). */
static void c_free(struct comp *c)
{
	tr_header_free(&c->h);
	tu_map_free(&c->tix);
	xfree(c->first_line);
	xfree(c->at);
	xfree(c->decl_line);
	xfree(c->declared);
	xfree(c->created);
	xfree(c->auto_size);
}

/* The text form's importer entry (tr_importer.import); the options do not apply to it. */
static int compile(const char *in, struct tr_writer *w, const struct tr_import_opts *o, struct tr_import_stats *st,
		   char *err, size_t errlen)
{
	(void)o;
	struct comp c = { .w = w, .st = st, .err = err, .errlen = errlen };
	memset(st, 0, sizeof(*st));
	c.l = lines_open(in, err, errlen);
	if (!c.l)
		return -1;
	char src[600];
	snprintf(src, sizeof(src), "text:%s", in);
	tr_writer_source(w, src);
	int rc = 0;
	const char *line;
	size_t len, bcap = 0;
	char *buf = NULL;
	while (!rc && (line = lines_next(c.l, &len))) {
		st->lines++;
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (memchr(line, 0, len)) {
			rc = bad(&c, "a NUL byte in the line");
		} else if (*p && *p != '#') {
			if (len + 1 > bcap)
				buf = xrealloc(buf, bcap = len + 1);
			memcpy(buf, line, len + 1);
			rc = c_line(&c, p, buf);
		}
	}
	xfree(buf);
	if (!rc && lines_error(c.l)) {
		tu_errf(err, errlen, "%s", lines_error(c.l));
		rc = -1;
	}
	if (!rc)
		rc = c_end(&c, in);
	st->threads = c.h.nthreads;
	st->files = c.h.nfiles;
	lines_close(c.l);
	c_free(&c);
	return rc;
}

/* The text form is recognized by its first line. */
static bool detect(const struct tr_probe *p) { return p->line && !strncmp(p->line, "mmsim-trace", 11); }

const struct tr_importer tr_importer_text = {
	.name = "text",
	.what = "the text form of a trace (docs/trace-format.md)",
	.detect = detect,
	.import = compile,
};
