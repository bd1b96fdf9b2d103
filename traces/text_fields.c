/* text_fields.c: the text form's vocabulary and the syntax of its single fields, written and parsed from the same tables: each kind's positional arguments, and every field by its key. */
#include "traces/text.h"
#include "traces/util.h"
#include "vm/vm.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A symbolic name for a value (a flag bit, an advice); tables end with { NULL, 0 }. */
struct name {
	const char *s;
	uint64_t v;
};

static const struct name map_flags[] = {
	{ "fixed", VM_MAP_FIXED },	       { "anon", VM_MAP_ANONYMOUS },	     { "growsdown", VM_MAP_GROWSDOWN },
	{ "denywrite", VM_MAP_DENYWRITE },     { "executable", VM_MAP_EXECUTABLE }, { "locked", VM_MAP_LOCKED },
	{ "noreserve", VM_MAP_NORESERVE },     { "populate", VM_MAP_POPULATE },	     { "nonblock", VM_MAP_NONBLOCK },
	{ "stack", VM_MAP_STACK },	       { "hugetlb", VM_MAP_HUGETLB },	     { "fixed_noreplace", VM_MAP_FIXED_NOREPLACE },
	{ NULL, 0 }
};
/* mmap's sharing types (flags & 3). */
static const char *const map_types[4] = { NULL, "shared", "private", "shared_validate" };
static const struct name mremap_flags[] = { { "maymove", VM_MREMAP_MAYMOVE },
					    { "fixed", VM_MREMAP_FIXED },
					    { "dontunmap", VM_MREMAP_DONTUNMAP },
					    { NULL, 0 } };
/* Every madvise value of Linux 6.18 (include/uapi/asm-generic/mman-common.h), so that a dump names them all. */
static const struct name advices[] = {
	{ "normal", VM_MADV_NORMAL },	  { "random", VM_MADV_RANDOM },	      { "sequential", VM_MADV_SEQUENTIAL },
	{ "willneed", VM_MADV_WILLNEED }, { "dontneed", VM_MADV_DONTNEED },   { "free", VM_MADV_FREE },
	{ "remove", 9 },		  { "dontfork", 10 },		      { "dofork", 11 },
	{ "mergeable", 12 },		  { "unmergeable", 13 },	      { "hugepage", VM_MADV_HUGEPAGE },
	{ "nohugepage", VM_MADV_NOHUGEPAGE }, { "dontdump", 16 },	      { "dodump", 17 },
	{ "wipeonfork", 18 },		  { "keeponfork", 19 },		      { "cold", 20 },
	{ "pageout", 21 },		  { "populate_read", 22 },	      { "populate_write", 23 },
	{ "dontneed_locked", 24 },	  { "collapse", 25 },		      { "hwpoison", 100 },
	{ "soft_offline", 101 },	  { "guard_install", 102 },	      { "guard_remove", 103 },
	{ NULL, 0 }
};
/* The flags of the calls beyond mapping (Linux's values: MLOCK_ONFAULT, MCL_*, MS_*, FALLOC_FL_*). */
static const struct name mlock_flags[] = { { "onfault", 1 }, { NULL, 0 } };
static const struct name mlockall_flags[] = { { "current", 1 }, { "future", 2 }, { "onfault", 4 }, { NULL, 0 } };
static const struct name msync_flags[] = { { "async", 1 }, { "invalidate", 2 }, { "sync", 4 }, { NULL, 0 } };
static const struct name falloc_modes[] = { { "keep_size", 0x01 },	 { "punch_hole", 0x02 },
					    { "no_hide_stale", 0x04 },	 { "collapse_range", 0x08 },
					    { "zero_range", 0x10 },	 { "insert_range", 0x20 },
					    { "unshare_range", 0x40 },	 { "write_zeroes", 0x80 },
					    { NULL, 0 } };
static const char acc_names[] = "rwx";

const char *const txt_kinds[EV_KINDS] = { "end",    "mmap",  "munmap",  "mprotect", "madvise",
					  "mremap", "brk",   "access",  "compute",  "barrier",
					  "mark",   "thread", "fork",   "exec",     "exit",
					  "mlock",  "munlock", "mlockall", "munlockall", "msync",
					  "mincore", "ftruncate", "fallocate" };

