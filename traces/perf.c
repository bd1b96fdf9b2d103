/* perf.c: the importer of `perf script --show-mmap-events --show-task-events` text recorded with the recipe of docs/trace-format.md. */
#include "traces/imp.h"
#include "io/lines.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- a cursor over one line ---- */

struct cur {
	const char *p;
};

/* Skip blanks. */
static void sp(struct cur *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

/* Skip the literal s if it is next; whether it was. */
static bool lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);
	if (strncmp(c->p, s, n))
		return false;
	c->p += n;
	return true;
}

/* Unsigned number in base 16 (an optional 0x) or 10. */
static bool unum(struct cur *c, int base, uint64_t *v)
{
	if (base == 16 && (c->p[0] == '0' && (c->p[1] == 'x' || c->p[1] == 'X')))
		c->p += 2;
	return tu_digits(&c->p, base, v);
}

/* A signed decimal number. */
static bool snum(struct cur *c, int64_t *v)
{
	bool neg = lit(c, "-");
	uint64_t x;
	if (!unum(c, 10, &x) || x > (uint64_t)INT64_MAX + neg)
		return false;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	return true;
}

/* A small signed decimal (pids, tids, signal numbers: -1 appears for the kernel). */
static bool inum(struct cur *c, int64_t *v)
{
	return snum(c, v) && *v >= -1 && *v <= (int64_t)UINT32_MAX;
}

/* ---- the importer ---- */

/*
 * The common prefix "COMM TID [CPU] SECONDS: ". COMM may hold spaces, so
 * the line is scanned for " [CPU] SECONDS:" first.
 */
static bool prefix(const char *line, char *comm, size_t commlen, int64_t *tid, uint64_t *ns, const char **rest,
		   uint64_t *cpu_out)
{
	for (const char *b = strstr(line, " ["); b; b = strstr(b + 1, " [")) {
		struct cur c = { b + 2 };
		uint64_t cpu, sec, frac = 0;
		if (!unum(&c, 10, &cpu) || !lit(&c, "]"))
			continue;
		if (*c.p != ' ')
			continue;
		sp(&c);
		if (!unum(&c, 10, &sec) || !lit(&c, "."))
			continue;
		const char *f = c.p;
		if (!unum(&c, 10, &frac) || c.p - f > 9 || !lit(&c, ":") || sec > 1000000000ull)
			continue;
		for (long i = c.p - f - 1; i < 9; i++)
			frac *= 10;
		*ns = sec * 1000000000ull + frac;
		*cpu_out = cpu;
		/* The tid is the token before " [". */
		const char *e = b;
		const char *s = e;
		while (s > line && s[-1] != ' ' && s[-1] != '\t')
			s--;
		if (s == e)
			return false;
		struct cur t = { s };
		if (!inum(&t, tid) || t.p != e)
			return false;
		while (s > line && (s[-1] == ' ' || s[-1] == '\t'))
			s--;
		const char *cs = line;
		while (cs < s && (*cs == ' ' || *cs == '\t'))
			cs++;
		size_t n = MIN((size_t)(s - cs), commlen - 1);
		memcpy(comm, cs, n);
		comm[n] = 0;
		sp(&c);
		*rest = c.p;
		return true;
	}
	return false;
}

/* Whether a line has the prefix of perf script output ("COMM TID [CPU] SECONDS: "). */
static bool detect(const struct tr_probe *p)
{
	const char *line = p->line;
	if (!line)
		return false;
	char comm[64];
	int64_t tid;
	uint64_t ns;
	const char *rest;
	uint64_t cpu;
	return prefix(line, comm, sizeof(comm), &tid, &ns, &rest, &cpu);
}

/* The thread of recorded tid (possibly exited), made an initial thread (of process rpid) if it is new. */
static struct imp_thread *thread_of(struct imp *m, uint32_t tid, uint32_t rpid, const char *comm)
{
	struct imp_thread *t = imp_thread_find(m, tid);
	/* An exited thread's late lines (a new task with its id comes with a FORK record) change nothing. */
	return t ? t : imp_initial(m, rpid ? rpid : tid, tid, comm);
}

