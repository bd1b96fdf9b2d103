/* harness.c: the round-number test machine and the Check runner shared by every test binary. */
#include "tests/harness.h"
#include "vm/vm.h"

#include <stdio.h>
#include <stdlib.h>

const char *test_machine_text =
	"name = \"test\"\n"
	"description = \"round numbers for hand-computed tests\"\n"
	"freq_ghz = 1\n"
	"topo.cores_per_ccx = 4\n"
	"topo.ccx_per_socket = 2\n"
	"topo.sockets = 8\n"
	"coh.hit = 1 cyc\n"
	"coh.atomic = 10 cyc\n"
	"coh.mem = 100 cyc\n"
	"coh.xfer_ccx = 20 cyc\n"
	"coh.xfer_socket = 50 cyc\n"
	"coh.xfer_remote = 100 cyc\n"
	"coh.inval_sharer = 5 cyc\n"
	"tlb.l1d.4k.entries = 8\n"
	"tlb.l1d.4k.ways = 2\n"
	"tlb.l1d.2m.entries = 4\n"
	"tlb.l1d.2m.ways = 4\n"
	"tlb.l1d.1g.entries = 2\n"
	"tlb.l1d.1g.ways = 2\n"
	"tlb.l1i.4k.entries = 4\n"
	"tlb.l1i.4k.ways = 4\n"
	"tlb.l1i.2m.entries = 2\n"
	"tlb.l1i.2m.ways = 2\n"
	"tlb.l2.entries = 32\n"
	"tlb.l2.ways = 4\n"
	"tlb.l2.1g.entries = 4\n"
	"tlb.l2.1g.ways = 4\n"
	"tlb.l1.hit = 1 cyc\n"
	"tlb.l2.hit = 7 cyc\n"
	"psc.pml5.entries = 2\n"
	"psc.pml4.entries = 2\n"
	"psc.pdpt.entries = 2\n"
	"psc.pde.entries = 4\n"
	"walk.step = 3 cyc\n"
	/* no cache capacity model and no nested paging: round numbers stay round (t31_walk turns them on) */
	"cache.l1.kib = 0\n"
	"cache.l1.ways = 0\n"
	"cache.l2.kib = 0\n"
	"cache.l2.ways = 0\n"
	"cache.l2.hit = 12 cyc\n"
	"cache.l3.kib = 0\n"
	"cache.l3.ways = 0\n"
	"cache.l3.hit = 40 cyc\n"
	"npt = no\n"
	"npt.host_level = 1\n"
	"npt.tlb.entries = 0\n"
	"npt.psc.entries = 0\n"
	"tlb.pcid = yes\n"
	"tlb.invlpg = 100 cyc\n"
	"tlb.flush_pcid = 200 cyc\n"
	"tlb.flush_full = 300 cyc\n"
	"kern.syscall = 100 cyc\n"
	"kern.trap = 200 cyc\n"
	"kern.zero_page = 300 cyc\n"
	"kern.frame_alloc = 50 cyc\n"
	"kern.frame_free = 40 cyc\n"
	"kern.slab_alloc = 20 cyc\n"
	"kern.slab_free = 20 cyc\n"
	"kern.node_visit = 10 cyc\n"
	"kern.mt_node = 10 cyc\n"
	"kern.vma_call = 10 cyc\n"
	"kern.ctx_switch = 1000 cyc\n"
	"kern.wakeup = 2000 cyc\n"
	"kern.tick_hz = 1000\n"
	"ipi.send = 100 cyc\n"
	"ipi.send_extra = 50 cyc\n"
	"ipi.deliver = 500 cyc\n"
	"ipi.handler = 300 cyc\n"
	"ipi.ack = 100 cyc\n"
	"tlb.broadcast = invlpgb\n"
	"tlb.bcast_issue = 100 cyc\n"
	"tlb.bcast_pages = 8\n";

void test_machine(struct machine *m)
{
	char err[256];
	if (machine_load_text(m, test_machine_text, "test machine", err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
}

struct sim *test_sim(uint32_t ncores, enum sim_mode mode, const struct machine *m)
{
	struct sim_opts o = { .ncores = ncores, .mode = mode, .m = m };
	return sim_create(&o);
}

const struct vm_design *test_design(const char *name)
{
	const struct vm_design *d = vm_design_find(name);
	if (!d) {
		fprintf(stderr, "no design %s\n", name);
		exit(2);
	}
	return d;
}

int test_main(Suite *(*make_suite)(void))
{
	SRunner *sr = srunner_create(make_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
