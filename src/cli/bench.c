/* clae bench: GEMM throughput through the same clae_gemm the layers use, at
 * given shapes (default: mlp_fmnist's training shapes and 1024^3). The first
 * call of each shape holds CLBlast's one-time kernel compile and is timed apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/clock.h"
#include "clae/ops.h"
#include "cli.h"

#define DEFAULT_SHAPES "64x784x512,64x512x784,512x784x64,1024x1024x1024"

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

int cmd_bench(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help) {
        printf("usage: clae bench [SHAPES] [--device SPEC]\n  SGEMM GFLOP/s (row-major C = A B) at SHAPES, a comma list of "
               "MxNxK (default %s)\n",
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
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(shapes, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        size_t m, n, k;
        char tail;
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
    clae_ctx_release(&ctx);
    return rc ? clae_cli_error(&err) : 0;
}