/* "[0xSTART(0xLEN) @ PGOFF MAJ:MIN INO GEN]: PROT NAME" after "PID/TID: ". */
static int parse_mmap2(struct imp *m, struct cur *c, int64_t *pid, int64_t *tid, struct imp_map *r)
{
	uint64_t maj, min, gen;
	memset(r, 0, sizeof(*r));
	if (!inum(c, pid) || !lit(c, "/") || !inum(c, tid) || !lit(c, ": [") || !unum(c, 16, &r->start) ||
	    !lit(c, "(") || !unum(c, 16, &r->len) || !lit(c, ") @ ") || !unum(c, 16, &r->pgoff) || !lit(c, " "))
		return imp_bad(m, "malformed PERF_RECORD_MMAP2 (expected PID/TID: [0xSTART(0xLEN) @ PGOFF ...)");
	if (!unum(c, 16, &maj) || !lit(c, ":") || !unum(c, 16, &min) || !lit(c, " ") || !unum(c, 10, &r->ino) ||
	    !lit(c, " ") || !unum(c, 10, &gen) || !lit(c, "]: "))
		return imp_bad(m, "malformed PERF_RECORD_MMAP2: expected MAJ:MIN INO GEN] after the offset "
			      "(a recording made with --buildid-mmap is not supported)");
	if (maj > 0xfff || min > 0xfffff)
		return imp_bad(m, "malformed PERF_RECORD_MMAP2: device %llx:%llx out of range", (unsigned long long)maj,
			   (unsigned long long)min);
	r->dev = (uint32_t)(maj << 20 | min);
	r->gen = gen;
	const char *pr = c->p;
	if (strlen(pr) < 4 || (pr[0] != 'r' && pr[0] != '-') || (pr[1] != 'w' && pr[1] != '-') ||
	    (pr[2] != 'x' && pr[2] != '-') || (pr[3] != 's' && pr[3] != 'p'))
		return imp_bad(m, "malformed PERF_RECORD_MMAP2: '%.8s' is not a protection like rw-p", pr);
	r->prot = (pr[0] == 'r') | (pr[1] == 'w') << 1 | (pr[2] == 'x') << 2;
	r->shared = pr[3] == 's';
	c->p += 4;
	if (*c->p && *c->p != ' ')
		return imp_bad(m, "malformed PERF_RECORD_MMAP2: no space after the protection");
	sp(c);
	snprintf(r->name, sizeof(r->name), "%s", c->p);
	if (!r->len || r->start + r->len < r->start || r->start + r->len > VM_TASK_SIZE + PAGE_SIZE)
		return imp_bad(m, "PERF_RECORD_MMAP2: [0x%llx, +0x%llx) is not a user address range",
			   (unsigned long long)r->start, (unsigned long long)r->len);
	return 0;
}

/* PERF_RECORD_MMAP2: a mapping of a new image (exec), or the one an mmap call made. */
static int on_mmap2(struct imp *m, struct cur *c, uint64_t ns, const char *comm)
{
	int64_t pid, tid;
	struct imp_map r;
	if (parse_mmap2(m, c, &pid, &tid, &r))
		return -1;
	if (pid <= 0 || tid <= 0)
		return 0; /* the kernel's own */
	struct imp_thread *t = thread_of(m, (uint32_t)tid, (uint32_t)pid, comm);
	if (t->exited)
		return 0;
	if (t->in_exec) {
		if (t->nexec == IMP_EXEC_MAX)
			return imp_bad(m, "more than %u mappings in one exec", IMP_EXEC_MAX);
		if (!t->exec_maps)
			t->exec_maps = xmalloc(sizeof(*t->exec_maps) * IMP_EXEC_MAX);
		t->exec_maps[t->nexec++] = r;
	} else if (t->in_sys && !t->have_map) {
		t->map = r;
		t->have_map = true;
	} else if (!t->in_sys && r.shared && !strncmp(r.name, "/SYSV", 5)) {
		/* A SysV segment attached by a shmat the recording did not follow (a recipe without NR 30). */
		imp_shm_record(m, t, ns, &r);
	}
	/* Otherwise a stack growth (or another record outside a call): the designs grow stacks on faults. */
	return 0;
}

