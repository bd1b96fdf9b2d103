/* conform_design.c: ground-truth replay against a design running on one simulated core. */
#include "sim/cli/cli.h"
#include "vm/gt.h"

int cli_conform_design(const struct gt *g, const char *design, struct cli_common *o, struct gt_report *rep,
		       char *err, size_t errlen)
{
	(void)g, (void)o, (void)rep;
	snprintf(err, errlen, "no design '%s' (designs are not built yet)", design);
	return -1;
}
