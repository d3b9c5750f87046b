/* One context and one in-order queue on the chosen device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/runtime.h"

int clae_build_program(clae_ctx *ctx); /* program.c */
int clae_gemm_init(clae_ctx *ctx);     /* ops/gemm.c */
void clae_gemm_release(clae_ctx *ctx);

static void choose_build_options(clae_ctx *ctx)
{
    /* Strict math unless the user opts in (CLAE_CL_OPTIONS=-cl-fast-relaxed-math). */
    const char *extra = getenv("CLAE_CL_OPTIONS");
    snprintf(ctx->build_options, sizeof ctx->build_options, "-DCLAE_CPU=%d %s",
             ctx->dev.kind == CLAE_DEV_CPU, extra ? extra : "");
}

int clae_ctx_create(clae_ctx *ctx, const char *device_spec, clae_err *err)
{
    memset(ctx, 0, sizeof *ctx);
    if (clae_select_device(device_spec, &ctx->dev, err)) return -1;
    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->dev.platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->dev.device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        clae_cl_fail(ctx, rc, "clCreateContext");
        goto fail;
    }
    const char *prof = getenv("CLAE_PROFILE");
    ctx->profiling = prof && *prof && strcmp(prof, "0") != 0;
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->dev.device,
                                      ctx->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &rc);
    if (rc != CL_SUCCESS) {
        clae_cl_fail(ctx, rc, "clCreateCommandQueue");
        goto fail;
    }
    choose_build_options(ctx);
    if (clae_build_program(ctx) || clae_gemm_init(ctx) || clae_tuning_load(ctx)) goto fail;
    return 0;
fail:
    if (err) *err = ctx->err;
    clae_ctx_release(ctx);
    return -1;
}

void clae_ctx_release(clae_ctx *ctx)
{
    clae_gemm_release(ctx);
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

int clae_finish(clae_ctx *ctx)
{
    CLAE_CL_TRY(ctx, clFinish(ctx->queue), "clFinish (an earlier asynchronous command failed)");
    return 0;
}
