/* Convolution routines: a layer asks for a convolution, its transpose or a
 * 1x1 projection, and this file decides how it runs, from the GEMM engine the
 * tuning picks for each product's shape and the layer's algo:
 * - own GEMM, stride 1, algo auto: conv_rows on a padded image (forward and
 *   input gradient);
 * - own GEMM otherwise: the fused GEMM, im2col packed from the image, NCHW
 *   through batched indices, bias and activation in the store;
 * - CLBlast: the im2col matrix, GEMM, permutes, separate bias and activation
 *   passes;
 * - direct (planned at setup): the direct kernels (conv_direct.cl), no GEMM.
 * A conv's image is its input and its grid its output; a conv_transpose runs
 * the same products with the roles swapped. */
#include "clae/ops.h"

bool clae_conv_plan_direct(clae_conv_algo algo, bool own_gemm, int grid_channels,
                           int image_channels)
{
    /* Measured on PoCL (2 cores, batch 64, `clae bench convCxHxW-COUT`): a GEMM
     * with at most 8 rows on the grid side fills a fraction of its register
     * tile (32x32x32->3 backward: 11.6 ms direct against 35.9 as a GEMM), so
     * auto picks direct then. Few image channels favour direct only with
     * CLBlast, whose im2col matrix is mostly memory traffic (3x64x64->32: 5.6
     * GFLOP/s against 15 direct); the own GEMM packs from the image and wins
     * there (56 against 14). */
    if (algo != CLAE_ALGO_AUTO) return algo == CLAE_ALGO_DIRECT;
    return grid_channels <= 8 || (!own_gemm && image_channels <= 8);
}

static bool stride_one(const clae_conv_geom *g)
{
    return g->sh == 1 && g->sw == 1 && g->ph <= g->dh * (g->kh - 1) && g->pw <= g->dw * (g->kw - 1);
}

/* algo = auto, stride 1, on the own engine: conv_rows for the forward and the
 * input gradient, also in thin layers that auto runs direct otherwise, where
 * it is faster (conv_fmnist's 32->1: 1.3 against 2.1 ms forward). ch: the
 * product's GEMM choice, NULL for direct layers (the device's default decides). */
static bool use_rows(const clae_conv_op *c, const clae_ctx *ctx, const clae_gemm_choice *ch)
{
    return c->algo == CLAE_ALGO_AUTO &&
           (ch ? ch : clae_gemm_default(ctx))->engine == CLAE_GEMM_OWN && stride_one(&c->g);
}

int clae_conv_forward(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x, clae_tensor *y,
                      int n)
{
    const clae_conv_geom g = c->g;
    int cout = c->grid_c, p = g.ho * g.wo;
    size_t ckk = (size_t)g.c * g.kh * g.kw, np = (size_t)n * p;
    const clae_gemm_choice *ch = c->direct
                                     ? NULL
                                     : clae_gemm_pick(ctx, false, false, (size_t)cout, np, ckk);
    if (use_rows(c, ctx, ch))
        return clae_op_conv_rows(ctx, y, x, c->w, false, n, cout, &g, c->b, c->act, c->slope);
    if (ch && ch->engine == CLAE_GEMM_OWN) {
        clae_gemm_desc d = {.m = (size_t)cout,
                            .n = np,
                            .k = ckk,
                            .alpha = 1.0f,
                            .a = c->w,
                            .lda = ckk,
                            .b = x,
                            .b_im2col = &g,
                            .b_images = n,
                            .c = y,
                            .ldc = (size_t)p,
                            .c_cols = (size_t)p,
                            .c_img = (size_t)cout * p,
                            .bias = c->b,
                            .act = c->act,
                            .slope = c->slope};
        return clae_gemm_run(ctx, ch, &d);
    }
    if (c->direct) {
        if (clae_op_conv_grid_from_image(ctx, y, x, c->w, n, cout, &g)) return -1;
    } else if (clae_op_im2col(ctx, c->col, x, n, &g) ||
               clae_gemm(ctx, false, false, (size_t)cout, np, ckk, 1.0f, c->w, ckk, c->col, np,
                         0.0f, c->tmp, np) ||
               clae_op_permute_cn(ctx, y, c->tmp, n, cout, p, true)) {
        return -1;
    }
    if (!c->b && c->act == CLAE_ACT_NONE) return 0;
    return clae_op_channel_bias_act(ctx, y, c->b, n, cout, p, c->act, c->slope);
}

