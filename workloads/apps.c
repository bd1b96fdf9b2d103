/* apps.c: application-shaped workloads: a JIT's W^X flips, a jemalloc-like allocator, JVM-like thread creation, fork with copy-on-write. */
#include "workloads/wl.h"

#include <stdio.h>

#define RX (VM_PROT_READ | VM_PROT_EXEC)

/* ---- jit ---- */

/*
 * Per thread one code area of --size bytes, mapped read-execute (V8 keeps
 * code in 256 KiB pages, one code space per isolate, i.e. per thread).
 * Each op installs one code object of 256 B..8 KiB (assumption: small
 * functions, sizes spread in powers of two) at the area's bump pointer:
 * mprotect the pages it spans RW, write them, mprotect them RX, run it (a
 * fetch per page) and call two earlier objects (fetches at random pages
 * written before). Before each install, 20 us of compilation (assumption:
 * a baseline compiler's time for a small function; not measured). When the
 * area is full it is unmapped and a fresh one mapped (a code-space GC
 * releasing an evacuated page).
 */
#define JIT_SIZE (256ull << 10)
#define JIT_OPS 256
#define JIT_COMPILE_NS 20000
#define JIT_CALLS 2

/* jit_setup: the code cache, mapped read-execute (region 0, --size bytes). */
static void jit_setup(struct gen *g) { gen_push(g, ev_mmap(gen_region(g, 0), 0, gen_size(g), RX, WL_ANON)); }

static bool jit_step(struct gen *g, struct ev *e)
{
	(void)e;
	uint64_t size = gen_size(g), len = 256ull << (gen_rand(g) % 6);
	uint32_t r = gen_region(g, 0);
	if (gen_begin(g, jit_setup)) /* after the draw above: the first call has always drawn one */
		return true;
	if (g->k == gen_ops(g))
		return false;
	if (g->u[0] + len > size) {
		gen_push(g, ev_munmap(r, 0, size));
		gen_push(g, ev_mmap(r, 0, size, RX, WL_ANON));
		g->u[0] = 0;
	}
	uint64_t first = g->u[0] / PAGE_SIZE, last = (g->u[0] + len - 1) / PAGE_SIZE, n = last - first + 1;
	g->u[0] += len;
	gen_push(g, ev_compute_ns(JIT_COMPILE_NS));
	gen_push(g, ev_mprotect(r, first * PAGE_SIZE, n * PAGE_SIZE, WL_RW));
	gen_sweep(g, ev_access(r, first * PAGE_SIZE, ACC_W), n, PAGE_SIZE);
	gen_push(g, ev_mprotect(r, first * PAGE_SIZE, n * PAGE_SIZE, RX));
	gen_sweep(g, ev_access(r, first * PAGE_SIZE, ACC_X), n, PAGE_SIZE);
	for (int c = 0; c < JIT_CALLS; c++) {
		struct ev x = ev_access(r, gen_rand(g) % (last + 1) * PAGE_SIZE, ACC_X);
		gen_push(g, c == JIT_CALLS - 1 ? ev_op(x) : x);
	}
	g->k++;
	return true;
}

/* ---- alloc ---- */

/*
 * A jemalloc/tcmalloc-like allocator, per thread (jemalloc gives threads
 * their own arenas up to 4 per CPU). Setup: the arena's extent, 2 MiB
 * aligned: map 4 MiB and unmap the excess (jemalloc's over-allocate and
 * trim; where the head part goes depends on the design's placement, which
 * a stream cannot know, so the tail is trimmed). Each op is one allocation
 * and its eventual free:
 * - small (63 in 64): 16 B..4 KiB (powers of two) at the extent's bump
 *   pointer, which wraps around the extent; every page it reaches is
 *   written. Objects die once 256 KiB of newer objects exist (assumption);
 *   their pages are dirty, and every 256 KiB of them is purged with
 *   madvise(MADV_DONTNEED) (jemalloc's decay purge), so a reused page
 *   faults again;
 * - large (1 in 64, assumption): 256 KiB (tcmalloc's large-object
 *   threshold) mapped directly, every page written, unmapped on free.
 * Between allocations, 100 ns of user work (assumption: allocation-heavy
 * programs make 10^6..10^7 allocations per second per thread).
 */
