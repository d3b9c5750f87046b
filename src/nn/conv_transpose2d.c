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
static clae_conv_geom conv_t_geom(const clae_layer *l)
{
    const clae_layer_spec *s = &l->spec;
    return (clae_conv_geom){l->out.c, l->out.h, l->out.w, s->kernel, s->kernel, s->stride, s->stride, s->padding,
                            s->padding, s->dilation, s->dilation, l->in.h, l->in.w};
}

static int conv_t_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y, bool train)
{
    (void)train;
    clae_conv_geom g = conv_t_geom(l);
    int n = x->shape.n, cin = l->in.c, hw = l->in.h * l->in.w;
    size_t ckk = (size_t)g.c * g.kh * g.kw, nhw = (size_t)n * hw;
    const clae_gemm_choice *ch = l->direct ? NULL : clae_gemm_pick(ctx, true, false, ckk, nhw, (size_t)cin);
    if (ch && ch->engine == CLAE_GEMM_OWN) { /* B = x read as [Cin, N H W] in place */
        clae_gemm_desc d = {.trans_a = true, .m = ckk, .n = nhw, .k = (size_t)cin, .alpha = 1.0f, .a = &l->w,
                            .lda = ckk, .b = x, .ldb = (size_t)hw, .b_cols = (size_t)hw, .b_img = (size_t)cin * hw,
                            .c = &l->col, .ldc = nhw};
        if (clae_gemm_run(ctx, ch, &d) || clae_op_col2im(ctx, y, &l->col, n, &g)) return -1;
    } else if (l->direct) {
        if (clae_op_conv_image_from_grid(ctx, y, x, &l->w, n, cin, &g)) return -1;
    } else if (clae_op_permute_cn(ctx, &l->tmp, x, n, cin, hw, false) ||
               clae_gemm(ctx, true, false, ckk, nhw, (size_t)cin, 1.0f, &l->w, ckk, &l->tmp, nhw, 0.0f, &l->col, nhw) ||
               clae_op_col2im(ctx, y, &l->col, n, &g))
        return -1;
    if (!l->spec.bias && l->spec.act == CLAE_ACT_NONE) return 0;
    return clae_op_channel_bias_act(ctx, y, l->spec.bias ? &l->b : NULL, n, g.c, g.h * g.w, l->spec.act,
                                    l->spec.slope);
}

/* dw += the weight gradient, im2col(g) against x (the image is this layer's
 * output gradient, the grid its input): auto on the own engine from a padded g
 * (no column matrix); im2col on the own engine packing col^T from g; otherwise
 * CLBlast on the materialised col, which stays in l->col for the input
 * gradient (*col_holds_grad), and cnp(x). */
static int conv_t_dw(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *grad, int n,
                     bool *col_holds_grad)
{
    clae_conv_geom g = conv_t_geom(l);
    int cin = l->in.c, hw = l->in.h * l->in.w;
    size_t ckk = (size_t)g.c * g.kh * g.kw, nhw = (size_t)n * hw;
    if (l->spec.algo == 0) {
        const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, ckk, (size_t)cin, nhw);
        if (ch->engine == CLAE_GEMM_OWN) return clae_op_conv_weight_grad_gemm(ctx, ch, &l->dw, x, grad, n, cin, &g);
    }
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, (size_t)cin, ckk, nhw);
    if (ch->engine == CLAE_GEMM_OWN) { /* A = x read as [Cin, N H W] in place, B = col^T packed from g */
        clae_gemm_desc d = {.trans_b = true, .m = (size_t)cin, .n = ckk, .k = nhw, .alpha = 1.0f, .beta = 1.0f,
                            .a = x, .lda = (size_t)hw, .a_kcols = (size_t)hw, .a_kimg = (size_t)cin * hw, .b = grad,
                            .b_im2col = &g, .b_images = n, .c = &l->dw, .ldc = ckk};
        return clae_gemm_run(ctx, ch, &d);
    }
    *col_holds_grad = true;
    return clae_op_im2col(ctx, &l->col, grad, n, &g) || clae_op_permute_cn(ctx, &l->tmp, x, n, cin, hw, false) ||
           clae_gemm_with(ctx, ch, false, true, (size_t)cin, ckk, nhw, 1.0f, &l->tmp, nhw, &l->col, nhw, 1.0f, &l->dw,
                          ckk);
}

