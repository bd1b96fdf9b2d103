/* judge.c: a replay's judge: each checked result against the recording (fault outcomes, errno, the mapping an address names, brk's offset), the mismatches with their position and explanation, the last memory call on each page, and latency samples per call type. */
#include "traces/judge.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A memory call as the log keeps it: its pages, who made it and where. */
struct call {
	uint64_t s, e;
	struct jd_pos pos;
	uint8_t kind;
};

/* The calls made on one address space, in order. */
struct clog {
	const struct vm_as *as;
	struct call *c;
	size_t n, cap;
};

/* One kept mismatch. */
struct mm {
	struct jd_pos pos;
	uint8_t kind, acc;
	uint64_t addr, len;
	int64_t rec;
	long got;
	char why[200], last[200];
};

struct samples {
	uint64_t *rec, *sim;
	size_t n, cap;
};

struct jd {
	pthread_mutex_t mu;
	bool inspect;
	uint64_t keep, count;
	struct mm *mm;
	size_t nmm, capmm;
	struct clog *logs;
	size_t nlogs, caplogs;
	struct samples t[EV_KINDS];
};

struct jd *jd_new(bool inspect, uint64_t keep)
{
	struct jd *j = xzalloc(sizeof(*j));
	pthread_mutex_init(&j->mu, NULL);
	j->inspect = inspect;
	j->keep = keep;
	return j;
}

void jd_free(struct jd *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nlogs; i++)
		xfree(j->logs[i].c);
	for (int k = 0; k < EV_KINDS; k++) {
		xfree(j->t[k].rec);
		xfree(j->t[k].sim);
	}
	xfree(j->logs);
	xfree(j->mm);
	pthread_mutex_destroy(&j->mu);
	xfree(j);
}

/* The log of address space as (made on first use). Under j->mu. */
static struct clog *log_of(struct jd *j, const struct vm_as *as)
{
	for (size_t i = j->nlogs; i-- > 0;)
		if (j->logs[i].as == as)
			return &j->logs[i];
	if (j->nlogs == j->caplogs)
		j->logs = xrealloc(j->logs, sizeof(*j->logs) * (j->caplogs = j->caplogs ? j->caplogs * 2 : 8));
	j->logs[j->nlogs] = (struct clog){ .as = as };
	return &j->logs[j->nlogs++];
}

/* Whether an event kind is a memory call on a range of addresses (or the whole space). */
static bool is_call(uint8_t k)
{
	return (k >= EV_MMAP && k <= EV_BRK) || (k >= EV_MLOCK && k <= EV_FALLOCATE) || k == EV_EXEC || k == EV_FORK;
}

/* "KIND by thread T (recorded R), event N, line L" of a logged call. */
static void describe_call(char *out, size_t n, const struct call *c)
{
	snprintf(out, n, "%s [0x%" PRIx64 ", 0x%" PRIx64 ") by thread %u (recorded %u), event %" PRIu64 ", line %" PRIu64,
		 ev_names[c->kind], c->s, c->e, c->pos.tid, c->pos.rtid, c->pos.n, c->pos.line);
}

/* The last logged call of as whose range holds page va. Under j->mu. */
static void last_call(struct jd *j, const struct vm_as *as, uint64_t va, char *out, size_t n)
{
	struct clog *l = log_of(j, as);
	va &= ~(uint64_t)(PAGE_SIZE - 1);
	for (size_t i = l->n; i-- > 0;)
		if (l->c[i].s <= va && va < l->c[i].e) {
			describe_call(out, n, &l->c[i]);
			return;
		}
	snprintf(out, n, "none (the page was never named by a call of this address space)");
}

struct first {
	struct vm_range r;
	bool found;
};

static void take(void *arg, const struct vm_range *r)
{
	struct first *f = arg;
	if (!f->found) {
		f->r = *r;
		f->found = true;
	}
}

