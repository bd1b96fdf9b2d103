/* strace.c: the importer of `strace -f -ttt -e trace=%memory,process,...` output (docs/trace-format.md) (halves of interrupted calls stitched together). */
#include "traces/imp.h"
#include "io/lines.h"
#include "sim/util.h"
#include "vm/vm.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CALL (64u << 10) /* a stitched call */

struct sname {
	const char *s;
	uint64_t v;
};

static const struct sname prot_names[] = { { "PROT_NONE", 0 },	{ "PROT_READ", 1 }, { "PROT_WRITE", 2 },
					   { "PROT_EXEC", 4 },	{ "PROT_SEM", 8 },  { "PROT_GROWSDOWN", 0x01000000 },
					   { "PROT_GROWSUP", 0x02000000 }, { NULL, 0 } };
static const struct sname map_names[] = {
	{ "MAP_SHARED", 0x1 },	     { "MAP_PRIVATE", 0x2 },	    { "MAP_SHARED_VALIDATE", 0x3 }, { "MAP_FIXED", 0x10 },
	{ "MAP_ANONYMOUS", 0x20 },   { "MAP_ANON", 0x20 },	    { "MAP_32BIT", 0x40 },	    { "MAP_GROWSDOWN", 0x100 },
	{ "MAP_DENYWRITE", 0x800 },  { "MAP_EXECUTABLE", 0x1000 },  { "MAP_LOCKED", 0x2000 },	    { "MAP_NORESERVE", 0x4000 },
	{ "MAP_POPULATE", 0x8000 },  { "MAP_NONBLOCK", 0x10000 },   { "MAP_STACK", 0x20000 },	    { "MAP_HUGETLB", 0x40000 },
	{ "MAP_SYNC", 0x80000 },     { "MAP_FIXED_NOREPLACE", 0x100000 }, { "MAP_UNINITIALIZED", 0x4000000 },
	{ "MAP_HUGE_64KB", 16ull << 26 }, { "MAP_HUGE_2MB", 21ull << 26 }, { "MAP_HUGE_1GB", 30ull << 26 },
	{ NULL, 0 }
};
static const struct sname madv_names[] = {
	{ "MADV_NORMAL", 0 },	     { "MADV_RANDOM", 1 },	   { "MADV_SEQUENTIAL", 2 },	{ "MADV_WILLNEED", 3 },
	{ "MADV_DONTNEED", 4 },	     { "MADV_FREE", 8 },	   { "MADV_REMOVE", 9 },	{ "MADV_DONTFORK", 10 },
	{ "MADV_DOFORK", 11 },	     { "MADV_MERGEABLE", 12 },	   { "MADV_UNMERGEABLE", 13 },	{ "MADV_HUGEPAGE", 14 },
	{ "MADV_NOHUGEPAGE", 15 },   { "MADV_DONTDUMP", 16 },	   { "MADV_DODUMP", 17 },	{ "MADV_WIPEONFORK", 18 },
	{ "MADV_KEEPONFORK", 19 },   { "MADV_COLD", 20 },	   { "MADV_PAGEOUT", 21 },	{ "MADV_POPULATE_READ", 22 },
	{ "MADV_POPULATE_WRITE", 23 }, { "MADV_DONTNEED_LOCKED", 24 }, { "MADV_COLLAPSE", 25 },	{ "MADV_HWPOISON", 100 },
	{ NULL, 0 }
};
static const struct sname mremap_names[] = { { "MREMAP_MAYMOVE", 1 }, { "MREMAP_FIXED", 2 },
					     { "MREMAP_DONTUNMAP", 4 }, { NULL, 0 } };
