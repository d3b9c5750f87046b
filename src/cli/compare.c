/* clae compare CONFIG: the same config, seed and initial weights trained for a
 * few steps on each chosen device, one context after the other; per device the
 * kernel build (cold and cached), first step, images/s, GFLOP/s and share of
 * the device's SGEMM 1024^3, device memory, final loss and test MSE, and how
 * far it agrees with the first device (per-step losses, parameters, outputs on
 * a fixed batch). A device that fails is reported in its row; the others go
 * on. With one device it runs twice: a determinism check. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "clae/clock.h"
#include "cli.h"
#include "run.h"

#define MAX_DEVICES 8
#define FIXED_BATCH 64

typedef struct {
    char spec[48], name[256], kind[8];
    unsigned units;
    bool ok;
    char error[600];
    double build_cold_s, build_cached_s, first_step_s, images_per_s, gflops, peak_gflops;
    double memory_mib, final_loss, test_mse;
    long steps;
    double *losses;
    float *params, *outputs;
    size_t n_params, n_outputs;
    double param_abs, param_rel, out_abs, out_rel;
    bool losses_identical;
} device_row;

typedef struct {
    device_row *row;
    long want;
    volatile sig_atomic_t stop;
} step_log;

/* each step's loss (log_every = 1); asks the trainer to stop after the last wanted step */
static void on_step(void *user, const clae_progress *p)
{
    step_log *s = user;
    if (s->row->steps < s->want) s->row->losses[s->row->steps++] = p->loss;
    if (s->row->steps + 1 >= s->want) s->stop = 1;
}

static int read_state(clae_ctx *ctx, clae_trainer *t, device_row *r)
{
    r->n_params = t->model.params.capacity;
    r->params = malloc(r->n_params * sizeof *r->params);
    clae_tensor all = {&t->model.params, 0, {1, (int)r->n_params, 1, 1}};
    if (!r->params || clae_tensor_read(ctx, &all, r->params, r->n_params)) return -1;
    clae_metrics test;
    if (clae_trainer_evaluate(t, CLAE_SPLIT_TEST, &test)) return -1;
    r->test_mse = test.v[CLAE_METRIC_MSE];
    /* the first test images, reconstructed */
    const clae_dataset *set = &t->data.sources[t->data.test.source].set;
    size_t n = t->data.test.n < FIXED_BATCH ? t->data.test.n : FIXED_BATCH,
           sample = clae_shape_sample(t->model.input);
    float *images = malloc(n * sample * sizeof *images);
    r->n_outputs = n * sample;
    r->outputs = malloc(r->n_outputs * sizeof *r->outputs);
    if (!images || !r->outputs) return free(images), clae_fail(&ctx->err, "out of host memory");
    for (size_t i = 0; i < n; i++)
        run_dataset_floats(set, clae_data_sample_index(&t->data, CLAE_SPLIT_TEST, (uint32_t)i), 1,
                           images + i * sample);
    int rc = run_reconstruct_images(ctx, &t->model, images, n, r->outputs);
    free(images);
    return rc;
}

/* Trains steps steps of cfg on ctx into r. */
static int train_steps(clae_ctx *ctx, const clae_config *cfg, long steps, device_row *r,
                       clae_err *err)
{
    clae_trainer t;
    if (clae_trainer_open(&t, ctx, cfg, err)) return -1;
    step_log log = {r, steps, steps <= 1};
    t.stop = &log.stop;
    r->losses = calloc((size_t)steps, sizeof *r->losses);
    int rc = r->losses ? 0 : clae_fail(err, "out of host memory");
    while (rc == 0 && r->steps < steps) {
        int ended = clae_trainer_epoch(&t, on_step, &log);
        if (ended < 0) rc = -1, *err = ctx->err;
        if (ended == 1) break;
    }
    if (rc == 0 && read_state(ctx, &t, r)) rc = -1, *err = ctx->err;
    if (rc == 0) {
        r->first_step_s = t.first_step_s;
        r->images_per_s = t.train_s > 0 ? (double)t.images_after_first / t.train_s : 0;
        r->gflops = clae_model_train_flops(&t.model) * r->images_per_s * 1e-9;
        r->final_loss = r->steps ? r->losses[r->steps - 1] : NAN;
        r->memory_mib = clae_trainer_device_bytes(&t) / 1048576.0;
    }
    clae_trainer_close(&t);
    return rc;
}

