#include <stdint.h>

#include "clae/ops.h"

#define GEOM_ARGS(g)                                                                            \
    KARG_U32((g)->c), KARG_U32((g)->h), KARG_U32((g)->w), KARG_U32((g)->kh), KARG_U32((g)->kw), \
        KARG_U32((g)->sh), KARG_U32((g)->sw), KARG_U32((g)->ph), KARG_U32((g)->pw),             \
        KARG_U32((g)->dh), KARG_U32((g)->dw), KARG_U32((g)->ho), KARG_U32((g)->wo)

int clae_op_im2col(clae_ctx *ctx, clae_tensor *col, const clae_tensor *x, int n,
                   const clae_conv_geom *g)
{
    size_t total = (size_t)g->c * g->kh * g->kw * (size_t)n *
                   g->ho; /* one work-item per column row */
    return CLAE_LAUNCH(ctx, "im2col", total, KARG_MEM(clae_buf(col)), KARG_U32(col->off),
                       KARG_MEM(clae_buf(x)), KARG_U32(x->off), KARG_U32(n), GEOM_ARGS(g));
}

int clae_op_col2im(clae_ctx *ctx, clae_tensor *x, const clae_tensor *col, int n,
                   const clae_conv_geom *g, const clae_tensor *bias, clae_act act, float slope)
{
    size_t total = (size_t)n * g->c * g->h; /* one work-item per image row */
    return CLAE_LAUNCH(ctx, "col2im", total, KARG_MEM(clae_buf(x)), KARG_U32(x->off),
                       KARG_MEM(clae_buf(col)), KARG_U32(col->off), KARG_U32(n), GEOM_ARGS(g),
                       bias ? KARG_MEM(clae_buf(bias)) : KARG_NULL, KARG_U32(bias ? bias->off : 0),
                       KARG_I32(act), KARG_F32(slope));
}

int clae_op_permute_cn(clae_ctx *ctx, clae_tensor *dst, const clae_tensor *src, int n, int c, int p,
                       bool to_ncp)
{
    return CLAE_LAUNCH(ctx, "permute_cn", (size_t)n * c * p, KARG_MEM(clae_buf(dst)),
                       KARG_U32(dst->off), KARG_MEM(clae_buf(src)), KARG_U32(src->off), KARG_U32(n),
                       KARG_U32(c), KARG_U32(p), KARG_I32(to_ncp));
}

int clae_op_channel_bias_act(clae_ctx *ctx, clae_tensor *y, const clae_tensor *b, int n, int c,
                             int p, clae_act kind, float slope)
{
    return CLAE_LAUNCH(ctx, "channel_bias_act", (size_t)n * c * p, KARG_MEM(clae_buf(y)),
                       KARG_U32(y->off), b ? KARG_MEM(clae_buf(b)) : KARG_NULL,
                       KARG_U32(b ? b->off : 0), KARG_U32(n), KARG_U32(c), KARG_U32(p),
                       KARG_I32(kind), KARG_F32(slope));
}

int clae_op_conv_flip_weights(clae_ctx *ctx, cl_mem wt, const clae_tensor *w, int co, int ci,
                              int kh, int kw)
{
    return CLAE_LAUNCH(ctx, "conv_flip_weights", (size_t)co * ci * kh * kw, KARG_MEM(wt),
                       KARG_MEM(clae_buf(w)), KARG_U32(w->off), KARG_U32(co), KARG_U32(ci),
                       KARG_U32(kh), KARG_U32(kw));
}

int clae_op_channel_sum(clae_ctx *ctx, clae_tensor *db, const clae_tensor *g, int n, int c, int p)
{
    return CLAE_LAUNCH(ctx, "channel_sum", (size_t)c, KARG_MEM(clae_buf(db)), KARG_U32(db->off),
                       KARG_MEM(clae_buf(g)), KARG_U32(g->off), KARG_U32(n), KARG_U32(c),
                       KARG_U32(p));
}

