/* Walking the code space of a trained model:
 *   clae interp RUN A B   a strip decoded from z(A) to z(B), linear or spherical
 *   clae arith RUN ...    z(A) + alpha (z(C) - z(B)), or alpha times an attribute
 *                         vector (mean code of names with a keyword minus the rest)
 * A, B, C are image references (refs.c). Codes are the encoder's in
 * evaluation mode (a VAE's mean). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "run.h"

typedef struct {
    clae_ctx *ctx;
    clae_saved_model *s;
    clae_data data;
    size_t u, sample; /* code and image sizes */
} latent_session;

static int session_open(latent_session *ls, clae_ctx *ctx, clae_saved_model *s, clae_err *err)
{
    ls->ctx = ctx;
    ls->s = s;
    ls->u = clae_shape_sample(clae_model_code(&s->model)->shape);
    ls->sample = clae_shape_sample(s->model.input);
    return run_open_data(ctx, s, &ls->data, err);
}

/* The image ref names and its code. */
static int image_and_code(latent_session *ls, const char *ref, float *image, float *code,
                          clae_err *err)
{
    char what[600];
    if (run_image_ref(ls->s, &ls->data, ref, image, what, sizeof what, err)) return -1;
    printf("  %s: %s\n", ref, what);
    if (run_encode_images(ls->ctx, &ls->s->model, image, 1, code)) return *err = ls->ctx->err, -1;
    return 0;
}

/* Spherical interpolation (Shoemake); linear where the codes are (anti)parallel or zero. */
static void slerp(const float *a, const float *b, size_t u, double t, float *out)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < u; i++)
        ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    double c = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 1.0;
    double omega = acos(fmax(-1.0, fmin(1.0, c))), so = sin(omega);
    double wa = so > 1e-6 ? sin((1 - t) * omega) / so : 1 - t,
           wb = so > 1e-6 ? sin(t * omega) / so : t;
    for (size_t i = 0; i < u; i++) out[i] = (float)(wa * a[i] + wb * b[i]);
}

static int write_strips(const char *path, const float *images, int n_rows, int n_cols, clae_shape s,
                        clae_err *err)
{
    const float **rows = malloc((size_t)n_rows * sizeof *rows);
    if (!rows) return clae_fail(err, "out of host memory");
    for (int r = 0; r < n_rows; r++) rows[r] = images + (size_t)r * n_cols * clae_shape_sample(s);
    int rc = clae_png_grid(path, rows, n_rows, n_cols, s, run_grid_scale(s), err);
    free(rows);
    return rc;
}

/* ---- interp ---------------------------------------------------------------- */

static int interp_run(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, int steps,
                      clae_err *err)
{
    latent_session ls;
    if (session_open(&ls, ctx, s, err)) return -1;
    size_t u = ls.u, sample = ls.sample, cols = (size_t)steps + 2;
    float *ends = malloc(2 * sample * sizeof *ends), *za = malloc(2 * u * sizeof *za);
    float *codes = malloc((size_t)steps * u * sizeof *codes),
          *strip = malloc(cols * sample * sizeof *strip);
    char png[1100], npy[1100];
    int rc = ends && za && codes && strip ? 0 : clae_fail(err, "out of host memory");
    if (rc == 0) rc = image_and_code(&ls, o->more[0], ends, za, err);
    if (rc == 0) rc = image_and_code(&ls, o->more[1], ends + sample, za + u, err);
    for (int i = 0; rc == 0 && i < steps; i++) {
        double t = steps > 1 ? (double)i / (steps - 1) : 0.0;
        if (o->slerp)
            slerp(za, za + u, u, t, codes + (size_t)i * u);
        else
            for (size_t k = 0; k < u; k++)
                codes[i * u + k] = (float)((1 - t) * za[k] + t * za[u + k]);
    }
    /* the strip: A, the decoded steps (the first is decode(z(A)), the last decode(z(B))), B */
    if (rc == 0 && run_decode_codes(ctx, &s->model, codes, (size_t)steps, strip + sample))
        rc = -1, *err = ctx->err;
    if (rc == 0) {
        memcpy(strip, ends, sample * sizeof *strip);
        memcpy(strip + (cols - 1) * sample, ends + sample, sample * sizeof *strip);
        rc = run_output(o, "interp", o->slerp ? "slerp.png" : "interp.png", png, sizeof png, err);
    }
    run_sibling(png, "_z.npy", npy, sizeof npy);
    if (rc == 0) rc = write_strips(png, strip, 1, (int)cols, s->model.input, err);
    if (rc == 0) rc = clae_npy_write(npy, codes, (size_t)steps, u, err);
    if (rc == 0)
        printf("wrote %s (%d %s steps between the two inputs) and %s\n", png, steps,
               o->slerp ? "spherical" : "linear", npy);
    free(ends), free(za), free(codes), free(strip);
    clae_data_close(&ls.data);
    return rc ? -1 : 0;
}

