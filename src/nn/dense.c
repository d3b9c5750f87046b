/* Dense (fully connected) layer, PyTorch's nn.Linear layout: W (out, in), b (out).
 *   forward:  y = act(x W^T + b)                       x (N, in), y (N, out)
 *             (one launch after packing W with the own GEMM, which adds b and applies act as it stores)
 *   backward: g = act'(y) * dy;  dW += g^T x;  db += sum_n g;  dx = g W */
#include <math.h>

#include "clae/nn.h"

static int dense_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y, bool train)
{
    (void)train;
    size_t rows = (size_t)x->shape.n, in = clae_shape_sample(l->in), out = (size_t)l->spec.units;
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, rows, out, in);
    if (ch->engine == CLAE_GEMM_OWN) { /* bias and activation in the GEMM's store */
        clae_gemm_desc d = {.trans_b = true, .m = rows, .n = out, .k = in, .alpha = 1.0f, .a = x, .lda = in,
                            .b = &l->w, .ldb = in, .c = y, .ldc = out, .bias = l->spec.bias ? &l->b : NULL,
                            .bias_per_col = true, .act = l->spec.act, .slope = (float)l->spec.slope};
        return clae_gemm_run(ctx, ch, &d);
    }
    if (clae_gemm_with(ctx, ch, false, true, rows, out, in, 1.0f, x, in, &l->w, in, 0.0f, y, out)) return -1;
    if (!l->spec.bias && l->spec.act == CLAE_ACT_NONE) return 0;
    return clae_op_bias_act(ctx, y, l->spec.bias ? &l->b : NULL, rows, out, l->spec.act, l->spec.slope);
}

static int dense_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                          const clae_tensor *dy, clae_tensor *dx)
{
    size_t rows = (size_t)x->shape.n, in = clae_shape_sample(l->in), out = (size_t)l->spec.units;
    clae_tensor pre;
    const clae_tensor *g = clae_act_grad(l, ctx, y, dy, &pre);
    if (!g) return -1;
    if (clae_gemm(ctx, true, false, out, in, rows, 1.0f, g, out, x, in, 1.0f, &l->dw, in)) return -1;
    if (l->spec.bias && clae_op_bias_backward(ctx, &l->db, g, rows, out)) return -1;
    if (dx && clae_gemm(ctx, false, false, rows, in, out, 1.0f, g, out, &l->w, in, 0.0f, dx, in)) return -1;
    return 0;
}

static void dense_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    (void)state;
    clae_init_affine(l, (double)clae_shape_sample(l->in), rng, host);
}

static const clae_layer_ops dense_ops = {dense_forward, dense_backward, dense_init};

int clae_dense_setup(clae_layer *l, clae_err *err)
{
    if (l->spec.units <= 0)
        return clae_fail(err, "%s:%d: [%s] units must be a positive integer", l->spec.file, l->spec.line,
                         l->spec.section);
    l->ops = &dense_ops;
    l->out = (clae_shape){1, l->spec.units, 1, 1};
    l->n_w = clae_shape_sample(l->in) * (size_t)l->spec.units;
    l->n_b = l->spec.bias ? (size_t)l->spec.units : 0;
    l->scratch_per = l->spec.act != CLAE_ACT_NONE ? (size_t)l->spec.units : 0;
    return 0;
}
