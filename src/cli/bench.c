/* clae bench: the reference training workloads (images/s, GFLOP/s and that as
 * a fraction of the device's measured SGEMM peak), GEMM GFLOP/s at the shapes
 * those models use, and single convolutions by algorithm. Table on stdout,
 * the same as JSON with --json FILE. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "clae/job.h"
#include "clae/io.h"
#include "cli.h"

#define DEFAULT_ITEMS                                                                 \
    "mlp_fmnist,conv_fmnist,convT_emoji,vae_fmnist,64x784x512,64x512x784,512x784x64," \
    "1024x1024x1024"
#define PEAK_SHAPE 1024 /* the SGEMM peak is measured at 1024^3 */
#define MAX_ITEMS 32

typedef struct {
    char shape[48];
    double gflops, first_s;
    char engine[48];
} gemm_row;

typedef struct {
    clae_ctx *ctx;
    int steps;
    double peak;     /* SGEMM 1024^3 */
    double fma_peak; /* chains of FMAs: the device's arithmetic limit */
    bench_workload_result work[MAX_ITEMS];
    int n_work;
    gemm_row gemm[MAX_ITEMS];
    int n_gemm;
} bench_run;

static void usage(void)
{
    printf(
        "usage: clae bench [ITEMS] [--device SPEC] [--steps N] [--json FILE] [--profile]\n\n"
        "  ITEMS, a comma list of\n"
        "    NAME           a config's training step (configs/NAME.ini) on a synthetic batch\n"
        "    PATH.ini       the same for any config file\n"
        "    MxNxK          SGEMM GFLOP/s (row-major C = A B) with the engine clae uses for it\n"
        "    convCxHxW-COUT a 3x3 stride-1 padding-1 convolution at batch 64, forward and "
        "backward,\n"
        "                   with each algo: auto (on the own GEMM: conv_rows), im2col + GEMM, "
        "direct\n"
        "  default %s\n\n"
        "  Workloads run 3 warm-up steps, then --steps N timed steps (default 20). GFLOP/s "
        "counts the\n"
        "  matrix work of forward and backward, against two yardsticks measured in the same run:\n"
        "  the FMA peak (chains of fused multiply-adds, the arithmetic limit) and SGEMM 1024^3.\n"
        "  --profile prints device time per kernel family over the timed steps, per step.\n",
        DEFAULT_ITEMS);
}

/* NAME is looked up in ./configs, then in the source tree clae was built from. */
int bench_resolve_config(const char *item, char *path, size_t len, clae_err *err)
{
    size_t n = strlen(item);
    if (n > 4 && strcmp(item + n - 4, ".ini") == 0) {
        snprintf(path, len, "%s", item);
        if (access(path, R_OK) != 0)
            return clae_fail(err, "'%s': cannot read it: %s", item, strerror(errno));
        return 0;
    }
    snprintf(path, len, "configs/%s.ini", item);
    if (access(path, R_OK) == 0) return 0;
    snprintf(path, len, "%s/%s.ini", CLAE_CONFIGS_DIR, item);
    if (access(path, R_OK) == 0) return 0;
    return clae_fail(err, "'%s': no config configs/%s.ini here or in %s (give a path to an .ini)",
                     item, item, CLAE_CONFIGS_DIR);
}

static int run_gemm(bench_run *b, size_t m, size_t n, size_t k, const char *label)
{
    if (b->n_gemm == MAX_ITEMS)
        return clae_fail(&b->ctx->err, "bench: at most %d GEMM shapes", MAX_ITEMS);
    bench_gemm_result r;
    if (bench_gemm(b->ctx, NULL, m, n, k, 0.5, &r)) return -1;
    gemm_row *g = &b->gemm[b->n_gemm++];
    snprintf(g->shape, sizeof g->shape, "%s", label);
    g->gflops = r.gflops, g->first_s = r.first_s;
    clae_gemm_choice_name(clae_gemm_choose(b->ctx, false, false, m, n, k), g->engine,
                          sizeof g->engine);
    printf("sgemm %-16s %-16s %8.1f GFLOP/s %5.1f%% of FMA peak (first call %.3f s)\n", label,
           g->engine, r.gflops, 100.0 * r.gflops / b->fma_peak, r.first_s);
    fflush(stdout);
    return 0;
}

