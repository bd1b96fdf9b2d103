/* detect.c: which kind of trace a file holds: the binary form, the text form, perf script output or strace output. */
#include "traces/imp.h"
#include "io/lines.h"

#include <ctype.h>
#include <string.h>

/* strace -ttt lines: "[pid N] SECONDS.FRAC ", "PID SECONDS.FRAC " or "SECONDS.FRAC ". */
static bool strace_line(const char *s)
{
	if (!strncmp(s, "[pid ", 5))
		return true;
	int fields = 0;
	while (fields < 2 && isdigit((unsigned char)*s)) {
		while (isdigit((unsigned char)*s))
			s++;
		if (*s == '.') {
			s++;
			if (!isdigit((unsigned char)*s))
				return false;
			while (isdigit((unsigned char)*s))
				s++;
			return *s == ' ';
		}
		if (*s != ' ')
			return false;
		while (*s == ' ')
			s++;
		fields++;
	}
	return false;
}

enum tr_format tr_detect(const char *path, char *err, size_t errlen)
{
	if (tr_is_binary(path))
		return TR_FMT_BINARY;
	struct lines *l = lines_open(path, err, errlen);
	if (!l)
		return TR_FMT_UNKNOWN;
	enum tr_format f = TR_FMT_UNKNOWN;
	const char *line;
	size_t len;
	for (int n = 0; n < 100 && f == TR_FMT_UNKNOWN && (line = lines_next(l, &len)); n++) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#')
			continue;
		if (!strncmp(line, "mmsim-trace", 11))
			f = TR_FMT_TEXT;
		else if (imp_perf_line(line))
			f = TR_FMT_PERF;
		else if (strace_line(line))
			f = TR_FMT_STRACE;
		else
			break;
	}
	if (f == TR_FMT_UNKNOWN && lines_error(l))
		tr_errf(err, errlen, "%s", lines_error(l));
	else if (f == TR_FMT_UNKNOWN)
		tr_errf(err, errlen, "%s: not a trace (neither an mmsim trace, its text form, perf script output nor strace output)",
			path);
	lines_close(l);
	return f;
}