#define DIRECT_ARGS(n, cg, g)                                                        \
    KARG_U32(n), KARG_U32((g)->c), KARG_U32((g)->h), KARG_U32((g)->w), KARG_U32(cg), \
        KARG_U32((g)->ho), KARG_U32((g)->wo), KARG_U32((g)->kh), KARG_U32((g)->sh),  \
        KARG_U32((g)->ph), KARG_U32((g)->dh)

int clae_op_conv_grid_from_image(clae_ctx *ctx, clae_tensor *grid, const clae_tensor *image,
                                 const clae_tensor *w, int n, int cg, const clae_conv_geom *g)
{
    size_t items = (size_t)n * cg * g->ho *
                   (ctx->dev.kind == CLAE_DEV_CPU ? 1 : g->wo); /* rows on CPUs */
    return CLAE_LAUNCH(ctx, "conv_grid_from_image", items, KARG_MEM(clae_buf(grid)),
                       KARG_U32(grid->off), KARG_MEM(clae_buf(image)), KARG_U32(image->off),
                       KARG_MEM(clae_buf(w)), KARG_U32(w->off), DIRECT_ARGS(n, cg, g));
}

int clae_op_conv_image_from_grid(clae_ctx *ctx, clae_tensor *image, const clae_tensor *grid,
                                 const clae_tensor *w, int n, int cg, const clae_conv_geom *g)
{
    size_t items = (size_t)n * g->c * g->h *
                   (ctx->dev.kind == CLAE_DEV_CPU ? 1 : g->w); /* rows on CPUs */
    return CLAE_LAUNCH(ctx, "conv_image_from_grid", items, KARG_MEM(clae_buf(image)),
                       KARG_U32(image->off), KARG_MEM(clae_buf(grid)), KARG_U32(grid->off),
                       KARG_MEM(clae_buf(w)), KARG_U32(w->off), DIRECT_ARGS(n, cg, g));
}

int clae_op_conv_weight_grad(clae_ctx *ctx, clae_tensor *dw, const clae_tensor *grid,
                             const clae_tensor *image, int n, int cg, const clae_conv_geom *g)
{
    return CLAE_LAUNCH(ctx, "conv_weight_grad", (size_t)cg * g->c * g->kh * g->kw,
                       KARG_MEM(clae_buf(dw)), KARG_U32(dw->off), KARG_MEM(clae_buf(grid)),
                       KARG_U32(grid->off), KARG_MEM(clae_buf(image)), KARG_U32(image->off),
                       DIRECT_ARGS(n, cg, g));
}

/* planes of h x w from x into dst as hp x wp planes offset by (ph, pw), zeros around them and
 * tail zeros after the last (cl/conv.cl conv_pad). */
static int pad_planes(clae_ctx *ctx, cl_mem dst, const clae_tensor *x, size_t planes, int h, int w,
                      int ph, int pw, size_t hp, size_t wp, size_t tail)
{
    return CLAE_LAUNCH(ctx, "conv_pad", planes * hp, KARG_MEM(dst), KARG_MEM(clae_buf(x)),
                       KARG_U32(x->off), KARG_U32(planes), KARG_U32(h), KARG_U32(w), KARG_U32(ph),
                       KARG_U32(pw), KARG_U32(hp), KARG_U32(wp), KARG_U32(tail));
}

/* x (n images of g's input) copied into the zero-padded buffer that conv_rows
 * and the weight-gradient GEMM read (operand slot 1), with tail zeros
 * after it; *hp x *wp is the padded size. NULL with ctx->err set. */
static cl_mem padded_image(clae_ctx *ctx, const clae_tensor *x, int n, const clae_conv_geom *g,
                           size_t tail, size_t *hp, size_t *wp)
{
    size_t planes = (size_t)n * g->c;
    *hp = (size_t)g->h + 2 * g->ph, *wp = (size_t)g->w + 2 * g->pw;
    size_t floats = planes * *hp * *wp + tail;
    if (floats > UINT32_MAX) {
        clae_fail(&ctx->err, "convolution of %d images of %dx%dx%d is too large for 32-bit indices",
                  n, g->c, g->h, g->w);
        return NULL;
    }
    cl_mem xp = clae_gemm_operand_buffer(ctx, 1, floats * sizeof(float));
    if (!xp || pad_planes(ctx, xp, x, planes, g->h, g->w, g->ph, g->pw, *hp, *wp, tail))
        return NULL;
    return xp;
}

