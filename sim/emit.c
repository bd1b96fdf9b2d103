/* emit.c: table and JSON output from the same calls. */
#include "sim/emit.h"
#include "sim/util.h"

#include <stdarg.h>

#include <math.h>
#include <string.h>

static void grow_append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 2 > *cap) {
		*cap = (*len + n + 2) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

/* CSV: a field, quoted when it needs to be. */
static void csv_field(char **buf, size_t *len, size_t *cap, const char *v)
{
	if (*len)
		grow_append(buf, len, cap, ",");
	if (!strpbrk(v, ",\"\n")) {
		grow_append(buf, len, cap, v);
		return;
	}
	grow_append(buf, len, cap, "\"");
	for (const char *p = v; *p; p++) {
		char c[3] = { *p, 0, 0 };
		if (*p == '"')
			c[1] = '"';
		grow_append(buf, len, cap, c);
	}
	grow_append(buf, len, cap, "\"");
}

static void csv_kv(struct em *e, const char *k, const char *v)
{
	if (e->designless)
		return;
	csv_field(&e->keys, &e->klen, &e->kcap, k);
	csv_field(&e->vals, &e->vlen, &e->vcap, v);
}

void em_init(struct em *e, FILE *f, enum em_fmt fmt)
{
	memset(e, 0, sizeof(*e));
	e->f = f;
	e->fmt = fmt;
	e->depth = 0;
	for (int i = 0; i < EM_MAX_DEPTH; i++)
		e->nonempty[i] = false;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Start a member: separator and key. */
static void key(struct em *e, const char *k)
{
	if (e->fmt == EM_JSON) {
		if (e->nonempty[e->depth])
			fputc(',', e->f);
		fputc('\n', e->f);
		for (int i = 0; i < e->depth; i++)
			fputs("  ", e->f);
		json_str(e->f, k);
		fputs(": ", e->f);
	} else {
		for (int i = 1; i < e->depth; i++)
			fputs("  ", e->f);
		fprintf(e->f, "%-*s ", 28 - 2 * (e->depth - 1 > 0 ? e->depth - 1 : 0), k);
	}
	e->nonempty[e->depth] = true;
}

void em_begin(struct em *e)
{
	if (e->fmt == EM_JSON)
		fputc('{', e->f);
	e->klen = e->vlen = 0;
	e->depth = 1;
	e->nonempty[1] = false;
}

void em_end(struct em *e)
{
	if (e->fmt == EM_JSON)
		fputs("\n}\n", e->f);
	if (e->fmt == EM_CSV) {
		if (e->csv_header)
			fprintf(e->f, "%s\n", e->keys ? e->keys : "");
		fprintf(e->f, "%s\n", e->vals ? e->vals : "");
		xfree(e->keys);
		xfree(e->vals);
		e->keys = e->vals = NULL;
		e->klen = e->vlen = e->kcap = e->vcap = 0;
	}
	e->depth = 0;
	fflush(e->f);
}

void em_obj_begin(struct em *e, const char *k)
{
	if (e->depth + 1 >= EM_MAX_DEPTH)
		panic("emitter nesting too deep");
	if (e->fmt == EM_CSV) {
		e->depth++;
		return;
	}
	if (e->fmt == EM_JSON) {
		key(e, k);
		fputc('{', e->f);
	} else {
		for (int i = 1; i < e->depth; i++)
			fputs("  ", e->f);
		fprintf(e->f, "%s:\n", k);
		e->nonempty[e->depth] = true;
	}
	e->depth++;
	e->nonempty[e->depth] = false;
}

void em_obj_end(struct em *e)
{
	ASSERT(e->depth > 1);
	if (e->fmt == EM_CSV) {
		e->depth--;
		return;
	}
	if (e->fmt == EM_JSON) {
		if (e->nonempty[e->depth]) {
			fputc('\n', e->f);
			for (int i = 0; i < e->depth - 1; i++)
				fputs("  ", e->f);
		}
		fputc('}', e->f);
	}
	e->depth--;
}

static bool csv(struct em *e, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool csv(struct em *e, const char *k, const char *fmt, ...)
{
	if (e->fmt != EM_CSV)
		return false;
	char v[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	csv_kv(e, k, v);
	return true;
}

void em_u64(struct em *e, const char *k, uint64_t v)
{
	if (csv(e, k, "%llu", (unsigned long long)v))
		return;
	key(e, k);
	fprintf(e->f, e->fmt == EM_JSON ? "%llu" : "%llu\n", (unsigned long long)v);
}

void em_i64(struct em *e, const char *k, int64_t v)
{
	if (csv(e, k, "%lld", (long long)v))
		return;
	key(e, k);
	fprintf(e->f, e->fmt == EM_JSON ? "%lld" : "%lld\n", (long long)v);
}

void em_f64(struct em *e, const char *k, double v)
{
	if (csv(e, k, isfinite(v) ? "%.10g" : "", v))
		return;
	key(e, k);
	if (!isfinite(v))
		fputs(e->fmt == EM_JSON ? "null" : "-\n", e->f);
	else if (e->fmt == EM_JSON)
		fprintf(e->f, "%.10g", v);
	else
		fprintf(e->f, "%.6g\n", v);
}

void em_str(struct em *e, const char *k, const char *v)
{
	if (csv(e, k, "%s", v))
		return;
	key(e, k);
	if (e->fmt == EM_JSON)
		json_str(e->f, v);
	else
		fprintf(e->f, "%s\n", v);
}

void em_bool(struct em *e, const char *k, bool v)
{
	if (csv(e, k, "%s", v ? "true" : "false"))
		return;
	key(e, k);
	fputs(v ? "true" : "false", e->f);
	if (e->fmt == EM_TABLE)
		fputc('\n', e->f);
}
