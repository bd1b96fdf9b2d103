/* fuzz_import.h: the body shared by the perf and strace fuzz targets: import, and a successful import must be a valid trace that dumps and compiles back exactly. */
#ifndef MMSIM_TRACES_FUZZ_IMPORT_H
#define MMSIM_TRACES_FUZZ_IMPORT_H

#include "fuzz/fuzz_common.h"
#include "traces/trace.h"

/* fz_import: the importer called name (from the table) on data. */
static inline void fz_import(const char *name, const uint8_t *data, size_t size)
{
	const struct tr_importer *imp = tr_importer_find(name);
	FZ_CHECK(imp);
	char in[512], out[512], txt[512], out2[512], err[1024];
	fz_temp(in, sizeof(in), ".txt", data, size);
	fz_temp(out, sizeof(out), ".mmtrace", NULL, 0);
	struct tr_writer *w = tr_writer_open(out, err, sizeof(err));
	FZ_CHECK(w);
	struct tr_import_opts o = { .no_compute = size & 1 };
	struct tr_import_stats st;
	int rc = imp->import(in, w, &o, &st, err, sizeof(err));
	if (rc) {
		fz_msg_ok(err, sizeof(err), in);
		tr_writer_abort(w);
	} else {
		FZ_CHECK(tr_writer_close(w, err, sizeof(err)) == 0);
		/* What an importer writes, a reader takes, and the text form gives back exactly. */
		fz_temp(txt, sizeof(txt), ".txt", NULL, 0);
		if (tr_dump(out, txt, err, sizeof(err))) {
			fprintf(stderr, "fuzz: an imported trace does not read back: %s\n", err);
			abort();
		}
		fz_temp(out2, sizeof(out2), ".mmtrace", NULL, 0);
		if (tr_compile(txt, out2, err, sizeof(err))) {
			fprintf(stderr, "fuzz: the dump of an imported trace does not compile: %s\n", err);
			abort();
		}
		FILE *a = fopen(out, "rb"), *b = fopen(out2, "rb");
		FZ_CHECK(a && b);
		int ca, cb;
		do {
			ca = fgetc(a);
			cb = fgetc(b);
			FZ_CHECK(ca == cb);
		} while (ca != EOF);
		fclose(a);
		fclose(b);
		unlink(txt);
		unlink(out2);
	}
	unlink(in);
	unlink(out);
}

#endif