/* "anon rw- private [a, b)" or "file 3 r-- shared [a, b)" of a range. */
static void describe_range(char *out, size_t n, const struct vm_range *r)
{
	char kind[32] = "anon";
	if (r->kind == VM_KIND_FILE)
		snprintf(kind, sizeof(kind), "file %u", r->file_id);
	snprintf(out, n, "%s %c%c%c %s [0x%" PRIx64 ", 0x%" PRIx64 ")", kind, r->prot & VM_PROT_READ ? 'r' : '-',
		 r->prot & VM_PROT_WRITE ? 'w' : '-', r->prot & VM_PROT_EXEC ? 'x' : '-',
		 r->flags & VM_RANGE_SHARED ? "shared" : "private", r->start, r->end);
}

static const char *const outcome[] = { "resolved", "SIGSEGV", "SIGBUS", "out of memory" };

/* Why the design gave fault outcome got at va (an access acc): what its layout holds there. */
static void why_fault(struct jd *j, struct vm_as *as, uint64_t va, int acc, long got, char *out, size_t n)
{
	const char *o = got >= 0 && got <= 3 ? outcome[got] : "?";
	if (!j->inspect) {
		snprintf(out, n, "%s (parallel mode: the layout is not read during the run)", o);
		return;
	}
	struct first f = { .found = false };
	uint64_t pg = va & ~(uint64_t)(PAGE_SIZE - 1);
	vm_layout(as, pg, pg + PAGE_SIZE, take, &f);
	if (!f.found) {
		snprintf(out, n, "%s: no mapping covers the page", o);
		return;
	}
	char r[120];
	describe_range(r, sizeof(r), &f.r);
	static const uint32_t need[] = { VM_PROT_READ, VM_PROT_WRITE, VM_PROT_EXEC };
	if (got == VM_FAULT_SEGV && !(f.r.prot & need[acc % 3]))
		snprintf(out, n, "%s: the page is in %s, whose protection forbids a %s", o, r,
			 acc == 1 ? "write" : acc == 2 ? "fetch" : "read");
	else if (got == VM_FAULT_BUS)
		snprintf(out, n, "%s: the page is in %s, beyond the end of its file", o, r);
	else
		snprintf(out, n, "%s: the page is in %s", o, r);
}

/* What one layout visit gives names_mapping: the first range, and how far the ranges reach from it without a gap. */
struct cover {
	struct vm_range first;
	uint64_t reach;
	bool found, gap;
};

static void cover_range(void *arg, const struct vm_range *r)
{
	struct cover *c = arg;
	if (!c->found) {
		c->first = *r;
		c->reach = r->end;
		c->found = true;
	} else if (!c->gap && r->start > c->reach) {
		c->gap = true;
	} else if (!c->gap && r->end > c->reach) {
		c->reach = r->end;
	}
}

/*
 * Whether [a, a + len) is covered by mappings of the kind e asks (mmap: anon
 * or file; else any). Mappings may continue each other (a design splits or
 * merges as it likes): one visit of the whole range, whose ranges must follow
 * each other from a to the end (a visit per range cost a walk from the root
 * per page on a design that keeps a large reservation's statuses per page).
 */
static bool names_mapping(struct vm_as *as, const struct ev *e, uint64_t a, uint64_t len, char *why, size_t n)
{
	struct cover c = { .found = false };
	uint64_t end = a + vm_page_up(len);
	vm_layout(as, a, end, cover_range, &c);
	if (!c.found || c.first.start > a) {
		snprintf(why, n, "no mapping at the address it returned");
		return false;
	}
	bool want_file = e->kind == EV_MMAP && !(e->flags & VM_MAP_ANONYMOUS);
	/* Shared anonymous memory is a shmem file's in Linux: a design may report it either way. */
	bool either = e->kind == EV_MMAP && (e->flags & VM_MAP_ANONYMOUS) && (e->flags & VM_MAP_TYPE) != VM_MAP_PRIVATE;
	if (e->kind == EV_MMAP && !either && (c.first.kind == VM_KIND_FILE) != want_file) {
		snprintf(why, n, "the address it returned is in a %s mapping, the recording's is %s",
			 c.first.kind == VM_KIND_FILE ? "file" : "anonymous", want_file ? "a file's" : "anonymous");
		return false;
	}
	if (c.reach < end) {
		snprintf(why, n, "the mapping at the address it returned ends at 0x%" PRIx64 ", before its size 0x%" PRIx64,
			 c.reach, len);
		return false;
	}
	return true;
}

