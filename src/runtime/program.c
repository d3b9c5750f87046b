/* The kernel program: sources embedded at build time (or read from
 * $CLAE_KERNEL_DIR), built once per device and cached on disk under a hash of
 * device, driver, platform, source and options. A broken cache entry falls back
 * to a source build silently; a source build failure reports the compiler log.
 *
 * PoCL is the exception: it keeps its own cache of built programs and of each
 * kernel's machine code, compiled on the kernel's first launch. Asking it for
 * a program binary compiles all 80-odd kernels at once (13.6 s of a 16 s cold
 * start on a 2-core EPYC), so there clae builds from source and lets PoCL's
 * cache answer (0.04 s warm). CLAE_PROGRAM_CACHE=binary|driver overrides. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clae/clock.h"
#include "clae/runtime.h"
#include "clae_kernels.h" /* generated from cl/ by tools/embed_cl.py */

typedef struct {
    char *text;
    size_t len, cap;
} strbuf;

static int sb_append(strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 65536);
        while (cap < b->len + n + 1) cap *= 2;
        char *t = realloc(b->text, cap);
        if (!t) return -1;
        b->text = t;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->text[b->len] = 0;
    return 0;
}

static char *read_whole_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                buf[n] = 0;
                *len = (size_t)n;
            }
        }
    }
    fclose(f);
    return buf;
}

/* All .cl files in one translation unit, in the order of cl/ listed at build
 * time, after include/clae/kinds.h (always the embedded copy: CLAE_KERNEL_DIR
 * holds the .cl files). */