/* "comm:PID/TID" at the end of a COMM record. */
static int on_comm(struct imp *m, struct cur *c, bool exec)
{
	const char *s = c->p, *colon = strrchr(s, ':');
	if (!colon)
		return imp_bad(m, "malformed PERF_RECORD_COMM (expected NAME:PID/TID)");
	struct cur d = { colon + 1 };
	int64_t pid, tid;
	if (!inum(&d, &pid) || !lit(&d, "/") || !inum(&d, &tid) || *d.p)
		return imp_bad(m, "malformed PERF_RECORD_COMM (expected NAME:PID/TID)");
	char name[32];
	snprintf(name, sizeof(name), "%.*s", (int)MIN((size_t)(colon - s), sizeof(name) - 1), s);
	if (pid <= 0 || tid <= 0)
		return 0;
	struct imp_thread *t = thread_of(m, (uint32_t)tid, (uint32_t)pid, name);
	if (t->exited)
		return 0;
	imp_comm(m, t, name);
	if (exec) {
		t->in_exec = true;
		t->nexec = 0;
	}
	return 0;
}

/* "(PID:TID):(PPID:PTID)" of FORK and EXIT records. */
static int task_ids(struct imp *m, struct cur *c, const char *what, int64_t *v)
{
	if (!lit(c, "(") || !inum(c, &v[0]) || !lit(c, ":") || !inum(c, &v[1]) || !lit(c, "):(") || !inum(c, &v[2]) ||
	    !lit(c, ":") || !inum(c, &v[3]) || !lit(c, ")"))
		return imp_bad(m, "malformed %s (expected (PID:TID):(PPID:PTID))", what);
	return 0;
}

/* PERF_RECORD_FORK: a new thread (same pid) or process (vfork-like after vfork, clone3 or CLONE_VM). */
static int on_fork(struct imp *m, struct cur *c, uint64_t ns, const char *comm)
{
	int64_t v[4];
	if (task_ids(m, c, "PERF_RECORD_FORK", v))
		return -1;
	if (v[0] <= 0 || v[1] <= 0 || v[2] <= 0 || v[3] <= 0)
		return 0;
	struct imp_thread *parent = thread_of(m, (uint32_t)v[3], (uint32_t)v[2], comm);
	struct imp_thread *old = imp_thread_find(m, (uint32_t)v[1]);
	if (old && !old->exited)
		return imp_bad(m, "PERF_RECORD_FORK of thread %lld, which already exists", (long long)v[1]);
	enum imp_clone_kind kind = IMP_FORK;
	if (v[0] == v[2])
		kind = IMP_THREAD;
	else if (parent->in_sys) {
		/*
		 * vfork shares the parent's memory until the child execs; so does
		 * clone with CLONE_VM. clone3's flags are not recorded: a clone3
		 * that makes a process is glibc's posix_spawn (CLONE_VM|CLONE_VFORK).
		 */
		if (parent->nr == NR_VFORK || parent->nr == NR_CLONE3 ||
		    (parent->nr == NR_CLONE && (parent->args[0] & CLONE_VM)))
			kind = IMP_VFORK;
	}
	imp_clone(m, parent, (uint32_t)v[1], (uint32_t)v[0], kind, ns);
	parent->vfork_parent = kind == IMP_VFORK;
	return 0;
}

