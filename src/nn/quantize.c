/* Quantisation of the code for the image codec (clae compress): evaluation
 * rounds each value to the nearest integer (half to even, as torch.round);
 * training adds uniform noise in [-0.5, 0.5) instead (Balle et al. 2017), so
 * the decoder learns from codes as far off as rounding puts them, or rounds
 * too when uniform_noise = false. The gradient passes straight through either
 * way (the straight-through estimator). The noise is a hash of (seed, index),
 * the seed fixed per step by the model, as dropout's mask. */
#include "clae/nn.h"

static int quantize_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                            bool train)
{
    size_t n = (size_t)x->shape.n * clae_shape_sample(l->in);
    return clae_op_quantize(ctx, y, x, n, train && l->spec.uniform_noise, l->seed);
}

static int quantize_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x,
                             const clae_tensor *y, const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    if (!dx) return 0;
    return clae_op_copy(ctx, dx, dy, (size_t)x->shape.n * clae_shape_sample(l->in));
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

static void quantize_defaults(clae_layer_spec *s) { s->uniform_noise = true; }

const clae_layer_kind clae_kind_quantize = {
    .type = CLAE_LAYER_QUANTIZE,
    .names = {{"quantize", "uniform_noise", quantize_defaults}},
    .setup = quantize_setup,
    /* with noise the forward is x + a fixed offset per value: its derivative is the identity */
    .checks = {{{.type = CLAE_LAYER_QUANTIZE, .uniform_noise = true}, {1, 3, 5, 7}, 2},
               {{.type = CLAE_LAYER_QUANTIZE, .uniform_noise = true}, {1, 13, 1, 1}, 1}},
};
