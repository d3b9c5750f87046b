/* Losses: values against a double-precision reference with PyTorch's BCE
 * clamping, gradients against finite differences. Optimizers: steps against
 * values worked out by hand from torch.optim's update rules. */
#include <math.h>

#include "clae/ops.h"
#include "clae/optim.h"
#include "clae/train.h"
#include "helpers.h"

static bool fail_if_far(double a, double b, double tol) { return fabs(a - b) > tol; }

static cl_mem scratch(clae_ctx *ctx, size_t n)
{
    cl_int rc;
    cl_mem m = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, n * sizeof(float), NULL, &rc);
    assert_int_equal(rc, CL_SUCCESS);
    return m;
}

static void read_mem(clae_ctx *ctx, cl_mem m, float *out, size_t n)
{
    assert_int_equal(
        clEnqueueReadBuffer(ctx->queue, m, CL_TRUE, 0, n * sizeof(float), out, 0, NULL, NULL),
        CL_SUCCESS);
}

static double bce_ref(double y, double t)
{
    double ly = y > 0 ? fmax(log(y), -100) : -100, l1 = y < 1 ? fmax(log(1 - y), -100) : -100;
    return -(t * ly + (1 - t) * l1);
}

/* loss per row, on the device: returns the row sums in out[rows] and grad in dy. */
static void run_loss(clae_ctx *ctx, clae_loss_kind kind, const float *y, const float *t, int rows,
                     int cols, float *row_out, float *dy_out, float scale)
{
    clae_tensor ty, tt, tdy;
    clae_shape s = {rows, cols, 1, 1};
    CHECK_OK(ctx, clae_tensor_create(ctx, s, &ty));
    CHECK_OK(ctx, clae_tensor_create(ctx, s, &tt));
    CHECK_OK(ctx, clae_tensor_create(ctx, s, &tdy));
    cl_mem rowbuf = scratch(ctx, (size_t)rows);
    size_t n = (size_t)rows * cols;
    CHECK_OK(ctx, clae_tensor_write(ctx, &ty, y, n));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tt, t, n));
    CHECK_OK(ctx,
             clae_op_loss(ctx, kind, &ty, &tt, (size_t)rows, (size_t)cols, &tdy, scale, rowbuf));
    read_mem(ctx, rowbuf, row_out, (size_t)rows);
    CHECK_OK(ctx, clae_tensor_read(ctx, &tdy, dy_out, n));
    clReleaseMemObject(rowbuf);
    clae_tensor_destroy(&ty), clae_tensor_destroy(&tt), clae_tensor_destroy(&tdy);
}

static void check_loss(clae_ctx *ctx, clae_loss_kind kind, int rows, int cols)
{
    size_t n = (size_t)rows * cols;
    float *y = malloc(n * sizeof(float)), *t = malloc(n * sizeof(float)),
          *dy = malloc(n * sizeof(float));
    float *row = malloc((size_t)rows * sizeof(float)), *row2 = malloc((size_t)rows * sizeof(float));
    float *dummy = malloc(n * sizeof(float));
    unsigned seed = 3;
    for (size_t i = 0; i < n; i++)
        y[i] = test_uniform(&seed, 0.05f, 0.95f), t[i] = test_uniform(&seed, 0, 1);
    float scale = 1.0f / (float)n; /* reduction = mean */
    run_loss(ctx, kind, y, t, rows, cols, row, dy, scale);
    for (int r = 0; r < rows; r++) {
        double ref = 0;
        for (int c = 0; c < cols; c++) {
            size_t i = (size_t)r * cols + c;
            ref += kind == CLAE_LOSS_MSE ? (y[i] - t[i]) * (double)(y[i] - t[i])
                                         : bce_ref(y[i], t[i]);
        }
        assert_float_equal(row[r], ref, 1e-5 * (1 + fabs(ref)));
    }
    /* gradient of mean loss against central differences, coordinate by coordinate */
    const float eps = 1e-3f;
    for (size_t i = 0; i < n; i++) {
        float keep = y[i];
        double sum_p = 0, sum_m = 0;
        y[i] = keep + eps;
        run_loss(ctx, kind, y, t, rows, cols, row2, dummy, scale);
        for (int r = 0; r < rows; r++) sum_p += row2[r];
        y[i] = keep - eps;
        run_loss(ctx, kind, y, t, rows, cols, row2, dummy, scale);
        for (int r = 0; r < rows; r++) sum_m += row2[r];
        y[i] = keep;
        double num = (sum_p - sum_m) / (2 * eps) * scale;
        if (fabs(num - dy[i]) > 1e-4 + 1e-2 * fabs(num))
            fail_msg("%s dy[%zu] = %g, finite differences %g", kind ? "bce" : "mse", i, dy[i], num);
    }
    free(y), free(t), free(dy), free(row), free(row2), free(dummy);
}

