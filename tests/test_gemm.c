/* GEMM: every engine (CLBlast and each own variant cl/gemm.cl builds) against a
 * double-precision reference, for all four transposes, odd shapes that leave
 * partial tiles in both directions, tensor offsets, padded leading dimensions,
 * and beta = 0 over a C holding NaN (it must not be read) as well as beta != 0;
 * and the fused form (im2col packing, NCHW store, bias, activation) against a
 * direct convolution. The conv layers' backward through the fused form is
 * checked against finite differences in test_gradcheck. */
#include <math.h>

#include "clae/ops.h"
#include "helpers.h"

typedef struct {
    size_t m, n, k;
} shape3;

static const shape3 shapes[] = {{1, 1, 1},    {1, 37, 5},  {7, 13, 5},
                                {17, 33, 19}, {64, 50, 3}, {9, 100, 70}};

/* op(X)[r][c] of a row-major X with leading dimension ld */
static double at(const float *x, size_t ld, bool trans, size_t r, size_t c)
{
    return trans ? x[c * ld + r] : x[r * ld + c];
}

static void check_one(clae_ctx *ctx, const clae_gemm_choice *ch, bool ta, bool tb, shape3 s,
                      float alpha, float beta)
{
    const size_t pad = 3,
                 off = 5; /* leading dimensions wider than the rows; data after an offset */
    size_t ar = ta ? s.k : s.m, ac = ta ? s.m : s.k, br = tb ? s.n : s.k, bc = tb ? s.k : s.n;
    size_t lda = ac + pad, ldb = bc + pad, ldc = s.n + pad;
    size_t na = off + ar * lda, nb = off + br * ldb, nc = off + s.m * ldc;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c),
          *out = malloc(nc * sizeof *out);
    unsigned seed = (unsigned)(s.m * 131 + s.n * 17 + s.k + ta * 2 + tb);
    for (size_t i = 0; i < na; i++) a[i] = test_uniform(&seed, -1, 1);
    for (size_t i = 0; i < nb; i++) b[i] = test_uniform(&seed, -1, 1);
    for (size_t i = 0; i < nc; i++) c[i] = beta == 0.0f ? NAN : test_uniform(&seed, -1, 1);
    clae_tensor ta_t, tb_t, tc_t;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)na, 1, 1}, &ta_t));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)nb, 1, 1}, &tb_t));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)nc, 1, 1}, &tc_t));
    CHECK_OK(ctx, clae_tensor_write(ctx, &ta_t, a, na));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tb_t, b, nb));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tc_t, c, nc));
    ta_t.off = tb_t.off = tc_t.off = off;
    CHECK_OK(ctx, clae_gemm_with(ctx, ch, ta, tb, s.m, s.n, s.k, alpha, &ta_t, lda, &tb_t, ldb,
                                 beta, &tc_t, ldc));
    tc_t.off = 0;
    CHECK_OK(ctx, clae_tensor_read(ctx, &tc_t, out, nc));
    char name[48];
    clae_gemm_choice_name(ch, name, sizeof name);
    for (size_t i = 0; i < s.m; i++)
        for (size_t j = 0; j < s.n; j++) {
            double ref = 0;
            for (size_t p = 0; p < s.k; p++)
                ref += at(a + off, lda, ta, i, p) * at(b + off, ldb, tb, p, j);
            ref *= alpha;
            if (beta != 0.0f) ref += beta * c[off + i * ldc + j];
            double got = out[off + i * ldc + j];
            if (!(fabs(got - ref) <= 1e-5 * (1 + s.k)))
                fail_msg("%s %c%c %zux%zux%zu alpha %g beta %g: C[%zu][%zu] = %g, expected %g",
                         name, ta ? 'T' : 'N', tb ? 'T' : 'N', s.m, s.n, s.k, alpha, beta, i, j,
                         got, ref);
        }
    /* the padding between rows and the prefix before the offset are untouched */
    for (size_t i = 0; i < s.m; i++)
        for (size_t j = s.n; j < ldc; j++) {
            size_t at_ = off + i * ldc + j;
            if (!(isnan(c[at_]) ? isnan(out[at_]) : out[at_] == c[at_]))
                fail_msg("%s wrote outside C at row %zu column %zu", name, i, j);
        }
    clae_tensor_destroy(&ta_t), clae_tensor_destroy(&tb_t), clae_tensor_destroy(&tc_t);
    free(a), free(b), free(c), free(out);
}

