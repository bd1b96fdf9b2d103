/* cmd_explain.c: `mmsim explain`: teaching mode's prompt (libedit line editing and history) or script runner. */
#include "app/args.h"
#include "app/explain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

static const char *help_text =
	"usage: mmsim explain [--design NAME] [--cores N] [--machine PRESET] [OPTIONS] [SCRIPT]\n\n"
	"Teaching mode: drive a simulated multicore machine by hand and see every step: how a\n"
	"virtual address is split and walked, which TLB level hit, which fault path ran, which\n"
	"locks an mm call took and how long it waited, which PTEs and metadata changed, and which\n"
	"cores a shootdown interrupted and what it cost. Type 'help' at the prompt for the\n"
	"commands. With a SCRIPT (or input that is not a terminal) the commands are read from it\n"
	"and echoed with their explanations, as in the lessons of lessons/; the exit status is 1\n"
	"if any command failed.\n\n"
	"  --design NAME     address-space design (default linux; 'mmsim designs' lists them)\n"
	"  --cores N         simulated cores (default 4)\n"
	"  --machine NAME    machine preset or description file (default " MACHINE_DEFAULT ")\n"
	"  --OPTION[=VALUE]  one of the design's own options, such as --thp or --lazy-flush\n"
	"                    ('mmsim designs' lists each design's)\n"
	"  --la57            5-level page tables\n"
	"  --frames N        simulated physical memory in 4 KiB frames (default 262144 = 1 GiB)\n"
	"  --help            this text\n";

/* explain_opt: teaching mode refuses the scheduling options (cli_args.opt). */
static int explain_opt(void *ctx, int opt, const char *arg)
{
	(void)ctx, (void)arg;
	if (opt == 'm' || opt == 'q' || opt == 'L')
		return cli_error("explain", "teaching mode always runs in deterministic mode");
	return CLI_NOT_MINE;
}

static int cmd_explain(int argc, char **argv)
{
	const char *cmd = "explain";
	struct xs s;
	memset(&s, 0, sizeof(s));
	cli_common_defaults(&s.o);
	s.o.cores = 4;
	sys_defaults(&s.so);
	s.so.frames = 262144;
	struct cli_args ca = { .cmd = cmd, .help = help_text, .opt = explain_opt, .common = &s.o, .sys = &s.so,
			       .max_args = 1, .args_name = "one SCRIPT" };
	int rc = cli_parse(&ca, argc, argv);
	if (rc >= 0)
		return rc;
	FILE *in = stdin;
	const char *script = optind < argc ? argv[optind] : NULL;
	struct stat st;
	if (script && strcmp(script, "-") && !stat(script, &st) && S_ISDIR(st.st_mode))
		return cli_fail(cmd, "%s: is a directory, not a script", script);
	if (script && strcmp(script, "-") && !(in = fopen(script, "r")))
		return cli_fail(cmd, "cannot read '%s': %s", script, strerror(errno));
	s.log.term = stdout;
	s.interactive = !script && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (xs_open(&s))
		return 2;
	xl_design(&s);
	if (s.interactive) {
		printf("mmsim teaching mode: design %s, %u cores, machine %s. Type 'help' for the commands.\n", s.so.design,
		       s.o.cores, s.o.machine_name);
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
			xs_exec(&s, line);
			fflush(stdout);
			free(line);
		}
		xl_finish(&s);
	} else {
		char *line = NULL;
		size_t cap = 0;
		unsigned long lineno = 0;
		while (getline(&line, &cap, in) > 0) {
			lineno++;
			const char *p = line + strspn(line, " \t");
			if (!strncmp(p, "quit", 4) || !strncmp(p, "exit", 4))
				break;
			uint64_t before = s.errors;
			xs_exec(&s, line);
			if (s.errors != before && script)
				fprintf(stderr, "%s:%lu: the command above failed\n", script, lineno);
		}
		free(line);
		if (in != stdin)
			fclose(in);
		xl_finish(&s);
	}
	uint64_t errors = s.errors;
	xs_close(&s);
	for (size_t i = 0; i < s.nhist; i++)
		xfree(s.hist[i]);
	xfree(s.hist);
	xfree(s.hist_cycles);
	xfree(s.last_locks);
	xl_free(&s);
	return !s.interactive && errors ? 1 : 0;
}

const struct cli_cmd cli_cmd_explain = { "explain", "teaching mode: drive the machine by hand, every step explained",
					 cmd_explain };