/* The row variant's tile: mr output channels by nv vectors of w floats, row segments nr wide. */
typedef struct {
    int mr, nv, w, nr;
} rows_tile;

/* The tile for an output of m channels, and the share of its lanes that hold outputs. */
static double pick_rows_tile(const clae_ctx *ctx, int m, const clae_conv_geom *g, rows_tile *t)
{
    /* the narrowest row segment that holds a row (wider rows take several) */
    t->nr = g->wo <= 8 ? 8 : g->wo <= 16 ? 16 : 32;
    if (m <= 4 || ctx->dev.vector_floats >= 16) { /* 32 registers of 16 floats, or few tiles */
        t->mr = m <= 4 ? 1 : 8, t->nv = t->nr == 32 ? 2 : 1; /* 1: no idle rows */
        t->w = t->nr == 8 ? 8 : 16;
    } else { /* 16 registers of 8 floats: at most 12 accumulators, 6 x 2 float8 at most 16 wide */
        t->nr = t->nr > 16 ? 16 : t->nr;
        t->w = 8, t->nv = t->nr / 8, t->mr = t->nv == 1 ? 8 : 6;
    }
    int segs = (g->wo + t->nr - 1) / t->nr, mblocks = (m + t->mr - 1) / t->mr;
    return (double)g->wo / (segs * t->nr) * m / (mblocks * t->mr);
}

/* The same share for the channel variant (8-wide devices: 6 pixels by 16 channels), less its
 * stores: one per output value, 96 a tile against the 6 ckk cycles of its 12 ckk FMAs (on a
 * 2-core EPYC, conv_fmnist's 1->32, ckk 9, ran 3.3-3.7 ms a step this way, 2.4-2.8 by rows;
 * its 32->32, ckk 288, 7.0-7.6 against 10.4-11.8). */
static double rows_ch_share(int m, size_t npix, size_t ckk)
{
    size_t cblocks = ((size_t)m + 15) / 16, ptiles = (npix + 5) / 6;
    return (double)m / (cblocks * 16) * (double)npix / (ptiles * 6) * ckk / (ckk + 16);
}

/* w (co, ci, kh, kw) prepared for the row variant: as it is, or flipped (slot 0). */
static cl_mem rows_weights(clae_ctx *ctx, const clae_tensor *w, bool flip, int co, int ci,
                           const clae_conv_geom *g, size_t *off)
{
    *off = flip ? 0 : w->off;
    if (!flip) return clae_buf(w);
    size_t floats = (size_t)co * ci * g->kh * g->kw;
    cl_mem wt = clae_gemm_operand_buffer(ctx, 0, floats * sizeof(float));
    if (!wt || clae_op_conv_flip_weights(ctx, wt, w, co, ci, g->kh, g->kw)) return NULL;
    return wt;
}

/* The arguments conv_rows and conv_rows_ch share: the padded image, the output, the store. */
#define ROWS_IMAGE_ARGS(xp, g, hp, wp)                                             \
    KARG_MEM(xp), KARG_U32((g)->c), KARG_U32(hp), KARG_U32(wp), KARG_U32((g)->kh), \
        KARG_U32((g)->kw), KARG_U32((g)->dh), KARG_U32((g)->dw)
#define ROWS_OUT_ARGS(y, m, g) \
    KARG_MEM(clae_buf(y)), KARG_U32((y)->off), KARG_U32(m), KARG_U32((g)->ho), KARG_U32((g)->wo)
#define ROWS_STORE_ARGS(bias, act, slope)                                              \
    (bias) ? KARG_MEM(clae_buf(bias)) : KARG_NULL, KARG_U32((bias) ? (bias)->off : 0), \
        KARG_I32(act), KARG_F32(slope)

