/* codec.c: the byte encoding of the binary form: LEB128 varints, event records (a presence mask and the fields that are set) and the header. */
#include "traces/codec.h"
#include "sim/util.h"

#include <stddef.h>
#include <string.h>

size_t codec_put_uv(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

bool codec_get_uv(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return false;
		uint8_t b = *(*p)++;
		if (shift == 63 && (b & 0x7e))
			return false;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* ---- event records ---- */

/* How a field is stored in struct ev; signed ones are zigzag-encoded. */
enum { FT_U8, FT_U32, FT_S32, FT_U64, FT_S64 };

/* The optional fields of an event, in the order of the presence mask (bit i: field i is present, i.e. not 0). */
static const struct field {
	uint16_t off;
	uint8_t type;
} fields[] = {
	{ offsetof(struct ev, acc), FT_U8 },	  { offsetof(struct ev, region), FT_U32 },
	{ offsetof(struct ev, region2), FT_U32 }, { offsetof(struct ev, new_region), FT_U32 },
	{ offsetof(struct ev, tid2), FT_U32 },	  { offsetof(struct ev, pid2), FT_U32 },
	{ offsetof(struct ev, file), FT_U32 },	  { offsetof(struct ev, prot), FT_S32 },
	{ offsetof(struct ev, flags), FT_S32 },	  { offsetof(struct ev, advice), FT_S32 },
	{ offsetof(struct ev, addr), FT_U64 },	  { offsetof(struct ev, addr2), FT_U64 },
	{ offsetof(struct ev, len), FT_U64 },	  { offsetof(struct ev, len2), FT_U64 },
	{ offsetof(struct ev, off), FT_U64 },	  { offsetof(struct ev, hint), FT_U64 },
	{ offsetof(struct ev, ret), FT_S64 },	  { offsetof(struct ev, cycles), FT_U64 },
};
#define F_COUNT ((int)ARRAY_SIZE(fields))

/* Field i of e, as the record stores it. */
static uint64_t field_get(const struct ev *e, int i)
{
	const void *p = (const char *)e + fields[i].off;
	switch (fields[i].type) {
	case FT_U8: return *(const uint8_t *)p;
	case FT_U32: return *(const uint32_t *)p;
	case FT_S32: return codec_zz(*(const int32_t *)p);
	case FT_S64: return codec_zz(*(const int64_t *)p);
	default: return *(const uint64_t *)p;
	}
}

/* Store field i from its record value; false if the value does not fit the field. */
static bool field_set(struct ev *e, int i, uint64_t v)
{
	void *p = (char *)e + fields[i].off;
	int64_t s = codec_unzz(v);
	switch (fields[i].type) {
	case FT_U8:
		if (v > UINT8_MAX)
			return false;
		*(uint8_t *)p = (uint8_t)v;
		return true;
	case FT_U32:
		if (v > UINT32_MAX)
			return false;
		*(uint32_t *)p = (uint32_t)v;
		return true;
	case FT_S32:
		if (s < INT32_MIN || s > INT32_MAX)
			return false;
		*(int32_t *)p = (int32_t)s;
		return true;
	case FT_S64: *(int64_t *)p = s; return true;
	default: *(uint64_t *)p = v; return true;
	}
}

/* Bits of a record's extra mask: what follows the event's fields. */
#define X_SYNC 1u
#define X_AT 2u	  /* zigzag(at - the thread's previous at) */
#define X_ASID 4u /* the address space id */
#define X_LINE 8u /* the recording's line (version 3) */

size_t codec_encode_event(uint8_t *p, uint32_t tid, const struct ev *e, const struct tr_meta *m, uint64_t last_at)
{
	size_t n = codec_put_uv(p, tid);
	p[n++] = e->kind;
	n += codec_put_uv(p + n, e->fl);
	uint64_t mask = 0;
	for (int i = 0; i < F_COUNT; i++)
		if (field_get(e, i))
			mask |= 1ull << i;
	n += codec_put_uv(p + n, mask);
	for (int i = 0; i < F_COUNT; i++)
		if (mask & (1ull << i))
			n += codec_put_uv(p + n, field_get(e, i));
	uint32_t x = 0;
	if (m && m->sync)
		x |= X_SYNC;
	if (m && m->at != last_at)
		x |= X_AT;
	if (m && m->asid)
		x |= X_ASID;
	if (m && m->line)
		x |= X_LINE;
	n += codec_put_uv(p + n, x);
	if (x & X_AT)
		n += codec_put_uv(p + n, codec_zz((int64_t)(m->at - last_at)));
	if (x & X_ASID)
		n += codec_put_uv(p + n, m->asid);
	if (x & X_LINE)
		n += codec_put_uv(p + n, m->line);
	return n;
}

const char *codec_decode_event(const uint8_t *p, size_t len, uint32_t *tid, struct ev *e, struct tr_meta *m)
{
	const uint8_t *end = p + len;
	uint64_t v, mask, fl;
	memset(e, 0, sizeof(*e));
	if (!codec_get_uv(&p, end, &v) || v == 0 || v > UINT32_MAX)
		return "bad thread id";
	*tid = (uint32_t)v;
	if (p >= end)
		return "record cut short";
	e->kind = *p++;
	if (!codec_get_uv(&p, end, &fl) || fl > 0xffff)
		return "bad flags";
	e->fl = (uint16_t)fl;
	if (!codec_get_uv(&p, end, &mask) || mask >> F_COUNT)
		return "bad field mask";
	for (int i = 0; i < F_COUNT; i++)
		if (mask & (1ull << i)) {
			if (!codec_get_uv(&p, end, &v))
				return "record cut short";
			if (!field_set(e, i, v))
				return "field value out of range";
		}
	uint64_t x;
	if (!codec_get_uv(&p, end, &x) || x > 15)
		return "bad extra mask";
	m->sync = x & X_SYNC;
	m->asid = 0;
	m->line = 0;
	if (x & X_AT) {
		if (!codec_get_uv(&p, end, &v))
			return "record cut short";
		m->at += (uint64_t)codec_unzz(v);
	}
	if (x & X_ASID) {
		if (!codec_get_uv(&p, end, &v) || !v || v > UINT32_MAX)
			return "bad address space id";
		m->asid = (uint32_t)v;
	}
	if (x & X_LINE) {
		if (!codec_get_uv(&p, end, &m->line) || !m->line)
			return "bad line number";
	}
	if (p != end)
		return "record longer than its fields";
	e->tid = *tid;
	return NULL;
}

uint32_t codec_peek_tid(const uint8_t *p, size_t len)
{
	uint64_t v;
	return codec_get_uv(&p, p + len, &v) && v <= UINT32_MAX ? (uint32_t)v : 0;
}

/* ---- the header ---- */

/* Room for want more bytes in b. */
static void buf_room(struct codec_buf *b, size_t want)
{
	if (b->cap - b->n < want)
		b->p = xrealloc(b->p, b->cap = (b->cap + want) * 2);
}

/* A varint at the end of b. */
static void buf_uv(struct codec_buf *b, uint64_t v)
{
	buf_room(b, CODEC_UV_MAX);
	b->n += codec_put_uv(b->p + b->n, v);
}

/* A string (its length, then its bytes; at most TR_MAX_STR) at the end of b. */
static void buf_str(struct codec_buf *b, const char *s)
{
	size_t n = s ? strnlen(s, TR_MAX_STR) : 0;
	buf_uv(b, n);
	buf_room(b, n);
	memcpy(b->p + b->n, s ? s : "", n);
	b->n += n;
}

/* Varints in a row (the fields of one table row). */
static void buf_uvs(struct codec_buf *b, const uint64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		buf_uv(b, v[i]);
}

void codec_encode_header(struct codec_buf *b, const struct tr_header *h)
{
	buf_str(b, h->source);
	buf_uv(b, h->nthreads);
	for (uint32_t i = 0; i < h->nthreads; i++) {
		const struct tr_thread *t = &h->threads[i];
		buf_uvs(b, (const uint64_t[]){ t->tid, t->pid, t->parent, t->events, t->rtid, t->rpid }, 6);
		buf_str(b, t->comm);
	}
	buf_uv(b, h->nfiles);
	for (uint32_t i = 0; i < h->nfiles; i++) {
		const struct tr_file *f = &h->files[i];
		buf_uvs(b, (const uint64_t[]){ f->id, f->size, f->dev, f->ino }, 4);
		buf_str(b, f->name);
	}
	buf_uv(b, h->events);
	buf_uv(b, h->cpus);
	buf_uv(b, h->syscall_ns);
}
