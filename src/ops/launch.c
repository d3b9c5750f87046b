/* One place sets kernel arguments and work sizes, so every op reports
 * failures the same way: "clEnqueueNDRangeKernel(act_forward) failed: CL_..." */
#include <stdio.h>

#include "clae/ops.h"

#define GROUP 256 /* 1-D groups: PoCL runs a group as one loop; GPUs like 256 */

/* The kernel called name with its arguments set, or NULL with ctx->err set. */
static cl_kernel with_args(clae_ctx *ctx, const char *name, const clae_karg *args, int nargs)
{
    cl_kernel k = clae_kernel(ctx, name);
    if (!k) return NULL;
    for (int i = 0; i < nargs; i++) {
        cl_int rc = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (rc != CL_SUCCESS) {
            char what[128];
            snprintf(what, sizeof what, "clSetKernelArg(%s, arg %d)", name, i);
            clae_cl_fail(ctx, rc, what);
            return NULL;
        }
    }
    return k;
}

static int enqueue(clae_ctx *ctx, cl_kernel k, const char *name, const char *profile_name,
                   cl_uint dims, const size_t *global, const size_t *local)
{
    cl_event ev = NULL;
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, global, local, 0, NULL,
                                       ctx->profiling ? &ev : NULL);
    if (rc != CL_SUCCESS) {
        char what[128];
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", name);
        return clae_cl_fail(ctx, rc, what);
    }
    if (ev) clae_profile_event(ctx, profile_name ? profile_name : name, ev);
    return 0;
}

/* PoCL runs each group as one task on one of its compute_units threads, so a CPU gets at least
 * 8 groups a thread where the work allows (groups halved down to 16 items): a launch of a few
 * hundred items in groups of 256 would run on one or two cores while the others wait. */
static size_t group_for(const clae_ctx *ctx, size_t n)
{
    size_t local = GROUP < ctx->dev.max_work_group ? GROUP : ctx->dev.max_work_group;
    if (ctx->dev.kind == CLAE_DEV_CPU) {
        size_t want = 8 * (size_t)(ctx->dev.compute_units ? ctx->dev.compute_units : 1);
        while (local > 16 && (n + local - 1) / local < want) local /= 2;
    }
    return n <= local ? n : local;
}

int clae_launch(clae_ctx *ctx, const char *name, size_t n, const clae_karg *args, int nargs)
{
    if (n == 0) return 0;
    cl_kernel k = with_args(ctx, name, args, nargs);
    if (!k) return -1;
    size_t local = group_for(ctx, n);
    size_t global = (n + local - 1) / local * local;
    return enqueue(ctx, k, name, NULL, 1, &global, &local);
}

int clae_launch2(clae_ctx *ctx, const char *name, const char *profile_name, size_t n0, size_t n1,
                 size_t group0, const clae_karg *args, int nargs)
{
    if (n0 == 0 || n1 == 0) return 0;
    cl_kernel k = with_args(ctx, name, args, nargs);
    if (!k) return -1;
    size_t g0 = group0 < n0 ? group0 : n0;
    size_t local[2] = {g0, 1}, global[2] = {(n0 + g0 - 1) / g0 * g0, n1};
    return enqueue(ctx, k, name, profile_name, 2, global, local);
}
