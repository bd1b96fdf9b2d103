/* main.c: the mmsim command: dispatch to subcommands, top-level help and version. */
#include "app/cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: mmsim COMMAND [OPTIONS]\n\n"
		   "A simulator of a multicore x86-64 MMU with pluggable address-space designs.\n\n"
		   "Commands:\n");
	for (const struct cli_cmd *const *c = cli_cmds; *c; c++)
		fprintf(f, "  %-14s %s\n", (*c)->name, (*c)->summary);
	fprintf(f, "\n'mmsim COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			for (const struct cli_cmd *const *c = cli_cmds; *c; c++)
				if (!strcmp((*c)->name, argv[2])) {
					char *av[] = { argv[2], "--help", NULL };
					return (*c)->run(2, av);
				}
			fprintf(stderr, "mmsim: no command '%s'\n", argv[2]);
			return 2;
		}
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("mmsim %s\n", mmsim_build_id);
		return 0;
	}
	for (const struct cli_cmd *const *c = cli_cmds; *c; c++)
		if (!strcmp((*c)->name, name)) {
			char prog[64];
			snprintf(prog, sizeof(prog), "mmsim %s", (*c)->name);
			argv[1] = prog;
			return (*c)->run(argc - 1, argv + 1);
		}
	fprintf(stderr, "mmsim: no command '%s' (try 'mmsim --help')\n", name);
	return 2;
}
