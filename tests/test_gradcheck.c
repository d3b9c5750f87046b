/* Every layer's and loss's backward against central finite differences, at odd
 * shapes, batch 1 and 3, with and without bias. The scalar checked is
 * L = sum(r * y) for a fixed random r, so dL/dy = r. Near a kink (ReLU at 0)
 * the two step sizes disagree and the coordinate is skipped, counted, and the
 * count bounded. */
#include <math.h>

#include "clae/graph.h"
#include "clae/nn.h"
#include "helpers.h"

typedef struct {
    clae_model m;
    int rows;
    size_t in_n, out_n; /* values per batch */
    float *r;           /* dL/dy */
    clae_layer *kl;     /* vae: L also holds kl_weight * sum of its KL rows */
    float *r_head;      /* multitask: L also holds sum(r_head * logits) */
    size_t head_n;
    struct penalty *pen; /* sparse: L also holds the penalty of the code */
    clae_tensor graph;   /* a graph layer's side input (rows = its nodes), or arena NULL */
} fixture;

/* The graph the gcn checks run on, bound as side input 0 when set: weighted
 * edges (A_hat's normalised values scaled per pair), node 4 isolated, every
 * node joined to itself by the renormalisation's self-loop. */
static clae_csr check_graph;

/* A sparsity penalty on the code, wired in as the trainer does (latent_grad). */
struct penalty {
    cl_mem rho_hat, share;
    float l1, kl, rho;
};

static int penalty_grad(void *user, clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz)
{
    struct penalty *p = user;
    return clae_op_sparsity(ctx, z, dz, (size_t)z->shape.n, clae_shape_sample(z->shape), p->l1,
                            p->kl, p->rho, p->rho_hat, p->share);
}

static double penalty_value(clae_ctx *ctx, fixture *f)
{
    clae_tensor z = clae_rows(&f->m.y[f->m.latent_index], f->rows);
    size_t u = clae_shape_sample(z.shape);
    float share[64];
    CHECK_OK(ctx, penalty_grad(f->pen, ctx, &z, NULL));
    assert_int_equal(clEnqueueReadBuffer(ctx->queue, f->pen->share, CL_TRUE, 0, u * sizeof(float),
                                         share, 0, NULL, NULL),
                     CL_SUCCESS);
    double sum = 0;
    for (size_t j = 0; j < u; j++) sum += share[j];
    return sum;
}

static void build(clae_ctx *ctx, fixture *f, clae_shape in, const clae_layer_spec *specs, int n,
                  int rows)
{
    clae_err err;
    if (clae_model_build_stack(&f->m, ctx, in, specs, n, rows, false, &err))
        fail_msg("build: %s", err.msg);
    CHECK_OK(ctx, clae_model_init_params(&f->m, ctx, 7));
    f->graph.arena = NULL;
    if (check_graph.n == (uint32_t)rows) {
        size_t n = clae_csr_packed_floats(&check_graph);
        float *packed = malloc(n * sizeof *packed);
        clae_csr_pack(&check_graph, packed);
        CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, (int)n, 1, 1}, &f->graph));
        CHECK_OK(ctx, clae_tensor_write(ctx, &f->graph, packed, n));
        f->graph.shape = (clae_shape){rows, (int)check_graph.nnz, 1, 1};
        if (clae_model_bind_side(&f->m, 0, &f->graph, &err)) fail_msg("bind: %s", err.msg);
        free(packed);
    }
    f->rows = rows;
    f->in_n = (size_t)rows * clae_shape_sample(f->m.input);
    f->out_n = (size_t)rows * clae_shape_sample(f->m.layers[clae_model_output_index(&f->m)].out);
    f->r = malloc(f->out_n * sizeof(float));
    f->kl = NULL;
    f->r_head = NULL;
    f->pen = NULL;
    unsigned seed = 99;
    for (size_t i = 0; i < f->out_n; i++) f->r[i] = test_uniform(&seed, -1, 1);
}

static double objective(clae_ctx *ctx, fixture *f)
{
    float *y = malloc(f->out_n * sizeof(float));
    CHECK_OK(ctx, clae_model_forward(&f->m, ctx, f->rows, true));
    CHECK_OK(ctx, clae_tensor_read(ctx, &f->m.y[clae_model_output_index(&f->m)], y, f->out_n));
    double L = 0;
    for (size_t i = 0; i < f->out_n; i++) L += (double)f->r[i] * y[i];
    free(y);
    if (f->r_head) {
        float logits[64];
        CHECK_OK(ctx, clae_tensor_read(ctx, &f->m.y[f->m.n_layers - 1], logits, f->head_n));
        for (size_t i = 0; i < f->head_n; i++) L += (double)f->r_head[i] * logits[i];
    }
    if (f->pen) L += penalty_value(ctx, f);
    if (f->kl) {
        float kl[16];
        CHECK_OK(ctx, clae_tensor_read(ctx, &f->kl->aux, kl, (size_t)f->rows));
        for (int i = 0; i < f->rows; i++) L += (double)f->kl->kl_weight * kl[i];
    }
    return L;
}

