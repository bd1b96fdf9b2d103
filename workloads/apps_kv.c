/* apps_kv.c: key-value store workloads: LevelDB's random reads (db_bench readrandom) through mmap'd tables and glibc's per-thread arenas. */
#include "workloads/wl.h"

#include <stdio.h>

/*
 * leveldb: LevelDB 1.23 under db_bench's readrandom, as the recording
 * tests/data/traces/leveldb-t4 shows it (libleveldb 1.23, 200,000 random
 * 100-byte puts, then 4 threads of 100,000 random gets each;
 * tests/data/traces/programs/leveldb-bench.cc, recorded with `mmsim record`).
 * What the 4 reader threads did to the address space, in that recording:
 * - each made its glibc arena on its first malloc: a 64 MiB PROT_NONE
 *   reservation (glibc's HEAP_MAX_SIZE on 64-bit; MAP_NORESERVE), of which
 *   the first 0x21000 bytes are made read-write;
 * - the arenas then grew by mprotect(PROT_READ|PROT_WRITE) of the next page
 *   at their tops (5,140 calls of one page, 29 of two), each followed by a
 *   write fault on the new page: 5,198 pages in all, 3,052 of them in the
 *   first 5% of each thread's gets (of its life in the recording), the other
 *   2,146 in the remaining 95%. It is the block cache (8 MiB of
 *   decompressed blocks, each allocated in the arena of the thread that
 *   missed) filling: the same program with ReadOptions.fill_cache = false
 *   made 32 mprotects instead of 5,030 (`strace -f -c`, this host);
 * - the database's last table (000020.ldb, 1,763,908 bytes: 431 pages) was
 *   mapped read-only and shared (LevelDB's PosixMmapReadableFile) by the
 *   thread that wrote it, which had faulted most of it in: the readers took
 *   80 read faults on tables in all.
 * Left out (each rarer than once per thread at the default request count):
 * 14 madvise(MADV_DONTNEED) trims of arenas' free tops (57 to 318 pages,
 * 3.5 per thread per 100,000 gets, often of another thread's arena, whose
 * refaults are the 1,091 write faults beyond the growth), glibc's 128 MiB
 * map and trim that aligns each arena, and the gets that the memtable
 * answers without reading a table.
 */
#define LDB_ARENA_PAGES (64u << 20 >> PAGE_SHIFT)
#define LDB_ARENA_INIT 33 /* 0x21000 bytes: the arena's first read-write part (the recording) */
/*
 * The arenas' growth (the recording, pages per 100,000 gets per thread):
 * while the block cache fills, 763 in the first 5,000 gets (3,052 / 4 threads),
 * until the process has grown LDB_WARM_PAGES, which its threads share; then
 * 536.5 in 95,000 gets (2,146 / 4). In units of 1/95,000 page per get:
 */
#define LDB_WARM_PAGES 3052
#define LDB_WARM_RATE (763 * 19)
#define LDB_STEADY_RATE 536
#define LDB_RATE_UNIT 95000
#define LDB_TABLE_PAGES 431
/* The table's index block: its last 18 pages (bytes 1,693,276 to 1,763,855 of 000020.ldb, read from its footer). */
#define LDB_INDEX_PAGES 18
/*
 * A get's CPU time on this project's host: (1.33 - 0.39) s / 400,000 =
 * 2.35 us, medians of 5 runs (user + system time) of `taskset -c 1
 * leveldb-bench DIR 200000 1 400000` and of the fill alone (`... 200000 0 0`).
 */
#define LDB_GET_NS 2350
#define LDB_OPS 2048
#define LDB_FILE 2 /* the table: one file every thread reads (below gen_file's ids, which start at 1 << 20) */
#define LDB_TABLE_REGION 0
#define LDB_ARENA_REGION 1

