/* block.c: the binary form's container: prefix, block descriptors and footer (fixed little-endian fields with CRC-32C), and reading and writing one checksummed zstd block. */
#include "traces/block.h"
#include "traces/util.h"
#include "sim/util.h"

#include <string.h>

#define DESC_BODY (BLK_DESC - 8) /* a descriptor's bytes after its frame header */
#define ZSTD_FRAME_MAGIC 0xFD2FB528u
#define ZLEVEL 6

/* A skippable frame's header: BLK_MAGIC and the size of what follows. */
static void put_frame(uint8_t *p, uint32_t size)
{
	tu_put_le(p, BLK_MAGIC, 4);
	tu_put_le(p + 4, size, 4);
}

void blk_put_prefix(uint8_t p[BLK_PREFIX])
{
	put_frame(p, BLK_PREFIX - 8);
	memcpy(p + 8, TR_MAGIC, 8);
	tu_put_le(p + 16, TR_VERSION, 4);
}

/* The version inside a version-1 file: a zstd stream whose content starts with the magic and the version. */
static uint32_t v1_version(FILE *f)
{
	uint8_t in[4096], out[12];
	size_t n = fseeko(f, 0, SEEK_SET) ? 0 : fread(in, 1, sizeof(in), f);
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, n, 0 };
	ZSTD_outBuffer ob = { out, sizeof(out), 0 };
	while (ob.pos < ob.size && ib.pos < ib.size && !ZSTD_isError(ZSTD_decompressStream(dc, &ob, &ib)))
		;
	ZSTD_freeDCtx(dc);
	return ob.pos == sizeof(out) && !memcmp(out, TR_MAGIC, 8) ? (uint32_t)tu_get_le(out + 8, 4) : 0;
}

uint32_t blk_get_prefix(const uint8_t *p, size_t n, FILE *f)
{
	if (n >= 4 && tu_get_le(p, 4) == ZSTD_FRAME_MAGIC)
		return v1_version(f);
	if (n < BLK_PREFIX || tu_get_le(p, 4) != BLK_MAGIC || tu_get_le(p + 4, 4) != BLK_PREFIX - 8 ||
	    memcmp(p + 8, TR_MAGIC, 8))
		return 0;
	return (uint32_t)tu_get_le(p + 16, 4);
}

/* ---- the footer ---- */

uint64_t blk_footer_size(uint32_t nthreads) { return BLK_FOOTER_MIN + 8ull * nthreads; }

void blk_put_footer(uint8_t *p, const struct blk_footer *ft)
{
	uint64_t n = blk_footer_size(ft->nthreads);
	put_frame(p, (uint32_t)(n - 8));
	uint8_t *q = p + 8;
	tu_put_le(q, ft->eblocks, 4);
	tu_put_le(q + 4, ft->hblocks, 4);
	tu_put_le(q + 8, ft->events, 8);
	tu_put_le(q + 16, ft->hoff, 8);
	tu_put_le(q + 24, ft->nthreads, 4);
	for (uint32_t i = 0; i < ft->nthreads; i++)
		tu_put_le(q + 28 + 8ull * i, ft->counts[i], 8);
	tu_put_le(p + n - 16, ft->foff, 8);
	tu_put_le(p + n - 8, tu_crc32c(0, q, n - 16), 4);
	memcpy(p + n - 4, "MMTE", 4);
}

const char *blk_get_footer(const uint8_t *p, uint64_t n, struct blk_footer *ft)
{
	memset(ft, 0, sizeof(*ft));
	if (n < BLK_FOOTER_MIN || tu_get_le(p, 4) != BLK_MAGIC || tu_get_le(p + 4, 4) != n - 8 ||
	    memcmp(p + n - 4, "MMTE", 4))
		return "not a footer";
	const uint8_t *q = p + 8;
	if (tu_get_le(p + n - 8, 4) != tu_crc32c(0, q, n - 16))
		return "the footer is corrupt (checksum mismatch)";
	ft->eblocks = (uint32_t)tu_get_le(q, 4);
	ft->hblocks = (uint32_t)tu_get_le(q + 4, 4);
	ft->events = tu_get_le(q + 8, 8);
	ft->hoff = tu_get_le(q + 16, 8);
	ft->nthreads = (uint32_t)tu_get_le(q + 24, 4);
	ft->foff = tu_get_le(p + n - 16, 8);
	if (ft->nthreads > TR_MAX_THREADS || blk_footer_size(ft->nthreads) != n)
		return "the footer's thread count does not match its size";
	if (!ft->hblocks || ft->hoff < BLK_PREFIX || ft->hoff >= ft->foff)
		return "the footer places the header outside the file";
	ft->counts = xmalloc(sizeof(uint64_t) * (ft->nthreads ? ft->nthreads : 1));
	for (uint32_t i = 0; i < ft->nthreads; i++)
		ft->counts[i] = tu_get_le(q + 28 + 8ull * i, 8);
	return NULL;
}