/* run_with_model's shape, with the step count */
static int interp_cb(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    double steps;
    if (clae_cli_number("--steps", o->steps, 8, &steps, err)) return -1;
    if (steps != (int)steps || steps < 2 || steps > 256)
        return clae_fail(err, "--steps %s: expected a whole number from 2 to 256", o->steps);
    return interp_run(ctx, s, o, (int)steps, err);
}

int cmd_interp(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse_n(argc, argv, 2, 3, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional || o.n_more != 2) {
        printf(
            "usage: clae interp RUN A B [--steps 8] [--slerp] [-o STRIP.png] [--best] [--device "
            "SPEC]\n"
            "  A, B: a PNG file, [train:|val:|test:]INDEX, or a sample's name (e.g. an emoji's)\n"
            "  a strip: A, the images decoded from z(A) to z(B) (linear, or spherical with\n"
            "  --slerp), B (default RUN/interp/interp.png); the step codes beside it as .npy\n");
        return o.help ? 0 : 2;
    }
    return run_with_model(&o, interp_cb, &err) ? clae_cli_error(&err) : 0;
}

/* ---- arith ----------------------------------------------------------------- */

/* "0,0.5,1,1.5" */
static int parse_alphas(const char *text, double *alpha, int *n, clae_err *err)
{
    const char *p = text ? text : "0,0.5,1,1.5";
    *n = 0;
    while (*p && *n < 16) {
        char *end;
        alpha[*n] = strtod(p, &end);
        if (end == p || !isfinite(alpha[*n]) || (*end && *end != ','))
            return clae_fail(err, "--alpha %s: expected a comma list of numbers, e.g. 0,0.5,1,1.5",
                             text);
        (*n)++;
        p = *end ? end + 1 : end;
    }
    return *n > 0 && !*p ? 0 : clae_fail(err, "--alpha %s: expected 1 to 16 numbers", text);
}

static bool contains_nocase(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (; *text; text++)
        if (strncasecmp(text, word, n) == 0) return true;
    return n == 0;
}

/* The mean code of the names holding keyword minus the mean of the rest
 * (every sample of the data, plain images). */
static int attribute_vector(latent_session *ls, const char *keyword, float *delta, clae_err *err)
{
    const clae_dataset *set = &ls->data.sources[0].set;
    if (!set->names) return clae_fail(err, "--attribute %s: the data has no names", keyword);
    enum { CHUNK = 256 }; /* images encoded per call (each call runs max_batch rows at a time) */
    size_t u = ls->u, n = set->count, n_with = 0;
    float *img = malloc(CHUNK * ls->sample * sizeof *img), *z = malloc(CHUNK * u * sizeof *z);
    double *with = calloc(u, sizeof *with), *without = calloc(u, sizeof *without);
    int rc = img && z && with && without ? 0 : clae_fail(err, "out of host memory");
    for (size_t first = 0; rc == 0 && first < n; first += CHUNK) {
        size_t count = n - first < CHUNK ? n - first : CHUNK;
        run_dataset_floats(set, (uint32_t)first, (uint32_t)count, img);
        if (run_encode_images(ls->ctx, &ls->s->model, img, count, z)) rc = -1, *err = ls->ctx->err;
        for (size_t i = 0; rc == 0 && i < count; i++) {
            bool has = contains_nocase(set->names[first + i], keyword);
            n_with += has;
            for (size_t k = 0; k < u; k++) (has ? with : without)[k] += z[i * u + k];
        }
    }
    if (rc == 0 && (n_with == 0 || n_with == n))
        rc = clae_fail(err, "--attribute %s: %zu of %zu names hold it: it must split the data",
                       keyword, n_with, n);
    for (size_t k = 0; rc == 0 && k < u; k++)
        delta[k] = (float)(with[k] / (double)n_with - without[k] / (double)(n - n_with));
    if (rc == 0)
        printf("  attribute '%s': %zu images with it, %zu without\n", keyword, n_with, n - n_with);
    free(img), free(z), free(with), free(without);
    return rc;
}

/* --target: the MSE of decoded A and of every composite to the target's reconstruction */
static int report_target(latent_session *ls, const char *target, const float *decoded_a,
                         const float *composites, const double *alpha, int n_alpha, const char *csv,
                         clae_err *err)
{
    size_t sample = ls->sample;
    float *img = malloc(sample * sizeof *img), *z = malloc(ls->u * sizeof *z),
          *rec = malloc(sample * sizeof *rec);
    int rc = img && z && rec ? image_and_code(ls, target, img, z, err)
                             : clae_fail(err, "out of host memory");
    if (rc == 0 && run_decode_codes(ls->ctx, &ls->s->model, z, 1, rec))
        rc = -1, *err = ls->ctx->err;
    clae_afile a;
    if (rc == 0) rc = clae_afile_open(&a, csv, err);
    if (rc == 0) {
        double base = clae_mse(decoded_a, rec, sample);
        fprintf(a.f, "alpha,mse_to_target_reconstruction\ninput,%.8g\n", base);
        printf("  MSE to the target's reconstruction: decoded input %.6f", base);
        for (int i = 0; i < n_alpha; i++) {
            double m = clae_mse(composites + (size_t)i * sample, rec, sample);
            fprintf(a.f, "%g,%.8g\n", alpha[i], m);
            printf(", alpha %g %.6f", alpha[i], m);
        }
        printf("\n");
        rc = clae_afile_commit(&a, err);
    }
    free(img), free(z), free(rec);
    return rc;
}