static void check_engine(clae_ctx *ctx, const clae_gemm_choice *ch)
{
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int t = 0; t < 4; t++) {
            check_one(ctx, ch, t & 1, t & 2, shapes[si], 1.0f, 0.0f);
            check_one(ctx, ch, t & 1, t & 2, shapes[si], 0.5f, 2.0f);
        }
}

static void test_clblast(void **state)
{
    clae_gemm_choice ch;
    assert_int_equal(clae_gemm_parse_choice("clblast", &ch), 0);
    check_engine(*state, &ch);
}

static void test_own_variants(void **state)
{
    clae_gemm_choice ch;
    int i = 0;
    for (; clae_gemm_own_variant(i, &ch) == 0; i++) {
        check_engine(*state, &ch);
        ch.group = 3; /* a work-group that does not divide the tile count */
        check_engine(*state, &ch);
    }
    assert_true(i >= 4);
}

/* The fused form as the conv layers use it: y = relu(w . im2col(x) + b) stored
 * as NCHW, at odd sizes with stride, padding and dilation, batch 1 and 3,
 * against a direct double-precision convolution. ch NULL: conv_rows (stride 1, as
 * ctx->dev.conv_rows_by picks), with flip from the weights of the convolution whose
 * input gradient this is, w (g.c, cout, kh, kw) flipped. */
static void check_conv(clae_ctx *ctx, const clae_gemm_choice *ch, bool flip, int n,
                       clae_conv_geom g, int cout)
{
    size_t nx = (size_t)n * g.c * g.h * g.w, ckk = (size_t)g.c * g.kh * g.kw,
           p = (size_t)g.ho * g.wo;
    size_t nw = (size_t)cout * ckk, ny = (size_t)n * cout * p;
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w),
          *b = malloc((size_t)cout * sizeof *b), *y = malloc(ny * sizeof *y);
    unsigned seed = (unsigned)(n * 7 + g.c * 3 + cout);
    for (size_t i = 0; i < nx; i++) x[i] = test_uniform(&seed, -1, 1);
    for (size_t i = 0; i < nw; i++) w[i] = test_uniform(&seed, -1, 1);
    for (int i = 0; i < cout; i++) b[i] = test_uniform(&seed, -1, 1);
    clae_tensor tx, tw, tb, ty;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)nx, 1, 1}, &tx));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)nw, 1, 1}, &tw));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, cout, 1, 1}, &tb));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)ny, 1, 1}, &ty));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tx, x, nx));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tw, w, nw));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tb, b, (size_t)cout));
    clae_gemm_desc d = {.m = (size_t)cout,
                        .n = (size_t)n * p,
                        .k = ckk,
                        .alpha = 1.0f,
                        .a = &tw,
                        .lda = ckk,
                        .b = &tx,
                        .b_im2col = &g,
                        .b_images = n,
                        .c = &ty,
                        .ldc = p,
                        .c_cols = p,
                        .c_img = (size_t)cout * p,
                        .bias = &tb,
                        .act = CLAE_ACT_RELU};
    CHECK_OK(ctx, clae_op_fill(ctx, &ty, ny, NAN)); /* every output must be written */
    CHECK_OK(ctx, ch ? clae_gemm_run(ctx, ch, &d)
                     : clae_op_conv_rows(ctx, &ty, &tx, &tw, flip, n, cout, &g, &tb, CLAE_ACT_RELU,
                                         0.0f));
    CHECK_OK(ctx, clae_tensor_read(ctx, &ty, y, ny));
    for (int im = 0; im < n; im++)
        for (int co = 0; co < cout; co++)
            for (int oy = 0; oy < g.ho; oy++)
                for (int ox = 0; ox < g.wo; ox++) {
                    double acc = b[co];
                    for (int ci = 0; ci < g.c; ci++)
                        for (int ky = 0; ky < g.kh; ky++)
                            for (int kx = 0; kx < g.kw; kx++) {
                                int iy = oy * g.sh - g.ph + ky * g.dh,
                                    ix = ox * g.sw - g.pw + kx * g.dw;
                                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                                size_t wi = flip
                                                ? ((size_t)(ci * cout + co) * g.kh + g.kh - 1 -
                                                   ky) * g.kw +
                                                      g.kw - 1 - kx
                                                : ((size_t)(co * g.c + ci) * g.kh + ky) * g.kw + kx;
                                acc += (double)w[wi] * x[((im * g.c + ci) * g.h + iy) * g.w + ix];
                            }
                    double ref = acc > 0 ? acc : 0,
                           got = y[((size_t)im * cout + co) * p + oy * g.wo + ox];
                    if (!(fabs(got - ref) <= 1e-4 * (1 + ckk)))
                        fail_msg("conv n%d %dx%dx%d->%d s%d p%d d%d: y[%d][%d][%d][%d] = %g, "
                                 "expected %g",
                                 n, g.c, g.h, g.w, cout, g.sh, g.ph, g.dh, im, co, oy, ox, got,
                                 ref);
                }
    clae_tensor_destroy(&tx), clae_tensor_destroy(&tw), clae_tensor_destroy(&tb),
        clae_tensor_destroy(&ty);
    free(x), free(w), free(b), free(y);
}

