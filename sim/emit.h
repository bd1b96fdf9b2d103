/* emit.h: one emitter for both a human-readable table and JSON (jemalloc's emitter, in spirit). */
#ifndef MMSIM_EMIT_H
#define MMSIM_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum em_fmt { EM_TABLE, EM_JSON, EM_CSV };

#define EM_MAX_DEPTH 16

struct em {
	FILE *f;
	enum em_fmt fmt;
	int depth;
	bool nonempty[EM_MAX_DEPTH];
	/* EM_CSV: the row being built (keys and values), written at em_end */
	char *keys, *vals;
	size_t klen, vlen, kcap, vcap;
	bool csv_header; /* write the header line before the row */
	bool designless; /* EM_CSV: leave out design-specific keys (set by the caller around them) */
};

/*
 * Usage: em_init, em_begin, then key/value calls and nested objects, then
 * em_end. In table mode each key prints as "key  value" indented by its
 * nesting; in JSON mode the whole run is one object; in CSV mode the run is
 * one row (and, with csv_header, the header line before it). Nested
 * objects are flattened into "outer.inner" columns in CSV.
 */
void em_init(struct em *e, FILE *f, enum em_fmt fmt);
void em_begin(struct em *e);
void em_end(struct em *e);
void em_obj_begin(struct em *e, const char *key);
void em_obj_end(struct em *e);
void em_u64(struct em *e, const char *key, uint64_t v);
void em_i64(struct em *e, const char *key, int64_t v);
void em_f64(struct em *e, const char *key, double v);
void em_str(struct em *e, const char *key, const char *v);
void em_bool(struct em *e, const char *key, bool v);

#endif
