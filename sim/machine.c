/* machine.c: parser for machine description files (docs/machine-format.md), table-driven over struct machine. */
#include "sim/machine.h"
#include "sim/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum kind { K_STR, K_DEC, K_INT, K_BOOL, K_TIME, K_WORD };

struct key {
	const char *name;
	enum kind kind;
	size_t off, size; /* field in struct machine */
	double min, max;
	const char *const *words; /* K_WORD: the values, NULL-terminated; stored as the index (uint32_t) */
};

const char *const machine_bcast_names[] = { "none", "invlpgb", "rar", NULL };

#define F(f) offsetof(struct machine, f), sizeof(((struct machine *)0)->f)
#define TIME(k, f) { k, K_TIME, F(f), 0, 1e9, NULL }
#define INT(k, f, lo, hi) { k, K_INT, F(f), lo, hi, NULL }
#define GEOM(k, f)                                                           \
	{ k ".entries", K_INT, F(f.entries), 0, 1 << 20, NULL },                   \
	{ k ".ways", K_INT, F(f.ways), 0, 1 << 20, NULL }

/* Order matters only for `machine show`-style listings; all keys are required. */
static const struct key keys[] = {
	{ "name", K_STR, F(name), 0, 0, NULL },
	{ "description", K_STR, F(description), 0, 0, NULL },
	{ "freq_ghz", K_DEC, F(freq_ghz), 0.1, 10, NULL },
	INT("topo.cores_per_ccx", cores_per_ccx, 1, 512),
	INT("topo.ccx_per_socket", ccx_per_socket, 1, 512),
	INT("topo.sockets", sockets, 1, 64),
	TIME("coh.hit", coh_hit),
	TIME("coh.atomic", coh_atomic),
	TIME("coh.mem", coh_mem),
	TIME("coh.xfer_ccx", coh_xfer_ccx),
	TIME("coh.xfer_socket", coh_xfer_socket),
	TIME("coh.xfer_remote", coh_xfer_remote),
	TIME("coh.inval_sharer", coh_inval_sharer),
	GEOM("tlb.l1d.4k", l1d_4k),
	GEOM("tlb.l1d.2m", l1d_2m),
	GEOM("tlb.l1d.1g", l1d_1g),
	GEOM("tlb.l1i.4k", l1i_4k),
	GEOM("tlb.l1i.2m", l1i_2m),
	GEOM("tlb.l2", l2),
	GEOM("tlb.l2.1g", l2_1g),
	TIME("tlb.l1.hit", tlb_l1_hit),
	TIME("tlb.l2.hit", tlb_l2_hit),
	INT("psc.pml5.entries", psc_pml5, 0, 4096),
	INT("psc.pml4.entries", psc_pml4, 0, 4096),
	INT("psc.pdpt.entries", psc_pdpt, 0, 4096),
	INT("psc.pde.entries", psc_pde, 0, 4096),
	TIME("walk.step", walk_step),
	INT("cache.l1.kib", cache_l1_kib, 0, 1 << 16),
	INT("cache.l1.ways", cache_l1_ways, 0, 64),
	INT("cache.l2.kib", cache_l2_kib, 0, 1 << 16),
	INT("cache.l2.ways", cache_l2_ways, 0, 64),
	TIME("cache.l2.hit", cache_l2_hit),
	INT("cache.l3.kib", cache_l3_kib, 0, 1 << 20),
	INT("cache.l3.ways", cache_l3_ways, 0, 64),
	TIME("cache.l3.hit", cache_l3_hit),
	{ "npt", K_BOOL, F(npt), 0, 1, NULL },
	INT("npt.host_level", npt_host_level, 1, 3),
	INT("npt.tlb.entries", npt_tlb, 0, 4096),
	INT("npt.psc.entries", npt_psc, 0, 4096),
	{ "tlb.pcid", K_BOOL, F(pcid), 0, 1, NULL },
	TIME("tlb.invlpg", invlpg),
	TIME("tlb.flush_pcid", flush_pcid),
	TIME("tlb.flush_full", flush_full),
	TIME("kern.syscall", syscall),
	TIME("kern.trap", trap),
	TIME("kern.zero_page", zero_page),
	TIME("kern.frame_alloc", frame_alloc),
	TIME("kern.frame_free", frame_free),
	TIME("kern.slab_alloc", slab_alloc),
	TIME("kern.slab_free", slab_free),
	TIME("kern.node_visit", node_visit),
	TIME("kern.mt_node", mt_node),
	TIME("kern.vma_call", vma_call),
	TIME("kern.ctx_switch", ctx_switch),
	TIME("kern.wakeup", wakeup),
	INT("kern.tick_hz", tick_hz, 1, 100000),
	TIME("ipi.send", ipi_send),
	TIME("ipi.send_extra", ipi_send_extra),
	TIME("ipi.deliver", ipi_deliver),
	TIME("ipi.handler", ipi_handler),
	TIME("ipi.ack", ipi_ack),
	{ "tlb.broadcast", K_WORD, F(bcast), 0, 0, machine_bcast_names },
	TIME("tlb.bcast_issue", bcast_issue),
	INT("tlb.bcast_pages", bcast_pages, 1, 65536),
};
#define NKEYS ARRAY_SIZE(keys)

