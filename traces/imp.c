/* imp.c: the importer core: processes, threads and region maps of a recording, and the region-relative events its calls, faults and exits become. */
#include "traces/imp.h"
#include "io/lines.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <string.h>

#define MAX_PIECES 16

/* A fresh importer core writing to w, with f's settings, reading l (for error positions). */
static void imp_init(struct imp *m, const struct imp_format *f, struct lines *l, struct tr_writer *w,
		     const struct tr_import_opts *o, struct tr_import_stats *st, char *err, size_t errlen)
{
	*m = (struct imp){ .w = w, .o = *o, .st = st, .l = l, .err = err, .errlen = errlen, .blind_exec = f->blind_exec };
	m->next_region = 1;
	m->next_asid = 1;
}

/* Free every thread, process and file of the core. */
static void imp_free(struct imp *m)
{
	for (uint32_t i = 0; i < m->nthreads; i++) {
		xfree(m->threads[i]->exec_maps);
		xfree(m->threads[i]->partial);
		xfree(m->threads[i]);
	}
	for (uint32_t i = 0; i < m->nprocs; i++) {
		tu_map_free(&m->procs[i]->fds);
		xfree(m->procs[i]->shm);
		xfree(m->procs[i]->iv);
		xfree(m->procs[i]);
	}
	xfree(m->threads);
	tu_map_free(&m->tix);
	tu_map_free(&m->shm_pages);
	xfree(m->procs);
	xfree(m->files);
	xfree(m->prev);
	memset(m, 0, sizeof(*m));
}

/* ---- writing events ---- */

/* Write an event of t recorded at ns; sync: hold it until the others of its address space are there too. */
static void put_at(struct imp *m, struct imp_thread *t, const struct ev *e, uint64_t ns, bool sync)
{
	if (!m->have_base) {
		m->base = ns;
		m->have_base = true;
	}
	struct tr_meta meta = { .at = ns > m->base ? ns - m->base : 0, .sync = sync,
				.line = e->kind == EV_COMPUTE ? 0 : t->line };
	if (t->p->asid != t->emitted_asid)
		meta.asid = t->emitted_asid = t->p->asid;
	if (sync && ns > t->synced_until)
		t->synced_until = ns;
	if (tr_write(m->w, t->tid, e, &meta))
		m->ioerr = true;
	m->st->events++;
}

/* Write an event of t at the start of its current event. */
void imp_put(struct imp *m, struct imp_thread *t, const struct ev *e, bool sync) { put_at(m, t, e, t->cur, sync); }

static void put_switch(struct imp *m, struct imp_thread *t, uint64_t off, uint64_t in, bool preempt);

/* Write t's pending fault, if any (its outcome is known now), then the switch held behind it. */
static void flush_fault(struct imp *m, struct imp_thread *t)
{
	if (!t->pending)
		return;
	t->pending = false;
	uint64_t line = t->line;
	t->line = t->fault_line;
	put_at(m, t, &t->fault, t->fault_at, t->fault_sync);
	t->line = line;
	if (t->held) {
		t->held = false;
		put_switch(m, t, t->held_off, t->held_in, false);
	}
}

/*
 * t's pending fault will have no outcome in the recording: the thread dies
 * (killed, or its process ends) before it runs on. Under ptrace the kernel's
 * SIGSEGV goes to the tracer, which may kill the thread, so the delivery the
 * importer waits for never comes; the fault is written, not checked.
 */
static void fault_unjudged(struct imp *m, struct imp_thread *t)
{
	if (!t->pending)
		return;
	t->fault.fl &= (uint16_t)~EVF_CHECK;
	m->st->unjudged++;
	flush_fault(m, t);
}