static void test_mse(void **state)
{
    check_loss(*state, CLAE_LOSS_MSE, 1, 7);
    check_loss(*state, CLAE_LOSS_MSE, 3, 5);
    check_loss(*state, CLAE_LOSS_MSE, 2, 21); /* two float8 runs and a tail of 5 per row */
}

static void test_bce(void **state)
{
    check_loss(*state, CLAE_LOSS_BCE, 1, 7);
    check_loss(*state, CLAE_LOSS_BCE, 3, 5);
    check_loss(*state, CLAE_LOSS_BCE, 2, 21);
}

/* PyTorch: log clamped at -100, so y = 0 with t = 1 costs exactly 100, and the
 * gradient divides by max(y (1 - y), 1e-12). */
static void test_bce_clamping(void **state)
{
    float y[4] = {0.0f, 1.0f, 0.0f, 1.0f}, t[4] = {1.0f, 0.0f, 0.0f, 1.0f}, row[1], dy[4];
    run_loss(*state, CLAE_LOSS_BCE, y, t, 1, 4, row, dy, 1.0f);
    assert_float_equal(row[0], 200.0f, 1e-3);
    assert_float_equal(dy[0], -1e12f, 1e6f);
    assert_float_equal(dy[1], 1e12f, 1e6f);
    assert_float_equal(dy[2], 0.0f, 1e-6);
    assert_float_equal(dy[3], 0.0f, 1e-6);
}

/* Kahan accumulation of many small batch sums stays exact where plain float drifts. */
static void test_accumulate(void **state)
{
    clae_ctx *ctx = *state;
    cl_mem acc = scratch(ctx, 2), v = scratch(ctx, 4);
    float zero[2] = {0, 0}, vals[4] = {1e-4f, 1e-4f, 1e-4f, 1e-4f}, big = 1000.0f, out[2];
    assert_int_equal(clEnqueueWriteBuffer(ctx->queue, acc, CL_TRUE, 0, 8, zero, 0, NULL, NULL),
                     CL_SUCCESS);
    assert_int_equal(clEnqueueWriteBuffer(ctx->queue, acc, CL_TRUE, 0, 4, &big, 0, NULL, NULL),
                     CL_SUCCESS);
    assert_int_equal(clEnqueueWriteBuffer(ctx->queue, v, CL_TRUE, 0, 16, vals, 0, NULL, NULL),
                     CL_SUCCESS);
    for (int i = 0; i < 1000; i++) CHECK_OK(ctx, clae_op_accumulate(ctx, acc, 0, v, 4));
    read_mem(ctx, acc, out, 2);
    assert_float_equal((double)out[0] - (double)out[1], 1000.4,
                       1e-4); /* plain float would give 1000.0 */
    clReleaseMemObject(acc), clReleaseMemObject(v);
}