/* Every item is checked before anything runs, so a typo costs no benchmark time. */
static int check_items(const char *list, clae_err *err)
{
    char items[1024], path[1024];
    snprintf(items, sizeof items, "%s", list);
    for (char *save = NULL, *tok = strtok_r(items, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        size_t m, n, k;
        int c, h, w, co;
        char tail;
        if (sscanf(tok, "conv%dx%dx%d-%d%c", &c, &h, &w, &co, &tail) == 4) {
            if (c <= 0 || h <= 0 || w <= 0 || co <= 0)
                return clae_fail(err, "bench: '%s': sizes must be positive", tok);
        } else if (sscanf(tok, "%zux%zux%zu%c", &m, &n, &k, &tail) == 3) {
            if (!m || !n || !k)
                return clae_fail(err, "bench: shape '%s': sizes must be positive", tok);
        } else if (bench_resolve_config(tok, path, sizeof path, err)) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return clae_fail(err, "bench: %s", why);
        }
    }
    return 0;
}

/* --json's folder must exist and be writable before minutes of measuring. */
static int check_json_path(const char *path, clae_err *err)
{
    if (!path) return 0;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = 0;
    else if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    if (access(dir, W_OK) != 0)
        return clae_fail(err, "bench: --json %s: cannot write into %s: %s", path, dir,
                         strerror(errno));
    return 0;
}

static int run_item(bench_run *b, const char *tok, clae_err *err)
{
    size_t m, n, k;
    char tail;
    int c, h, w, co;
    if (sscanf(tok, "conv%dx%dx%d-%d%c", &c, &h, &w, &co, &tail) == 4 && c > 0 && h > 0 && w > 0 &&
        co > 0)
        return bench_conv(b->ctx, c, h, w, co, err);
    if (sscanf(tok, "%zux%zux%zu%c", &m, &n, &k, &tail) == 3) {
        if (!m || !n || !k) return clae_fail(err, "bench: shape '%s': sizes must be positive", tok);
        if (run_gemm(b, m, n, k, tok)) return *err = b->ctx->err, -1;
        return 0;
    }
    char path[1024];
    if (bench_resolve_config(tok, path, sizeof path, err)) return -1;
    if (b->n_work == MAX_ITEMS) return clae_fail(err, "bench: at most %d workloads", MAX_ITEMS);
    bench_workload_result *r = &b->work[b->n_work];
    if (bench_workload(b->ctx, path, b->steps, r, err)) return -1;
    b->n_work++;
    printf("train %-20s batch %3d %8.2f ms/step %9.0f images/s %7.1f GFLOP/s %5.1f%% of FMA peak "
           "%5.1f%% of SGEMM, loss %.5f\n",
           r->name, r->batch, r->step_s * 1e3, r->images_per_s, r->gflops,
           100.0 * r->gflops / b->fma_peak, 100.0 * r->gflops / b->peak, r->loss);
    fflush(stdout);
    if (b->ctx->profiling) {
        clae_profile_print(b->ctx, stdout, b->steps);
        clae_profile_reset(b->ctx);
    }
    return 0;
}

static int write_json(const bench_run *b, const char *path, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    FILE *f = a.f;
    const clae_ctx *ctx = b->ctx;
    fprintf(f, "{\n  \"device\": ");
    clae_json_string(f, ctx->dev.name);
    fprintf(f, ",\n  \"kind\": \"%s\",\n  \"driver\": ", clae_device_kind_name(ctx->dev.kind));
    clae_json_string(f, ctx->dev.driver_version);
    fprintf(f, ",\n  \"gemm_choices\": ");
    clae_json_string(f, ctx->gemm->source);
    fprintf(f,
            ",\n  \"steps\": %d,\n  \"fma_peak_gflops\": %.2f,\n  \"sgemm_peak_gflops\": %.2f,\n"
            "  \"workloads\": [",
            b->steps, b->fma_peak, b->peak);
    for (int i = 0; i < b->n_work; i++) {
        const bench_workload_result *r = &b->work[i];
        fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
        clae_json_string(f, r->name);
        fprintf(
            f,
            ", \"batch\": %d, \"step_ms\": %.4f, \"images_per_s\": %.1f, \"gflop_per_step\": %.4f, "
            "\"gflops\": %.2f, \"fraction_of_peak\": %.4f, \"fraction_of_fma_peak\": %.4f, "
            "\"train_loss\": %.8g}",
            r->batch, r->step_s * 1e3, r->images_per_s, r->flops * 1e-9, r->gflops,
            r->gflops / b->peak, r->gflops / b->fma_peak, isfinite(r->loss) ? r->loss : -1.0);
    }
    fprintf(f, "\n  ],\n  \"gemm\": [");
    for (int i = 0; i < b->n_gemm; i++) {
        fprintf(f,
                "%s\n    {\"shape\": \"%s\", \"engine\": \"%s\", \"gflops\": %.2f, "
                "\"first_call_s\": %.4f}",
                i ? "," : "", b->gemm[i].shape, b->gemm[i].engine, b->gemm[i].gflops,
                b->gemm[i].first_s);
    }
    fprintf(f, "\n  ]\n}\n");
    return clae_afile_commit(&a, err);
}