/* One parsed assignment, kept raw until freq_ghz is known. */
struct raw {
	char val[160];
	char origin[256];
	int line;
	int depth; /* of the text that set it: 0 the file, 1 its base, ... (one text per depth) */
	bool set;
};

struct parse {
	struct raw raw[NKEYS];
	char *err;
	size_t errlen;
	int depth;
};

static int fail(struct parse *p, const char *origin, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct parse *p, const char *origin, int line, const char *fmt, ...)
{
	va_list ap;
	int n = line > 0 ? snprintf(p->err, p->errlen, "%s:%d: ", origin, line)
			 : snprintf(p->err, p->errlen, "%s: ", origin);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static int find_key(const char *k)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, k))
			return (int)i;
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* Strip a trailing comment, leaving '#' inside a quoted string alone. */
static void strip_comment(char *s)
{
	bool q = false;
	for (; *s; s++) {
		if (*s == '"')
			q = !q;
		else if (*s == '#' && !q) {
			*s = 0;
			return;
		}
	}
}

static int parse_text(struct parse *p, const char *text, const char *origin);

static int load_base(struct parse *p, const char *name, const char *origin, int line)
{
	const char *t = machine_preset_text(name);
	if (!t)
		return fail(p, origin, line, "unknown base preset '%s'", name);
	if (p->depth > 4)
		return fail(p, origin, line, "base presets nest too deeply");
	char o[256];
	snprintf(o, sizeof(o), "preset %s", name);
	p->depth++;
	int r = parse_text(p, t, o);
	p->depth--;
	return r;
}

static int parse_text(struct parse *p, const char *text, const char *origin)
{
	int lineno = 0;
	bool seen_assignment = false;
	const char *s = text;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char buf[512];
		lineno++;
		if (n >= sizeof(buf))
			return fail(p, origin, lineno, "line longer than %zu bytes", sizeof(buf) - 1);
		memcpy(buf, s, n);
		buf[n] = 0;
		s += n + (nl ? 1 : 0);
		for (size_t i = 0; i < n; i++)
			if (buf[i] == 0 || ((unsigned char)buf[i] < 0x20 && buf[i] != '\t' && buf[i] != '\r'))
				return fail(p, origin, lineno, "control character in line");
		strip_comment(buf);
		char *l = trim(buf);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq)
			return fail(p, origin, lineno, "expected 'key = value'");
		*eq = 0;
		char *k = trim(l), *v = trim(eq + 1);
		if (!*k)
			return fail(p, origin, lineno, "missing key before '='");
		if (!*v)
			return fail(p, origin, lineno, "missing value for '%s'", k);
		if (!strcmp(k, "base")) {
			if (seen_assignment)
				return fail(p, origin, lineno, "'base' must come before any other key");
			seen_assignment = true;
			if (load_base(p, v, origin, lineno))
				return -1;
			continue;
		}
		seen_assignment = true;
		int ki = find_key(k);
		if (ki < 0)
			return fail(p, origin, lineno, "unknown key '%s' (see docs/machine-format.md)", k);
		struct raw *r = &p->raw[ki];
		/*
		 * A file may override its base's keys, but set each key only once itself.
		 * (Compared by depth, not by origin: r->origin is cut to 255 characters.)
		 */
		if (r->set && r->depth == p->depth)
			return fail(p, origin, lineno, "duplicate key '%s' (first set at line %d)", k, r->line);
		if (strlen(v) >= sizeof(r->val))
			return fail(p, origin, lineno, "value for '%s' too long", k);
		strcpy(r->val, v);
		snprintf(r->origin, sizeof(r->origin), "%s", origin);
		r->line = lineno;
		r->depth = p->depth;
		r->set = true;
	}
	return 0;
}