#define EXTENT_PAGES 512
#define LIVE_PAGES 64
#define PURGE_PAGES 64
#define LARGE_EVERY 64
#define LARGE_PAGES 64
#define ALLOC_GAP_NS 100
#define ALLOC_OPS 2048

/* alloc_setup: the arena's extent: map twice its size, trim the tail. */
static void alloc_setup(struct gen *g)
{
	uint32_t ext = gen_region(g, 0);
	gen_push(g, ev_mmap(ext, 0, 2 * EXTENT_PAGES * PAGE_SIZE, WL_RW, WL_ANON));
	gen_push(g, ev_munmap(ext, EXTENT_PAGES * PAGE_SIZE, EXTENT_PAGES * PAGE_SIZE));
}

/* u[0]: bytes allocated so far (small); u[1]: pages purged so far; u[2]: pages written so far. */
static bool alloc_step(struct gen *g, struct ev *e)
{
	(void)e;
	uint32_t ext = gen_region(g, 0), big = gen_region(g, 1);
	if (gen_begin(g, alloc_setup))
		return true;
	if (g->k == gen_ops(g))
		return false;
	if (g->k++ % LARGE_EVERY == LARGE_EVERY - 1) {
		gen_push(g, ev_mmap(big, 0, LARGE_PAGES * PAGE_SIZE, WL_RW, WL_ANON));
		gen_sweep(g, ev_access(big, 0, ACC_W), LARGE_PAGES, PAGE_SIZE);
		gen_push(g, ev_op(ev_compute_ns(ALLOC_GAP_NS)));
		gen_push(g, ev_munmap(big, 0, LARGE_PAGES * PAGE_SIZE));
		return true;
	}
	uint64_t size = 16ull << (gen_rand(g) % 9);
	g->u[0] += size;
	gen_push(g, ev_op(ev_compute_ns(ALLOC_GAP_NS)));
	for (uint64_t end = (g->u[0] + PAGE_SIZE - 1) / PAGE_SIZE; g->u[2] < end; g->u[2]++)
		gen_push(g, ev_access(ext, g->u[2] % EXTENT_PAGES * PAGE_SIZE, ACC_W));
	if (g->u[2] >= g->u[1] + LIVE_PAGES + PURGE_PAGES) {
		gen_push(g, ev_madvise(ext, g->u[1] % EXTENT_PAGES * PAGE_SIZE, PURGE_PAGES * PAGE_SIZE,
				       VM_MADV_DONTNEED));
		g->u[1] += PURGE_PAGES;
	}
	return true;
}

/* ---- jvm-threads ---- */

/*
 * Thread creation as a JVM does it through glibc: the creator maps the new
 * thread's stack (1 MiB, HotSpot's default ThreadStackSize on x86-64, plus
 * glibc's one-page guard), mprotects the guard PROT_NONE (glibc's
 * allocate_stack), writes the thread descriptor at the top of the stack,
 * and clones. The thread writes 4 more stack pages (assumption: its frames
 * and TLS), runs 50 us (assumption: a short task), and exits; HotSpot's
 * threads are detached, so the exiting thread itself hands a stack back,
 * here with munmap (as with glibc's stack cache full or off). Each initial
 * thread runs a chain: every thread starts its successor when its work is
 * done, so one thread per chain lives at a time, as in a loop of
 * start-and-join.
 */
#define STACK_PAGES 256
#define GUARD_PAGES 1
#define STACK_TOUCH 4
#define THREAD_RUN_NS 50000
#define JVM_OPS 32

/* Queue the creation of thread n of g's chain: its stack, guard, descriptor, clone. */
static void jvm_create(struct gen *g, uint64_t n)
{
	uint32_t r = gen_region(g, n);
	uint64_t len = (STACK_PAGES + GUARD_PAGES) * PAGE_SIZE;
	gen_push(g, ev_mmap(r, 0, len, WL_RW, WL_ANON | VM_MAP_STACK));
	gen_push(g, ev_mprotect(r, 0, GUARD_PAGES * PAGE_SIZE, VM_PROT_NONE));
	gen_push(g, ev_access(r, len - PAGE_SIZE, ACC_W));
	gen_push(g, ev_thread(gen_child_tid(g, n)));
}