/* A dense layer's forward as the own GEMM runs it: act(x W^T + b), b per column
 * (and per row, the conv form), several tiles wide so both store paths run. */
static void check_bias_act(clae_ctx *ctx, const clae_gemm_choice *ch, bool per_col, clae_act act)
{
    const size_t m = 9, n = 70, k = 13;
    float x[9 * 13], w[70 * 13], b[70], y[9 * 70];
    unsigned seed = 99u + per_col;
    for (size_t i = 0; i < m * k; i++) x[i] = test_uniform(&seed, -1, 1);
    for (size_t i = 0; i < n * k; i++) w[i] = test_uniform(&seed, -1, 1);
    for (size_t i = 0; i < n; i++) b[i] = test_uniform(&seed, -1, 1);
    clae_tensor tx, tw, tb, ty;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)(m * k), 1, 1}, &tx));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)(n * k), 1, 1}, &tw));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)n, 1, 1}, &tb));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)(m * n), 1, 1}, &ty));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tx, x, m * k));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tw, w, n * k));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tb, b, n));
    clae_gemm_desc d = {.trans_b = true,
                        .m = m,
                        .n = n,
                        .k = k,
                        .alpha = 1.0f,
                        .a = &tx,
                        .lda = k,
                        .b = &tw,
                        .ldb = k,
                        .c = &ty,
                        .ldc = n,
                        .bias = &tb,
                        .bias_per_col = per_col,
                        .act = act,
                        .slope = 0.1f};
    CHECK_OK(ctx, clae_gemm_run(ctx, ch, &d));
    CHECK_OK(ctx, clae_tensor_read(ctx, &ty, y, m * n));
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double v = per_col ? b[j] : b[i];
            for (size_t p = 0; p < k; p++) v += (double)x[i * k + p] * w[j * k + p];
            double ref = act == CLAE_ACT_SIGMOID               ? 1 / (1 + exp(-v))
                         : act == CLAE_ACT_LEAKY_RELU && v < 0 ? 0.1 * v
                                                               : v;
            if (!(fabs(y[i * n + j] - ref) <= 1e-5 * (1 + k)))
                fail_msg("bias per %s, act %d: y[%zu][%zu] = %g, expected %g",
                         per_col ? "column" : "row", (int)act, i, j, y[i * n + j], ref);
        }
    clae_tensor_destroy(&tx), clae_tensor_destroy(&tw), clae_tensor_destroy(&tb),
        clae_tensor_destroy(&ty);
}

static void test_fused_bias_act(void **state)
{
    clae_gemm_choice ch;
    for (int i = 0; clae_gemm_own_variant(i, &ch) == 0; i++) {
        check_bias_act(*state, &ch, true, CLAE_ACT_SIGMOID);
        check_bias_act(*state, &ch, true, CLAE_ACT_LEAKY_RELU);
        check_bias_act(*state, &ch, false, CLAE_ACT_NONE);
    }
}

static clae_conv_geom geom(int c, int h, int w, int k, int s, int pad, int dil)
{
    int span = dil * (k - 1) + 1;
    return (clae_conv_geom){c,
                            h,
                            w,
                            k,
                            k,
                            s,
                            s,
                            pad,
                            pad,
                            dil,
                            dil,
                            (h + 2 * pad - span) / s + 1,
                            (w + 2 * pad - span) / s + 1};
}

/* The weight gradient as the conv layers run it: dw += g . im2col(x)^T, g read as [Cout, N P]
 * in place and col^T packed from x (ch NULL: from padded planes, conv_weight_grad_flat), against
 * double precision. */