const char *const txt_args[EV_KINDS] = {
	[EV_MMAP] = "alpm",  [EV_MUNMAP] = "al",  [EV_MPROTECT] = "alp", [EV_MADVISE] = "alv", [EV_MREMAP] = "alnr",
	[EV_BRK] = "a",	     [EV_ACCESS] = "ac",  [EV_COMPUTE] = "g",	 [EV_BARRIER] = "ik", [EV_THREAD] = "t",
	[EV_FORK] = "dt",    [EV_END] = "",	  [EV_MARK] = "",	 [EV_EXEC] = "",      [EV_EXIT] = "",
	[EV_MLOCK] = "alL",  [EV_MUNLOCK] = "al", [EV_MLOCKALL] = "A",	 [EV_MUNLOCKALL] = "", [EV_MSYNC] = "alS",
	[EV_MINCORE] = "al", [EV_FTRUNCATE] = "fl", [EV_FALLOCATE] = "fFol",
};

/* How a field of struct ev is written and read by its key. */
enum { K_U8, K_U32, K_S32, K_HEX, K_U64, K_RET };

/* Every field by its key (KEY=VALUE), in the order the writer puts them. */
static const struct key {
	const char *name;
	uint16_t off;
	uint8_t type;
} keys[] = {
	{ "acc", offsetof(struct ev, acc), K_U8 },	   { "region", offsetof(struct ev, region), K_U32 },
	{ "region2", offsetof(struct ev, region2), K_U32 }, { "tid2", offsetof(struct ev, tid2), K_U32 },
	{ "pid2", offsetof(struct ev, pid2), K_U32 },	   { "file", offsetof(struct ev, file), K_U32 },
	{ "prot", offsetof(struct ev, prot), K_S32 },	   { "flags", offsetof(struct ev, flags), K_S32 },
	{ "advice", offsetof(struct ev, advice), K_S32 },   { "addr", offsetof(struct ev, addr), K_HEX },
	{ "addr2", offsetof(struct ev, addr2), K_HEX },	   { "len", offsetof(struct ev, len), K_HEX },
	{ "len2", offsetof(struct ev, len2), K_HEX },	   { "off", offsetof(struct ev, off), K_HEX },
	{ "hint", offsetof(struct ev, hint), K_HEX },	   { "ret", offsetof(struct ev, ret), K_RET },
	{ "cycles", offsetof(struct ev, cycles), K_U64 },
};

/* ---- writing ---- */

/* " rwx" letters with '-' for 0..7, else the number. */
static void put_prot(FILE *f, int prot)
{
	if (prot >= 0 && prot <= 7)
		fprintf(f, " %c%c%c", prot & 1 ? 'r' : '-', prot & 2 ? 'w' : '-', prot & 4 ? 'x' : '-');
	else
		fprintf(f, " %d", prot);
}

/* Flags as names joined by '|', the rest in hex. `types`: mmap's sharing types in the low bits. */
static void put_flags(FILE *f, int32_t flags, const struct name *names, bool types)
{
	uint32_t left = (uint32_t)flags;
	bool any = false;
	fputc(' ', f);
	if (types && map_types[left & 3] && !(left & 0xc)) {
		fputs(map_types[left & 3], f);
		left &= ~3u;
		any = true;
	}
	for (const struct name *n = names; n->s; n++)
		if ((left & n->v) == n->v) {
			fprintf(f, "%s%s", any ? "|" : "", n->s);
			left &= ~(uint32_t)n->v;
			any = true;
		}
	if (left || !any)
		fprintf(f, "%s0x%" PRIx32, any ? "|" : "", left);
}

/* An advice by its name, else its number. */
static void put_advice(FILE *f, int32_t advice)
{
	const struct name *n = advices;
	while (n->s && (int64_t)n->v != advice)
		n++;
	if (n->s)
		fprintf(f, " %s", n->s);
	else
		fprintf(f, " %" PRId32, advice);
}

