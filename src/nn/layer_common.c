/* What the layer files share: names of roles and activations, the gradient
 * before a fused activation, the init of layers without parameters. The
 * model calls the layers; the layers call this file, never the model. */
#include "clae/nn.h"

const char *clae_role_name(clae_role r)
{
    static const char *const names[] = {CLAE_ROLE_LIST(CLAE_X_NAME)};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *clae_act_name(clae_act a)
{
    static const char *const names[] = {CLAE_ACT_LIST(CLAE_X_NAME)};
    return (unsigned)a < sizeof names / sizeof names[0] ? names[a] : "?";
}

void clae_layer_no_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    (void)l, (void)rng, (void)host, (void)state;
}

clae_conv_op clae_layer_conv_op(clae_layer *l, clae_shape image, clae_shape grid)
{
    const clae_layer_spec *s = &l->spec;
    clae_conv_geom g = {image.c,     image.h,   image.w,    s->kernel,  s->kernel,
                        s->stride,   s->stride, s->padding, s->padding, s->dilation,
                        s->dilation, grid.h,    grid.w};
    return (clae_conv_op){.g = g,
                          .grid_c = grid.c,
                          .algo = s->algo,
                          .direct = l->direct,
                          .w = &l->w,
                          .b = s->bias ? &l->b : NULL,
                          .act = s->act,
                          .slope = (float)s->slope,
                          .col = &l->col,
                          .tmp = &l->tmp};
}

const clae_tensor *clae_act_grad(clae_layer *l, clae_ctx *ctx, const clae_tensor *y,
                                 const clae_tensor *dy, clae_tensor *scratch_view)
{
    if (l->spec.act == CLAE_ACT_NONE) return dy;
    *scratch_view = clae_rows(&l->scratch, y->shape.n);
    size_t n = (size_t)y->shape.n * clae_shape_sample(l->out);
    return clae_op_act_backward(ctx, l->spec.act, l->spec.slope, y, dy, scratch_view, n)
               ? NULL
               : scratch_view;
}
