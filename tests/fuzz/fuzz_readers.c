/* libFuzzer harness over clae's file readers (readers.h). Built and run by
 * scripts/fuzz.sh with clang's -fsanitize=fuzzer,address,undefined; with
 * CLAE_FUZZ_READER=NAME every input goes to that reader (its selector byte is
 * forced), so each reader gets its own run and corpus. */
#include <unistd.h>

#include "readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    static int forced = -2; /* -1: the first byte picks */
    if (forced == -2) {
        const char *r = getenv("CLAE_FUZZ_READER");
        forced = -1;
        for (int k = 0; r && k < FUZZ_READERS; k++)
            if (strcmp(r, fuzz_reader_names[k]) == 0) forced = k;
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/clae_fuzz_%d.bin", (int)getpid());
    if (n == 0) return 0;
    uint8_t *input = malloc(n);
    memcpy(input, data, n);
    if (forced >= 0) input[0] = (uint8_t)forced;
    int rc = fuzz_reader_input(path, input, n);
    free(input);
    if (rc) abort(); /* a refusal without its one line */
    return 0;
}