static const char *check_call(struct jd *j, struct vm_as *as, const struct ev *e, long r, char *why, size_t n)
{
	if (r < 0 || e->ret < 0) {
		if (r == e->ret)
			return NULL;
		if (r < 0)
			snprintf(why, n, "the design refused it with errno %ld", -r);
		else
			snprintf(why, n, "the design accepted it (result 0x%lx)", (unsigned long)r);
		return why;
	}
	switch (e->kind) {
	case EV_MMAP:
	case EV_MREMAP:
		/* Addresses differ between designs by design: the result must name a mapping of the recorded size and kind. */
		if (j->inspect && !names_mapping(as, e, (uint64_t)r, e->kind == EV_MREMAP ? e->len2 : e->len, why, n))
			return why;
		return NULL;
	case EV_BRK:
		/* The break's offset from the start of brk (recorded in off; 0: not recorded, a query). */
		if (e->off && e->hint && (uint64_t)r - as->start_brk != (uint64_t)e->ret - e->off) {
			snprintf(why, n, "the break is brk+0x%" PRIx64 ", the recording's brk+0x%" PRIx64,
				 (uint64_t)r - as->start_brk, (uint64_t)e->ret - e->off);
			return why;
		}
		return NULL;
	default:
		if (r == e->ret)
			return NULL;
		snprintf(why, n, "the design returned %ld", r);
		return why;
	}
}

int jd_check(struct jd *j, const struct jd_pos *pos, struct vm_as *as, const struct ev *e, uint64_t addr, long r)
{
	struct mm m = { .pos = *pos, .kind = e->kind, .acc = e->acc, .addr = addr, .len = e->len, .rec = e->ret, .got = r };
	int verdict = 0;
	pthread_mutex_lock(&j->mu);
	if (e->fl & EVF_CHECK) {
		if (e->kind == EV_ACCESS) {
			long want = e->ret == 0 ? VM_FAULT_OK : e->ret == 2 ? VM_FAULT_BUS : VM_FAULT_SEGV;
			if (r != want) {
				verdict = 1;
				why_fault(j, as, addr, e->acc, r, m.why, sizeof(m.why));
			}
		} else if (check_call(j, as, e, r, m.why, sizeof(m.why))) {
			verdict = 2;
		}
	}
	if (verdict) {
		j->count++;
		if (j->nmm < j->keep) {
			last_call(j, as, addr, m.last, sizeof(m.last));
			if (j->nmm == j->capmm)
				j->mm = xrealloc(j->mm, sizeof(*j->mm) * (j->capmm = j->capmm ? j->capmm * 2 : 64));
			j->mm[j->nmm++] = m;
		}
	}
	if (is_call(e->kind) && r >= 0 && (j->keep || j->inspect)) {
		/* A call that succeeded touched its pages: logged for the mismatches after it. */
		struct clog *l = log_of(j, as);
		if (l->n == l->cap)
			l->c = xrealloc(l->c, sizeof(*l->c) * (l->cap = l->cap ? l->cap * 2 : 256));
		uint64_t s = addr & ~(uint64_t)(PAGE_SIZE - 1), len = e->kind == EV_MREMAP ? MAX(e->len, e->len2) : e->len;
		if ((e->kind == EV_MMAP || e->kind == EV_MREMAP) && r >= 0)
			s = (uint64_t)r;
		if (e->kind == EV_BRK)
			s = as->start_brk, len = as->brk > as->start_brk ? as->brk - as->start_brk : 0;
		if (e->kind == EV_MLOCKALL || e->kind == EV_MUNLOCKALL || e->kind == EV_FORK || e->kind == EV_EXEC ||
		    e->kind == EV_FTRUNCATE || e->kind == EV_FALLOCATE)
			s = 0, len = VM_TASK_SIZE; /* the whole space (a file's size change reaches every mapping of it) */
		l->c[l->n++] = (struct call){ s, s + vm_page_up(len), *pos, e->kind };
	}
	pthread_mutex_unlock(&j->mu);
	return verdict;
}