/* One device: a cold build (from source), a cached one, the SGEMM peak and the steps. */
static void run_device(const clae_cli_opts *o, const clae_config *cfg, long steps, device_row *r)
{
    clae_err err = {{0}};
    clae_ctx ctx;
    clae_device_opts d = o->dev;
    d.ctx.device = r->spec;
    d.ctx.rebuild = true;
    if (clae_device_open(&ctx, &d, &err)) goto failed;
    r->build_cold_s = ctx.program_seconds;
    clae_device_close(&ctx);
    d.ctx.rebuild = false;
    if (clae_device_open(&ctx, &d, &err)) goto failed;
    r->build_cached_s = ctx.program_seconds;
    snprintf(r->name, sizeof r->name, "%s", ctx.dev.name);
    snprintf(r->kind, sizeof r->kind, "%s", clae_device_kind_name(ctx.dev.kind));
    r->units = ctx.dev.compute_units;
    printf("%s: %s (%s, %u compute units): kernels built in %.2f s cold, %.2f s cached\n", r->spec,
           r->name, r->kind, r->units, r->build_cold_s, r->build_cached_s);
    fflush(stdout);
    bench_gemm_result g;
    if (bench_gemm(&ctx, NULL, 1024, 1024, 1024, 0.5, &g)) {
        err = ctx.err;
        clae_device_close(&ctx);
        goto failed;
    }
    r->peak_gflops = g.gflops;
    int rc = train_steps(&ctx, cfg, steps, r, &err);
    clae_device_close(&ctx);
    if (rc) goto failed;
    r->ok = true;
    return;
failed:
    snprintf(r->error, sizeof r->error, "%s", err.msg);
    printf("%s: failed: %s\n", r->spec, err.msg);
}

static void max_diff(const float *a, const float *b, size_t n, double *abs_d, double *rel_d)
{
    *abs_d = *rel_d = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]), m = fmax(fmax(fabs(a[i]), fabs(b[i])), 1e-12);
        *abs_d = fmax(*abs_d, d), *rel_d = fmax(*rel_d, d / m);
    }
}

static void agree(const device_row *first, device_row *r)
{
    if (!first->ok || !r->ok || first->n_params != r->n_params || first->n_outputs != r->n_outputs)
        return;
    max_diff(first->params, r->params, r->n_params, &r->param_abs, &r->param_rel);
    max_diff(first->outputs, r->outputs, r->n_outputs, &r->out_abs, &r->out_rel);
    r->losses_identical = first->steps == r->steps &&
                          memcmp(first->losses, r->losses, (size_t)r->steps * sizeof(double)) == 0;
}

/* ---- the table and its files ---- */

static void markdown(FILE *f, const device_row *rows, int n, bool twice)
{
    fprintf(f,
            "| device | kind | CUs | build cold s | build cached s | first step s | images/s | "
            "GFLOP/s | of SGEMM peak | memory MiB | final loss | test MSE | %s |\n",
            twice ? "the same as its first run" : "agreement with the first");
    fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        const device_row *r = &rows[i];
        if (!r->ok) {
            fprintf(f, "| %s | | | | | | | | | | | | failed: %s |\n", r->spec, r->error);
            continue;
        }
        fprintf(f,
                "| %s %s | %s | %u | %.2f | %.2f | %.3f | %.0f | %.1f | %.1f%% | %.1f | %.6f | "
                "%.6f | ",
                r->spec, r->name, r->kind, r->units, r->build_cold_s, r->build_cached_s,
                r->first_step_s, r->images_per_s, r->gflops, 100 * r->gflops / r->peak_gflops,
                r->memory_mib, r->final_loss, r->test_mse);
        if (i == 0)
            fprintf(f, "(the reference) |\n");
        else
            fprintf(f, "losses %s; parameters max abs %.3g, rel %.3g; outputs max abs %.3g |\n",
                    r->losses_identical ? "identical" : "differ", r->param_abs, r->param_rel,
                    r->out_abs);
    }
}