static const struct sname mlock_names[] = { { "MLOCK_ONFAULT", 1 }, { NULL, 0 } };
static const struct sname mcl_names[] = { { "MCL_CURRENT", 1 }, { "MCL_FUTURE", 2 }, { "MCL_ONFAULT", 4 }, { NULL, 0 } };
static const struct sname ms_names[] = { { "MS_ASYNC", 1 }, { "MS_INVALIDATE", 2 }, { "MS_SYNC", 4 }, { NULL, 0 } };
static const struct sname falloc_names[] = { { "FALLOC_FL_KEEP_SIZE", 0x01 },	 { "FALLOC_FL_PUNCH_HOLE", 0x02 },
					     { "FALLOC_FL_NO_HIDE_STALE", 0x04 }, { "FALLOC_FL_COLLAPSE_RANGE", 0x08 },
					     { "FALLOC_FL_ZERO_RANGE", 0x10 },	 { "FALLOC_FL_INSERT_RANGE", 0x20 },
					     { "FALLOC_FL_UNSHARE_RANGE", 0x40 }, { "FALLOC_FL_WRITE_ZEROES", 0x80 },
					     { NULL, 0 } };
static const struct sname shmget_names[] = { { "IPC_PRIVATE", 0 },	  { "IPC_CREAT", 01000 },
					     { "IPC_EXCL", 02000 },	  { "SHM_HUGETLB", 04000 },
					     { "SHM_NORESERVE", 010000 }, { "SHM_HUGE_2MB", 21u << 26 },
					     { "SHM_HUGE_1GB", 30u << 26 }, { NULL, 0 } };
static const struct sname shmat_names[] = { { "SHM_RDONLY", 010000 }, { "SHM_RND", 020000 }, { "SHM_REMAP", 040000 },
					    { "SHM_EXEC", 0100000 }, { NULL, 0 } };
static const struct sname errnos[] = {
	{ "EPERM", 1 },	  { "ENOENT", 2 },  { "ESRCH", 3 },    { "EINTR", 4 },	   { "EIO", 5 },       { "ENXIO", 6 },
	{ "E2BIG", 7 },	  { "ENOEXEC", 8 }, { "EBADF", 9 },    { "ECHILD", 10 },   { "EAGAIN", 11 },   { "ENOMEM", 12 },
	{ "EACCES", 13 }, { "EFAULT", 14 }, { "EBUSY", 16 },   { "EEXIST", 17 },   { "ENODEV", 19 },   { "ENOTDIR", 20 },
	{ "EISDIR", 21 }, { "EINVAL", 22 }, { "ENFILE", 23 },  { "EMFILE", 24 },   { "ETXTBSY", 26 },  { "EFBIG", 27 },
	{ "ENOSPC", 28 }, { "ERANGE", 34 }, { "ENAMETOOLONG", 36 }, { "ENOSYS", 38 }, { "ELOOP", 40 }, { "EOVERFLOW", 75 },
	{ "ESPIPE", 29 }, { "EIDRM", 43 }, { "EOPNOTSUPP", 95 }, { "ERESTARTSYS", 512 }, { "ERESTARTNOINTR", 513 }, { "ERESTARTNOHAND", 514 },
	{ "ERESTART_RESTARTBLOCK", 516 }, { NULL, 0 }
};

/* The strace importer's state: the core's, and a buffer for stitched calls. */
struct st {
	struct imp m;
	char *call;	   /* a stitched call */
	uint32_t anon_tid; /* the thread of lines without a pid (strace without -f) */
	uint64_t tod_last, tod_day; /* strace -tt: the last time of day read, and the days crossed since the first line */
};

/* ---- numbers and names ---- */

/* Unsigned number: decimal, or hex after 0x; *pp moves past it. */
static bool unum(const char **pp, uint64_t *v)
{
	const char *p = *pp;
	bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	p += hex ? 2 : 0;
	if (!tu_digits(&p, hex ? 16 : 10, v))
		return false;
	*pp = p;
	return true;
}

#define NS_PER_DAY (86400ull * 1000000000ull)

/*
 * stamp: the timestamp at *pp, in ns: SECONDS.FRACTION (strace -ttt), or
 * HH:MM:SS.FRACTION (-tt: the time of day; *tod set), each followed by a
 * space; *pp moves past it. False if neither.
 */
