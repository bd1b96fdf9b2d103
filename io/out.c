/* out.c: output files written whole or not at all (see out.h). */
#include "io/out.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* in_place: the target exists and is not a regular file (a device, a FIFO, a terminal): write it directly. */
static bool in_place(const char *path)
{
	struct stat st;
	return !stat(path, &st) && !S_ISREG(st.st_mode);
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
	snprintf(o->path, sizeof(o->path), "%s", path);
	if (in_place(path)) {
		if (!(o->f = fopen(path, "w"))) {
			snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	char d[4096], b[4096];
	snprintf(d, sizeof(d), "%s", path);
	snprintf(b, sizeof(b), "%s", path);
	snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dirname(d), basename(b));
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot write there: %s", path, strerror(errno));
		o->tmp[0] = 0;
		return -1;
	}
	/* mkstemp makes the file 0600; a result file is as readable as any other the user makes. */
	mode_t um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) || !(o->f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: %s", o->tmp, strerror(errno));
		close(fd);
		unlink(o->tmp);
		o->tmp[0] = 0;
		return -1;
	}
	return 0;
}

int out_commit(struct out *o, char *err, size_t errlen)
{
	int bad = fflush(o->f) || ferror(o->f);
	int e = errno;
	if (o->is_stdout) {
		if (bad) {
			snprintf(err, errlen, "standard output: write error: %s", strerror(e));
			return -1;
		}
		return 0;
	}
	if (fclose(o->f) && !bad) {
		bad = 1;
		e = errno;
	}
	o->f = NULL;
	if (bad) {
		snprintf(err, errlen, "%s: write error: %s", o->path, strerror(e));
		if (o->tmp[0])
			unlink(o->tmp);
		return -1;
	}
	if (o->tmp[0] && rename(o->tmp, o->path)) {
		snprintf(err, errlen, "%s: cannot replace it: %s", o->path, strerror(errno));
		unlink(o->tmp);
		return -1;
	}
	return 0;
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