/* PERF_RECORD_EXIT: a thread that ended without exit or exit_group (killed). */
static int on_task_exit(struct imp *m, struct cur *c, uint64_t ns)
{
	int64_t v[4];
	if (task_ids(m, c, "PERF_RECORD_EXIT", v))
		return -1;
	if (v[1] <= 0)
		return 0;
	struct imp_thread *t = imp_thread_find(m, (uint32_t)v[1]);
	if (t && !t->exited) {
		imp_exit(m, t, ns, t->p->live == 1);
		t->in_sys = false;
	}
	return 0;
}

/* The calls the importer follows (memory, task creation, exec and exit). */
static bool modelled(uint32_t nr)
{
	return imp_memory_call(nr) || nr == NR_CLONE || nr == NR_FORK || nr == NR_VFORK || nr == NR_EXECVE ||
	       nr == NR_EXIT || nr == NR_EXIT_GROUP || nr == NR_CLONE3;
}

/* raw_syscalls:sys_enter: a followed call of t starts. */
static int on_enter(struct imp *m, struct imp_thread *t, struct cur *c, uint64_t ns)
{
	uint64_t nr, a[6];
	if (!lit(c, "NR ") || !unum(c, 10, &nr) || !lit(c, " ("))
		return imp_bad(m, "malformed sys_enter (expected NR N (A0, A1, A2, A3, A4, A5))");
	for (int i = 0; i < 6; i++)
		if ((i && !lit(c, ", ")) || !unum(c, 16, &a[i]))
			return imp_bad(m, "malformed sys_enter: expected six hexadecimal arguments");
	if (!lit(c, ")") || *c->p)
		return imp_bad(m, "malformed sys_enter: expected ')' after the sixth argument");
	if (nr > 4096)
		return imp_bad(m, "sys_enter: %llu is not a system call number", (unsigned long long)nr);
	if (t->exited)
		return 0;
	if (t->in_sys)
		return imp_bad(m, "sys_enter of NR %llu on thread %u while NR %u (line %llu) has not returned",
			   (unsigned long long)nr, t->rtid, t->nr, (unsigned long long)t->line_enter);
	imp_ran(m, t);
	if (!modelled((uint32_t)nr))
		return 0;
	if (nr == NR_EXIT || nr == NR_EXIT_GROUP) {
		imp_exit(m, t, ns, nr == NR_EXIT_GROUP);
		return 0;
	}
	if (nr != NR_CLOSE && nr != NR_SHMGET)
		imp_begin(m, t, ns); /* (bookkeeping calls make no event: their time stays in the gap) */
	t->in_sys = true;
	t->nr = (uint32_t)nr;
	t->settled = false;
	if (nr == NR_MUNMAP)
		t->p->unmapping++;
	memcpy(t->args, a, sizeof(a));
	t->t_enter = ns;
	t->line_enter = lines_lineno(m->l);
	t->have_map = false;
	t->vfork_parent = false;
	return 0;
}

/* t's new image is in place: its mappings become events. */
static void commit_exec(struct imp *m, struct imp_thread *t, uint64_t ns, bool emit_exec)
{
	imp_exec(m, t, ns, t->exec_maps, t->nexec, emit_exec);
	t->in_exec = false;
	t->nexec = 0;
	xfree(t->exec_maps);
	t->exec_maps = NULL;
}

/*
 * settle_unmaps: a call takes effect somewhere between its sys_enter and its
 * sys_exit. When t's mmap (not MAP_FIXED) returns [addr, addr + len) and a
 * munmap still in flight on another thread of its process covers part of
 * it, that munmap has taken effect already (the kernel handed its range out
 * again): it is emitted now, before the mmap, with result 0, while its
 * regions are still the ones it unmaps. Its own sys_exit then only ends it.
 */
static void settle_unmaps(struct imp *m, struct imp_thread *t, uint64_t addr, uint64_t len, uint64_t ns)
{
	if (!t->p->unmapping)
		return;
	for (uint32_t i = 0; i < m->nthreads; i++) {
		struct imp_thread *u = m->threads[i];
		if (u == t || u->p != t->p || u->exited || !u->in_sys || u->nr != NR_MUNMAP || u->settled)
			continue;
		uint64_t lo = u->args[0], hi = lo + vm_page_up(u->args[1]);
		if (hi > lo && lo < addr + len && addr < hi) {
			imp_syscall(m, u, NR_MUNMAP, u->args, 0, u->t_enter, ns, NULL, NULL);
			u->settled = true;
		}
	}
}

