/* csv.h: reading the result files that sweeps write (RFC 4180 style CSV), for merge, resume and plots. */
#ifndef MMSIM_CSV_H
#define MMSIM_CSV_H

#include <stddef.h>
#include <stdint.h>

/* A whole CSV file in memory: the header and the rows (results files are small). */
struct csv {
	char **head;
	uint32_t ncols;
	char ***rows; /* rows[r][c] */
	uint32_t nrows, cap;
};

/* csv_load: read path. 0 on success (a missing file is an error unless it is empty); -1 with "FILE:LINE: reason". */
int csv_load(struct csv *t, const char *path, char *err, size_t errlen);
void csv_free(struct csv *t);
/* csv_col: the index of a column, or -1. */
int csv_col(const struct csv *t, const char *name);
/* csv_write_field: one field to f, quoted if needed. */
void csv_write_field(void *f, const char *v);

#endif
