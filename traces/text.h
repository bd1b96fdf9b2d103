/* text.h: what the text form's writer (text_write.c) and parser (text_parse.c) share: its vocabulary and the syntax of single fields, both ways (text_fields.c). */
#ifndef MMSIM_TRACES_TEXT_H
#define MMSIM_TRACES_TEXT_H

#include "traces/trace.h"

extern const char *const txt_kinds[EV_KINDS]; /* event kinds by name (the text form's own table) */

/*
 * txt_args[kind]: the positional arguments of the kind's event lines, one
 * letter each (a address, l length, n new length, p protection, m mmap
 * flags, r mremap flags, v advice, c access type, g compute gap, i and k
 * numbers (barrier id and count), t thread id, d process id, f file id, o
 * offset, L mlock2 flags, A mlockall flags, S msync flags, F fallocate
 * mode). Writer and parser both follow it.
 */
extern const char *const txt_args[EV_KINDS];

/* ---- writing fields: each starts with a space ---- */

/* txt_put_arg: positional argument `letter` of e, and what it wrote cleared in rest. */
void txt_put_arg(FILE *f, char letter, const struct ev *e, struct ev *rest);
/* txt_put_fields: every field of rest that is not 0, as KEY=VALUE (so that any event survives the round trip). */
void txt_put_fields(FILE *f, const struct ev *rest);
/* txt_put_addr: " KEY0xA", " KEYbrk+0xA" or " KEYrN+0xA". */
void txt_put_addr(FILE *f, const char *key, bool rel, uint32_t region, uint64_t a);
/* txt_put_name: a name as one field: spaces (unless keep_spaces), controls, '%' and non-ASCII bytes as %XX. */
void txt_put_name(FILE *f, const char *s, bool keep_spaces);

/* ---- parsing fields: false when s is not one ---- */

/* txt_tokens: split s at blanks into at most max tokens (s is modified); the count, or -1 if there are more. */
int txt_tokens(char *s, char **tok, int max);
/* txt_num_u: an unsigned number (decimal or 0x hex) at most max. */
bool txt_num_u(const char *s, uint64_t max, uint64_t *out);
/* txt_num_s: an optional '-' then an unsigned number, within [min, max]. */
bool txt_num_s(const char *s, int64_t min, int64_t max, int64_t *out);
/* txt_addr: 0xA (absolute: *rel false), rN+OFF or brk+OFF (relative to *region). */
bool txt_addr(const char *s, bool *rel, uint32_t *region, uint64_t *a);
/* txt_arg: positional argument `letter` of a `kind` event from s into e. false with the reason in why. */
bool txt_arg(char letter, const char *kind, const char *s, struct ev *e, char *why, size_t whylen);
/* txt_field: KEY=VALUE naming a field of struct ev (txt_put_fields' keys): 1 set, 0 not such a key, -1 bad value (why). */
int txt_field(const char *key, const char *val, struct ev *e, char *why, size_t whylen);
/* txt_kind: an event kind by name (not "end"). */
bool txt_kind(const char *s, uint8_t *kind);
/* txt_unescape: undo txt_put_name in place; false on a bad escape or an escaped NUL. */
bool txt_unescape(char *s);

#endif
