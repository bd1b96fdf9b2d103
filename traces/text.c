/* text.c: the text form of traces (one line per event, for reading and hand-writing): writing it (trace-dump) and compiling it to the binary form (trace-compile). */
#include "traces/trace.h"
#include "io/lines.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- symbolic names ---- */

struct name {
	const char *s;
	uint64_t v;
};

static const struct name map_flags[] = {
	{ "fixed", VM_MAP_FIXED },	       { "anon", VM_MAP_ANONYMOUS },	     { "growsdown", VM_MAP_GROWSDOWN },
	{ "denywrite", VM_MAP_DENYWRITE },     { "executable", VM_MAP_EXECUTABLE }, { "locked", VM_MAP_LOCKED },
	{ "noreserve", VM_MAP_NORESERVE },     { "populate", VM_MAP_POPULATE },	     { "nonblock", VM_MAP_NONBLOCK },
	{ "stack", VM_MAP_STACK },	       { "hugetlb", VM_MAP_HUGETLB },	     { "fixed_noreplace", VM_MAP_FIXED_NOREPLACE },
	{ NULL, 0 }
};
static const char *const map_types[] = { NULL, "shared", "private", "shared_validate" };
static const struct name mremap_flags[] = { { "maymove", VM_MREMAP_MAYMOVE },
					    { "fixed", VM_MREMAP_FIXED },
					    { "dontunmap", VM_MREMAP_DONTUNMAP },
					    { NULL, 0 } };
static const struct name advices[] = { { "normal", VM_MADV_NORMAL },	 { "random", VM_MADV_RANDOM },
				       { "sequential", VM_MADV_SEQUENTIAL }, { "willneed", VM_MADV_WILLNEED },
				       { "dontneed", VM_MADV_DONTNEED },   { "free", VM_MADV_FREE },
				       { "hugepage", VM_MADV_HUGEPAGE },   { "nohugepage", VM_MADV_NOHUGEPAGE },
				       { NULL, 0 } };
static const char acc_names[] = "rwx";
/* Event kinds by name (the text form's own table: it must not change with the executor's). */
static const char *const kind_names[EV_KINDS] = { "end",    "mmap",  "munmap",  "mprotect", "madvise",
						  "mremap", "brk",   "access",  "compute",  "barrier",
						  "mark",   "thread", "fork",   "exec",     "exit" };

/* ---- writing ---- */

static void put_prot(FILE *f, int prot)
{
	if (prot >= 0 && prot <= 7)
		fprintf(f, " %c%c%c", prot & 1 ? 'r' : '-', prot & 2 ? 'w' : '-', prot & 4 ? 'x' : '-');
	else
		fprintf(f, " %d", prot);
}

/* Flags as names joined by '|', the rest in hex. `types`: mmap's sharing types in the low bits. */
static void put_flags(FILE *f, int32_t flags, const struct name *names, bool types)
{
	uint32_t left = (uint32_t)flags;
	bool any = false;
	fputc(' ', f);
	if (types && map_types[left & 3] && !(left & 0xc)) {
		fputs(map_types[left & 3], f);
		left &= ~3u;
		any = true;
	}
	for (const struct name *n = names; n->s; n++)
		if ((left & n->v) == n->v) {
			fprintf(f, "%s%s", any ? "|" : "", n->s);
			left &= ~(uint32_t)n->v;
			any = true;
		}
	if (left || !any)
		fprintf(f, "%s0x%" PRIx32, any ? "|" : "", left);
}

static void put_addr(FILE *f, const char *key, bool rel, uint32_t region, uint64_t a)
{
	fprintf(f, " %s", key);
	if (!rel)
		fprintf(f, "0x%" PRIx64, a);
	else if (region == EV_REGION_BRK)
		fprintf(f, "brk+0x%" PRIx64, a);
	else
		fprintf(f, "r%" PRIu32 "+0x%" PRIx64, region, a);
}