/* After the last line: flush every pending fault and fill the counts. 0, or -1 on a write error. */
static int imp_finish(struct imp *m)
{
	for (uint32_t i = 0; i < m->nthreads; i++)
		flush_fault(m, m->threads[i]);
	uint32_t cpus = 0;
	for (uint32_t i = 0; i < TR_MAX_CPUS / 64; i++)
		cpus += (uint32_t)__builtin_popcountll(m->cpus_seen[i]);
	tr_writer_machine(m->w, cpus, 0);
	m->st->threads = m->nthreads;
	m->st->processes = m->nprocs;
	m->st->files = m->nfiles;
	return m->ioerr ? -1 : 0;
}

/* Every line of the input through f->line; then the reader's error, an input with no thread, or a write error. */
static int imp_lines(struct imp *m, const struct imp_format *f, const char *in)
{
	const char *line;
	size_t len;
	while ((line = lines_next(m->l, &len))) {
		m->st->lines++;
		if (memchr(line, 0, len))
			return imp_bad(m, "a NUL byte in the line");
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line && f->line(m, line))
			return -1;
		if (m->ioerr)
			return imp_bad(m, "cannot write the trace");
	}
	if (lines_error(m->l))
		tu_errf(m->err, m->errlen, "%s", lines_error(m->l));
	else if (!m->nthreads)
		tu_errf(m->err, m->errlen, "%s: %s", in, f->empty_why);
	else if (imp_finish(m))
		tu_errf(m->err, m->errlen, "%s: cannot write the trace", in);
	else
		return 0;
	return -1;
}

int imp_run(struct imp *m, const struct imp_format *f, const char *in, struct tr_writer *w,
	    const struct tr_import_opts *o, struct tr_import_stats *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	struct lines *l = lines_open(in, err, errlen);
	if (!l)
		return -1;
	char src[600];
	snprintf(src, sizeof(src), "%s:%s", f->name, in);
	tr_writer_source(w, src);
	imp_init(m, f, l, w, o, st, err, errlen);
	int rc = imp_lines(m, f, in);
	imp_free(m);
	lines_close(l);
	return rc;
}

void imp_begin(struct imp *m, struct imp_thread *t, uint64_t ns)
{
	flush_fault(m, t);
	if (!m->o.no_compute && t->last && ns > t->last) {
		uint64_t gap = MIN(ns - t->last, TR_MAX_COMPUTE);
		struct ev e = { .kind = EV_COMPUTE, .fl = EVF_NS, .cycles = gap };
		put_at(m, t, &e, t->last, false);
	}
	if (ns > t->last)
		t->last = ns;
	t->cur = ns;
	t->line = lines_lineno(m->l);
}

void imp_switch(struct imp *m, struct imp_thread *t, uint64_t ns, bool in, bool preempt)
{
	if (!in) {
		if (!t->off) {
			t->off = ns;
			t->off_preempt = preempt;
		}
		return;
	}
	uint64_t off = t->off;
	t->off = 0;
	if (!off || !t->last || ns <= t->last || m->o.no_compute) {
		if (ns > t->last && t->last)
			t->last = ns;
		return;
	}
	if (t->pending && !t->held && !t->off_preempt) {
		/* blocked in the fault (I/O, or a tracer's stop on its SIGSEGV): the outcome comes after */
		t->held = true;
		t->held_off = off;
		t->held_in = ns;
		return;
	}
	flush_fault(m, t); /* preempted, or back on its CPU once already: it ran on, the fault was resolved */
	put_switch(m, t, off, ns, t->off_preempt);
}

void imp_ran(struct imp *m, struct imp_thread *t) { flush_fault(m, t); }

/* Write t's time off its CPU from off to ns: the work before it left, then (blocked, not preempted) a sleep. */
static void put_switch(struct imp *m, struct imp_thread *t, uint64_t off, uint64_t ns, bool preempt)
{
	if (off > t->last) { /* the work before it left */
		struct ev e = { .kind = EV_COMPUTE, .fl = EVF_NS, .cycles = MIN(off - t->last, TR_MAX_COMPUTE) };
		put_at(m, t, &e, t->last, false);
	} else {
		off = t->last;
	}
	if (!preempt) {
		struct ev e = { .kind = EV_COMPUTE, .fl = EVF_NS | EVF_SLEEP, .cycles = MIN(ns - off, TR_MAX_COMPUTE) };
		put_at(m, t, &e, off, false);
		m->st->sleeps++;
	}
	t->last = ns;
}