static int num(struct parse *p, const struct raw *r, const char *v, double *out, const char **rest)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (end == v || errno || !isfinite(d))
		return fail(p, r->origin, r->line, "'%s' is not a number", v);
	*out = d;
	*rest = end;
	return 0;
}

static int convert(struct parse *p, struct machine *m, size_t i)
{
	const struct key *k = &keys[i];
	const struct raw *r = &p->raw[i];
	char *dst = (char *)m + k->off;
	const char *rest;
	double d;

	switch (k->kind) {
	case K_STR: {
		size_t n = strlen(r->val);
		if (n < 2 || r->val[0] != '"' || r->val[n - 1] != '"')
			return fail(p, r->origin, r->line, "%s: expected a quoted string", k->name);
		if (n - 2 >= k->size)
			return fail(p, r->origin, r->line, "%s: string too long", k->name);
		memcpy(dst, r->val + 1, n - 2);
		dst[n - 2] = 0;
		return 0;
	}
	case K_WORD:
		for (uint32_t w = 0; k->words[w]; w++)
			if (!strcmp(r->val, k->words[w])) {
				*(uint32_t *)dst = w;
				return 0;
			}
		return fail(p, r->origin, r->line, "%s: expected one of none, invlpgb, rar; got '%s'", k->name, r->val);
	case K_BOOL:
		if (!strcmp(r->val, "yes"))
			*(bool *)dst = true;
		else if (!strcmp(r->val, "no"))
			*(bool *)dst = false;
		else
			return fail(p, r->origin, r->line, "%s: expected yes or no, got '%s'", k->name, r->val);
		return 0;
	case K_DEC:
	case K_INT:
		if (num(p, r, r->val, &d, &rest))
			return -1;
		if (*rest)
			return fail(p, r->origin, r->line, "%s: trailing characters '%s'", k->name, rest);
		if (k->kind == K_INT && d != floor(d))
			return fail(p, r->origin, r->line, "%s: expected an integer, got '%s'", k->name, r->val);
		if (d < k->min || d > k->max)
			return fail(p, r->origin, r->line, "%s: %s is out of range [%g, %g]", k->name, r->val,
				    k->min, k->max);
		if (k->kind == K_DEC)
			*(double *)dst = d;
		else
			*(uint32_t *)dst = (uint32_t)d;
		return 0;
	case K_TIME: {
		if (num(p, r, r->val, &d, &rest))
			return -1;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		double cyc;
		if (!strcmp(rest, "cyc"))
			cyc = d;
		else if (!strcmp(rest, "ns"))
			cyc = d * m->freq_ghz;
		else if (!strcmp(rest, "us"))
			cyc = d * 1000.0 * m->freq_ghz;
		else if (!*rest)
			return fail(p, r->origin, r->line, "%s: '%s' needs a unit: cyc, ns or us", k->name, r->val);
		else
			return fail(p, r->origin, r->line, "%s: unknown unit '%s' (cyc, ns or us)", k->name, rest);
		if (d < 0 || cyc > k->max)
			return fail(p, r->origin, r->line, "%s: %s is out of range", k->name, r->val);
		*(cycles_t *)dst = (cycles_t)llround(cyc);
		return 0;
	}
	}
	return 0;
}

