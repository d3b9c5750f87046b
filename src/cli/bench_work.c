/* The measurements behind clae bench and clae tune. Every timed loop waits for
 * the queue at its end only, so host and device overlap as in training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clae/clock.h"
#include "clae/config.h"
#include "clae/optim.h"
#include "clae/train.h"

int bench_gemm(clae_ctx *ctx, const clae_gemm_choice *ch, size_t m, size_t n, size_t k,
               double min_s, bench_gemm_result *r)
{
    clae_tensor a, b, c;
    int rc = -1;
    a.arena = b.arena = c.arena = NULL;
    if (!ch) ch = clae_gemm_choose(ctx, false, false, m, n, k);
    if (clae_tensor_create(ctx, (clae_shape){1, (int)m, (int)k, 1}, &a) ||
        clae_tensor_create(ctx, (clae_shape){1, (int)k, (int)n, 1}, &b) ||
        clae_tensor_create(ctx, (clae_shape){1, (int)m, (int)n, 1}, &c) ||
        clae_op_fill(ctx, &a, m * k, 0.5f) || clae_op_fill(ctx, &b, k * n, 0.25f) ||
        clae_finish(ctx))
        goto done;
    double t0 = clae_now();
    if (clae_gemm_with(ctx, ch, false, false, m, n, k, 1.0f, &a, k, &b, n, 0.0f, &c, n) ||
        clae_finish(ctx))
        goto done;
    r->first_s = clae_now() - t0;
    /* batches of calls until min_s has passed, at least 3 calls */
    r->reps = 0;
    t0 = clae_now();
    double elapsed = 0;
    int batch = 1;
    while (r->reps < 3 || elapsed < min_s) {
        for (int i = 0; i < batch; i++)
            if (clae_gemm_with(ctx, ch, false, false, m, n, k, 1.0f, &a, k, &b, n, 0.0f, &c, n))
                goto done;
        if (clae_finish(ctx)) goto done;
        r->reps += batch;
        elapsed = clae_now() - t0;
        if (elapsed < min_s / 8 && batch < 64) batch *= 2;
    }
    r->gflops = 2.0 * (double)m * n * k * r->reps / elapsed * 1e-9;
    float probe[2];
    if (clae_tensor_read(ctx, &c, probe, 1)) goto done;
    c.off = m * n - 1;
    if (clae_tensor_read(ctx, &c, probe + 1, 1)) goto done;
    for (int i = 0; i < 2; i++)
        if (probe[i] != 0.125f * (float)k) { /* every product is 0.5 * 0.25 */
            clae_fail(&ctx->err, "GEMM %zux%zux%zu gave %g, expected %g", m, n, k, probe[i],
                      0.125 * k);
            goto done;
        }
    rc = 0;
done:
    c.off = 0;
    clae_tensor_destroy(&a), clae_tensor_destroy(&b), clae_tensor_destroy(&c);
    return rc;
}

/* Seconds per call of fn over at least 3 calls and 0.5 s, after one warm-up call. */
static int time_calls(clae_ctx *ctx, int (*fn)(void *), void *arg, double *seconds)
{
    if (fn(arg) || clae_finish(ctx)) return -1;
    int reps = 0;
    double t0 = clae_now(), elapsed = 0;
    while (reps < 3 || elapsed < 0.5) {
        if (fn(arg) || clae_finish(ctx)) return -1;
        reps++;
        elapsed = clae_now() - t0;
    }
    *seconds = elapsed / reps;
    return 0;
}

typedef struct {
    clae_model *m;
    clae_ctx *ctx;
    int batch;
} conv_bench;

static int conv_fwd(void *p)
{
    conv_bench *b = p;
    return clae_model_forward(b->m, b->ctx, b->batch, true);
}

static int conv_bwd(void *p)
{
    conv_bench *b = p;
    return clae_model_backward(b->m, b->ctx, b->batch);
}