/* ---- threads and processes ---- */

struct imp_thread *imp_thread_find(struct imp *m, uint32_t rtid)
{
	uint32_t i;
	return tu_map_get(&m->tix, rtid, &i) ? m->threads[i] : NULL;
}

/* Declare (or update) t in the trace's header. */
static void declare(struct imp *m, struct imp_thread *t, uint32_t parent)
{
	struct tr_thread d = { .tid = t->tid, .pid = t->p->pid, .parent = parent, .rtid = t->rtid, .rpid = t->p->rpid };
	snprintf(d.comm, sizeof(d.comm), "%s", t->comm);
	tr_writer_thread(m->w, &d);
}

/* A new process recorded as rpid, with its own address space. */
static struct imp_proc *proc_new(struct imp *m, uint32_t rpid)
{
	if (m->nprocs == m->cap_procs)
		m->procs = xrealloc(m->procs, sizeof(*m->procs) * (m->cap_procs = m->cap_procs ? m->cap_procs * 2 : 8));
	struct imp_proc *p = xzalloc(sizeof(*p));
	p->rpid = rpid;
	p->pid = m->nprocs + 1;
	p->asid = m->next_asid++;
	m->procs[m->nprocs++] = p;
	return p;
}

/* A new thread recorded as rtid in process p (created by parent, 0: initial), declared in the header. */
static struct imp_thread *thread_new(struct imp *m, struct imp_proc *p, uint32_t rtid, const char *comm,
				     uint32_t parent)
{
	if (m->nthreads == m->cap_threads)
		m->threads =
			xrealloc(m->threads, sizeof(*m->threads) * (m->cap_threads = m->cap_threads ? m->cap_threads * 2 : 8));
	struct imp_thread *t = xzalloc(sizeof(*t));
	t->rtid = rtid;
	t->tid = m->nthreads + 1;
	t->p = p;
	snprintf(t->comm, sizeof(t->comm), "%s", comm ? comm : "");
	t->parent = parent;
	tu_map_put(&m->tix, rtid, m->nthreads);
	m->threads[m->nthreads++] = t;
	p->live++;
	declare(m, t, parent);
	return t;
}

struct imp_thread *imp_initial(struct imp *m, uint32_t rpid, uint32_t rtid, const char *comm)
{
	struct imp_proc *p = NULL;
	for (uint32_t i = m->nprocs; i-- > 0;)
		if (m->procs[i]->rpid == rpid && m->procs[i]->live) {
			p = m->procs[i];
			break;
		}
	if (!p)
		p = proc_new(m, rpid);
	struct imp_thread *t = thread_new(m, p, rtid, comm, 0);
	t->first_image = true;
	return t;
}

void imp_comm(struct imp *m, struct imp_thread *t, const char *comm)
{
	if (!strncmp(t->comm, comm, sizeof(t->comm) - 1))
		return;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	declare(m, t, t->parent);
}

