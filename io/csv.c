/* csv.c: a small strict CSV reader (quoted fields, doubled quotes) with file:line errors. */
#include "io/csv.h"
#include "io/lines.h"
#include "sim/util.h"

#include <stdio.h>
#include <string.h>

/* Split one line into fields; -1 on a malformed quote. */
static int split(const char *s, char ***out, uint32_t *n)
{
	uint32_t cap = 16;
	char **f = xmalloc(sizeof(*f) * cap);
	*n = 0;
	size_t len = strlen(s);
	char *buf = xmalloc(len + 1);
	const char *p = s;
	for (;;) {
		size_t b = 0;
		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p) {
					for (uint32_t i = 0; i < *n; i++)
						xfree(f[i]);
					xfree(f);
					xfree(buf);
					return -1;
				}
				if (*p == '"' && p[1] == '"') {
					buf[b++] = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					buf[b++] = *p++;
				}
			}
		} else {
			while (*p && *p != ',')
				buf[b++] = *p++;
		}
		buf[b] = 0;
		if (*n == cap)
			f = xrealloc(f, sizeof(*f) * (cap *= 2));
		f[(*n)++] = xstrdup(buf);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p) {
			for (uint32_t i = 0; i < *n; i++)
				xfree(f[i]);
			xfree(f);
			xfree(buf);
			return -1;
		}
		break;
	}
	xfree(buf);
	*out = f;
	return 0;
}

int csv_load(struct csv *t, const char *path, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	struct lines *l = lines_open(path, err, errlen);
	if (!l)
		return -1;
	const char *s;
	size_t len;
	while ((s = lines_next(l, &len))) {
		if (strlen(s) != len) {
			snprintf(err, errlen, "%s:%llu: a NUL byte in the line: not CSV", path,
				 (unsigned long long)lines_lineno(l));
			lines_close(l);
			csv_free(t);
			return -1;
		}
		if (!*s)
			continue;
		char **f;
		uint32_t n;
		if (split(s, &f, &n)) {
			snprintf(err, errlen, "%s:%llu: malformed quoted field", path, (unsigned long long)lines_lineno(l));
			lines_close(l);
			csv_free(t);
			return -1;
		}
		if (!t->head) {
			t->head = f;
			t->ncols = n;
			continue;
		}
		if (n != t->ncols) {
			snprintf(err, errlen, "%s:%llu: %u fields, the header has %u", path,
				 (unsigned long long)lines_lineno(l), n, t->ncols);
			for (uint32_t i = 0; i < n; i++)
				xfree(f[i]);
			xfree(f);
			lines_close(l);
			csv_free(t);
			return -1;
		}
		if (t->nrows == t->cap)
			t->rows = xrealloc(t->rows, sizeof(*t->rows) * (t->cap = t->cap ? t->cap * 2 : 32));
		t->rows[t->nrows++] = f;
	}
	if (lines_error(l)) {
		snprintf(err, errlen, "%s", lines_error(l));
		lines_close(l);
		csv_free(t);
		return -1;
	}
	lines_close(l);
	return 0;
}

void csv_free(struct csv *t)
{
	for (uint32_t r = 0; r < t->nrows; r++) {
		for (uint32_t c = 0; c < t->ncols; c++)
			xfree(t->rows[r][c]);
		xfree(t->rows[r]);
	}
	for (uint32_t c = 0; c < t->ncols; c++)
		xfree(t->head[c]);
	xfree(t->head);
	xfree(t->rows);
	memset(t, 0, sizeof(*t));
}

int csv_col(const struct csv *t, const char *name)
{
	for (uint32_t c = 0; c < t->ncols; c++)
		if (!strcmp(t->head[c], name))
			return (int)c;
	return -1;
}

void csv_write_field(void *fp, const char *v)
{
	FILE *f = fp;
	if (!strpbrk(v, ",\"\n")) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}
