/* clae bench: GEMM throughput through the same clae_gemm the layers use, at
 * given shapes (default: mlp_fmnist's training shapes and 1024^3). The first
 * call of each shape holds CLBlast's one-time kernel compile and is timed apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/clock.h"
#include "clae/nn.h"
#include "clae/ops.h"
#include "cli.h"

#define DEFAULT_SHAPES "64x784x512,64x512x784,512x784x64,1024x1024x1024,conv3x64x64-32,conv64x16x16-128"

typedef struct {
    double first_s, gflops;
    int reps;
} gemm_result;

static int time_gemm(clae_ctx *ctx, size_t m, size_t n, size_t k, gemm_result *r)
{
    clae_tensor a, b, c;
    int rc = -1;
    a.arena = b.arena = c.arena = NULL;
    if (clae_tensor_create(ctx, (clae_shape){1, (int)m, (int)k, 1}, &a) ||
        clae_tensor_create(ctx, (clae_shape){1, (int)k, (int)n, 1}, &b) ||
        clae_tensor_create(ctx, (clae_shape){1, (int)m, (int)n, 1}, &c) || clae_op_fill(ctx, &a, m * k, 0.5f) ||
        clae_op_fill(ctx, &b, k * n, 0.25f) || clae_finish(ctx))
        goto done;
    double t0 = clae_now();
    if (clae_gemm(ctx, false, false, m, n, k, 1.0f, &a, k, &b, n, 0.0f, &c, n) || clae_finish(ctx)) goto done;
    r->first_s = clae_now() - t0;
    /* repeat until half a second has passed, at least 3 times */
    r->reps = 0;
    t0 = clae_now();
    double elapsed = 0;
    while (r->reps < 3 || elapsed < 0.5) {
        if (clae_gemm(ctx, false, false, m, n, k, 1.0f, &a, k, &b, n, 0.0f, &c, n) || clae_finish(ctx)) goto done;
        r->reps++;
        elapsed = clae_now() - t0;
    }
    r->gflops = 2.0 * (double)m * n * k * r->reps / elapsed * 1e-9;
    float probe;
    if (clae_tensor_read(ctx, &c, &probe, 1)) goto done;
    if (probe != 0.125f * (float)k) { /* every product is 0.5 * 0.25 */
        clae_fail(&ctx->err, "GEMM %zux%zux%zu gave %g, expected %g", m, n, k, probe, 0.125 * k);
        goto done;
    }
    rc = 0;
done:
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

/* A 3x3, stride 1, padding 1 convolution CxHxW -> COUT at batch 64, each algorithm.
 * The backward includes the input gradient (a layer in front of it). */
static int bench_conv(clae_ctx *ctx, int c, int h, int w, int cout, clae_err *err)
{
    const int batch = 64;
    for (int algo = 1; algo <= 2; algo++) {
        clae_layer_spec specs[2] = {{.type = CLAE_LAYER_ACT, .act = CLAE_ACT_NONE},
                                    {.type = CLAE_LAYER_CONV, .channels = cout, .kernel = 3, .stride = 1, .padding = 1,
                                     .dilation = 1, .bias = true, .algo = algo}};
        snprintf(specs[0].section, sizeof specs[0].section, "encoder.in");
        snprintf(specs[1].section, sizeof specs[1].section, "encoder.conv");
        clae_model m;
        if (clae_model_build_stack(&m, ctx, (clae_shape){1, c, h, w}, specs, 2, batch, false, err)) return -1;
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
        printf("conv %dx%dx%d->%-5d %-7s fwd %8.2f ms %7.1f GFLOP/s   bwd %8.2f ms %7.1f GFLOP/s\n", c, h, w, cout,
               algo == 1 ? "im2col" : "direct", tf * 1e3, flop / tf * 1e-9, tb * 1e3, 2 * flop / tb * 1e-9);
        fflush(stdout);
    }
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help) {
        printf("usage: clae bench [SHAPES] [--device SPEC]\n  SHAPES, a comma list of\n"
               "    MxNxK          SGEMM GFLOP/s (row-major C = A B)\n"
               "    convCxHxW-COUT a 3x3 stride-1 padding-1 convolution at batch 64, forward and backward,\n"
               "                   with im2col + GEMM and with the direct kernels\n"
               "  default %s\n",
               DEFAULT_SHAPES);
        return 0;
    }
    char shapes[512];
    snprintf(shapes, sizeof shapes, "%s", o.positional ? o.positional : DEFAULT_SHAPES);
    clae_ctx ctx;
    if (clae_ctx_create(&ctx, o.device, &err)) return clae_cli_error(&err);
    printf("device %d:%d %s (%s)\n", ctx.dev.platform_index, ctx.dev.device_index, ctx.dev.name,
           clae_device_kind_name(ctx.dev.kind));
    printf("%-18s %12s %10s %6s\n", "sgemm MxNxK", "first call s", "GFLOP/s", "reps");
    fflush(stdout);
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(shapes, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        size_t m, n, k;
        char tail;
        int c, h, w, co;
        if (sscanf(tok, "conv%dx%dx%d-%d%c", &c, &h, &w, &co, &tail) == 4 && c > 0 && h > 0 && w > 0 && co > 0) {
            rc = bench_conv(&ctx, c, h, w, co, &err);
            continue;
        }
        if (sscanf(tok, "%zux%zux%zu%c", &m, &n, &k, &tail) != 3 || !m || !n || !k) {
            rc = clae_fail(&err, "bench: shape '%s': expected MxNxK with positive integers, e.g. 64x784x512", tok);
            break;
        }
        gemm_result r;
        if (time_gemm(&ctx, m, n, k, &r)) {
            err = ctx.err;
            rc = -1;
            break;
        }
        printf("%-18s %12.3f %10.1f %6d\n", tok, r.first_s, r.gflops, r.reps);
        fflush(stdout);
    }
    clae_profile_print(&ctx, stdout, 0);
    clae_ctx_release(&ctx);
    return rc ? clae_cli_error(&err) : 0;
}
