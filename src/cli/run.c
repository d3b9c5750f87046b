#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
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
    P(accuracy_svg, "accuracy.svg");
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
    if (dir)
        snprintf(base, sizeof base, "%s", dir);
    else
        snprintf(base, sizeof base, "%s/%s", cfg->train.out_dir, cfg->model.name);
    char path[1024];
    snprintf(path, sizeof path, "%s", base);
    /* never overwrite an earlier run: name, name-2, name-3, ... */
    for (int k = 2; access(path, F_OK) == 0; k++) {
        if (dir)
            return clae_fail(err, "--run %s already exists: choose a new directory or --resume it",
                             dir);
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
    clae_data_write_split(&t->data, a.f);
    return clae_afile_commit(&a, err);
}

int run_append_metrics(const run_paths *rp, const run_position *t, const clae_metrics *val,
                       double seconds, clae_err *err)
{
    bool fresh = access(rp->metrics_csv, F_OK) != 0;
    FILE *f = fopen(rp->metrics_csv, "a");
    if (!f) return clae_fail(err, "cannot write %s: %s", rp->metrics_csv, strerror(errno));
    if (fresh) clae_metrics_csv_header(f);
    clae_metrics train = *t->train;
    train.v[CLAE_METRIC_LR] = t->lr;
    train.v[CLAE_METRIC_SECONDS] = seconds;
    clae_metrics_csv_row(f, t->epoch, t->step, &train, val);
    int saved = ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !saved) saved = errno;
    return saved ? clae_fail(err, "cannot write %s: %s", rp->metrics_csv, strerror(saved)) : 0;
}

/* Keeps the header and the rows whose first column (an epoch or a step) is at most last. */
static int truncate_log(const char *path, long last, clae_err *err)
{
    FILE *in = fopen(path, "r");
    if (!in) return 0; /* no log yet */
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return fclose(in), -1;
    char *line = NULL;
    size_t cap = 0;
    long kept = 0, dropped = 0;
    for (int row = 0; getline(&line, &cap, in) > 0; row++) {
        char *end;
        long v = strtol(line, &end, 10);
        bool keep = row == 0 || end == line || v <= last;
        if (keep)
            fputs(line, a.f), kept++;
        else
            dropped++;
    }
    free(line);
    fclose(in);
    if (dropped == 0) return clae_afile_abort(&a), 0;
    printf("%s: dropped %ld rows past the checkpoint (a run killed after logging them)\n", path,
           dropped);
    return clae_afile_commit(&a, err);
}

int run_align_logs(const run_paths *rp, int epoch, long step, clae_err *err)
{
    return truncate_log(rp->metrics_csv, epoch, err) || truncate_log(rp->steps_csv, step, err);
}

/* Temp files of atomic writes whose process is gone (killed with -9) are removed. */
void run_remove_stale_temps(const run_paths *rp)
{
    DIR *d = opendir(rp->dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *tmp = strstr(e->d_name, ".tmp.");
        if (!tmp) continue;
        char *end;
        long pid = strtol(tmp + 5, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its writer is alive */
        char path[2200];
        snprintf(path, sizeof path, "%s/%s", rp->dir, e->d_name);
        if (remove(path) == 0) printf("removed %s (left by a killed run)\n", path);
    }
    closedir(d);
}

/* Reads back columns of metrics.csv (ours): name[k] is the header of out[k];
 * rows that do not parse are skipped. */
static int read_columns(const char *path, const char *const *name, int k, double **out, int *n)
{
    int cap = 0, rc = 0, col[8];
    *n = 0;
    for (int j = 0; j < k; j++) out[j] = NULL, col[j] = -1;
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    if (fgets(line, sizeof line, f)) { /* the header: where each column is */
        int c = 0;
        for (char *save = NULL, *h = strtok_r(line, ",\n", &save); h;
             h = strtok_r(NULL, ",\n", &save), c++)
            for (int j = 0; j < k; j++)
                if (strcmp(h, name[j]) == 0) col[j] = c;
    }
    for (int j = 0; j < k; j++)
        if (col[j] < 0) rc = -1;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        double v[32];
        int have = 0;
        char *p = line, *end;
        while (have < 32) {
            v[have] = strtod(p, &end);
            if (end == p) break;
            have++;
            if (*end != ',') break;
            p = end + 1;
        }
        bool ok = true;
        for (int j = 0; j < k; j++) ok &= col[j] < have;
        if (!ok) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            for (int j = 0; j < k && rc == 0; j++) {
                double *g = realloc(out[j], (size_t)cap * sizeof(double));
                if (g)
                    out[j] = g;
                else
                    rc = -1;
            }
            if (rc) break;
        }
        for (int j = 0; j < k; j++) out[j][*n] = v[col[j]];
        (*n)++;
    }
    fclose(f);
    return rc;
}

