/* out.h: output files written whole or not at all: a temporary file beside the target, every write and the close checked, then a rename. */
#ifndef MMSIM_OUT_H
#define MMSIM_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * struct out: one output being written. A regular file (or a new one) is
 * written as DIR/.NAME.XXXXXX and renamed over NAME by out_commit, so a
 * reader never sees half a file and a failure leaves the old file intact.
 * Standard output ("-" or NULL path) and special files that exist already
 * (/dev/null, /dev/full, a FIFO, a terminal) are written in place, with
 * every write and the close still checked.
 */
struct out {
	FILE *f;	 /* write here */
	char path[4096]; /* the target ("standard output" for stdout) */
	char tmp[4096];	 /* the temporary file, "" when writing in place */
	bool is_stdout;
};

/*
 * out_open: start writing `path` (NULL or "-": standard output). 0, or -1
 * with "PATH: reason" in err (the directory cannot be written, ...).
 */
int out_open(struct out *o, const char *path, char *err, size_t errlen);
/*
 * out_commit: flush, check for any write error, close, and rename the
 * temporary file over the target. 0, or -1 with the reason in err; on
 * failure the temporary file is removed and the target left as it was.
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
