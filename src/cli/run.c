#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

void run_set_paths(run_paths *rp, const char *dir)
{
    snprintf(rp->dir, sizeof rp->dir, "%s", dir);
#define P(field, name) snprintf(rp->field, sizeof rp->field, "%s/%s", rp->dir, name)
    P(config, "config.ini");
    P(metrics_csv, "metrics.csv");
    P(steps_csv, "steps.csv");
    P(loss_svg, "loss.svg");
    P(recon_png, "recon.png");
    P(checkpoint, "checkpoint.bin");
    P(best, "best.bin");
    P(summary, "summary.json");
    P(eval_json, "eval.json");
    P(split_csv, "split.csv");
    P(samples_png, "samples.png");
#undef P
}

int run_prepare(run_paths *rp, const clae_config *cfg, const char *dir, bool resume, clae_err *err)
{
    if (resume) {
        run_set_paths(rp, dir);
        if (access(rp->checkpoint, R_OK) != 0)
            return clae_fail(err, "%s: no checkpoint to resume from (%s)", dir, strerror(errno));
        return 0;
    }
    char base[1024];
    if (dir) snprintf(base, sizeof base, "%s", dir);
    else snprintf(base, sizeof base, "%s/%s", cfg->train.out_dir, cfg->model.name);
    char path[1024];
    snprintf(path, sizeof path, "%s", base);
    /* never overwrite an earlier run: name, name-2, name-3, ... */
    for (int k = 2; access(path, F_OK) == 0; k++) {
        if (dir) return clae_fail(err, "--run %s already exists: choose a new directory or --resume it", dir);
        snprintf(path, sizeof path, "%s-%d", base, k);
    }
    if (clae_mkdir_p(path, err)) return -1;
    run_set_paths(rp, path);
    return 0;
}

int run_write_config(const run_paths *rp, const clae_config *cfg, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, rp->config, err)) return -1;
    clae_config_write(cfg, a.f);
    return clae_afile_commit(&a, err);
}

int run_write_split(const run_paths *rp, const clae_trainer *t, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, rp->split_csv, err)) return -1;
    clae_trainer_write_split(t, a.f);
    return clae_afile_commit(&a, err);
}

int run_append_metrics(const run_paths *rp, const clae_trainer *t, double train_loss, const clae_metrics *val,
                       double seconds, clae_err *err)
{
    bool fresh = access(rp->metrics_csv, F_OK) != 0;
    FILE *f = fopen(rp->metrics_csv, "a");
    if (!f) return clae_fail(err, "cannot write %s: %s", rp->metrics_csv, strerror(errno));
    if (fresh) fprintf(f, "epoch,step,train_loss,val_loss,val_mse,val_bce,lr,seconds,train_kl,val_kl\n");
    fprintf(f, "%d,%ld,%.8g,%.8g,%.8g,%.8g,%.6g,%.3f,%.8g,%.8g\n", t->epoch, t->step, train_loss, val->loss, val->mse,
            val->bce, t->lr, seconds, isfinite(val->kl) ? t->train_kl : 0.0, isfinite(val->kl) ? val->kl : 0.0);
    if (fclose(f) != 0) return clae_fail(err, "cannot write %s: %s", rp->metrics_csv, strerror(errno));
    return 0;
}

/* Reads back metrics.csv (ours, so a fixed layout) for the loss plot. */
static int read_curves(const char *path, double **epoch, double **train, double **val, int *n)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    int cap = 64;
    *n = 0;
    *epoch = malloc(cap * sizeof(double)), *train = malloc(cap * sizeof(double)), *val = malloc(cap * sizeof(double));
    while (*epoch && *train && *val && fgets(line, sizeof line, f)) {
        double e, s, tr, va;
        if (sscanf(line, "%lf,%lf,%lf,%lf", &e, &s, &tr, &va) != 4) continue; /* header */
        if (*n == cap) {
            cap *= 2;
            double *a = realloc(*epoch, cap * sizeof(double)), *b = realloc(*train, cap * sizeof(double)),
                   *c = realloc(*val, cap * sizeof(double));
            if (a) *epoch = a;
            if (b) *train = b;
            if (c) *val = c;
            if (!a || !b || !c) break;
        }
        (*epoch)[*n] = e, (*train)[*n] = tr, (*val)[*n] = va;
        (*n)++;
    }
    fclose(f);
    return 0;
}

