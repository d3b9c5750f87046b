/* Standalone activation layer: y = f(x) elementwise; dx = f'(.) * dy from y. */
#include "clae/nn.h"

static int act_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                       bool train)
{
    (void)train;
    return clae_op_act_forward(ctx, l->spec.act, l->spec.slope, x, y, clae_shape_numel(x->shape));
}

static int act_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                        const clae_tensor *dy, clae_tensor *dx)
{
    if (!dx) return 0;
    return clae_op_act_backward(ctx, l->spec.act, l->spec.slope, y, dy, dx,
                                clae_shape_numel(x->shape));
}

static const clae_layer_ops act_ops = {act_forward, act_backward, clae_layer_no_init};

static int act_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    (void)err;
    l->ops = &act_ops;
    l->out = l->in;
    return 0;
}

#define ACT_NAME(act_id, fn)                                                            \
    static void fn##_defaults(clae_layer_spec *s) { s->act = act_id, s->slope = 0.01; } \
    static bool fn##_is(const clae_layer_spec *s) { return s->act == act_id; }
ACT_NAME(CLAE_ACT_RELU, relu)
ACT_NAME(CLAE_ACT_LEAKY_RELU, leaky)
ACT_NAME(CLAE_ACT_SIGMOID, sigmoid)
ACT_NAME(CLAE_ACT_TANH, tanh)
#undef ACT_NAME

#define ACT(a)                                          \
    {                                                   \
        .type = CLAE_LAYER_ACT, .act = a, .slope = 0.01 \
    }
const clae_layer_kind clae_kind_act = {
    .type = CLAE_LAYER_ACT,
    .names = {{"relu", "", relu_defaults, relu_is},
              {"leaky_relu", "slope", leaky_defaults, leaky_is},
              {"sigmoid", "", sigmoid_defaults, sigmoid_is},
              {"tanh", "", tanh_defaults, tanh_is}},
    .setup = act_setup,
    .checks = {{ACT(CLAE_ACT_RELU), {1, 3, 5, 7}, 1},
               {ACT(CLAE_ACT_LEAKY_RELU), {1, 11, 1, 1}, 3},
               {ACT(CLAE_ACT_SIGMOID), {1, 3, 5, 7}, 2},
               {ACT(CLAE_ACT_TANH), {1, 11, 1, 1}, 1}},
};
