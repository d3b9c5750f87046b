/* The device's FMA peak (cl/peak.cl): the best of the float, float4, float8
 * and float16 kernels, each grown until a launch takes 50 ms, then timed best
 * of 3. On a CPU one work-item per work-group, four per compute unit; on a GPU
 * 2048 per compute unit in groups of 64. */
#include <math.h>
#include <stdio.h>

#include "clae/clock.h"
#include "clae/ops.h"

#define PEAK_CHAINS 12 /* cl/peak.cl FMA_PEAK_CHAINS */
#define PEAK_MIN_S 0.05

static int time_launch(clae_ctx *ctx, const char *name, cl_mem out, size_t items, size_t group,
                       cl_uint iters, double *seconds)
{
    clae_karg args[] = {KARG_MEM(out), KARG_U32(iters), KARG_F32(0.999f), KARG_F32(0.001f)};
    double t0 = clae_now();
    if (clae_launch2(ctx, name, "fma_peak", items, 1, group, args, 4) || clae_finish(ctx))
        return -1;
    *seconds = clae_now() - t0;
    return 0;
}

/* One width: GFLOP/s, or -1 with ctx->err set. */
static double width_gflops(clae_ctx *ctx, int width, cl_mem out, size_t items, size_t group)
{
    char name[32];
    snprintf(name, sizeof name, "fma_peak_%d", width);
    cl_uint iters = 64;
    double t = 0;
    /* the first launch compiles the kernel (PoCL): not a measurement */
    if (time_launch(ctx, name, out, items, group, 1, &t)) return -1;
    for (;;) {
        if (time_launch(ctx, name, out, items, group, iters, &t)) return -1;
        if (t >= PEAK_MIN_S || iters >= (1u << 26)) break;
        double grow = t > 0 ? 1.2 * PEAK_MIN_S / t : 16;
        iters = (cl_uint)fmin((double)iters * fmin(fmax(grow, 2), 16), (double)(1u << 26));
    }
    double best = t;
    for (int rep = 0; rep < 2; rep++) {
        if (time_launch(ctx, name, out, items, group, iters, &t)) return -1;
        if (t < best) best = t;
    }
    return (double)items * iters * PEAK_CHAINS * width * 2.0 / best * 1e-9;
}

int clae_fma_peak(clae_ctx *ctx, clae_fma_peak_result *r)
{
    static const int widths[] = {1, 4, 8, 16};
    const bool cpu = ctx->dev.kind == CLAE_DEV_CPU;
    size_t units = ctx->dev.compute_units ? ctx->dev.compute_units : 1;
    size_t items = units * (cpu ? 4 : 2048), group = cpu ? 1 : 64;
    cl_int rc;
    cl_mem out = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, items * sizeof(float), NULL, &rc);
    if (rc != CL_SUCCESS) return clae_cl_fail(ctx, rc, "clCreateBuffer (FMA peak)");
    r->gflops = 0, r->width = 0;
    int status = 0;
    for (size_t i = 0; i < sizeof widths / sizeof *widths && status == 0; i++) {
        double g = width_gflops(ctx, widths[i], out, items, group);
        if (g < 0) status = -1;
        r->by_width[i] = g;
        if (g > r->gflops) r->gflops = g, r->width = widths[i];
    }
    float first = 0;
    if (status == 0 && (rc = clEnqueueReadBuffer(ctx->queue, out, CL_TRUE, 0, sizeof first, &first,
                                                 0, NULL, NULL)) != CL_SUCCESS)
        status = clae_cl_fail(ctx, rc, "clEnqueueReadBuffer (FMA peak)");
    if (status == 0 && !isfinite(first))
        status = clae_fail(&ctx->err, "FMA peak: the kernel produced %g, not a number", first);
    clReleaseMemObject(out);
    return status;
}