static bool jvm_step(struct gen *g, struct ev *e)
{
	(void)e;
	if (g->phase++ > 0)
		return false;
	if (g->child == 0) { /* an initial thread: start the chain */
		gen_start(g);
		jvm_create(g, 1);
		return true;
	}
	uint32_t r = gen_region(g, g->child);
	uint64_t len = (STACK_PAGES + GUARD_PAGES) * PAGE_SIZE;
	gen_sweep(g, ev_access(r, len - 2 * PAGE_SIZE, ACC_W), STACK_TOUCH, -PAGE_SIZE);
	gen_push(g, ev_compute_ns(THREAD_RUN_NS));
	if (g->child < gen_ops(g))
		jvm_create(g, g->child + 1);
	gen_push(g, ev_op(ev_munmap(r, 0, len)));
	return true;
}

/* ---- fork-cow ---- */

/*
 * A process with touched memory forks, and the child writes part of it:
 * every thread writes --size bytes of its own anonymous memory, then forks
 * in a loop, working 100 us between forks (assumption: a server's parent
 * handling requests). Each child writes one page in 8 of its parent
 * thread's memory (assumption: a child that changes some state; each write
 * is a copy-on-write fault) and exits. A forked process keeps its address
 * space until the run ends (the executor does not tear down exited
 * processes), so the parent's pages stay shared with every child.
 */
#define FORK_SIZE (256ull << 10)
#define FORK_OPS 16
#define FORK_GAP_NS 100000
#define COW_EVERY 8

/* fork_setup: the parent's memory (--size), every page written. */
static void fork_setup(struct gen *g)
{
	uint64_t pages = gen_size(g) / PAGE_SIZE;
	uint32_t r = gen_region(g, 0);
	gen_push(g, ev_mmap(r, 0, pages * PAGE_SIZE, WL_RW, WL_ANON));
	gen_sweep(g, ev_access(r, 0, ACC_W), pages, PAGE_SIZE);
}

static bool fork_step(struct gen *g, struct ev *e)
{
	(void)e;
	uint64_t pages = gen_size(g) / PAGE_SIZE;
	uint32_t r = gen_region(g, 0);
	if (g->child) { /* the child: its copy-on-write writes, then exit */
		if (g->k * COW_EVERY >= pages)
			return false;
		uint64_t page = g->k++ * COW_EVERY + gen_rand(g) % COW_EVERY;
		gen_push(g, ev_access(r, MIN(page, pages - 1) * PAGE_SIZE, ACC_W));
		return true;
	}
	if (gen_begin(g, fork_setup))
		return true;
	if (g->k == gen_ops(g))
		return false;
	uint32_t child = gen_child_tid(g, ++g->k);
	gen_push(g, ev_op(ev_fork(child, child)));
	gen_push(g, ev_compute_ns(FORK_GAP_NS));
	return true;
}

/* Every fork makes a process, and the executor keeps them all. */
static bool fork_check(const struct wl_params *p, char *buf, size_t n)
{
	uint64_t procs = (p->processes ? p->threads : 1) + (uint64_t)p->threads * p->ops;
	if (procs <= EX_MAX_PROCS)
		return true;
	snprintf(buf, n, "fork-cow: %u threads x %llu forks make %llu processes, more than the %d a run can hold (lower --ops)",
		 p->threads, (unsigned long long)p->ops, (unsigned long long)procs, EX_MAX_PROCS);
	return false;
}

#define PROCS_HELP "--processes: every thread in its own process (else all threads share one).\n"