/* L at host[i] + delta (t holds n values), restoring host[i] afterwards. */
static double shifted(clae_ctx *ctx, fixture *f, const clae_tensor *t, float *host, size_t n,
                      size_t i, float delta)
{
    float keep = host[i];
    host[i] = keep + delta;
    CHECK_OK(ctx, clae_tensor_write(ctx, t, host, n));
    double L = objective(ctx, f);
    host[i] = keep;
    CHECK_OK(ctx, clae_tensor_write(ctx, t, host, n));
    return L;
}

/* Compares analytic[] with central differences over every value of t. For a
 * piecewise-linear layer (relu, leaky relu, identity) the one-sided differences
 * agree unless the step crosses a kink; such coordinates are skipped and counted.
 * Smooth layers skip nothing. */
static void compare(clae_ctx *ctx, fixture *f, const clae_tensor *t, size_t n,
                    const float *analytic, const char *what, bool piecewise_linear)
{
    const float eps = 5e-3f;
    float *host = malloc(n * sizeof(float));
    CHECK_OK(ctx, clae_tensor_read(ctx, t, host, n));
    double L0 = objective(ctx, f);
    int skipped = 0;
    for (size_t i = 0; i < n; i++) {
        double lp = shifted(ctx, f, t, host, n, i, eps), lm = shifted(ctx, f, t, host, n, i, -eps);
        double fwd = (lp - L0) / eps, bwd = (L0 - lm) / eps, d = (lp - lm) / (2.0 * eps);
        if (piecewise_linear && fabs(fwd - bwd) > 2e-3 * (1 + fabs(d))) {
            skipped++;
            continue;
        }
        double tol = 2e-3 + 5e-3 * fabs(d);
        if (fabs(analytic[i] - d) > tol)
            fail_msg("%s[%zu]: backward %.6f, finite differences %.6f (one-sided %.6f, %.6f)", what,
                     i, analytic[i], d, fwd, bwd);
    }
    free(host);
    assert_true(skipped <= (int)(n / 10) + 1);
}

static clae_layer_spec dense(int units, clae_act act, bool bias)
{
    clae_layer_spec s = {
        .type = CLAE_LAYER_DENSE, .units = units, .act = act, .bias = bias, .slope = 0.1f};
    snprintf(s.section, sizeof s.section, "encoder.dense%d", units);
    return s;
}

static clae_layer_spec activation(clae_act act)
{
    clae_layer_spec s = {.type = CLAE_LAYER_ACT, .act = act, .slope = 0.1f};
    snprintf(s.section, sizeof s.section, "encoder.%s", clae_act_name(act));
    return s;
}

static clae_layer_spec conv(clae_layer_type type, int channels, int k, int stride, int pad, int dil,
                            int out_pad, clae_act act, bool bias)
{
    clae_layer_spec s = {.type = type,
                         .channels = channels,
                         .kernel = k,
                         .stride = stride,
                         .padding = pad,
                         .dilation = dil,
                         .output_padding = out_pad,
                         .act = act,
                         .bias = bias,
                         .slope = 0.1f};
    snprintf(s.section, sizeof s.section, "encoder.conv");
    return s;
}

static clae_layer_spec pool(clae_layer_type type, int k, int stride, int pad)
{
    clae_layer_spec s = {.type = type, .kernel = k, .stride = stride, .padding = pad};
    snprintf(s.section, sizeof s.section, "encoder.pool");
    return s;
}

static clae_layer_spec upsample(int f, bool bilinear)
{
    clae_layer_spec s = {.type = CLAE_LAYER_UPSAMPLE, .scale = f, .mode = bilinear};
    snprintf(s.section, sizeof s.section, "decoder.up");
    return s;
}

/* Checks parameter gradients and the input gradient of `layer`. An identity
 * layer in front makes the layer's dx land in dy[0], where it can be compared
 * with perturbations of the input. */
static void check_stack_kl(clae_ctx *ctx, clae_shape in, const clae_layer_spec *layers, int n,
                           int rows, bool smooth, float kl_weight);

static void check_stack(clae_ctx *ctx, clae_shape in, const clae_layer_spec *layers, int n,
                        int rows, bool smooth)
{
    check_stack_kl(ctx, in, layers, n, rows, smooth, 0.0f);
}