void tr_text_event(FILE *f, uint32_t tid, const struct ev *e, const struct tr_meta *m, uint64_t last_at)
{
	struct ev rest = *e; /* the fields not yet written */
	fprintf(f, "%" PRIu32 " %s", tid, e->kind < EV_KINDS ? kind_names[e->kind] : "?");
	bool rel = e->fl & EVF_REGION;
	rest.fl &= ~(EVF_REGION | EVF_REGION2 | EVF_CHECK | EVF_NS | EVF_OP);
	rest.tid = 0;
	switch (e->kind) {
	case EV_MMAP:
	case EV_MUNMAP:
	case EV_MPROTECT:
	case EV_MADVISE:
	case EV_MREMAP:
	case EV_BRK:
	case EV_ACCESS:
		put_addr(f, "", rel, e->region, e->addr);
		rest.addr = 0;
		if (rel)
			rest.region = 0;
		break;
	}
	switch (e->kind) {
	case EV_MMAP:
		fprintf(f, " 0x%" PRIx64, e->len);
		put_prot(f, e->prot);
		put_flags(f, e->flags, map_flags, true);
		rest.len = 0, rest.prot = 0, rest.flags = 0;
		break;
	case EV_MUNMAP:
		fprintf(f, " 0x%" PRIx64, e->len);
		rest.len = 0;
		break;
	case EV_MPROTECT:
		fprintf(f, " 0x%" PRIx64, e->len);
		put_prot(f, e->prot);
		rest.len = 0, rest.prot = 0;
		break;
	case EV_MADVISE: {
		fprintf(f, " 0x%" PRIx64, e->len);
		const struct name *n = advices;
		while (n->s && (int64_t)n->v != e->advice)
			n++;
		if (n->s)
			fprintf(f, " %s", n->s);
		else
			fprintf(f, " %" PRId32, e->advice);
		rest.len = 0, rest.advice = 0;
		break;
	}
	case EV_MREMAP:
		fprintf(f, " 0x%" PRIx64 " 0x%" PRIx64, e->len, e->len2);
		put_flags(f, e->flags, mremap_flags, false);
		rest.len = 0, rest.len2 = 0, rest.flags = 0;
		if (e->addr2 || (e->fl & EVF_REGION2)) {
			put_addr(f, "to=", e->fl & EVF_REGION2, e->region2, e->addr2);
			rest.addr2 = 0;
			if (e->fl & EVF_REGION2)
				rest.region2 = 0;
		}
		break;
	case EV_ACCESS:
		if (e->acc <= 2) {
			fprintf(f, " %c", acc_names[e->acc]);
			rest.acc = 0;
		}
		break;
	case EV_COMPUTE:
		fprintf(f, " %" PRIu64 "%s", e->cycles, (e->fl & EVF_NS) ? "ns" : "");
		rest.cycles = 0;
		break;
	case EV_BARRIER:
		fprintf(f, " %" PRIu64 " %" PRIu64, e->addr, e->len);
		rest.addr = 0, rest.len = 0;
		break;
	case EV_THREAD:
		fprintf(f, " %" PRIu32, e->tid2);
		rest.tid2 = 0;
		break;
	case EV_FORK:
		fprintf(f, " %" PRIu32 " %" PRIu32 "%s", e->pid2, e->tid2, e->flags == 1 ? " vfork" : "");
		rest.pid2 = 0, rest.tid2 = 0;
		if (e->flags == 1)
			rest.flags = 0;
		break;
	case EV_EXIT:
		if (e->len == 1) {
			fputs(" group", f);
			rest.len = 0;
		}
		break;
	}
	if (e->new_region)
		fprintf(f, " new=r%" PRIu32, e->new_region);
	rest.new_region = 0;
	if (e->kind == EV_MMAP && !(e->flags & VM_MAP_ANONYMOUS)) {
		fprintf(f, " file=%" PRIu32 " off=0x%" PRIx64, e->file, e->off);
		rest.file = 0, rest.off = 0;
	}
	if (e->fl & EVF_CHECK) {
		if (e->kind == EV_MMAP || e->kind == EV_MREMAP || e->kind == EV_BRK)
			fprintf(f, " ret=%s0x%" PRIx64, e->ret < 0 ? "-" : "",
				e->ret < 0 ? (uint64_t)0 - (uint64_t)e->ret : (uint64_t)e->ret);
		else
			fprintf(f, " ret=%" PRId64, e->ret);
		rest.ret = 0;
	}
	if (e->hint) {
		fprintf(f, " hint=0x%" PRIx64, e->hint);
		rest.hint = 0;
	}
	if (e->fl & EVF_OP)
		fputs(" op", f);
	if (m && m->at != last_at)
		fprintf(f, " at=%" PRIu64, m->at);
	if (m && m->asid)
		fprintf(f, " as=%" PRIu32, m->asid);
	if (m && m->sync)
		fputs(" sync", f);
	/* Anything else, by its field name, so that every event survives the round trip. */
	if (rest.acc)
		fprintf(f, " acc=%u", rest.acc);
	if (rest.region)
		fprintf(f, " region=%" PRIu32, rest.region);
	if (rest.region2)
		fprintf(f, " region2=%" PRIu32, rest.region2);
	if (rest.tid2)
		fprintf(f, " tid2=%" PRIu32, rest.tid2);
	if (rest.pid2)
		fprintf(f, " pid2=%" PRIu32, rest.pid2);
	if (rest.file)
		fprintf(f, " file=%" PRIu32, rest.file);
	if (rest.prot)
		fprintf(f, " prot=%" PRId32, rest.prot);
	if (rest.flags)
		fprintf(f, " flags=%" PRId32, rest.flags);
	if (rest.advice)
		fprintf(f, " advice=%" PRId32, rest.advice);
	if (rest.addr)
		fprintf(f, " addr=0x%" PRIx64, rest.addr);
	if (rest.addr2)
		fprintf(f, " addr2=0x%" PRIx64, rest.addr2);
	if (rest.len)
		fprintf(f, " len=0x%" PRIx64, rest.len);
	if (rest.len2)
		fprintf(f, " len2=0x%" PRIx64, rest.len2);
	if (rest.off)
		fprintf(f, " off=0x%" PRIx64, rest.off);
	if (rest.ret)
		fprintf(f, " ret=%" PRId64 " nocheck", rest.ret);
	if (rest.cycles)
		fprintf(f, " cycles=%" PRIu64, rest.cycles);
	fputc('\n', f);
}