/* dx = nchw(w . im2col(g)): on the own engine packed from g and written as
 * NCHW; otherwise CLBlast on the materialised col (already there when
 * col_holds_grad), then a permute. */
static int conv_t_dx(clae_layer *l, clae_ctx *ctx, const clae_tensor *grad, clae_tensor *dx, int n,
                     bool col_holds_grad)
{
    clae_conv_geom g = conv_t_geom(l);
    int cin = l->in.c, hw = l->in.h * l->in.w;
    size_t ckk = (size_t)g.c * g.kh * g.kw, nhw = (size_t)n * hw;
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, false, (size_t)cin, nhw, ckk);
    if (ch->engine == CLAE_GEMM_OWN) {
        clae_gemm_desc d = {.m = (size_t)cin, .n = nhw, .k = ckk, .alpha = 1.0f, .a = &l->w, .lda = ckk, .b = grad,
                            .b_im2col = &g, .b_images = n, .c = dx, .ldc = (size_t)hw, .c_cols = (size_t)hw,
                            .c_img = (size_t)cin * hw};
        return clae_gemm_run(ctx, ch, &d);
    }
    return (!col_holds_grad && clae_op_im2col(ctx, &l->col, grad, n, &g)) ||
           clae_gemm_with(ctx, ch, false, false, (size_t)cin, nhw, ckk, 1.0f, &l->w, ckk, &l->col, nhw, 0.0f, &l->tmp,
                          nhw) ||
           clae_op_permute_cn(ctx, dx, &l->tmp, n, cin, hw, true);
}

static int conv_t_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                           const clae_tensor *dy, clae_tensor *dx)
{
    clae_conv_geom g = conv_t_geom(l);
    int n = x->shape.n, cin = l->in.c;
    clae_tensor pre;
    const clae_tensor *grad = clae_act_grad(l, ctx, y, dy, &pre);
    if (!grad) return -1;
    if (l->spec.bias && clae_op_channel_sum(ctx, &l->db, grad, n, g.c, g.h * g.w)) return -1;
    if (l->direct)
        return clae_op_conv_weight_grad(ctx, &l->dw, x, grad, n, cin, &g) ||
               (dx && clae_op_conv_grid_from_image(ctx, dx, grad, &l->w, n, cin, &g));
    bool col_holds_grad = false;
    return conv_t_dw(l, ctx, x, grad, n, &col_holds_grad) || (dx && conv_t_dx(l, ctx, grad, dx, n, col_holds_grad));
}

static void conv_t_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    /* torch computes fan_in from w.size(1) = Cout for transposed convolutions */
    (void)state;
    clae_init_affine(l, (double)l->spec.channels * l->spec.kernel * l->spec.kernel, rng, host);
}

static const clae_layer_ops conv_t_ops = {conv_t_forward, conv_t_backward, conv_t_init};

int clae_conv_t_setup(clae_layer *l, clae_err *err)
{
    const clae_layer_spec *s = &l->spec;
    if (s->output_padding >= s->stride && s->output_padding >= s->dilation)
        return clae_fail(err, "%s:%d: [%s] output_padding %d must be smaller than stride (%d) or dilation (%d)",
                         CLAE_LAYER_WHERE(l), s->output_padding, s->stride, s->dilation);
    int span = s->dilation * (s->kernel - 1);
    int ho = (l->in.h - 1) * s->stride - 2 * s->padding + span + s->output_padding + 1;
    int wo = (l->in.w - 1) * s->stride - 2 * s->padding + span + s->output_padding + 1;
    if (ho < 1 || wo < 1)
        return clae_fail(err, "%s:%d: [%s] padding %d leaves no output from a %dx%d input", CLAE_LAYER_WHERE(l),
                         s->padding, l->in.h, l->in.w);
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
