/* registry.c: the list of workloads, by name, and the checks and descriptions of their parameters. */
#include "workloads/wl.h"

#include <stdio.h>
#include <string.h>

extern const struct wl_def wl_paper_mmap, wl_paper_mmap_pf, wl_paper_pf, wl_paper_munmap_virt, wl_paper_munmap;
extern const struct wl_def wl_wis_page_fault1, wl_wis_page_fault2, wl_wis_page_fault3, wl_wis_mmap1, wl_wis_mmap2,
	wl_wis_malloc1, wl_wis_brk1, wl_wis_tlb_flush2;
extern const struct wl_def wl_app_jit, wl_app_alloc, wl_app_jvm_threads, wl_app_metis, wl_app_dedup,
	wl_app_psearchy, wl_app_fork_cow, wl_app_apache, wl_app_leveldb;
extern const struct wl_def wl_ivm_mbench, wl_ivm_mfmbench, wl_ivm_f_mbench, wl_ivm_f_mfmbench;

static const struct wl_def *const all[] = {
	&wl_paper_mmap,	     &wl_paper_mmap_pf,	  &wl_paper_pf,		&wl_paper_munmap_virt,
	&wl_paper_munmap,    &wl_wis_page_fault1, &wl_wis_page_fault2,	&wl_wis_page_fault3,
	&wl_wis_mmap1,	     &wl_wis_mmap2,	  &wl_wis_malloc1,	&wl_wis_brk1,
	&wl_wis_tlb_flush2,  &wl_app_jit,	  &wl_app_alloc,	&wl_app_jvm_threads,
	&wl_app_metis,	     &wl_app_dedup,	  &wl_app_psearchy,	&wl_app_fork_cow,
	&wl_app_apache,      &wl_app_leveldb,
	&wl_ivm_mbench, &wl_ivm_mfmbench, &wl_ivm_f_mbench, &wl_ivm_f_mfmbench,
	NULL,
};

#define MAX_SIZE (1ull << 30)

const struct wl_def *const *wl_all(void) { return all; }

const struct wl_def *wl_find(const char *name)
{
	for (const struct wl_def *const *w = all; *w; w++)
		if (!strcmp((*w)->name, name))
			return *w;
	return NULL;
}

uint64_t wl_ops(const struct wl_def *w, const struct wl_params *p)
{
	return p->paper ? WL_PAPER_REQS : p->ops ? p->ops : w->default_ops;
}
uint64_t wl_size(const struct wl_def *w, const struct wl_params *p)
{
	return w->default_size ? vm_page_up(p->size ? p->size : w->default_size) : 0;
}

const char *wl_contention(const struct wl_def *w, const struct wl_params *p)
{
	if (!(w->flags & WL_CONTENTION))
		return "-";
	return p->high_contention ? "high" : "low";
}

int wl_check(const struct wl_def *w, const struct wl_params *p, char *buf, size_t n)
{
	buf[0] = 0;
	if (p->paper && !(w->flags & WL_PAPER))
		snprintf(buf, n, "--method paper: workload '%s' is not one of the paper's five (mmap, mmap-pf, pf, "
			 "munmap-virt, munmap)", w->name);
	else if (p->paper && p->ops)
		snprintf(buf, n, "--ops: the paper's method issues %d requests per thread (--reps repeats them)",
			 WL_PAPER_REQS);
	else if (p->paper && p->fixed)
		snprintf(buf, n, "--fixed: the paper's method maps with MAP_FIXED at high contention and without at "
			 "low, as its artifact does");
	else if (p->high_contention && !(w->flags & WL_CONTENTION))
		snprintf(buf, n, "--contention: workload '%s' has no contention levels", w->name);
	else if (p->fixed && !(w->flags & WL_FIXED))
		snprintf(buf, n, "--fixed: workload '%s' has no MAP_FIXED mode (only mmap has)", w->name);
	else if (p->processes && !(w->flags & WL_PROCESSES))
		snprintf(buf, n, "--processes: workload '%s' has no processes mode (its threads share one region)",
			 w->name);
	else if (p->size && !w->default_size)
		snprintf(buf, n, "--size: workload '%s' takes no size", w->name);
	else if (p->size && (p->size < PAGE_SIZE || p->size > MAX_SIZE))
		snprintf(buf, n, "--size: %llu bytes is out of range (expected 4K..1G)", (unsigned long long)p->size);
	else if (w->check) {
		struct wl_params q = *p;
		q.ops = wl_ops(w, p);
		q.size = wl_size(w, p);
		if (w->check(&q, buf, n))
			buf[0] = 0;
		else if (!buf[0])
			snprintf(buf, n, "workload '%s' cannot run with these options", w->name);
	}
	return buf[0] ? -1 : 0;
}

/* Bytes as the --size option takes them (K, M, G suffixes when exact). */
static void bytes_str(uint64_t b, char *buf, size_t n)
{
	static const char sfx[] = "GMK";
	for (int i = 0; i < 3; i++) {
		uint64_t unit = 1ull << (10 * (3 - i));
		if (b >= unit && b % unit == 0) {
			snprintf(buf, n, "%llu%c", (unsigned long long)(b / unit), sfx[i]);
			return;
		}
	}
	snprintf(buf, n, "%llu", (unsigned long long)b);
}

void wl_describe(const struct wl_def *w, char *buf, size_t n)
{
	char size[48] = "";
	if (w->default_size) {
		char b[24];
		bytes_str(w->default_size, b, sizeof(b));
		snprintf(size, sizeof(size), ", --size %s", b);
	}
	snprintf(buf, n, "--ops %llu%s%s%s%s%s", (unsigned long long)w->default_ops, size,
		 (w->flags & WL_PROCESSES) ? ", --processes" : "", (w->flags & WL_CONTENTION) ? ", --contention" : "",
		 (w->flags & WL_FIXED) ? ", --fixed" : "", (w->flags & WL_PAPER) ? ", --method paper" : "");
}
