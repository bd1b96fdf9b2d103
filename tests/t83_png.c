/* t83_png.c: a small PNG tool for the browser test: how much of a screenshot is not background, and a crop of it to look at. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* An image as 8-bit RGBA rows. */
struct img {
	uint32_t w, h;
	uint8_t *px; /* w * h * 4 */
};

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void die(const char *what, const char *path)
{
	fprintf(stderr, "t83_png: %s: %s\n", path, what);
	exit(2);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot read", path);
	size_t cap = 1 << 20, len = 0, k;
	uint8_t *b = malloc(cap);
	while (b && (k = fread(b + len, 1, cap - len, f)) > 0)
		if ((len += k) == cap)
			b = realloc(b, cap *= 2);
	fclose(f);
	if (!b)
		die("out of memory", path);
	*n = len;
	return b;
}

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Decode a non-interlaced 8-bit RGB, RGBA, grey or grey-alpha PNG. */
static struct img load(const char *path)
{
	size_t n;
	uint8_t *b = slurp(path, &n);
	if (n < 8 || memcmp(b, "\x89PNG\r\n\x1a\n", 8))
		die("not a PNG", path);
	struct img im = { 0 };
	int ctype = -1;
	uint8_t *idat = NULL;
	size_t nidat = 0;
	for (size_t at = 8; at + 12 <= n;) {
		uint32_t len = be32(b + at);
		const uint8_t *type = b + at + 4, *d = b + at + 8;
		if (at + 12 + len > n)
			die("truncated chunk", path);
		if (!memcmp(type, "IHDR", 4)) {
			im.w = be32(d);
			im.h = be32(d + 4);
			if (d[8] != 8 || d[12] != 0)
				die("only 8-bit, non-interlaced images", path);
			ctype = d[9];
		} else if (!memcmp(type, "IDAT", 4)) {
			idat = realloc(idat, nidat + len);
			memcpy(idat + nidat, d, len);
			nidat += len;
		}
		at += 12 + len;
	}
	int ch = ctype == 2 ? 3 : ctype == 6 ? 4 : ctype == 0 ? 1 : ctype == 4 ? 2 : 0;
	if (!ch || !im.w || !im.h)
		die("unsupported colour type", path);
	size_t stride = (size_t)im.w * ch;
	uLongf raw_len = (uLongf)((stride + 1) * im.h);
	uint8_t *raw = malloc(raw_len);
	if (!raw || uncompress(raw, &raw_len, idat, nidat) != Z_OK || raw_len != (stride + 1) * im.h)
		die("bad image data", path);
	uint8_t *cur = malloc(stride), *prev = calloc(1, stride);
	im.px = malloc((size_t)im.w * im.h * 4);
	for (uint32_t y = 0; y < im.h; y++) {
		const uint8_t *r = raw + y * (stride + 1);
		for (size_t x = 0; x < stride; x++) {
			int a = x >= (size_t)ch ? cur[x - ch] : 0, up = prev[x], c = x >= (size_t)ch ? prev[x - ch] : 0, v = r[1 + x];
			switch (r[0]) {
			case 1: v += a; break;
			case 2: v += up; break;
			case 3: v += (a + up) / 2; break;
			case 4: v += paeth(a, up, c); break;
			}
			cur[x] = (uint8_t)v;
		}
		for (uint32_t x = 0; x < im.w; x++) {
			uint8_t *o = im.px + ((size_t)y * im.w + x) * 4, *p = cur + (size_t)x * ch;
			o[0] = p[0];
			o[1] = ch >= 3 ? p[1] : p[0];
			o[2] = ch >= 3 ? p[2] : p[0];
			o[3] = ch == 4 ? p[3] : ch == 2 ? p[1] : 255;
		}
		memcpy(prev, cur, stride);
	}
	free(b), free(idat), free(raw), free(cur), free(prev);
	return im;
}

/* blank: the share of pixels that differ from the background (the most common colour), in per cent. */
static int blank(const char *path)
{
	struct img im = load(path);
	size_t total = (size_t)im.w * im.h, best = 0;
	uint32_t bg = 0;
	/* The most common of a sample of colours: a page's background is most of any row it spans. */
	for (size_t k = 0; k < 64; k++) {
		const uint8_t *p = im.px + ((total / 64) * k) * 4;
		uint32_t c = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		size_t same = 0;
		for (size_t i = 0; i < total; i += 7) {
			const uint8_t *q = im.px + i * 4;
			same += ((uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2]) == c;
		}
		if (same > best)
			best = same, bg = c;
	}
	size_t diff = 0;
	for (size_t i = 0; i < total; i++) {
		const uint8_t *q = im.px + i * 4;
		diff += ((uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2]) != bg;
	}
	printf("%.2f %ux%u background #%06x\n", 100.0 * (double)diff / (double)total, im.w, im.h, bg);
	free(im.px);
	return 0;
}

static void put32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	fwrite(b, 1, 4, f);
}

static void chunk(FILE *f, const char *type, const uint8_t *d, uint32_t len)
{
	put32(f, len);
	fwrite(type, 1, 4, f);
	fwrite(d, 1, len, f);
	uLong crc = crc32(crc32(0, (const Bytef *)type, 4), d, len);
	put32(f, (uint32_t)crc);
}

/* crop: the rectangle (x, y, w, h) of the image, as an RGBA PNG. */
static int crop(const char *in, const char *out, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct img im = load(in);
	if (x >= im.w || y >= im.h)
		die("the rectangle lies outside the image", in);
	w = x + w > im.w ? im.w - x : w;
	h = y + h > im.h ? im.h - y : h;
	size_t stride = (size_t)w * 4 + 1;
	uint8_t *raw = malloc(stride * h);
	for (uint32_t r = 0; r < h; r++) {
		raw[r * stride] = 0;
		memcpy(raw + r * stride + 1, im.px + ((size_t)(y + r) * im.w + x) * 4, (size_t)w * 4);
	}
	uLongf zlen = compressBound((uLong)(stride * h));
	uint8_t *z = malloc(zlen);
	if (compress(z, &zlen, raw, (uLong)(stride * h)) != Z_OK)
		die("cannot compress", out);
	FILE *f = fopen(out, "wb");
	if (!f)
		die("cannot write", out);
	fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
	uint8_t ihdr[13] = { 0 };
	ihdr[0] = (uint8_t)(w >> 24), ihdr[1] = (uint8_t)(w >> 16), ihdr[2] = (uint8_t)(w >> 8), ihdr[3] = (uint8_t)w;
	ihdr[4] = (uint8_t)(h >> 24), ihdr[5] = (uint8_t)(h >> 16), ihdr[6] = (uint8_t)(h >> 8), ihdr[7] = (uint8_t)h;
	ihdr[8] = 8, ihdr[9] = 6;
	chunk(f, "IHDR", ihdr, 13);
	chunk(f, "IDAT", z, (uint32_t)zlen);
	chunk(f, "IEND", NULL, 0);
	if (fclose(f))
		die("cannot write", out);
	free(raw), free(z), free(im.px);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "blank"))
		return blank(argv[2]);
	if (argc == 8 && !strcmp(argv[1], "crop"))
		return crop(argv[2], argv[3], (uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[5]), (uint32_t)atoi(argv[6]),
			    (uint32_t)atoi(argv[7]));
	fprintf(stderr, "usage: t83_png blank PNG     (prints the share of non-background pixels, in per cent)\n"
			"       t83_png crop PNG OUT X Y W H\n");
	return 2;
}