/* With stride 1 the input gradient is itself a convolution: of g, padded by
 * D (K - 1) - P, with the weights flipped and Cin/Cout swapped. Run as one
 * (conv_rows), it needs neither the column matrix nor col2im. */
static int dx_as_full_conv(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *grad,
                           clae_tensor *dx, int n)
{
    const clae_conv_geom g = c->g;
    int cout = c->grid_c;
    clae_conv_geom t = {
        cout, g.ho, g.wo, g.kh, g.kw, 1, 1, g.dh * (g.kh - 1) - g.ph, g.dw * (g.kw - 1) - g.pw,
        g.dh, g.dw, g.h,  g.w};
    return clae_op_conv_rows(ctx, dx, grad, c->w, true, n, g.c, &t, NULL, CLAE_ACT_NONE, 0.0f);
}

/* dw += the weight gradient: auto on the own engine as im2col(x) . g^T from a
 * padded x (no column matrix); im2col on the own engine packing col^T from x;
 * otherwise CLBlast on the materialised col and cnp(g), which stays in c->tmp
 * for the input gradient (*tmp_holds_grad). */
static int conv_dw(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x,
                   const clae_tensor *grad, clae_tensor *dw, int n, bool *tmp_holds_grad)
{
    const clae_conv_geom g = c->g;
    int cout = c->grid_c, p = g.ho * g.wo;
    size_t ckk = (size_t)g.c * g.kh * g.kw, np = (size_t)n * p;
    if (c->algo == CLAE_ALGO_AUTO) {
        const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, ckk, (size_t)cout, np);
        if (ch->engine == CLAE_GEMM_OWN)
            return clae_op_conv_weight_grad_gemm(ctx, ch, dw, grad, x, n, cout, &g);
    }
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, (size_t)cout, ckk, np);
    if (ch->engine ==
        CLAE_GEMM_OWN) { /* A = g read as [Cout, N P] in place, B = col^T packed from x */
        clae_gemm_desc d = {.trans_b = true,
                            .m = (size_t)cout,
                            .n = ckk,
                            .k = np,
                            .alpha = 1.0f,
                            .beta = 1.0f,
                            .a = grad,
                            .lda = (size_t)p,
                            .a_kcols = (size_t)p,
                            .a_kimg = (size_t)cout * p,
                            .b = x,
                            .b_im2col = &g,
                            .b_images = n,
                            .c = dw,
                            .ldc = ckk};
        return clae_gemm_run(ctx, ch, &d);
    }
    *tmp_holds_grad = true;
    return clae_op_permute_cn(ctx, c->tmp, grad, n, cout, p, false) ||
           clae_op_im2col(ctx, c->col, x, n, &g) ||
           clae_gemm_with(ctx, ch, false, true, (size_t)cout, ckk, np, 1.0f, c->tmp, np, c->col, np,
                          1.0f, dw, ckk);
}

/* dx = the input gradient: conv_rows (auto, stride 1, own engine), else
 * col2im(w^T . cnp(g)) with g read in place (own engine) or permuted into
 * c->tmp (CLBlast; already there when tmp_holds_grad). */
static int conv_dx(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *grad, clae_tensor *dx,
                   int n, bool tmp_holds_grad)
{
    const clae_conv_geom g = c->g;
    int cout = c->grid_c, p = g.ho * g.wo;
    size_t ckk = (size_t)g.c * g.kh * g.kw, np = (size_t)n * p;
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, true, false, ckk, np, (size_t)cout);
    if (use_rows(c, ctx, ch)) return dx_as_full_conv(ctx, c, grad, dx, n);
    if (ch->engine == CLAE_GEMM_OWN) { /* B = g read as [Cout, N P] in place */
        clae_gemm_desc d = {.trans_a = true,
                            .m = ckk,
                            .n = np,
                            .k = (size_t)cout,
                            .alpha = 1.0f,
                            .a = c->w,
                            .lda = ckk,
                            .b = grad,
                            .ldb = (size_t)p,
                            .b_cols = (size_t)p,
                            .b_img = (size_t)cout * p,
                            .c = c->col,
                            .ldc = np};
        if (clae_gemm_run(ctx, ch, &d)) return -1;
    } else if ((!tmp_holds_grad && clae_op_permute_cn(ctx, c->tmp, grad, n, cout, p, false)) ||
               clae_gemm_with(ctx, ch, true, false, ckk, np, (size_t)cout, 1.0f, c->w, ckk, c->tmp,
                              np, 0.0f, c->col, np)) {
        return -1;
    }
    return clae_op_col2im(ctx, dx, c->col, n, &g, NULL, CLAE_ACT_NONE, 0.0f);
}