int machine_load_text(struct machine *m, const char *text, const char *origin, char *err, size_t errlen)
{
	struct parse *p = xzalloc(sizeof(*p));
	int rc = -1;
	p->err = err;
	p->errlen = errlen;
	memset(m, 0, sizeof(*m));
	if (parse_text(p, text, origin))
		goto out;
	for (size_t i = 0; i < NKEYS; i++)
		if (!p->raw[i].set) {
			fail(p, origin, 0, "missing key '%s'", keys[i].name);
			goto out;
		}
	int fi = find_key("freq_ghz");
	if (convert(p, m, (size_t)fi))
		goto out;
	for (size_t i = 0; i < NKEYS; i++)
		if ((int)i != fi && convert(p, m, i))
			goto out;
	/* Cross-key checks. */
	const struct tlb_geom *g[] = { &m->l1d_4k, &m->l1d_2m, &m->l1d_1g, &m->l1i_4k,
				       &m->l1i_2m, &m->l2, &m->l2_1g };
	const char *gn[] = { "tlb.l1d.4k", "tlb.l1d.2m", "tlb.l1d.1g", "tlb.l1i.4k",
			     "tlb.l1i.2m", "tlb.l2", "tlb.l2.1g" };
	for (size_t i = 0; i < ARRAY_SIZE(g); i++) {
		if (!g[i]->entries)
			continue;
		uint32_t ways = g[i]->ways, sets = ways ? g[i]->entries / ways : 0;
		if (!ways || g[i]->entries % ways || (sets & (sets - 1))) {
			char k[64];
			snprintf(k, sizeof(k), "%s.ways", gn[i]);
			const struct raw *r = &p->raw[find_key(k)];
			fail(p, r->origin, r->line,
			     "%s: %u entries / %u ways must give a power-of-two number of sets", gn[i],
			     g[i]->entries, ways);
			goto out;
		}
	}
	const uint32_t ck[3][2] = { { m->cache_l1_kib, m->cache_l1_ways },
				    { m->cache_l2_kib, m->cache_l2_ways },
				    { m->cache_l3_kib, m->cache_l3_ways } };
	for (int i = 0; i < 3; i++)
		if (ck[i][0] && (!ck[i][1] || ck[i][0] * 16 % ck[i][1])) {
			char k[32];
			snprintf(k, sizeof(k), "cache.l%d.ways", i + 1);
			const struct raw *r = &p->raw[find_key(k)];
			fail(p, r->origin, r->line, "%s: %u KiB of 64-byte lines is not a whole number of %u-way sets", k,
			     ck[i][0], ck[i][1]);
			goto out;
		}
	if (m->cache_l1_kib && (!m->cache_l2_kib || !m->cache_l3_kib)) {
		fail(p, origin, 0, "cache.l1.kib is set: cache.l2.kib and cache.l3.kib must be too (0 everywhere: not modelled)");
		goto out;
	}
	if (!m->l1d_4k.entries || !m->l2.entries) {
		fail(p, origin, 0, "tlb.l1d.4k and tlb.l2 need at least one entry");
		goto out;
	}
	rc = 0;
out:
	xfree(p);
	return rc;
}

size_t machine_nkeys(void) { return NKEYS; }

const char *machine_key_name(size_t i) { return i < NKEYS ? keys[i].name : NULL; }

int machine_preset_raw(const char *preset, const char *key, char *out, size_t n)
{
	const char *t = machine_preset_text(preset);
	int ki = find_key(key);
	if (!t || ki < 0)
		return -1;
	char err[256];
	struct parse *p = xzalloc(sizeof(*p));
	p->err = err;
	p->errlen = sizeof(err);
	int rc = parse_text(p, t, preset) || !p->raw[ki].set ? -1 : 0;
	if (!rc)
		snprintf(out, n, "%s", p->raw[ki].val);
	xfree(p);
	return rc;
}

static char *read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory, not a machine description", path);
		fclose(f);
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > (1u << 20)) {
				snprintf(err, errlen, "%s: file larger than 1 MiB", path);
				fclose(f);
				xfree(buf);
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	if (memchr(buf, 0, n)) {
		snprintf(err, errlen, "%s: binary data (NUL byte) in a text file", path);
		xfree(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

int machine_load(struct machine *m, const char *name_or_path, char *err, size_t errlen)
{
	const char *t = machine_preset_text(name_or_path);
	if (t && !strchr(name_or_path, '/')) {
		char o[128];
		snprintf(o, sizeof(o), "preset %s", name_or_path);
		return machine_load_text(m, t, o, err, errlen);
	}
	char *buf = read_file(name_or_path, err, errlen);
	if (!buf) {
		if (!strchr(name_or_path, '/') && !strstr(name_or_path, ".machine")) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n, " (and no preset of that name; try 'mmsim machine list')");
		}
		return -1;
	}
	int r = machine_load_text(m, buf, name_or_path, err, errlen);
	xfree(buf);
	return r;
}
