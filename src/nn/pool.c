/* Max and average pooling, PyTorch's nn.MaxPool2d / nn.AvgPool2d (ceil_mode
 * False, count_include_pad True). Max pool keeps the argmax of each window for
 * the backward, which routes each gradient to it. */
#include "clae/nn.h"

static clae_pool_geom pool_geom(const clae_layer *l, int n)
{
    const clae_layer_spec *s = &l->spec;
    return (clae_pool_geom){n * l->in.c, l->in.h,    l->in.w,  s->kernel,
                            s->stride,   s->padding, l->out.h, l->out.w};
}

static int pool_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                        bool train)
{
    (void)train;
    clae_pool_geom g = pool_geom(l, x->shape.n);
    if (l->spec.type == CLAE_LAYER_AVG_POOL) return clae_op_avg_pool(ctx, y, x, &g);
    clae_tensor arg = clae_rows(&l->aux, x->shape.n);
    return clae_op_max_pool(ctx, y, &arg, x, &g);
}

static int pool_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                         const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    if (!dx) return 0;
    clae_pool_geom g = pool_geom(l, x->shape.n);
    if (l->spec.type == CLAE_LAYER_AVG_POOL) return clae_op_avg_pool_backward(ctx, dx, dy, &g);
    clae_tensor arg = clae_rows(&l->aux, x->shape.n);
    return clae_op_max_pool_backward(ctx, dx, dy, &arg, &g);
}

static const clae_layer_ops pool_ops = {pool_forward, pool_backward, clae_layer_no_init};

static int pool_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    const clae_layer_spec *s = &l->spec;
    if (2 * s->padding > s->kernel)
        return clae_fail(
            err, "%s:%d: [%s] padding %d must be at most half the kernel %d (as in PyTorch)",
            CLAE_LAYER_WHERE(l), s->padding, s->kernel);
    if (l->in.h + 2 * s->padding < s->kernel || l->in.w + 2 * s->padding < s->kernel)
        return clae_fail(err, "%s:%d: [%s] kernel %d is larger than the padded %dx%d input",
                         CLAE_LAYER_WHERE(l), s->kernel, l->in.h + 2 * s->padding,
                         l->in.w + 2 * s->padding);
    l->ops = &pool_ops;
    l->out = (clae_shape){1, l->in.c, (l->in.h + 2 * s->padding - s->kernel) / s->stride + 1,
                          (l->in.w + 2 * s->padding - s->kernel) / s->stride + 1};
    l->aux_per = s->type == CLAE_LAYER_MAX_POOL ? clae_shape_sample(l->out) : 0;
    return 0;
}

/* stride = kernel unless given, as PyTorch */
static void pool_resolve(clae_layer_spec *s)
{
    if (s->stride == 0) s->stride = s->kernel;
}

#define POOL(t, k, st, pad)                                  \
    {                                                        \
        .type = t, .kernel = k, .stride = st, .padding = pad \
    }
const clae_layer_kind clae_kind_max_pool = {
    .type = CLAE_LAYER_MAX_POOL,
    .names = {{"max_pool", "kernel stride padding"}},
    .setup = pool_setup,
    .resolve = pool_resolve,
    .checks = {{POOL(CLAE_LAYER_MAX_POOL, 2, 2, 0), {1, 2, 6, 4}, 2},
               {POOL(CLAE_LAYER_MAX_POOL, 3, 2, 1), {1, 3, 7, 5}, 1},
               /* rows of 9 windows (CPU vectors of 8, the last overlapping), a last row and
                * column that no window reads */
               {POOL(CLAE_LAYER_MAX_POOL, 2, 2, 0), {1, 2, 5, 19}, 2},
               /* rows of 6 windows: vectors of 4 at 0 and 2 */
               {POOL(CLAE_LAYER_MAX_POOL, 2, 2, 0), {1, 2, 4, 13}, 1}},
};

const clae_layer_kind clae_kind_avg_pool = {
    .type = CLAE_LAYER_AVG_POOL,
    .names = {{"avg_pool", "kernel stride padding"}},
    .setup = pool_setup,
    .resolve = pool_resolve,
    .checks = {{POOL(CLAE_LAYER_AVG_POOL, 2, 2, 0), {1, 2, 6, 4}, 2},
               {POOL(CLAE_LAYER_AVG_POOL, 3, 1, 1), {1, 1, 5, 5}, 3}},
};