static void check_conv_weight_grad(clae_ctx *ctx, const clae_gemm_choice *ch, int n,
                                   clae_conv_geom g, int cout)
{
    size_t nx = (size_t)n * g.c * g.h * g.w, ckk = (size_t)g.c * g.kh * g.kw,
           p = (size_t)g.ho * g.wo, nw = (size_t)cout * ckk, ng = (size_t)n * cout * p;
    float *x = malloc(nx * sizeof *x), *gr = malloc(ng * sizeof *gr), *w0 = malloc(nw * sizeof *w0),
          *dw = malloc(nw * sizeof *dw);
    unsigned seed = (unsigned)(n * 5 + g.w * 3 + cout);
    for (size_t i = 0; i < nx; i++) x[i] = test_uniform(&seed, -1, 1);
    for (size_t i = 0; i < ng; i++) gr[i] = test_uniform(&seed, -1, 1);
    for (size_t i = 0; i < nw; i++) w0[i] = test_uniform(&seed, -1, 1);
    clae_tensor tx, tg, tw;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)nx, 1, 1}, &tx));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)ng, 1, 1}, &tg));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)nw, 1, 1}, &tw));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tx, x, nx));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tg, gr, ng));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tw, w0, nw));
    clae_gemm_desc d = {.trans_b = true,
                        .m = (size_t)cout,
                        .n = ckk,
                        .k = (size_t)n * p,
                        .alpha = 1.0f,
                        .beta = 1.0f,
                        .a = &tg,
                        .lda = p,
                        .a_kcols = p,
                        .a_kimg = (size_t)cout * p,
                        .b = &tx,
                        .b_im2col = &g,
                        .b_images = n,
                        .c = &tw,
                        .ldc = ckk};
    CHECK_OK(ctx, ch ? clae_gemm_run(ctx, ch, &d)
                     : clae_op_conv_weight_grad_flat(ctx, &tw, &tg, &tx, n, cout, &g));
    CHECK_OK(ctx, clae_tensor_read(ctx, &tw, dw, nw));
    for (int co = 0; co < cout; co++)
        for (size_t tap = 0; tap < ckk; tap++) {
            int ci = (int)(tap / (size_t)(g.kh * g.kw)), ky = (int)(tap / (size_t)g.kw) % g.kh,
                kx = (int)(tap % (size_t)g.kw);
            double acc = w0[co * ckk + tap];
            for (int im = 0; im < n; im++)
                for (int oy = 0; oy < g.ho; oy++)
                    for (int ox = 0; ox < g.wo; ox++) {
                        int iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
                        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                        acc += (double)gr[((size_t)im * cout + co) * p + oy * g.wo + ox] *
                               x[((im * g.c + ci) * g.h + iy) * g.w + ix];
                    }
            double got = dw[co * ckk + tap];
            if (!(fabs(got - acc) <= 1e-4 * (1 + (double)n * p)))
                fail_msg("weight grad n%d %dx%dx%d->%d s%d p%d: dw[%d][%zu] = %g, expected %g", n,
                         g.c, g.h, g.w, cout, g.sh, g.ph, co, tap, got, acc);
        }
    clae_tensor_destroy(&tx), clae_tensor_destroy(&tg), clae_tensor_destroy(&tw);
    free(x), free(gr), free(w0), free(dw);
}

/* Odd shapes read im2col element by element; widths of a multiple of 8 at stride 1 and 2 take
 * the vector loads inside the image and the element path at its edges and in short tiles. */
static void test_fused_conv_forward(void **state)
{
    clae_gemm_choice ch;
    for (int i = 0; clae_gemm_own_variant(i, &ch) == 0; i++) {
        check_conv(*state, &ch, false, 1, geom(3, 7, 9, 3, 1, 1, 1), 5);
        check_conv(*state, &ch, false, 3, geom(2, 11, 6, 3, 2, 1, 1),
                   17); /* partial tiles, images straddling a tile */
        check_conv(*state, &ch, false, 2, geom(4, 9, 9, 3, 2, 0, 2), 9);
        check_conv(*state, &ch, false, 2, geom(3, 8, 16, 3, 1, 1, 1), 7);
        check_conv(*state, &ch, false, 3, geom(2, 16, 16, 3, 2, 1, 1), 6);
        check_conv(*state, &ch, false, 3, geom(2, 6, 16, 3, 2, 1, 1), 5);  /* a short last tile */
        check_conv(*state, &ch, false, 1, geom(2, 17, 17, 3, 2, 1, 1), 4); /* odd again */
    }
}

