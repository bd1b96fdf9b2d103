/* calib_rec.c: calibrate's validation on a recording: perf records a small program (mmsim record), mmsim replays it on the fitted machine, each call's latency side by side. */
#define _GNU_SOURCE
#include "app/calib.h"
#include "app/cli.h"
#include "sim/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A scratch folder and the paths in it. */
struct scratch {
	char dir[4096], machine[4200], trace[4200], json[4200], err[4200];
};

/* last_line: the last non-empty line of a file, into buf (empty if none). */
static void last_line(const char *path, char *buf, size_t n)
{
	buf[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			snprintf(buf, n, "%s", line);
	}
	fclose(f);
}

/* write_text: s into path, whole; false on any failed write or close. */
static bool write_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return false;
	bool ok = fwrite(s, 1, strlen(s), f) == strlen(s);
	return fclose(f) == 0 && ok;
}

/* One replayed call kind's timing keys (timing_<kind>_*, cmd_replay.c). */
struct rec_row {
	char kind[32];
	double calls, recorded, simulated, ratio;
};

/* read_rows: the timing_* keys of replay's JSON; returns how many kinds, and perf's own cost per call in *perf_ns. */
static int read_rows(const char *path, struct rec_row *rows, int max, double *perf_ns)
{
	*perf_ns = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = 0;
	char line[512], key[128];
	double v;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " \"timing_%127[a-z_0-9]\": %lf", key, &v) != 2)
			continue;
		if (!strcmp(key, "perf_overhead_ns")) {
			*perf_ns = v;
			continue;
		}
		static const char *const fields[] = { "_calls", "_recorded_median_ns", "_simulated_median_ns", "_ratio" };
		for (int k = 0; k < 4; k++) {
			size_t lk = strlen(key), lf = strlen(fields[k]);
			if (lk <= lf || strcmp(key + lk - lf, fields[k]))
				continue;
			key[lk - lf] = 0;
			int i = 0;
			while (i < n && strcmp(rows[i].kind, key))
				i++;
			if (i == n) {
				if (n == max)
					break;
				memset(&rows[n], 0, sizeof(rows[n]));
				snprintf(rows[n++].kind, sizeof(rows[0].kind), "%s", key);
			}
			double *dst[] = { &rows[i].calls, &rows[i].recorded, &rows[i].simulated, &rows[i].ratio };
			*dst[k] = v;
			break;
		}
	}
	fclose(f);
	return n;
}

static void cleanup(const struct scratch *s)
{
	unlink(s->machine);
	unlink(s->trace);
	unlink(s->json);
	unlink(s->err);
	rmdir(s->dir);
}

void calib_rec_validate(const char *machine_text, unsigned rounds)
{
	printf("\nValidation on a recording (not fitted): `mmsim record` of calibrate's own program (%u rounds of a\n"
	       "16-page mmap, 8 pages written, one mprotect, munmap; and a 4-page mmap and munmap), replayed with\n"
	       "mmsim replay --design linux --machine FILE; recorded latency less perf's own cost per call\n",
	       rounds);
	fflush(stdout);
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0) {
		printf("  skipped: cannot find this program (/proc/self/exe)\n");
		return;
	}
	self[len] = 0;
	struct scratch s;
	snprintf(s.dir, sizeof(s.dir), "%s/mmsim-calib-XXXXXX", util_tmpdir()); /* mkdtemp's template, not a placeholder */
	if (!mkdtemp(s.dir)) {
		printf("  skipped: cannot make a scratch folder in %s\n", util_tmpdir());
		return;
	}
	snprintf(s.machine, sizeof(s.machine), "%s/fitted.machine", s.dir);
	snprintf(s.trace, sizeof(s.trace), "%s/program.mmtrace", s.dir);
	snprintf(s.json, sizeof(s.json), "%s/replay.json", s.dir);
	snprintf(s.err, sizeof(s.err), "%s/stderr", s.dir);
	char why[512], nrounds[16];
	snprintf(nrounds, sizeof(nrounds), "%u", rounds);
	if (!write_text(s.machine, machine_text)) {
		printf("  skipped: cannot write the fitted machine into %s\n", s.dir);
		cleanup(&s);
		return;
	}
	char *rec[] = { self, "record", "-o", s.trace, "--", self, "calibrate", "--recorded-program", nrounds, NULL };
	if (cli_spawn(rec, "/dev/null", s.err, false)) {
		last_line(s.err, why, sizeof(why));
		printf("  skipped: mmsim record failed: %s\n", why[0] ? why : "(no message)");
		cleanup(&s);
		return;
	}
	char *rep[] = { self, "replay", s.trace, "--design", "linux", "--machine", s.machine, "--json", NULL };
	if (cli_spawn(rep, s.json, s.err, false)) {
		last_line(s.err, why, sizeof(why));
		printf("  failed: mmsim replay of the recording: %s\n", why[0] ? why : "(no message)");
		cleanup(&s);
		return;
	}
	struct rec_row rows[16];
	double perf_ns;
	int n = read_rows(s.json, rows, 16, &perf_ns);
	printf("  perf's own cost per recorded call: %.0f ns (measured by record on getppid)\n", perf_ns);
	printf("%-12s %8s %14s %12s %8s\n", "call", "calls", "recorded ns", "mmsim ns", "ratio");
	for (int i = 0; i < n; i++)
		printf("%-12s %8.0f %14.0f %12.0f %8.2f\n", rows[i].kind, rows[i].calls, rows[i].recorded, rows[i].simulated,
		       rows[i].ratio);
	if (!n)
		printf("  (the replay reported no call timings)\n");
	cleanup(&s);
}
