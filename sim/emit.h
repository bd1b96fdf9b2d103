/* emit.h: one emitter for both a human-readable table and JSON (jemalloc's emitter, in spirit). */
#ifndef MMSIM_EMIT_H
#define MMSIM_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum em_fmt { EM_TABLE, EM_JSON };

#define EM_MAX_DEPTH 16

struct em {
	FILE *f;
	enum em_fmt fmt;
	int depth;
	bool nonempty[EM_MAX_DEPTH];
};

/*
 * Usage: em_init, em_begin, then key/value calls and nested objects, then
 * em_end. In table mode each key prints as "key  value" indented by its
 * nesting; in JSON mode the whole run is one object.
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
