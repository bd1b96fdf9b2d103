/* apps_data.c: data-processing application workloads: Metis-like map-reduce, PARSEC dedup-like buffer churn, psearchy-like indexing. */
#include "workloads/wl.h"

/* ---- metis ---- */

/*
 * Map phase: every thread produces --ops pages of intermediate output
 * (Metis's per-thread key/value tables), written page by page into 2 MiB
 * chunks it maps as it needs them (assumption: tables grow in large
 * blocks straight from mmap), with 1 us of map work per page (assumption).
 * Barrier. Reduce phase: thread j reads its partition, page p of every
 * mapper's output where p % threads == j (with --processes: all of its
 * own output), 1 us of work per page read (assumption), and writes the
 * reduced output, one page per 4 read (assumption), into a new mapping.
 * Barrier; every thread unmaps its chunks and its output.
 */
#define CHUNK_PAGES 512
#define METIS_NS 1000
#define METIS_OPS 512
#define REDUCE_RATIO 4
#define OUT_REGION 0xfffff

enum { M_START, M_MAP, M_REDUCE, M_READ, M_UNMAP, M_DONE };

/* Pages of mapper m's output that thread g reads, and the first one. */
static uint64_t metis_first(const struct gen *g) { return g->p.processes ? 0 : g->i; }
static uint64_t metis_stride(const struct gen *g) { return g->p.processes ? 1 : g->p.threads; }

/* u[0]: mapper being read; u[1]: its page; u[2]: pages read; u[3]: chunks unmapped. */
static bool metis_step(struct gen *g, struct ev *e)
{
	(void)e;
	uint64_t ops = gen_ops(g), chunks = (ops + CHUNK_PAGES - 1) / CHUNK_PAGES;
	uint32_t mappers = g->p.processes ? 1 : g->p.threads, out = gen_region(g, OUT_REGION);
	uint64_t per_mapper = (ops - MIN(ops, metis_first(g)) + metis_stride(g) - 1) / metis_stride(g);
	uint64_t out_pages = MAX(1, (per_mapper * mappers + REDUCE_RATIO - 1) / REDUCE_RATIO);
	switch (g->phase) {
	case M_START:
		gen_start(g);
		g->phase = M_MAP;
		return true;
	case M_MAP:
		if (g->k == ops) {
			g->phase = M_REDUCE;
			return true;
		}
		if (g->k % CHUNK_PAGES == 0)
			gen_push(g, ev_mmap(gen_region(g, g->k / CHUNK_PAGES), 0, CHUNK_PAGES * PAGE_SIZE, WL_RW, WL_ANON));
		gen_push(g, ev_op(ev_access(gen_region(g, g->k / CHUNK_PAGES), g->k % CHUNK_PAGES * PAGE_SIZE, ACC_W)));
		gen_push(g, ev_compute_ns(METIS_NS));
		g->k++;
		return true;
	case M_REDUCE:
		gen_push(g, ev_barrier(1));
		gen_push(g, ev_mmap(out, 0, out_pages * PAGE_SIZE, WL_RW, WL_ANON));
		g->u[1] = metis_first(g);
		g->phase = M_READ;
		return true;
	case M_READ:
		if (g->u[1] >= ops) {
			g->u[0]++;
			g->u[1] = metis_first(g);
		}
		if (g->u[0] == mappers) {
			gen_push(g, ev_barrier(2));
			g->phase = M_UNMAP;
			return true;
		}
		uint32_t m = g->p.processes ? g->i : (uint32_t)g->u[0];
		gen_push(g, ev_access(gen_region_of(m, g->u[1] / CHUNK_PAGES), g->u[1] % CHUNK_PAGES * PAGE_SIZE, ACC_R));
		gen_push(g, ev_compute_ns(METIS_NS));
		if (g->u[2]++ % REDUCE_RATIO == 0)
			gen_push(g, ev_access(out, g->u[2] / REDUCE_RATIO * PAGE_SIZE, ACC_W));
		g->u[1] += metis_stride(g);
		return true;
	case M_UNMAP:
		if (g->u[3] < chunks) {
			gen_push(g, ev_munmap(gen_region(g, g->u[3]), 0, CHUNK_PAGES * PAGE_SIZE));
			g->u[3]++;
			return true;
		}
		gen_push(g, ev_munmap(out, 0, out_pages * PAGE_SIZE));
		g->phase = M_DONE;
		return true;
	}
	return false;
}