static int write_files(const char *dir, const device_row *rows, int n, bool twice,
                       const char *config, long steps, clae_err *err)
{
    char path[1200];
    clae_afile a;
    snprintf(path, sizeof path, "%s/compare.md", dir);
    if (clae_afile_open(&a, path, err)) return -1;
    fprintf(a.f, "clae compare %s, %ld steps\n\n", config, steps);
    markdown(a.f, rows, n, twice);
    if (clae_afile_commit(&a, err)) return -1;
    snprintf(path, sizeof path, "%s/compare.csv", dir);
    if (clae_afile_open(&a, path, err)) return -1;
    fprintf(a.f, "device,name,kind,compute_units,ok,build_cold_s,build_cached_s,first_step_s,"
                 "images_per_s,gflops,sgemm_peak_gflops,memory_mib,final_loss,test_mse,"
                 "losses_identical,param_max_abs,param_max_rel,output_max_abs\n");
    for (int i = 0; i < n; i++) {
        const device_row *r = &rows[i];
        fprintf(a.f, "%s,", r->spec);
        clae_json_string(a.f, r->name);
        fprintf(a.f, ",%s,%u,%d,%.4f,%.4f,%.4f,%.1f,%.2f,%.2f,%.1f,%.8g,%.8g,%d,%.6g,%.6g,%.6g\n",
                r->kind, r->units, r->ok, r->build_cold_s, r->build_cached_s, r->first_step_s,
                r->images_per_s, r->gflops, r->peak_gflops, r->memory_mib, r->final_loss,
                r->test_mse, r->losses_identical, r->param_abs, r->param_rel, r->out_abs);
    }
    if (clae_afile_commit(&a, err)) return -1;
    snprintf(path, sizeof path, "%s/compare.json", dir);
    if (clae_afile_open(&a, path, err)) return -1;
    fprintf(a.f, "{\n  \"config\": ");
    clae_json_string(a.f, config);
    fprintf(a.f, ",\n  \"steps\": %ld,\n  \"repeat_of_one_device\": %s,\n  \"devices\": [", steps,
            twice ? "true" : "false");
    for (int i = 0; i < n; i++) {
        const device_row *r = &rows[i];
        fprintf(a.f, "%s\n    {\"device\": ", i ? "," : "");
        clae_json_string(a.f, r->spec);
        fprintf(a.f, ", \"name\": ");
        clae_json_string(a.f, r->name);
        if (!r->ok) {
            fprintf(a.f, ", \"error\": ");
            clae_json_string(a.f, r->error);
            fprintf(a.f, "}");
            continue;
        }
        fprintf(a.f,
                ", \"kind\": \"%s\", \"compute_units\": %u, \"build_cold_s\": %.4f, "
                "\"build_cached_s\": %.4f, \"first_step_s\": %.4f, \"images_per_s\": %.1f, "
                "\"gflops\": %.2f, \"sgemm_peak_gflops\": %.2f, \"memory_mib\": %.1f, "
                "\"final_loss\": %.8g, \"test_mse\": %.8g, \"losses_identical\": %s, "
                "\"param_max_abs\": %.6g, \"param_max_rel\": %.6g, \"output_max_abs\": %.6g}",
                r->kind, r->units, r->build_cold_s, r->build_cached_s, r->first_step_s,
                r->images_per_s, r->gflops, r->peak_gflops, r->memory_mib, r->final_loss,
                r->test_mse, r->losses_identical ? "true" : "false", r->param_abs, r->param_rel,
                r->out_abs);
    }
    fprintf(a.f, "\n  ]\n}\n");
    if (clae_afile_commit(&a, err)) return -1;
    const char *labels[MAX_DEVICES];
    double values[MAX_DEVICES];
    for (int i = 0; i < n; i++) labels[i] = rows[i].spec, values[i] = rows[i].images_per_s;
    snprintf(path, sizeof path, "%s/compare.svg", dir);
    return clae_svg_bars(path, "training images/s per device", labels, values, n, err);
}