static int gather_source(strbuf *src, clae_err *err)
{
    const char *dir = getenv("CLAE_KERNEL_DIR");
    for (size_t i = 0; i < CLAE_N_EMBEDDED_KERNELS; i++) {
        const clae_embedded_kernel *k = &clae_embedded_kernels[i];
        int rc;
        if (dir && *dir && strstr(k->name, ".cl")) {
            char path[1024];
            size_t n = 0;
            snprintf(path, sizeof path, "%s/%s", dir, k->name);
            char *text = read_whole_file(path, &n);
            if (!text)
                return clae_fail(err, "CLAE_KERNEL_DIR: cannot read %s: %s", path, strerror(errno));
            rc = sb_append(src, text, n);
            free(text);
        } else {
            rc = sb_append(src, k->source, strlen(k->source));
        }
        if (rc || sb_append(src, "\n", 1))
            return clae_fail(err, "out of host memory assembling kernels");
    }
    return 0;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

static uint64_t program_key(const clae_device_info *d, const char *options, const strbuf *src)
{
    const char *parts[] = {d->name,
                           d->vendor,
                           d->driver_version,
                           d->device_version,
                           d->platform_name,
                           d->platform_version,
                           options};
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        h = fnv1a(h, parts[i], strlen(parts[i]) + 1);
    return fnv1a(h, src->text, src->len);
}

static int mkdir_p(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    return (mkdir(tmp, 0755) && errno != EEXIST) ? -1 : 0;
}

void clae_cache_path(char *out, size_t n, const char *sub)
{
    const char *v;
    if ((v = getenv("CLAE_CACHE_DIR")) && *v)
        snprintf(out, n, "%s/%s", v, sub);
    else if ((v = getenv("XDG_CACHE_HOME")) && *v)
        snprintf(out, n, "%s/clae/%s", v, sub);
    else if ((v = getenv("HOME")) && *v)
        snprintf(out, n, "%s/.cache/clae/%s", v, sub);
    else
        out[0] = 0;
}

static cl_program load_cached(clae_ctx *ctx, const char *path)
{
    size_t n = 0;
    unsigned char *bin = (unsigned char *)read_whole_file(path, &n);
    if (!bin || n == 0) {
        free(bin);
        return NULL;
    }
    cl_int rc, status;
    const unsigned char *bins[1] = {bin};
    cl_program p = clCreateProgramWithBinary(ctx->context, 1, &ctx->dev.device, &n, bins, &status,
                                             &rc);
    free(bin);
    if (rc != CL_SUCCESS || status != CL_SUCCESS) return NULL;
    if (clBuildProgram(p, 1, &ctx->dev.device, ctx->build_options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(p);
        return NULL;
    }
    return p;
}

/* Best effort: a cache that cannot be written only costs the next run a build. */
static void store_cached(clae_ctx *ctx, const char *dir, const char *path)
{
    size_t n = 0;
    if (clGetProgramInfo(ctx->program, CL_PROGRAM_BINARY_SIZES, sizeof n, &n, NULL) != CL_SUCCESS ||
        n == 0)
        return;
    unsigned char *bin = malloc(n);
    if (!bin) return;
    unsigned char *bins[1] = {bin};
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = NULL;
    if (clGetProgramInfo(ctx->program, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) ==
            CL_SUCCESS &&
        mkdir_p(dir) == 0 && (f = fopen(tmp, "wb"))) {
        bool ok = fwrite(bin, 1, n, f) == n;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) remove(tmp);
    }
    free(bin);
}

static int build_from_source(clae_ctx *ctx, const strbuf *src)
{
    cl_int rc;
    const char *text = src->text;
    ctx->program = clCreateProgramWithSource(ctx->context, 1, &text, &src->len, &rc);
    CLAE_CL_TRY(ctx, rc, "clCreateProgramWithSource");
    rc = clBuildProgram(ctx->program, 1, &ctx->dev.device, ctx->build_options, NULL, NULL);
    if (rc == CL_SUCCESS) return 0;
    size_t n = 0;
    clGetProgramBuildInfo(ctx->program, ctx->dev.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
    char *log = malloc(n + 1);
    if (log && clGetProgramBuildInfo(ctx->program, ctx->dev.device, CL_PROGRAM_BUILD_LOG, n, log,
                                     NULL) == CL_SUCCESS) {
        log[n] = 0;
        fprintf(stderr, "OpenCL compiler log for %s:\n%s\n", ctx->dev.name, log);
    }
    free(log);
    return clae_fail(
        &ctx->err, "building the kernels for %s failed: %s (%d); the compiler log is printed above",
        ctx->dev.name, clae_cl_error_name(rc), (int)rc);
}

static int create_kernels(clae_ctx *ctx)
{
    cl_uint n = 0;
    CLAE_CL_TRY(ctx, clCreateKernelsInProgram(ctx->program, 0, NULL, &n),
                "clCreateKernelsInProgram");
    cl_kernel *ks = calloc(n, sizeof *ks);
    ctx->kernels = calloc(n, sizeof *ctx->kernels);
    if (!ks || !ctx->kernels) {
        free(ks);
        return clae_fail(&ctx->err, "out of host memory creating kernels");
    }
    cl_int rc = clCreateKernelsInProgram(ctx->program, n, ks, NULL);
    if (rc != CL_SUCCESS) {
        free(ks);
        return clae_cl_fail(ctx, rc, "clCreateKernelsInProgram");
    }
    for (cl_uint i = 0; i < n; i++) {
        ctx->kernels[i].kernel = ks[i];
        clGetKernelInfo(ks[i], CL_KERNEL_FUNCTION_NAME, sizeof ctx->kernels[i].name,
                        ctx->kernels[i].name, NULL);
    }
    ctx->n_kernels = (int)n;
    free(ks);
    return 0;
}

/* Whether the driver caches built programs itself, so that clae keeps no
 * binary: PoCL by default, any driver with CLAE_PROGRAM_CACHE=driver. */
static bool driver_caches(const clae_ctx *ctx)
{
    const char *v = getenv("CLAE_PROGRAM_CACHE");
    if (v && strcmp(v, "binary") == 0) return false;
    if (v && strcmp(v, "driver") == 0) return true;
    return strstr(ctx->dev.platform_name, "Portable Computing Language") != NULL;
}

/* A source build the driver's own cache cannot answer (a rebuild asked for
 * under driver caching): the options carry a define no earlier build had. */
static void append_nonce(clae_ctx *ctx)
{
    size_t n = strlen(ctx->build_options);
    snprintf(ctx->build_options + n, sizeof ctx->build_options - n, " -DCLAE_REBUILD=%lld%ld",
             (long long)(clae_now() * 1e6), (long)getpid());
}

int clae_build_program(clae_ctx *ctx)
{
    double t0 = clae_now();
    strbuf src = {0};
    if (gather_source(&src, &ctx->err)) {
        free(src.text);
        return -1;
    }
    char dir[900], path[1024];
    ctx->program_cache_driver = driver_caches(ctx);
    if (ctx->program_cache_driver) {
        dir[0] = 0;
        if (ctx->rebuild) append_nonce(ctx);
    } else {
        clae_cache_path(dir, sizeof dir, "programs");
    }
    ctx->cache_path[0] = 0;
    ctx->program_from_cache = false;
    if (dir[0]) {
        snprintf(path, sizeof path, "%s/%016llx.bin", dir,
                 (unsigned long long)program_key(&ctx->dev, ctx->build_options, &src));
        snprintf(ctx->cache_path, sizeof ctx->cache_path, "%s", path);
        ctx->program = ctx->rebuild ? NULL : load_cached(ctx, path);
        ctx->program_from_cache = ctx->program != NULL;
    }
    int rc = 0;
    if (!ctx->program) {
        rc = build_from_source(ctx, &src);
        if (rc == 0 && dir[0]) store_cached(ctx, dir, path);
    }
    free(src.text);
    if (rc == 0) rc = create_kernels(ctx);
    ctx->program_seconds = clae_now() - t0;
    return rc;
}

cl_kernel clae_kernel(clae_ctx *ctx, const char *name)
{
    for (int i = 0; i < ctx->n_kernels; i++)
        if (strcmp(ctx->kernels[i].name, name) == 0) return ctx->kernels[i].kernel;
    clae_fail(&ctx->err,
              "kernel '%s' is not in the program (is CLAE_KERNEL_DIR pointing at an old cl/?)",
              name);
    return NULL;
}
