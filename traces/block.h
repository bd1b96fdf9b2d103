/* block.h: the container of the binary form (version 2): a prefix, checksummed zstd blocks of events and of the header, and a footer with the event counts (docs/trace-format.md). */
#ifndef MMSIM_TRACES_BLOCK_H
#define MMSIM_TRACES_BLOCK_H

#include "traces/trace.h"

#include <zstd.h>

/*
 * The file, all fixed-size integers little-endian:
 *
 *   prefix   a zstd skippable frame: "MMSIMTRC", u32 version          (BLK_PREFIX bytes)
 *   events   blocks of kind 'E', numbered from 0: whole event records
 *   header   blocks of kind 'H', numbered from 0: the header's bytes
 *   footer   a skippable frame: block counts, event counts, offsets, CRC, "MMTE"
 *
 * A block is a descriptor (a skippable frame of BLK_DESC bytes) and a zstd
 * frame of `zsize` bytes that decompresses to `raw` bytes. Skippable frames
 * let `zstdcat` show the content. Readers check every CRC before using a
 * byte, so a corrupt file is an error with its position, never garbage.
 */
#define BLK_MAGIC 0x184D2A5Du /* the skippable-frame magic of the prefix, descriptors and footer */
#define BLK_PREFIX 20u	      /* 8 frame bytes + "MMSIMTRC" + version */
#define BLK_DESC 44u	      /* 8 frame bytes + 36 */
#define BLK_RAW_MAX (256u << 10)
#define BLK_FOOTER_MIN 52u /* 8 frame bytes + 44 (no thread) */
#define BLK_TRAILER 16u	   /* the footer's last bytes: its offset, its CRC, "MMTE" */

enum blk_kind { BLK_EVENTS = 'E', BLK_HEADER = 'H' };

/* A block's descriptor. */
struct blk_desc {
	uint8_t kind;	      /* enum blk_kind */
	uint32_t index;	      /* its number among the blocks of its kind */
	uint64_t first_event; /* events before it (events blocks; 0 for header blocks) */
	uint32_t nevents;     /* records in it (events blocks) */
	uint32_t raw;	      /* decompressed bytes, at most BLK_RAW_MAX */
	uint32_t zsize;	      /* bytes of its zstd frame */
	uint32_t zcrc;	      /* CRC-32C of the zstd frame */
	/* (a second CRC, of the fields above, guards the descriptor itself) */
};

/* The footer. counts has nthreads entries, in the header's thread order. */
struct blk_footer {
	uint32_t eblocks, hblocks;
	uint64_t events;
	uint64_t hoff; /* file offset of header block 0 (= the end of the events blocks) */
	uint32_t nthreads;
	uint64_t *counts;
	uint64_t foff; /* file offset of the footer itself */
};

/* blk_put_prefix: the prefix of a file of version TR_VERSION. */
void blk_put_prefix(uint8_t p[BLK_PREFIX]);
/*
 * blk_get_prefix: the version a file's first bytes declare: the prefix's,
 * or 1 for a version-1 file (one zstd stream whose content starts with the
 * magic, which needs f to look inside). 0 if the file is no mmsim trace.
 */
uint32_t blk_get_prefix(const uint8_t *p, size_t n, FILE *f);

/* blk_footer_size: the bytes of a footer with nthreads counts. */
uint64_t blk_footer_size(uint32_t nthreads);
/* blk_put_footer: ft (with its crc computed) into p, of blk_footer_size bytes. */
void blk_put_footer(uint8_t *p, const struct blk_footer *ft);
/*
 * blk_get_footer: parse the n bytes of a footer frame at p (ft->counts is
 * allocated; free it with xfree). NULL, or what is wrong with it.
 */
const char *blk_get_footer(const uint8_t *p, uint64_t n, struct blk_footer *ft);

/* A block writer: its compression context and buffer. */
struct blk_writer {
	ZSTD_CCtx *cc;
	uint8_t *z;
	size_t zcap;
};

void blk_writer_init(struct blk_writer *bw);
void blk_writer_free(struct blk_writer *bw);
/*
 * blk_encode: compress n (at most BLK_RAW_MAX) bytes of raw into a block
 * (descriptor and frame, in bw->z); returns its length. d gives kind,
 * index, first_event and nevents; the rest is filled.
 */
size_t blk_encode(struct blk_writer *bw, struct blk_desc *d, const uint8_t *raw, size_t n);

/* A block reader: buffers for one compressed and one decompressed block. */
struct blk_reader {
	ZSTD_DCtx *dc;
	uint8_t *z, *raw;
};

void blk_reader_init(struct blk_reader *br);
void blk_reader_free(struct blk_reader *br);
/*
 * blk_read: read the block at file offset off of f, which must end by
 * `limit`: its descriptor (d), its CRC checked, its content decompressed
 * into br->raw (d->raw bytes). NULL, or what is wrong with it ("cut short"
 * when the file ends inside it).
 */
const char *blk_read(struct blk_reader *br, FILE *f, uint64_t off, uint64_t limit, uint64_t fsize, struct blk_desc *d);
/*
 * blk_walk: where the structure of a file of fsize bytes breaks, for a
 * file whose footer is not where it should be: cut short (in a block, or
 * after the last whole one), bytes after the footer, or a frame that is
 * not a block. The reason into why, with *off the byte and *event the
 * first event (1-based) it concerns.
 */
void blk_walk(FILE *f, uint64_t fsize, uint64_t *off, uint64_t *event, char *why, size_t whylen);

#endif
