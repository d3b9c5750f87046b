/* One context and one in-order queue on the chosen device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/runtime.h"

static void choose_build_options(clae_ctx *ctx, const char *extra)
{
    /* Strict math unless the user opts in (CLAE_CL_OPTIONS=-cl-fast-relaxed-math). No
     * compiler warnings (-w): PoCL prints "N warnings generated." to the user's terminal for
     * notes that are not faults (float16 arguments on an AVX2 target, an unroll hint on a
     * loop of one trip); build errors still come with their log. */
    snprintf(ctx->build_options, sizeof ctx->build_options, "-w -DCLAE_CPU=%d %s",
             ctx->dev.kind == CLAE_DEV_CPU, extra ? extra : "");
}

int clae_ctx_create(clae_ctx *ctx, const char *device_spec, clae_err *err)
{
    clae_ctx_opts o = {.device = device_spec};
    return clae_ctx_open(ctx, &o, err);
}

int clae_ctx_open(clae_ctx *ctx, const clae_ctx_opts *o, clae_err *err)
{
    memset(ctx, 0, sizeof *ctx);
    if (clae_select_device_for_rank(o->device, o->in_job ? o->local_rank : -1, &ctx->dev, err))
        return -1;
    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->dev.platform,
                                     0};
    ctx->context = clCreateContext(props, 1, &ctx->dev.device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        clae_cl_fail(ctx, rc, "clCreateContext");
        goto fail;
    }
    ctx->profiling = o->profiling;
    ctx->rebuild = o->rebuild;
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->dev.device,
                                      ctx->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &rc);
    if (rc != CL_SUCCESS) {
        clae_cl_fail(ctx, rc, "clCreateCommandQueue");
        goto fail;
    }
    choose_build_options(ctx, o->cl_options);
    if (clae_build_program(ctx)) goto fail;
    return 0;
fail:
    if (err) *err = ctx->err;
    clae_ctx_release(ctx);
    return -1;
}

void clae_ctx_release(clae_ctx *ctx)
{
    for (int i = 0; i < ctx->n_kernels; i++) clReleaseKernel(ctx->kernels[i].kernel);
    free(ctx->kernels);
    ctx->kernels = NULL;
    ctx->n_kernels = 0;
    if (ctx->program) clReleaseProgram(ctx->program);
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->context) clReleaseContext(ctx->context);
    ctx->program = NULL;
    ctx->queue = NULL;
    ctx->context = NULL;
}

cl_mem clae_buffer(clae_ctx *ctx, size_t bytes, const void *host, const char *what)
{
    cl_int rc;
    cl_mem m = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | (host ? CL_MEM_COPY_HOST_PTR : 0),
                              bytes ? bytes : 4, (void *)host, &rc);
    if (rc != CL_SUCCESS) {
        clae_cl_fail(ctx, rc, what);
        return NULL;
    }
    return m;
}

int clae_finish(clae_ctx *ctx)
{
    CLAE_CL_TRY(ctx, clFinish(ctx->queue), "clFinish (an earlier asynchronous command failed)");
    return 0;
}