static int launch_rows(clae_ctx *ctx, const rows_tile *t, clae_tensor *y, cl_mem xp, size_t hp,
                       size_t wp, const clae_tensor *w, bool flip, int n, int cout,
                       const clae_conv_geom *g, const clae_tensor *bias, clae_act act, float slope)
{
    size_t w_off, segs = ((size_t)g->wo + t->nr - 1) / t->nr, tiles = (size_t)n * g->ho * segs;
    size_t mblocks = ((size_t)cout + t->mr - 1) / t->mr, ckk = (size_t)g->c * g->kh * g->kw;
    cl_mem wm = rows_weights(ctx, w, flip, flip ? g->c : cout, flip ? cout : g->c, g, &w_off);
    if (!wm) return -1;
    clae_karg args[] = {KARG_MEM(wm),
                        KARG_U32(w_off),
                        KARG_U32(ckk),
                        ROWS_IMAGE_ARGS(xp, g, hp, wp),
                        ROWS_OUT_ARGS(y, cout, g),
                        KARG_U32(segs),
                        KARG_U32(tiles),
                        ROWS_STORE_ARGS(bias, act, slope)};
    char name[32], pn[64]; /* the profile tells the layers apart by shape */
    snprintf(name, sizeof name, "conv_rows_%dx%dx%d", t->mr, t->nv, t->w);
    snprintf(pn, sizeof pn, "%s %dx%dx%d->%d", name, g->c, g->h, g->w, cout);
    return clae_launch2(ctx, name, pn, mblocks, tiles, mblocks < 8 ? mblocks : 8, args,
                        (int)(sizeof args / sizeof args[0]));
}

static int launch_rows_ch(clae_ctx *ctx, clae_tensor *y, cl_mem xp, size_t hp, size_t wp,
                          const clae_tensor *w, bool flip, int n, int cout, const clae_conv_geom *g,
                          const clae_tensor *bias, clae_act act, float slope)
{
    size_t npix = (size_t)n * g->ho * g->wo, cblocks = ((size_t)cout + 15) / 16;
    size_t mp = cblocks * 16, taps = (size_t)g->c * g->kh * g->kw;
    cl_mem wt = clae_gemm_operand_buffer(ctx, 0, taps * mp * sizeof(float));
    if (!wt ||
        CLAE_LAUNCH(ctx, "conv_weights_by_tap", taps * mp, KARG_MEM(wt), KARG_MEM(clae_buf(w)),
                    KARG_U32(w->off), KARG_U32(flip ? g->c : cout), KARG_U32(flip ? cout : g->c),
                    KARG_U32(g->kh), KARG_U32(g->kw), KARG_U32(mp), KARG_U32(flip)))
        return -1;
    clae_karg args[] = {KARG_MEM(wt),
                        KARG_U32(mp),
                        ROWS_IMAGE_ARGS(xp, g, hp, wp),
                        ROWS_OUT_ARGS(y, cout, g),
                        KARG_U32(npix),
                        ROWS_STORE_ARGS(bias, act, slope)};
    char pn[64];
    snprintf(pn, sizeof pn, "conv_rows_ch %dx%dx%d->%d", g->c, g->h, g->w, cout);
    return clae_launch2(ctx, "conv_rows_ch_6x2x8", pn, cblocks, (npix + 5) / 6,
                        cblocks < 8 ? cblocks : 8, args, (int)(sizeof args / sizeof args[0]));
}

int clae_op_conv_rows(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, const clae_tensor *w,
                      bool flip, int n, int cout, const clae_conv_geom *g, const clae_tensor *bias,
                      clae_act act, float slope)
{
    if ((size_t)n * cout * g->ho * g->wo + y->off > UINT32_MAX)
        return clae_fail(&ctx->err,
                         "convolution of %d images of %dx%dx%d is too large for 32-bit indices", n,
                         g->c, g->h, g->w);
    rows_tile t;
    double share = pick_rows_tile(ctx, cout, g, &t);
    size_t npix = (size_t)n * g->ho * g->wo, hp, wp;
    /* 8-wide devices: the channel variant where it leaves fewer lanes idle */
    int by = ctx->dev.conv_rows_by;
    bool by_channel = by ? by == 2
                         : ctx->dev.vector_floats < 16 &&
                               rows_ch_share(cout, npix, (size_t)g->c * g->kh * g->kw) > share;
    /* the last segment may read up to nr + (kw - 1) dw floats past the last row */
    cl_mem xp = padded_image(ctx, x, n, g, (size_t)t.nr + (size_t)g->kw * g->dw + 16, &hp, &wp);
    if (!xp) return -1;
    return by_channel ? launch_rows_ch(ctx, y, xp, hp, wp, w, flip, n, cout, g, bias, act, slope)
                      : launch_rows(ctx, &t, y, xp, hp, wp, w, flip, n, cout, g, bias, act, slope);
}