/* raw_syscalls:sys_exit: t's call returned: the event it makes, with its result. */
static int on_exit_sys(struct imp *m, struct imp_thread *t, struct cur *c, uint64_t ns)
{
	uint64_t nr;
	int64_t ret;
	if (!lit(c, "NR ") || !unum(c, 10, &nr) || !lit(c, " = ") || !snum(c, &ret) || *c->p)
		return imp_bad(m, "malformed sys_exit (expected NR N = RESULT)");
	if (nr > 4096)
		return imp_bad(m, "sys_exit: %llu is not a system call number", (unsigned long long)nr);
	if (t->exited)
		return 0;
	if (!t->in_sys) {
		if (!modelled((uint32_t)nr))
			return 0;
		/* The child's side of clone, fork and vfork returns without having entered. */
		if ((nr == NR_CLONE || nr == NR_FORK || nr == NR_VFORK || nr == NR_CLONE3) && ret == 0 && t->parent &&
		    !t->had_syscall) {
			t->had_syscall = true;
			return 0;
		}
		/* The traced program's own exec: tracing started inside it. */
		if (nr == NR_EXECVE && ret == 0 && t->in_exec && t->first_image) {
			commit_exec(m, t, ns, false);
			imp_end(t, ns);
			t->had_syscall = true;
			return 0;
		}
		return imp_bad(m, "sys_exit of NR %llu on thread %u with no sys_enter", (unsigned long long)nr, t->rtid);
	}
	if (nr != t->nr)
		return imp_bad(m, "sys_exit of NR %llu on thread %u, but its pending sys_enter (line %llu) is NR %u",
			   (unsigned long long)nr, t->rtid, (unsigned long long)t->line_enter, t->nr);
	t->in_sys = false;
	t->had_syscall = true;
	if (t->nr == NR_MUNMAP)
		t->p->unmapping--;
	if (t->settled) { /* emitted with result 0 when its range was handed out again (settle_unmaps) */
		t->settled = false;
		if (ret != 0)
			m->st->dropped++;
		imp_end(t, ns);
		return 0;
	}
	if (t->nr == NR_MMAP && ret >= 0 && !(t->args[3] & 0x10 /* MAP_FIXED */))
		settle_unmaps(m, t, (uint64_t)ret, vm_page_up(t->args[1]), ns);
	if (imp_memory_call(t->nr)) {
		imp_syscall(m, t, t->nr, t->args, ret, t->t_enter, ns, t->have_map ? &t->map : NULL, NULL);
		return 0;
	}
	if (t->nr == NR_EXECVE) {
		/*
		 * At its return, when the kernel has killed the process's other
		 * threads: the exec waits (sync) for their exits in the replay too.
		 */
		if (ret == 0)
			commit_exec(m, t, ns, true);
		else if (t->in_exec)
			return imp_bad(m, "execve failed (%lld) after the new image's mappings were recorded", (long long)ret);
	}
	/* A vfork parent waited for its child to exec: that wait is counted as time, not as the call. */
	if (!t->vfork_parent)
		imp_end(t, ns);
	t->vfork_parent = false;
	return 0;
}