/* A name as one field: bytes that are spaces, controls, '%' or not ASCII are written %XX. */
static void put_name(FILE *f, const char *s, bool keep_spaces)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch == ' ' && keep_spaces) || (ch > ' ' && ch < 0x7f && ch != '%'))
			fputc(ch, f);
		else
			fprintf(f, "%%%02X", ch);
	}
}

/* Undo put_name in place; false on a bad escape or an escaped NUL. */
static bool unescape(char *s)
{
	char *d = s;
	for (; *s; s++) {
		if (*s != '%') {
			*d++ = *s;
			continue;
		}
		int v = 0;
		for (int i = 1; i <= 2; i++) {
			char ch = s[i];
			int x = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
			if (x < 0)
				return false;
			v = v * 16 + x;
		}
		if (!v)
			return false;
		*d++ = (char)v;
		s += 2;
	}
	*d = 0;
	return true;
}

void tr_text_header(FILE *f, const struct tr_header *h)
{
	fprintf(f, "mmsim-trace %u\n", TR_VERSION);
	if (h->source && *h->source) {
		fputs("source ", f);
		put_name(f, h->source, true);
		fputc('\n', f);
	}
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
		if (t->comm[0]) {
			fputs(" comm=", f);
			put_name(f, t->comm, false);
		}
		fputc('\n', f);
	}
	for (uint32_t i = 0; i < h->nfiles; i++) {
		const struct tr_file *fl = &h->files[i];
		fprintf(f, "file %" PRIu32 " size=0x%" PRIx64, fl->id, fl->size);
		if (fl->dev || fl->ino)
			fprintf(f, " dev=%" PRIx32 ":%" PRIx32 " ino=%" PRIu64, fl->dev >> 20, fl->dev & 0xfffff, fl->ino);
		if (fl->name && *fl->name) {
			fputs(" name=", f);
			put_name(f, fl->name, false);
		}
		fputc('\n', f);
	}
}

int tr_dump(const char *path, FILE *f, char *err, size_t errlen)
{
	struct tr_reader *r = tr_open(path, 0, err, errlen);
	if (!r)
		return -1;
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
	if (k < 0)
		tr_errf(err, errlen, "%s", tr_error(r));
	xfree(last);
	tr_close(r);
	return k < 0 ? -1 : 0;
}

/* ---- compiling ---- */

struct comp {
	struct lines *l;
	struct tr_writer *w;
	struct tr_header h; /* as known so far: what tr_check_event sees */
	uint32_t cap_threads, cap_files;
	uint64_t *first_line; /* per thread: the line of its first event (to report undeclared threads) */
	uint64_t *at;	      /* per thread: the time of its last event */
	uint64_t *decl_line;  /* per thread: the line declaring it, or creating it */
	uint8_t *declared, *created;
	uint32_t *auto_files; /* files no line declared: sized by their mappings */
	uint32_t nauto;
	bool seen_version;
	char *err;
	size_t errlen;
};

static int bad(struct comp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct comp *c, const char *fmt, ...)
{
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tr_errf(c->err, c->errlen, "%s:%llu: %s", lines_path(c->l), (unsigned long long)lines_lineno(c->l), why);
	return -1;
}