/* ---- dedup ---- */

/*
 * PARSEC dedup's buffers through ptmalloc: every op takes one buffer of
 * 128 KiB..512 KiB (assumption: coarse chunks of the input), above glibc's
 * mmap threshold, so malloc maps it (size plus a page for the chunk
 * header), the thread writes every page (the data read in), works on it
 * 10 ns per byte (assumption: Rabin chunking, SHA-1 and compression of the
 * unique chunks together; not measured), and free unmaps it. The real
 * program passes buffers between pipeline stages; here one thread does all
 * of a buffer's life.
 */
#define DEDUP_MIN_PAGES 32
#define DEDUP_SPAN_PAGES 96
#define DEDUP_NS_PER_BYTE 10
#define DEDUP_OPS 16

static bool dedup_step(struct gen *g, struct ev *e)
{
	(void)e;
	uint32_t r = gen_region(g, 0);
	if (gen_begin(g, NULL))
		return true;
	if (g->k == gen_ops(g))
		return false;
	uint64_t pages = DEDUP_MIN_PAGES + gen_rand(g) % (DEDUP_SPAN_PAGES + 1), len = (pages + 1) * PAGE_SIZE;
	gen_push(g, ev_mmap(r, 0, len, WL_RW, WL_ANON));
	gen_sweep(g, ev_access(r, 0, ACC_W), pages + 1, PAGE_SIZE);
	gen_push(g, ev_compute_ns(DEDUP_NS_PER_BYTE * pages * PAGE_SIZE));
	gen_push(g, ev_op(ev_munmap(r, 0, len)));
	g->k++;
	return true;
}

/* ---- psearchy ---- */

/*
 * psearchy's indexers: every op indexes one file of 1..8 pages
 * (assumption: source files of 4..32 KiB), each file its own: map it
 * read-only, read it page by page with 4 us of tokenizing per page
 * (assumption: 1 ns per byte), and for each page insert words at 2 random
 * pages of the thread's hash table (assumption); unmap the file. The table
 * starts at 64 KiB and doubles (map the new one, write all of it: the
 * rehash, unmap the old one) once the input indexed since it started
 * reaches 4 times its size (assumption); a table that would grow past
 * --size is written out to the index instead (psearchy flushes a full
 * table to its database) and a new small one begins.
 */
#define FILE_MAX_PAGES 8
#define TOKEN_NS 4000
#define INSERTS 2
#define TABLE0_PAGES 16
#define TABLE_LOAD 4
#define PSEARCHY_SIZE (1ull << 20)
#define PSEARCHY_OPS 256
#define FILE_REGION 0

enum { P_START, P_FILE, P_PAGE, P_END };

/* u[0]: table pages; u[1]: pages indexed into the table; u[2]: table generation; u[3]: file pages; u[4]: page. */
static uint32_t table_region(const struct gen *g) { return gen_region(g, 1 + g->u[2] % 2); }

/* The table has grown full: double it (or flush it and start small past the cap). */
static void psearchy_grow(struct gen *g)
{
	uint32_t old = table_region(g);
	uint64_t old_pages = g->u[0], pages = 2 * old_pages;
	bool flush = pages * PAGE_SIZE > gen_size(g);
	if (flush) {
		pages = TABLE0_PAGES;
		g->u[1] = 0;
	}
	g->u[2]++;
	g->u[0] = pages;
	gen_push(g, ev_mmap(table_region(g), 0, pages * PAGE_SIZE, WL_RW, WL_ANON));
	if (!flush)
		gen_sweep(g, ev_access(table_region(g), 0, ACC_W), pages, PAGE_SIZE);
	gen_push(g, ev_munmap(old, 0, old_pages * PAGE_SIZE));
}