int run_plot_columns(const char *svg, const run_paths *rp, const char *train_col,
                     const char *val_col, const char *title, const char *ylabel, clae_err *err)
{
    double *c[3] = {NULL, NULL, NULL};
    const char *cols[3] = {"epoch", train_col, val_col}, *labels[3] = {NULL, "train", "validation"},
               *colors[3] = {NULL, "#1f77b4", "#d62728"};
    int n = 0, k = 1, which[3] = {0};
    for (int j = 1; j < 3; j++)
        if (cols[j]) which[k] = j, cols[k++] = cols[j];
    int rc = read_columns(rp->metrics_csv, cols, k, c, &n);
    if (rc == 0) {
        clae_series s[2];
        for (int j = 1; j < k; j++)
            s[j - 1] = (clae_series){labels[which[j]], colors[which[j]], c[0], c[j], n};
        rc = clae_svg_plot(svg, title, "epoch", ylabel, s, k - 1, err);
    } else {
        clae_fail(err, "cannot read %s", rp->metrics_csv);
    }
    for (int j = 0; j < 3; j++) free(c[j]);
    return rc;
}

static int write_plots(const run_paths *rp, const clae_trainer *t, clae_err *err)
{
    const char *loss = t->cfg->train.loss ? "BCE" : "MSE";
    char title[160], ylabel[64];
    snprintf(title, sizeof title, "%s: %s loss", t->cfg->model.name, loss);
    snprintf(ylabel, sizeof ylabel, "%s (mean per value)", loss);
    if (run_plot_columns(rp->loss_svg, rp, "train_loss", "val_loss", title, ylabel, err)) return -1;
    if (!clae_model_has_head(&t->model)) return 0;
    snprintf(title, sizeof title, "%s: classifier accuracy", t->cfg->model.name);
    return run_plot_columns(rp->accuracy_svg, rp, "train_acc", "val_acc", title, "accuracy", err);
}

