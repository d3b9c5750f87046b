/* Reshape between dense and convolutional parts: the values stay in place
 * (NCHW is row-major), only the shape changes; flatten is reshape to (C*H*W). */
#include "clae/nn.h"

static int copy_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                        bool train)
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

static int reshape_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    clae_shape t = l->spec.shape;
    size_t in = clae_shape_sample(l->in);
    if (t.c == 0) t = (clae_shape){1, (int)in, 1, 1}; /* flatten */
    t.n = 1;
    if (clae_shape_sample(t) != in)
        return clae_fail(
            err, "%s:%d: [%s] shape %dx%dx%d holds %zu values but its input %dx%dx%d holds %zu",
            CLAE_LAYER_WHERE(l), t.c, t.h, t.w, clae_shape_sample(t), l->in.c, l->in.h, l->in.w,
            in);
    l->ops = &reshape_ops;
    l->out = t;
    return 0;
}

static bool reshape_is(const clae_layer_spec *s) { return s->shape.c != 0; }
static bool flatten_is(const clae_layer_spec *s) { return s->shape.c == 0; }

const clae_layer_kind clae_kind_reshape = {
    .type = CLAE_LAYER_RESHAPE,
    .names = {{"reshape", "shape", NULL, reshape_is}, {"flatten", "", NULL, flatten_is}},
    .setup = reshape_setup,
    .checks = {{{.type = CLAE_LAYER_RESHAPE, .shape = {1, 3, 2, 5}}, {1, 30, 1, 1}, 2},
               {{.type = CLAE_LAYER_RESHAPE}, {1, 2, 3, 5}, 1}},
};