const struct wl_def wl_app_jit = {
	.name = "jit",
	.summary = "a JIT's W^X flips: mprotect code pages RW, write, mprotect RX, execute",
	.help = "Imitates a JIT with W^X code (V8, HotSpot): every thread has a code area of --size bytes\n"
		"(default 256 KiB, V8's code page) mapped read-execute. An op is one install of a code\n"
		"object of 256 B to 8 KiB: mprotect its pages read-write, write them, mprotect them\n"
		"read-execute, execute them and two earlier objects. Each flip of a page that has run\n"
		"takes execute or write permission away, so it needs a TLB flush on every core running\n"
		"the process. When the area is full it is unmapped and mapped afresh (code-space GC).\n"
		"Compute: 20 us of compilation before each install (an assumption, not measured).\n"
		"--ops: installs per thread (default 256).\n" PROCS_HELP,
	.default_ops = JIT_OPS,
	.default_size = JIT_SIZE,
	.flags = WL_PROCESSES,
	.step = jit_step,
};

const struct wl_def wl_app_alloc = {
	.name = "alloc",
	.summary = "a jemalloc/tcmalloc-like allocator: arenas, page-touching allocations, purges, large blocks",
	.help = "Imitates a jemalloc/tcmalloc-like allocator under an allocation-heavy program. Every\n"
		"thread has its own arena: a 2 MiB-aligned extent (mapped as 4 MiB, the excess unmapped)\n"
		"before the measured phase. An op is one allocation and its free: 63 in 64 are small\n"
		"(16 B to 4 KiB, bump-allocated in the extent, writing each new page they reach; they\n"
		"die after 256 KiB of newer allocations, and every 256 KiB of dead pages is purged with\n"
		"madvise(MADV_DONTNEED), so reused pages fault again); 1 in 64 is a 256 KiB block mapped\n"
		"directly, written, and unmapped on free. Compute: 100 ns of user work per allocation\n"
		"(an assumption). Sizes, lifetimes and the 1-in-64 mix are assumptions, not measured.\n"
		"--ops: allocations per thread (default 2048).\n" PROCS_HELP,
	.default_ops = ALLOC_OPS,
	.flags = WL_PROCESSES,
	.step = alloc_step,
};

const struct wl_def wl_app_jvm_threads = {
	.name = "jvm-threads",
	.summary = "JVM-like thread creation: stack mmap, guard-page mprotect, short life, munmap",
	.help = "Imitates a JVM starting short-lived threads through glibc. The creator maps a 1 MiB stack\n"
		"(HotSpot's default) plus a guard page, mprotects the guard PROT_NONE (glibc's\n"
		"allocate_stack), writes the thread descriptor at the stack's top and clones. The new\n"
		"thread writes 4 stack pages, runs 50 us (an assumption), and as it exits its stack is\n"
		"unmapped (HotSpot's threads are detached; glibc's stack cache is taken as full). Every\n"
		"core starts a chain: each thread starts the next when its work is done, so one thread\n"
		"per chain lives at a time; new threads go to the cores round robin. An op is one\n"
		"thread's lifetime. --ops: threads per chain (default 32).\n" PROCS_HELP,
	.default_ops = JVM_OPS,
	.flags = WL_PROCESSES | WL_SPAWNS,
	.step = jvm_step,
	.check = gen_check_ids,
};

const struct wl_def wl_app_fork_cow = {
	.name = "fork-cow",
	.summary = "fork of a process with touched memory; the child writes 1 page in 8 (copy-on-write)",
	.help = "Imitates a process that forks children which change part of its memory (a server's\n"
		"workers, a snapshotting database). Every thread writes --size bytes (default 256 KiB) of\n"
		"its own memory, then forks in a loop with 100 us of work between forks (an assumption).\n"
		"Each child writes one page in 8 of its parent thread's memory (copy-on-write faults)\n"
		"and exits. In threads mode every fork copies the whole process, all threads' memory.\n"
		"Exited children keep their address spaces until the run ends (the executor does not\n"
		"tear down exited processes), so there is no exit cost, and parents' pages stay shared.\n"
		"An op is one fork. --ops: forks per thread (default 16; threads x ops at most 4095).\n" PROCS_HELP,
	.default_ops = FORK_OPS,
	.default_size = FORK_SIZE,
	.flags = WL_PROCESSES | WL_SPAWNS,
	.step = fork_step,
	.check = fork_check,
};
