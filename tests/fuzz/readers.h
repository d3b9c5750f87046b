/* One fuzz input for the byte readers of this series: the first byte picks
 * the reader (.npy or checkpoint), the rest is the file. Each reader must
 * return 0 or fail with one line (non-empty, no newline), never crash, read
 * out of bounds or leak; what a checkpoint holds of config text is parsed
 * too. Shared by the libFuzzer harness (fuzz_readers.c) and the suite's
 * seeded mutation test (test_fuzz_readers.c). */
#ifndef CLAE_TEST_FUZZ_READERS_H
#define CLAE_TEST_FUZZ_READERS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/io.h"

/* 0: accepted or refused cleanly; -1: a refusal without a proper one-line message */
static inline int fuzz_reader_input(const char *path, const uint8_t *data, size_t n)
{
    if (n == 0) return 0;
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data + 1, 1, n - 1, f);
    fclose(f);
    clae_err err = {{0}};
    int rc;
    if (data[0] & 1) {
        float *v = NULL;
        size_t rows, cols;
        rc = clae_npy_read(path, &v, &rows, &cols, &err);
        if (rc == 0 && !v) return -1;
        free(v);
    } else {
        clae_ckpt_meta meta;
        clae_ckpt_data d;
        rc = clae_ckpt_load(path, &meta, &d, &err);
        if (rc == 0) {
            if (!d.config || !d.layers || strlen(d.config) != meta.config_bytes) return -1;
            clae_ckpt_data_free(&d);
        }
    }
    if (rc == 0) return 0;
    if (err.msg[0] && !strchr(err.msg, '\n')) return 0;
    fprintf(stderr, "refusal without one line: [%s]\n", err.msg);
    return -1;
}

#endif
