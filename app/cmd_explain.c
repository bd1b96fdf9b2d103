/* cmd_explain.c: `mmsim explain`: teaching mode's prompt (libedit line editing and history), script runner, and its pages (--html, --html-site, --log). */
#include "app/args.h"
#include "app/explain.h"
#include "app/explain_html.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

static const char *help_text =
	"usage: mmsim explain [--design NAME] [--cores N] [--machine PRESET] [OPTIONS] [SCRIPT]\n"
	"       mmsim explain --html OUT [--design NAME[,NAME]] [OPTIONS] [SCRIPT]\n"
	"       mmsim explain --html-site DIR [OPTIONS] [SCRIPT...]\n\n"
	"Teaching mode: drive a simulated multicore machine by hand and see every step: how a\n"
	"virtual address is split and walked, which TLB level hit, which fault path ran, which\n"
	"locks an mm call took and how long it waited, which PTEs and metadata changed, and which\n"
	"cores a shootdown interrupted and what it cost. Type 'help' at the prompt for the\n"
	"commands. With a SCRIPT (or input that is not a terminal) the commands are read from it\n"
	"and echoed with their explanations, as in the lessons of lessons/; the exit status is 1\n"
	"if any command failed.\n\n"
	"  --design NAME     address-space design (default linux; 'mmsim designs' lists them);\n"
	"                    with --html, --html-site or --log, two names (linux,cortenmm-adv) run\n"
	"                    the script on both, side by side ('design' commands in it apply to both)\n"
	"  --cores N         simulated cores (default 4)\n"
	"  --machine NAME    machine preset or description file (default " MACHINE_DEFAULT ")\n"
	"  --OPTION[=VALUE]  one of the design's own options, such as --thp or --lazy-flush\n"
	"                    ('mmsim designs' lists each design's)\n"
	"  --la57            5-level page tables\n"
	"  --frames N        simulated physical memory in 4 KiB frames (default 262144 = 1 GiB)\n"
	"  --html OUT        write the run as one self-contained page (styles, scripts and pictures\n"
	"                    inline; nothing fetched), to step through by button, arrow keys or\n"
	"                    OUT#step=N; nothing is printed\n"
	"  --html-site DIR   an index and one page per lesson (the lessons of lessons/, compiled\n"
	"                    in, or the SCRIPTs given) in DIR: a new or empty folder, or one an\n"
	"                    earlier --html-site wrote\n"
	"  --log OUT         write the structured log the page is drawn from, as JSON\n"
	"  --help            this text\n";

/* The command's own options and the designs to run. */
struct eopts {
	const char *html, *site, *log;
	char designs[2][64];
	int ndesigns;
	struct sysopts *so;
};

enum { OPT_HTML = 0x201, OPT_SITE, OPT_LOG };

/* explain_opt: --html, --html-site, --log and --design A,B; teaching mode refuses the scheduling options. */
static int explain_opt(void *ctx, int opt, const char *arg)
{
	struct eopts *e = ctx;
	switch (opt) {
	case 'm':
	case 'q':
	case 'L': return cli_error("explain", "teaching mode always runs in deterministic mode");
	case OPT_HTML: e->html = arg; return 0;
	case OPT_SITE: e->site = arg; return 0;
	case OPT_LOG: e->log = arg; return 0;
	case 'd': {
		const char *comma = strchr(arg, ',');
		e->ndesigns = comma ? 2 : 1;
		snprintf(e->designs[0], sizeof(e->designs[0]), "%.*s", (int)(comma ? comma - arg : (long)strlen(arg)), arg);
		snprintf(e->designs[1], sizeof(e->designs[1]), "%s", comma ? comma + 1 : "");
		if (comma && (strchr(comma + 1, ',') || !e->designs[0][0] || !e->designs[1][0]))
			return cli_error("explain", "--design: one name, or two separated by a comma (linux,cortenmm-adv)");
		e->so->design = e->designs[0];
		e->so->lenient = comma != NULL; /* an option may be one design's only (checked once both are known) */
		return 0;
	}
	}
	return CLI_NOT_MINE;
}

/* A session on design `design` with the command line's options; its steps go to the terminal or are kept. */
static int session_open(struct xs *s, const struct xs *base, const char *design, bool keep)
{
	memset(s, 0, sizeof(*s));
	s->o = base->o;
	s->so = base->so;
	s->so.design = design;
	s->log.term = keep ? NULL : stdout;
	s->log.keep = keep;
	if (xs_open(s))
		return 2;
	xl_design(s);
	return 0;
}

/* Close a session and free its history and log. */
static void session_close(struct xs *s)
{
	xs_close(s);
	for (size_t i = 0; i < s->nhist; i++)
		xfree(s->hist[i]);
	xfree(s->hist);
	xfree(s->hist_cycles);
	xfree(s->last_locks);
	xl_free(s);
}