/* dw += the weight gradient of a direct layer (few grid channels): with stride 1 on the own
 * engine from padded planes (measured on a 2-core EPYC, conv_fmnist's 32->1 at 28x28: 0.35
 * against 3.8 ms), else the direct kernel. */
static int direct_dw(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *grid,
                     const clae_tensor *image, clae_tensor *dw, int n)
{
    if (use_rows(c, ctx, NULL))
        return clae_op_conv_weight_grad_flat(ctx, dw, grid, image, n, c->grid_c, &c->g);
    return clae_op_conv_weight_grad(ctx, dw, grid, image, n, c->grid_c, &c->g);
}

int clae_conv_backward(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x,
                       const clae_tensor *grad, clae_tensor *dw, clae_tensor *dx, int n)
{
    if (c->direct)
        return direct_dw(ctx, c, grad, x, dw, n) ||
               (dx && (use_rows(c, ctx, NULL) ? dx_as_full_conv(ctx, c, grad, dx, n)
                                              : clae_op_conv_image_from_grid(ctx, dx, grad, c->w, n,
                                                                             c->grid_c, &c->g)));
    bool tmp_holds_grad = false;
    return conv_dw(ctx, c, x, grad, dw, n, &tmp_holds_grad) ||
           (dx && conv_dx(ctx, c, grad, dx, n, tmp_holds_grad));
}

/* ---- transposed convolution: x is the grid (Cin = grid_c), y the image ---- */

int clae_conv_t_forward(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x, clae_tensor *y,
                        int n)
{
    const clae_conv_geom g = c->g;
    int cin = c->grid_c, hw = g.ho * g.wo;
    size_t ckk = (size_t)g.c * g.kh * g.kw, nhw = (size_t)n * hw;
    const clae_gemm_choice *ch = c->direct
                                     ? NULL
                                     : clae_gemm_pick(ctx, true, false, ckk, nhw, (size_t)cin);
    if (ch && ch->engine == CLAE_GEMM_OWN) { /* B = x read as [Cin, N H W] in place */
        clae_gemm_desc d = {.trans_a = true,
                            .m = ckk,
                            .n = nhw,
                            .k = (size_t)cin,
                            .alpha = 1.0f,
                            .a = c->w,
                            .lda = ckk,
                            .b = x,
                            .ldb = (size_t)hw,
                            .b_cols = (size_t)hw,
                            .b_img = (size_t)cin * hw,
                            .c = c->col,
                            .ldc = nhw};
        /* the bias and activation in col2im's pass */
        return clae_gemm_run(ctx, ch, &d) ||
               clae_op_col2im(ctx, y, c->col, n, &g, c->b, c->act, c->slope);
    }
    if (!c->direct) /* CLBlast: x permuted to [Cin, N H W] first */
        return clae_op_permute_cn(ctx, c->tmp, x, n, cin, hw, false) ||
               clae_gemm(ctx, true, false, ckk, nhw, (size_t)cin, 1.0f, c->w, ckk, c->tmp, nhw,
                         0.0f, c->col, nhw) ||
               clae_op_col2im(ctx, y, c->col, n, &g, c->b, c->act, c->slope);
    if (clae_op_conv_image_from_grid(ctx, y, x, c->w, n, cin, &g)) return -1;
    if (!c->b && c->act == CLAE_ACT_NONE) return 0;
    return clae_op_channel_bias_act(ctx, y, c->b, n, g.c, g.h * g.w, c->act, c->slope);
}

/* dw += the weight gradient, im2col(g) against x (the image is the output
 * gradient, the grid the input): auto on the own engine from a padded g (no
 * column matrix); im2col on the own engine packing col^T from g; otherwise
 * CLBlast on the materialised col, which stays in c->col for the input
 * gradient (*col_holds_grad), and cnp(x). */
