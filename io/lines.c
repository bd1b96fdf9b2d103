/* lines.c: line reader over plain files, zstd streams (libzstd) and xz streams (liblzma). */
#include "io/lines.h"
#include "sim/util.h"

#include <errno.h>
#include <lzma.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#define MAX_LINE (1u << 20)
#define IN_CHUNK (1u << 16)
/*
 * Memory the xz decoder may use. The dictionary size comes from the file and
 * is allocated up front, so without a limit a 50-byte file can ask for 4 GiB;
 * 1600 MiB still takes the largest dictionary xz itself writes (1536 MiB).
 */
#define XZ_MEMLIMIT ((uint64_t)1600 << 20)

enum codec { PLAIN, ZST, XZ };

struct lines {
	FILE *f;
	enum codec codec;
	ZSTD_DStream *zs;
	bool zs_open; /* inside a zstd frame (or flushing one): the input must not end here */
	lzma_stream xz;
	bool xz_init;
	uint8_t in[IN_CHUNK];
	size_t in_pos, in_len;
	bool in_eof;
	/* decompressed bytes not yet returned */
	char *buf;
	size_t start, len, cap;
	bool eof;
	uint64_t lineno, bytes;
	char path[256];
	char err[300];
};

static bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

struct lines *lines_open(const char *path, char *err, size_t errlen)
{
	struct lines *l = xzalloc(sizeof(*l));
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!l->f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		xfree(l);
		return NULL;
	}
	struct stat st;
	if (!fstat(fileno(l->f), &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory, not a file", path);
		fclose(l->f);
		xfree(l);
		return NULL;
	}
	if (ends_with(path, ".zst")) {
		l->codec = ZST;
		l->zs = ZSTD_createDStream();
		ZSTD_initDStream(l->zs);
	} else if (ends_with(path, ".xz")) {
		l->codec = XZ;
		l->xz = (lzma_stream)LZMA_STREAM_INIT;
		if (lzma_stream_decoder(&l->xz, XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK) {
			snprintf(err, errlen, "%s: cannot start the xz decoder", path);
			lines_close(l);
			return NULL;
		}
		l->xz_init = true;
	}
	l->cap = 1u << 16;
	l->buf = xmalloc(l->cap);
	return l;
}

void lines_close(struct lines *l)
{
	if (!l)
		return;
	if (l->f && l->f != stdin)
		fclose(l->f);
	if (l->zs)
		ZSTD_freeDStream(l->zs);
	if (l->xz_init)
		lzma_end(&l->xz);
	xfree(l->buf);
	xfree(l);
}

const char *lines_error(const struct lines *l) { return l->err[0] ? l->err : NULL; }
uint64_t lines_lineno(const struct lines *l) { return l->lineno; }
const char *lines_path(const struct lines *l) { return l->path; }
uint64_t lines_bytes(const struct lines *l) { return l->bytes; }

/* Make room for at least `want` more bytes after the buffered data. */
static void room(struct lines *l, size_t want)
{
	if (l->start) {
		memmove(l->buf, l->buf + l->start, l->len);
		l->start = 0;
	}
	while (l->cap - l->len < want)
		l->buf = xrealloc(l->buf, l->cap *= 2);
}

/* Read and decompress more; false at end of input or on error. */
static bool fill(struct lines *l)
{
	room(l, IN_CHUNK);
	if (l->codec == PLAIN) {
		size_t n = fread(l->buf + l->len, 1, l->cap - l->len, l->f);
		if (!n) {
			if (ferror(l->f))
				snprintf(l->err, sizeof(l->err), "%s: read error", l->path);
			return false;
		}
		l->len += n;
		return true;
	}
	for (;;) {
		if (l->in_pos == l->in_len && !l->in_eof) {
			l->in_len = fread(l->in, 1, sizeof(l->in), l->f);
			l->in_pos = 0;
			if (!l->in_len) {
				l->in_eof = true;
				if (ferror(l->f)) {
					snprintf(l->err, sizeof(l->err), "%s: read error", l->path);
					return false;
				}
			}
		}
		size_t before = l->len;
		if (l->codec == ZST) {
			/* The input may end only between frames; a frame still open may also hold decoded bytes to flush. */
			if (l->in_eof && l->in_pos == l->in_len && !l->zs_open)
				return false;
			ZSTD_inBuffer in = { l->in, l->in_len, l->in_pos };
			ZSTD_outBuffer out = { l->buf + l->len, l->cap - l->len, 0 };
			size_t r = ZSTD_decompressStream(l->zs, &out, &in);
			if (ZSTD_isError(r)) {
				snprintf(l->err, sizeof(l->err), "%s: corrupt zstd data: %s", l->path,
					 ZSTD_getErrorName(r));
				return false;
			}
			l->zs_open = r != 0;
			l->in_pos = in.pos;
			l->len += out.pos;
			if (l->zs_open && !out.pos && l->in_eof && l->in_pos == l->in_len) {
				snprintf(l->err, sizeof(l->err), "%s: zstd data cut short", l->path);
				return false;
			}
		} else {
			l->xz.next_in = l->in + l->in_pos;
			l->xz.avail_in = l->in_len - l->in_pos;
			l->xz.next_out = (uint8_t *)l->buf + l->len;
			l->xz.avail_out = l->cap - l->len;
			lzma_ret r = lzma_code(&l->xz, l->in_eof ? LZMA_FINISH : LZMA_RUN);
			l->in_pos = l->in_len - l->xz.avail_in;
			l->len = l->cap - l->xz.avail_out;
			if (r == LZMA_STREAM_END)
				return l->len > before;
			if (r == LZMA_MEMLIMIT_ERROR) {
				snprintf(l->err, sizeof(l->err), "%s: xz data needs more than %u MiB", l->path,
					 (unsigned)(XZ_MEMLIMIT >> 20));
				return false;
			}
			if (r != LZMA_OK && r != LZMA_BUF_ERROR) {
				snprintf(l->err, sizeof(l->err), "%s: corrupt xz data (lzma error %d)", l->path, (int)r);
				return false;
			}
			if (r == LZMA_BUF_ERROR && l->in_eof) {
				snprintf(l->err, sizeof(l->err), "%s: xz data cut short", l->path);
				return false;
			}
		}
		if (l->len > before)
			return true;
	}
}

const char *lines_next(struct lines *l, size_t *len)
{
	for (;;) {
		char *nl = l->len ? memchr(l->buf + l->start, '\n', l->len) : NULL;
		if (nl || (l->eof && l->len)) {
			char *s = l->buf + l->start;
			size_t n = nl ? (size_t)(nl - s) : l->len;
			size_t used = nl ? n + 1 : n;
			s[n] = 0; /* the newline (or the spare byte room() keeps) */
			if (n && s[n - 1] == '\r')
				s[--n] = 0;
			l->start += used;
			l->len -= used;
			l->bytes += used;
			l->lineno++;
			if (len)
				*len = n;
			return s;
		}
		if (l->eof || l->err[0])
			return NULL;
		if (l->len > MAX_LINE) {
			snprintf(l->err, sizeof(l->err), "%s:%llu: line longer than %u bytes", l->path,
				 (unsigned long long)l->lineno + 1, MAX_LINE);
			return NULL;
		}
		if (!fill(l)) {
			if (l->err[0])
				return NULL;
			l->eof = true;
			room(l, 1); /* a spare byte for the terminating NUL of a last line without newline */
		}
	}
}