void jd_sample(struct jd *j, uint8_t kind, uint64_t rec_ns, uint64_t sim_ns)
{
	if (kind >= EV_KINDS)
		return;
	pthread_mutex_lock(&j->mu);
	struct samples *s = &j->t[kind];
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->rec = xrealloc(s->rec, sizeof(uint64_t) * s->cap);
		s->sim = xrealloc(s->sim, sizeof(uint64_t) * s->cap);
	}
	s->rec[s->n] = rec_ns;
	s->sim[s->n++] = sim_ns;
	pthread_mutex_unlock(&j->mu);
}

uint64_t jd_mismatches(const struct jd *j) { return j->count; }

/* A string as JSON, quoted. */
static void put_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void jd_write(const struct jd *j, FILE *f, bool json)
{
	for (size_t i = 0; i < j->nmm; i++) {
		const struct mm *m = &j->mm[i];
		char rec[64], got[64];
		if (m->kind == EV_ACCESS) {
			snprintf(rec, sizeof(rec), "%s", outcome[m->rec == 0 ? 0 : m->rec == 2 ? 2 : 1]);
			snprintf(got, sizeof(got), "%s", m->got >= 0 && m->got <= 3 ? outcome[m->got] : "?");
		} else {
			snprintf(rec, sizeof(rec), m->rec < 0 ? "-%" PRId64 " (errno)" : "0x%" PRIx64, m->rec < 0 ? -m->rec : m->rec);
			snprintf(got, sizeof(got), m->got < 0 ? "-%ld (errno)" : "0x%lx", m->got < 0 ? -m->got : m->got);
		}
		const char *what = m->kind == EV_ACCESS ? (m->acc == 1 ? "write" : m->acc == 2 ? "fetch" : "read")
							: ev_names[m->kind];
		if (json) {
			fprintf(f, "{\"thread\": %u, \"recorded_tid\": %u, \"event\": %" PRIu64 ", \"line\": %" PRIu64
				   ", \"kind\": \"%s\", \"what\": \"%s\", \"address\": \"0x%" PRIx64 "\", \"recorded\": ",
				m->pos.tid, m->pos.rtid, m->pos.n, m->pos.line, m->kind == EV_ACCESS ? "fault_outcome" : "result",
				what, m->addr);
			put_json_str(f, rec);
			fputs(", \"design\": ", f);
			put_json_str(f, got);
			fputs(", \"why\": ", f);
			put_json_str(f, m->why);
			fputs(", \"last_call\": ", f);
			put_json_str(f, m->last);
			fputs("}\n", f);
		} else {
			fprintf(f, "thread %u (recorded %u), event %" PRIu64 ", line %" PRIu64 ": %s %s at 0x%" PRIx64
				   ": recorded %s, design %s; why: %s; last call on the page: %s\n",
				m->pos.tid, m->pos.rtid, m->pos.n, m->pos.line, what,
				m->kind == EV_ACCESS ? "fault" : "result", m->addr, rec, got, m->why, m->last);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of n sorted values (nearest rank). */
static double quantile(const uint64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n);
	return (double)v[i < n ? i : n - 1];
}

uint32_t jd_timing(struct jd *j, struct jd_timing *out)
{
	uint32_t n = 0;
	for (int k = 0; k < EV_KINDS; k++) {
		struct samples *s = &j->t[k];
		if (!s->n)
			continue;
		qsort(s->rec, s->n, sizeof(uint64_t), cmp_u64);
		qsort(s->sim, s->n, sizeof(uint64_t), cmp_u64);
		out[n++] = (struct jd_timing){ ev_names[k], s->n, quantile(s->rec, s->n, 0.5), quantile(s->rec, s->n, 0.9),
					      quantile(s->sim, s->n, 0.5), quantile(s->sim, s->n, 0.9) };
	}
	return n;
}
