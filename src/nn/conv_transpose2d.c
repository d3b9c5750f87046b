/* Transposed 2-D convolution, PyTorch's nn.ConvTranspose2d: w (Cin, Cout, K, K),
 * b (Cout), output (H - 1) stride - 2 pad + dil (K - 1) + output_padding + 1.
 * It is the input-gradient of a convolution from the output back to the input:
 *   forward:  col = w^T . cnp(x) [Cout K K, N H W];  y = act(col2im(col) + b)
 *   backward: g = act'(y) dy;  db += sum g;  col = im2col(g);  dw += cnp(x) . col^T;
 *             dx = nchw(w . col)
 * With clae's own GEMM the products read x and write dx in NCHW through batched
 * indices (no permutes) and pack im2col(g) straight from g (no col matrix in
 * the backward). Or, with the direct kernels, the conv2d kernels with the
 * roles of image and grid swapped. */
#include <math.h>

#include "clae/nn.h"

/* The convolution whose image is this layer's output and whose grid is its input. */
static clae_conv_op conv_t_op(clae_layer *l) { return clae_layer_conv_op(l, l->out, l->in); }

static int conv_t_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                          bool train)
{
    (void)train;
    clae_conv_op c = conv_t_op(l);
    return clae_conv_t_forward(ctx, &c, x, y, x->shape.n);
}

static int conv_t_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                           const clae_tensor *dy, clae_tensor *dx)
{
    clae_conv_op c = conv_t_op(l);
    int n = x->shape.n;
    clae_tensor pre;
    const clae_tensor *grad = clae_act_grad(l, ctx, y, dy, &pre);
    if (!grad) return -1;
    if (l->spec.bias && clae_op_channel_sum(ctx, &l->db, grad, n, c.g.c, c.g.h * c.g.w)) return -1;
    return clae_conv_t_backward(ctx, &c, x, grad, &l->dw, dx, n);
}

static void conv_t_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    /* torch computes fan_in from w.size(1) = Cout for transposed convolutions */
    (void)state;
    clae_init_affine(l, (double)l->spec.channels * l->spec.kernel * l->spec.kernel, rng, host);
}

static const clae_layer_ops conv_t_ops = {conv_t_forward, conv_t_backward, conv_t_init};

static int conv_t_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    const clae_layer_spec *s = &l->spec;
    if (s->output_padding >= s->stride && s->output_padding >= s->dilation)
        return clae_fail(
            err, "%s:%d: [%s] output_padding %d must be smaller than stride (%d) or dilation (%d)",
            CLAE_LAYER_WHERE(l), s->output_padding, s->stride, s->dilation);
    int span = s->dilation * (s->kernel - 1);
    int ho = (l->in.h - 1) * s->stride - 2 * s->padding + span + s->output_padding + 1;
    int wo = (l->in.w - 1) * s->stride - 2 * s->padding + span + s->output_padding + 1;
    if (ho < 1 || wo < 1)
        return clae_fail(err, "%s:%d: [%s] padding %d leaves no output from a %dx%d input",
                         CLAE_LAYER_WHERE(l), s->padding, l->in.h, l->in.w);
    l->ops = &conv_t_ops;
    l->out = (clae_shape){1, s->channels, ho, wo};
    l->n_w = (size_t)l->in.c * s->channels * s->kernel * s->kernel;
    l->n_b = s->bias ? (size_t)s->channels : 0;
    l->direct = clae_conv_choose_direct(l, l->in.c, s->channels);
    l->col_per = l->direct ? 0 : (size_t)s->channels * s->kernel * s->kernel * l->in.h * l->in.w;
    l->tmp_per = l->direct ? 0 : clae_shape_sample(l->in);
    l->scratch_per = s->act != CLAE_ACT_NONE ? clae_shape_sample(l->out) : 0;
    return 0;
}

static double conv_t_flops(const clae_layer *l)
{
    /* every input: C_out K K products */
    return 2.0 * (double)clae_shape_sample(l->in) * l->out.c * (double)l->spec.kernel *
           l->spec.kernel;
}

#define CONV_T(co, k, st, pad, op, a, b, al)                                                  \
    {                                                                                         \
        .type = CLAE_LAYER_CONV_T, .channels = co, .kernel = k, .stride = st, .padding = pad, \
        .dilation = 1, .output_padding = op, .act = a, .bias = b, .slope = 0.01, .algo = al   \
    }
const clae_layer_kind clae_kind_conv_transpose = {
    .type = CLAE_LAYER_CONV_T,
    .names =
        {{"conv_transpose",
          "channels kernel stride padding dilation output_padding algo activation bias slope"}},
    .setup = conv_t_setup,
    .resolve = clae_conv_resolve,
    .flops = conv_t_flops,
    .checks = {{CONV_T(3, 3, 2, 1, 1, CLAE_ACT_NONE, true, CLAE_ALGO_AUTO), {1, 4, 3, 4}, 2},
               {CONV_T(2, 3, 1, 1, 0, CLAE_ACT_SIGMOID, false, CLAE_ALGO_AUTO), {1, 3, 4, 3}, 1},
               {CONV_T(4, 2, 2, 0, 0, CLAE_ACT_NONE, true, CLAE_ALGO_IM2COL), {1, 2, 3, 3}, 3},
               {CONV_T(2, 3, 2, 1, 1, CLAE_ACT_TANH, true, CLAE_ALGO_DIRECT), {1, 3, 3, 2}, 2},
               /* output rows of 38, channels past direct's: col2im with bias and activation */
               {CONV_T(2, 3, 2, 1, 1, CLAE_ACT_SIGMOID, true, CLAE_ALGO_AUTO), {1, 10, 2, 19}, 1}},
};