static bool psearchy_step(struct gen *g, struct ev *e)
{
	(void)e;
	uint32_t f = gen_region(g, FILE_REGION);
	switch (g->phase) {
	case P_START:
		g->u[0] = TABLE0_PAGES;
		gen_push(g, ev_mmap(table_region(g), 0, TABLE0_PAGES * PAGE_SIZE, WL_RW, WL_ANON));
		gen_start(g);
		g->phase = P_FILE;
		return true;
	case P_FILE:
		if (g->k == gen_ops(g)) {
			gen_push(g, ev_munmap(table_region(g), 0, g->u[0] * PAGE_SIZE));
			g->phase = P_END;
			return true;
		}
		g->u[3] = 1 + gen_rand(g) % FILE_MAX_PAGES;
		g->u[4] = 0;
		gen_push(g, ev_mmap_file(f, g->u[3] * PAGE_SIZE, VM_PROT_READ, VM_MAP_PRIVATE, gen_file(g, g->k), 0));
		g->phase = P_PAGE;
		return true;
	case P_PAGE:
		if (g->u[4] == g->u[3]) {
			gen_push(g, ev_op(ev_munmap(f, 0, g->u[3] * PAGE_SIZE)));
			g->k++;
			if (g->u[1] >= TABLE_LOAD * g->u[0])
				psearchy_grow(g);
			g->phase = P_FILE;
			return true;
		}
		gen_push(g, ev_access(f, g->u[4]++ * PAGE_SIZE, ACC_R));
		gen_push(g, ev_compute_ns(TOKEN_NS));
		for (int w = 0; w < INSERTS; w++)
			gen_push(g, ev_access(table_region(g), gen_rand(g) % g->u[0] * PAGE_SIZE, ACC_W));
		g->u[1]++;
		return true;
	}
	return false;
}

const struct wl_def wl_app_metis = {
	.name = "metis",
	.summary = "Metis-like map-reduce: per-thread output faulted in 2 MiB chunks, shared reduce, unmap",
	.help = "Imitates Metis (MOSBENCH's map-reduce library). Map: every thread writes --ops pages of\n"
		"intermediate output into 2 MiB chunks it maps as it fills them, 1 us of map work per\n"
		"page. Reduce (after a barrier): thread j reads page p of every thread's output where\n"
		"p % threads == j, 1 us per page, writing one output page per 4 read into a new mapping.\n"
		"After a second barrier every thread unmaps its memory. With --processes every process\n"
		"reduces its own output. Compute gaps and the 4:1 reduction are assumptions. An op is\n"
		"one page of map output; the measured window covers map, reduce and unmap. --ops: map\n"
		"pages per thread (default 512).\n",
	.default_ops = METIS_OPS,
	.flags = WL_PROCESSES,
	.step = metis_step,
	.check = gen_check_ids,
};

const struct wl_def wl_app_dedup = {
	.name = "dedup",
	.summary = "PARSEC dedup-like malloc/free of buffers above glibc's mmap threshold: mmap, touch, munmap",
	.help = "Imitates PARSEC dedup's buffer churn through ptmalloc: every op takes a buffer of 128 to\n"
		"512 KiB (above the mmap threshold, so malloc maps it, with a page for the header),\n"
		"writes every page, works on it for 10 ns per byte (chunking, SHA-1 and compression; an\n"
		"assumption), and frees it (munmap). With many threads in one process every munmap takes\n"
		"Linux's mmap_lock for writing and flushes the TLBs of every core running the process.\n"
		"Buffer sizes are an assumption; one thread does a buffer's whole life (the real\n"
		"pipeline hands buffers between stages). An op is one buffer. --ops: buffers per thread\n"
		"(default 16). --processes: every thread in its own process.\n",
	.default_ops = DEDUP_OPS,
	.flags = WL_PROCESSES,
	.step = dedup_step,
};

const struct wl_def wl_app_psearchy = {
	.name = "psearchy",
	.summary = "psearchy-like indexing: read-only file mappings read page by page, growing hash tables",
	.help = "Imitates psearchy (MOSBENCH's parallel indexer). An op is one file of 1 to 8 pages\n"
		"indexed (each file read once, its own): map it read-only, read every page with 4 us of\n"
		"tokenizing per page, insert words at 2 random pages of the thread's hash table, unmap\n"
		"it. The table starts at 64 KiB and doubles (map, rewrite, unmap the old) when the input\n"
		"since it began reaches 4 times its size; past --size (default 1 MiB) it is flushed\n"
		"(unmapped) and a small one begins. File sizes, compute and table growth are\n"
		"assumptions. --ops: files per thread (default 256). --processes: every thread in its\n"
		"own process.\n",
	.default_ops = PSEARCHY_OPS,
	.default_size = PSEARCHY_SIZE,
	.flags = WL_PROCESSES,
	.step = psearchy_step,
	.check = gen_check_ids,
};
