/* opt.c: the options each design declares: defaults, parsing from text, and the canonical text form. */
#include "vm/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vm_opt_count(const struct vm_design *d)
{
	int n = 0;
	while (d->opts && d->opts[n].name)
		n++;
	if (n > VM_DOPT_MAX)
		panic("design %s declares %d options (at most %d)", d->name, n, VM_DOPT_MAX);
	return n;
}

void vm_opts_init(struct vm_opts *o, const struct vm_design *d)
{
	*o = (struct vm_opts){ 0 };
	for (int i = 0; i < vm_opt_count(d); i++)
		o->dopt[i] = d->opts[i].def;
}

int vm_opt_find(const struct vm_design *d, const char *name)
{
	for (int i = 0; i < vm_opt_count(d); i++)
		if (!strcmp(d->opts[i].name, name))
			return i;
	return -1;
}

/* parse_bool: on/off and its spellings; -1 if VALUE is none of them. */
static int parse_bool(const char *v)
{
	static const char *const yes[] = { "on", "yes", "true", "1" }, *const no[] = { "off", "no", "false", "0" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(v, yes[i]))
			return 1;
		if (!strcmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* parse_u64: a number with an optional K, M or G suffix (binary units); false if malformed or too large. */
static bool parse_u64(const char *v, uint64_t *out)
{
	if (!*v || *v == '-' || *v == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 0);
	if (errno)
		return false;
	int shift = 0;
	if (*end && !end[1]) {
		const char *u = strchr("KMG", *end & ~0x20);
		if (!u)
			return false;
		shift = 10 * (int)(u - "KMG" + 1);
		end++;
	}
	if (*end || (shift && x > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)x << shift;
	return true;
}

/* choices_list: an enum's choices as "a|b|c", into buf. */
static const char *choices_list(const struct vm_opt *op, char *buf, size_t n)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; op->choices[i] && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? "|" : "", op->choices[i]);
	return buf;
}

int vm_opt_set(struct vm_opts *o, const struct vm_design *d, const char *name, const char *value, char *err,
	       size_t errlen)
{
	int i = vm_opt_find(d, name);
	if (i < 0) {
		char have[256] = "";
		size_t at = 0;
		for (int k = 0; k < vm_opt_count(d) && at < sizeof(have); k++)
			at += (size_t)snprintf(have + at, sizeof(have) - at, "%s--%s", k ? ", " : "", d->opts[k].name);
		snprintf(err, errlen, "design '%s' takes no option --%s (%s%s)", d->name, name,
			 at ? "its options: " : "it has no options", have);
		return -1;
	}
	const struct vm_opt *op = &d->opts[i];
	char list[256];
	switch (op->type) {
	case VM_OPT_BOOL: {
		int b = value ? parse_bool(value) : 1;
		if (b < 0) {
			snprintf(err, errlen, "--%s=%s: not on or off", name, value);
			return -1;
		}
		o->dopt[i] = (uint64_t)b;
		return 0;
	}
	case VM_OPT_ENUM:
		if (!value) {
			o->dopt[i] = op->bare;
			return 0;
		}
		for (uint64_t k = 0; op->choices[k]; k++)
			if (!strcmp(op->choices[k], value)) {
				o->dopt[i] = k;
				return 0;
			}
		snprintf(err, errlen, "--%s=%s: not one of %s", name, value, choices_list(op, list, sizeof(list)));
		return -1;
	case VM_OPT_U64: {
		uint64_t v;
		if (!value || !parse_u64(value, &v) || v < op->min || v > op->max) {
			snprintf(err, errlen, "--%s%s%s: expected a number in %llu..%llu", name, value ? "=" : "",
				 value ? value : "", (unsigned long long)op->min, (unsigned long long)op->max);
			return -1;
		}
		o->dopt[i] = v;
		return 0;
	}
	}
	panic("option %s of %s: unknown type %d", name, d->name, (int)op->type);
}

const char *vm_opt_value(const struct vm_design *d, const struct vm_opts *o, int i, char *buf, size_t n)
{
	const struct vm_opt *op = &d->opts[i];
	switch (op->type) {
	case VM_OPT_BOOL: snprintf(buf, n, "%s", o->dopt[i] ? "on" : "off"); break;
	case VM_OPT_ENUM: snprintf(buf, n, "%s", op->choices[o->dopt[i]]); break;
	case VM_OPT_U64: snprintf(buf, n, "%llu", (unsigned long long)o->dopt[i]); break;
	}
	return buf;
}

void vm_opts_str(const struct vm_design *d, const struct vm_opts *o, char *buf, size_t n)
{
	size_t at = 0;
	buf[0] = 0;
	for (int i = 0; i < vm_opt_count(d) && at < n; i++) {
		char v[64];
		at += (size_t)snprintf(buf + at, n - at, "%s%s=%s", i ? " " : "", d->opts[i].name,
				       vm_opt_value(d, o, i, v, sizeof(v)));
	}
}

int vm_opts_check(const struct vm_design *d, const struct vm_opts *o, const struct machine *m, char *err, size_t n)
{
	for (int i = 0; i < vm_opt_count(d); i++) {
		const char *why = d->opts[i].check ? d->opts[i].check(o->dopt[i], m) : NULL;
		if (why) {
			char v[64];
			snprintf(err, n, "--%s=%s: %s", d->opts[i].name, vm_opt_value(d, o, i, v, sizeof(v)), why);
			return -1;
		}
	}
	return 0;
}
