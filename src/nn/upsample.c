/* Upsampling by an integer factor, PyTorch's nn.Upsample(scale_factor=F,
 * mode='nearest' or 'bilinear', align_corners=False). */
#include "clae/nn.h"

static int upsample_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                            bool train)
{
    (void)train;
    return clae_op_upsample(ctx, y, x, x->shape.n * l->in.c, l->in.h, l->in.w, l->spec.scale,
                            l->spec.mode == CLAE_UPSAMPLE_BILINEAR);
}

static int upsample_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x,
                             const clae_tensor *y, const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    if (!dx) return 0;
    return clae_op_upsample_backward(ctx, dx, dy, x->shape.n * l->in.c, l->in.h, l->in.w,
                                     l->spec.scale, l->spec.mode == CLAE_UPSAMPLE_BILINEAR);
}

static const clae_layer_ops upsample_ops = {upsample_forward, upsample_backward,
                                            clae_layer_no_init};

static int upsample_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    (void)err;
    l->ops = &upsample_ops;
    l->out = (clae_shape){1, l->in.c, l->in.h * l->spec.scale, l->in.w * l->spec.scale};
    return 0;
}

const clae_layer_kind clae_kind_upsample = {
    .type = CLAE_LAYER_UPSAMPLE,
    .names = {{"upsample", "scale mode"}},
    .setup = upsample_setup,
    .checks = {{{.type = CLAE_LAYER_UPSAMPLE, .scale = 2, .mode = CLAE_UPSAMPLE_NEAREST},
                {1, 2, 3, 5},
                2},
               {{.type = CLAE_LAYER_UPSAMPLE, .scale = 3, .mode = CLAE_UPSAMPLE_BILINEAR},
                {1, 1, 4, 3},
                1},
               /* rows of 11 (CPU vectors of 8 inputs, the last overlapping) */
               {{.type = CLAE_LAYER_UPSAMPLE, .scale = 2, .mode = CLAE_UPSAMPLE_NEAREST},
                {1, 2, 3, 11},
                2},
               /* rows of 6: vectors of 4 at 0 and 2 */
               {{.type = CLAE_LAYER_UPSAMPLE, .scale = 2, .mode = CLAE_UPSAMPLE_NEAREST},
                {1, 1, 2, 6},
                1}},
};
