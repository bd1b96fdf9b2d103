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
