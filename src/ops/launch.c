/* One place sets kernel arguments and work sizes, so every op reports
 * failures the same way: "clEnqueueNDRangeKernel(act_forward) failed: CL_..." */
#include <stdio.h>

#include "clae/ops.h"

#define GROUP 256 /* 1-D groups: PoCL runs a group as one loop; GPUs like 256 */

int clae_launch(clae_ctx *ctx, const char *name, size_t n, const clae_karg *args, int nargs)
{
    if (n == 0) return 0;
    cl_kernel k = clae_kernel(ctx, name);
    if (!k) return -1;
    char what[128];
    for (int i = 0; i < nargs; i++) {
        cl_int rc = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (rc != CL_SUCCESS) {
            snprintf(what, sizeof what, "clSetKernelArg(%s, arg %d)", name, i);
            return clae_cl_fail(ctx, rc, what);
        }
    }
    size_t local = GROUP < ctx->dev.max_work_group ? GROUP : ctx->dev.max_work_group;
    if (n <= local) local = n;
    size_t global = (n + local - 1) / local * local;
    cl_event ev = NULL;
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, 1, NULL, &global, &local, 0, NULL, ctx->profiling ? &ev : NULL);
    if (rc != CL_SUCCESS) {
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", name);
        return clae_cl_fail(ctx, rc, what);
    }
    if (ev) clae_profile_event(ctx, name, ev);
    return 0;
}
