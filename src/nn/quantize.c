/* Quantisation of the code for the image codec (clae compress): each value is
 * rounded to the nearest integer (half to even, as torch.round) and the
 * gradient passes straight through (the straight-through estimator), so the
 * decoder trains on the codes it will decode. With uniform_noise = true,
 * training adds uniform noise in [-0.5, 0.5) instead of rounding (Balle et
 * al. 2017); on the emoji codec that trained worse (test PSNR 18.12 against
 * 18.89 dB after 3 epochs at about the same rate), as the decoder never sees
 * the rounded codes of evaluation. The noise is a hash of (seed, index), the
 * seed fixed per step by the model, as dropout's mask. gain scales the input
 * first (y = round(gain x), dx = gain dy): an encoder whose outputs start
 * small then uses more than the one level around zero from the first step. */
#include "clae/nn.h"

static int quantize_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                            bool train)
{
    size_t n = (size_t)x->shape.n * clae_shape_sample(l->in);
    clae_quant_mode mode = train && l->spec.uniform_noise ? CLAE_QUANT_NOISE : CLAE_QUANT_ROUND;
    return clae_op_quantize(ctx, y, x, n, mode, l->seed, (float)l->spec.gain, clae_layer_base(l));
}

static int quantize_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x,
                             const clae_tensor *y, const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    if (!dx) return 0;
    return clae_op_quantize(ctx, dx, dy, (size_t)x->shape.n * clae_shape_sample(l->in),
                            CLAE_QUANT_SCALE, 0, (float)l->spec.gain, 0);
}

static const clae_layer_ops quantize_ops = {quantize_forward, quantize_backward,
                                            clae_layer_no_init};

static int quantize_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier, (void)err;
    l->ops = &quantize_ops;
    l->out = l->in;
    return 0;
}

const clae_layer_kind clae_kind_quantize = {
    .type = CLAE_LAYER_QUANTIZE,
    .names = {{"quantize", "gain uniform_noise"}},
    .setup = quantize_setup,
    /* with noise the forward is x + a fixed offset per value: its derivative is the identity */
    .checks = {{{.type = CLAE_LAYER_QUANTIZE, .uniform_noise = true, .gain = 1}, {1, 3, 5, 7}, 2},
               {{.type = CLAE_LAYER_QUANTIZE, .uniform_noise = true, .gain = 2.5},
                {1, 13, 1, 1},
                1}},
};