/* Run the commands of `in` (a script or a pipe), saying which failed on stderr. */
static void run_input(struct xs *s, FILE *in, const char *script)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	while (getline(&line, &cap, in) > 0) {
		lineno++;
		const char *p = line + strspn(line, " \t");
		if (!strncmp(p, "quit", 4) || !strncmp(p, "exit", 4))
			break;
		uint64_t before = s->errors;
		xs_exec(s, line);
		if (s->errors != before && script)
			fprintf(stderr, "%s:%lu: the command above failed\n", script, lineno);
	}
	free(line);
	xl_finish(s);
}

/* The interactive prompt, until quit or end of input. */
static void run_prompt(struct xs *s)
{
	printf("mmsim teaching mode: design %s, %u cores, machine %s. Type 'help' for the commands.\n", s->so.design,
	       s->o.cores, s->o.machine_name);
	using_history();
	char *line;
	while ((line = readline("mmsim> "))) {
		const char *p = line + strspn(line, " \t");
		if (!strcmp(p, "quit") || !strcmp(p, "exit")) {
			free(line);
			break;
		}
		if (*p)
			add_history(line);
		xs_exec(s, line);
		fflush(stdout);
		free(line);
	}
	xl_finish(s);
}

/* The whole of a script (NULL or "-": standard input), or NULL with the reason said. */
static char *slurp(const char *cmd, const char *path)
{
	bool std = !path || !strcmp(path, "-");
	struct stat st;
	if (!std && !stat(path, &st) && S_ISDIR(st.st_mode)) {
		cli_fail(cmd, "%s: is a directory, not a script", path);
		return NULL;
	}
	FILE *f = std ? stdin : fopen(path, "r");
	if (!f) {
		cli_fail(cmd, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	struct jb b = { 0 };
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf) - 1, f)) > 0) {
		buf[n] = 0;
		jb_raw(&b, buf);
	}
	bool bad = ferror(f);
	if (!std)
		fclose(f);
	if (bad) {
		jb_free(&b);
		cli_fail(cmd, "cannot read '%s': %s", path ? path : "standard input", strerror(errno));
		return NULL;
	}
	return jb_take(&b);
}

/* Run script `text` on every design of e; fill p's machine and runs (the caller frees them). Returns the errors. */
static int run_designs(const struct xs *base, const struct eopts *e, const char *text, const char *name,
		       struct xh_page *p, uint64_t *errors)
{
	*errors = 0;
	p->nruns = 0;
	p->machine = NULL;
	for (int k = 0; k < e->ndesigns; k++) {
		struct xs s;
		if (session_open(&s, base, e->designs[k], true))
			return 2;
		FILE *in = fmemopen((void *)text, strlen(text), "r");
		if (!in && *text)
			panic("explain: fmemopen: %s", strerror(errno));
		if (in) {
			run_input(&s, in, name);
			fclose(in);
		}
		struct jb b = { 0 };
		if (!k) {
			xl_machine_json(&s, &b);
			p->machine = jb_take(&b);
		}
		xl_run_json(&s, &b);
		p->runs[p->nruns++] = jb_take(&b);
		*errors += s.errors;
		session_close(&s);
	}
	return 0;
}

/* Free what run_designs filled in p. */
static void page_free(struct xh_page *p)
{
	xfree((char *)p->machine);
	for (int k = 0; k < p->nruns; k++)
		xfree((char *)p->runs[k]);
}

/* The page's title: the script's first comment line, else its name. */
static void title_of(const char *text, const char *name, char *buf, size_t n)
{
	xh_lesson_title(text, buf, n);
	if (!buf[0])
		snprintf(buf, n, "mmsim explain%s%s", name ? ": " : "", name ? name : "");
}

/* --html OUT and --log OUT: one script, one or two designs. */
static int pages(const char *cmd, const struct xs *base, const struct eopts *e, const char *script)
{
	char *text = slurp(cmd, script);
	if (!text)
		return 1;
	const char *name = script && strcmp(script, "-") ? script : NULL;
	char title[512], err[4400];
	title_of(text, name, title, sizeof(title));
	struct xh_page p = { .title = title };
	uint64_t errors;
	int rc = run_designs(base, e, text, name, &p, &errors);
	if (!rc && e->html && xh_write_page(e->html, &p, err, sizeof(err)))
		rc = cli_fail(cmd, "%s", err);
	if (!rc && e->log && xh_write_log(e->log, &p, err, sizeof(err)))
		rc = cli_fail(cmd, "%s", err);
	page_free(&p);
	xfree(text);
	return rc ? rc : errors ? 1 : 0;
}