/* One strip per alpha: A, B, C (blank with --attribute), decoded A, composite. */
static int arith_strips(latent_session *ls, const clae_cli_opts *o, const float *abc,
                        const float *codes, const double *alpha, int n_alpha, clae_err *err)
{
    size_t sample = ls->sample, u = ls->u;
    float *z = malloc((size_t)(n_alpha + 1) * u * sizeof *z),
          *dec = malloc((size_t)(n_alpha + 1) * sample * sizeof *dec);
    float *grid = malloc((size_t)n_alpha * 5 * sample * sizeof *grid);
    char png[1100], csv[1100];
    int rc = z && dec && grid ? 0 : clae_fail(err, "out of host memory");
    const float *za = codes, *delta = codes + 3 * u;
    for (size_t k = 0; rc == 0 && k < u; k++) z[k] = za[k];
    for (int i = 0; rc == 0 && i < n_alpha; i++)
        for (size_t k = 0; k < u; k++) z[(i + 1) * u + k] = za[k] + (float)alpha[i] * delta[k];
    if (rc == 0 && run_decode_codes(ls->ctx, &ls->s->model, z, (size_t)n_alpha + 1, dec))
        rc = -1, *err = ls->ctx->err;
    for (int i = 0; rc == 0 && i < n_alpha; i++) {
        float *row = grid + (size_t)i * 5 * sample;
        memcpy(row, abc, 3 * sample * sizeof *row);
        if (o->attribute)
            for (size_t k = sample; k < 3 * sample; k++) row[k] = 1.0f;
        memcpy(row + 3 * sample, dec, sample * sizeof *row);
        memcpy(row + 4 * sample, dec + (size_t)(i + 1) * sample, sample * sizeof *row);
    }
    if (rc == 0) rc = run_output(o, "arith", "arith.png", png, sizeof png, err);
    if (rc == 0) rc = write_strips(png, grid, n_alpha, 5, ls->s->model.input, err);
    if (rc == 0)
        printf("wrote %s (%d strips: input, baseline, featured, decoded input, composite)\n", png,
               n_alpha);
    run_sibling(png, ".csv", csv, sizeof csv);
    if (rc == 0 && o->target)
        rc = report_target(ls, o->target, dec, dec + sample, alpha, n_alpha, csv, err);
    if (rc == 0 && o->target) printf("wrote %s\n", csv);
    free(z), free(dec), free(grid);
    return rc;
}

static int arith_cb(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    double alpha[16];
    int n_alpha;
    latent_session ls;
    if (parse_alphas(o->alpha, alpha, &n_alpha, err) || session_open(&ls, ctx, s, err)) return -1;
    size_t u = ls.u, sample = ls.sample;
    float *abc = malloc(3 * sample * sizeof *abc), *codes = malloc(4 * u * sizeof *codes);
    int rc = abc && codes ? image_and_code(&ls, o->input, abc, codes, err)
                          : clae_fail(err, "out of host memory");
    if (rc == 0 && o->attribute) {
        for (size_t k = sample; k < 3 * sample; k++) abc[k] = 1.0f;
        rc = attribute_vector(&ls, o->attribute, codes + 3 * u, err);
    } else if (rc == 0) {
        rc = image_and_code(&ls, o->baseline, abc + sample, codes + u, err) ||
             image_and_code(&ls, o->featured, abc + 2 * sample, codes + 2 * u, err);
        for (size_t k = 0; rc == 0 && k < u; k++)
            codes[3 * u + k] = codes[2 * u + k] - codes[u + k];
    }
    if (rc == 0) rc = arith_strips(&ls, o, abc, codes, alpha, n_alpha, err);
    free(abc), free(codes);
    clae_data_close(&ls.data);
    return rc ? -1 : 0;
}

int cmd_arith(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    bool pair = o.baseline && o.featured, ok = o.input && (pair != (o.attribute != NULL));
    if (o.help || !o.positional || !ok) {
        printf("usage: clae arith RUN --input A (--baseline B --featured C | --attribute KEYWORD)\n"
               "                  [--alpha 0,0.5,1,1.5] [--target T] [-o STRIPS.png] [--best] "
               "[--device SPEC]\n"
               "  composite = z(A) + alpha (z(C) - z(B)), or alpha times the mean code of the "
               "images whose\n"
               "  names hold KEYWORD minus the mean of the others; decoded, one strip per alpha: "
               "A, B, C,\n"
               "  decoded A, composite (default RUN/arith/arith.png). A, B, C, T: a PNG file,\n"
               "  [train:|val:|test:]INDEX or a sample's name, e.g. \"grinning face\". --target: "
               "the MSE of\n"
               "  each composite to T's reconstruction (printed and in arith.csv)\n");
        return o.help ? 0 : 2;
    }
    return run_with_model(&o, arith_cb, &err) ? clae_cli_error(&err) : 0;
}
