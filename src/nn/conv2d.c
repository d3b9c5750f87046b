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

static clae_conv_geom conv_geom(const clae_layer *l)
{
    const clae_layer_spec *s = &l->spec;
    return (clae_conv_geom){l->in.c, l->in.h, l->in.w, s->kernel, s->kernel, s->stride, s->stride, s->padding,
                            s->padding, s->dilation, s->dilation, l->out.h, l->out.w};
}

static bool stride_one(const clae_conv_geom *g)
{
    return g->sh == 1 && g->sw == 1 && g->ph <= g->dh * (g->kh - 1) && g->pw <= g->dw * (g->kw - 1);
}

/* algo = auto, stride 1, on the own engine: conv_rows for the forward and the
 * input gradient, also in thin layers that auto runs direct otherwise, where
 * it is faster (conv_fmnist's 32->1: 1.3 against 2.1 ms forward). ch: the
 * layer's GEMM choice, NULL for direct layers (the device's fallback decides). */
static bool use_rows(const clae_layer *l, const clae_ctx *ctx, const clae_gemm_choice *ch)
{
    clae_conv_geom g = conv_geom(l);
    return l->spec.algo == 0 && (ch ? ch : clae_gemm_default(ctx))->engine == CLAE_GEMM_OWN && stride_one(&g);
}

static int conv_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y, bool train)
{
    (void)train;
    clae_conv_geom g = conv_geom(l);
    int n = x->shape.n, cout = l->out.c, p = g.ho * g.wo;
    size_t ckk = (size_t)g.c * g.kh * g.kw, np = (size_t)n * p;
    const clae_tensor *bias = l->spec.bias ? &l->b : NULL;
    const clae_gemm_choice *ch = l->direct ? NULL : clae_gemm_pick(ctx, false, false, (size_t)cout, np, ckk);
    if (use_rows(l, ctx, ch))
        return clae_op_conv_rows(ctx, y, x, clae_buf(&l->w), l->w.off, n, cout, &g, bias, l->spec.act,
                                 (float)l->spec.slope);
    if (ch && ch->engine == CLAE_GEMM_OWN) {
        clae_gemm_desc d = {.m = (size_t)cout, .n = np, .k = ckk, .alpha = 1.0f, .a = &l->w, .lda = ckk, .b = x,
                            .b_im2col = &g, .b_images = n, .c = y, .ldc = (size_t)p, .c_cols = (size_t)p,
                            .c_img = (size_t)cout * p, .bias = bias, .act = l->spec.act, .slope = (float)l->spec.slope};
        return clae_gemm_run(ctx, ch, &d);
    }
    if (l->direct) {
        if (clae_op_conv_grid_from_image(ctx, y, x, &l->w, n, cout, &g)) return -1;
    } else if (clae_op_im2col(ctx, &l->col, x, n, &g) ||
        clae_gemm(ctx, false, false, (size_t)cout, np, ckk, 1.0f, &l->w, ckk, &l->col, np, 0.0f, &l->tmp, np) ||
        clae_op_permute_cn(ctx, y, &l->tmp, n, cout, p, true))
        return -1;
    if (!l->spec.bias && l->spec.act == CLAE_ACT_NONE) return 0;
    return clae_op_channel_bias_act(ctx, y, bias, n, cout, p, l->spec.act, l->spec.slope);
}

/* With stride 1 the input gradient is itself a convolution: of g, padded by
 * D (K - 1) - P, with the weights flipped and Cin/Cout swapped. Run as one
 * (conv_rows), it needs neither the column matrix nor col2im. */
static int dx_as_full_conv(clae_layer *l, clae_ctx *ctx, const clae_tensor *grad, clae_tensor *dx, int n)
{
    clae_conv_geom g = conv_geom(l);
    int cout = l->out.c;
    clae_conv_geom t = {cout, g.ho, g.wo, g.kh, g.kw, 1, 1, g.dh * (g.kh - 1) - g.ph, g.dw * (g.kw - 1) - g.pw,
                        g.dh, g.dw, g.h, g.w};
    size_t tkk = (size_t)cout * g.kh * g.kw;
    cl_mem flip = clae_gemm_operand_buffer(ctx, 0, (size_t)g.c * tkk * sizeof(float));
    if (!flip || clae_op_conv_flip_weights(ctx, flip, &l->w, cout, g.c, g.kh, g.kw)) return -1;
    return clae_op_conv_rows(ctx, dx, grad, flip, 0, n, g.c, &t, NULL, CLAE_ACT_NONE, 0.0f);
}

/* dw += the weight gradient: auto on the own engine as im2col(x) . g^T from a
 * padded x (no column matrix); im2col on the own engine packing col^T from x;
 * otherwise CLBlast on the materialised col and cnp(g), which stays in l->tmp
 * for the input gradient (*tmp_holds_grad). */