int run_write_grid(const char *path, clae_trainer *t, clae_err *err)
{
    int n = t->cfg->train.grid;
    size_t sample = clae_shape_sample(t->model.input);
    bool noisy = t->cfg->train.noise != CLAE_NOISE_NONE;
    float *in = calloc((size_t)n * sample, sizeof(float)),
          *out = calloc((size_t)n * sample, sizeof(float));
    float *clean = calloc((size_t)n * sample, sizeof(float));
    int rc = -1;
    if (!in || !out || !clean)
        clae_fail(err, "out of host memory for the grid");
    else if (clae_reconstruct(&t->model, &t->objective, &t->data, n, in, out, clean))
        *err = t->ctx->err;
    else {
        int shown = n < t->model.max_batch ? n : t->model.max_batch;
        if ((uint32_t)shown > t->data.test.n) shown = (int)t->data.test.n;
        const float *rows[3] = {in, out, clean}; /* denoising: noisy, denoised, clean */
        int scale = run_grid_scale(t->model.input);
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
    size_t sample = clae_shape_sample(t->model.input),
           u = (size_t)clae_model_vae(&t->model)->spec.units;
    float *out = malloc((size_t)n * sample * sizeof *out), *z = malloc((size_t)n * u * sizeof *z);
    int rc = out && z ? clae_sample_prior(&t->model, t->ctx, (uint64_t)t->cfg->train.seed, 1.0, n,
                                          z, out)
                      : clae_fail(&t->ctx->err, "out of host memory");
    if (rc)
        *err = t->ctx->err;
    else {
        const float *rows[2] = {out, out + (size_t)cols * sample};
        int scale = run_grid_scale(t->model.input);
        rc = clae_png_grid(rp->samples_png, rows, n / cols, cols, t->model.input, scale, err);
    }
    free(z);
    free(out);
    return rc;
}

void run_write_device_json(FILE *f, const clae_ctx *c)
{
    fprintf(f, "{\"name\": ");
    clae_json_string(f, c->dev.name);
    fprintf(f, ", \"kind\": \"%s\", \"index\": \"%d:%d\", \"platform\": ",
            clae_device_kind_name(c->dev.kind), c->dev.platform_index, c->dev.device_index);
    clae_json_string(f, c->dev.platform_name);
    fprintf(f, ", \"driver\": ");
    clae_json_string(f, c->dev.driver_version);
    fprintf(f, "}");
}

/* seconds of the data-parallel reduction per step */
static double per_step(const clae_trainer *t, double seconds)
{
    return t->dp && t->dp->steps ? seconds / (double)t->dp->steps : 0.0;
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
    fprintf(f, ",\n  \"device\": ");
    run_write_device_json(f, c);
    fprintf(f, ",\n  \"parameters\": %zu,\n  \"latent\": {\"layer\": ", t->model.n_params);
    clae_json_string(f, lat->spec.section);
    fprintf(f, ", \"size\": %zu},\n", clae_shape_sample(lat->out));
    fprintf(f, "  \"epochs\": %d,\n  \"steps\": %ld,\n  \"batch_size\": %d,\n", t->epoch, t->step,
            t->cfg->train.batch_size);
    fprintf(f,
            "  \"timing\": {\"kernel_build_s\": %.3f, \"kernels_from_cache\": %s, "
            "\"first_step_s\": %.3f, "
            "\"train_s\": %.3f, \"total_s\": %.3f, \"images_per_s\": %.1f},\n",
            c->program_seconds, c->program_from_cache ? "true" : "false", t->first_step_s,
            t->train_s, total_s, ips);
    int ranks = t->job ? t->job->size : 1;
    fprintf(f,
            "  \"mpi\": {\"built\": %s, \"ranks\": %d, \"global_batch\": %d, "
            "\"reduce_s_per_step\": %.6f, \"device_wait_s_per_step\": %.6f, "
            "\"exposed_allreduce_s_per_step\": %.6f},\n",
            clae_job_built_with_mpi() ? "true" : "false", ranks, t->cfg->train.batch_size,
            per_step(t, t->dp ? t->dp->reduce_s : 0), per_step(t, t->dp ? t->dp->device_wait_s : 0),
            per_step(t, t->dp ? t->dp->exposed_s : 0));
    fprintf(f, "  \"best_val_loss\": %.8g,\n", isfinite(t->best_val) ? t->best_val : -1.0);
    fprintf(f,
            "  \"data\": {\"train\": %u, \"val\": %u, \"test\": %u, \"skipped_files\": %u, "
            "\"unlisted_files\": %u},\n",
            t->data.train.n, t->data.val.n, t->data.test.n, t->data.sources[0].set.skipped,
            t->data.sources[0].set.unlisted);
    fprintf(f, "  \"test\": ");
    clae_metrics_write_json(f, test);
    fprintf(f, "\n}\n");
}

int run_finish(const run_paths *rp, clae_trainer *t, double total_s, clae_metrics *test_out,
               clae_err *err)
{
    clae_metrics test;
    if (clae_trainer_evaluate(t, CLAE_SPLIT_TEST, &test)) {
        *err = t->ctx->err;
        return -1;
    }
    if (test_out) *test_out = test;
    clae_metrics_print_test(stdout, &test);
    if (run_write_grid(rp->recon_png, t, err) || write_plots(rp, t, err) ||
        write_samples(rp, t, err))
        return -1;
    clae_afile a;
    if (clae_afile_open(&a, rp->summary, err)) return -1;
    write_summary(a.f, t, &test, total_s);
    if (clae_afile_commit(&a, err)) return -1;
    printf("training: %.1f images/s (first step, with one-time setup, %.2f s); wrote %s\n",
           t->train_s > 0 ? t->images_after_first / t->train_s : 0.0, t->first_step_s, rp->dir);
    return 0;
}

void run_print_device(const clae_ctx *ctx)
{
    printf("device %d:%d %s (%s, %s); kernels %s in %.2f s\n", ctx->dev.platform_index,
           ctx->dev.device_index, ctx->dev.name, clae_device_kind_name(ctx->dev.kind),
           ctx->dev.platform_name,
           ctx->program_from_cache     ? "loaded from cache"
           : ctx->program_cache_driver ? "built (the driver caches them)"
                                       : "built",
           ctx->program_seconds);
    char fallback[48];
    clae_gemm_choice_name(&ctx->gemm->fallback, fallback, sizeof fallback);
    printf("GEMM: %s; %d tuned shapes, otherwise %s\n", ctx->gemm->source, ctx->gemm->n_tuned,
           fallback);
}

int run_load_model(clae_ctx *ctx, const clae_cli_opts *o, clae_saved_model *s, clae_err *err)
{
    clae_load_opts lo = {.best = o->best, .sets = o->sets, .n_sets = o->n_sets};
    return clae_model_load(s, ctx, o->positional, &lo, err);
}

int run_open_data(clae_ctx *ctx, clae_saved_model *s, clae_data *d, clae_err *err)
{
    if (clae_data_open(d, ctx, &s->cfg, err)) return -1;
    clae_shape in = clae_data_sample(d), m = s->model.input;
    if (in.c != m.c || in.h != m.h || in.w != m.w)
        clae_fail(err, "%s: the data has %dx%dx%d images but the model was trained on %dx%dx%d",
                  s->checkpoint, in.c, in.h, in.w, m.c, m.h, m.w);
    else if (clae_data_check_labels(d, &s->model, err) == 0)
        return 0;
    clae_data_close(d);
    return -1;
}

int run_output(const clae_cli_opts *o, const char *sub, const char *name, char *path, size_t n,
               clae_err *err)
{
    if (o->out) { /* its folder made, so no work is lost to a missing one at the end */
        snprintf(path, n, "%s", o->out);
        char dir[1100];
        const char *slash = strrchr(o->out, '/');
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - o->out) : 0, o->out);
        return dir[0] ? clae_mkdir_p(dir, err) : 0;
    }
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/%s", o->positional, sub);
    if (clae_mkdir_p(dir, err)) return -1;
    snprintf(path, n, "%s/%s", dir, name);
    return 0;
}

