/* trace_cmd.h: what the trace commands (cmd_trace.c) share with replay (cmd_replay.c). */
#ifndef MMSIM_APP_TRACE_CMD_H
#define MMSIM_APP_TRACE_CMD_H

#include "traces/trace.h"

/* trace_max_rss_kb: peak resident memory of this process, KiB. */
uint64_t trace_max_rss_kb(void);
/*
 * trace_convert: the input in (of the format imp reads) into the binary
 * form at out, for command cmd. Fills st and *secs. 0, or -1 with the
 * message printed.
 */
int trace_convert(const char *cmd, const struct tr_importer *imp, const char *in, const char *out,
		  const struct tr_import_opts *io, struct tr_import_stats *st, double *secs);

#endif
