/* Dropout, PyTorch's nn.Dropout: in training each value is kept with
 * probability 1 - p and scaled by 1 / (1 - p); in evaluation it passes through.
 * The mask is a hash of (seed, index), the seed fixed per step by the model, so
 * the backward recomputes it and a resumed run draws the same masks. */
#include "clae/nn.h"

static int dropout_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                           bool train)
{
    size_t n = (size_t)x->shape.n * clae_shape_sample(l->in);
    if (!train || l->spec.p == 0.0) return clae_op_copy(ctx, y, x, n);
    return clae_op_dropout(ctx, y, x, n, (float)l->spec.p, l->seed, clae_layer_base(l));
}

static int dropout_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x,
                            const clae_tensor *y, const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    if (!dx) return 0;
    size_t n = (size_t)x->shape.n * clae_shape_sample(l->in);
    if (!l->trained || l->spec.p == 0.0) return clae_op_copy(ctx, dx, dy, n);
    return clae_op_dropout(ctx, dx, dy, n, (float)l->spec.p, l->seed, clae_layer_base(l));
}

static const clae_layer_ops dropout_ops = {dropout_forward, dropout_backward, clae_layer_no_init};

static int dropout_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    (void)err;
    l->ops = &dropout_ops;
    l->out = l->in;
    return 0;
}

const clae_layer_kind clae_kind_dropout = {
    .type = CLAE_LAYER_DROPOUT,
    .names = {{"dropout", "p"}},
    .setup = dropout_setup,
    .checks = {{{.type = CLAE_LAYER_DROPOUT, .p = 0.3}, {1, 3, 5, 7}, 2}},
};