/* ---- descriptors ---- */

/* The descriptor frame of d into p (BLK_DESC bytes), both CRCs in place (d->zcrc already computed). */
static void put_desc(uint8_t *p, const struct blk_desc *d)
{
	put_frame(p, DESC_BODY);
	uint8_t *q = p + 8;
	memset(q, 0, DESC_BODY);
	q[0] = d->kind;
	tu_put_le(q + 4, d->index, 4);
	tu_put_le(q + 8, d->first_event, 8);
	tu_put_le(q + 16, d->nevents, 4);
	tu_put_le(q + 20, d->raw, 4);
	tu_put_le(q + 24, d->zsize, 4);
	tu_put_le(q + 28, d->zcrc, 4);
	tu_put_le(q + 32, tu_crc32c(0, q, 32), 4);
}

/* Parse a descriptor frame. NULL, or what is wrong with it. */
static const char *get_desc(const uint8_t *p, struct blk_desc *d)
{
	const uint8_t *q = p + 8;
	if (tu_get_le(p, 4) != BLK_MAGIC || tu_get_le(p + 4, 4) != DESC_BODY)
		return "not a block (the file is corrupt)";
	if (tu_get_le(q + 32, 4) != tu_crc32c(0, q, 32))
		return "a block descriptor is corrupt (checksum mismatch)";
	*d = (struct blk_desc){ .kind = q[0],
				.index = (uint32_t)tu_get_le(q + 4, 4),
				.first_event = tu_get_le(q + 8, 8),
				.nevents = (uint32_t)tu_get_le(q + 16, 4),
				.raw = (uint32_t)tu_get_le(q + 20, 4),
				.zsize = (uint32_t)tu_get_le(q + 24, 4),
				.zcrc = (uint32_t)tu_get_le(q + 28, 4) };
	if ((d->kind != BLK_EVENTS && d->kind != BLK_HEADER) || q[1] || q[2] || q[3])
		return "a block of an unknown kind";
	if (d->raw > BLK_RAW_MAX || d->zsize > ZSTD_compressBound(BLK_RAW_MAX))
		return "a block larger than blocks are";
	return NULL;
}

/* ---- writing blocks ---- */

