/* fuzz_strace.c: libFuzzer target for the strace importer (a plain function under gcc: fuzz/replay_main.c runs it over files). */
#include "fuzz/fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_import("strace", data, size);
	return 0;
}