static void test_fused_conv_weight_grad(void **state)
{
    clae_gemm_choice ch;
    for (int i = 0; clae_gemm_own_variant(i, &ch) == 0; i++) {
        check_conv_weight_grad(*state, &ch, 1, geom(3, 7, 9, 3, 1, 1, 1), 5);
        check_conv_weight_grad(*state, &ch, 2, geom(4, 9, 9, 3, 2, 0, 2), 3);
        check_conv_weight_grad(*state, &ch, 2, geom(3, 8, 16, 3, 1, 1, 1), 7);
        check_conv_weight_grad(*state, &ch, 3, geom(2, 16, 16, 3, 2, 1, 1), 6);
        check_conv_weight_grad(*state, &ch, 3, geom(2, 6, 16, 3, 2, 1, 1), 5); /* k ends short */
    }
}

/* conv_rows along rows and along channels: more than one block of 16 channels and of 8 (and
 * fewer than one), rows shorter and longer than a segment, pixel tiles running across rows and
 * images, a dilation, no padding, and the flipped weights of an input gradient. */
static void test_conv_rows(void **state)
{
    clae_ctx *ctx = *state;
    for (int by = 1; by <= 2; by++) {
        ctx->dev.conv_rows_by = by;
        check_conv(ctx, NULL, false, 1, geom(3, 7, 9, 3, 1, 1, 1), 5);
        check_conv(ctx, NULL, false, 3, geom(2, 5, 19, 3, 1, 1, 1), 35);
        check_conv(ctx, NULL, true, 2, geom(4, 9, 7, 3, 1, 2, 2), 17);
        check_conv(ctx, NULL, false, 2, geom(1, 11, 6, 3, 1, 0, 1), 16);
        check_conv(ctx, NULL, true, 3, geom(5, 4, 4, 5, 1, 4, 1), 9);
    }
    ctx->dev.conv_rows_by = 0;
}

/* Stride 1 with few grid channels: runs that end short of a vector (the scalar tail), a
 * dilation, no padding, and 5x5 and 7x1 kernels whose taps take several blocks of nine. */
static void test_flat_conv_weight_grad(void **state)
{
    clae_ctx *ctx = *state;
    /* the padded image's buffer holding NaN from before: what is read past its planes must be
     * the zeros conv_pad writes there */
    clae_arena stale = {.buf = clae_gemm_operand_buffer(ctx, 1, (1u << 20) * sizeof(float))};
    clae_tensor all = {.arena = &stale, .shape = {1, 1 << 20, 1, 1}};
    assert_non_null(stale.buf);
    CHECK_OK(ctx, clae_op_fill(ctx, &all, 1u << 20, NAN));
    check_conv_weight_grad(ctx, NULL, 1, geom(1, 5, 5, 3, 1, 1, 1), 1);
    check_conv_weight_grad(ctx, NULL, 3, geom(3, 9, 7, 3, 1, 1, 1), 2);
    check_conv_weight_grad(ctx, NULL, 2, geom(2, 11, 13, 3, 1, 2, 2), 3);
    check_conv_weight_grad(ctx, NULL, 2, geom(4, 8, 16, 3, 1, 0, 1), 1);
    check_conv_weight_grad(ctx, NULL, 2, geom(2, 12, 9, 5, 1, 2, 1), 4);
    clae_conv_geom tall = geom(3, 10, 6, 1, 1, 0, 1);
    tall.kh = 7, tall.ph = 3, tall.ho = 10; /* 7x1, padded along the rows only */
    check_conv_weight_grad(ctx, NULL, 3, tall, 2);
}

static void test_parse_choice(void **state)
{
    (void)state;
    clae_gemm_choice ch;
    char name[48];
    assert_int_equal(clae_gemm_parse_choice("own:6x2x16/2", &ch), 0);
    clae_gemm_choice_name(&ch, name, sizeof name);
    assert_string_equal(name, "own:6x2x16/2");
    assert_int_equal(clae_gemm_parse_choice("own", &ch), 0);
    assert_int_equal(ch.engine, CLAE_GEMM_OWN);
    assert_int_equal(clae_gemm_parse_choice("own:5x5x5", &ch), -1); /* not built */
    assert_int_equal(clae_gemm_parse_choice("own:8x2x16/0", &ch), -1);
    assert_int_equal(clae_gemm_parse_choice("cublas", &ch), -1);
    assert_int_equal(clae_gemm_parse_choice("own:8x2x16/4junk", &ch), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_choice),          cmocka_unit_test(test_clblast),
        cmocka_unit_test(test_own_variants),          cmocka_unit_test(test_fused_conv_forward),
        cmocka_unit_test(test_fused_bias_act),        cmocka_unit_test(test_fused_conv_weight_grad),
        cmocka_unit_test(test_flat_conv_weight_grad), cmocka_unit_test(test_conv_rows),
    };
    return cmocka_run_group_tests(tests, test_ctx_setup, test_ctx_teardown);
}