static int write_loss_plot(const run_paths *rp, const clae_trainer *t, clae_err *err)
{
    double *e = NULL, *tr = NULL, *va = NULL;
    int n = 0, rc;
    if (read_curves(rp->metrics_csv, &e, &tr, &va, &n)) return clae_fail(err, "cannot read %s", rp->metrics_csv);
    const char *loss = t->cfg->train.loss ? "BCE" : "MSE";
    char title[160], ylabel[64];
    snprintf(title, sizeof title, "%s: %s loss", t->cfg->model.name, loss);
    snprintf(ylabel, sizeof ylabel, "%s (mean per value)", loss);
    clae_series s[2] = {{"train", "#1f77b4", e, tr, n}, {"validation", "#d62728", e, va, n}};
    rc = clae_svg_plot(rp->loss_svg, title, "epoch", ylabel, s, 2, err);
    free(e), free(tr), free(va);
    return rc;
}

int run_write_grid(const char *path, clae_trainer *t, clae_err *err)
{
    int n = t->cfg->train.grid;
    size_t sample = clae_shape_sample(t->model.input);
    bool noisy = t->cfg->train.noise != CLAE_NOISE_NONE;
    float *in = calloc((size_t)n * sample, sizeof(float)), *out = calloc((size_t)n * sample, sizeof(float));
    float *clean = calloc((size_t)n * sample, sizeof(float));
    int rc = -1;
    if (!in || !out || !clean) clae_fail(err, "out of host memory for the grid");
    else if (clae_trainer_reconstruct(t, n, in, out, clean)) *err = t->ctx->err;
    else {
        int shown = n < t->model.max_batch ? n : t->model.max_batch;
        if ((uint32_t)shown > t->test.n) shown = (int)t->test.n;
        const float *rows[3] = {in, out, clean}; /* denoising: noisy, denoised, clean */
        int scale = t->model.input.h <= 32 ? 3 : t->model.input.h <= 64 ? 2 : 1;
        rc = clae_png_grid(path, rows, noisy ? 3 : 2, shown, t->model.input, scale, err);
    }
    free(in);
    free(out);
    free(clean);
    return rc;
}

/* vae: 16 images decoded from the prior, two rows of 8 */
static int write_samples(const run_paths *rp, clae_trainer *t, clae_err *err)
{
    if (!clae_model_vae(&t->model)) return 0;
    int n = t->model.max_batch < 16 ? t->model.max_batch : 16, cols = n < 8 ? n : 8;
    size_t sample = clae_shape_sample(t->model.input);
    float *out = malloc((size_t)n * sample * sizeof *out);
    if (!out) return clae_fail(err, "out of host memory");
    int rc = clae_trainer_sample(t, n, out);
    if (rc) *err = t->ctx->err;
    else {
        const float *rows[2] = {out, out + (size_t)cols * sample};
        int scale = t->model.input.h <= 32 ? 3 : t->model.input.h <= 64 ? 2 : 1;
        rc = clae_png_grid(rp->samples_png, rows, n / cols, cols, t->model.input, scale, err);
    }
    free(out);
    return rc;
}