static int conv_dw(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *grad, int n,
                   bool *tmp_holds_grad)
{
    clae_conv_geom g = conv_geom(l);
    int cout = l->out.c, p = g.ho * g.wo;
    size_t ckk = (size_t)g.c * g.kh * g.kw, np = (size_t)n * p;
    if (l->spec.algo == 0) {
        const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, ckk, (size_t)cout, np);
        if (ch->engine == CLAE_GEMM_OWN) return clae_op_conv_weight_grad_gemm(ctx, ch, &l->dw, grad, x, n, cout, &g);
    }
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, (size_t)cout, ckk, np);
    if (ch->engine == CLAE_GEMM_OWN) { /* A = g read as [Cout, N P] in place, B = col^T packed from x */
        clae_gemm_desc d = {.trans_b = true, .m = (size_t)cout, .n = ckk, .k = np, .alpha = 1.0f, .beta = 1.0f,
                            .a = grad, .lda = (size_t)p, .a_kcols = (size_t)p, .a_kimg = (size_t)cout * p, .b = x,
                            .b_im2col = &g, .b_images = n, .c = &l->dw, .ldc = ckk};
        return clae_gemm_run(ctx, ch, &d);
    }
    *tmp_holds_grad = true;
    return clae_op_permute_cn(ctx, &l->tmp, grad, n, cout, p, false) || clae_op_im2col(ctx, &l->col, x, n, &g) ||
           clae_gemm_with(ctx, ch, false, true, (size_t)cout, ckk, np, 1.0f, &l->tmp, np, &l->col, np, 1.0f, &l->dw,
                          ckk);
}

/* dx = the input gradient: conv_rows (auto, stride 1, own engine), else
 * col2im(w^T . cnp(g)) with g read in place (own engine) or permuted into
 * l->tmp (CLBlast; already there when tmp_holds_grad). */
static int conv_dx(clae_layer *l, clae_ctx *ctx, const clae_tensor *grad, clae_tensor *dx, int n, bool tmp_holds_grad)
{
    clae_conv_geom g = conv_geom(l);
    int cout = l->out.c, p = g.ho * g.wo;
    size_t ckk = (size_t)g.c * g.kh * g.kw, np = (size_t)n * p;
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, true, false, ckk, np, (size_t)cout);
    if (use_rows(l, ctx, ch)) return dx_as_full_conv(l, ctx, grad, dx, n);
    if (ch->engine == CLAE_GEMM_OWN) { /* B = g read as [Cout, N P] in place */
        clae_gemm_desc d = {.trans_a = true, .m = ckk, .n = np, .k = (size_t)cout, .alpha = 1.0f, .a = &l->w,
                            .lda = ckk, .b = grad, .ldb = (size_t)p, .b_cols = (size_t)p, .b_img = (size_t)cout * p,
                            .c = &l->col, .ldc = np};
        if (clae_gemm_run(ctx, ch, &d)) return -1;
    } else if ((!tmp_holds_grad && clae_op_permute_cn(ctx, &l->tmp, grad, n, cout, p, false)) ||
               clae_gemm_with(ctx, ch, true, false, ckk, np, (size_t)cout, 1.0f, &l->w, ckk, &l->tmp, np, 0.0f,
                              &l->col, np)) {
        return -1;
    }
    return clae_op_col2im(ctx, dx, &l->col, n, &g);
}

static int conv_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                         const clae_tensor *dy, clae_tensor *dx)
{
    clae_conv_geom g = conv_geom(l);
    int n = x->shape.n, cout = l->out.c;
    clae_tensor pre;
    const clae_tensor *grad = clae_act_grad(l, ctx, y, dy, &pre);
    if (!grad) return -1;
    if (l->spec.bias && clae_op_channel_sum(ctx, &l->db, grad, n, cout, g.ho * g.wo)) return -1;
    if (l->direct)
        return clae_op_conv_weight_grad(ctx, &l->dw, grad, x, n, cout, &g) ||
               (dx && (use_rows(l, ctx, NULL) ? dx_as_full_conv(l, ctx, grad, dx, n)
                                              : clae_op_conv_image_from_grid(ctx, dx, grad, &l->w, n, cout, &g)));
    bool tmp_holds_grad = false;
    return conv_dw(l, ctx, x, grad, n, &tmp_holds_grad) || (dx && conv_dx(l, ctx, grad, dx, n, tmp_holds_grad));
}

static void conv_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    (void)state;
    clae_init_affine(l, (double)l->in.c * l->spec.kernel * l->spec.kernel, rng, host);
}

static const clae_layer_ops conv_ops = {conv_forward, conv_backward, conv_init};

int clae_conv_setup(clae_layer *l, clae_err *err)
{
    const clae_layer_spec *s = &l->spec;
    int span = s->dilation * (s->kernel - 1) + 1;
    int ho = (l->in.h + 2 * s->padding - span) / s->stride + 1, wo = (l->in.w + 2 * s->padding - span) / s->stride + 1;
    if (l->in.h + 2 * s->padding < span || l->in.w + 2 * s->padding < span)
        return clae_fail(err, "%s:%d: [%s] kernel %d (dilation %d) is larger than the padded %dx%d input", CLAE_LAYER_WHERE(l),
                         s->kernel, s->dilation, l->in.h + 2 * s->padding, l->in.w + 2 * s->padding);
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

/* Measured on PoCL (2 cores, batch 64, `clae bench convCxHxW-COUT`): a GEMM
 * with at most 8 rows on the grid side fills a fraction of its register tile
 * (32x32x32->3 backward: 11.6 ms direct against 35.9 as a GEMM), so auto picks
 * direct then. Few image channels favour direct only with CLBlast, whose
 * im2col matrix is mostly memory traffic (3x64x64->32: 5.6 GFLOP/s against 15
 * direct); the own GEMM packs from the image and wins there (56 against 14). */
bool clae_conv_choose_direct(const clae_layer *l, int grid_channels, int image_channels)
{
    if (l->spec.algo != 0) return l->spec.algo == 2;
    return grid_channels <= 8 || (!l->own_gemm && image_channels <= 8);
}
