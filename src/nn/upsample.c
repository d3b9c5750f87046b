/* Upsampling by an integer factor, PyTorch's nn.Upsample(scale_factor=F,
 * mode='nearest' or 'bilinear', align_corners=False). */
#include "clae/nn.h"

static int upsample_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y, bool train)
{
    (void)train;
    return clae_op_upsample(ctx, y, x, x->shape.n * l->in.c, l->in.h, l->in.w, l->spec.scale, l->spec.mode == 1);
}

static int upsample_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                             const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    if (!dx) return 0;
    return clae_op_upsample_backward(ctx, dx, dy, x->shape.n * l->in.c, l->in.h, l->in.w, l->spec.scale,
                                     l->spec.mode == 1);
}

static const clae_layer_ops upsample_ops = {upsample_forward, upsample_backward, clae_layer_no_init};

int clae_upsample_setup(clae_layer *l, clae_err *err)
{
    (void)err;
    l->ops = &upsample_ops;
    l->out = (clae_shape){1, l->in.c, l->in.h * l->spec.scale, l->in.w * l->spec.scale};
    return 0;
}