/* Runs steps of an optimizer on p (n values) with the gradients grads[step][n]. */
static void run_optim(clae_ctx *ctx, const clae_optim_cfg *cfg, float *p, const float *grads, int n,
                      int steps)
{
    clae_tensor tp, tg;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, n, 1, 1}, &tp));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, n, 1, 1}, &tg));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tp, p, (size_t)n));
    clae_optim o;
    CHECK_OK(ctx, clae_optim_create(&o, ctx, cfg, (size_t)n));
    for (int s = 0; s < steps; s++) {
        CHECK_OK(ctx, clae_tensor_write(ctx, &tg, grads + (size_t)s * n, (size_t)n));
        CHECK_OK(ctx, clae_optim_step(&o, ctx, clae_buf(&tp), clae_buf(&tg), cfg->lr));
        float *left = malloc((size_t)n * sizeof *left); /* consumed: the step zeroes them */
        assert_non_null(left);
        CHECK_OK(ctx, clae_tensor_read(ctx, &tg, left, (size_t)n));
        for (int i = 0; i < n; i++) assert_true(left[i] == 0.0f);
        free(left);
    }
    CHECK_OK(ctx, clae_tensor_read(ctx, &tp, p, (size_t)n));
    clae_optim_release(&o);
    clae_tensor_destroy(&tp), clae_tensor_destroy(&tg);
}

static cl_mem upload_bytes(clae_ctx *ctx, const void *host, size_t bytes)
{
    cl_int rc;
    cl_mem m = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes,
                              (void *)host, &rc);
    assert_int_equal(rc, CL_SUCCESS);
    return m;
}

/* Softmax cross-entropy of k logits per row against a double-precision
 * reference: loss, the gradient grad_scale * (softmax - onehot), correctness,
 * and the confusion counts. Labels are read through an order whose entries
 * carry a copy index in the top bits (masked off), as augmented splits do. */
static void check_softmax_xent(clae_ctx *ctx, int rows, int k)
{
    size_t n = (size_t)rows * (size_t)k;
    float *z = malloc(n * sizeof(float)), *dz = malloc(n * sizeof(float)), loss[8], correct[8];
    uint8_t labels[16];
    uint32_t order[8], conf[100] = {0}; /* k <= 10 */
    unsigned seed = 11;
    for (size_t i = 0; i < n; i++) z[i] = test_uniform(&seed, -4, 4);
    for (int i = 0; i < 16; i++) labels[i] = (uint8_t)(i * 7 % k);
    for (int r = 0; r < rows; r++)
        order[r] = (uint32_t)(r % 3 + 1) << 24 | (uint32_t)(15 - r); /* copy, sample */
    clae_tensor tz, tdz;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){rows, k, 1, 1}, &tz));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){rows, k, 1, 1}, &tdz));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tz, z, n));
    cl_mem lab = upload_bytes(ctx, labels, sizeof labels),
           ord = upload_bytes(ctx, order, sizeof order);
    cl_mem cm = upload_bytes(ctx, conf, sizeof conf), rl = scratch(ctx, 8), rc = scratch(ctx, 8);
    float scale = 0.5f / (float)rows; /* lambda 0.5, batch mean */
    CHECK_OK(ctx, clae_op_softmax_xent(ctx, &tz, &tdz, lab, ord, 0, 0xFFFFFFu, (size_t)rows,
                                       (size_t)k, scale, rl, rc, cm));
    read_mem(ctx, rl, loss, (size_t)rows);
    read_mem(ctx, rc, correct, (size_t)rows);
    CHECK_OK(ctx, clae_tensor_read(ctx, &tdz, dz, n));
    assert_int_equal(
        clEnqueueReadBuffer(ctx->queue, cm, CL_TRUE, 0, sizeof conf, conf, 0, NULL, NULL),
        CL_SUCCESS);
    uint32_t counted = 0;
    for (int i = 0; i < k * k; i++) counted += conf[i];
    assert_int_equal(counted, rows);
    for (int r = 0; r < rows; r++) {
        const float *zr = z + (size_t)r * k;
        int label = labels[15 - r], best = 0;
        double m = zr[0], s = 0;
        for (int c = 1; c < k; c++)
            if (zr[c] > m) m = zr[c], best = c;
        for (int c = 0; c < k; c++) s += exp(zr[c] - m);
        double lse = m + log(s);
        assert_float_equal(loss[r], lse - zr[label], 1e-5);
        assert_float_equal(correct[r], best == label ? 1.0 : 0.0, 0);
        assert_true(conf[label * k + best] > 0);
        for (int c = 0; c < k; c++)
            assert_float_equal(dz[(size_t)r * k + c], scale * (exp(zr[c] - lse) - (c == label)),
                               1e-6);
    }
    clReleaseMemObject(lab), clReleaseMemObject(ord), clReleaseMemObject(cm),
        clReleaseMemObject(rl), clReleaseMemObject(rc);
    clae_tensor_destroy(&tz), clae_tensor_destroy(&tdz);
    free(z), free(dz);
}

