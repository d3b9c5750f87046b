#include "clae/ops.h"

#define POOL_ARGS(g)                                                                               \
    KARG_U32((g)->planes), KARG_U32((g)->h), KARG_U32((g)->w), KARG_U32((g)->k), KARG_U32((g)->s), \
        KARG_U32((g)->pad), KARG_U32((g)->ho), KARG_U32((g)->wo)

int clae_op_max_pool(clae_ctx *ctx, clae_tensor *y, clae_tensor *arg, const clae_tensor *x,
                     const clae_pool_geom *g)
{
    /* CPU devices run a work-item per output row (pool.cl) */
    size_t items = (size_t)g->planes * g->ho * (ctx->dev.kind == CLAE_DEV_CPU ? 1 : (size_t)g->wo);
    return CLAE_LAUNCH(ctx, "max_pool_forward", items, KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(clae_buf(arg)), KARG_U32(arg->off), KARG_MEM(clae_buf(x)),
                       KARG_U32(x->off), POOL_ARGS(g));
}

int clae_op_max_pool_backward(clae_ctx *ctx, clae_tensor *dx, const clae_tensor *dy,
                              const clae_tensor *arg, const clae_pool_geom *g)
{
    size_t items = g->s < g->k ? (size_t)g->planes : (size_t)g->planes * g->ho; /* see pool.cl */
    return CLAE_LAUNCH(ctx, "max_pool_backward", items, KARG_MEM(clae_buf(dx)), KARG_U32(dx->off),
                       KARG_MEM(clae_buf(dy)), KARG_U32(dy->off), KARG_MEM(clae_buf(arg)),
                       KARG_U32(arg->off), POOL_ARGS(g));
}

int clae_op_avg_pool(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, const clae_pool_geom *g)
{
    return CLAE_LAUNCH(ctx, "avg_pool_forward", (size_t)g->planes * g->ho * g->wo,
                       KARG_MEM(clae_buf(y)), KARG_U32(y->off), KARG_MEM(clae_buf(x)),
                       KARG_U32(x->off), POOL_ARGS(g));
}

int clae_op_avg_pool_backward(clae_ctx *ctx, clae_tensor *dx, const clae_tensor *dy,
                              const clae_pool_geom *g)
{
    return CLAE_LAUNCH(ctx, "avg_pool_backward", (size_t)g->planes * g->h * g->w,
                       KARG_MEM(clae_buf(dx)), KARG_U32(dx->off), KARG_MEM(clae_buf(dy)),
                       KARG_U32(dy->off), POOL_ARGS(g));
}

int clae_op_upsample(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, int planes, int h, int w,
                     int f, bool bilinear)
{
    return CLAE_LAUNCH(ctx, "upsample_forward", (size_t)planes * h * f,
                       /* one work-item per output row */ KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(clae_buf(x)), KARG_U32(x->off), KARG_U32(planes), KARG_U32(h),
                       KARG_U32(w), KARG_U32(f), KARG_I32(bilinear));
}

int clae_op_upsample_backward(clae_ctx *ctx, clae_tensor *dx, const clae_tensor *dy, int planes,
                              int h, int w, int f, bool bilinear)
{
    /* CPU devices run nearest as a work-item per input row (upsample.cl) */
    size_t items = (size_t)planes * h *
                   (ctx->dev.kind == CLAE_DEV_CPU && !bilinear ? 1 : (size_t)w);
    return CLAE_LAUNCH(ctx, "upsample_backward", items, KARG_MEM(clae_buf(dx)), KARG_U32(dx->off),
                       KARG_MEM(clae_buf(dy)), KARG_U32(dy->off), KARG_U32(planes), KARG_U32(h),
                       KARG_U32(w), KARG_U32(f), KARG_I32(bilinear));
}