struct imp_thread *imp_clone(struct imp *m, struct imp_thread *parent, uint32_t child_rtid, uint32_t child_rpid,
			     enum imp_clone_kind kind, uint64_t ns)
{
	imp_begin(m, parent, ns);
	struct imp_proc *p = parent->p;
	if (kind != IMP_THREAD) {
		struct imp_proc *c = proc_new(m, child_rpid);
		c->iv = xmalloc(sizeof(*c->iv) * (p->n ? p->n : 1));
		if (p->n)
			memcpy(c->iv, p->iv, sizeof(*c->iv) * p->n);
		c->n = c->cap = p->n;
		c->brk_base = p->brk_base;
		c->brk_cur = p->brk_cur;
		c->brk_known = p->brk_known;
		for (uint32_t i = 0; i < p->fds.cap; i++)
			if (p->fds.used[i])
				tu_map_put(&c->fds, p->fds.key[i], p->fds.val[i]);
		if (p->nshm) {
			c->shm = xmalloc(sizeof(*c->shm) * p->nshm);
			memcpy(c->shm, p->shm, sizeof(*c->shm) * p->nshm);
			c->nshm = c->cap_shm = p->nshm;
		}
		if (kind == IMP_VFORK)
			c->asid = p->asid;
		p = c;
	}
	struct imp_thread *t = thread_new(m, p, child_rtid, parent->comm, parent->tid);
	t->last = t->cur = t->synced_until = ns;
	struct ev e = { .kind = kind == IMP_THREAD ? EV_THREAD : EV_FORK, .tid2 = t->tid };
	if (kind != IMP_THREAD) {
		e.pid2 = p->pid;
		e.flags = kind == IMP_VFORK;
	}
	imp_put(m, parent, &e, kind == IMP_FORK);
	if (kind == IMP_FORK)
		imp_call_done(parent, ns);
	return t;
}

void imp_exit(struct imp *m, struct imp_thread *t, uint64_t ns, bool group)
{
	if (t->exited)
		return;
	fault_unjudged(m, t);
	imp_begin(m, t, ns);
	struct ev e = { .kind = EV_EXIT, .len = group };
	imp_put(m, t, &e, false);
	t->exited = true;
	t->p->live--;
}

/* ---- region maps ---- */