/* clae bench allreduce [--n FLOATS]: the job's allreduce (no device), and the ring
 * projection for a gradient of FLOATS floats. */
static int allreduce_item(const clae_cli_opts *o)
{
    clae_job job;
    clae_err err;
    double n = 0;
    if (o->n && clae_cli_number("--n", o->n, 0, &n, &err)) return clae_cli_error(&err);
    if (clae_job_open(&job, &err)) return clae_cli_error(&err);
    int rc = bench_allreduce(&job, n * sizeof(float), &err);
    if (rc && job.size > 1) {
        fprintf(stderr, "clae: rank %d of %d: %s\n", job.rank, job.size, err.msg);
        clae_job_abort(&job, 1);
    }
    clae_job_close(&job);
    return rc ? clae_cli_error(&err) : 0;
}

int cmd_bench(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    double steps;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help) return usage(), 0;
    if (clae_cli_number("--steps", o.steps, 20, &steps, &err)) return clae_cli_error(&err);
    if (o.positional && strcmp(o.positional, "allreduce") == 0) return allreduce_item(&o);
    char items[1024];
    if (snprintf(items, sizeof items, "%s", o.positional ? o.positional : DEFAULT_ITEMS) >=
        (int)sizeof items)
        return clae_cli_error(&(clae_err){"bench: the item list is longer than 1023 characters"});
    if (o.json && strcmp(o.json, "-") == 0)
        return clae_cli_error(&(clae_err){"--json needs a file: clae bench --json FILE"});
    if (check_items(items, &err) || check_json_path(o.json, &err)) return clae_cli_error(&err);
    clae_ctx ctx;
    if (clae_device_open(&ctx, &o.dev, &err)) return clae_cli_error(&err);
    static bench_run b; /* large: keep it off the stack */
    memset(&b, 0, sizeof b);
    b.ctx = &ctx;
    b.steps = (int)steps;
    printf("device %d:%d %s (%s), driver %s\nGEMM choices: %s\n", ctx.dev.platform_index,
           ctx.dev.device_index, ctx.dev.name, clae_device_kind_name(ctx.dev.kind),
           ctx.dev.driver_version, ctx.gemm->source);
    int rc = 0;
    clae_fma_peak_result fp;
    if (clae_fma_peak(&ctx, &fp)) rc = -1, err = ctx.err;
    if (rc == 0) {
        b.fma_peak = fp.gflops;
        printf("fma peak                  float%-2d %14.1f GFLOP/s (float %.1f, float4 %.1f, "
               "float8 %.1f, float16 %.1f)\n",
               fp.width, fp.gflops, fp.by_width[0], fp.by_width[1], fp.by_width[2], fp.by_width[3]);
    }
    if (rc == 0 && run_gemm(&b, PEAK_SHAPE, PEAK_SHAPE, PEAK_SHAPE, "peak 1024^3"))
        rc = -1, err = ctx.err;
    if (rc == 0) b.peak = b.gemm[0].gflops;
    for (char *save = NULL, *tok = strtok_r(items, ",", &save); tok && rc == 0;
         tok = strtok_r(NULL, ",", &save))
        rc = run_item(&b, tok, &err);
    if (rc == 0 && o.json) {
        rc = write_json(&b, o.json, &err);
        if (rc == 0) printf("wrote %s\n", o.json);
    }
    if (ctx.profiling && ctx.n_prof) clae_profile_print(&ctx, stdout, 0);
    clae_device_close(&ctx);
    return rc ? clae_cli_error(&err) : 0;
}
