/* Standalone activation layer: y = f(x) elementwise; dx = f'(.) * dy from y. */
#include "clae/nn.h"

static int act_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y, bool train)
{
    (void)train;
    return clae_op_act_forward(ctx, l->spec.act, l->spec.slope, x, y, clae_shape_numel(x->shape));
}

static int act_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                        const clae_tensor *dy, clae_tensor *dx)
{
    if (!dx) return 0;
    return clae_op_act_backward(ctx, l->spec.act, l->spec.slope, y, dy, dx, clae_shape_numel(x->shape));
}

static const clae_layer_ops act_ops = {act_forward, act_backward, clae_layer_no_init};

int clae_act_setup(clae_layer *l, clae_err *err)
{
    (void)err;
    l->ops = &act_ops;
    l->out = l->in;
    return 0;
}
