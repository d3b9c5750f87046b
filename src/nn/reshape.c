/* Reshape between dense and convolutional parts: the values stay in place
 * (NCHW is row-major), only the shape changes; flatten is reshape to (C*H*W). */
#include "clae/nn.h"

static int copy_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y, bool train)
{
    (void)train;
    /* a copy keeps every layer's output in its own buffer, which backward relies on */
    return clae_op_copy(ctx, y, x, (size_t)x->shape.n * clae_shape_sample(l->in));
}

static int copy_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                         const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    if (!dx) return 0;
    return clae_op_copy(ctx, dx, dy, (size_t)x->shape.n * clae_shape_sample(l->in));
}

static const clae_layer_ops reshape_ops = {copy_forward, copy_backward, clae_layer_no_init};

int clae_reshape_setup(clae_layer *l, clae_err *err)
{
    clae_shape t = l->spec.shape;
    size_t in = clae_shape_sample(l->in);
    if (t.c == 0) t = (clae_shape){1, (int)in, 1, 1}; /* flatten */
    t.n = 1;
    if (clae_shape_sample(t) != in)
        return clae_fail(err, "%s:%d: [%s] shape %dx%dx%d holds %zu values but its input %dx%dx%d holds %zu",
                         CLAE_LAYER_WHERE(l), t.c, t.h, t.w, clae_shape_sample(t), l->in.c, l->in.h, l->in.w, in);
    l->ops = &reshape_ops;
    l->out = t;
    return 0;
}