static void check_stack_kl(clae_ctx *ctx, clae_shape in, const clae_layer_spec *layers, int n,
                           int rows, bool smooth, float kl_weight)
{
    clae_layer_spec specs[8] = {activation(CLAE_ACT_NONE)};
    snprintf(specs[0].section, sizeof specs[0].section, "encoder.identity");
    for (int i = 0; i < n; i++) specs[i + 1] = layers[i];
    fixture f;
    build(ctx, &f, in, specs, n + 1, rows);
    int last = n;
    f.kl = clae_model_vae(&f.m);
    if (f.kl) f.kl->kl_weight = kl_weight;
    unsigned seed = 5;
    float *x = malloc(f.in_n * sizeof(float));
    for (size_t i = 0; i < f.in_n; i++) x[i] = test_uniform(&seed, -1.5f, 1.5f);
    CHECK_OK(ctx, clae_tensor_write(ctx, &f.m.x, x, f.in_n));
    objective(ctx, &f);
    CHECK_OK(ctx, clae_tensor_write(ctx, &f.m.dy[last], f.r, f.out_n));
    CHECK_OK(ctx, clae_model_backward(&f.m, ctx, f.rows));
    float *dx = malloc(f.in_n * sizeof(float));
    CHECK_OK(ctx, clae_tensor_read(ctx, &f.m.dy[0], dx, f.in_n));
    size_t np = f.m.params.capacity;
    float *g = malloc((np ? np : 1) * sizeof(float));
    if (f.m.n_params) {
        clae_tensor gall = {&f.m.grads, 0, {1, 1, 1, 1}};
        CHECK_OK(ctx, clae_tensor_read(ctx, &gall, g, np));
    }
    bool pwl = !smooth; /* relu, leaky relu, identity, pools: kinks only where the one-sided slopes
                           differ */
    compare(ctx, &f, &f.m.x, f.in_n, dx, "input", pwl);
    if (f.m.n_params) {
        clae_tensor all = {&f.m.params, 0, {1, 1, 1, 1}};
        compare(ctx, &f, &all, np, g, "parameter", pwl);
    }
    free(g);
    free(dx);
    free(x);
    free(f.r);
    clae_model_release(&f.m);
    if (f.graph.arena) clae_tensor_destroy(&f.graph);
}

static void check_layer(clae_ctx *ctx, clae_shape in, clae_layer_spec layer, int rows)
{
    bool smooth = layer.type == CLAE_LAYER_BATCH_NORM || layer.act == CLAE_ACT_SIGMOID ||
                  layer.act == CLAE_ACT_TANH;
    check_stack(ctx, in, &layer, 1, rows, smooth);
}

/* Every kind's own checks from the layer registry: a new kind is covered by
 * its row, before any hand-written case below. */
static void test_registry_checks(void **state)
{
    int ran = 0;
    for (int k = 0; k < clae_n_layer_kinds; k++) {
        const clae_layer_kind *kind = clae_layer_kinds[k];
        assert_int_equal(kind->type, k); /* the registry is in the enum's order */
        for (int c = 0; c < CLAE_MAX_LAYER_CHECKS && kind->checks[c].rows; c++, ran++) {
            const clae_layer_check *lc = &kind->checks[c];
            clae_layer_spec spec = lc->spec;
            snprintf(spec.section, sizeof spec.section, "encoder.%s_%d", kind->names[0].name, c);
            check_layer(*state, lc->in, spec, lc->rows);
        }
    }
    assert_true(ran >= clae_n_layer_kinds); /* most kinds have several; residual's needs a stack */
}

static const clae_act all_acts[] = {CLAE_ACT_NONE, CLAE_ACT_RELU, CLAE_ACT_LEAKY_RELU,
                                    CLAE_ACT_SIGMOID, CLAE_ACT_TANH};

