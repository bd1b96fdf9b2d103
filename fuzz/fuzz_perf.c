/* fuzz_perf.c: libFuzzer target for the perf script importer (a plain function under gcc: fuzz/replay_main.c runs it over files). */
#include "fuzz/fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_import("perf", data, size);
	return 0;
}
