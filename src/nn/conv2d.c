/* 2-D convolution, PyTorch's nn.Conv2d: w (Cout, Cin, K, K), b (Cout), NCHW,
 * output (H + 2 pad - dil (K - 1) - 1) / stride + 1. One GEMM over the batch:
 *   forward:  col = im2col(x) [Cin K K, N P];  tmp = w . col [Cout, N P];  y = act(nchw(tmp) + b)
 *   backward: g = act'(y) dy;  db += sum g;  dw += cnp(g) . col^T;  dx = col2im(w^T . cnp(g))
 * With clae's own GEMM the same products run without the col matrix in the
 * forward and the dw product (packed straight from x) and without the
 * permutes (batched indices read and write NCHW), bias and activation fused
 * into the forward's store; with algo = auto, stride-1 forward and input
 * gradient run as conv_rows and dw reads a padded x in place. Or, with the
 * direct kernels (conv_direct.cl), the same sums without any GEMM. */
#include <math.h>

#include "clae/nn.h"

/* The convolution as ops runs it: the input is its image, the output its grid. */
static clae_conv_op conv_op(clae_layer *l) { return clae_layer_conv_op(l, l->in, l->out); }

static int conv_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                        bool train)
{
    (void)train;
    clae_conv_op c = conv_op(l);
    return clae_conv_forward(ctx, &c, x, y, x->shape.n);
}

static int conv_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                         const clae_tensor *dy, clae_tensor *dx)
{
    clae_conv_op c = conv_op(l);
    int n = x->shape.n;
    clae_tensor pre;
    const clae_tensor *grad = clae_act_grad(l, ctx, y, dy, &pre);
    if (!grad) return -1;
    if (l->spec.bias && clae_op_channel_sum(ctx, &l->db, grad, n, c.grid_c, c.g.ho * c.g.wo))
        return -1;
    return clae_conv_backward(ctx, &c, x, grad, &l->dw, dx, n);
}

static void conv_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    (void)state;
    clae_init_affine(l, (double)l->in.c * l->spec.kernel * l->spec.kernel, rng, host);
}

static const clae_layer_ops conv_ops = {conv_forward, conv_backward, conv_init};

static int conv_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    const clae_layer_spec *s = &l->spec;
    int span = s->dilation * (s->kernel - 1) + 1;
    int ho = (l->in.h + 2 * s->padding - span) / s->stride + 1,
        wo = (l->in.w + 2 * s->padding - span) / s->stride + 1;
    if (l->in.h + 2 * s->padding < span || l->in.w + 2 * s->padding < span)
        return clae_fail(
            err, "%s:%d: [%s] kernel %d (dilation %d) is larger than the padded %dx%d input",
            CLAE_LAYER_WHERE(l), s->kernel, s->dilation, l->in.h + 2 * s->padding,
            l->in.w + 2 * s->padding);
    l->ops = &conv_ops;
    l->out = (clae_shape){1, s->channels, ho, wo};
    l->n_w = (size_t)s->channels * l->in.c * s->kernel * s->kernel;
    l->n_b = s->bias ? (size_t)s->channels : 0;
    l->direct = clae_conv_choose_direct(l, s->channels, l->in.c);
    l->col_per = l->direct ? 0 : (size_t)l->in.c * s->kernel * s->kernel * ho * wo;
    l->tmp_per = l->direct ? 0 : clae_shape_sample(l->out);
    l->scratch_per = s->act != CLAE_ACT_NONE ? clae_shape_sample(l->out) : 0;
    return 0;
}

bool clae_conv_choose_direct(const clae_layer *l, int grid_channels, int image_channels)
{
    return clae_conv_plan_direct(l->spec.algo, l->own_gemm, grid_channels, image_channels);
}

static double conv_flops(const clae_layer *l)
{
    /* every output: C_in K K products */
    return 2.0 * (double)clae_shape_sample(l->out) * l->in.c * (double)l->spec.kernel *
           l->spec.kernel;
}

void clae_conv_resolve(clae_layer_spec *s)
{
    if (s->stride == 0) s->stride = 1;
}

#define CONV(co, k, st, pad, dil, a, b, al)                                                 \
    {                                                                                       \
        .type = CLAE_LAYER_CONV, .channels = co, .kernel = k, .stride = st, .padding = pad, \
        .dilation = dil, .act = a, .bias = b, .slope = 0.01, .algo = al                     \
    }
const clae_layer_kind clae_kind_conv = {
    .type = CLAE_LAYER_CONV,
    .names = {{"conv", "channels kernel stride padding dilation algo activation bias slope"}},
    .setup = conv_setup,
    .resolve = clae_conv_resolve,
    .flops = conv_flops,
    .checks = {{CONV(5, 3, 2, 1, 1, CLAE_ACT_NONE, true, CLAE_ALGO_AUTO), {1, 3, 7, 5}, 2},
               {CONV(4, 3, 1, 1, 1, CLAE_ACT_SIGMOID, true, CLAE_ALGO_AUTO), {1, 2, 5, 6}, 1},
               {CONV(3, 3, 1, 2, 2, CLAE_ACT_TANH, false, CLAE_ALGO_IM2COL), {1, 2, 6, 5}, 2},
               {CONV(2, 2, 2, 0, 1, CLAE_ACT_LEAKY_RELU, true, CLAE_ALGO_DIRECT), {1, 3, 5, 5}, 3},
               /* rows of 37, channels past direct's: the im2col pack's lines and edges, col2im */
               {CONV(10, 3, 2, 1, 1, CLAE_ACT_NONE, true, CLAE_ALGO_AUTO), {1, 2, 3, 37}, 1}},
};