static void test_dense_shapes(void **state)
{
    clae_ctx *ctx = *state;
    /* (in features, out features, batch): odd sizes, not multiples of 4, batch 1 and 3; a
     * batch below out (or in) computes the transposed product on the own GEMM, so both
     * sides of that line and a batch wider than one 16-column tile are taken */
    static const int shapes[][3] = {{7, 5, 1},   {7, 5, 3}, {13, 3, 2}, {1, 9, 3},
                                    {33, 17, 1}, {2, 3, 5}, {6, 2, 4},  {19, 40, 17}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (size_t a = 0; a < 5; a++)
            check_layer(ctx, (clae_shape){1, shapes[k][0], 1, 1},
                        dense(shapes[k][1], all_acts[a], true), shapes[k][2]);
}

static void test_dense_no_bias_image_input(void **state)
{
    /* a 2x3x5 image input is flattened by the dense layer */
    check_layer(*state, (clae_shape){1, 2, 3, 5}, dense(4, CLAE_ACT_SIGMOID, false), 3);
    check_layer(*state, (clae_shape){1, 2, 3, 5}, dense(6, CLAE_ACT_NONE, false), 1);
}

static void test_activation_layers(void **state)
{
    for (size_t a = 1; a < 5; a++) {
        check_layer(*state, (clae_shape){1, 3, 5, 7}, activation(all_acts[a]), 1);
        check_layer(*state, (clae_shape){1, 11, 1, 1}, activation(all_acts[a]), 3);
    }
}

/* Each algo: auto (stride 1 on the own GEMM: conv_rows, whose tiles follow the
 * device's vector width, so both the 16-wide and the 8-wide ones are taken, and
 * on 8-wide devices both its vectors along rows and along channels), im2col +
 * GEMM, direct. */
static void conv_both(clae_ctx *ctx, clae_shape in, clae_layer_spec s, int rows)
{
    const int width = ctx->dev.vector_floats;
    for (int algo = 0; algo <= 2; algo++) {
        s.algo = algo;
        for (int w = 16; w >= (algo == 0 ? 8 : 16); w /= 2) {
            ctx->dev.vector_floats = w;
            for (int by = 1; by <= (w == 8 ? 2 : 1); by++) {
                ctx->dev.conv_rows_by = by;
                check_layer(ctx, in, s, rows);
            }
        }
        ctx->dev.vector_floats = width, ctx->dev.conv_rows_by = 0;
    }
}

static void test_conv(void **state)
{
    clae_ctx *ctx = *state;
    /* 7x5 input, 3 channels; batch 1 and 3; stride 2 with padding 1; dilation; no bias; activations
     */
    conv_both(ctx, (clae_shape){1, 3, 7, 5},
              conv(CLAE_LAYER_CONV, 5, 3, 2, 1, 1, 0, CLAE_ACT_NONE, true), 1);
    conv_both(ctx, (clae_shape){1, 3, 7, 5},
              conv(CLAE_LAYER_CONV, 5, 3, 2, 1, 1, 0, CLAE_ACT_NONE, true), 3);
    conv_both(ctx, (clae_shape){1, 2, 7, 5},
              conv(CLAE_LAYER_CONV, 3, 3, 1, 1, 1, 0, CLAE_ACT_TANH, false), 2);
    conv_both(ctx, (clae_shape){1, 2, 7, 6},
              conv(CLAE_LAYER_CONV, 3, 2, 1, 0, 2, 0, CLAE_ACT_SIGMOID, true), 1);
    conv_both(ctx, (clae_shape){1, 1, 6, 5},
              conv(CLAE_LAYER_CONV, 6, 5, 3, 2, 1, 0, CLAE_ACT_RELU, true), 3);
    /* more than 8 output channels, so auto takes the GEMM side (conv_rows forward and input
     * gradient, packed weight gradient), with rows wider than one 16-wide segment; then padding 3 >
     * K - 1, where the input gradient is no plain convolution and auto keeps the packed GEMM */
    conv_both(ctx, (clae_shape){1, 3, 5, 19},
              conv(CLAE_LAYER_CONV, 9, 3, 1, 1, 1, 0, CLAE_ACT_TANH, true), 2);
    conv_both(ctx, (clae_shape){1, 2, 6, 7},
              conv(CLAE_LAYER_CONV, 10, 3, 1, 3, 1, 0, CLAE_ACT_NONE, true), 1);
    /* the GEMM side with stride 2 and dilation: the weight gradient reads the padded image every
     * other column */
    conv_both(ctx, (clae_shape){1, 2, 9, 7},
              conv(CLAE_LAYER_CONV, 9, 3, 2, 1, 2, 0, CLAE_ACT_SIGMOID, true), 3);
}

static void test_conv_transpose(void **state)
{
    clae_ctx *ctx = *state;
    /* output_padding 0 and 1; stride 2 padding 1; batch 1 and 3; dilation */
    conv_both(ctx, (clae_shape){1, 3, 4, 3},
              conv(CLAE_LAYER_CONV_T, 5, 3, 2, 1, 1, 0, CLAE_ACT_NONE, true), 1);
    conv_both(ctx, (clae_shape){1, 3, 4, 3},
              conv(CLAE_LAYER_CONV_T, 5, 3, 2, 1, 1, 1, CLAE_ACT_NONE, true), 3);
    conv_both(ctx, (clae_shape){1, 2, 3, 5},
              conv(CLAE_LAYER_CONV_T, 3, 2, 1, 0, 2, 0, CLAE_ACT_TANH, false), 2);
    conv_both(ctx, (clae_shape){1, 5, 3, 3},
              conv(CLAE_LAYER_CONV_T, 1, 3, 3, 0, 1, 2, CLAE_ACT_SIGMOID, true), 1);
    /* 9 input channels: auto takes the GEMM side (weight gradient from the padded output gradient)
     */
    conv_both(ctx, (clae_shape){1, 9, 3, 4},
              conv(CLAE_LAYER_CONV_T, 4, 3, 2, 1, 1, 1, CLAE_ACT_TANH, true), 2);
}

static void test_pooling(void **state)
{
    clae_ctx *ctx = *state;
    check_layer(ctx, (clae_shape){1, 3, 7, 5}, pool(CLAE_LAYER_MAX_POOL, 2, 2, 0), 1);
    check_layer(ctx, (clae_shape){1, 3, 7, 5}, pool(CLAE_LAYER_MAX_POOL, 3, 2, 1), 3);
    check_layer(ctx, (clae_shape){1, 2, 6, 7}, pool(CLAE_LAYER_MAX_POOL, 3, 1, 1), 1);
    check_layer(ctx, (clae_shape){1, 3, 7, 5}, pool(CLAE_LAYER_AVG_POOL, 2, 2, 0), 3);
    check_layer(ctx, (clae_shape){1, 2, 7, 5}, pool(CLAE_LAYER_AVG_POOL, 3, 2, 1), 1);
    /* rows of 37: two runs of eight windows (the CPU kernel's float16 loads) and a tail */
    check_layer(ctx, (clae_shape){1, 2, 4, 37}, pool(CLAE_LAYER_MAX_POOL, 2, 2, 0), 2);
}

/* 2x2 max pooling of one 2 x 21 plane: ties keep the first of the window
 * (row-major), NaN wins over numbers and a later NaN over an earlier one, as
 * in the scalar rule "v > best or isnan(v)"; ten windows cover the eight-wide
 * path and its tail. */
static void test_max_pool_ties_nan(void **state)
{
    clae_ctx *ctx = *state;
    enum { W = 21, WO = 10 };
    float x[2 * W], y[WO], arg[WO];
    for (int i = 0; i < 2 * W; i++) x[i] = (float)((i * 5) % 7);
    x[2] = x[3] = x[W + 2] = x[W + 3] = 4.0f;   /* window 1: a four-way tie */
    x[4 * 2 + 1] = NAN;                         /* window 4: NaN top right */
    x[W + 6 * 2] = NAN, x[W + 6 * 2 + 1] = NAN; /* window 6: two NaNs below */
    x[18] = NAN;                                /* window 9 (the tail): NaN top left */
    clae_tensor tx, ty, ta;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, 1, 2, W}, &tx));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, 1, 1, WO}, &ty));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, 1, 1, WO}, &ta));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tx, x, 2 * W));
    clae_pool_geom g = {.planes = 1, .h = 2, .w = W, .k = 2, .s = 2, .ho = 1, .wo = WO};
    CHECK_OK(ctx, clae_op_max_pool(ctx, &ty, &ta, &tx, &g));
    CHECK_OK(ctx, clae_tensor_read(ctx, &ty, y, WO));
    CHECK_OK(ctx, clae_tensor_read(ctx, &ta, arg, WO));
    for (int o = 0; o < WO; o++) {
        const int at[4] = {2 * o, 2 * o + 1, W + 2 * o, W + 2 * o + 1};
        int best = at[0];
        for (int q = 1; q < 4; q++)
            if (x[at[q]] > x[best] || isnan(x[at[q]])) best = at[q];
        if ((int)arg[o] != best || !(y[o] == x[best] || (isnan(y[o]) && isnan(x[best]))))
            fail_msg("window %d: max %g at %d, expected %g at %d", o, y[o], (int)arg[o], x[best],
                     best);
    }
    clae_tensor_destroy(&tx), clae_tensor_destroy(&ty), clae_tensor_destroy(&ta);
}

