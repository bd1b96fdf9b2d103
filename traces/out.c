/* out.c: output files written whole or not at all: a temporary file beside the destination, every write and the close checked, then a rename. */
#include "traces/trace.h"
#include "traces/util.h"
#include "sim/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tr_out {
	FILE *f;
	char path[PATH_MAX]; /* the destination (resolved if it was a link) */
	char tmp[PATH_MAX + 16]; /* the temporary file beside it; empty when writing the destination itself */
	mode_t mode;	     /* the permissions the file gets: the destination's, or 0666 less the umask */
	int err_no;	     /* the first failed write's errno (0: none) */
};

/* Where a link leads, so that the rename replaces the file and keeps the link. */
static void resolve(const char *path, char *out, size_t n)
{
	struct stat st;
	char real[PATH_MAX];
	if (!lstat(path, &st) && S_ISLNK(st.st_mode) && realpath(path, real))
		snprintf(out, n, "%s", real);
	else
		snprintf(out, n, "%s", path);
}

struct tr_out *tr_out_open(const char *path, char *err, size_t errlen)
{
	struct tr_out *o = xzalloc(sizeof(*o));
	struct stat st;
	if (!strcmp(path, "-")) {
		snprintf(o->path, sizeof(o->path), "standard output");
		o->f = stdout;
		return o;
	}
	resolve(path, o->path, sizeof(o->path));
	mode_t mask = umask(0);
	umask(mask);
	o->mode = 0666 & ~mask;
	bool exists = !stat(o->path, &st);
	if (exists && S_ISREG(st.st_mode))
		o->mode = st.st_mode & 07777;
	if (exists && !S_ISREG(st.st_mode)) {
		/* A device or a pipe (/dev/null, /dev/full, a FIFO): written as it is, nothing to rename. */
		o->f = fopen(o->path, "wb");
	} else {
		const char *slash = strrchr(o->path, '/');
		int dir = slash ? (int)(slash - o->path + 1) : 0;
		snprintf(o->tmp, sizeof(o->tmp), "%.*s.%s.XXXXXX", dir, o->path, o->path + dir);
		int fd = mkstemp(o->tmp);
		o->f = fd < 0 ? NULL : fdopen(fd, "wb");
		if (fd >= 0 && !o->f) {
			int e = errno;
			close(fd);
			unlink(o->tmp);
			errno = e;
		}
	}
	if (!o->f) {
		tu_errf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		xfree(o);
		return NULL;
	}
	return o;
}

FILE *tr_out_file(const struct tr_out *o) { return o->f; }

bool tr_out_write(struct tr_out *o, const void *p, size_t n)
{
	if (fwrite(p, 1, n, o->f) == n)
		return true;
	if (!o->err_no)
		o->err_no = errno ? errno : EIO;
	return false;
}

/* Close the file (not standard output); the errno of the first failure, or 0. */
static int finish(struct tr_out *o)
{
	int e = o->err_no;
	if (fflush(o->f) && !e)
		e = errno;
	if (ferror(o->f) && !e)
		e = EIO;
	if (o->tmp[0] && !e && fsync(fileno(o->f)))
		e = errno;
	if (o->tmp[0] && !e && fchmod(fileno(o->f), o->mode))
		e = errno;
	if (o->f != stdout && fclose(o->f) && !e)
		e = errno;
	o->f = NULL;
	return e;
}

int tr_out_commit(struct tr_out *o, char *err, size_t errlen)
{
	int e = finish(o);
	if (!e && o->tmp[0] && rename(o->tmp, o->path))
		e = errno;
	if (e) {
		tu_errf(err, errlen, "%s: write error: %s", o->path, strerror(e));
		if (o->tmp[0])
			unlink(o->tmp);
	}
	xfree(o);
	return e ? -1 : 0;
}

void tr_out_abort(struct tr_out *o)
{
	if (!o)
		return;
	if (o->f && o->f != stdout)
		fclose(o->f);
	if (o->tmp[0])
		unlink(o->tmp);
	xfree(o);
}