/* The images as rows of at most 8, the last row filled with white. */
int run_write_images(const char *path, const float *images, size_t n, clae_shape s, clae_err *err)
{
    size_t sample = clae_shape_sample(s), cols = n < 8 ? n : 8, n_rows = (n + cols - 1) / cols;
    float *padded = malloc(n_rows * cols * sample * sizeof *padded);
    const float **rows = malloc(n_rows * sizeof *rows);
    int rc = -1;
    if (!padded || !rows) {
        clae_fail(err, "out of host memory for the grid");
    } else {
        memcpy(padded, images, n * sample * sizeof *padded);
        for (size_t i = n * sample; i < n_rows * cols * sample; i++) padded[i] = 1.0f;
        for (size_t r = 0; r < n_rows; r++) rows[r] = padded + r * cols * sample;
        int scale = run_grid_scale(s);
        rc = clae_png_grid(path, rows, (int)n_rows, (int)cols, s, scale, err);
    }
    free(padded);
    free(rows);
    return rc;
}

int run_with_model(clae_cli_opts *o,
                   int (*f)(clae_ctx *, clae_saved_model *, const clae_cli_opts *, clae_err *),
                   clae_err *err)
{
    clae_ctx ctx;
    clae_saved_model s;
    if (clae_device_open(&ctx, &o->dev, err)) return -1;
    run_print_device(&ctx);
    int rc = run_load_model(&ctx, o, &s, err);
    if (rc == 0) {
        printf("model %s (epoch %d), code of %zu values\n", s.checkpoint, s.meta.epoch,
               clae_shape_sample(clae_model_code(&s.model)->shape));
        rc = f(&ctx, &s, o, err);
        clae_saved_model_release(&s);
    }
    clae_device_close(&ctx);
    return rc;
}

/* n rows of src (in_w floats each) written into in, layers first..last run,
 * out read into dst (out_w floats each), max_batch rows at a time. */