/* Index of the first interval ending after a. */
static uint32_t iv_lower(const struct imp_proc *p, uint64_t a)
{
	uint32_t lo = 0, hi = p->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (p->iv[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The interval holding recorded address a, or NULL. */
static const struct imp_iv *iv_find(const struct imp_proc *p, uint64_t a)
{
	uint32_t i = iv_lower(p, a);
	return i < p->n && p->iv[i].start <= a ? &p->iv[i] : NULL;
}

/* Room for `more` intervals in p's map. */
static void iv_room(struct imp_proc *p, uint32_t more)
{
	if (p->n + more > p->cap)
		p->iv = xrealloc(p->iv, sizeof(*p->iv) * (p->cap = (p->n + more) * 2));
}

/* Forget [s, e): intervals are cut where they cross its ends. */
void imp_iv_remove(struct imp_proc *p, uint64_t s, uint64_t e)
{
	if (s >= e || !p->n)
		return;
	uint32_t i = iv_lower(p, s);
	if (i < p->n && p->iv[i].start < s && p->iv[i].end > e) {
		/* inside one interval: split it in two */
		iv_room(p, 1);
		memmove(&p->iv[i + 1], &p->iv[i], sizeof(*p->iv) * (p->n - i));
		p->n++;
		p->iv[i].end = s;
		p->iv[i + 1].start = e;
		return;
	}
	if (i < p->n && p->iv[i].start < s) {
		p->iv[i].end = s;
		i++;
	}
	uint32_t j = i;
	while (j < p->n && p->iv[j].end <= e)
		j++;
	if (j < p->n && p->iv[j].start < e)
		p->iv[j].start = e;
	memmove(&p->iv[i], &p->iv[j], sizeof(*p->iv) * (p->n - j));
	p->n -= j - i;
}

/* Map [s, e) to (region, base) with placement root `root`, defined by `by` now (what was there is forgotten). */
static void iv_insert(struct imp_proc *p, uint64_t s, uint64_t e, uint32_t region, uint64_t base, uint32_t root,
		      const struct imp_thread *by)
{
	if (s >= e)
		return;
	imp_iv_remove(p, s, e);
	uint32_t i = iv_lower(p, s);
	struct imp_iv n = { s, e, base, region, root, by->tid, by->cur };
	/* Join a neighbour that names the same region the same way. */
	if (i > 0 && p->iv[i - 1].end == s && p->iv[i - 1].region == region && p->iv[i - 1].base == base &&
	    p->iv[i - 1].root == root && p->iv[i - 1].definer == n.definer) {
		p->iv[i - 1].def_at = n.def_at;
		p->iv[i - 1].end = e;
		if (i < p->n && p->iv[i].start == e && p->iv[i].region == region && p->iv[i].base == base &&
		    p->iv[i].root == root && p->iv[i].definer == n.definer) {
			p->iv[i - 1].end = p->iv[i].end;
			memmove(&p->iv[i], &p->iv[i + 1], sizeof(*p->iv) * (p->n - i - 1));
			p->n--;
		}
		return;
	}
	if (i < p->n && p->iv[i].start == e && p->iv[i].region == region && p->iv[i].base == base &&
	    p->iv[i].root == root && p->iv[i].definer == n.definer) {
		p->iv[i].start = s;
		p->iv[i].def_at = n.def_at;
		return;
	}
	iv_room(p, 1);
	memmove(&p->iv[i + 1], &p->iv[i], sizeof(*p->iv) * (p->n - i));
	p->iv[i] = n;
	p->n++;
}

/* Express recorded address a in e's addr (or addr2): region-relative when it falls in a known region. */
static void resolve(struct imp *m, const struct imp_proc *p, uint64_t a, bool second, struct ev *e)
{
	const struct imp_iv *v = iv_find(p, a);
	if (v && v->region) {
		if (second) {
			e->fl |= EVF_REGION2;
			e->region2 = v->region;
			e->addr2 = a - v->base;
		} else {
			e->fl |= EVF_REGION;
			e->region = v->region;
			e->addr = a - v->base;
		}
		return;
	}
	if (a)
		m->st->absolute++;
	if (second)
		e->addr2 = a;
	else
		e->addr = a;
}

/* A piece of a range that keeps one placement root: one event each. */
struct piece {
	uint64_t s, e;
	const struct imp_iv *v; /* the interval naming its start, or NULL (absolute) */
};

/*
 * Cut [a, a + len) where the placement root changes, so that each piece
 * can be named relative to one region. Gaps join the piece before them.
 */
static uint32_t pieces(const struct imp_proc *p, uint64_t a, uint64_t len, struct piece *out)
{
	uint64_t end = a + vm_page_up(len);
	uint32_t i = iv_lower(p, a), n = 0;
	if (!len || end < a || i == p->n || p->iv[i].start >= end) {
		out[0] = (struct piece){ a, a + len, NULL };
		return 1;
	}
	const struct imp_iv *v = &p->iv[i];
	out[n++] = (struct piece){ a, 0, v->region ? v : NULL };
	uint32_t root = v->root;
	for (i++; i < p->n && p->iv[i].start < end; i++) {
		v = &p->iv[i];
		if (v->root == root || n == MAX_PIECES)
			continue;
		out[n - 1].e = v->start;
		out[n++] = (struct piece){ v->start, 0, v->region ? v : NULL };
		root = v->root;
	}
	out[n - 1].e = a + len;
	return n;
}

/* ---- files ---- */

static bool same_key(const struct imp_fkey *a, const struct imp_fkey *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->gen == b->gen && a->rpid == b->rpid && a->fd == b->fd;
}

uint32_t imp_file_id(struct imp *m, struct imp_fkey k, const char *name, uint64_t end)
{
	uint32_t id = 0;
	for (uint32_t i = m->nfiles; i-- > 0;) {
		if (same_key(&m->files[i].k, &k)) {
			id = m->files[i].id;
			break;
		}
	}
	if (!id) {
		if (m->nfiles == m->cap_files)
			m->files = xrealloc(m->files, sizeof(*m->files) * (m->cap_files = m->cap_files ? m->cap_files * 2 : 16));
		id = m->nfiles + 1;
		m->files[m->nfiles++] = (struct imp_file){ k, id };
	}
	tr_writer_file(m->w, id, MIN(end, TR_MAX_FILE_SIZE), k.dev, k.ino, name);
	return id;
}

void imp_file_adopt(struct imp *m, uint32_t id, const struct imp_map *r)
{
	struct imp_fkey k = { .dev = r->dev, .ino = r->ino, .gen = r->gen };
	struct imp_file *f = NULL;
	for (uint32_t i = 0; i < m->nfiles; i++) {
		if (same_key(&m->files[i].k, &k))
			return; /* known by its device, inode and generation already */
		if (m->files[i].id == id)
			f = &m->files[i];
	}
	if (!f || f->k.dev || f->k.ino)
		return;
	f->k = k;
	tr_writer_file(m->w, id, 0, r->dev, r->ino, r->name);
}

void imp_file_retire(struct imp *m, uint32_t rpid, uint32_t fd)
{
	for (uint32_t i = 0; i < m->nfiles; i++)
		if (m->files[i].k.rpid == rpid && m->files[i].k.fd == fd + 1 && !m->files[i].k.dev && !m->files[i].k.ino)
			m->files[i].k.rpid = UINT32_MAX; /* no process has this id: the key is never asked for again */
}

/* The file a mapping record names (dev, inode), sized to reach off + len. */
uint32_t imp_map_file(struct imp *m, const struct imp_map *r, uint64_t off, uint64_t len)
{
	uint64_t end = off + vm_page_up(len);
	if (end < off)
		end = TR_MAX_FILE_SIZE;
	return imp_file_id(m, (struct imp_fkey){ .dev = r->dev, .ino = r->ino, .gen = r->gen }, r->name, end);
}

/* ---- calls ---- */

/* Event e over the recorded range [a, a + len): one event per piece placed independently (checked, sync). */
void imp_emit_range(struct imp *m, struct imp_thread *t, struct ev *e, uint64_t a, uint64_t len)
{
	struct piece pc[MAX_PIECES];
	uint32_t n = pieces(t->p, a, len, pc);
	for (uint32_t i = 0; i < n; i++) {
		struct ev x = *e;
		x.hint = pc[i].s;
		x.len = n == 1 ? len : pc[i].e - pc[i].s;
		if (pc[i].v) {
			x.fl |= EVF_REGION;
			x.region = pc[i].v->region;
			x.addr = pc[i].s - pc[i].v->base;
		} else {
			resolve(m, t->p, pc[i].s, false, &x);
		}
		if (m->blind_exec && !iv_find(t->p, pc[i].s))
			x.fl &= ~EVF_CHECK; /* perhaps a mapping the recording does not show: its result cannot be checked */
		imp_put(m, t, &x, true);
	}
}

/* A recorded mmap: its event, its file, and the region it defines. */
void imp_do_mmap(struct imp *m, struct imp_thread *t, const uint64_t *a, int64_t ret, const struct imp_map *map,
		    const char *fd_name)
{
	struct imp_proc *p = t->p;
	/*
	 * A file mapping refused for its descriptor (bad, not readable, not
	 * mappable) never reached the address space, and the simulated kernel
	 * has no descriptors to refuse it for: it is left out.
	 */
	if (!(a[3] & VM_MAP_ANONYMOUS) &&
	    (ret == -EBADF || ret == -EACCES || ret == -ENODEV || ret == -ETXTBSY || ret == -EPERM)) {
		m->st->dropped++;
		return;
	}
	struct ev e = { .kind = EV_MMAP, .fl = EVF_CHECK, .ret = ret, .len = a[1], .prot = (int32_t)a[2],
			.flags = (int32_t)a[3], .off = a[5] };
	bool fixed = e.flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE);
	e.hint = ret >= 0 ? (uint64_t)ret : a[0];
	if (a[0])
		resolve(m, p, a[0], false, &e);
	if (!(e.flags & VM_MAP_ANONYMOUS)) {
		uint32_t bound;
		if (map && (map->ino || map->dev)) {
			/* A file that ftruncate or fallocate named by its descriptor: now its device and inode are known. */
			if (tu_map_get(&p->fds, (uint32_t)a[4], &bound) && bound)
				imp_file_adopt(m, bound, map);
			e.file = imp_map_file(m, map, a[5], a[1]);
		} else {
			/* No record of the file (strace, or a failed call): one file per process and descriptor. */
			uint64_t end = a[5] + vm_page_up(a[1]);
			if (end < a[5])
				end = TR_MAX_FILE_SIZE;
			char nm[64];
			snprintf(nm, sizeof(nm), "fd %u of pid %u", (uint32_t)a[4], p->rpid);
			e.file = imp_file_id(m, (struct imp_fkey){ .rpid = p->rpid, .fd = (uint32_t)a[4] + 1 },
					     fd_name ? fd_name : nm, end);
		}
		tu_map_put(&p->fds, (uint32_t)a[4], e.file);
	}
	const struct imp_iv *v = iv_find(p, a[0]);
	struct imp_iv at = v ? *v : (struct imp_iv){ 0 };
	if (ret >= 0 && !fixed)
		e.new_region = m->next_region++;
	imp_put(m, t, &e, true);
	if (ret < 0)
		return;
	uint64_t s = (uint64_t)ret, len = vm_page_up(a[1]);
	if (e.new_region)
		iv_insert(p, s, s + len, e.new_region, s, e.new_region, t);
	else if (fixed && at.region)
		iv_insert(p, s, s + len, at.region, at.base, at.root, t);
	else
		imp_iv_remove(p, s, s + len); /* a fixed mapping at an absolute address */
}

/* A recorded mremap: its event and the region it moves to. */
void imp_do_mremap(struct imp *m, struct imp_thread *t, const uint64_t *a, int64_t ret)
{
	struct imp_proc *p = t->p;
	struct ev e = { .kind = EV_MREMAP, .fl = EVF_CHECK, .ret = ret, .len = a[1], .len2 = a[2],
			.flags = (int32_t)a[3], .hint = a[0] };
	resolve(m, p, a[0], false, &e);
	if (e.flags & VM_MREMAP_FIXED)
		resolve(m, p, a[4], true, &e);
	if (m->blind_exec && !iv_find(p, a[0]))
		e.fl &= ~EVF_CHECK;
	if (ret >= 0)
		e.new_region = m->next_region++;
	imp_put(m, t, &e, true);
	if (ret < 0)
		return;
	if (!(e.flags & VM_MREMAP_DONTUNMAP))
		imp_iv_remove(p, a[0], a[0] + vm_page_up(a[1]));
	iv_insert(p, (uint64_t)ret, (uint64_t)ret + vm_page_up(a[2]), e.new_region, (uint64_t)ret, e.new_region, t);
}

/* A recorded brk: its event relative to the start of brk, and the heap's interval. */
void imp_do_brk(struct imp *m, struct imp_thread *t, const uint64_t *a, int64_t ret, const struct imp_map *map)
{
	struct imp_proc *p = t->p;
	if (!p->brk_known && ret > 0) {
		/* The first answer of a new image is its start of brk; a growth's record starts there too. */
		p->brk_base = !a[0] || !map ? (uint64_t)ret : map->start;
		p->brk_cur = p->brk_base;
		p->brk_known = true;
	}
	struct ev e = { .kind = EV_BRK, .fl = EVF_CHECK | EVF_REGION, .region = EV_REGION_BRK, .ret = ret, .hint = a[0] };
	e.addr = a[0] ? a[0] - p->brk_base : 0;
	e.off = p->brk_known ? p->brk_base : 0; /* the recorded start of brk: replay compares the break's offset */
	imp_put(m, t, &e, true);
	if (ret <= 0 || (uint64_t)ret < p->brk_base)
		return;
	uint64_t old = vm_page_up(p->brk_cur), now = vm_page_up((uint64_t)ret);
	if (now < old)
		imp_iv_remove(p, now, old);
	if (now > p->brk_base)
		iv_insert(p, p->brk_base, now, EV_REGION_BRK, p->brk_base, EV_REGION_BRK, t);
	p->brk_cur = (uint64_t)ret;
}

void imp_exec(struct imp *m, struct imp_thread *t, uint64_t ns, const struct imp_map *maps, uint32_t n, bool emit_exec)
{
	if (t->exited)
		return;
	imp_begin(m, t, ns);
	struct imp_proc *p = t->p;
	if (emit_exec) {
		struct ev x = { .kind = EV_EXEC };
		imp_put(m, t, &x, true);
		p->asid = m->next_asid++; /* a vfork child leaves its parent's address space here */
	}
	p->n = 0;
	p->brk_known = false;
	p->brk_base = p->brk_cur = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct imp_map *r = &maps[i];
		bool special = r->name[0] == '[' || !strcmp(r->name, "//anon") || (!r->ino && !r->dev);
		struct ev e = { .kind = EV_MMAP, .fl = EVF_CHECK, .len = r->len, .prot = r->prot,
				.ret = (int64_t)r->start, .hint = r->start };
		e.flags = VM_MAP_FIXED | (r->shared ? VM_MAP_SHARED : VM_MAP_PRIVATE);
		if (special)
			e.flags |= VM_MAP_ANONYMOUS;
		else {
			e.file = imp_map_file(m, r, r->pgoff, r->len);
			e.off = r->pgoff;
		}
		if (!strcmp(r->name, "[stack]"))
			e.flags |= VM_MAP_GROWSDOWN;
		resolve(m, p, r->start, false, &e);
		e.new_region = m->next_region++;
		imp_put(m, t, &e, false);
		iv_insert(p, r->start, r->start + vm_page_up(r->len), e.new_region, r->start, 0, t);
	}
	t->first_image = false;
}

void imp_call_done(struct imp_thread *t, uint64_t ns)
{
	struct imp_proc *p = t->p;
	if (p->call_tid != t->tid) {
		p->call_end_other = MAX(p->call_end_other, p->call_end);
		p->call_tid = t->tid;
	}
	p->call_end = MAX(p->call_end, ns);
}

/* ---- faults and signals ---- */

void imp_fault(struct imp *m, struct imp_thread *t, uint64_t ns, uint64_t addr, int acc, bool check)
{
	if (t->exited)
		return;
	imp_begin(m, t, ns);
	struct ev e = { .kind = EV_ACCESS, .acc = (uint8_t)acc, .hint = addr };
	resolve(m, t->p, addr, false, &e);
	m->st->faults++;
	/*
	 * Happens-before: memory another thread mapped, or any memory call of
	 * another thread of the process that returned before this fault (and
	 * after this thread's last sync): wait until the replay has done it too.
	 */
	const struct imp_iv *v = iv_find(t->p, addr);
	const struct imp_proc *p = t->p;
	uint64_t other = p->call_tid == t->tid ? p->call_end_other : p->call_end;
	bool sync = (v && v->definer != t->tid && v->def_at >= t->synced_until) || other > t->synced_until;
	if (sync)
		t->synced_until = ns;
	if (!check) {
		imp_put(m, t, &e, sync);
		return;
	}
	e.fl |= EVF_CHECK;
	t->fault_line = t->line;
	t->fault = e;
	t->fault_at = ns;
	t->fault_sync = sync;
	t->pending = true;
}

void imp_signal(struct imp *m, struct imp_thread *t, int sig)
{
	m->st->signals++;
	if (!t->pending || (sig != 11 && sig != 7))
		return;
	t->fault.ret = sig == 11 ? VM_FAULT_SEGV : VM_FAULT_BUS;
	flush_fault(m, t);
}
