/* Residual connection: y = x + (output of an earlier layer, named by `from`).
 * Forward adds; backward passes dy through to x, and the model adds dy to the
 * earlier layer's output gradient once that gradient has been written
 * (clae_model_backward), so both paths accumulate. */
#include <stdio.h>
#include <string.h>

#include "clae/nn.h"

static int residual_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                            bool train)
{
    (void)train;
    clae_tensor skip = clae_rows(&l->skip, x->shape.n);
    return clae_op_sum2(ctx, y, x, &skip, (size_t)x->shape.n * clae_shape_sample(l->in));
}

static int residual_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x,
                             const clae_tensor *y, const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    if (!dx) return 0;
    return clae_op_copy(ctx, dx, dy, (size_t)x->shape.n * clae_shape_sample(l->in));
}

static const clae_layer_ops residual_ops = {residual_forward, residual_backward,
                                            clae_layer_no_init};

static int residual_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    l->from = -1;
    for (int i = 0; i < n_earlier; i++)
        if (strcmp(earlier[i].spec.section, l->spec.from) == 0) l->from = i;
    if (l->from < 0)
        return clae_fail(err, "%s:%d: [%s] from = %s: no earlier layer section has that name",
                         CLAE_LAYER_WHERE(l), l->spec.from);
    clae_shape a = earlier[l->from].out, b = l->in;
    if (a.c != b.c || a.h != b.h || a.w != b.w)
        return clae_fail(
            err,
            "%s:%d: [%s] adds [%s] (%dx%dx%d) to its input from [%s] (%dx%dx%d): shapes differ",
            CLAE_LAYER_WHERE(l), l->spec.from, a.c, a.h, a.w, earlier[n_earlier - 1].spec.section,
            b.c, b.h, b.w);
    l->ops = &residual_ops;
    l->out = l->in;
    return 0;
}

/* A residual needs an earlier layer to add: its check lives with the stacks
 * in tests/test_gradcheck.c (test_residual). */
const clae_layer_kind clae_kind_residual = {
    .type = CLAE_LAYER_RESIDUAL,
    .names = {{"residual", "from"}},
    .setup = residual_setup,
};
