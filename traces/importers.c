/* importers.c: the table of input formats (each importer's detection and parser entry) and what runs them: detection, and importing into a binary trace. */
#include "traces/trace.h"
#include "traces/util.h"
#include "io/lines.h"
#include "sim/util.h"

#include <errno.h>
#include <string.h>

/*
 * The importers, in the order detection tries them: each name N stands for
 * the `const struct tr_importer tr_importer_N` that N's file defines. Adding
 * an importer is its file (and its line in CMakeLists.txt) and a name here.
 */
#define TR_IMPORTERS(X) X(binary) X(text) X(perf) X(strace)

#define TR_DECLARE(n) extern const struct tr_importer tr_importer_##n;
TR_IMPORTERS(TR_DECLARE)
#define TR_ENTRY(n) &tr_importer_##n,
const struct tr_importer *const tr_importers[] = { TR_IMPORTERS(TR_ENTRY) NULL };

#define PROBE_LINES 100 /* blank and comment lines detection reads past */

const struct tr_importer *tr_importer_find(const char *name)
{
	for (int i = 0; tr_importers[i]; i++)
		if (!strcmp(tr_importers[i]->name, name))
			return tr_importers[i];
	return NULL;
}

/* The probe's first meaningful line, copied to buf (empty if none); l's error, if any, in err. */
static void probe_line(const char *path, char *buf, size_t n, char *err, size_t errlen)
{
	buf[0] = 0;
	struct lines *l = lines_open(path, err, errlen);
	if (!l)
		return;
	const char *line;
	size_t len;
	for (int k = 0; k < PROBE_LINES && (line = lines_next(l, &len)); k++) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line && *line != '#') {
			snprintf(buf, n, "%s", line);
			break;
		}
	}
	if (!buf[0] && lines_error(l))
		tu_errf(err, errlen, "%s", lines_error(l));
	lines_close(l);
}

const struct tr_importer *tr_detect(const char *path, char *err, size_t errlen)
{
	uint8_t head[16];
	size_t nhead = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		tu_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	nhead = fread(head, 1, sizeof(head), f);
	fclose(f);
	char line[4096];
	err[0] = 0;
	probe_line(path, line, sizeof(line), err, errlen);
	struct tr_probe p = { .path = path, .head = head, .nhead = nhead, .line = line[0] ? line : NULL };
	for (int i = 0; tr_importers[i]; i++)
		if (tr_importers[i]->detect(&p))
			return tr_importers[i];
	if (err[0])
		return NULL; /* the reader's error says why there is no line */
	char list[1024] = "";
	for (int i = 0; tr_importers[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i == 0 ? "" : tr_importers[i + 1] ? ", " : " nor ",
			 tr_importers[i]->what);
	tu_errf(err, errlen, "%s: byte 0: not a trace (neither %s)", path, list);
	return NULL;
}

int tr_import(const struct tr_importer *imp, const char *in, const char *out, const struct tr_import_opts *o,
	      struct tr_import_stats *st, char *err, size_t errlen)
{
	struct tr_import_stats local;
	struct tr_writer *w = tr_writer_open(out, err, errlen);
	if (!w)
		return -1;
	if (imp->import(in, w, o, st ? st : &local, err, errlen)) {
		tr_writer_error(w, err, errlen); /* a full disk says so, not just where the input was */
		tr_writer_abort(w);
		return -1;
	}
	return tr_writer_close(w, err, errlen);
}

int tr_compile(const char *in, const char *out, char *err, size_t errlen)
{
	return tr_import(&tr_importer_text, in, out, &(struct tr_import_opts){ 0 }, NULL, err, errlen);
}
