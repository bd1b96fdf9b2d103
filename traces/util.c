/* util.c: error formatting with input positions and the id map every traces/ module shares. */
#include "traces/util.h"
#include "io/lines.h"
#include "sim/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tu_errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int tu_errf_line(char *err, size_t errlen, const struct lines *l, const char *fmt, ...)
{
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tu_errf(err, errlen, "%s:%llu: %s", lines_path(l), (unsigned long long)lines_lineno(l), why);
	return -1;
}

/* ---- numbers ---- */

int tu_digit(char ch, int base)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (base == 16 && ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (base == 16 && ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

bool tu_digits(const char **p, int base, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int d;
	for (; (d = tu_digit(*s, base)) >= 0; s++) {
		if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		x = x * (uint64_t)base + (uint64_t)d;
	}
	if (s == *p)
		return false;
	*v = x;
	*p = s;
	return true;
}

/* ---- CRC-32C ---- */

static uint32_t crc_table[256];

/* Fill the table before main (single-threaded: readers on several host threads then only read it). */
__attribute__((constructor)) static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t tu_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- the id map ---- */

/* A 32-bit mix (lowbias32), so that consecutive ids spread over the table. */
static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* The slot of key: where it is, or the free slot where it would go. Needs cap > n. */
static uint32_t slot(const struct tu_map *m, uint32_t key)
{
	uint32_t mask = m->cap - 1, i = hash32(key) & mask;
	while (m->used[i] && m->key[i] != key)
		i = (i + 1) & mask;
	return i;
}

/* Double the table (or make the first one) and put every entry back. */
static void grow(struct tu_map *m)
{
	struct tu_map old = *m;
	m->cap = old.cap ? old.cap * 2 : 64;
	m->key = xmalloc(sizeof(uint32_t) * m->cap);
	m->val = xmalloc(sizeof(uint32_t) * m->cap);
	m->used = xzalloc(m->cap);
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.used[i]) {
			uint32_t j = slot(m, old.key[i]);
			m->used[j] = 1;
			m->key[j] = old.key[i];
			m->val[j] = old.val[i];
		}
	tu_map_free(&old);
}

void tu_map_put(struct tu_map *m, uint32_t key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	uint32_t i = slot(m, key);
	if (!m->used[i]) {
		m->used[i] = 1;
		m->key[i] = key;
		m->n++;
	}
	m->val[i] = val;
}

bool tu_map_get(const struct tu_map *m, uint32_t key, uint32_t *val)
{
	if (!m->cap)
		return false;
	uint32_t i = slot(m, key);
	if (!m->used[i])
		return false;
	*val = m->val[i];
	return true;
}

void tu_map_free(struct tu_map *m)
{
	xfree(m->key);
	xfree(m->val);
	xfree(m->used);
	memset(m, 0, sizeof(*m));
}
