/* Dense (fully connected) layer, PyTorch's nn.Linear layout: W (out, in), b (out).
 *   forward:  y = act(x W^T + b)                       x (N, in), y (N, out)
 *             (one launch after packing W with the own GEMM, which adds b and applies act as it
 * stores) backward: g = act'(y) * dy;  dW += g^T x;  db += sum_n g;  dx = g W */
#include <math.h>

#include "clae/nn.h"

static clae_dense_op dense_op(clae_layer *l)
{
    return (clae_dense_op){.in = clae_shape_sample(l->in),
                           .out = (size_t)l->spec.units,
                           .w = &l->w,
                           .b = l->spec.bias ? &l->b : NULL,
                           .act = l->spec.act,
                           .slope = (float)l->spec.slope};
}

static int dense_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                         bool train)
{
    (void)train;
    clae_dense_op d = dense_op(l);
    return clae_dense_forward(ctx, &d, x, y, (size_t)x->shape.n);
}

static int dense_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                          const clae_tensor *dy, clae_tensor *dx)
{
    clae_dense_op d = dense_op(l);
    size_t rows = (size_t)x->shape.n;
    clae_tensor pre;
    const clae_tensor *g = clae_act_grad(l, ctx, y, dy, &pre);
    if (!g) return -1;
    if (l->spec.bias && clae_op_bias_backward(ctx, &l->db, g, rows, d.out)) return -1;
    return clae_dense_backward(ctx, &d, x, g, &l->dw, dx, rows);
}

static void dense_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    (void)state;
    clae_init_affine(l, (double)clae_shape_sample(l->in), rng, host);
}

static const clae_layer_ops dense_ops = {dense_forward, dense_backward, dense_init};

static int dense_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    if (l->spec.units <= 0)
        return clae_fail(err, "%s:%d: [%s] units must be a positive integer", l->spec.file,
                         l->spec.line, l->spec.section);
    l->ops = &dense_ops;
    l->out = (clae_shape){1, l->spec.units, 1, 1};
    l->n_w = clae_shape_sample(l->in) * (size_t)l->spec.units;
    l->n_b = l->spec.bias ? (size_t)l->spec.units : 0;
    l->scratch_per = l->spec.act != CLAE_ACT_NONE ? (size_t)l->spec.units : 0;
    return 0;
}

static double dense_flops(const clae_layer *l)
{
    return 2.0 * (double)clae_shape_sample(l->in) * (double)clae_shape_sample(l->out);
}

#define DENSE(u, a, b)                                                           \
    {                                                                            \
        .type = CLAE_LAYER_DENSE, .units = u, .act = a, .bias = b, .slope = 0.01 \
    }
const clae_layer_kind clae_kind_dense = {
    .type = CLAE_LAYER_DENSE,
    .names = {{"dense", "units activation bias slope"}},
    .setup = dense_setup,
    .flops = dense_flops,
    .checks = {{DENSE(5, CLAE_ACT_RELU, true), {1, 7, 1, 1}, 3},
               {DENSE(3, CLAE_ACT_LEAKY_RELU, false), {1, 2, 3, 5}, 1},
               {DENSE(9, CLAE_ACT_TANH, true), {1, 1, 1, 1}, 2}},
};
