/* sweep.c: running a sweep's points (resume, child processes side by side, rows in order) or printing them as jobs. */
#include "app/sweep.h"
#include "io/csv.h"
#include "io/out.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A point's result: its CSV text (header line and row), and how its run ended. */
struct result {
	char *text;
	size_t len, cap;
	int status;
	bool ready, skip;
};

/* run_point: run one point into r->text (a CSV header line and a row). */
static void run_point(struct sweep_pt *p, struct result *r, const char *cmd)
{
	FILE *m = open_memstream(&r->text, &r->len);
	if (!m)
		panic("open_memstream: %s", strerror(errno));
	struct em e;
	em_init(&e, m, EM_CSV);
	e.csv_header = true;
	em_begin(&e);
	r->status = point_run(&p->pt, &e, cmd);
	em_end(&e);
	if (fclose(m))
		panic("open_memstream: %s", strerror(errno));
}

/* A child process running one point, and the pipe its row comes back on. */
struct child {
	pid_t pid;
	int fd, idx;
};

/* spawn: fork a child that runs point i and writes its text to a pipe. */
static int spawn(struct sweep_pt *pts, int i, struct child *c, const char *cmd)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		struct result r = { 0 };
		run_point(&pts[i], &r, cmd);
		size_t done = 0;
		while (done < r.len) {
			ssize_t k = write(fds[1], r.text + done, r.len - done);
			if (k <= 0)
				_exit(1);
			done += (size_t)k;
		}
		_exit(r.status & 0xff);
	}
	close(fds[1]);
	*c = (struct child){ pid, fds[0], i };
	return 0;
}

/* drain: read what child c has written so far into r; true at its end (then it is reaped). */
static bool drain(struct child *c, struct result *r)
{
	char buf[65536];
	ssize_t k = read(c->fd, buf, sizeof(buf));
	if (k > 0) {
		if (r->len + (size_t)k + 1 > r->cap) {
			r->cap = MAX(r->cap * 2, r->len + (size_t)k + 1);
			r->text = xrealloc(r->text, r->cap);
		}
		memcpy(r->text + r->len, buf, (size_t)k);
		r->len += (size_t)k;
		return false;
	}
	if (k < 0 && errno == EINTR)
		return false;
	close(c->fd);
	int st = 0;
	while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	if (!WIFEXITED(st))
		fprintf(stderr, "mmsim sweep: point %d died (signal %d)\n", c->idx + 1, WTERMSIG(st));
	r->ready = true;
	return true;
}

/* load_done: the config keys of the rows already in outpath (none if it does not exist). 0, or 2 with a message. */
static int load_done(const char *outpath, struct csv *t, int *keycol, const char *cmd)
{
	char err[4200];
	struct stat st;
	*keycol = -1;
	if (stat(outpath, &st) || !st.st_size)
		return 0;
	if (csv_load(t, outpath, err, sizeof(err)))
		return cli_error(cmd, "cannot resume from %s", err);
	*keycol = csv_col(t, "config_key");
	if (*keycol < 0)
		return cli_error(cmd, "%s: not a results file of this program (no config_key column): use another -o",
				 outpath);
	return 0;
}

