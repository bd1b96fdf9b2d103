/* codec.h: the byte encoding of the binary form, shared by its writer and reader: varints, event records and the header. */
#ifndef MMSIM_TRACES_CODEC_H
#define MMSIM_TRACES_CODEC_H

#include "traces/trace.h"

#define CODEC_UV_MAX 10 /* bytes of the longest varint */

/* codec_put_uv: write v as an unsigned LEB128 varint at p (room for CODEC_UV_MAX bytes); returns its length. */
size_t codec_put_uv(uint8_t *p, uint64_t v);
/* codec_get_uv: parse a varint from [*p, end) and advance *p. false if it runs past the end or past 64 bits. */
bool codec_get_uv(const uint8_t **p, const uint8_t *end, uint64_t *out);
/* Zigzag: signed values as small unsigned ones ((v << 1) ^ (v >> 63)). */
static inline uint64_t codec_zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t codec_unzz(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/*
 * codec_encode_event: one event record's body (without its length prefix)
 * into p, which has room for TR_MAX_RECORD bytes; returns its length.
 * last_at is the thread's previous time (the record holds the difference).
 */
size_t codec_encode_event(uint8_t *p, uint32_t tid, const struct ev *e, const struct tr_meta *m, uint64_t last_at);
/*
 * codec_decode_event: parse a record body of len bytes. On entry m->at is
 * the thread's previous time; on success it is this event's. Checks only
 * the encoding (tr_check_event checks the meaning). NULL, or the reason.
 */
const char *codec_decode_event(const uint8_t *p, size_t len, uint32_t *tid, struct ev *e, struct tr_meta *m);
/* codec_peek_tid: the thread id a record body starts with (0 if it does not parse). */
uint32_t codec_peek_tid(const uint8_t *p, size_t len);

/* A growable byte buffer. */
struct codec_buf {
	uint8_t *p;
	size_t n, cap;
};

/* codec_encode_header: the header h into b (appended; the magic and version are the container's); free b->p with xfree. */
void codec_encode_header(struct codec_buf *b, const struct tr_header *h);

#endif
