/* fuzz_common.h: helpers of every fuzz target (fuzz/ and traces/): the check macro, temporary files, and the test every failure message must pass. */
#ifndef MMSIM_FUZZ_COMMON_H
#define MMSIM_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FZ_CHECK(c)                                                             \
	do {                                                                    \
		if (!(c)) {                                                     \
			fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", #c, \
				__FILE__, __LINE__);                            \
			abort();                                                \
		}                                                               \
	} while (0)

/*
 * fz_temp: a new private temporary file path with `suffix`, holding data if
 * given: in $TMPDIR, else on /dev/shm when there is one (tmpfs: twice the
 * executions), else /tmp. The caller removes it after each input, so that a
 * stopped run leaves nothing behind.
 */
static inline void fz_temp(char *p, size_t plen, const char *suffix, const void *data, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(p, plen, "%s/mmsim-fuzz-XXXXXX%s", tmp, suffix);
	int fd = mkstemps(p, (int)strlen(suffix));
	FZ_CHECK(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	FZ_CHECK(f);
	if (size)
		FZ_CHECK(fwrite(data, 1, size, f) == size);
	FZ_CHECK(fclose(f) == 0);
}

/* fz_msg_ok: a failure says where: it starts with the file's path and fits its buffer. */
static inline void fz_msg_ok(const char *err, size_t errlen, const char *path)
{
	FZ_CHECK(memchr(err, 0, errlen));
	FZ_CHECK(err[0]);
	FZ_CHECK(!strncmp(err, path, strlen(path)));
}

#endif