/* exceptions:page_fault_user (user) or _kernel: an access of t. */
static int on_fault(struct imp *m, struct imp_thread *t, struct cur *c, uint64_t ns, bool user)
{
	uint64_t addr, ip, ec;
	if (!lit(c, "address=") || !unum(c, 16, &addr) || !lit(c, " ip=") || !unum(c, 16, &ip) ||
	    !lit(c, " error_code=") || !unum(c, 16, &ec) || *c->p)
		return imp_bad(m, "malformed page fault (expected address=0x.. ip=0x.. error_code=0x..)");
	/* Addresses outside user space (the vsyscall page, kernel addresses) are the kernel's business. */
	if (addr >= VM_TASK_SIZE + PAGE_SIZE)
		return 0;
	int acc = (ec & 0x10) ? 2 : (ec & 0x2) ? 1 : 0;
	/*
	 * A kernel-mode fault on a user address that cannot be resolved ends
	 * in -EFAULT from the system call, not in a signal: the trace does not
	 * say how it ended, so it is not checked.
	 */
	imp_fault(m, t, ns, addr, acc, user);
	return 0;
}

/* signal:signal_deliver: a SIGSEGV or SIGBUS is the outcome of t's last fault. */
static int on_signal(struct imp *m, struct imp_thread *t, struct cur *c)
{
	int64_t sig;
	if (!lit(c, "sig=") || !inum(c, &sig) || sig < 0 || sig > 64)
		return imp_bad(m, "malformed signal_deliver (expected sig=N ...)");
	if (!t->exited)
		imp_signal(m, t, (int)sig);
	return 0;
}

/* Side-band records perf may add that say nothing about memory. */
static bool ignored_record(const char *r)
{
	static const char *const names[] = { "PERF_RECORD_MMAP ", "PERF_RECORD_KSYMBOL", "PERF_RECORD_BPF_EVENT",
					     "PERF_RECORD_CGROUP", "PERF_RECORD_TEXT_POKE", "PERF_RECORD_NAMESPACES",
					     "PERF_RECORD_SWITCH", "PERF_RECORD_ITRACE_START", "PERF_RECORD_AUX",
					     NULL };
	for (int i = 0; names[i]; i++)
		if (!strncmp(r, names[i], strlen(names[i])))
			return true;
	return false;
}

/* A PERF_RECORD_LOST or _LOST_SAMPLES record: the recording misses events, and is refused with advice. */
static int lost(struct imp *m)
{
	return imp_bad(m, "perf lost events here (PERF_RECORD_LOST): the recording is incomplete and would replay "
		      "wrongly; record again with a larger buffer (mmsim record --buffer 1024, or perf record -m 1024), "
		      "or record less");
}

