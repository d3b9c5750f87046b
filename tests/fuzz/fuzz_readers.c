/* libFuzzer harness over the .npy and checkpoint readers (readers.h).
 * Built and run by scripts/fuzz.sh with clang's -fsanitize=fuzzer,address,undefined. */
#include <unistd.h>

#include "readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/clae_fuzz_%d.bin", (int)getpid());
    if (fuzz_reader_input(path, data, n)) abort(); /* a refusal without its one line */
    return 0;
}