static int run_layers(clae_ctx *ctx, clae_model *m, int first, int last, clae_tensor *in,
                      size_t in_w, const float *src, clae_tensor *out, size_t out_w, size_t n,
                      float *dst)
{
    for (size_t at = 0; at < n; at += (size_t)m->max_batch) {
        int rows = (int)(n - at < (size_t)m->max_batch ? n - at : (size_t)m->max_batch);
        clae_tensor x = clae_rows(in, rows), y = clae_rows(out, rows);
        if (clae_tensor_write(ctx, &x, src + at * in_w, (size_t)rows * in_w) ||
            clae_model_forward_range(m, ctx, first, last, rows, false) ||
            clae_tensor_read(ctx, &y, dst + at * out_w, (size_t)rows * out_w))
            return -1;
    }
    return 0;
}

int run_encode_images(clae_ctx *ctx, clae_model *m, const float *images, size_t n, float *codes)
{
    return run_layers(ctx, m, 0, clae_model_code_index(m), clae_model_input(m),
                      clae_shape_sample(m->input), images, clae_model_code(m),
                      clae_shape_sample(clae_model_code(m)->shape), n, codes);
}

int run_decode_codes(clae_ctx *ctx, clae_model *m, const float *codes, size_t n, float *images)
{
    return run_layers(ctx, m, clae_model_code_index(m) + 1, clae_model_output_index(m),
                      clae_model_code(m), clae_shape_sample(clae_model_code(m)->shape), codes,
                      clae_model_output(m), clae_shape_sample(m->input), n, images);
}

int run_reconstruct_images(clae_ctx *ctx, clae_model *m, const float *images, size_t n, float *out)
{
    return run_layers(ctx, m, 0, clae_model_output_index(m), clae_model_input(m),
                      clae_shape_sample(m->input), images, clae_model_output(m),
                      clae_shape_sample(m->input), n, out);
}

void run_sibling(const char *path, const char *suffix, char *out, size_t n)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    size_t keep = dot && (!slash || dot > slash + 1) ? (size_t)(dot - path) : strlen(path);
    snprintf(out, n, "%.*s%s", (int)keep, path, suffix);
}

/* A VAE's log-variance of the last forward's rows into logvar (rows x U). */
static int read_logvar(clae_ctx *ctx, clae_model *m, int rows, float *logvar)
{
    clae_layer *vae = clae_model_vae(m);
    size_t u = (size_t)vae->spec.units;
    float *ml = malloc((size_t)rows * 2 * u * sizeof *ml);
    if (!ml) return clae_fail(&ctx->err, "out of host memory");
    clae_tensor t = clae_vae_mu_logvar(vae, rows);
    int rc = clae_tensor_read(ctx, &t, ml, (size_t)rows * 2 * u);
    for (int r = 0; rc == 0 && r < rows; r++)
        memcpy(logvar + (size_t)r * u, ml + (size_t)r * 2 * u + u, u * sizeof *ml);
    free(ml);
    return rc;
}

int run_encode_split(clae_ctx *ctx, clae_model *m, clae_data *d, clae_split_kind k, uint32_t n,
                     float *codes, float *logvar)
{
    uint32_t bs = (uint32_t)m->max_batch;
    size_t u = clae_shape_sample(clae_model_code(m)->shape);
    for (uint32_t first = 0; first < n; first += bs) {
        int rows = (int)(n - first < bs ? n - first : bs);
        clae_tensor x = clae_rows(clae_model_input(m), rows),
                    z = clae_rows(clae_model_code(m), rows);
        if (clae_data_gather_plain(d, k, first, rows, &x) ||
            clae_model_forward_range(m, ctx, 0, clae_model_code_index(m), rows, false) ||
            clae_tensor_read(ctx, &z, codes + (size_t)first * u, (size_t)rows * u) ||
            (logvar && read_logvar(ctx, m, rows, logvar + (size_t)first * u)))
            return -1;
    }
    return 0;
}

int run_model_command(int argc, char **argv, int max_positional, const char *usage,
                      int (*f)(clae_ctx *, clae_saved_model *, const clae_cli_opts *, clae_err *))
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse_n(argc, argv, 2, max_positional, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        fputs(usage, stdout);
        return o.help ? 0 : 2;
    }
    return run_with_model(&o, f, &err) ? clae_cli_error(&err) : 0;
}