static bool stamp(const char **pp, uint64_t *ns, bool *tod)
{
	const char *p = *pp;
	uint64_t sec, frac = 0, h, m;
	*tod = false;
	if (!unum(&p, &sec))
		return false;
	if (*p == ':') { /* HH:MM:SS */
		h = sec;
		p++;
		if (!unum(&p, &m) || *p != ':' || h > 23 || m > 59)
			return false;
		p++;
		if (!unum(&p, &sec) || sec > 60)
			return false;
		sec += h * 3600 + m * 60;
		*tod = true;
	}
	if (*p != '.' || sec > 4000000000ull)
		return false;
	const char *f = ++p;
	if (!unum(&p, &frac) || p - f > 9 || *p != ' ')
		return false;
	for (long i = p - f; i < 9; i++)
		frac *= 10;
	*ns = sec * 1000000000ull + frac;
	*pp = p;
	return true;
}

/* A whole argument: a number (decimal, 0x hex, negative), NULL, names joined by '|', or "N<path>" (-y). */
static bool arg_val(const char *s, const struct sname *names, uint64_t *out)
{
	uint64_t v = 0;
	if (!strcmp(s, "NULL")) {
		*out = 0;
		return true;
	}
	const char *p = s;
	for (;;) {
		uint64_t x;
		bool neg = *p == '-';
		const char *q = p + neg;
		if (unum(&q, &x)) {
			v |= neg ? 0 - x : x;
			p = q;
		} else {
			const struct sname *n = names;
			size_t len = strcspn(p, "|<");
			for (; n && n->s; n++)
				if (strlen(n->s) == len && !strncmp(n->s, p, len))
					break;
			if (!n || !n->s)
				return false;
			v |= n->v;
			p += len;
		}
		if (*p == '|') {
			p++;
			continue;
		}
		break;
	}
	if (*p == '<') { /* a file descriptor's path (strace -y) */
		size_t n = strlen(p);
		if (n < 2 || p[n - 1] != '>')
			return false;
		p += n;
	}
	if (*p)
		return false;
	*out = v;
	return true;
}

/* Split the top-level arguments of "a, b, {c, d}, [e]" (s is modified). Returns the count, or -1. */
static int split_args(char *s, char **out, int max)
{
	int n = 0, depth = 0;
	bool quote = false;
	char *start = s;
	if (!*s)
		return 0;
	for (char *p = s;; p++) {
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quote = false;
			else if (!*p)
				return -1;
			continue;
		}
		if (*p == '"')
			quote = true;
		else if (*p == '(' || *p == '[' || *p == '{')
			depth++;
		else if ((*p == ')' || *p == ']' || *p == '}') && depth > 0)
			depth--;
		else if ((*p == ',' && depth == 0) || !*p) {
			bool end = !*p;
			*p = 0;
			while (*start == ' ')
				start++;
			if (n == max)
				return -1;
			out[n++] = start;
			if (end)
				return n;
			start = p + 1;
		}
	}
}

/* ---- threads ---- */

/* The thread of a line's tid: a child of a call in progress if it is new, else an initial thread. */
static struct imp_thread *line_thread(struct st *S, uint32_t tid, uint64_t ns)
{
	struct imp_thread *t = imp_thread_find(&S->m, tid);
	if (t && !t->exited)
		return t;
	/* A new task seen before its parent's clone returned: the latest such parent made it (its id may be reused). */
	struct imp_thread *parent = NULL;
	for (uint32_t i = 0; i < S->m.nthreads; i++) {
		struct imp_thread *p = S->m.threads[i];
		if (!p->exited && p->spawning && !p->spawned && (!parent || p->partial_ts >= parent->partial_ts))
			parent = p;
	}
	if (!parent)
		return t ? t : imp_initial(&S->m, tid, tid, "");
	enum imp_clone_kind kind = (enum imp_clone_kind)(parent->spawning - 1);
	t = imp_clone(&S->m, parent, tid, kind == IMP_THREAD ? parent->p->rpid : tid, kind, ns);
	parent->spawned = tid;
	return t;
}