static void write_summary(FILE *f, const clae_trainer *t, const clae_metrics *test, double total_s)
{
    const clae_ctx *c = t->ctx;
    const clae_layer *lat = &t->model.layers[t->model.latent_index];
    double ips = t->train_s > 0 ? t->images_after_first / t->train_s : 0;
    fprintf(f, "{\n  \"model\": ");
    clae_json_string(f, t->cfg->model.name);
    fprintf(f, ",\n  \"config\": ");
    clae_json_string(f, t->cfg->path);
    fprintf(f, ",\n  \"device\": {\"name\": ");
    clae_json_string(f, c->dev.name);
    fprintf(f, ", \"kind\": \"%s\", \"index\": \"%d:%d\", \"platform\": ", clae_device_kind_name(c->dev.kind),
            c->dev.platform_index, c->dev.device_index);
    clae_json_string(f, c->dev.platform_name);
    fprintf(f, ", \"driver\": ");
    clae_json_string(f, c->dev.driver_version);
    fprintf(f, "},\n  \"parameters\": %zu,\n  \"latent\": {\"layer\": ", t->model.n_params);
    clae_json_string(f, lat->spec.section);
    fprintf(f, ", \"size\": %zu},\n", clae_shape_sample(lat->out));
    fprintf(f, "  \"epochs\": %d,\n  \"steps\": %ld,\n  \"batch_size\": %d,\n", t->epoch, t->step,
            t->cfg->train.batch_size);
    fprintf(f, "  \"timing\": {\"kernel_build_s\": %.3f, \"kernels_from_cache\": %s, \"first_step_s\": %.3f, "
               "\"train_s\": %.3f, \"total_s\": %.3f, \"images_per_s\": %.1f},\n",
            c->program_seconds, c->program_from_cache ? "true" : "false", t->first_step_s, t->train_s, total_s, ips);
    fprintf(f, "  \"best_val_loss\": %.8g,\n", isfinite(t->best_val) ? t->best_val : -1.0);
    fprintf(f, "  \"data\": {\"train\": %u, \"val\": %u, \"test\": %u, \"skipped_files\": %u},\n", t->train.n,
            t->val.n, t->test.n, t->sources[0].set.skipped);
    fprintf(f, "  \"test\": {\"images\": %u, \"mse\": %.8g, \"bce\": %.8g", test->n, test->mse, test->bce);
    if (isfinite(test->noisy_mse)) fprintf(f, ", \"noisy_input_mse\": %.8g", test->noisy_mse);
    if (isfinite(test->kl)) fprintf(f, ", \"kl\": %.8g", test->kl);
    fprintf(f, "}\n}\n");
}

int run_finish(const run_paths *rp, clae_trainer *t, double total_s, clae_err *err)
{
    clae_metrics test;
    if (clae_trainer_evaluate(t, 't', &test)) {
        *err = t->ctx->err;
        return -1;
    }
    printf("test: mse %.6f, bce %.6f over %u images", test.mse, test.bce, test.n);
    if (isfinite(test.noisy_mse)) printf(" (the noisy input itself: mse %.6f)", test.noisy_mse);
    if (isfinite(test.kl)) printf(", KL %.4f per sample", test.kl);
    printf("\n");
    if (run_write_grid(rp->recon_png, t, err) || write_loss_plot(rp, t, err) || write_samples(rp, t, err)) return -1;
    clae_afile a;
    if (clae_afile_open(&a, rp->summary, err)) return -1;
    write_summary(a.f, t, &test, total_s);
    if (clae_afile_commit(&a, err)) return -1;
    printf("training: %.1f images/s (first step, with CLBlast's compile, %.2f s); wrote %s\n",
           t->train_s > 0 ? t->images_after_first / t->train_s : 0.0, t->first_step_s, rp->dir);
    return 0;
}

void run_print_device(const clae_ctx *ctx)
{
    printf("device %d:%d %s (%s, %s); kernels %s in %.2f s\n", ctx->dev.platform_index, ctx->dev.device_index,
           ctx->dev.name, clae_device_kind_name(ctx->dev.kind), ctx->dev.platform_name,
           ctx->program_from_cache ? "loaded from cache" : "built", ctx->program_seconds);
}
