/* util.h: helpers every traces/ module uses: error messages (with the input's position), and a map from 32-bit ids to table indices. */
#ifndef MMSIM_TRACES_UTIL_H
#define MMSIM_TRACES_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lines;

/* tu_errf: format into err (never overflows; err may be tiny or NULL with errlen 0). */
void tu_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * tu_errf_line: "FILE:LINE: reason" into err, for the line the reader l
 * returned last. Returns -1, so that a parser can `return tu_errf_line(...)`.
 */
int tu_errf_line(char *err, size_t errlen, const struct lines *l, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* tu_digit: the value of ch as a digit of base 10 or 16 (either case), or -1. */
int tu_digit(char ch, int base);
/*
 * tu_digits: the digits of base (10 or 16) at *p as a number, with *p moved
 * past them. false if there is no digit or the number overflows 64 bits.
 */
bool tu_digits(const char **p, int base, uint64_t *v);

/*
 * tu_crc32c: CRC-32C (Castagnoli) of n bytes at p, continuing from crc (0
 * to start). Detects every single-bit error and every burst of up to 32 bits.
 */
uint32_t tu_crc32c(uint32_t crc, const void *p, size_t n);

/* Little-endian integers in byte arrays (the binary form's fixed-size fields). */
static inline void tu_put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t tu_get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/*
 * struct tu_map: an open-addressing map from 32-bit keys to 32-bit values
 * (table indices). Putting a key again replaces its value. Zero-initialized
 * is empty; tu_map_free gives the memory back. Not thread-safe.
 */
struct tu_map {
	uint32_t *key, *val;
	uint8_t *used;
	uint32_t n, cap;
};

void tu_map_put(struct tu_map *m, uint32_t key, uint32_t val);
/* tu_map_get: whether key is in the map, with its value in *val. */
bool tu_map_get(const struct tu_map *m, uint32_t key, uint32_t *val);
void tu_map_free(struct tu_map *m);

#endif