static void test_upsample(void **state)
{
    clae_ctx *ctx = *state;
    for (int bilinear = 0; bilinear < 2; bilinear++) {
        check_layer(ctx, (clae_shape){1, 3, 4, 3}, upsample(2, bilinear), 1);
        check_layer(ctx, (clae_shape){1, 2, 3, 5}, upsample(3, bilinear), 3);
    }
}

static void test_batch_norm(void **state)
{
    clae_layer_spec s = {.type = CLAE_LAYER_BATCH_NORM, .momentum = 0.1, .eps = 1e-5};
    snprintf(s.section, sizeof s.section, "encoder.bn");
    check_layer(*state, (clae_shape){1, 3, 5, 7}, s, 1); /* 2-D, batch 1: statistics over H x W */
    check_layer(*state, (clae_shape){1, 3, 5, 7}, s, 3);
    check_layer(*state, (clae_shape){1, 11, 1, 1}, s, 3); /* 1-D after a dense layer */
}

static void test_residual(void **state)
{
    clae_layer_spec a = dense(5, CLAE_ACT_TANH, true), b = dense(5, CLAE_ACT_SIGMOID, true);
    snprintf(a.section, sizeof a.section, "encoder.a");
    snprintf(b.section, sizeof b.section, "encoder.b");
    clae_layer_spec res = {.type = CLAE_LAYER_RESIDUAL};
    snprintf(res.section, sizeof res.section, "encoder.res");
    snprintf(res.from, sizeof res.from, "encoder.a");
    clae_layer_spec skip_two[3] = {a, b, res}, skip_one[2] = {a, res};
    check_stack(*state, (clae_shape){1, 7, 1, 1}, skip_two, 3, 3, true); /* y = b(a(x)) + a(x) */
    check_stack(*state, (clae_shape){1, 7, 1, 1}, skip_one, 2, 1, true); /* y = a(x) + a(x) */
    /* across a conv block, as in the compression models */
    clae_layer_spec c1 = conv(CLAE_LAYER_CONV, 3, 3, 1, 1, 1, 0, CLAE_ACT_TANH, true);
    snprintf(c1.section, sizeof c1.section, "encoder.c1");
    clae_layer_spec c2 = c1;
    snprintf(c2.section, sizeof c2.section, "encoder.c2");
    snprintf(res.from, sizeof res.from, "encoder.c1");
    clae_layer_spec block[3] = {c1, c2, res};
    check_stack(*state, (clae_shape){1, 2, 5, 4}, block, 3, 2, true);
}

static void test_dropout(void **state)
{
    clae_layer_spec d = {.type = CLAE_LAYER_DROPOUT, .p = 0.3};
    snprintf(d.section, sizeof d.section, "encoder.drop");
    check_layer(*state, (clae_shape){1, 13, 1, 1}, d, 3);
    check_layer(*state, (clae_shape){1, 2, 3, 5}, d, 1);
}

/* Dropout drops about p of the values, scales the rest by 1 / (1 - p), passes
 * everything in evaluation, and draws a new mask each step. */
