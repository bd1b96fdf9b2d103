/* replay_main.c: runs a fuzz target's LLVMFuzzerTestOneInput over every file in the given directories, so the corpora and regressions replay under ctest without clang or libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot open\n", path);
		return -1;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (n == cap)
			buf = realloc(buf, cap *= 2);
		if (!buf) {
			fprintf(stderr, "%s: out of memory\n", path);
			fclose(f);
			return -1;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (!r)
			break;
		n += r;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: read error\n", path);
		free(buf);
		return -1;
	}
	fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
	/* An exact-size copy, so that ASan sees reads past the end of the input. */
	uint8_t *data = malloc(n ? n : 1);
	memcpy(data, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	replayed++;
	return 0;
}

/* Directory entries that are documentation, not inputs. */
static int is_input(const struct dirent *d)
{
	return d->d_name[0] != '.' && strcmp(d->d_name, "README.md") != 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st)) {
			fprintf(stderr, "%s: no such file or directory\n", argv[i]);
			rc = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]))
				rc = 1;
			continue;
		}
		struct dirent **ents;
		int n = scandir(argv[i], &ents, is_input, alphasort);
		if (n < 0) {
			fprintf(stderr, "%s: cannot list\n", argv[i]);
			rc = 1;
			continue;
		}
		for (int j = 0; j < n; j++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], ents[j]->d_name);
			if (!stat(path, &st) && S_ISREG(st.st_mode) && run_file(path))
				rc = 1;
			free(ents[j]);
		}
		free(ents);
	}
	fprintf(stderr, "replayed %lu inputs\n", replayed);
	if (!replayed) {
		fprintf(stderr, "no inputs found\n");
		rc = 1;
	}
	return rc;
}