static void test_softmax_xent(void **state)
{
    check_softmax_xent(*state, 1, 2);
    check_softmax_xent(*state, 3, 10);
    check_softmax_xent(*state, 8, 5);
}

/* The sparsity penalty (sum of unit_pen) of z, on the device. */
static double sparsity_value(clae_ctx *ctx, clae_tensor *tz, const float *z, int rows, int u,
                             float l1, float kl, float rho, cl_mem rho_hat, cl_mem pen)
{
    float share[16];
    CHECK_OK(ctx, clae_tensor_write(ctx, tz, z, (size_t)rows * u));
    CHECK_OK(ctx,
             clae_op_sparsity(ctx, tz, NULL, (size_t)rows, (size_t)u, l1, kl, rho, rho_hat, pen));
    read_mem(ctx, pen, share, (size_t)u);
    double sum = 0;
    for (int j = 0; j < u; j++) sum += share[j];
    return sum;
}

/* Value against the formula, gradient (added to dz) against central differences. */
static void check_sparsity(clae_ctx *ctx, int rows, int u, float l1, float kl, float rho)
{
    size_t n = (size_t)rows * u;
    float *z = malloc(n * sizeof(float)), *dz = malloc(n * sizeof(float)),
          *base = malloc(n * sizeof(float));
    unsigned seed = 21;
    for (size_t i = 0; i < n; i++) {
        z[i] = kl > 0 ? test_uniform(&seed, 0.02f, 0.6f) : test_uniform(&seed, -1, 1);
        base[i] = test_uniform(&seed, -1, 1); /* the gradient is added to what dz held */
    }
    clae_tensor tz, tdz;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){rows, u, 1, 1}, &tz));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){rows, u, 1, 1}, &tdz));
    cl_mem rho_hat = scratch(ctx, (size_t)u), pen = scratch(ctx, (size_t)u);
    double ref = 0;
    for (int j = 0; j < u; j++) {
        double a = 0, q = 0;
        for (int r = 0; r < rows; r++) a += fabs(z[r * u + j]), q += z[r * u + j];
        q /= rows;
        ref += l1 * a / rows +
               (kl > 0 ? kl * (rho * log(rho / q) + (1 - rho) * log((1 - rho) / (1 - q))) : 0);
    }
    assert_float_equal(sparsity_value(ctx, &tz, z, rows, u, l1, kl, rho, rho_hat, pen), ref,
                       1e-5 * (1 + fabs(ref)));
    CHECK_OK(ctx, clae_tensor_write(ctx, &tdz, base, n));
    CHECK_OK(ctx,
             clae_op_sparsity(ctx, &tz, &tdz, (size_t)rows, (size_t)u, l1, kl, rho, rho_hat, pen));
    CHECK_OK(ctx, clae_tensor_read(ctx, &tdz, dz, n));
    const float h = 1e-3f;
    for (size_t i = 0; i < n; i++) {
        float keep = z[i];
        z[i] = keep + h;
        double lp = sparsity_value(ctx, &tz, z, rows, u, l1, kl, rho, rho_hat, pen);
        z[i] = keep - h;
        double lm = sparsity_value(ctx, &tz, z, rows, u, l1, kl, rho, rho_hat, pen);
        z[i] = keep;
        double fd = (lp - lm) / (2 * h);
        if (fail_if_far(dz[i] - base[i], fd, 2e-3 + 1e-2 * fabs(fd)))
            fail_msg("sparsity dz[%zu]: %.6f, finite differences %.6f", i, dz[i] - base[i], fd);
    }
    clReleaseMemObject(rho_hat), clReleaseMemObject(pen);
    clae_tensor_destroy(&tz), clae_tensor_destroy(&tdz);
    free(z), free(dz), free(base);
}