int sweep_run(struct sweep_pt *pts, int n, const char *outpath, int jobs, const char *cmd)
{
	struct csv done = { 0 };
	int keycol, status = 0, ran = 0, skipped = 0, running = 0, next = 0, written = 0, rows = 0;
	if ((status = load_done(outpath, &done, &keycol, cmd)))
		return status;
	struct result *res = xzalloc(sizeof(*res) * (size_t)(n + 1));
	for (int i = 0; i < n; i++)
		for (uint32_t r = 0; r < done.nrows && !res[i].skip; r++)
			res[i].skip = !strcmp(done.rows[r][keycol], pts[i].key);
	bool header = !done.head;
	csv_free(&done);
	FILE *out = fopen(outpath, "a");
	if (!out) {
		xfree(res);
		return cli_fail(cmd, "-o: cannot write '%s': %s", outpath, strerror(errno));
	}
	struct child *kids = xzalloc(sizeof(*kids) * (size_t)MAX(jobs, 1));
	struct pollfd *pfd = xzalloc(sizeof(*pfd) * (size_t)MAX(jobs, 1));
	bool tty = isatty(2);
	double t0 = util_clock_sec(CLOCK_MONOTONIC);
	bool stop = false; /* a write or a fork failed: no more points */
	while (written < n && !stop) {
		/* Start points: skip those already there; one in process, or fill the free slots with children. */
		while (next < n) {
			if (res[next].skip) {
				res[next].ready = true;
				skipped++;
				next++;
				continue;
			}
			if (jobs <= 1) {
				run_point(&pts[next], &res[next], cmd);
				res[next++].ready = true;
				ran++;
				break;
			}
			if (running == jobs)
				break;
			if (spawn(pts, next, &kids[running], cmd)) {
				status = cli_fail(cmd, "cannot start a process for point %d: %s", next + 1, strerror(errno));
				stop = true;
				break;
			}
			running++;
			ran++;
			next++;
		}
		/* Collect what the children send; reap those that finished. */
		if (running && !stop) {
			for (int k = 0; k < running; k++)
				pfd[k] = (struct pollfd){ .fd = kids[k].fd, .events = POLLIN };
			if (poll(pfd, (nfds_t)(unsigned)running, -1) < 0 && errno != EINTR) {
				status = cli_fail(cmd, "poll: %s", strerror(errno));
				break;
			}
			for (int k = running - 1; k >= 0; k--)
				if (pfd[k].revents && drain(&kids[k], &res[kids[k].idx]))
					kids[k] = kids[--running];
		}
		/* Append the rows that are next in order, each whole (a failed point still leaves its row). */
		while (written < n && res[written].ready && !stop) {
			struct result *r = &res[written];
			if (!r->skip) {
				if (r->status)
					status = 1;
				char *row = r->text ? memchr(r->text, '\n', r->len) : NULL;
				const char *from = row ? (header ? r->text : row + 1) : NULL;
				size_t len = from ? r->len - (size_t)(from - r->text) : 0;
				if (len && out_append_row(out, from, len)) {
					status = cli_fail(cmd, "%s: write error: %s (the rows before this point are kept)",
							  outpath, strerror(errno));
					stop = true;
					break;
				}
				if (len) {
					header = false;
					rows++;
				}
			}
			free(r->text);
			r->text = NULL;
			written++;
		}
		if (tty)
			fprintf(stderr, "\r[%d/%d] %d running, %.0f s so far\033[K", written, n, running, util_clock_sec(CLOCK_MONOTONIC) - t0);
	}
	for (int k = 0; k < running; k++) {
		kill(kids[k].pid, SIGTERM);
		close(kids[k].fd);
		waitpid(kids[k].pid, NULL, 0);
	}
	for (int i = 0; i < n; i++)
		free(res[i].text);
	xfree(res);
	xfree(kids);
	xfree(pfd);
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (fclose(out) && !status)
		status = cli_fail(cmd, "%s: write error: %s", outpath, strerror(errno));
	fprintf(stderr, "mmsim sweep: %d points run, %d rows written, %d already in %s, %.1f host seconds\n", ran, rows,
		skipped, outpath, util_clock_sec(CLOCK_MONOTONIC) - t0);
	return status;
}

int sweep_emit_jobs(const struct sweep_pt *pts, int n, const char *dir, const char *cmd)
{
	if (out_mkdirs(dir))
		return cli_fail(cmd, "--emit-jobs: cannot make %s: %s", dir, strerror(errno));
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	snprintf(self + (len > 0 ? len : 0), sizeof(self) - (size_t)(len > 0 ? len : 0), "%s", len > 0 ? "" : "mmsim");
	for (int i = 0; i < n; i++) {
		const struct point *p = &pts[i].pt;
		const struct vm_design *d = vm_design_find(p->s.design);
		char dargs[512];
		sys_dopts_args(&p->s, d, dargs, sizeof(dargs));
		printf("%s run --design %s%s --workload %s", self, p->s.design, dargs, p->w->name);
		if (p->w->flags & WL_CONTENTION)
			printf(" --contention %s", p->wp.high_contention ? "high" : "low");
		printf(" --cores %u --machine %s --seed %llu --lookahead %llu --frames %llu", p->o.cores, p->o.machine_name,
		       (unsigned long long)p->o.seed, (unsigned long long)p->o.lookahead,
		       (unsigned long long)p->s.frames);
		if (p->s.levels == 5)
			printf(" --la57");
		if (p->s.no_check)
			printf(" --no-check");
		if (p->wp.ops)
			printf(" --ops %llu", (unsigned long long)p->wp.ops);
		if (p->wp.fixed)
			printf(" --fixed");
		if (p->wp.processes)
			printf(" --processes");
		if (p->wp.size)
			printf(" --size %llu", (unsigned long long)p->wp.size);
		if (p->wp.paper)
			printf(" --method paper --reps %llu", (unsigned long long)point_reps(p));
		printf(" --csv -o %s/point-%04d.csv\n", dir, i);
	}
	if (fflush(stdout) || ferror(stdout))
		return cli_fail(cmd, "standard output: write error");
	return 0;
}