int clae_op_conv_weight_grad_gemm(clae_ctx *ctx, const clae_gemm_choice *ch, clae_tensor *dw,
                                  const clae_tensor *grid, const clae_tensor *image, int n,
                                  int grid_channels, const clae_conv_geom *g)
{
    size_t p = (size_t)g->ho * g->wo, taps = (size_t)g->c * g->kh * g->kw,
           planes = (size_t)n * g->c, hp, wp;
    cl_mem xp = padded_image(ctx, image, n, g, 16, &hp, &wp);
    if (!xp) return -1;
    clae_arena padded = {.buf = xp};
    clae_tensor a = {.arena = &padded, .shape = {1, (int)(planes * hp * wp), 1, 1}};
    /* dw^T (taps x grid channels): A(tap, pos) = xp at the tap's offset plus
     * the position's (n: an image, oh: sh padded rows, ow: sw columns);
     * B(pos, gc) = grid[n][gc][pos]; C(tap, gc) = dw[gc][tap], accumulated */
    clae_gemm_desc d = {.trans_b = true,
                        .m = taps,
                        .n = (size_t)grid_channels,
                        .k = (size_t)n * p,
                        .alpha = 1.0f,
                        .beta = 1.0f,
                        .a = &a,
                        .a_kcols = (size_t)g->wo,
                        .a_kimg = (size_t)g->sh * wp,
                        .a_kcols2 = (size_t)g->ho,
                        .a_kimg2 = (size_t)g->c * hp * wp,
                        .a_taps = g,
                        .a_plane = hp * wp,
                        .a_row = wp,
                        .lda = (size_t)g->sw,
                        .b = grid,
                        .ldb = p,
                        .b_kcols = p,
                        .b_kimg = (size_t)grid_channels * p,
                        .c = dw,
                        .ldc = 1,
                        .c_cols = 1,
                        .c_img = taps};
    return clae_gemm_run(ctx, ch, &d);
}

int clae_op_conv_weight_grad_flat(clae_ctx *ctx, clae_tensor *dw, const clae_tensor *grid,
                                  const clae_tensor *image, int n, int grid_channels,
                                  const clae_conv_geom *g)
{
    size_t hp, wp, planes = (size_t)n * grid_channels;
    cl_mem xp = padded_image(ctx, image, n, g, (size_t)(g->kw - 1) * g->dw, &hp, &wp);
    if (!xp) return -1;
    /* the grid in rows of wp (slot 0: free until the input gradient flips its weights) */
    cl_mem gp = clae_gemm_operand_buffer(ctx, 0, planes * g->ho * wp * sizeof(float));
    size_t blocks = ((size_t)g->kh * g->kw + 8) / 9;
    if (!gp || pad_planes(ctx, gp, grid, planes, g->ho, g->wo, 0, 0, (size_t)g->ho, wp, 0))
        return -1;
    clae_karg args[] = {KARG_MEM(clae_buf(dw)),
                        KARG_U32(dw->off),
                        KARG_MEM(gp),
                        KARG_MEM(xp),
                        KARG_U32(n),
                        KARG_U32(g->c),
                        KARG_U32(grid_channels),
                        KARG_U32(hp),
                        KARG_U32(wp),
                        KARG_U32(g->ho),
                        KARG_U32(g->kh),
                        KARG_U32(g->kw),
                        KARG_U32(g->dh),
                        KARG_U32(g->dw),
                        KARG_U32(blocks)};
    /* groups of one: few work-items, each a long run, spread over every compute unit */
    return clae_launch2(ctx, "conv_weight_grad_flat", NULL, (size_t)grid_channels * g->c * blocks,
                        1, 1, args, (int)(sizeof args / sizeof args[0]));
}