static void test_dropout_statistics(void **state)
{
    clae_ctx *ctx = *state;
    clae_layer_spec d = {.type = CLAE_LAYER_DROPOUT, .p = 0.3};
    snprintf(d.section, sizeof d.section, "encoder.drop");
    clae_model m;
    clae_err err;
    const int n = 20000;
    if (clae_model_build_stack(&m, ctx, (clae_shape){1, n, 1, 1}, &d, 1, 1, false, &err))
        fail_msg("%s", err.msg);
    float *x = malloc(n * sizeof *x), *y1 = malloc(n * sizeof *y1), *y2 = malloc(n * sizeof *y2);
    for (int i = 0; i < n; i++) x[i] = 1.0f + (float)i / n;
    CHECK_OK(ctx, clae_tensor_write(ctx, &m.x, x, n));
    m.step = 1;
    CHECK_OK(ctx, clae_model_forward(&m, ctx, 1, true));
    CHECK_OK(ctx, clae_tensor_read(ctx, &m.y[0], y1, n));
    int zeros = 0, same_mask = 0;
    for (int i = 0; i < n; i++) {
        if (y1[i] == 0.0f)
            zeros++;
        else
            assert_float_equal(y1[i], x[i] / 0.7f, 1e-6);
    }
    assert_true(zeros > 0.28 * n && zeros < 0.32 * n);
    m.step = 2;
    CHECK_OK(ctx, clae_model_forward(&m, ctx, 1, true));
    CHECK_OK(ctx, clae_tensor_read(ctx, &m.y[0], y2, n));
    for (int i = 0; i < n; i++) same_mask += (y1[i] == 0.0f) == (y2[i] == 0.0f);
    assert_true(same_mask < 0.65 * n); /* independent masks agree on about 0.3^2 + 0.7^2 = 58% */
    CHECK_OK(ctx, clae_model_forward(&m, ctx, 1, false));
    CHECK_OK(ctx, clae_tensor_read(ctx, &m.y[0], y2, n));
    for (int i = 0; i < n; i++) assert_float_equal(y2[i], x[i], 0);
    free(x), free(y1), free(y2);
    clae_model_release(&m);
}

static void test_attention(void **state)
{
    clae_layer_spec a = {.type = CLAE_LAYER_ATTENTION, .units = 2, .gamma = 0.7};
    snprintf(a.section, sizeof a.section, "latent.attn");
    check_stack(*state, (clae_shape){1, 5, 3, 2}, &a, 1, 1, true);
    a.units = 0; /* default key channels: max(1, C / 8) */
    check_stack(*state, (clae_shape){1, 3, 2, 3}, &a, 1, 3, true);
}

/* The reparameterised sample with the noise of one step fixed, then with the KL term in the loss.
 */
static void test_vae(void **state)
{
    clae_layer_spec v = {.type = CLAE_LAYER_VAE, .units = 3, .beta = 1};
    snprintf(v.section, sizeof v.section, "latent.z");
    check_stack_kl(*state, (clae_shape){1, 7, 1, 1}, &v, 1, 1, true, 0.0f);
    check_stack_kl(*state, (clae_shape){1, 7, 1, 1}, &v, 1, 3, true, 0.7f);
    check_stack_kl(*state, (clae_shape){1, 2, 3, 2}, &v, 1, 2, true, 0.3f);
}

static clae_layer_spec gcn(int units, clae_act act, bool bias, int nodes)
{
    clae_layer_spec s = {.type = CLAE_LAYER_GCN,
                         .units = units,
                         .act = act,
                         .bias = bias,
                         .slope = 0.01,
                         .nodes = nodes};
    snprintf(s.section, sizeof s.section, "encoder.gcn");
    return s;
}

/* A 5-node graph: edges 0-1, 1-2, 0-3, 2-3, node 4 alone; values scaled so they differ. */
static void make_check_graph(void)
{
    uint32_t u[] = {0, 1, 0, 2}, v[] = {1, 2, 3, 3};
    clae_err err;
    if (clae_csr_gcn(5, u, v, 4, &check_graph, &err)) fail_msg("%s", err.msg);
    for (uint32_t r = 0; r < 5; r++) /* symmetric, as every A_hat: the backward relies on it */
        for (uint32_t k = check_graph.row_ptr[r]; k < check_graph.row_ptr[r + 1]; k++)
            check_graph.val[k] *= 1.0f + 0.1f * (float)(r + check_graph.col[k]);
}

/* Graph convolutions with features and featureless (one-hot rows of W), weighted edges, an
 * isolated node; then a stack as a graph encoder uses, and a graph vae's heads. */