/* The kind of process or thread a creating call makes, from its name and its flags= text. */
static enum imp_clone_kind clone_kind(const char *name, const char *args)
{
	if (!strcmp(name, "fork"))
		return IMP_FORK;
	if (!strcmp(name, "vfork"))
		return IMP_VFORK;
	const char *f = strstr(args, "flags=");
	if (!f) /* clone3 with its structure not decoded: glibc's posix_spawn */
		return strcmp(name, "clone3") ? IMP_FORK : IMP_VFORK;
	f += 6;
	size_t n = strcspn(f, ",}");
	bool vm = false, thread = false;
	for (const char *p = f; p < f + n;) {
		size_t k = strcspn(p, "|,}");
		if (k == 8 && !strncmp(p, "CLONE_VM", 8))
			vm = true;
		if (k == 12 && !strncmp(p, "CLONE_THREAD", 12))
			thread = true;
		p += k + (p[k] == '|');
		if (!k)
			break;
	}
	return thread ? IMP_THREAD : vm ? IMP_VFORK : IMP_FORK;
}

/* Whether a call makes a task. */
static bool creates(const char *name)
{
	return !strcmp(name, "clone") || !strcmp(name, "clone3") || !strcmp(name, "fork") || !strcmp(name, "vfork");
}

/* ---- calls ---- */