/* --html-site DIR [SCRIPT...]: a page per lesson and an index. */
static int site(const char *cmd, const struct xs *base, const struct eopts *e, char **scripts, int nscripts)
{
	char err[4400];
	if (xh_site_dir(e->site, err, sizeof(err)))
		return cli_error(cmd, "--html-site: %s", err);
	size_t n = 0;
	if (!nscripts)
		while (mmsim_lessons[n].name)
			n++;
	else
		n = (size_t)nscripts;
	struct xh_entry *ent = xzalloc(sizeof(*ent) * (n ? n : 1));
	char (*titles)[512] = xzalloc(sizeof(*titles) * (n ? n : 1)), (*sums)[1024] = xzalloc(sizeof(*sums) * (n ? n : 1)),
	     (*files)[300] = xzalloc(sizeof(*files) * (n ? n : 1));
	int rc = 0;
	uint64_t errors = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char *text = nscripts ? slurp(cmd, scripts[i]) : xstrdup(mmsim_lessons[i].text);
		if (!text) {
			rc = 1;
			break;
		}
		const char *name = nscripts ? scripts[i] : mmsim_lessons[i].name;
		const char *base_name = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		snprintf(files[i], sizeof(files[i]), "%.*s.html", (int)strcspn(base_name, "."), base_name);
		title_of(text, base_name, titles[i], sizeof(titles[i]));
		xh_lesson_summary(text, sums[i], sizeof(sums[i]));
		ent[i] = (struct xh_entry){ files[i], titles[i], sums[i] };
		struct xh_page p = { .title = titles[i] };
		uint64_t errs;
		rc = run_designs(base, e, text, name, &p, &errs);
		errors += errs;
		char path[4400];
		snprintf(path, sizeof(path), "%s/%s", e->site, files[i]);
		if (!rc && xh_write_page(path, &p, err, sizeof(err)))
			rc = cli_fail(cmd, "%s", err);
		page_free(&p);
		xfree(text);
	}
	char how[256];
	snprintf(how, sizeof(how), "mmsim explain --html-site DIR%s%s%s%s", e->ndesigns > 1 ? " --design " : "",
		 e->ndesigns > 1 ? e->designs[0] : "", e->ndesigns > 1 ? "," : "", e->ndesigns > 1 ? e->designs[1] : "");
	if (!rc && xh_write_index(e->site, ent, n, how, err, sizeof(err)))
		rc = cli_fail(cmd, "%s", err);
	xfree(ent);
	xfree(titles);
	xfree(sums);
	xfree(files);
	return rc ? rc : errors ? 1 : 0;
}

static int cmd_explain(int argc, char **argv)
{
	const char *cmd = "explain";
	static const struct option opts[] = { { "html", required_argument, 0, OPT_HTML },
					      { "html-site", required_argument, 0, OPT_SITE },
					      { "log", required_argument, 0, OPT_LOG },
					      { 0, 0, 0, 0 } };
	struct xs base;
	memset(&base, 0, sizeof(base));
	cli_common_defaults(&base.o);
	base.o.cores = 4;
	sys_defaults(&base.so);
	base.so.frames = 262144;
	struct eopts e = { .ndesigns = 1, .so = &base.so };
	snprintf(e.designs[0], sizeof(e.designs[0]), "%s", base.so.design);
	struct cli_args ca = { .cmd = cmd, .help = help_text, .opts = opts, .opt = explain_opt, .ctx = &e,
			       .common = &base.o, .sys = &base.so, .max_args = 1 << 20, .args_name = "one SCRIPT" };
	int rc = cli_parse(&ca, argc, argv);
	if (rc >= 0)
		return rc;
	int nargs = argc - optind;
	if (e.ndesigns > 1) {
		char *names[2] = { e.designs[0], e.designs[1] };
		if (!vm_design_find(names[1]))
			return cli_error(cmd, "--design: no design '%s' (try 'mmsim designs')", names[1]);
		if (!e.html && !e.site && !e.log)
			return cli_error(cmd, "--design %s,%s: two designs side by side need --html, --html-site or --log",
					 names[0], names[1]);
		if (sys_check_dopts(&base.so, names, 2, cmd))
			return 2;
	}
	if (e.site && (e.html || e.log))
		return cli_error(cmd, "--html-site writes its own pages: give it without --html and --log");
	if (e.site)
		return site(cmd, &base, &e, argv + optind, nargs);
	if (nargs > 1)
		return cli_error(cmd, "expected at most one SCRIPT, got %d arguments ('%s' is one too many)", nargs,
				 argv[optind + 1]);
	const char *script = nargs ? argv[optind] : NULL;
	if (e.html || e.log)
		return pages(cmd, &base, &e, script);

	FILE *in = stdin;
	struct stat st;
	if (script && strcmp(script, "-") && !stat(script, &st) && S_ISDIR(st.st_mode))
		return cli_fail(cmd, "%s: is a directory, not a script", script);
	if (script && strcmp(script, "-") && !(in = fopen(script, "r")))
		return cli_fail(cmd, "cannot read '%s': %s", script, strerror(errno));
	struct xs s;
	if (session_open(&s, &base, base.so.design, false)) {
		if (in != stdin)
			fclose(in);
		return 2;
	}
	s.interactive = !script && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (s.interactive)
		run_prompt(&s);
	else
		run_input(&s, in, script);
	if (in != stdin)
		fclose(in);
	uint64_t errors = s.errors;
	bool interactive = s.interactive;
	session_close(&s);
	return !interactive && errors ? 1 : 0;
}

const struct cli_cmd cli_cmd_explain = { "explain", "teaching mode: drive the machine by hand, every step explained",
					 cmd_explain };
