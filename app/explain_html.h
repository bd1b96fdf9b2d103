/* explain_html.h: teaching mode's page renderer: a lesson's structured log as one self-contained HTML page, the log alone as JSON, and a lessons site's index. */
#ifndef MMSIM_EXPLAIN_HTML_H
#define MMSIM_EXPLAIN_HTML_H

#include <stddef.h>

/* The compiled-in files (cmake/embed_presets.cmake): app/web/ (the page) and lessons/ (the lessons), by name without extension. */
struct mmsim_preset {
	const char *name, *text;
};
extern const struct mmsim_preset mmsim_web[], mmsim_lessons[];

/* What one page shows: a title, the machine (JSON members from xl_machine_json) and one run per design (xl_run_json). */
struct xh_page {
	const char *title;
	const char *machine;
	const char *runs[2];
	int nruns;
};

/* xh_log_json: the page's data as one JSON object (the format --log writes). The caller frees it. */
char *xh_log_json(const struct xh_page *p);

/*
 * xh_write_page / xh_write_log: write the page (or its JSON) to `path`,
 * whole or not at all. 0, or -1 with the reason in err.
 */
int xh_write_page(const char *path, const struct xh_page *p, char *err, size_t errlen);
int xh_write_log(const char *path, const struct xh_page *p, char *err, size_t errlen);

/* One lesson of a site: its page's file name, title and first paragraph. */
struct xh_entry {
	const char *file, *title, *summary;
};

/*
 * xh_site_dir: make `dir` ready for a site: it must not exist, or be
 * empty, or hold a site written before (its marker file); never a folder
 * with other files, such as a tracked folder of a repository. Creates it
 * and the marker. 0, or -1 with the reason in err.
 */
int xh_site_dir(const char *dir, char *err, size_t errlen);
/* xh_write_index: DIR/index.html, linking the lessons' pages. */
int xh_write_index(const char *dir, const struct xh_entry *e, size_t n, const char *cmdline, char *err, size_t errlen);

/* xh_lesson_title: a script's title (its first comment line, "# " removed), into buf; "" if it has none. */
void xh_lesson_title(const char *text, char *buf, size_t n);
/* xh_lesson_summary: the script's first paragraph of comments after the title line, as one line, into buf. */
void xh_lesson_summary(const char *text, char *buf, size_t n);

#endif