void blk_writer_init(struct blk_writer *bw)
{
	bw->cc = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(bw->cc, ZSTD_c_compressionLevel, ZLEVEL);
	ZSTD_CCtx_setParameter(bw->cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(bw->cc, ZSTD_c_contentSizeFlag, 1);
	bw->zcap = BLK_DESC + ZSTD_compressBound(BLK_RAW_MAX);
	bw->z = xmalloc(bw->zcap);
}

void blk_writer_free(struct blk_writer *bw)
{
	ZSTD_freeCCtx(bw->cc);
	xfree(bw->z);
	memset(bw, 0, sizeof(*bw));
}

size_t blk_encode(struct blk_writer *bw, struct blk_desc *d, const uint8_t *raw, size_t n)
{
	ASSERT(n <= BLK_RAW_MAX);
	size_t zn = ZSTD_compress2(bw->cc, bw->z + BLK_DESC, bw->zcap - BLK_DESC, raw, n);
	if (ZSTD_isError(zn))
		panic("zstd: %s", ZSTD_getErrorName(zn));
	d->raw = (uint32_t)n;
	d->zsize = (uint32_t)zn;
	d->zcrc = tu_crc32c(0, bw->z + BLK_DESC, zn);
	put_desc(bw->z, d);
	return BLK_DESC + zn;
}

/* ---- reading blocks ---- */

void blk_reader_init(struct blk_reader *br)
{
	br->dc = ZSTD_createDCtx();
	br->z = xmalloc(ZSTD_compressBound(BLK_RAW_MAX));
	br->raw = xmalloc(BLK_RAW_MAX);
}

void blk_reader_free(struct blk_reader *br)
{
	ZSTD_freeDCtx(br->dc);
	xfree(br->z);
	xfree(br->raw);
	memset(br, 0, sizeof(*br));
}

/* Read n bytes at off; false if the file ends first. */
static bool read_at(FILE *f, uint64_t off, void *p, size_t n)
{
	return !fseeko(f, (off_t)off, SEEK_SET) && fread(p, 1, n, f) == n;
}

const char *blk_read(struct blk_reader *br, FILE *f, uint64_t off, uint64_t limit, uint64_t fsize, struct blk_desc *d)
{
	uint8_t p[BLK_DESC];
	memset(d, 0, sizeof(*d));
	if (off + BLK_DESC > limit)
		return off + BLK_DESC > fsize ? "cut short (in a block descriptor)" : "a block reaches past its part of the file";
	if (!read_at(f, off, p, BLK_DESC))
		return ferror(f) ? "read error" : "cut short (in a block descriptor)";
	const char *why = get_desc(p, d);
	if (why)
		return why;
	if (off + BLK_DESC + d->zsize > limit)
		return off + BLK_DESC + d->zsize > fsize ? "cut short (inside a block)" : "a block reaches past its part of the file";
	if (!read_at(f, off + BLK_DESC, br->z, d->zsize))
		return ferror(f) ? "read error" : "cut short (inside a block)";
	if (tu_crc32c(0, br->z, d->zsize) != d->zcrc)
		return "a block is corrupt (checksum mismatch)";
	size_t n = ZSTD_decompressDCtx(br->dc, br->raw, BLK_RAW_MAX, br->z, d->zsize);
	if (ZSTD_isError(n) || n != d->raw)
		return "a block does not decompress to its size (the file is corrupt)";
	return NULL;
}

void blk_walk(FILE *f, uint64_t fsize, uint64_t *off, uint64_t *event, char *why, size_t whylen)
{
	uint64_t o = BLK_PREFIX, events = 0;
	uint8_t p[BLK_DESC];
	struct blk_desc d;
	const char *bad = NULL;
	for (;;) {
		*off = o;
		*event = events + 1;
		if (o == fsize) {
			tu_errf(why, whylen, "cut short: the file ends here, between blocks, without its footer");
			return;
		}
		if (o + 8 > fsize || !read_at(f, o, p, 8)) {
			tu_errf(why, whylen, "cut short (in a frame header)");
			return;
		}
		uint64_t size = tu_get_le(p + 4, 4);
		if (tu_get_le(p, 4) == BLK_MAGIC && size == DESC_BODY) {
			if (o + BLK_DESC > fsize || !read_at(f, o, p, BLK_DESC))
				bad = "cut short (in a block descriptor)";
			else if ((bad = get_desc(p, &d)) == NULL && o + BLK_DESC + d.zsize > fsize)
				bad = "cut short (inside a block)";
			if (bad) {
				tu_errf(why, whylen, "%s", bad);
				return;
			}
			events += d.kind == BLK_EVENTS ? d.nevents : 0;
			o += BLK_DESC + d.zsize;
			continue;
		}
		/* Not a descriptor: the footer (complete or not), or something else. */
		uint64_t end = o + 8 + size;
		uint8_t tag[4];
		bool footer = tu_get_le(p, 4) == BLK_MAGIC && size >= BLK_FOOTER_MIN - 8;
		if (footer && end > fsize) {
			tu_errf(why, whylen, "cut short (inside the footer)");
		} else if (footer && end == fsize) {
			tu_errf(why, whylen, "the footer is corrupt");
		} else if (footer && read_at(f, end - 4, tag, 4) && !memcmp(tag, "MMTE", 4)) {
			*off = end;
			tu_errf(why, whylen, "%llu byte%s after the end of the trace (its footer ends at byte %llu)",
				(unsigned long long)(fsize - end), fsize - end == 1 ? "" : "s", (unsigned long long)end);
		} else {
			tu_errf(why, whylen, "not a block (the file is corrupt)");
		}
		return;
	}
}
