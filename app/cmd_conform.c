/* cmd_conform.c: `mmsim conform`: replay kernel ground truth against the reference model or a design. */
#include "app/cli.h"
#include "conform/gt.h"

#include <stdio.h>
#include <string.h>

static int cmd_conform(int argc, char **argv)
{
	static const char *help =
		"usage: mmsim conform --design NAME FILE [--json] [--verbose]\n\n"
		"Replays recorded Linux ground truth (tests/data/linux-6.18-seed1.txt.zst: 9,000\n"
		"calls a real kernel executed) against a design, or against the reference model\n"
		"with --design reference, and compares after every call: the result or errno,\n"
		"the per-page protection and kind, residency, and (for designs with VMAs) the\n"
		"VMA boundaries. Exits 1 if any result, layout or residency differs.\n\n"
		"  --design NAME     a design (see 'mmsim designs'), or 'reference'\n"
		"  --verbose         describe the first mismatches\n" CLI_COMMON_HELP;
	static const struct option opts[] = { CLI_COMMON_OPTS,
					      { "design", required_argument, 0, 'd' },
					      { "verbose", no_argument, 0, 'v' },
					      { 0, 0, 0, 0 } };
	const char *cmd = "conform", *design = NULL;
	struct cli_common o;
	cli_common_defaults(&o);
	bool verbose = false;
	int opt, r;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((r = cli_common_opt(&o, cmd, opt, optarg)) > 0)
			continue;
		if (r < 0)
			return 2;
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			return 0;
		case 'd':
			design = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			return cli_bad_option(cmd);
		}
	}
	if (!design)
		return cli_error(cmd, "--design is required (a design name, or 'reference')");
	if (optind + 1 != argc)
		return cli_error(cmd, "expected one ground-truth FILE");
	if (cli_common_finish(&o, cmd))
		return 2;
	struct gt g;
	char err[512];
	if (gt_load(&g, argv[optind], err, sizeof(err)))
		return cli_fail(cmd, "%s", err);
	if (!g.n) {
		gt_free(&g);
		return cli_fail(cmd, "%s: no sequence in it: not ground truth", argv[optind]);
	}
	struct gt_report rep;
	if (!strcmp(design, "reference")) {
		struct gt_target *t = gt_ref_target();
		gt_replay(&g, t, &rep);
		gt_ref_target_free(t);
	} else if (gt_replay_design(&g, design, &o.m, &rep, err, sizeof(err))) {
		gt_free(&g);
		return cli_error(cmd, "--design: %s", err);
	}
	struct em e;
	em_init(&e, stdout, o.json ? EM_JSON : EM_TABLE);
	em_begin(&e);
	em_str(&e, "design", design);
	em_str(&e, "file", argv[optind]);
	em_u64(&e, "sequences", rep.sequences);
	em_u64(&e, "calls", rep.calls);
	em_u64(&e, "result_mismatches", rep.result_mismatches);
	em_u64(&e, "layout_mismatches", rep.layout_mismatches);
	em_u64(&e, "resident_mismatches", rep.resident_mismatches);
	em_u64(&e, "vma_boundary_mismatches", rep.vma_boundary_mismatches);
	if (strcmp(design, "reference")) {
		em_u64(&e, "tlb_coherence_violations", rep.tlb_violations);
		em_i64(&e, "leaked_frames", rep.leaked_frames);
	}
	em_end(&e);
	if (verbose || (!o.json && (rep.result_mismatches || rep.layout_mismatches || rep.resident_mismatches)))
		for (uint32_t i = 0; i < rep.nmsgs; i++)
			fprintf(stderr, "%s\n", rep.msgs[i]);
	gt_free(&g);
	return rep.result_mismatches || rep.layout_mismatches || rep.resident_mismatches || rep.tlb_violations ||
			       rep.leaked_frames
		       ? 1
		       : 0;
}

const struct cli_cmd cli_cmd_conform = { "conform", "replay recorded Linux ground truth against a design", cmd_conform };