/* One line of perf script output. */
static int on_line(struct imp *m, const char *line)
{
	char comm[64];
	int64_t tid;
	uint64_t ns;
	const char *rest;
	uint64_t cpu;
	if (line[0] == '#') {
		/* A comment; `mmsim record` writes its measurement of perf's cost per call as one. */
		struct cur k = { line };
		uint64_t v;
		if (lit(&k, TR_PERF_COST_NOTE) && unum(&k, 10, &v) && lit(&k, " ns") && v <= 1000000000)
			tr_writer_machine(m->w, 0, v);
		return 0;
	}
	if (strstr(line, "PERF_RECORD_LOST"))
		return lost(m); /* (whatever its prefix looks like) */
	/*
	 * perf script sometimes prints an event twice, the two lines identical to
	 * the nanosecond (seen recording apache2 under load: a sys_enter, its
	 * MMAP2 and its sys_exit each twice). Two real events of one thread cannot
	 * share a timestamp and every field, so the repeat is skipped and counted.
	 */
	size_t len = strlen(line);
	if (m->prev && !strcmp(line, m->prev)) {
		m->st->duplicates++;
		return 0;
	}
	if (len + 1 > m->prev_cap)
		m->prev = xrealloc(m->prev, m->prev_cap = len + 1 + 64);
	memcpy(m->prev, line, len + 1);
	if (!prefix(line, comm, sizeof(comm), &tid, &ns, &rest, &cpu))
		return imp_bad(m, "not a perf script line (expected COMM TID [CPU] SECONDS: EVENT)");
	if (cpu < TR_MAX_CPUS && tid > 0)
		m->cpus_seen[cpu / 64] |= 1ull << (cpu % 64); /* a CPU the program ran on */
	struct cur c = { rest };
	if (lit(&c, "PERF_RECORD_MMAP2 "))
		return on_mmap2(m, &c, ns, comm);
	if (lit(&c, "PERF_RECORD_COMM exec: "))
		return on_comm(m, &c, true);
	if (lit(&c, "PERF_RECORD_COMM: "))
		return on_comm(m, &c, false);
	if (lit(&c, "PERF_RECORD_FORK"))
		return on_fork(m, &c, ns, comm);
	if (lit(&c, "PERF_RECORD_EXIT"))
		return on_task_exit(m, &c, ns);
	if (lit(&c, "PERF_RECORD_LOST"))
		return lost(m);
	if (lit(&c, "PERF_RECORD_SWITCH ")) { /* the task's own switch events (--switch-events); not _CPU_WIDE */
		bool in = lit(&c, "IN");
		if (!in && !lit(&c, "OUT"))
			return imp_bad(m, "malformed PERF_RECORD_SWITCH (expected IN or OUT)");
		sp(&c);
		bool preempt = lit(&c, "preempt");
		struct imp_thread *t = tid > 0 ? imp_thread_find(m, (uint32_t)tid) : NULL;
		if (t && !t->exited)
			imp_switch(m, t, ns, in, preempt);
		return 0;
	}
	if (ignored_record(rest))
		return 0;
	if (!strncmp(rest, "PERF_RECORD_", 12))
		return imp_bad(m, "unknown perf record '%.40s'", rest);
	/* Tracepoints: "SYSTEM:NAME: FIELDS". */
	const char *colon = strchr(rest, ':');
	const char *colon2 = colon ? strchr(colon + 1, ':') : NULL;
	if (!colon2 || colon2[1] != ' ')
		return imp_bad(m, "unknown event '%.60s'", rest);
	size_t evlen = (size_t)(colon2 - rest);
	c.p = colon2 + 2;
	sp(&c);
	if (tid <= 0)
		return 0; /* the idle task */
	static const struct {
		const char *name;
		int what;
	} evs[] = { { "raw_syscalls:sys_enter", 1 },	      { "raw_syscalls:sys_exit", 2 },
		    { "exceptions:page_fault_user", 3 },      { "exceptions:page_fault_kernel", 4 },
		    { "signal:signal_deliver", 5 },	      { "sched:sched_process_fork", 0 },
		    { "sched:sched_process_exit", 0 },	      { "sched:sched_process_exec", 0 },
		    { "sched:sched_process_free", 0 },	      { NULL, 0 } };
	int what = -1;
	for (int i = 0; evs[i].name; i++)
		if (strlen(evs[i].name) == evlen && !strncmp(rest, evs[i].name, evlen))
			what = evs[i].what;
	if (what < 0)
		return imp_bad(m, "unknown event '%.*s' (the importer reads the events of the recording recipe)",
			   (int)MIN(evlen, 60), rest);
	if (!what)
		return 0;
	struct imp_thread *t = thread_of(m, (uint32_t)tid, 0, comm);
	switch (what) {
	case 1: return on_enter(m, t, &c, ns);
	case 2: return on_exit_sys(m, t, &c, ns);
	case 3: return on_fault(m, t, &c, ns, true);
	case 4: return on_fault(m, t, &c, ns, false);
	default: return on_signal(m, t, &c);
	}
}

static const struct imp_format perf_format = {
	.name = "perf",
	.empty_why = "no program activity (no perf script lines with a thread)",
	.line = on_line,
};

/* The perf importer's entry (tr_importer.import). */
static int import(const char *in, struct tr_writer *w, const struct tr_import_opts *o, struct tr_import_stats *st,
		  char *err, size_t errlen)
{
	struct imp m;
	return imp_run(&m, &perf_format, in, w, o, st, err, errlen);
}

const struct tr_importer tr_importer_perf = {
	.name = "perf",
	.what = "`perf script --show-mmap-events --show-task-events` output",
	.detect = detect,
	.import = import,
};