static void test_sparsity(void **state)
{
    check_sparsity(*state, 1, 5, 0.3f, 0, 0.05f); /* L1, batch 1 */
    check_sparsity(*state, 3, 7, 0.1f, 0, 0.05f);
    check_sparsity(*state, 5, 3, 0, 0.5f, 0.05f);   /* KL toward rho */
    check_sparsity(*state, 4, 6, 0.2f, 0.3f, 0.1f); /* both */
}

/* The Laplace CDF, for the rate's reference: the probability of [y - 1/2, y + 1/2] from it
 * directly, not from the kernel's closed forms. */
static double laplace_cdf(double x, double b)
{
    return x < 0 ? 0.5 * exp(x / b) : 1 - 0.5 * exp(-x / b);
}

static double rate_nll_ref(double t, double b)
{
    return -log2(laplace_cdf(t + 0.5, b) - laplace_cdf(t - 0.5, b));
}

/* The rate term (rate.cl): the per-channel fit and bits against a double reference from the
 * CDF, and the gradient (mu and scale held, as training holds them) against central
 * differences of that reference. z: rows x channels x positions. */
static void check_rate(clae_ctx *ctx, int rows, int channels, int positions, float spread)
{
    size_t n = (size_t)rows * channels * positions;
    float *z = malloc(n * sizeof(float)), *dz = malloc(n * sizeof(float)),
          *base = malloc(n * sizeof(float)), mu[8], scale[8], bits[8];
    unsigned seed = 5;
    for (size_t i = 0; i < n; i++)
        z[i] = test_uniform(&seed, -spread, spread) + (float)(i / positions % channels),
        base[i] = test_uniform(&seed, -1, 1);
    clae_tensor tz, tdz;
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){rows, channels, 1, positions}, &tz));
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){rows, channels, 1, positions}, &tdz));
    cl_mem m_mu = scratch(ctx, 8), m_scale = scratch(ctx, 8), m_bits = scratch(ctx, 8);
    const float pixels = 37, weight = 0.25f;
    CHECK_OK(ctx, clae_tensor_write(ctx, &tz, z, n));
    CHECK_OK(ctx, clae_op_rate_fit(ctx, &tz, (size_t)rows, (size_t)channels, (size_t)positions,
                                   pixels, m_mu, m_scale, m_bits));
    read_mem(ctx, m_mu, mu, (size_t)channels), read_mem(ctx, m_scale, scale, (size_t)channels);
    read_mem(ctx, m_bits, bits, (size_t)channels);
    for (int c = 0; c < channels; c++) {
        double m = 0, dev = 0, nll = 0, count = (double)rows * positions;
        for (int r = 0; r < rows; r++)
            for (int p = 0; p < positions; p++) m += z[(r * channels + c) * positions + p] / count;
        for (int r = 0; r < rows; r++)
            for (int p = 0; p < positions; p++)
                dev += fabs(z[(r * channels + c) * positions + p] - m) / count;
        double b = fmax(dev, 0.05);
        for (int r = 0; r < rows; r++)
            for (int p = 0; p < positions; p++)
                nll += rate_nll_ref(z[(r * channels + c) * positions + p] - m, b);
        assert_float_equal(mu[c], m, 1e-5 * (1 + fabs(m)));
        assert_float_equal(scale[c], b, 1e-5 * b);
        assert_float_equal(bits[c], nll / pixels, 1e-4 * (1 + nll / pixels));
    }
    CHECK_OK(ctx, clae_tensor_write(ctx, &tdz, base, n));
    CHECK_OK(ctx, clae_op_rate_grad(ctx, &tz, &tdz, (size_t)rows, (size_t)channels,
                                    (size_t)positions, weight, m_mu, m_scale));
    CHECK_OK(ctx, clae_tensor_read(ctx, &tdz, dz, n));
    const double h = 1e-4;
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i / positions % channels);
        double fd = weight *
                    (rate_nll_ref(z[i] + h - mu[c], scale[c]) -
                     rate_nll_ref(z[i] - h - mu[c], scale[c])) /
                    (2 * h);
        if (fail_if_far(dz[i] - base[i], fd, 1e-3 + 1e-3 * fabs(fd)))
            fail_msg("rate dz[%zu] (z - mu = %.3f): %.6f, finite differences %.6f", i, z[i] - mu[c],
                     dz[i] - base[i], fd);
    }
    clReleaseMemObject(m_mu), clReleaseMemObject(m_scale), clReleaseMemObject(m_bits);
    clae_tensor_destroy(&tz), clae_tensor_destroy(&tdz);
    free(z), free(dz), free(base);
}