static void test_gcn(void **state)
{
    make_check_graph();
    clae_shape feat = {1, 3, 1, 1}, one = {1, 1, 1, 1};
    check_layer(*state, feat, gcn(4, CLAE_ACT_NONE, true, 0), 5);
    check_layer(*state, feat, gcn(2, CLAE_ACT_TANH, false, 0), 5);
    check_layer(*state, (clae_shape){1, 2, 2, 1}, gcn(3, CLAE_ACT_LEAKY_RELU, true, 0), 5);
    clae_layer_spec stack[2] = {gcn(4, CLAE_ACT_RELU, false, 0), gcn(3, CLAE_ACT_NONE, false, 0)};
    snprintf(stack[1].section, sizeof stack[1].section, "latent.gcn2");
    check_stack(*state, feat, stack, 2, 5, false);
    /* one-hot input: the first layer of a featureless graph (the identity layer in front of
     * it passes the placeholder column, whose gradient is zero) */
    clae_layer_spec hot[2] = {gcn(4, CLAE_ACT_TANH, false, 5), gcn(3, CLAE_ACT_NONE, true, 0)};
    snprintf(hot[1].section, sizeof hot[1].section, "latent.gcn2");
    check_stack(*state, one, hot, 2, 5, true);
    clae_layer_spec vae = {.type = CLAE_LAYER_VAE, .units = 2, .beta = 1, .graph = true};
    snprintf(vae.section, sizeof vae.section, "latent.z");
    check_stack_kl(*state, feat, &vae, 1, 5, true, 0.0f);
    check_stack_kl(*state, feat, &vae, 1, 5, true, 0.4f);
    clae_csr_free(&check_graph);
}

static void test_reshape(void **state)
{
    clae_layer_spec s = {.type = CLAE_LAYER_RESHAPE, .shape = {1, 2, 3, 5}};
    snprintf(s.section, sizeof s.section, "decoder.reshape");
    check_layer(*state, (clae_shape){1, 30, 1, 1}, s, 3);
    s.shape.c = 0; /* flatten */
    check_layer(*state, (clae_shape){1, 2, 3, 5}, s, 1);
}

/* A classifier head on the code and a sparsity penalty on it: their gradients
 * join the decoder's at the code and reach the encoder's parameters and input. */
static void check_head_and_penalty(clae_ctx *ctx, int rows, float l1, float kl)
{
    clae_layer_spec specs[5] = {activation(CLAE_ACT_NONE),
                                dense(6, kl > 0 ? CLAE_ACT_SIGMOID : CLAE_ACT_TANH, true),
                                dense(5, CLAE_ACT_SIGMOID, true), dense(4, CLAE_ACT_RELU, true),
                                dense(3, CLAE_ACT_NONE, true)};
    snprintf(specs[0].section, sizeof specs[0].section, "encoder.identity");
    specs[1].role = CLAE_ROLE_LATENT, specs[2].role = CLAE_ROLE_DECODER;
    specs[3].role = specs[4].role = CLAE_ROLE_CLASSIFIER;
    snprintf(specs[3].section, sizeof specs[3].section, "classifier.hidden");
    fixture f;
    build(ctx, &f, (clae_shape){1, 7, 1, 1}, specs, 5, rows);
    assert_int_equal(f.m.n_main, 3);
    assert_int_equal(f.m.latent_index, 1);
    unsigned seed = 17;
    f.head_n = (size_t)rows * 3;
    f.r_head = malloc(f.head_n * sizeof(float));
    for (size_t i = 0; i < f.head_n; i++) f.r_head[i] = test_uniform(&seed, -1, 1);
    cl_int rc;
    struct penalty pen = {clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, 64, NULL, &rc),
                          clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, 64, NULL, &rc), l1, kl,
                          0.2f};
    f.pen = &pen;
    f.m.latent_grad = penalty_grad;
    f.m.latent_user = &pen;
    float *x = malloc(f.in_n * sizeof(float)), *dx = malloc(f.in_n * sizeof(float));
    for (size_t i = 0; i < f.in_n; i++) x[i] = test_uniform(&seed, -1.5f, 1.5f);
    CHECK_OK(ctx, clae_tensor_write(ctx, &f.m.x, x, f.in_n));
    objective(ctx, &f);
    CHECK_OK(ctx, clae_tensor_write(ctx, &f.m.dy[2], f.r, f.out_n));
    CHECK_OK(ctx, clae_tensor_write(ctx, &f.m.dy[4], f.r_head, f.head_n));
    CHECK_OK(ctx, clae_model_backward(&f.m, ctx, rows));
    CHECK_OK(ctx, clae_tensor_read(ctx, &f.m.dy[0], dx, f.in_n));
    size_t np = f.m.params.capacity;
    float *g = malloc(np * sizeof(float));
    clae_tensor gall = {&f.m.grads, 0, {1, 1, 1, 1}}, all = {&f.m.params, 0, {1, 1, 1, 1}};
    CHECK_OK(ctx, clae_tensor_read(ctx, &gall, g, np));
    compare(ctx, &f, &f.m.x, f.in_n, dx, "input", true);
    compare(ctx, &f, &all, np, g, "parameter", true);
    clReleaseMemObject(pen.rho_hat), clReleaseMemObject(pen.share);
    free(g), free(dx), free(x), free(f.r), free(f.r_head);
    clae_model_release(&f.m);
}

static void test_head_and_penalty(void **state)
{
    check_head_and_penalty(*state, 1, 0, 0);    /* the head alone, batch 1 */
    check_head_and_penalty(*state, 3, 0.3f, 0); /* + L1 on a tanh code */
    check_head_and_penalty(*state, 2, 0, 0.5f); /* + KL on a sigmoid code */
}

