#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clae/tensor.h"

#define ARENA_ALIGN 32 /* floats: 128-byte aligned views for vector loads */

void clae_arena_init(clae_arena *a, const char *what)
{
    memset(a, 0, sizeof *a);
    a->flags = CL_MEM_READ_WRITE;
    a->what = what;
}

clae_tensor clae_arena_reserve(clae_arena *a, clae_shape shape)
{
    clae_tensor t = {.arena = a, .off = a->capacity, .shape = shape};
    size_t n = clae_shape_numel(shape);
    a->capacity += (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    return t;
}

int clae_arena_alloc(clae_ctx *ctx, clae_arena *a)
{
    size_t bytes = (a->capacity ? a->capacity : 1) * sizeof(float);
    if (a->capacity > UINT32_MAX) /* kernels take offsets as 32-bit counts of floats */
        return clae_fail(&ctx->err,
                         "the %s take %.1f MiB in one buffer, more than the 16 GiB clae's kernels "
                         "address: lower train.batch_size or the layer sizes",
                         a->what, bytes / 1048576.0);
    if (bytes > ctx->dev.max_alloc || bytes > ctx->dev.global_mem)
        return clae_fail(&ctx->err,
                         "the %s take %.1f MiB in one buffer but %s allows %.1f MiB per allocation "
                         "(%.1f MiB in all): lower train.batch_size or the layer sizes",
                         a->what, bytes / 1048576.0, ctx->dev.name, ctx->dev.max_alloc / 1048576.0,
                         ctx->dev.global_mem / 1048576.0);
    cl_int rc;
    a->buf = clCreateBuffer(ctx->context, a->flags, bytes, NULL, &rc);
    if (rc != CL_SUCCESS) return clae_cl_fail(ctx, rc, a->what);
    a->used = a->capacity;
    return 0;
}

void clae_arena_release(clae_arena *a)
{
    if (a->buf) clReleaseMemObject(a->buf);
    a->buf = NULL;
}

int clae_tensor_write(clae_ctx *ctx, const clae_tensor *t, const float *host, size_t n)
{
    CLAE_CL_TRY(ctx,
                clEnqueueWriteBuffer(ctx->queue, clae_buf(t), CL_TRUE, t->off * sizeof(float),
                                     n * sizeof(float), host, 0, NULL, NULL),
                "clEnqueueWriteBuffer (tensor upload)");
    return 0;
}

int clae_tensor_read(clae_ctx *ctx, const clae_tensor *t, float *host, size_t n)
{
    CLAE_CL_TRY(ctx,
                clEnqueueReadBuffer(ctx->queue, clae_buf(t), CL_TRUE, t->off * sizeof(float),
                                    n * sizeof(float), host, 0, NULL, NULL),
                "clEnqueueReadBuffer (tensor download)");
    return 0;
}

int clae_tensor_create(clae_ctx *ctx, clae_shape shape, clae_tensor *t)
{
    clae_arena *a = malloc(sizeof *a);
    if (!a) return clae_fail(&ctx->err, "out of host memory");
    clae_arena_init(a, "tensor");
    *t = clae_arena_reserve(a, shape);
    if (clae_arena_alloc(ctx, a)) {
        free(a);
        t->arena = NULL;
        return -1;
    }
    return 0;
}

void clae_tensor_destroy(clae_tensor *t)
{
    if (!t->arena) return;
    clae_arena_release(t->arena);
    free(t->arena);
    t->arena = NULL;
}