/* --devices all (every device listed) or a comma list of --device specs */
static int device_specs(const char *list, device_row *rows, int *n, clae_err *err)
{
    *n = 0;
    if (!list || strcmp(list, "all") == 0) {
        clae_device_info *devs;
        int count;
        if (clae_list_devices(&devs, &count, err)) return -1;
        for (int i = 0; i < count && *n < MAX_DEVICES; i++)
            snprintf(rows[(*n)++].spec, sizeof rows[0].spec, "%d:%d", devs[i].platform_index,
                     devs[i].device_index);
        free(devs);
        return *n ? 0 : clae_fail(err, "no OpenCL device found");
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_DEVICES) return clae_fail(err, "--devices: at most %d", MAX_DEVICES);
        snprintf(rows[(*n)++].spec, sizeof rows[0].spec, "%s", s);
    }
    return *n ? 0 : clae_fail(err, "--devices '%s': expected all or a comma list", list);
}

/* -o DIR, else out_dir/compare-NAME (-2, -3, ... when taken) */
static int output_dir(const clae_cli_opts *o, const clae_config *cfg, char *dir, size_t n,
                      clae_err *err)
{
    if (o->out) {
        snprintf(dir, n, "%s", o->out);
        return clae_mkdir_p(dir, err);
    }
    char base[1100];
    snprintf(base, sizeof base, "%s/compare-%s", cfg->train.out_dir, cfg->model.name);
    snprintf(dir, n, "%s", base);
    for (int k = 2; access(dir, F_OK) == 0; k++) snprintf(dir, n, "%s-%d", base, k);
    return clae_mkdir_p(dir, err);
}

static void rows_free(device_row *rows, int n)
{
    for (int i = 0; i < n; i++) free(rows[i].losses), free(rows[i].params), free(rows[i].outputs);
}

int cmd_compare(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf("usage: clae compare CONFIG [--devices all|SPEC,SPEC...] [--steps 50] [-o DIR]\n"
               "                    [--set section.key=value]...\n"
               "  trains CONFIG with the same seed and initial weights for --steps steps on each\n"
               "  device, one after the other; per device: kernel build cold and cached, first\n"
               "  step, images/s, GFLOP/s and share of its SGEMM 1024^3, device memory, final\n"
               "  loss, test MSE, and agreement with the first device (per-step losses,\n"
               "  parameters, outputs of the first 64 test images). Writes compare.md (printed),\n"
               "  .csv, .json and .svg into DIR (default train.out_dir/compare-NAME). With one\n"
               "  device it runs twice and reports determinism.\n");
        return o.help ? 0 : 2;
    }
    double steps_d;
    if (clae_cli_number("--steps", o.steps, 50, &steps_d, &err)) return clae_cli_error(&err);
    long steps = (long)steps_d;
    clae_config cfg;
    if (clae_config_load(&cfg, o.positional, o.sets, o.n_sets, &err)) return clae_cli_error(&err);
    if (clae_check_image_config(&cfg, &err)) return clae_config_free(&cfg), clae_cli_error(&err);
    cfg.train.log_every = 1;
    cfg.train.epochs = 1000000; /* the steps decide */
    device_row rows[MAX_DEVICES + 1];
    memset(rows, 0, sizeof rows);
    int n = 0;
    char dir[1200];
    int rc = device_specs(o.devices, rows, &n, &err) || output_dir(&o, &cfg, dir, sizeof dir, &err);
    bool twice = rc == 0 && n == 1;
    if (twice) {
        printf("only one device found: it runs twice, a check of determinism\n");
        rows[1] = rows[0], n = 2;
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        run_device(&o, &cfg, steps, &rows[i]);
        if (i > 0) agree(&rows[0], &rows[i]);
    }
    if (rc == 0) {
        printf("\n");
        markdown(stdout, rows, n, twice);
        rc = write_files(dir, rows, n, twice, o.positional, steps, &err);
        if (rc == 0) printf("\nwrote %s/compare.md, .csv, .json and .svg\n", dir);
    }
    int failed = 0;
    for (int i = 0; i < n; i++) failed += !rows[i].ok;
    rows_free(rows, n);
    clae_config_free(&cfg);
    if (rc) return clae_cli_error(&err);
    return failed == n ? (clae_cli_error(&(clae_err){"every device failed"}), 1) : 0;
}
