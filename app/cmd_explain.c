/* cmd_explain.c: `mmsim explain`: teaching mode's prompt (libedit line editing and history) or script runner. */
#include "app/explain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

static int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, SYS_OPTS, { 0, 0, 0, 0 } };
	const char *cmd = "explain";
	struct xs s;
	memset(&s, 0, sizeof(s));
	cli_common_defaults(&s.o);
	s.o.cores = 4;
	sys_defaults(&s.so);
	s.so.frames = 262144;
	int opt, r;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", sys_getopt_table(opts), NULL)) != -1) {
		if (opt == 'h') {
			fputs(help_text, stdout);
			return 0;
		}
		if (opt == 'm' || opt == 'q' || opt == 'L')
			return cli_error(cmd, "teaching mode always runs in deterministic mode");
		if ((r = cli_common_opt(&s.o, cmd, opt, optarg)) > 0 || (r == 0 && (r = sys_opt(&s.so, cmd, opt, optarg)) > 0))
			continue;
		if (r < 0)
			return 2;
		return cli_bad_option(cmd);
	}
	if (argc - optind > 1)
		return cli_error(cmd, "give at most one script (got '%s' and '%s')", argv[optind], argv[optind + 1]);
	if (cli_common_finish(&s.o, cmd) || sys_check(&s.so, cmd))
		return 2;
	FILE *in = stdin;
	const char *script = optind < argc ? argv[optind] : NULL;
	if (script && strcmp(script, "-") && !(in = fopen(script, "r")))
		return cli_error(cmd, "cannot read '%s': %s", script, strerror(errno));
	s.out = stdout;
	s.interactive = !script && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (xs_open(&s))
		return 2;
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
	}
	uint64_t errors = s.errors;
	xs_close(&s);
	for (size_t i = 0; i < s.nhist; i++)
		xfree(s.hist[i]);
	xfree(s.hist);
	xfree(s.hist_cycles);
	xfree(s.last_locks);
	return !s.interactive && errors ? 1 : 0;
}

const struct cli_cmd cli_cmd_explain = { "explain", "teaching mode: drive the machine by hand, every step explained",
					 cmd_explain };