static void test_rate(void **state)
{
    check_rate(*state, 1, 3, 5, 2.0f);  /* batch 1 */
    check_rate(*state, 4, 2, 7, 0.4f);  /* mostly inside the central bin */
    check_rate(*state, 3, 5, 1, 6.0f);  /* a dense code: one position per channel */
    check_rate(*state, 2, 1, 9, 0.01f); /* a scale at its floor */
}

static void test_sgd_momentum(void **state)
{
    /* p = 1, g = 0.5 twice, lr 0.1, momentum 0.9: buf 0.5 -> p 0.95; buf 0.95 -> p 0.855 */
    clae_optim_cfg c = {.kind = CLAE_OPT_SGD, .lr = 0.1, .momentum = 0.9};
    float p[1] = {1.0f}, g[2] = {0.5f, 0.5f};
    run_optim(*state, &c, p, g, 1, 1);
    assert_float_equal(p[0], 0.95f, 1e-6);
    p[0] = 1.0f;
    run_optim(*state, &c, p, g, 1, 2);
    assert_float_equal(p[0], 0.855f, 1e-6);
    /* Nesterov, first step: d = g + 0.9 * buf = 0.95 -> p 0.905 */
    c.nesterov = true;
    p[0] = 1.0f;
    run_optim(*state, &c, p, g, 1, 1);
    assert_float_equal(p[0], 0.905f, 1e-6);
    /* L2 decay 0.1 without momentum: d = 0.5 + 0.1 * 1 -> p 0.94 */
    c = (clae_optim_cfg){.kind = CLAE_OPT_SGD, .lr = 0.1, .weight_decay = 0.1};
    p[0] = 1.0f;
    run_optim(*state, &c, p, g, 1, 1);
    assert_float_equal(p[0], 0.94f, 1e-6);
}

