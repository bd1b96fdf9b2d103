/* out.c: output files written whole or not at all (see out.h). */
#include "io/out.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* resolve: where a link leads, so that the rename replaces the file and keeps the link. */
static void resolve(const char *path, char *out, size_t n)
{
	struct stat st;
	char real[PATH_MAX];
	if (!lstat(path, &st) && S_ISLNK(st.st_mode) && realpath(path, real))
		snprintf(out, n, "%s", real);
	else
		snprintf(out, n, "%s", path);
}

int out_open(struct out *o, const char *path, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		o->is_stdout = true;
		snprintf(o->path, sizeof(o->path), "standard output");
		return 0;
	}
	if (strlen(path) + 16 > sizeof(o->path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	resolve(path, o->path, sizeof(o->path));
	mode_t mask = umask(0);
	umask(mask);
	o->mode = 0666 & ~mask;
	struct stat st;
	bool exists = !stat(o->path, &st);
	if (exists && S_ISREG(st.st_mode))
		o->mode = st.st_mode & 07777;
	if (exists && !S_ISREG(st.st_mode)) {
		/* A device, a FIFO or a terminal (/dev/null, /dev/full): written as it is, nothing to rename. */
		if (!(o->f = fopen(o->path, "w"))) {
			snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	const char *slash = strrchr(o->path, '/');
	int dir = slash ? (int)(slash - o->path + 1) : 0;
	snprintf(o->tmp, sizeof(o->tmp), "%.*s.%s.XXXXXX", dir, o->path, o->path + dir);
	int fd = mkstemp(o->tmp);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: cannot write there: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		o->tmp[0] = 0;
		return -1;
	}
	return 0;
}

bool out_write(struct out *o, const void *p, size_t n)
{
	if (fwrite(p, 1, n, o->f) == n)
		return true;
	if (!o->err_no)
		o->err_no = errno ? errno : EIO;
	return false;
}

/* finish: flush, check, fsync and give the file its mode, close (not standard output); the first errno, or 0. */
static int finish(struct out *o)
{
	int e = o->err_no;
	if (fflush(o->f) && !e)
		e = errno;
	if (ferror(o->f) && !e) /* a write failed inside stdio: say why when errno still tells a write's failure */
		e = errno == ENOSPC || errno == EDQUOT || errno == EFBIG || errno == EPIPE ? errno : EIO;
	if (o->tmp[0] && !e && fsync(fileno(o->f)))
		e = errno;
	if (o->tmp[0] && !e && fchmod(fileno(o->f), o->mode))
		e = errno;
	if (!o->is_stdout && fclose(o->f) && !e)
		e = errno;
	o->f = NULL;
	return e;
}

int out_commit(struct out *o, char *err, size_t errlen)
{
	int e = finish(o);
	if (!e && o->tmp[0] && rename(o->tmp, o->path))
		e = errno;
	if (e) {
		snprintf(err, errlen, "%s: write error: %s", o->path, strerror(e));
		if (o->tmp[0])
			unlink(o->tmp);
	}
	o->tmp[0] = 0;
	return e ? -1 : 0;
}

void out_abort(struct out *o)
{
	if (o->f && !o->is_stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = 0;
}

bool out_same_file(const char *out, const char *in)
{
	struct stat a, b;
	if (!out || !strcmp(out, "-") || !in)
		return false;
	if (stat(out, &a))
		return !strcmp(out, in);
	return !stat(in, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int out_mkdirs(const char *path)
{
	char p[4096];
	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0777) && errno != EEXIST)
			return -1;
		*s = c;
		if (!c)
			break;
	}
	struct stat st;
	if (stat(path, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int out_append_row(FILE *f, const char *buf, size_t len)
{
	if (fflush(f))
		return -1;
	int fd = fileno(f);
	off_t at = lseek(fd, 0, SEEK_END);
	if (at < 0)
		return -1;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n <= 0) {
			int e = n < 0 ? errno : ENOSPC;
			if (ftruncate(fd, at)) {
				/* nothing more to do: the error below says what went wrong first */
			}
			errno = e;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}
