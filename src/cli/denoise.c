/* clae denoise RUN [IMAGE...]: images corrupted (the run's own noise when it
 * trained as a denoiser, else --noise), passed through the model: rows of
 * noisy, denoised and clean images, and the MSE of the noisy and of the
 * denoised image to the clean one in a CSV. The corruption is the one
 * evaluation draws (seed, batch), so a denoising run's first 8 test images
 * reproduce its recon.png. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run.h"

static const char *const NOISE_NAMES[] = {CLAE_NOISE_LIST(CLAE_X_NAME) NULL};

/* "gaussian:0.2", "salt_pepper:0.1", "mask:0.3"; the run's when not given (gaussian 0.2 if none) */
static int parse_noise(const char *text, const clae_config *cfg, clae_noise_kind *kind,
                       double *level, clae_err *err)
{
    if (!text) {
        bool own = cfg->train.noise != CLAE_NOISE_NONE;
        *kind = own ? cfg->train.noise : CLAE_NOISE_GAUSSIAN;
        *level = own ? cfg->train.noise_level : 0.2;
        return 0;
    }
    const char *colon = strchr(text, ':');
    for (int k = 1; NOISE_NAMES[k] && colon; k++) {
        if (strlen(NOISE_NAMES[k]) != (size_t)(colon - text) ||
            strncmp(text, NOISE_NAMES[k], strlen(NOISE_NAMES[k])))
            continue;
        char *end;
        *level = strtod(colon + 1, &end);
        if (end == colon + 1 || *end || !(*level >= 0) || (k != CLAE_NOISE_GAUSSIAN && *level > 1))
            break;
        *kind = (clae_noise_kind)k;
        return 0;
    }
    return clae_fail(
        err, "--noise %s: expected gaussian:SIGMA, salt_pepper:P or mask:P (P in [0, 1])", text);
}

/* The n clean images corrupted on the device as evaluation does (batch by batch), then denoised. */
static int corrupt_and_denoise(clae_ctx *ctx, clae_model *m, const float *clean, size_t n,
                               clae_noise_kind kind, double level, uint64_t seed, float *noisy,
                               float *out)
{
    size_t sample = clae_shape_sample(m->input);
    clae_tensor c;
    if (clae_tensor_create(ctx, (clae_shape){m->max_batch, m->input.c, m->input.h, m->input.w}, &c))
        return -1;
    int rc = 0;
    for (size_t first = 0; rc == 0 && first < n; first += (size_t)m->max_batch) {
        int rows = (int)(n - first < (size_t)m->max_batch ? n - first : (size_t)m->max_batch);
        size_t len = (size_t)rows * sample;
        clae_tensor x = clae_rows(clae_model_input(m), rows),
                    y = clae_rows(clae_model_output(m), rows);
        rc = clae_tensor_write(ctx, &c, clean + first * sample, len) ||
             clae_op_noise(ctx, &x, &c, len, kind, (float)level,
                           clae_mix_seed(seed ^ 0xE7A1u, first), 0) ||
             clae_model_forward_range(m, ctx, 0, clae_model_output_index(m), rows, false) ||
             clae_tensor_read(ctx, &x, noisy + first * sample, len) ||
             clae_tensor_read(ctx, &y, out + first * sample, len);
    }
    clae_tensor_destroy(&c);
    return rc ? -1 : 0;
}

static int write_outputs(const clae_cli_opts *o, const char *const *refs, const float *noisy,
                         const float *out, const float *clean, int n, clae_shape s, clae_err *err)
{
    char png[1100], csv[1100];
    size_t sample = clae_shape_sample(s);
    if (run_output(o, "denoise", "denoise.png", png, sizeof png, err)) return -1;
    run_sibling(png, ".csv", csv, sizeof csv);
    const float *rows[3] = {noisy, out, clean};
    if (clae_png_grid(png, rows, 3, n, s, run_grid_scale(s), err)) return -1;
    clae_afile a;
    if (clae_afile_open(&a, csv, err)) return -1;
    fprintf(a.f, "row,image,noisy_mse,denoised_mse\n");
    double sn = 0, sd = 0;
    for (int i = 0; i < n; i++) {
        double mn = clae_mse(noisy + i * sample, clean + i * sample, sample),
               md = clae_mse(out + i * sample, clean + i * sample, sample);
        sn += mn, sd += md;
        fprintf(a.f, "%d,", i);
        clae_json_string(a.f, refs[i]);
        fprintf(a.f, ",%.8g,%.8g\n", mn, md);
    }
    if (clae_afile_commit(&a, err)) return -1;
    printf("noisy input mse %.6f, denoised mse %.6f (mean over %d images)\nwrote %s and %s\n",
           sn / n, sd / n, n, png, csv);
    return 0;
}

static int denoise_run(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    clae_noise_kind kind = CLAE_NOISE_GAUSSIAN;
    double level = 0.2;
    clae_data d;
    if (parse_noise(o->noise, &s->cfg, &kind, &level, err) || run_open_data(ctx, s, &d, err))
        return -1;
    static char names[64][64];
    const char *refs[64];
    int n = o->n_more;
    if (n == 0) { /* the first 8 test images, as the run's recon.png */
        n = (int)clae_data_samples(&d, CLAE_SPLIT_TEST) < 8
                ? (int)clae_data_samples(&d, CLAE_SPLIT_TEST)
                : 8;
        for (int i = 0; i < n; i++)
            snprintf(names[i], sizeof names[i], "test:%d", i), refs[i] = names[i];
    } else {
        for (int i = 0; i < n; i++) refs[i] = o->more[i];
    }
    size_t sample = clae_shape_sample(s->model.input);
    float *clean = malloc((size_t)n * sample * sizeof *clean),
          *noisy = malloc((size_t)n * sample * sizeof *noisy);
    float *out = malloc((size_t)n * sample * sizeof *out);
    int rc = n > 0 && clean && noisy && out
                 ? 0
                 : clae_fail(err, "no images to denoise, or out of host memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        char what[600];
        rc = run_image_ref(s, &d, refs[i], clean + (size_t)i * sample, what, sizeof what, err);
    }
    printf("noise: %s %g\n", NOISE_NAMES[kind], level);
    if (rc == 0 && corrupt_and_denoise(ctx, &s->model, clean, (size_t)n, kind, level,
                                       (uint64_t)s->cfg.train.seed, noisy, out))
        rc = -1, *err = ctx->err;
    if (rc == 0) rc = write_outputs(o, refs, noisy, out, clean, n, s->model.input, err);
    free(clean), free(noisy), free(out);
    clae_data_close(&d);
    return rc ? -1 : 0;
}

int cmd_denoise(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse_n(argc, argv, 2, 1 + CLAE_MAX_MORE, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf(
            "usage: clae denoise RUN [IMAGE...] [--noise gaussian:0.2|salt_pepper:0.1|mask:0.3] "
            "[-o PNG]\n"
            "  noisy, denoised and clean rows (default RUN/denoise/denoise.png) and each image's "
            "MSE\n"
            "  before and after (denoise.csv); the noise defaults to the run's own (train.noise),\n"
            "  else gaussian 0.2; without IMAGE, the first 8 test images\n");
        return o.help ? 0 : 2;
    }
    return run_with_model(&o, denoise_run, &err) ? clae_cli_error(&err) : 0;
}