static void test_adam(void **state)
{
    /* with bias correction the first steps move by lr * sign(g) when g is constant:
     * p 1 -> 0.9 -> 0.8 (torch.optim.Adam, lr 0.1, default betas) */
    clae_optim_cfg c = {
        .kind = CLAE_OPT_ADAM, .lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    float p[2] = {1.0f, -2.0f}, g[6] = {0.5f, -3.0f, 0.5f, -3.0f, -1.0f, 2.0f};
    run_optim(*state, &c, p, g, 2, 2);
    /* float32 state: a few ulps of error per step */
    assert_float_equal(p[0], 0.8f, 3e-6);
    assert_float_equal(p[1], -1.8f, 3e-6);
    /* a third, different gradient, worked out by hand:
     * m = 0.9 * 0.095 + 0.1 * -1 = -0.0145; v = 0.999 * 0.00049975 + 0.001 * 1 = 0.00149925025
     * m_hat = m / 0.271 ; v_hat = v / 0.002997001; p = 0.8 - 0.1 * m_hat / (sqrt(v_hat) + 1e-8) */
    p[0] = 1.0f, p[1] = -2.0f;
    run_optim(*state, &c, p, g, 2, 3);
    double mh = -0.0145 / 0.271, vh = 0.00149925025 / 0.002997001;
    assert_float_equal(p[0], 0.8 - 0.1 * mh / (sqrt(vh) + 1e-8), 2e-6);
    /* Adam's weight decay is L2 (added to g); AdamW's is decoupled (p *= 1 - lr wd first) */
    c.weight_decay = 0.5;
    float q[1] = {1.0f}, gq[1] = {0.0f};
    run_optim(*state, &c, q, gq, 1, 1); /* g = 0 + 0.5 * 1: moves by lr */
    assert_float_equal(q[0], 0.9f, 1e-6);
    c.kind = CLAE_OPT_ADAMW;
    q[0] = 1.0f;
    run_optim(*state, &c, q, gq, 1, 1); /* decay only: 1 * (1 - 0.1 * 0.5), then a zero step */
    assert_float_equal(q[0], 0.95f, 1e-6);
}

/* 21 values: two float8 work-items and a scalar tail of 5, against torch's
 * formulas in double over 3 steps, with value clipping and both decays. */
static void test_adam_vector(void **state)
{
    enum { N = 21, STEPS = 3 };
    for (int kind = 0; kind < 2; kind++) {
        clae_optim_cfg c = {.kind = kind ? CLAE_OPT_ADAMW : CLAE_OPT_ADAM,
                            .lr = 0.05,
                            .beta1 = 0.9,
                            .beta2 = 0.999,
                            .eps = 1e-8,
                            .weight_decay = 0.1,
                            .clip_value = 0.4};
        float p[N], g[STEPS * N];
        double rp[N], m[N] = {0}, v[N] = {0};
        for (int i = 0; i < N; i++) rp[i] = p[i] = 0.1f * (float)(i - 10);
        for (int i = 0; i < STEPS * N; i++) g[i] = 0.07f * (float)((i * 7) % 19 - 9);
        run_optim(*state, &c, p, g, N, STEPS);
        for (int s = 1; s <= STEPS; s++)
            for (int i = 0; i < N; i++) {
                double gi = fmin(fmax(g[(s - 1) * N + i], -0.4), 0.4);
                if (kind)
                    rp[i] *= 1.0 - c.lr * c.weight_decay;
                else
                    gi += c.weight_decay * rp[i];
                m[i] = 0.9 * m[i] + 0.1 * gi;
                v[i] = 0.999 * v[i] + 0.001 * gi * gi;
                double mh = m[i] / (1 - pow(0.9, s)), vh = v[i] / (1 - pow(0.999, s));
                rp[i] -= c.lr * mh / (sqrt(vh) + 1e-8);
            }
        for (int i = 0; i < N; i++)
            if (fabs(p[i] - rp[i]) > 1e-5)
                fail_msg("%s p[%d] = %.7f, expected %.7f", kind ? "adamw" : "adam", i, p[i], rp[i]);
    }
}

static void test_lion(void **state)
{
    /* p = 1, g = 0.5, lr 0.1, betas (0.9, 0.99): c = 0.05 -> p = 0.9, m = 0.005;
     * then g = -0.01: c = 0.0045 - 0.001 > 0, so p moves down again (momentum wins) -> 0.8 */
    clae_optim_cfg c = {.kind = CLAE_OPT_LION, .lr = 0.1, .beta1 = 0.9, .beta2 = 0.99};
    float p[1] = {1.0f}, g[2] = {0.5f, -0.01f};
    run_optim(*state, &c, p, g, 1, 2);
    assert_float_equal(p[0], 0.8f, 1e-6);
    /* decoupled decay: 1 * (1 - 0.1 * 0.5) - 0.1 = 0.85 */
    c.weight_decay = 0.5;
    p[0] = 1.0f;
    run_optim(*state, &c, p, g, 1, 1);
    assert_float_equal(p[0], 0.85f, 1e-6);
}

static void test_clipping(void **state)
{
    /* global norm: g = (3, 4), ||g|| = 5, clip to 1: plain SGD lr 1 moves by g / 5 */
    clae_optim_cfg c = {.kind = CLAE_OPT_SGD, .lr = 1.0, .clip_norm = 1.0};
    float p[2] = {0, 0}, g[2] = {3, 4};
    run_optim(*state, &c, p, g, 2, 1);
    assert_float_equal(p[0], -0.6f, 1e-6);
    assert_float_equal(p[1], -0.8f, 1e-6);
    c.clip_norm = 10; /* below the limit: untouched */
    p[0] = p[1] = 0;
    run_optim(*state, &c, p, g, 2, 1);
    assert_float_equal(p[0], -3.0f, 1e-5);
    /* by value: each component to [-1, 1], also through Adam (sign of the first step) */
    clae_optim_cfg v = {.kind = CLAE_OPT_SGD, .lr = 1.0, .clip_value = 1.0};
    float q[3] = {0, 0, 0}, h[3] = {3, -4, 0.5f};
    run_optim(*state, &v, q, h, 3, 1);
    assert_float_equal(q[0], -1.0f, 0);
    assert_float_equal(q[1], 1.0f, 0);
    assert_float_equal(q[2], -0.5f, 0);
}

static void test_schedules(void **state)
{
    (void)state;
    clae_schedule s = {
        .kind = CLAE_SCHED_STEP, .lr = 0.1, .gamma = 0.5, .step_epochs = 2, .epochs = 10};
    assert_float_equal(clae_schedule_lr(&s, 1, 100), 0.1, 1e-12);
    assert_float_equal(clae_schedule_lr(&s, 2, 100), 0.05, 1e-12);
    assert_float_equal(clae_schedule_lr(&s, 5, 100), 0.025, 1e-12);
    s.kind = CLAE_SCHED_EXPONENTIAL;
    assert_float_equal(clae_schedule_lr(&s, 3, 100), 0.0125, 1e-12);
    s.kind = CLAE_SCHED_COSINE;
    s.min_lr = 0.01;
    assert_float_equal(clae_schedule_lr(&s, 0, 100), 0.1, 1e-12);
    assert_float_equal(clae_schedule_lr(&s, 5, 100), 0.055, 1e-12);
    assert_float_equal(clae_schedule_lr(&s, 10, 100), 0.01, 1e-12);
    s.kind = CLAE_SCHED_CONSTANT;
    s.warmup_steps = 4; /* linear warm-up: 1/4, 2/4, ... of the rate */
    assert_float_equal(clae_schedule_lr(&s, 0, 0), 0.025, 1e-12);
    assert_float_equal(clae_schedule_lr(&s, 0, 3), 0.1, 1e-12);
    assert_float_equal(clae_schedule_lr(&s, 0, 4), 0.1, 1e-12);
}

/* Data-parallel shards of a global batch: disjoint, covering it in rank order, sizes within
 * one of each other with the lower ranks the larger; a batch below the ranks leaves some
 * with none. */
static void test_shards(void **state)
{
    (void)state;
    for (int size = 1; size <= 5; size++)
        for (int rows = 1; rows <= 70; rows++) {
            int next = 0, last = rows;
            for (int rank = 0; rank < size; rank++) {
                int first, count;
                clae_dp_shard(rows, rank, size, &first, &count);
                assert_int_equal(first, next);
                assert_true(count >= 0 && count <= last);
                assert_true(count >= rows / size && count <= rows / size + 1);
                next += count;
                last = count;
            }
            assert_int_equal(next, rows);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mse),          cmocka_unit_test(test_bce),
        cmocka_unit_test(test_bce_clamping), cmocka_unit_test(test_accumulate),
        cmocka_unit_test(test_sgd_momentum), cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adam_vector),  cmocka_unit_test(test_softmax_xent),
        cmocka_unit_test(test_sparsity),     cmocka_unit_test(test_rate),
        cmocka_unit_test(test_lion),         cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_schedules),    cmocka_unit_test(test_shards),
    };
    return cmocka_run_group_tests_name("loss_optim", tests, test_ctx_setup, test_ctx_teardown);
}