/* Parse "= RET [ERRNAME (text)] [<dur>]": ret, and whether it is known ('?' is not). */
static bool parse_ret(const char *s, int64_t *ret, bool *known, uint64_t *dur)
{
	*dur = 0;
	*known = false;
	while (*s == ' ')
		s++;
	if (*s == '?') {
		s++;
	} else {
		bool neg = *s == '-';
		const char *p = s + neg;
		uint64_t v;
		if (!unum(&p, &v))
			return false;
		*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
		*known = true;
		s = p;
		while (*s == ' ')
			s++;
		if (neg && isupper((unsigned char)*s)) {
			size_t n = 0;
			while (isupper((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_')
				n++;
			*ret = -1;
			for (const struct sname *e = errnos; e->s; e++)
				if (strlen(e->s) == n && !strncmp(e->s, s, n))
					*ret = -(int64_t)e->v;
			s += n;
		}
	}
	/* The rest: "(text)", "<unavailable>", and -T's "<seconds>" last. */
	const char *lt = strrchr(s, '<');
	if (lt && lt[1] >= '0' && lt[1] <= '9') {
		const char *p = lt + 1;
		uint64_t sec, frac = 0;
		if (unum(&p, &sec) && *p == '.') {
			const char *f = ++p;
			if (unum(&p, &frac) && *p == '>' && p - f <= 9) {
				for (long i = p - f; i < 9; i++)
					frac *= 10;
				*dur = sec * 1000000000ull + frac;
			}
		}
	}
	return true;
}

/* One whole call of t (stitched if it was interrupted), at ns. */
static int do_call(struct st *S, struct imp_thread *t, char *text, uint64_t ns)
{
	/* NAME(ARGS) = RET */
	size_t nl = 0;
	while (isalnum((unsigned char)text[nl]) || text[nl] == '_')
		nl++;
	if (!nl || text[nl] != '(')
		return imp_bad(&S->m, "expected a system call NAME(ARGS) = RESULT");
	char name[32];
	snprintf(name, sizeof(name), "%.*s", (int)MIN(nl, sizeof(name) - 1), text);
	/* The last ") = " (strace pads the result with spaces to a column). */
	char *eq = NULL;
	for (char *p = strstr(text, " = "); p; p = strstr(p + 1, " = ")) {
		char *q = p;
		while (q > text && q[-1] == ' ')
			q--;
		if (q > text && q[-1] == ')')
			eq = q - 1;
	}
	if (!eq) {
		/* exit and exit_group may end without "= ?" when the process dies first. */
		if (!strcmp(name, "exit") || !strcmp(name, "exit_group")) {
			imp_exit(&S->m, t, ns, name[4] == '_');
			return 0;
		}
		return imp_bad(&S->m, "%s: no ') = RESULT'", name);
	}
	*eq = 0;
	char *res = strstr(eq + 1, "= ") + 2;
	char *args = text + nl + 1;
	int64_t ret = 0;
	bool known;
	uint64_t dur;
	if (!parse_ret(res, &ret, &known, &dur))
		return imp_bad(&S->m, "%s: the result '%.40s' is not a number or '?'", name, res);
	if (!strcmp(name, "exit") || !strcmp(name, "exit_group")) {
		imp_exit(&S->m, t, ns, name[4] == '_');
		return 0;
	}
	if (creates(name)) {
		enum imp_clone_kind kind = clone_kind(name, args);
		uint32_t child = t->spawned; /* it appeared while the call was unfinished */
		bool made = child != 0;
		t->spawning = 0;
		t->spawned = 0;
		if (!known || ret <= 0)
			return 0;
		if (made) {
			if ((uint32_t)ret != child)
				return imp_bad(&S->m, "%s returned %lld, but task %u appeared during the call", name, (long long)ret,
					   child);
			return 0;
		}
		struct imp_thread *old = imp_thread_find(&S->m, (uint32_t)ret);
		if (old && !old->exited)
			return imp_bad(&S->m, "%s returned %lld, a task that already exists", name, (long long)ret);
		imp_clone(&S->m, t, (uint32_t)ret, kind == IMP_THREAD ? t->p->rpid : (uint32_t)ret, kind, ns);
		return 0;
	}
	if (!strcmp(name, "execve") || !strcmp(name, "execveat")) {
		if (known && ret == 0) {
			imp_exec(&S->m, t, ns, NULL, 0, !t->first_image);
			imp_end(t, ns + dur);
		}
		return 0;
	}
	/* Each call: its number, its arguments, and the names of each argument the importer reads (NULL: numbers). */
	static const struct {
		const char *name;
		uint32_t nr;
		int nargs;
		const struct sname *names[6];
		int fd; /* the argument that is a descriptor (its -y path names the file), or -1 */
	} calls[] = {
		{ "mmap", NR_MMAP, 6, { NULL, NULL, prot_names, map_names }, 4 },
		{ "mprotect", NR_MPROTECT, 3, { NULL, NULL, prot_names }, -1 },
		{ "pkey_mprotect", NR_PKEY_MPROTECT, 4, { NULL, NULL, prot_names }, -1 },
		{ "munmap", NR_MUNMAP, 2, { NULL }, -1 },
		{ "brk", NR_BRK, 1, { NULL }, -1 },
		{ "mremap", NR_MREMAP, 4, { NULL, NULL, NULL, mremap_names }, -1 },
		{ "madvise", NR_MADVISE, 3, { NULL, NULL, madv_names }, -1 },
		{ "mlock", NR_MLOCK, 2, { NULL }, -1 },
		{ "mlock2", NR_MLOCK2, 3, { NULL, NULL, mlock_names }, -1 },
		{ "munlock", NR_MUNLOCK, 2, { NULL }, -1 },
		{ "mlockall", NR_MLOCKALL, 1, { mcl_names }, -1 },
		{ "munlockall", NR_MUNLOCKALL, 0, { NULL }, -1 },
		{ "msync", NR_MSYNC, 3, { NULL, NULL, ms_names }, -1 },
		{ "mincore", NR_MINCORE, 2, { NULL }, -1 }, /* (its vector is not read) */
		{ "ftruncate", NR_FTRUNCATE, 2, { NULL }, 0 },
		{ "fallocate", NR_FALLOCATE, 4, { NULL, falloc_names }, 0 },
		{ "shmget", NR_SHMGET, 3, { shmget_names, NULL, shmget_names }, -1 },
		{ "shmat", NR_SHMAT, 3, { NULL, NULL, shmat_names }, -1 },
		{ "shmdt", NR_SHMDT, 1, { NULL }, -1 },
		{ "close", NR_CLOSE, 1, { NULL }, 0 },
		{ NULL, 0, 0, { NULL }, -1 },
	};
	int c = 0;
	while (calls[c].name && strcmp(calls[c].name, name))
		c++;
	if (!calls[c].name)
		return 0; /* a call the simulator does not model */
	if (!known)
		return imp_bad(&S->m, "%s: no result", name);
	char *av[8];
	int n = split_args(args, av, 8);
	if (n < calls[c].nargs || n > 6)
		return imp_bad(&S->m, "%s: expected %d arguments", name, calls[c].nargs);
	uint64_t a[6] = { 0 };
	const char *fd_name = NULL;
	for (int i = 0; i < calls[c].nargs; i++) {
		/* shmget's mode bits come after its flags' names: "IPC_CREAT|0600" */
		if (!arg_val(av[i], calls[c].names[i], &a[i]))
			return imp_bad(&S->m, "%s: argument %d '%.40s' is not understood", name, i + 1, av[i]);
		if (i == calls[c].fd && strchr(av[i], '<'))
			fd_name = strchr(av[i], '<');
	}
	char path[256];
	if (fd_name) {
		snprintf(path, sizeof(path), "%.*s", (int)MIN(strlen(fd_name + 1) - 1, sizeof(path) - 1), fd_name + 1);
		fd_name = path;
	}
	t->line_enter = t->partial_line ? t->partial_line : lines_lineno(S->m.l);
	t->partial_line = 0;
	imp_syscall(&S->m, t, calls[c].nr, a, ret, ns, ns + dur, NULL, fd_name);
	return 0;
}

/* ---- lines ---- */

/* One line: a call, half of one, a signal, or an exit. */
static int on_line(struct st *S, const char *line)
{
	const char *p = line;
	uint64_t tid = 0;
	if (!strncmp(p, "[pid ", 5)) {
		p += 5;
		while (*p == ' ')
			p++;
		if (!unum(&p, &tid) || *p != ']')
			return imp_bad(&S->m, "malformed [pid N] prefix");
		p++;
	} else if (isdigit((unsigned char)*p)) {
		/* "PID SECONDS.FRACTION" or, without -f, just the timestamp. */
		const char *q = p;
		uint64_t v;
		if (unum(&q, &v) && *q == ' ') {
			tid = v;
			p = q;
		}
	}
	while (*p == ' ')
		p++;
	uint64_t ns;
	bool tod;
	if (!stamp(&p, &ns, &tod))
		return imp_bad(&S->m, "expected a timestamp SECONDS.FRACTION (strace -ttt) or HH:MM:SS.FRACTION (-tt)");
	if (tod) { /* the time of day: a step back of more than 12 hours is midnight */
		if (ns + NS_PER_DAY / 2 < S->tod_last)
			S->tod_day++;
		S->tod_last = ns;
		ns += S->tod_day * NS_PER_DAY;
	}
	while (*p == ' ')
		p++;
	if (!tid) {
		if (!S->anon_tid)
			S->anon_tid = 1;
		tid = S->anon_tid;
	}
	if (tid > UINT32_MAX)
		return imp_bad(&S->m, "pid %llu out of range", (unsigned long long)tid);
	if (!strncmp(p, "+++ ", 4)) {
		struct imp_thread *t = imp_thread_find(&S->m, (uint32_t)tid);
		if (t && !t->exited)
			imp_exit(&S->m, t, ns, t->p->live == 1);
		return 0;
	}
	struct imp_thread *t = line_thread(S, (uint32_t)tid, ns);
	if (t->exited)
		return 0; /* an exited task's late lines ("<... exit resumed>") */
	if (!strncmp(p, "--- ", 4)) {
		const char *s = p + 4;
		int sig = !strncmp(s, "SIGSEGV", 7) ? 11 : !strncmp(s, "SIGBUS", 6) ? 7 : 0;
		imp_signal(&S->m, t, sig);
		return 0;
	}
	size_t len = strlen(p);
	static const char unfinished[] = " <unfinished ...>";
	if (!strncmp(p, "<... ", 5)) {
		const char *r = strstr(p, " resumed>");
		if (!r)
			return imp_bad(&S->m, "malformed '<... NAME resumed>'");
		size_t nl = (size_t)(r - p - 5);
		if (!t->partial)
			return imp_bad(&S->m, "'<... %.*s resumed>' with no unfinished call on pid %u", (int)MIN(nl, 32), p + 5,
				   t->rtid);
		if (strncmp(t->partial, p + 5, nl) || t->partial[nl] != '(')
			return imp_bad(&S->m, "'<... %.*s resumed>' does not match the unfinished call on pid %u", (int)MIN(nl, 32),
				   p + 5, t->rtid);
		const char *rest = r + 9;
		size_t pl = strlen(t->partial), rl = strlen(rest);
		if (pl + rl + 1 > MAX_CALL)
			return imp_bad(&S->m, "a call longer than %u bytes", MAX_CALL);
		memcpy(S->call, t->partial, pl);
		memcpy(S->call + pl, rest, rl + 1);
		uint64_t ts = t->partial_ts;
		xfree(t->partial);
		t->partial = NULL;
		return do_call(S, t, S->call, ts);
	}
	if (len >= sizeof(unfinished) - 1 && !strcmp(p + len - (sizeof(unfinished) - 1), unfinished)) {
		if (t->partial)
			return imp_bad(&S->m, "a second unfinished call on pid %u (the first is still open)", t->rtid);
		size_t n = len - (sizeof(unfinished) - 1);
		t->partial = xmalloc(n + 1);
		memcpy(t->partial, p, n);
		t->partial[n] = 0;
		t->partial_ts = ns;
		t->partial_line = lines_lineno(S->m.l);
		size_t nl = strcspn(t->partial, "(");
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)MIN(nl, sizeof(name) - 1), t->partial);
		if (!strcmp(name, "exit") || !strcmp(name, "exit_group")) {
			imp_exit(&S->m, t, ns, name[4] == '_');
			xfree(t->partial);
			t->partial = NULL;
		} else if (creates(name)) {
			/* A child may appear before the call returns: remember what it would be. */
			t->spawning = (uint8_t)(clone_kind(name, t->partial) + 1);
			t->spawned = 0;
		}
		return 0;
	}
	if (!strncmp(p, "????", 4) || !strncmp(p, "strace:", 7))
		return 0;
	if (len >= MAX_CALL)
		return imp_bad(&S->m, "a call longer than %u bytes", MAX_CALL);
	memcpy(S->call, p, len + 1);
	return do_call(S, t, S->call, ns);
}

/* One line of input through on_line. */
static int line(struct imp *m, const char *s)
{
	if (!strncmp(s, "strace: ", 8))
		return 0; /* strace's own messages */
	return on_line(container_of(m, struct st, m), s);
}

static const struct imp_format strace_format = {
	.name = "strace",
	.empty_why = "no system calls",
	.blind_exec = true,
	.line = line,
};

/* The strace importer's entry (tr_importer.import). */
static int import(const char *in, struct tr_writer *w, const struct tr_import_opts *o, struct tr_import_stats *st,
		  char *err, size_t errlen)
{
	struct st S = { .call = xmalloc(MAX_CALL) };
	int rc = imp_run(&S.m, &strace_format, in, w, o, st, err, errlen);
	xfree(S.call);
	return rc;
}

/* strace -ttt or -tt lines: "[pid N] STAMP ", "PID STAMP " or "STAMP " (stamp). */
static bool detect(const struct tr_probe *p)
{
	const char *s = p->line;
	if (!s)
		return false;
	if (!strncmp(s, "[pid ", 5))
		return true;
	uint64_t ns;
	bool tod;
	const char *q = s;
	if (stamp(&q, &ns, &tod))
		return true;
	uint64_t pid;
	if (!unum(&s, &pid) || *s != ' ')
		return false;
	while (*s == ' ')
		s++;
	return stamp(&s, &ns, &tod);
}

const struct tr_importer tr_importer_strace = {
	.name = "strace",
	.what = "`strace -f -ttt` (or -tt) output",
	.detect = detect,
	.import = import,
};