/* Split s into at most max whitespace-separated tokens (s is modified). */
static int tokens(char *s, char **tok, int max)
{
	int n = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			*s++ = 0;
		if (!*s)
			break;
		if (n == max)
			return -1;
		tok[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	return n;
}

/* Unsigned number (decimal or 0x hex). */
static bool num_u(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* Signed number: an optional '-' then an unsigned number. */
static bool num_s(const char *s, int64_t min, int64_t max, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t v;
	if (!num_u(s + neg, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v))
		return false;
	int64_t x = neg ? (int64_t)(0 - v) : (int64_t)v;
	if (x < min || x > max)
		return false;
	*out = x;
	return true;
}

/* An address: 0x.. (absolute), rN+OFF or brk+OFF (relative). */
static bool parse_addr(const char *s, bool *rel, uint32_t *region, uint64_t *a)
{
	uint64_t r;
	if (!strncmp(s, "brk+", 4)) {
		*rel = true;
		*region = EV_REGION_BRK;
		return num_u(s + 4, UINT64_MAX, a);
	}
	if (s[0] == 'r' && s[1] >= '0' && s[1] <= '9') {
		const char *plus = strchr(s, '+');
		char buf[16];
		if (!plus || (size_t)(plus - s - 1) >= sizeof(buf))
			return false;
		memcpy(buf, s + 1, (size_t)(plus - s - 1));
		buf[plus - s - 1] = 0;
		if (!num_u(buf, UINT32_MAX, &r) || !r || r == EV_REGION_BRK)
			return false;
		*rel = true;
		*region = (uint32_t)r;
		return num_u(plus + 1, UINT64_MAX, a);
	}
	*rel = false;
	*region = 0;
	return num_u(s, UINT64_MAX, a);
}

static bool parse_prot(const char *s, int32_t *prot)
{
	if (strlen(s) == 3 && strspn(s, "rwx-") == 3 && (s[0] == 'r' || s[0] == '-') && (s[1] == 'w' || s[1] == '-') &&
	    (s[2] == 'x' || s[2] == '-')) {
		*prot = (s[0] == 'r') | (s[1] == 'w') << 1 | (s[2] == 'x') << 2;
		return true;
	}
	int64_t v;
	if (!num_s(s, INT32_MIN, INT32_MAX, &v))
		return false;
	*prot = (int32_t)v;
	return true;
}

/* Flags: names and numbers joined by '|'. */
static bool parse_flags(const char *s, const struct name *names, bool types, int32_t *out)
{
	uint64_t v = 0;
	char buf[256];
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (char *save = NULL, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
		uint64_t x = 0;
		bool found = false;
		for (const struct name *n = names; n->s && !found; n++)
			if (!strcmp(t, n->s))
				x = n->v, found = true;
		for (int i = 1; types && i < 4 && !found; i++)
			if (!strcmp(t, map_types[i]))
				x = (uint64_t)i, found = true;
		if (!found && !num_u(t, UINT32_MAX, &x))
			return false;
		v |= x;
	}
	if (s[0] == '|' || !s[0] || s[strlen(s) - 1] == '|' || strstr(s, "||"))
		return false;
	*out = (int32_t)(uint32_t)v;
	return true;
}

static uint32_t c_thread(struct comp *c, uint32_t tid)
{
	for (uint32_t i = 0; i < c->h.nthreads; i++)
		if (c->h.threads[i].tid == tid)
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
	uint32_t i = c->h.nthreads++;
	memset(&c->h.threads[i], 0, sizeof(struct tr_thread));
	c->h.threads[i].tid = tid;
	c->first_line[i] = 0;
	c->at[i] = 0;
	c->decl_line[i] = lines_lineno(c->l);
	c->declared[i] = c->created[i] = 0;
	return i;
}

static int c_line_thread(struct comp *c, char **tok, int n)
{
	uint64_t v;
	if (n < 2 || !num_u(tok[1], UINT32_MAX, &v) || !v)
		return bad(c, "thread: expected a thread id (1 or more)");
	if (c->h.nthreads >= TR_MAX_THREADS)
		return bad(c, "more than %u threads", TR_MAX_THREADS);
	uint32_t i = c_thread(c, (uint32_t)v);
	if (c->declared[i])
		return bad(c, "thread %s is declared twice", tok[1]);
	struct tr_thread t = c->h.threads[i];
	uint32_t pid = 0;
	for (int k = 2; k < n; k++) {
		char *eq = strchr(tok[k], '=');
		if (!eq)
			return bad(c, "thread: '%s' is not key=value", tok[k]);
		*eq++ = 0;
		if (!strcmp(tok[k], "comm")) {
			if (!unescape(eq))
				return bad(c, "thread: comm=: a bad %%XX escape");
			snprintf(t.comm, sizeof(t.comm), "%s", eq);
			continue;
		}
		if (!num_u(eq, UINT64_MAX, &v))
			return bad(c, "thread: %s=%s is not a number", tok[k], eq);
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

static int c_line_file(struct comp *c, char **tok, int n)
{
	uint64_t id, size = 0, ino = 0, v;
	uint32_t dev = 0;
	const char *name = "";
	if (n < 2 || !num_u(tok[1], UINT32_MAX, &id) || !id)
		return bad(c, "file: expected a file id (1 or more)");
	if (tr_file_find(&c->h, (uint32_t)id))
		return bad(c, "file %s is declared twice (or used before its declaration)", tok[1]);
	if (c->h.nfiles >= TR_MAX_FILES)
		return bad(c, "more than %u files", TR_MAX_FILES);
	for (int k = 2; k < n; k++) {
		char *eq = strchr(tok[k], '=');
		if (!eq)
			return bad(c, "file: '%s' is not key=value", tok[k]);
		*eq++ = 0;
		if (!strcmp(tok[k], "name")) {
			if (!unescape(eq))
				return bad(c, "file: name=: a bad %%XX escape");
			name = eq;
		} else if (!strcmp(tok[k], "dev")) {
			char *colon = strchr(eq, ':');
			uint64_t ma, mi;
			char mabuf[16];
			if (!colon || (size_t)(colon - eq) >= sizeof(mabuf))
				return bad(c, "file: dev=%s is not MAJOR:MINOR (hex)", eq);
			memcpy(mabuf, eq, (size_t)(colon - eq));
			mabuf[colon - eq] = 0;
			char *e1, *e2;
			errno = 0;
			ma = strtoull(mabuf, &e1, 16);
			mi = strtoull(colon + 1, &e2, 16);
			if (errno || *e1 || *e2 || !mabuf[0] || !colon[1] || ma > 0xfff || mi > 0xfffff)
				return bad(c, "file: dev=%s is not MAJOR:MINOR (hex)", eq);
			dev = (uint32_t)(ma << 20 | mi);
		} else if (!num_u(eq, UINT64_MAX, &v)) {
			return bad(c, "file: %s=%s is not a number", tok[k], eq);
		} else if (!strcmp(tok[k], "size")) {
			if (v > TR_MAX_FILE_SIZE)
				return bad(c, "file: size %s is larger than %llu", eq, (unsigned long long)TR_MAX_FILE_SIZE);
			size = v;
		} else if (!strcmp(tok[k], "ino")) {
			ino = v;
		} else {
			return bad(c, "file: unknown key '%s'", tok[k]);
		}
	}
	if (c->h.nfiles == c->cap_files) {
		c->cap_files = c->cap_files ? c->cap_files * 2 : 16;
		c->h.files = xrealloc(c->h.files, sizeof(struct tr_file) * c->cap_files);
	}
	c->h.files[c->h.nfiles++] = (struct tr_file){ (uint32_t)id, size, dev, ino, xstrdup(name) };
	tr_writer_file(c->w, (uint32_t)id, size, dev, ino, name);
	return 0;
}

static enum ev_kind kind_of(const char *s, bool *ok)
{
	for (int k = 1; k < EV_KINDS; k++)
		if (!strcmp(s, kind_names[k])) {
			*ok = true;
			return (enum ev_kind)k;
		}
	*ok = false;
	return EV_END;
}

/* Positional arguments each kind takes (after the kind). */
static int positional(enum ev_kind k)
{
	switch (k) {
	case EV_MMAP: return 4;
	case EV_MUNMAP: return 2;
	case EV_MPROTECT: return 3;
	case EV_MADVISE: return 3;
	case EV_MREMAP: return 4;
	case EV_BRK: return 1;
	case EV_ACCESS: return 2;
	case EV_COMPUTE: return 1;
	case EV_BARRIER: return 2;
	case EV_THREAD: return 1;
	case EV_FORK: return 2;
	default: return 0;
	}
}

static int c_key(struct comp *c, struct ev *e, struct tr_meta *m, char *key, bool *nocheck)
{
	if (!strcmp(key, "op")) {
		e->fl |= EVF_OP;
		return 0;
	}
	if (!strcmp(key, "sync")) {
		m->sync = true;
		return 0;
	}
	if (!strcmp(key, "nocheck")) {
		*nocheck = true;
		return 0;
	}
	if (!strcmp(key, "vfork") && e->kind == EV_FORK) {
		e->flags = 1;
		return 0;
	}
	if (!strcmp(key, "group") && e->kind == EV_EXIT) {
		e->len = 1;
		return 0;
	}
	char *eq = strchr(key, '=');
	if (!eq)
		return bad(c, "'%s' is not key=value (nor op, sync, nocheck%s)", key,
			   e->kind == EV_FORK ? ", vfork" : e->kind == EV_EXIT ? ", group" : "");
	*eq++ = 0;
	uint64_t v;
	int64_t s;
	bool rel;
	uint32_t region;
	if (!strcmp(key, "at")) {
		if (!num_u(eq, UINT64_MAX, &m->at))
			return bad(c, "at=%s is not a time in ns", eq);
	} else if (!strcmp(key, "as")) {
		if (!num_u(eq, UINT32_MAX, &v) || !v)
			return bad(c, "as=%s is not an address space id (from 1)", eq);
		m->asid = (uint32_t)v;
	} else if (!strcmp(key, "new")) {
		if (eq[0] != 'r' || !num_u(eq + 1, UINT32_MAX, &v) || !v || v == EV_REGION_BRK)
			return bad(c, "new=%s: expected rN (N from 1)", eq);
		e->new_region = (uint32_t)v;
	} else if (!strcmp(key, "to")) {
		if (!parse_addr(eq, &rel, &region, &e->addr2))
			return bad(c, "to=%s is not an address", eq);
		e->region2 = region;
		if (rel)
			e->fl |= EVF_REGION2;
	} else if (!strcmp(key, "ret")) {
		if (!num_s(eq, INT64_MIN, INT64_MAX, &s))
			return bad(c, "ret=%s is not a number", eq);
		e->ret = s;
		e->fl |= EVF_CHECK;
	} else if (!strcmp(key, "prot") || !strcmp(key, "flags") || !strcmp(key, "advice")) {
		if (!num_s(eq, INT32_MIN, INT32_MAX, &s))
			return bad(c, "%s=%s is not a 32-bit number", key, eq);
		*(key[0] == 'p' ? &e->prot : key[0] == 'f' ? &e->flags : &e->advice) = (int32_t)s;
	} else {
		static const char *const u32keys[] = { "acc", "region", "region2", "tid2", "pid2", "file", NULL };
		static const char *const u64keys[] = { "addr", "addr2", "len", "len2", "off", "hint", "cycles", NULL };
		for (int i = 0; u32keys[i]; i++)
			if (!strcmp(key, u32keys[i])) {
				if (!num_u(eq, i == 0 ? 255 : UINT32_MAX, &v))
					return bad(c, "%s=%s is out of range", key, eq);
				uint32_t x = (uint32_t)v;
				switch (i) {
				case 0: e->acc = (uint8_t)x; break;
				case 1: e->region = x; break;
				case 2: e->region2 = x; break;
				case 3: e->tid2 = x; break;
				case 4: e->pid2 = x; break;
				default: e->file = x; break;
				}
				return 0;
			}
		for (int i = 0; u64keys[i]; i++)
			if (!strcmp(key, u64keys[i])) {
				if (!num_u(eq, UINT64_MAX, &v))
					return bad(c, "%s=%s is not a number", key, eq);
				uint64_t *dst[] = { &e->addr, &e->addr2, &e->len, &e->len2, &e->off, &e->hint, &e->cycles };
				*dst[i] = v;
				return 0;
			}
		return bad(c, "unknown key '%s'", key);
	}
	return 0;
}

static int c_line_event(struct comp *c, char **tok, int n)
{
	uint64_t v;
	if (!num_u(tok[0], UINT32_MAX, &v) || !v)
		return bad(c, "'%s' is neither a header keyword nor a thread id", tok[0]);
	uint32_t tid = (uint32_t)v;
	if (n < 2)
		return bad(c, "an event needs a kind after the thread id");
	bool ok;
	struct ev e = { 0 };
	e.kind = (uint8_t)kind_of(tok[1], &ok);
	if (!ok || e.kind == EV_END)
		return bad(c, "unknown event kind '%s'", tok[1]);
	int np = positional(e.kind);
	if (n < 2 + np)
		return bad(c, "%s needs %d argument%s", tok[1], np, np == 1 ? "" : "s");
	char **a = tok + 2;
	bool rel;
	uint32_t region;
	switch (e.kind) {
	case EV_MMAP:
	case EV_MUNMAP:
	case EV_MPROTECT:
	case EV_MADVISE:
	case EV_MREMAP:
	case EV_BRK:
	case EV_ACCESS:
		if (!parse_addr(a[0], &rel, &region, &e.addr))
			return bad(c, "'%s' is not an address (0xHEX, rN+OFF or brk+OFF)", a[0]);
		e.region = region;
		if (rel)
			e.fl |= EVF_REGION;
		break;
	}
	switch (e.kind) {
	case EV_MMAP:
	case EV_MUNMAP:
	case EV_MPROTECT:
	case EV_MADVISE:
	case EV_MREMAP:
		if (!num_u(a[1], UINT64_MAX, &e.len))
			return bad(c, "'%s' is not a length", a[1]);
		break;
	}
	switch (e.kind) {
	case EV_MMAP:
		if (!parse_prot(a[2], &e.prot))
			return bad(c, "'%s' is not a protection (like rw- or a number)", a[2]);
		if (!parse_flags(a[3], map_flags, true, &e.flags))
			return bad(c, "'%s' is not mmap flags (like private|anon|fixed)", a[3]);
		break;
	case EV_MPROTECT:
		if (!parse_prot(a[2], &e.prot))
			return bad(c, "'%s' is not a protection (like rw- or a number)", a[2]);
		break;
	case EV_MADVISE: {
		const struct name *nm = advices;
		while (nm->s && strcmp(nm->s, a[2]))
			nm++;
		int64_t s;
		if (nm->s)
			e.advice = (int32_t)nm->v;
		else if (num_s(a[2], INT32_MIN, INT32_MAX, &s))
			e.advice = (int32_t)s;
		else
			return bad(c, "'%s' is not an advice (like dontneed or a number)", a[2]);
		break;
	}
	case EV_MREMAP:
		if (!num_u(a[2], UINT64_MAX, &e.len2))
			return bad(c, "'%s' is not a length", a[2]);
		if (!parse_flags(a[3], mremap_flags, false, &e.flags))
			return bad(c, "'%s' is not mremap flags (like maymove|fixed)", a[3]);
		break;
	case EV_ACCESS:
		if (strlen(a[1]) != 1 || !strchr(acc_names, a[1][0]))
			return bad(c, "'%s' is not an access type (r, w or x)", a[1]);
		e.acc = (uint8_t)(strchr(acc_names, a[1][0]) - acc_names);
		break;
	case EV_COMPUTE: {
		size_t l = strlen(a[0]);
		char buf[32];
		if (l >= sizeof(buf))
			return bad(c, "'%s' is not a compute gap (N cycles or Nns)", a[0]);
		strcpy(buf, a[0]);
		if (l > 2 && !strcmp(buf + l - 2, "ns")) {
			buf[l - 2] = 0;
			e.fl |= EVF_NS;
		}
		if (!num_u(buf, TR_MAX_COMPUTE, &e.cycles))
			return bad(c, "'%s' is not a compute gap (N cycles or Nns, at most %llu)", a[0],
				   (unsigned long long)TR_MAX_COMPUTE);
		break;
	}
	case EV_BARRIER:
		if (!num_u(a[0], UINT64_MAX, &e.addr) || !num_u(a[1], UINT64_MAX, &e.len))
			return bad(c, "barrier: expected an id and a thread count");
		break;
	case EV_THREAD:
		if (!num_u(a[0], UINT32_MAX, &v) || !v)
			return bad(c, "thread: '%s' is not a thread id", a[0]);
		e.tid2 = (uint32_t)v;
		break;
	case EV_FORK:
		if (!num_u(a[0], UINT32_MAX, &v) || !v)
			return bad(c, "fork: '%s' is not a process id", a[0]);
		e.pid2 = (uint32_t)v;
		if (!num_u(a[1], UINT32_MAX, &v) || !v)
			return bad(c, "fork: '%s' is not a thread id", a[1]);
		e.tid2 = (uint32_t)v;
		break;
	}
	bool nocheck = false;
	if (c->h.nthreads >= TR_MAX_THREADS)
		return bad(c, "more than %u threads", TR_MAX_THREADS);
	uint32_t i = c_thread(c, tid);
	struct tr_meta meta = { .at = c->at[i] };
	for (int k = 2 + np; k < n; k++)
		if (c_key(c, &e, &meta, tok[k], &nocheck))
			return -1;
	if (nocheck)
		e.fl &= ~EVF_CHECK;
	/* The header as the events imply it: who creates whom, which files exist. */
	c->at[i] = meta.at;
	if (!c->first_line[i])
		c->first_line[i] = lines_lineno(c->l);
	if (e.kind == EV_THREAD || e.kind == EV_FORK) {
		if (e.tid2 == tid)
			return bad(c, "thread %u cannot create itself", tid);
		if (!c->h.threads[i].pid)
			return bad(c, "thread %u creates a thread before its process is known (declare it: thread %u pid=N)",
				   tid, tid);
		if (c->h.nthreads >= TR_MAX_THREADS)
			return bad(c, "more than %u threads", TR_MAX_THREADS);
		uint32_t j = c_thread(c, e.tid2);
		struct tr_thread *ch = &c->h.threads[j];
		uint32_t pid = e.kind == EV_THREAD ? c->h.threads[i].pid : e.pid2;
		if (c->created[j])
			return bad(c, "thread %u is created twice", e.tid2);
		if (c->declared[j] && (ch->pid != pid || ch->parent != tid))
			return bad(c, "thread %u was declared with pid=%u parent=%u, but this event makes it pid %u, parent %u",
				   e.tid2, ch->pid, ch->parent, pid, tid);
		ch->pid = pid;
		ch->parent = tid;
		c->created[j] = 1;
		tr_writer_thread(c->w, ch);
	}
	if (e.kind == EV_MMAP && !(e.flags & VM_MAP_ANONYMOUS) && !tr_file_find(&c->h, e.file)) {
		if (!e.file)
			return bad(c, "a file mapping needs file=N (or the anon flag)");
		if (c->h.nfiles >= TR_MAX_FILES)
			return bad(c, "more than %u files", TR_MAX_FILES);
		if (c->h.nfiles == c->cap_files) {
			c->cap_files = c->cap_files ? c->cap_files * 2 : 16;
			c->h.files = xrealloc(c->h.files, sizeof(struct tr_file) * c->cap_files);
		}
		c->h.files[c->h.nfiles++] = (struct tr_file){ e.file, 0, 0, 0, xstrdup("") };
		tr_writer_file(c->w, e.file, 0, 0, 0, "");
		c->auto_files = xrealloc(c->auto_files, sizeof(uint32_t) * (c->nauto + 1));
		c->auto_files[c->nauto++] = e.file;
	}
	if (e.kind == EV_MMAP && !(e.flags & VM_MAP_ANONYMOUS)) {
		/* A file no line declared is as large as its mappings reach. */
		struct tr_file *f = (struct tr_file *)tr_file_find(&c->h, e.file);
		uint64_t end = e.off + vm_page_up(e.len);
		bool automatic = false;
		for (uint32_t k = 0; k < c->nauto && !automatic; k++)
			automatic = c->auto_files[k] == e.file;
		if (automatic && end >= e.off && end <= TR_MAX_FILE_SIZE && end > f->size) {
			f->size = end;
			tr_writer_file(c->w, f->id, end, 0, 0, NULL);
		}
	}
	if (!c->h.threads[i].pid) {
		/* Not created nor declared yet: tr_check_event needs a process; the end checks it was declared. */
		struct tr_header tmp = c->h;
		tmp.threads = xmalloc(sizeof(struct tr_thread) * c->h.nthreads);
		memcpy(tmp.threads, c->h.threads, sizeof(struct tr_thread) * c->h.nthreads);
		tmp.threads[i].pid = UINT32_MAX;
		const char *why = tr_check_event(&tmp, tid, &e);
		xfree(tmp.threads);
		if (why)
			return bad(c, "%s", why);
	} else {
		const char *why = tr_check_event(&c->h, tid, &e);
		if (why)
			return bad(c, "%s", why);
	}
	if (tr_write(c->w, tid, &e, &meta))
		return bad(c, "cannot write the temporary file");
	return 0;
}

int tr_compile(const char *in, const char *out, char *err, size_t errlen)
{
	struct comp c = { .err = err, .errlen = errlen };
	c.l = lines_open(in, err, errlen);
	if (!c.l)
		return -1;
	c.w = tr_writer_open(out, err, errlen);
	if (!c.w) {
		lines_close(c.l);
		return -1;
	}
	char src[600];
	snprintf(src, sizeof(src), "text:%s", in);
	tr_writer_source(c.w, src);
	int rc = 0;
	const char *line;
	size_t len;
	char *tok[64];
	char *buf = NULL;
	size_t bcap = 0;
	while (!rc && (line = lines_next(c.l, &len))) {
		if (memchr(line, 0, len)) {
			rc = bad(&c, "a NUL byte in the line");
			break;
		}
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (len + 1 > bcap)
			buf = xrealloc(buf, bcap = len + 1);
		memcpy(buf, line, len + 1);
		if (!c.seen_version) {
			int n = tokens(buf, tok, 64);
			if (n != 2 || strcmp(tok[0], "mmsim-trace"))
				rc = bad(&c, "expected the first line 'mmsim-trace %u'", TR_VERSION);
			else if (strcmp(tok[1], "1"))
				rc = bad(&c, "text trace version %s; this mmsim reads version %u", tok[1], TR_VERSION);
			c.seen_version = true;
			continue;
		}
		if (!strncmp(p, "source", 6) && (p[6] == ' ' || p[6] == '\t' || !p[6])) {
			const char *s = p + 6;
			while (*s == ' ' || *s == '\t')
				s++;
			char *u = xstrdup(s);
			if (!unescape(u)) {
				xfree(u);
				rc = bad(&c, "source: a bad %%XX escape");
				break;
			}
			tr_writer_source(c.w, u);
			xfree(u);
			continue;
		}
		int n = tokens(buf, tok, 64);
		if (n < 0)
			rc = bad(&c, "too many fields");
		else if (!strcmp(tok[0], "thread"))
			rc = c_line_thread(&c, tok, n);
		else if (!strcmp(tok[0], "file"))
			rc = c_line_file(&c, tok, n);
		else
			rc = c_line_event(&c, tok, n);
	}
	xfree(buf);
	if (!rc && lines_error(c.l)) {
		tr_errf(err, errlen, "%s", lines_error(c.l));
		rc = -1;
	}
	if (!rc && !c.seen_version)
		rc = bad(&c, "empty: expected the first line 'mmsim-trace %u'", TR_VERSION);
	for (uint32_t i = 0; !rc && i < c.h.nthreads; i++) {
		const struct tr_thread *t = &c.h.threads[i];
		if (!t->pid) {
			tr_errf(err, errlen, "%s:%llu: thread %u has events but is neither declared (thread %u pid=N) nor created",
				in, (unsigned long long)c.first_line[i], t->tid, t->tid);
			rc = -1;
		} else if (t->parent && (!tr_thread_find(&c.h, t->parent) || !tr_thread_find(&c.h, t->parent)->pid)) {
			tr_errf(err, errlen, "%s:%llu: thread %u: its parent thread %u is not in the trace", in,
				(unsigned long long)c.decl_line[i], t->tid, t->parent);
			rc = -1;
		}
	}
	char why[300];
	if (!rc && tr_header_check(&c.h, why, sizeof(why))) {
		tr_errf(err, errlen, "%s: %s", in, why);
		rc = -1;
	}
	lines_close(c.l);
	if (rc)
		tr_writer_abort(c.w);
	else
		rc = tr_writer_close(c.w, err, errlen);
	tr_header_free(&c.h);
	xfree(c.first_line);
	xfree(c.at);
	xfree(c.decl_line);
	xfree(c.auto_files);
	xfree(c.declared);
	xfree(c.created);
	return rc;
}
