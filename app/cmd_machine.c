/* cmd_machine.c: `mmsim machine list|show|check`: the machine presets and user machine files. */
#include "app/cli.h"

#include <stdio.h>
#include <string.h>

static const char *help = "usage: mmsim machine list\n"
			  "       mmsim machine show NAME      print a preset (copy it to edit: > my.machine)\n"
			  "       mmsim machine check FILE     load a machine file and report the first error\n\n"
			  "A machine description sets topology, coherence costs, TLB geometry and kernel\n"
			  "path costs; docs/machine-format.md documents every key.\n";

static int cmd_machine(int argc, char **argv)
{
	const char *cmd = "machine";
	if (argc < 2)
		return cli_error(cmd, "expected list, show NAME or check FILE (try 'mmsim machine --help')");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(help, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "list")) {
		if (argc > 2)
			return cli_error(cmd, "list: unexpected argument '%s'", argv[2]);
		for (const char *const *n = machine_preset_names(); *n; n++) {
			struct machine m;
			char err[256];
			if (machine_load(&m, *n, err, sizeof(err)))
				printf("%-12s (broken: %s)\n", *n, err);
			else
				printf("%-12s %4u cores  %s\n", *n, machine_max_cores(&m), m.description);
		}
		return 0;
	}
	if (!strcmp(argv[1], "show")) {
		if (argc != 3)
			return cli_error(cmd, "show: expected one preset name");
		const char *t = machine_preset_text(argv[2]);
		if (!t)
			return cli_error(cmd, "show: no preset '%s' (try 'mmsim machine list')", argv[2]);
		fputs(t, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "check")) {
		if (argc != 3)
			return cli_error(cmd, "check: expected one file");
		struct machine m;
		char err[512];
		if (machine_load(&m, argv[2], err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s: ok (%s, %u cores, %.2f GHz)\n", argv[2], m.name, machine_max_cores(&m), m.freq_ghz);
		return 0;
	}
	return cli_error(cmd, "unknown subcommand '%s' (list, show or check)", argv[1]);
}

const struct cli_cmd cli_cmd_machine = { "machine", "list, show or check machine descriptions", cmd_machine };