void txt_put_arg(FILE *f, char letter, const struct ev *e, struct ev *rest)
{
	switch (letter) {
	case 'a':
		txt_put_addr(f, "", e->fl & EVF_REGION, e->region, e->addr);
		rest->addr = 0;
		if (e->fl & EVF_REGION)
			rest->region = 0;
		break;
	case 'l': fprintf(f, " 0x%" PRIx64, e->len), rest->len = 0; break;
	case 'n': fprintf(f, " 0x%" PRIx64, e->len2), rest->len2 = 0; break;
	case 'p': put_prot(f, e->prot), rest->prot = 0; break;
	case 'm': put_flags(f, e->flags, map_flags, true), rest->flags = 0; break;
	case 'r': put_flags(f, e->flags, mremap_flags, false), rest->flags = 0; break;
	case 'v': put_advice(f, e->advice), rest->advice = 0; break;
	case 'L': put_flags(f, e->flags, mlock_flags, false), rest->flags = 0; break;
	case 'A': put_flags(f, e->flags, mlockall_flags, false), rest->flags = 0; break;
	case 'S': put_flags(f, e->flags, msync_flags, false), rest->flags = 0; break;
	case 'F': put_flags(f, e->flags, falloc_modes, false), rest->flags = 0; break;
	case 'f': fprintf(f, " %" PRIu32, e->file), rest->file = 0; break;
	case 'o': fprintf(f, " 0x%" PRIx64, e->off), rest->off = 0; break;
	case 'c':
		if (e->acc <= 2)
			fprintf(f, " %c", acc_names[e->acc]), rest->acc = 0;
		break;
	case 'g': fprintf(f, " %" PRIu64 "%s", e->cycles, (e->fl & EVF_NS) ? "ns" : ""), rest->cycles = 0; break;
	case 'i': fprintf(f, " %" PRIu64, e->addr), rest->addr = 0; break;
	case 'k': fprintf(f, " %" PRIu64, e->len), rest->len = 0; break;
	case 't': fprintf(f, " %" PRIu32, e->tid2), rest->tid2 = 0; break;
	case 'd': fprintf(f, " %" PRIu32, e->pid2), rest->pid2 = 0; break;
	}
}

/* The value of field k of e, widened (signed fields sign-extended). */
static uint64_t key_get(const struct ev *e, const struct key *k)
{
	const void *p = (const char *)e + k->off;
	switch (k->type) {
	case K_U8: return *(const uint8_t *)p;
	case K_U32: return *(const uint32_t *)p;
	case K_S32: return (uint64_t)(int64_t)*(const int32_t *)p;
	default: return *(const uint64_t *)p;
	}
}

void txt_put_fields(FILE *f, const struct ev *rest)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint64_t v = key_get(rest, &keys[i]);
		if (!v)
			continue;
		if (keys[i].type == K_S32 || keys[i].type == K_RET)
			fprintf(f, " %s=%" PRId64, keys[i].name, (int64_t)v);
		else
			fprintf(f, keys[i].type == K_HEX ? " %s=0x%" PRIx64 : " %s=%" PRIu64, keys[i].name, v);
		if (keys[i].type == K_RET)
			fputs(" nocheck", f); /* a result kept without the CHECK flag */
	}
}

void txt_put_addr(FILE *f, const char *key, bool rel, uint32_t region, uint64_t a)
{
	fprintf(f, " %s", key);
	if (!rel)
		fprintf(f, "0x%" PRIx64, a);
	else if (region == EV_REGION_BRK)
		fprintf(f, "brk+0x%" PRIx64, a);
	else
		fprintf(f, "r%" PRIu32 "+0x%" PRIx64, region, a);
}

void txt_put_name(FILE *f, const char *s, bool keep_spaces)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch == ' ' && keep_spaces) || (ch > ' ' && ch < 0x7f && ch != '%'))
			fputc(ch, f);
		else
			fprintf(f, "%%%02X", ch);
	}
}

/* ---- parsing ---- */