/* Dense forward against a double-precision CPU reference. */
static void test_dense_forward_reference(void **state)
{
    clae_ctx *ctx = *state;
    clae_layer_spec specs[1] = {dense(19, CLAE_ACT_TANH, true)};
    fixture f;
    build(ctx, &f, (clae_shape){1, 23, 1, 1}, specs, 1, 5);
    unsigned seed = 11;
    float *x = malloc(f.in_n * sizeof(float)), *p = malloc(f.m.params.capacity * sizeof(float));
    float *y = malloc(f.out_n * sizeof(float));
    for (size_t i = 0; i < f.in_n; i++) x[i] = test_uniform(&seed, -2, 2);
    CHECK_OK(ctx, clae_tensor_write(ctx, &f.m.x, x, f.in_n));
    CHECK_OK(ctx, clae_model_forward(&f.m, ctx, 5, false));
    CHECK_OK(ctx, clae_tensor_read(ctx, &f.m.y[0], y, f.out_n));
    clae_tensor all = {&f.m.params, 0, {1, 1, 1, 1}};
    CHECK_OK(ctx, clae_tensor_read(ctx, &all, p, f.m.params.capacity));
    const clae_layer *l = &f.m.layers[0];
    for (int r = 0; r < 5; r++)
        for (int o = 0; o < 19; o++) {
            double s = p[l->b.off + o];
            for (int i = 0; i < 23; i++)
                s += (double)x[r * 23 + i] * p[l->w.off + (size_t)o * 23 + i];
            assert_float_equal(y[r * 19 + o], tanh(s), 1e-5);
        }
    /* PyTorch's nn.Linear init bound: |w| <= 1/sqrt(in) */
    for (size_t i = 0; i < 19 * 23; i++) assert_true(fabsf(p[l->w.off + i]) <= 1.0f / sqrtf(23.0f));
    free(x), free(p), free(y), free(f.r);
    clae_model_release(&f.m);
}

/* Weights fill U(-bound, bound) for the init kind (checked by the extremes and
 * the variance bound^2 / 3), fan_in as PyTorch computes it (Cout * K * K for a
 * transposed convolution); biases keep PyTorch's 1/sqrt(fan_in) either way. */
static void check_init(clae_ctx *ctx, clae_layer_spec spec, clae_shape in, double fan_in)
{
    fixture f;
    build(ctx, &f, in, &spec, 1, 1);
    float *p = malloc(f.m.params.capacity * sizeof(float));
    clae_tensor all = {&f.m.params, 0, {1, 1, 1, 1}};
    CHECK_OK(ctx, clae_tensor_read(ctx, &all, p, f.m.params.capacity));
    const clae_layer *l = &f.m.layers[0];
    double bound = spec.init == CLAE_INIT_KAIMING ? sqrt(6.0 / fan_in) : 1.0 / sqrt(fan_in),
           top = 0, var = 0;
    for (size_t i = 0; i < l->n_w; i++) {
        top = fmax(top, fabs(p[l->w.off + i]));
        var += (double)p[l->w.off + i] * p[l->w.off + i] / (double)l->n_w;
    }
    if (top > bound * (1 + 1e-6) || top < 0.95 * bound || fabs(var / (bound * bound / 3) - 1) > 0.2)
        fail_msg("%s init %d: max |w| %g, variance %g; expected U(+-%g)", spec.section, spec.init,
                 top, var, bound);
    for (size_t i = 0; i < l->n_b; i++)
        assert_true(fabs(p[l->b.off + i]) <= 1 / sqrt(fan_in) * (1 + 1e-6));
    free(p), free(f.r);
    clae_model_release(&f.m);
}

static void test_init_bounds(void **state)
{
    for (int kind = CLAE_INIT_PYTORCH; kind <= CLAE_INIT_KAIMING; kind++) {
        clae_layer_spec d = dense(19, CLAE_ACT_RELU, true),
                        c = conv(CLAE_LAYER_CONV, 8, 3, 2, 1, 1, 0, 0, true),
                        t = conv(CLAE_LAYER_CONV_T, 6, 3, 2, 1, 1, 1, 0, true);
        d.init = c.init = t.init = kind;
        check_init(*state, d, (clae_shape){1, 23, 1, 1}, 23);
        check_init(*state, c, (clae_shape){1, 3, 7, 7}, 3 * 9);
        check_init(*state, t, (clae_shape){1, 4, 5, 5}, 6 * 9);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_checks),
        cmocka_unit_test(test_dense_forward_reference),
        cmocka_unit_test(test_dense_shapes),
        cmocka_unit_test(test_init_bounds),
        cmocka_unit_test(test_dense_no_bias_image_input),
        cmocka_unit_test(test_activation_layers),
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_conv_transpose),
        cmocka_unit_test(test_pooling),
        cmocka_unit_test(test_max_pool_ties_nan),
        cmocka_unit_test(test_upsample),
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_batch_norm),
        cmocka_unit_test(test_residual),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_dropout_statistics),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_vae),
        cmocka_unit_test(test_gcn),
        cmocka_unit_test(test_head_and_penalty),
    };
    return cmocka_run_group_tests_name("gradcheck", tests, test_ctx_setup, test_ctx_teardown);
}
