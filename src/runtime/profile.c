/* CLAE_PROFILE=1: device time per kernel family from OpenCL event timestamps. Each
 * command is waited for, so totals are exact per kernel but the run is slower. */
#include <stdlib.h>
#include <string.h>

#include "clae/runtime.h"

/* A kernel's family: its name without a variant suffix such as _8x2x16 or _32
 * (conv_rows_8x1x16 and conv_rows_8x2x16 are both conv_rows). */
static void family(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s", name);
    char *us = strrchr(out, '_');
    if (!us || !us[1]) return;
    for (const char *p = us + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == 'x')) return;
    *us = 0;
}

void clae_profile_event(clae_ctx *ctx, const char *kernel, cl_event ev)
{
    char name[64];
    family(kernel, name, sizeof name);
    cl_ulong t0 = 0, t1 = 0;
    if (clWaitForEvents(1, &ev) == CL_SUCCESS &&
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) ==
            CL_SUCCESS &&
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) == CL_SUCCESS) {
        int i = 0;
        while (i < ctx->n_prof && strcmp(ctx->prof[i].name, name) != 0) i++;
        if (i == ctx->n_prof && ctx->n_prof < CLAE_MAX_PROF)
            snprintf(ctx->prof[ctx->n_prof++].name, 64, "%s", name);
        if (i < ctx->n_prof) {
            ctx->prof[i].seconds += (double)(t1 - t0) * 1e-9;
            ctx->prof[i].count++;
        }
    }
    clReleaseEvent(ev);
}

static int by_time(const void *a, const void *b)
{
    double x = ((const clae_prof_entry *)a)->seconds, y = ((const clae_prof_entry *)b)->seconds;
    return (x < y) - (x > y);
}

void clae_profile_print(clae_ctx *ctx, FILE *f, long steps)
{
    if (!ctx->profiling || ctx->n_prof == 0) return;
    qsort(ctx->prof, (size_t)ctx->n_prof, sizeof ctx->prof[0], by_time);
    double total = 0;
    for (int i = 0; i < ctx->n_prof; i++) total += ctx->prof[i].seconds;
    fprintf(f, "profile (device time%s):\n", steps > 0 ? " per step" : "");
    for (int i = 0; i < ctx->n_prof; i++) {
        const clae_prof_entry *p = &ctx->prof[i];
        double per = steps > 0 ? p->seconds / (double)steps : p->seconds;
        fprintf(f, "  %-40s %9.3f ms %5.1f%%  %ld calls\n", p->name, per * 1e3,
                100.0 * p->seconds / total, p->count);
    }
}

void clae_profile_reset(clae_ctx *ctx)
{
    memset(ctx->prof, 0, sizeof ctx->prof);
    ctx->n_prof = 0;
}
