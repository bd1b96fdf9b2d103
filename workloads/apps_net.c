/* apps_net.c: server workloads: a static-file web server (Apache httpd's mmap path). */
#include "workloads/wl.h"

/*
 * apache: Apache httpd 2.4, event MPM, one process with a worker thread per
 * core, serving one 64 KiB file with EnableMMAP on (its default), as the
 * interval-skiplist paper's benchmark runs it (kaist-cp/interval-vm,
 * apache/: httpd-mpm-single-process.conf, index_64KB.html, wrk).
 * Recorded on this project's host with `mmsim record` (apache2 2.4.71,
 * Debian, 4 worker threads under wrk over loopback: 39,292 mmaps and
 * 39,086 munmaps in 4 s), every request is mmap(NULL, 64 KiB, PROT_READ,
 * MAP_SHARED) of the file and, once the response is written, munmap; the
 * kernel reads the mapping while it copies the response into the socket
 * (faults taken in kernel mode, which the recipe does not record: here, a
 * read of each page). The rest of a request's work (the socket, parsing,
 * logging) is APACHE_WORK_NS of compute before it.
 */
#define APACHE_FILE_PAGES 16
/*
 * apache's CPU time per request, measured on the same host: 104-106 us in 3
 * runs of `wrk -t1 -c1 -d3s` against one worker thread pinned to its own
 * CPU (utime + stime of the server from /proc / requests served), less about
 * 5 us that its mmap, fault and munmap took there.
 */
#define APACHE_WORK_NS 100000
#define APACHE_OPS 64
#define DOC_FILE 1  /* the document: one file every thread maps (below gen_file's ids, which start at 1 << 20) */
#define DOC_REGION 0

/* apache_setup: the document is in the page cache before the first request (thread 0 reads it once). */
static void apache_setup(struct gen *g)
{
	if (g->i != 0)
		return;
	uint32_t r = gen_region(g, DOC_REGION);
	gen_push(g, ev_mmap_file(r, APACHE_FILE_PAGES * PAGE_SIZE, VM_PROT_READ, VM_MAP_SHARED, DOC_FILE, 0));
	gen_sweep(g, ev_access(r, 0, ACC_R), APACHE_FILE_PAGES, PAGE_SIZE);
	gen_push(g, ev_munmap(r, 0, APACHE_FILE_PAGES * PAGE_SIZE));
}

/* One request per call: the work, then map, read and unmap the document. */
static bool apache_step(struct gen *g, struct ev *e)
{
	(void)e;
	if (gen_begin(g, apache_setup))
		return true;
	if (g->k == gen_ops(g))
		return false;
	uint32_t r = gen_region(g, DOC_REGION);
	gen_push(g, ev_compute_ns(APACHE_WORK_NS));
	gen_push(g, ev_mmap_file(r, APACHE_FILE_PAGES * PAGE_SIZE, VM_PROT_READ, VM_MAP_SHARED, DOC_FILE, 0));
	gen_sweep(g, ev_access(r, 0, ACC_R), APACHE_FILE_PAGES, PAGE_SIZE);
	gen_push(g, ev_op(ev_munmap(r, 0, APACHE_FILE_PAGES * PAGE_SIZE)));
	g->k++;
	return true;
}

const struct wl_def wl_app_apache = {
	.name = "apache",
	.summary = "Apache httpd serving a 64 KiB file with EnableMMAP: per request mmap, read, munmap",
	.help = "Imitates Apache httpd 2.4 (event MPM, one process, a worker thread per core) serving one\n"
		"64 KiB file, as the interval-skiplist paper's Apache benchmark does: every request maps\n"
		"the file read-only and shared (EnableMMAP, the default), the kernel reads its 16 pages\n"
		"into the socket, and it is unmapped (this pattern was recorded from apache2 2.4.71 with\n"
		"'mmsim record'). Before each, 100 us of the request's other work (measured: apache's CPU\n"
		"time per request on one core). An op is one request. --ops: requests per thread\n"
		"(default 64).\n",
	.default_ops = APACHE_OPS,
	.step = apache_step,
};