int txt_tokens(char *s, char **tok, int max)
{
	int n = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			*s++ = 0;
		if (!*s)
			break;
		if (n == max)
			return -1;
		tok[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	return n;
}

bool txt_num_u(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

bool txt_num_s(const char *s, int64_t min, int64_t max, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t v;
	if (!txt_num_u(s + neg, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v))
		return false;
	int64_t x = neg ? (int64_t)(0 - v) : (int64_t)v;
	if (x < min || x > max)
		return false;
	*out = x;
	return true;
}

bool txt_addr(const char *s, bool *rel, uint32_t *region, uint64_t *a)
{
	uint64_t r;
	if (!strncmp(s, "brk+", 4)) {
		*rel = true;
		*region = EV_REGION_BRK;
		return txt_num_u(s + 4, UINT64_MAX, a);
	}
	if (s[0] == 'r' && s[1] >= '0' && s[1] <= '9') {
		const char *plus = strchr(s, '+');
		char buf[16];
		if (!plus || (size_t)(plus - s - 1) >= sizeof(buf))
			return false;
		memcpy(buf, s + 1, (size_t)(plus - s - 1));
		buf[plus - s - 1] = 0;
		if (!txt_num_u(buf, UINT32_MAX, &r) || !r || r == EV_REGION_BRK)
			return false;
		*rel = true;
		*region = (uint32_t)r;
		return txt_num_u(plus + 1, UINT64_MAX, a);
	}
	*rel = false;
	*region = 0;
	return txt_num_u(s, UINT64_MAX, a);
}

/* A protection: rwx letters with '-' (r-x) or a number. */
static bool parse_prot(const char *s, int32_t *prot)
{
	if (strlen(s) == 3 && (s[0] == 'r' || s[0] == '-') && (s[1] == 'w' || s[1] == '-') && (s[2] == 'x' || s[2] == '-')) {
		*prot = (s[0] == 'r') | (s[1] == 'w') << 1 | (s[2] == 'x') << 2;
		return true;
	}
	int64_t v;
	if (!txt_num_s(s, INT32_MIN, INT32_MAX, &v))
		return false;
	*prot = (int32_t)v;
	return true;
}

/* The value of a name in a table (or, with types, a sharing type); false if none. */
static bool name_value(const char *t, const struct name *names, bool types, uint64_t *x)
{
	for (const struct name *n = names; n->s; n++)
		if (!strcmp(t, n->s)) {
			*x = n->v;
			return true;
		}
	for (int i = 1; types && i < 4; i++)
		if (!strcmp(t, map_types[i])) {
			*x = (uint64_t)i;
			return true;
		}
	return false;
}

/* Flags: names of `names` (and, with types, mmap's sharing types) and numbers joined by '|'. */
static bool parse_flags(const char *s, const struct name *names, bool types, int32_t *out)
{
	uint64_t v = 0;
	char buf[256];
	if (strlen(s) >= sizeof(buf) || s[0] == '|' || !s[0] || s[strlen(s) - 1] == '|' || strstr(s, "||"))
		return false;
	strcpy(buf, s);
	for (char *save = NULL, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
		uint64_t x = 0;
		if (!name_value(t, names, types, &x) && !txt_num_u(t, UINT32_MAX, &x))
			return false;
		v |= x;
	}
	*out = (int32_t)(uint32_t)v;
	return true;
}

/* An advice: a name of the table or a number. */
static bool parse_advice(const char *s, int32_t *advice)
{
	uint64_t x;
	int64_t v;
	if (name_value(s, advices, false, &x))
		*advice = (int32_t)x;
	else if (txt_num_s(s, INT32_MIN, INT32_MAX, &v))
		*advice = (int32_t)v;
	else
		return false;
	return true;
}

/* "N" cycles or "Nns". */
static bool parse_gap(const char *s, struct ev *e)
{
	size_t l = strlen(s);
	char buf[32];
	if (l >= sizeof(buf))
		return false;
	strcpy(buf, s);
	if (l > 2 && !strcmp(buf + l - 2, "ns")) {
		buf[l - 2] = 0;
		e->fl |= EVF_NS;
	}
	return txt_num_u(buf, TR_MAX_COMPUTE, &e->cycles);
}

/* An id argument (1 or more). */
static bool parse_id(const char *s, uint32_t *out)
{
	uint64_t v;
	if (!txt_num_u(s, UINT32_MAX, &v) || !v)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Parse positional argument `letter` from s into e; false if s is not one. */
static bool parse_arg(char letter, const char *s, struct ev *e)
{
	bool rel;
	switch (letter) {
	case 'a':
		if (!txt_addr(s, &rel, &e->region, &e->addr))
			return false;
		e->fl |= rel ? EVF_REGION : 0;
		return true;
	case 'l': return txt_num_u(s, UINT64_MAX, &e->len);
	case 'n': return txt_num_u(s, UINT64_MAX, &e->len2);
	case 'p': return parse_prot(s, &e->prot);
	case 'm': return parse_flags(s, map_flags, true, &e->flags);
	case 'r': return parse_flags(s, mremap_flags, false, &e->flags);
	case 'v': return parse_advice(s, &e->advice);
	case 'L': return parse_flags(s, mlock_flags, false, &e->flags);
	case 'A': return parse_flags(s, mlockall_flags, false, &e->flags);
	case 'S': return parse_flags(s, msync_flags, false, &e->flags);
	case 'F': return parse_flags(s, falloc_modes, false, &e->flags);
	case 'f': return parse_id(s, &e->file);
	case 'o': return txt_num_u(s, UINT64_MAX, &e->off);
	case 'c':
		if (strlen(s) != 1 || !strchr(acc_names, s[0]))
			return false;
		e->acc = (uint8_t)(strchr(acc_names, s[0]) - acc_names);
		return true;
	case 'g': return parse_gap(s, e);
	case 'i': return txt_num_u(s, UINT64_MAX, &e->addr);
	case 'k': return txt_num_u(s, UINT64_MAX, &e->len);
	case 't': return parse_id(s, &e->tid2);
	default: return parse_id(s, &e->pid2);
	}
}

/* What each positional argument is, for messages ("'X' is not WHAT"); `kind` ones name the event kind first. */
static const struct {
	char letter;
	bool kind;
	const char *what;
} arg_whats[] = {
	{ 'a', false, "an address (0xHEX, rN+OFF or brk+OFF)" }, { 'l', false, "a length" }, { 'n', false, "a length" },
	{ 'p', false, "a protection (like rw- or a number)" },     { 'm', false, "mmap flags (like private|anon|fixed)" },
	{ 'r', false, "mremap flags (like maymove|fixed)" },       { 'v', false, "an advice (like dontneed or a number)" },
	{ 'L', false, "mlock flags (like onfault or 0)" },	     { 'A', false, "mlockall flags (like current|future)" },
	{ 'S', false, "msync flags (like sync|invalidate)" },	     { 'F', false, "a fallocate mode (like keep_size|punch_hole or 0)" },
	{ 'f', false, "a file id (1 or more)" },		     { 'o', false, "an offset" },
	{ 'c', false, "an access type (r, w or x)" },	     { 'g', false, "a compute gap (N cycles or Nns, at most 2^40)" },
	{ 'i', true, "a number (expected a barrier id and a thread count)" },
	{ 'k', true, "a number (expected a barrier id and a thread count)" },
	{ 't', true, "a thread id" },				     { 'd', true, "a process id" },
};

bool txt_arg(char letter, const char *kind, const char *s, struct ev *e, char *why, size_t whylen)
{
	if (parse_arg(letter, s, e))
		return true;
	for (size_t i = 0; i < sizeof(arg_whats) / sizeof(arg_whats[0]); i++)
		if (arg_whats[i].letter == letter)
			snprintf(why, whylen, "%s%s'%s' is not %s", arg_whats[i].kind ? kind : "",
				 arg_whats[i].kind ? ": " : "", s, arg_whats[i].what);
	return false;
}

int txt_field(const char *key, const char *val, struct ev *e, char *why, size_t whylen)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].name) || keys[i].type == K_RET)
			continue;
		void *p = (char *)e + keys[i].off;
		uint64_t v;
		int64_t s;
		switch (keys[i].type) {
		case K_U8:
		case K_U32:
			if (!txt_num_u(val, keys[i].type == K_U8 ? UINT8_MAX : UINT32_MAX, &v))
				break;
			if (keys[i].type == K_U8)
				*(uint8_t *)p = (uint8_t)v;
			else
				*(uint32_t *)p = (uint32_t)v;
			return 1;
		case K_S32:
			if (!txt_num_s(val, INT32_MIN, INT32_MAX, &s))
				break;
			*(int32_t *)p = (int32_t)s;
			return 1;
		default:
			if (!txt_num_u(val, UINT64_MAX, p))
				break;
			return 1;
		}
		snprintf(why, whylen, "%s=%s %s", key, val,
			 keys[i].type == K_S32 ? "is not a 32-bit number"
			 : keys[i].type == K_U8 || keys[i].type == K_U32 ? "is out of range"
									 : "is not a number");
		return -1;
	}
	return 0;
}

bool txt_kind(const char *s, uint8_t *kind)
{
	for (int k = 1; k < EV_KINDS; k++)
		if (txt_kinds[k] && !strcmp(s, txt_kinds[k])) { /* NULL: a kind the text form does not spell yet */
			*kind = (uint8_t)k;
			return true;
		}
	return false;
}

bool txt_unescape(char *s)
{
	char *d = s;
	for (; *s; s++) {
		if (*s != '%') {
			*d++ = *s;
			continue;
		}
		int hi = tu_digit(s[1], 16), lo = hi < 0 ? -1 : tu_digit(s[2], 16);
		if (lo < 0 || !(hi | lo))
			return false;
		*d++ = (char)(hi * 16 + lo);
		s += 2;
	}
	*d = 0;
	return true;
}