static int conv_t_dw(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x,
                     const clae_tensor *grad, clae_tensor *dw, int n, bool *col_holds_grad)
{
    const clae_conv_geom g = c->g;
    int cin = c->grid_c, hw = g.ho * g.wo;
    size_t ckk = (size_t)g.c * g.kh * g.kw, nhw = (size_t)n * hw;
    if (c->algo == CLAE_ALGO_AUTO) {
        const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, ckk, (size_t)cin, nhw);
        if (ch->engine == CLAE_GEMM_OWN)
            return clae_op_conv_weight_grad_gemm(ctx, ch, dw, x, grad, n, cin, &g);
    }
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, (size_t)cin, ckk, nhw);
    if (ch->engine ==
        CLAE_GEMM_OWN) { /* A = x read as [Cin, N H W] in place, B = col^T packed from g */
        clae_gemm_desc d = {.trans_b = true,
                            .m = (size_t)cin,
                            .n = ckk,
                            .k = nhw,
                            .alpha = 1.0f,
                            .beta = 1.0f,
                            .a = x,
                            .lda = (size_t)hw,
                            .a_kcols = (size_t)hw,
                            .a_kimg = (size_t)cin * hw,
                            .b = grad,
                            .b_im2col = &g,
                            .b_images = n,
                            .c = dw,
                            .ldc = ckk};
        return clae_gemm_run(ctx, ch, &d);
    }
    *col_holds_grad = true;
    return clae_op_im2col(ctx, c->col, grad, n, &g) ||
           clae_op_permute_cn(ctx, c->tmp, x, n, cin, hw, false) ||
           clae_gemm_with(ctx, ch, false, true, (size_t)cin, ckk, nhw, 1.0f, c->tmp, nhw, c->col,
                          nhw, 1.0f, dw, ckk);
}

/* dx = nchw(w . im2col(g)): on the own engine packed from g and written as
 * NCHW; otherwise CLBlast on the materialised col (already there when
 * col_holds_grad), then a permute. */
static int conv_t_dx(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *grad, clae_tensor *dx,
                     int n, bool col_holds_grad)
{
    const clae_conv_geom g = c->g;
    int cin = c->grid_c, hw = g.ho * g.wo;
    size_t ckk = (size_t)g.c * g.kh * g.kw, nhw = (size_t)n * hw;
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, false, (size_t)cin, nhw, ckk);
    if (ch->engine == CLAE_GEMM_OWN) {
        clae_gemm_desc d = {.m = (size_t)cin,
                            .n = nhw,
                            .k = ckk,
                            .alpha = 1.0f,
                            .a = c->w,
                            .lda = ckk,
                            .b = grad,
                            .b_im2col = &g,
                            .b_images = n,
                            .c = dx,
                            .ldc = (size_t)hw,
                            .c_cols = (size_t)hw,
                            .c_img = (size_t)cin * hw};
        return clae_gemm_run(ctx, ch, &d);
    }
    return (!col_holds_grad && clae_op_im2col(ctx, c->col, grad, n, &g)) ||
           clae_gemm_with(ctx, ch, false, false, (size_t)cin, nhw, ckk, 1.0f, c->w, ckk, c->col,
                          nhw, 0.0f, c->tmp, nhw) ||
           clae_op_permute_cn(ctx, dx, c->tmp, n, cin, hw, true);
}

int clae_conv_t_backward(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x,
                         const clae_tensor *grad, clae_tensor *dw, clae_tensor *dx, int n)
{
    if (c->direct)
        return direct_dw(ctx, c, x, grad, dw, n) ||
               (dx && clae_op_conv_grid_from_image(ctx, dx, grad, c->w, n, c->grid_c, &c->g));
    bool col_holds_grad = false;
    return conv_t_dw(ctx, c, x, grad, dw, n, &col_holds_grad) ||
           (dx && conv_t_dx(ctx, c, grad, dx, n, col_holds_grad));
}

/* ---- 1x1 projections (attention) ---------------------------------------- */

/* Projections are 1x1 convolutions: on the own GEMM one product each (bias in
 * its store, NCHW read and written through batched indices), otherwise the
 * direct kernels. */
static bool own_default(const clae_ctx *ctx)
{
    return clae_gemm_default(ctx)->engine == CLAE_GEMM_OWN;
}

