/* explain_html.c: teaching mode's page renderer: fills the compiled-in page template (app/web/) with the structured log, and writes a lessons site's index. */
#include "app/explain_html.h"
#include "app/explain_log.h"
#include "io/out.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* The scripts of the page, in the order they run (nav.js starts it all). */
static const char *const scripts[] = { "model", "view", "panes", "draw", "nav" };

#define SITE_MARKER ".mmsim-site"

/* The compiled-in file `name` of app/web/ (its name without the extension). */
static const char *web(const char *name)
{
	for (const struct mmsim_preset *p = mmsim_web; p->name; p++)
		if (!strcmp(p->name, name))
			return p->text;
	panic("explain: no compiled-in page file '%s'", name);
}

/* Text with &, <, >, " escaped. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* What replaces one marker of a template. */
struct fill {
	const char *marker;
	void (*put)(FILE *f, const void *arg);
	const void *arg;
};

/* The page's styles: on screen, then in print. */
static void put_style(FILE *f, const void *arg)
{
	(void)arg;
	fputs(web("style"), f);
	fputs(web("print"), f);
}

/* The page's scripts, in order. */
static void put_scripts(FILE *f, const void *arg)
{
	(void)arg;
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++)
		fputs(web(scripts[i]), f);
}

/* Text, escaped for HTML; and text as it is. */
static void put_text(FILE *f, const void *arg) { put_escaped(f, arg); }
static void put_raw(FILE *f, const void *arg) { fputs(arg, f); }

/* Write template t with each "<!--mmsim:NAME-->" replaced as `fills` say, to path. */
static int write_filled(const char *path, const char *t, const struct fill *fills, size_t n, char *err, size_t errlen)
{
	struct out o;
	if (out_open(&o, path, err, errlen))
		return -1;
	for (const char *p = t; *p;) {
		const char *m = strstr(p, "<!--mmsim:");
		if (!m) {
			fputs(p, o.f);
			break;
		}
		fwrite(p, 1, (size_t)(m - p), o.f);
		const char *e = strstr(m, "-->");
		if (!e)
			panic("explain: unterminated marker in a page template");
		size_t k = 0;
		while (k < n && (strlen(fills[k].marker) != (size_t)(e - m - 10) || strncmp(m + 10, fills[k].marker, (size_t)(e - m - 10))))
			k++;
		if (k == n)
			panic("explain: unknown marker %.*s in a page template", (int)(e - m + 3), m);
		fills[k].put(o.f, fills[k].arg);
		p = e + 3;
	}
	return out_commit(&o, err, errlen);
}

char *xh_log_json(const struct xh_page *p)
{
	struct jb b = { 0 };
	jb_raw(&b, "{\"format\":\"mmsim-explain-log 1\",\"title\":");
	jb_str(&b, p->title);
	jb_printf(&b, ",%s,\"runs\":[\n", p->machine);
	for (int i = 0; i < p->nruns; i++) {
		jb_raw(&b, p->runs[i]);
		jb_raw(&b, i + 1 < p->nruns ? ",\n" : "\n");
	}
	jb_raw(&b, "]}\n");
	return jb_take(&b);
}

int xh_write_page(const char *path, const struct xh_page *p, char *err, size_t errlen)
{
	char *json = xh_log_json(p);
	const struct fill fills[] = { { "title", put_text, p->title }, { "style", put_style, NULL },
				      { "data", put_raw, json }, { "script", put_scripts, NULL } };
	int r = write_filled(path, web("page"), fills, ARRAY_SIZE(fills), err, errlen);
	xfree(json);
	return r;
}

int xh_write_log(const char *path, const struct xh_page *p, char *err, size_t errlen)
{
	char *json = xh_log_json(p);
	const struct fill fills[] = { { "data", put_raw, json } };
	int r = write_filled(path, "<!--mmsim:data-->", fills, 1, err, errlen);
	xfree(json);
	return r;
}

/* ---- sites ---- */

int xh_site_dir(const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (d) {
		bool marked = false, other = false;
		for (struct dirent *e; (e = readdir(d));) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (!strcmp(e->d_name, SITE_MARKER))
				marked = true;
			else
				other = true;
		}
		closedir(d);
		if (other && !marked) {
			snprintf(err, errlen,
				 "%s: the folder holds files that no earlier --html-site wrote; give a new or empty folder "
				 "(a build or output folder, never a tracked one)",
				 dir);
			return -1;
		}
	}
	if (out_mkdirs(dir)) {
		snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
		return -1;
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, SITE_MARKER);
	const struct fill fills[] = { { "data", put_raw, "written by mmsim explain --html-site: the folder may be rewritten\n" } };
	return write_filled(path, "<!--mmsim:data-->", fills, 1, err, errlen);
}

struct entries {
	const struct xh_entry *e;
	size_t n;
};

/* The index's list items: a link to each lesson's page, its title and summary. */
static void put_list(FILE *f, const void *arg)
{
	const struct entries *l = arg;
	for (size_t i = 0; i < l->n; i++) {
		fputs("<li><a href=\"", f);
		put_escaped(f, l->e[i].file);
		fputs("\">", f);
		put_escaped(f, l->e[i].title);
		fputs("</a><p>", f);
		put_escaped(f, l->e[i].summary);
		fputs("</p></li>\n", f);
	}
}

int xh_write_index(const char *dir, const struct xh_entry *e, size_t n, const char *cmdline, char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/index.html", dir);
	struct entries l = { e, n };
	const struct fill fills[] = { { "style", put_style, NULL }, { "list", put_list, &l }, { "cmdline", put_text, cmdline } };
	return write_filled(path, web("index"), fills, ARRAY_SIZE(fills), err, errlen);
}

/* ---- lessons' words ---- */

/* The next line of text from *p (without its newline) into buf; false at the end. */
static bool next_line(const char **p, char *buf, size_t n)
{
	if (!**p)
		return false;
	size_t len = strcspn(*p, "\n");
	snprintf(buf, n, "%.*s", (int)MIN(len, n - 1), *p);
	*p += len + ((*p)[len] == '\n');
	return true;
}

void xh_lesson_title(const char *text, char *buf, size_t n)
{
	char l[512];
	buf[0] = 0;
	if (next_line(&text, l, sizeof(l)) && l[0] == '#')
		snprintf(buf, n, "%s", l + 1 + strspn(l + 1, " "));
}

void xh_lesson_summary(const char *text, char *buf, size_t n)
{
	char l[512];
	size_t len = 0;
	buf[0] = 0;
	next_line(&text, l, sizeof(l)); /* the title */
	while (next_line(&text, l, sizeof(l)) && l[0] == '#') {
		const char *w = l + 1 + strspn(l + 1, " ");
		if (!*w) {
			if (len)
				break; /* the paragraph ended */
			continue;
		}
		len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? " " : "", w);
		if (len >= n)
			break;
	}
}
