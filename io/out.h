/* out.h: output files written whole or not at all: a temporary file beside the target, every write and the close checked, then a rename. */
#ifndef MMSIM_OUT_H
#define MMSIM_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <sys/types.h>

/*
 * struct out: one output being written. A regular file (or a new one) is
 * written as DIR/.NAME.XXXXXX and renamed over NAME by out_commit (after
 * the flush, fsync and close), so a reader never sees half a file and a
 * failure leaves the old file intact; a link is followed, so the rename
 * replaces its target and keeps the link; the file keeps the old one's
 * permissions (a new one gets 0666 less the umask). Standard output ("-"
 * or a NULL path) and special files that exist already (/dev/null,
 * /dev/full, a FIFO, a terminal) are written in place, with every write
 * and the close still checked.
 */
struct out {
	FILE *f;		/* write here (fprintf and fwrite errors are caught at out_commit) */
	char path[4096];	/* the target, links resolved ("standard output" for stdout) */
	char tmp[4096 + 16];	/* the temporary file, "" when writing in place */
	mode_t mode;		/* the permissions the file gets */
	int err_no;		/* the first failed out_write's errno (0: none) */
	bool is_stdout;
};

/*
 * out_open: start writing `path` (NULL or "-": standard output). 0, or -1
 * with "PATH: reason" in err (the directory cannot be written, ...).
 */
int out_open(struct out *o, const char *path, char *err, size_t errlen);
/* out_write: fwrite that remembers why the first failed write failed. false on failure. */
bool out_write(struct out *o, const void *p, size_t n);
/*
 * out_commit: flush, check for any write error, fsync, close, and rename
 * the temporary file over the target. 0, or -1 with "PATH: write error:
 * reason" in err; on failure the temporary file is removed and the target
 * left as it was.
 */
int out_commit(struct out *o, char *err, size_t errlen);
/* out_abort: give up: close and remove the temporary file; the target is left as it was. */
void out_abort(struct out *o);

/*
 * out_same_file: whether writing `out` would overwrite `in` (the same file
 * by device and inode, or the same path when `out` does not exist yet).
 */
bool out_same_file(const char *out, const char *in);

/* out_mkdirs: make the directory `path` and any missing parents (mkdir -p). 0, or -1 with errno set. */
int out_mkdirs(const char *path);

/*
 * out_append_row: append the len bytes of buf to the open file f in one
 * piece: on a short or failed write the file is cut back to where it was,
 * so it never holds half a row. 0, or -1 with errno set.
 */
int out_append_row(FILE *f, const char *buf, size_t len);

#endif
