/* clae recon RUN [IMAGE...]: inputs above their reconstructions, and each
 * image's MSE, PSNR and SSIM in a CSV. Images are references (refs.c);
 * without any, the first --n samples of --split (test). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run.h"

/* The references to show: the named images, or split:0 .. split:n-1. */
static int collect_refs(const clae_cli_opts *o, clae_data *d, char refs[][64], const char **given,
                        int *n, clae_err *err)
{
    if (o->n_more > 0) {
        for (int i = 0; i < o->n_more; i++) given[i] = o->more[i];
        *n = o->n_more;
        return 0;
    }
    int k = CLAE_SPLIT_TEST;
    if (o->split) {
        k = clae_split_parse(o->split, strlen(o->split));
        if (k < 0) return clae_fail(err, "--split %s: expected train, val or test", o->split);
    }
    double want;
    if (clae_cli_number("--n", o->n, 16, &want, err)) return -1;
    uint32_t have = clae_data_samples(d, (clae_split_kind)k);
    *n = (int)fmin(fmin(want, (double)have), 256);
    if (*n == 0)
        return clae_fail(err, "the %s split holds no samples", clae_split_name((clae_split_kind)k));
    for (int i = 0; i < *n; i++) {
        snprintf(refs[i], sizeof refs[i], "%s:%d", clae_split_name((clae_split_kind)k), i);
        given[i] = refs[i];
    }
    return 0;
}

/* rows of up to 8: inputs, then their reconstructions; white past the last image */
static int write_pairs(const char *path, const float *in, const float *out, int n, clae_shape s,
                       clae_err *err)
{
    size_t sample = clae_shape_sample(s);
    int cols = n < 8 ? n : 8, groups = (n + cols - 1) / cols;
    float *grid = malloc((size_t)groups * 2 * cols * sample * sizeof *grid);
    const float **rows = malloc((size_t)groups * 2 * sizeof *rows);
    int rc = grid && rows ? 0 : clae_fail(err, "out of host memory");
    for (int g = 0; rc == 0 && g < groups; g++)
        for (int c = 0; c < cols; c++) {
            int i = g * cols + c;
            float *top = grid + ((size_t)(2 * g) * cols + c) * sample,
                  *bottom = top + (size_t)cols * sample;
            for (size_t k = 0; k < sample; k++) {
                top[k] = i < n ? in[(size_t)i * sample + k] : 1.0f;
                bottom[k] = i < n ? out[(size_t)i * sample + k] : 1.0f;
            }
        }
    for (int r = 0; rc == 0 && r < 2 * groups; r++) rows[r] = grid + (size_t)r * cols * sample;
    if (rc == 0) rc = clae_png_grid(path, rows, 2 * groups, cols, s, run_grid_scale(s), err);
    free(grid);
    free(rows);
    return rc;
}

static int write_quality_csv(const char *path, const char *const *refs, const float *in,
                             const float *out, int n, clae_shape s, clae_err *err)
{
    size_t sample = clae_shape_sample(s);
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    fprintf(a.f, "row,image,mse,psnr_db,ssim\n");
    for (int i = 0; i < n; i++) {
        const float *x = in + (size_t)i * sample, *y = out + (size_t)i * sample;
        double ssim = clae_ssim(y, x, s);
        fprintf(a.f, "%d,", i);
        clae_json_string(a.f, refs[i]);
        fprintf(a.f, ",%.8g,%.6g,", clae_mse(y, x, sample), clae_psnr(y, x, s));
        if (isfinite(ssim))
            fprintf(a.f, "%.6g", ssim); /* empty: smaller than SSIM's 11x11 window */
        fprintf(a.f, "\n");
    }
    return clae_afile_commit(&a, err);
}

static int recon_run(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    clae_data d;
    if (run_open_data(ctx, s, &d, err)) return -1;
    static char refs[256][64];
    const char *given[256];
    int n = 0;
    size_t sample = clae_shape_sample(s->model.input);
    int rc = collect_refs(o, &d, refs, given, &n, err);
    float *in = rc ? NULL : malloc((size_t)n * sample * sizeof *in);
    float *out = rc ? NULL : malloc((size_t)n * sample * sizeof *out);
    if (rc == 0 && (!in || !out)) rc = clae_fail(err, "out of host memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        char what[600];
        rc = run_image_ref(s, &d, given[i], in + (size_t)i * sample, what, sizeof what, err);
    }
    if (rc == 0 && run_reconstruct_images(ctx, &s->model, in, (size_t)n, out))
        rc = -1, *err = ctx->err;
    char png[1100], csv[1100];
    if (rc == 0) rc = run_output(o, "recon", "recon.png", png, sizeof png, err);
    run_sibling(png, ".csv", csv, sizeof csv);
    if (rc == 0) rc = write_pairs(png, in, out, n, s->model.input, err);
    if (rc == 0) rc = write_quality_csv(csv, given, in, out, n, s->model.input, err);
    if (rc == 0) printf("wrote %s (%d inputs above their reconstructions) and %s\n", png, n, csv);
    free(in);
    free(out);
    clae_data_close(&d);
    return rc ? -1 : 0;
}

int cmd_recon(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse_n(argc, argv, 2, 1 + CLAE_MAX_MORE, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf(
            "usage: clae recon RUN [IMAGE...] [--split test|val|train] [--n 16] [-o RECON.png] "
            "[--best]\n"
            "  inputs above their reconstructions, 8 a row, and each image's MSE, PSNR and SSIM\n"
            "  (RECON.csv); IMAGE: a PNG file (decoded as the run's data), [split:]INDEX or a\n"
            "  sample's name; without any, the first N samples of the split (default "
            "RUN/recon/)\n");
        return o.help ? 0 : 2;
    }
    return run_with_model(&o, recon_run, &err) ? clae_cli_error(&err) : 0;
}
