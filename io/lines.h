/* lines.h: a streaming line reader for plain, zstd- and xz-compressed text, with file/line positions for errors. */
#ifndef MMSIM_LINES_H
#define MMSIM_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lines;

/*
 * lines_open: open path for reading line by line; ".zst" and ".xz" files
 * are decompressed as they stream ("-" is standard input). Memory stays
 * bounded by the longest line. NULL with a message in err on failure.
 */
struct lines *lines_open(const char *path, char *err, size_t errlen);
void lines_close(struct lines *l);

/*
 * lines_next: the next line without its newline (valid until the next
 * call), or NULL at the end or on a read error (lines_error then says
 * which). Lines longer than `max_line` bytes are an error.
 */
const char *lines_next(struct lines *l, size_t *len);
const char *lines_error(const struct lines *l);
uint64_t lines_lineno(const struct lines *l); /* 1-based number of the line last returned */
const char *lines_path(const struct lines *l);
uint64_t lines_bytes(const struct lines *l); /* uncompressed bytes consumed so far */

#endif