int bench_conv(clae_ctx *ctx, int c, int h, int w, int cout, clae_err *err)
{
    const int batch = 64;
    static const char *algo_names[] = {"auto", "im2col", "direct"};
    for (int algo = 0; algo <= 2; algo++) {
        clae_layer_spec specs[2] = {{.type = CLAE_LAYER_ACT, .act = CLAE_ACT_NONE},
                                    {.type = CLAE_LAYER_CONV,
                                     .channels = cout,
                                     .kernel = 3,
                                     .stride = 1,
                                     .padding = 1,
                                     .dilation = 1,
                                     .bias = true,
                                     .algo = algo}};
        snprintf(specs[0].section, sizeof specs[0].section, "encoder.in");
        snprintf(specs[1].section, sizeof specs[1].section, "encoder.conv");
        clae_model m;
        if (clae_model_build_stack(&m, ctx, (clae_shape){1, c, h, w}, specs, 2, batch, false, err))
            return -1;
        conv_bench b = {&m, ctx, batch};
        double tf = 0, tb = 0;
        clae_tensor x = m.x, dy = m.dy[1];
        int rc = clae_op_fill(ctx, &x, (size_t)batch * c * h * w, 0.5f) ||
                 clae_op_fill(ctx, &dy, (size_t)batch * cout * h * w, 0.25f) ||
                 clae_model_init_params(&m, ctx, 1) || time_calls(ctx, conv_fwd, &b, &tf) ||
                 time_calls(ctx, conv_bwd, &b, &tb);
        clae_model_release(&m);
        if (rc) {
            *err = ctx->err;
            return -1;
        }
        double flop = 2.0 * batch * cout * h * w * c * 9;
        printf("conv %dx%dx%d->%-5d %-7s fwd %8.2f ms %7.1f GFLOP/s   bwd %8.2f ms %7.1f GFLOP/s\n",
               c, h, w, cout, algo_names[algo], tf * 1e3, flop / tf * 1e-9, tb * 1e3,
               2 * flop / tb * 1e-9);
        fflush(stdout);
    }
    return 0;
}

int bench_workload(clae_ctx *ctx, const char *config_path, int steps, bench_workload_result *r,
                   clae_err *err)
{
    clae_config cfg;
    if (clae_config_load(&cfg, config_path, NULL, 0, err)) return -1;
    clae_workload wl;
    int rc = clae_workload_open(&wl, ctx, &cfg, err);
    if (rc == 0) {
        /* warm-up: CLBlast compiles its kernels on first use, caches settle */
        for (int i = 0; i < 3 && rc == 0; i++) rc = clae_workload_step(&wl);
        if (rc == 0) rc = clae_finish(ctx) || clae_objective_clear(&wl.obj, true);
        if (ctx->profiling) clae_profile_reset(ctx); /* the profile covers timed steps only */
        double t0 = clae_now();
        for (int i = 0; i < steps && rc == 0; i++) rc = clae_workload_step(&wl);
        if (rc == 0) rc = clae_finish(ctx);
        double dt = clae_now() - t0;
        clae_metrics m;
        if (rc == 0) rc = clae_workload_metrics(&wl, steps, &m);
        if (rc) *err = ctx->err;
        snprintf(r->name, sizeof r->name, "%s", cfg.model.name);
        r->batch = wl.batch.rows;
        r->step_s = dt / steps;
        r->images_per_s = wl.batch.rows / r->step_s;
        r->flops = clae_model_train_flops(&wl.m) * wl.batch.rows;
        r->gflops = r->flops / r->step_s * 1e-9;
        r->loss = rc == 0 ? m.v[CLAE_METRIC_LOSS] : NAN;
    }
    clae_workload_close(&wl);
    clae_config_free(&cfg);
    return rc ? -1 : 0;
}

int bench_record_shapes(clae_ctx *ctx, const char *config_path, clae_err *err)
{
    clae_config cfg;
    if (clae_config_load(&cfg, config_path, NULL, 0, err)) return -1;
    clae_workload wl;
    int rc = clae_workload_open(&wl, ctx, &cfg, err);
    if (rc == 0) {
        ctx->gemm->recording = true;
        rc = clae_workload_step(&wl) || clae_finish(ctx);
        ctx->gemm->recording = false;
        if (rc) *err = ctx->err;
    }
    clae_workload_close(&wl);
    clae_config_free(&cfg);
    return rc ? -1 : 0;
}