/* leveldb_setup: thread 0 maps the table and reads it once (as the compaction that wrote it had); every thread makes its arena. */
static void leveldb_setup(struct gen *g)
{
	if (g->i == 0) {
		uint32_t t = gen_region(g, LDB_TABLE_REGION);
		gen_push(g, ev_mmap_file(t, LDB_TABLE_PAGES * PAGE_SIZE, VM_PROT_READ, VM_MAP_SHARED, LDB_FILE, 0));
		gen_sweep(g, ev_access(t, 0, ACC_R), LDB_TABLE_PAGES, PAGE_SIZE);
	}
	uint32_t a = gen_region(g, LDB_ARENA_REGION);
	gen_push(g, ev_mmap(a, 0, LDB_ARENA_PAGES * PAGE_SIZE, VM_PROT_NONE, WL_ANON | VM_MAP_NORESERVE));
	gen_push(g, ev_mprotect(a, 0, LDB_ARENA_INIT * PAGE_SIZE, WL_RW));
	gen_sweep(g, ev_access(a, 0, ACC_W), LDB_ARENA_INIT, PAGE_SIZE);
}

/*
 * One get per call: its work, the arena's growth when due, then a read of an
 * index page and of a data page. u[0]: pages the arena has grown; u[1]: the
 * growth owed, in LDB_RATE_UNIT parts of a page.
 */
static bool leveldb_step(struct gen *g, struct ev *e)
{
	(void)e;
	if (gen_begin(g, leveldb_setup))
		return true;
	if (g->k == gen_ops(g))
		return false;
	uint32_t t = gen_region_of(0, LDB_TABLE_REGION), a = gen_region(g, LDB_ARENA_REGION);
	gen_push(g, ev_compute_ns(LDB_GET_NS));
	g->u[1] += g->u[0] < LDB_WARM_PAGES / g->p.threads ? LDB_WARM_RATE : LDB_STEADY_RATE;
	if (g->u[1] >= LDB_RATE_UNIT) {
		uint64_t top = (LDB_ARENA_INIT + g->u[0]++) * PAGE_SIZE;
		g->u[1] -= LDB_RATE_UNIT;
		gen_push(g, ev_mprotect(a, top, PAGE_SIZE, WL_RW));
		gen_push(g, ev_access(a, top, ACC_W));
	}
	uint64_t data = LDB_TABLE_PAGES - LDB_INDEX_PAGES;
	gen_push(g, ev_access(t, (data + gen_rand(g) % LDB_INDEX_PAGES) * PAGE_SIZE, ACC_R));
	gen_push(g, ev_op(ev_access(t, gen_rand(g) % data * PAGE_SIZE, ACC_R)));
	g->k++;
	return true;
}

/* leveldb_check: the arena's growth must stay inside its 64 MiB (wl_def.check), even if every get grew at the warm rate. */
static bool leveldb_check(const struct wl_params *p, char *buf, size_t n)
{
	uint64_t most = (uint64_t)(LDB_ARENA_PAGES - LDB_ARENA_INIT) * LDB_RATE_UNIT / LDB_WARM_RATE;
	if (p->ops <= most)
		return true;
	snprintf(buf, n, "--ops: %llu gets could grow a thread's arena past its 64 MiB (at most %llu)",
		 (unsigned long long)p->ops, (unsigned long long)most);
	return false;
}

const struct wl_def wl_app_leveldb = {
	.name = "leveldb",
	.summary = "LevelDB random gets: mmap'd table reads, per-thread malloc arenas growing by mprotect",
	.help = "Imitates LevelDB 1.23 under db_bench's readrandom, as a recording of it shows\n"
		"(tests/data/traces/leveldb-t4): every thread gets random keys; a get reads a page of\n"
		"the table's index block and a data page through the table's read-only shared mapping\n"
		"(431 pages, mapped and read once by thread 0 first). The thread's glibc arena (a\n"
		"64 MiB PROT_NONE reservation) grows by mprotect of its next page, then a write to it:\n"
		"one page per 6.6 gets while the block cache fills (the process's first 3,052 pages),\n"
		"then one per 177. Before each get, 2.35 us of its other work (measured: a get's CPU\n"
		"time on one core). An op is one get. --ops: gets per thread (default 2048).\n",
	.default_ops = LDB_OPS,
	.step = leveldb_step,
	.check = leveldb_check,
};
