/* Shared by the unit tests: one OpenCL context per test binary, random data. */
#ifndef CLAE_TEST_HELPERS_H
#define CLAE_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clae/gemm.h"

/* Fails the current test with the context's last error. */
#define CHECK_OK(ctx, call)                                                \
    do {                                                                   \
        if ((call) != 0) fail_msg("%s failed: %s", #call, (ctx)->err.msg); \
    } while (0)

/* The environment is a test binary's command line: read here, once. */
static inline clae_device_opts test_device_opts(void)
{
    const char *off = getenv("CLAE_NO_TUNING");
    return (clae_device_opts){
        .ctx = {.device = getenv("CLAE_TEST_DEVICE")},
        .gemm = {.force = getenv("CLAE_GEMM"), .no_tuning = off && *off && strcmp(off, "0")}};
}

static inline int test_ctx_setup(void **state)
{
    static clae_ctx ctx; /* one per test binary: building kernels costs ~1 s on PoCL */
    clae_err err;
    clae_device_opts o = test_device_opts();
    if (clae_device_open(&ctx, &o, &err)) {
        fprintf(stderr, "no OpenCL context: %s\n", err.msg);
        return -1;
    }
    *state = &ctx;
    return 0;
}

static inline int test_ctx_teardown(void **state)
{
    clae_device_close(*state);
    return 0;
}

/* Removes a test's scratch folder (best effort: a leftover folder fails nothing). */
static inline void test_remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Writes text to dir/name; the path, in one of 8 buffers used in turn (copy one kept longer). */
static inline const char *test_write_file(const char *dir, const char *name, const char *text)
{
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static inline float test_uniform(unsigned *seed, float lo, float hi)
{
    *seed = *seed * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)((*seed >> 8) & 0xFFFFFF) / 16777216.0f;
}

#endif
