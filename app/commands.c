/* commands.c: the table of mmsim subcommands, in the order --help lists them. */
#include "app/cli.h"

extern const struct cli_cmd cli_cmd_run, cli_cmd_designs, cli_cmd_workloads, cli_cmd_conform, cli_cmd_machine, cli_cmd_calibrate,
	cli_cmd_bench_lines, cli_cmd_bench_rwsem;
extern const struct cli_cmd cli_cmd_import, cli_cmd_record, cli_cmd_replay, cli_cmd_trace_dump, cli_cmd_trace_compile;
extern const struct cli_cmd cli_cmd_sweep, cli_cmd_merge, cli_cmd_plot, cli_cmd_explain, cli_cmd_timeline;

const struct cli_cmd *const cli_cmds[] = {
	&cli_cmd_run,	  &cli_cmd_sweep,	&cli_cmd_merge,	      &cli_cmd_plot,
	&cli_cmd_explain, &cli_cmd_timeline, &cli_cmd_conform, &cli_cmd_designs,	&cli_cmd_workloads,
	&cli_cmd_machine, &cli_cmd_calibrate, &cli_cmd_bench_lines, &cli_cmd_bench_rwsem,
	&cli_cmd_replay,  &cli_cmd_import,	&cli_cmd_record,      &cli_cmd_trace_dump,
	&cli_cmd_trace_compile, NULL,
};