int clae_project_forward(clae_ctx *ctx, const clae_project_op *pr, const clae_tensor *x,
                         clae_tensor *out, int n)
{
    size_t p = (size_t)pr->p, c = (size_t)pr->c_in, co = (size_t)pr->c_out;
    if (own_default(ctx)) {
        clae_gemm_desc gd = {.m = co,
                             .n = (size_t)n * p,
                             .k = c,
                             .alpha = 1.0f,
                             .a = pr->w,
                             .lda = c,
                             .b = x,
                             .ldb = p,
                             .b_cols = p,
                             .b_img = c * p,
                             .c = out,
                             .ldc = p,
                             .c_cols = p,
                             .c_img = co * p,
                             .bias = pr->b};
        return clae_gemm_run(ctx, clae_gemm_default(ctx), &gd);
    }
    return clae_op_conv_grid_from_image(ctx, out, x, pr->w, n, pr->c_out, &pr->g) ||
           clae_op_channel_bias_act(ctx, out, pr->b, n, pr->c_out, pr->p, CLAE_ACT_NONE, 0.0f);
}

int clae_project_backward(clae_ctx *ctx, const clae_project_op *pr, const clae_tensor *x,
                          const clae_tensor *gp, clae_tensor *dw, clae_tensor *dx, clae_tensor *tmp,
                          int n)
{
    size_t p = (size_t)pr->p, c = (size_t)pr->c_in, cg = (size_t)pr->c_out;
    if (own_default(
            ctx)) { /* dW += gp . x^T over the batch, then dx += W^T gp in the store (beta 1) */
        clae_gemm_desc gw = {.trans_b = true,
                             .m = cg,
                             .n = c,
                             .k = (size_t)n * p,
                             .alpha = 1.0f,
                             .beta = 1.0f,
                             .a = gp,
                             .lda = p,
                             .a_kcols = p,
                             .a_kimg = cg * p,
                             .b = x,
                             .ldb = p,
                             .b_kcols = p,
                             .b_kimg = c * p,
                             .c = dw,
                             .ldc = c};
        clae_gemm_desc gx = {.trans_a = true,
                             .m = c,
                             .n = (size_t)n * p,
                             .k = cg,
                             .alpha = 1.0f,
                             .beta = 1.0f,
                             .a = pr->w,
                             .lda = c,
                             .b = gp,
                             .ldb = p,
                             .b_cols = p,
                             .b_img = cg * p,
                             .c = dx,
                             .ldc = p,
                             .c_cols = p,
                             .c_img = c * p};
        return clae_gemm_run(ctx, clae_gemm_default(ctx), &gw) ||
               (dx && clae_gemm_run(ctx, clae_gemm_default(ctx), &gx));
    }
    if (clae_op_conv_weight_grad(ctx, dw, gp, x, n, pr->c_out, &pr->g)) return -1;
    if (!dx) return 0;
    return clae_op_conv_image_from_grid(ctx, tmp, gp, pr->w, n, pr->c_out, &pr->g) ||
           clae_op_add(ctx, dx, tmp, (size_t)n * c * p);
}

/* ---- dense products ----------------------------------------------------- */

int clae_dense_forward(clae_ctx *ctx, const clae_dense_op *d, const clae_tensor *x, clae_tensor *y,
                       size_t rows)
{
    size_t in = d->in, out = d->out;
    const clae_gemm_choice *ch = clae_gemm_pick(ctx, false, true, rows, out, in);
    if (ch->engine == CLAE_GEMM_OWN) { /* bias and activation in the GEMM's store */
        clae_gemm_desc gd = {.trans_b = true,
                             .m = rows,
                             .n = out,
                             .k = in,
                             .alpha = 1.0f,
                             .a = x,
                             .lda = in,
                             .b = d->w,
                             .ldb = in,
                             .c = y,
                             .ldc = out,
                             .bias = d->b,
                             .bias_per_col = true,
                             .act = d->act,
                             .slope = d->slope};
        return clae_gemm_run(ctx, ch, &gd);
    }
    if (clae_gemm_with(ctx, ch, false, true, rows, out, in, 1.0f, x, in, d->w, in, 0.0f, y, out))
        return -1;
    if (!d->b && d->act == CLAE_ACT_NONE) return 0;
    return clae_op_bias_act(ctx, y, d->b, rows, out, d->act, d->slope);
}

int clae_dense_backward(clae_ctx *ctx, const clae_dense_op *d, const clae_tensor *x,
                        const clae_tensor *g, clae_tensor *dw, clae_tensor *dx, size_t rows)
{
    size_t in = d->in, out = d->out;
    return clae_gemm(ctx, true, false, out, in, rows, 1.0f, g, out, x, in, 1.0f, dw, in) ||
           (dx &&
            clae_gemm(ctx, false, false, rows, in, out, 1.0f, g, out, d->w, in, 0.0f, dx, in));
}
