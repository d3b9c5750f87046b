/* clae encode RUN: a split's codes as a .npy (N, D) with a CSV of where each
 * row came from; clae decode RUN CODES.npy: codes back to images, as a grid.
 * Both load the model alone (no optimizer) and run part of it: the encoder
 * up to the code, or the decoder from it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "graph_run.h"
#include "run.h"

/* --split train|val|test|all into a mask of splits */
static int parse_split(const char *text, unsigned *mask, clae_err *err)
{
    if (!text) text = "test";
    if (strcmp(text, "all") == 0) return *mask = 7u, 0;
    int k = clae_split_parse(text, strlen(text));
    if (k >= 0) return *mask = 1u << k, 0;
    return clae_fail(err, "--split %s: expected train, val, test or all", text);
}

/* row,split,index,name,label for every code row */
static int write_rows_csv(const char *path, const clae_data *d, unsigned mask, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    fprintf(a.f, "row,split,index,name,label\n");
    size_t row = 0;
    for (int k = 0; k < 3; k++) {
        if (!(mask & (1u << k))) continue;
        const clae_split_data *s = clae_data_split((clae_data *)d, (clae_split_kind)k);
        const clae_dataset *set = &d->sources[s->source].set;
        for (uint32_t i = 0; i < clae_data_samples(d, (clae_split_kind)k); i++, row++) {
            uint32_t sample = clae_data_sample_index(d, (clae_split_kind)k, i);
            fprintf(a.f, "%zu,%s,%u,", row, clae_split_name((clae_split_kind)k), sample);
            if (set->names)
                clae_json_string(a.f, set->names[sample]); /* quoted: names may hold commas */
            if (set->labels)
                fprintf(a.f, ",%u\n", set->labels[sample]);
            else
                fprintf(a.f, ",\n");
        }
    }
    return clae_afile_commit(&a, err);
}

static int encode_run(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    unsigned mask = 0;
    clae_data d;
    if (o->logvar && !clae_model_vae(&s->model))
        return clae_fail(err, "--logvar: %s is not a VAE (its model has no vae layer)",
                         o->positional);
    if (parse_split(o->split, &mask, err) || run_open_data(ctx, s, &d, err)) return -1;
    size_t n = 0, u = clae_shape_sample(clae_model_code(&s->model)->shape);
    for (int k = 0; k < 3; k++)
        if (mask & (1u << k)) n += clae_data_samples(&d, (clae_split_kind)k);
    float *codes = malloc(n * u * sizeof *codes + 1),
          *logvar = o->logvar ? malloc(n * u * sizeof *logvar + 1) : NULL;
    char npy[1100], csv[1100], lv[1100];
    int rc = codes && (logvar || !o->logvar)
                 ? run_output(o, "encode", "codes.npy", npy, sizeof npy, err)
                 : clae_fail(err, "out of host memory for %zu codes", n);
    if (rc == 0 && n == 0)
        rc = clae_fail(err, "%s: the chosen split holds no samples", o->positional);
    for (int k = 0, at = 0; k < 3 && rc == 0; k++) {
        if (!(mask & (1u << k))) continue;
        uint32_t count = clae_data_samples(&d, (clae_split_kind)k);
        if (run_encode_split(ctx, &s->model, &d, (clae_split_kind)k, count, codes + (size_t)at * u,
                             logvar ? logvar + (size_t)at * u : NULL))
            rc = -1, *err = ctx->err;
        at += (int)count;
    }
    run_sibling(npy, ".csv", csv, sizeof csv);
    run_sibling(npy, "_logvar.npy", lv, sizeof lv);
    if (rc == 0) rc = clae_npy_write(npy, codes, n, u, err) || write_rows_csv(csv, &d, mask, err);
    if (rc == 0 && logvar) rc = clae_npy_write(lv, logvar, n, u, err);
    if (rc == 0) printf("wrote %s (%zu codes of %zu values) and %s\n", npy, n, u, csv);
    if (rc == 0 && logvar) printf("wrote %s (their log-variances)\n", lv);
    free(codes);
    free(logvar);
    clae_data_close(&d);
    return rc ? -1 : 0;
}

int cmd_encode(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf(
            "usage: clae encode RUN [--split test|val|train|all] [-o CODES.npy] [--logvar] "
            "[--best] "
            "[--device SPEC]\n"
            "  the codes of a split's images (each sample once, without augmentation) as a "
            "float32\n"
            "  .npy of shape (N, D), and a CSV beside it: row, split, index, name, label\n"
            "  (default RUN/encode/codes.npy); a VAE's code is its mean, and --logvar writes its\n"
            "  log-variances beside it (CODES_logvar.npy, the same shape); a graph run's codes\n"
            "  are its nodes' (N = nodes), with node,label in the CSV\n");
        return o.help ? 0 : 2;
    }
    clae_config graph_cfg;
    if (graph_run_config(o.positional, &o, &graph_cfg))
        return graph_command(&o, &graph_cfg, graph_encode_run);
    unsigned mask = 0;
    if (parse_split(o.split, &mask, &err)) return clae_cli_error(&err);
    return run_with_model(&o, encode_run, &err) ? clae_cli_error(&err) : 0;
}

/* ---- decode --------------------------------------------------------------- */

/* --each: PNG_000.png, PNG_001.png, ... one image each, at its own size */
static int write_each(const char *png, const float *images, size_t n, clae_shape s, clae_err *err)
{
    size_t sample = clae_shape_sample(s);
    for (size_t i = 0; i < n; i++) {
        char path[1200];
        char suffix[32];
        snprintf(suffix, sizeof suffix, "_%03zu.png", i);
        run_sibling(png, suffix, path, sizeof path);
        if (clae_png_image(path, images + i * sample, s, err)) return -1;
    }
    char first[1200];
    run_sibling(png, "_000.png", first, sizeof first);
    printf("wrote %zu images %s ...\n", n, first);
    return 0;
}

static int decode_run(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    float *codes = NULL, *images = NULL;
    size_t n, d, u = clae_shape_sample(clae_model_code(&s->model)->shape);
    char png[1100];
    if (clae_npy_read(o->more[0], &codes, &n, &d, err)) return -1;
    int rc = 0;
    if (d != u)
        rc = clae_fail(err, "%s: %zu values per code, but the model's code has %zu", o->more[0], d,
                       u);
    else if (n == 0)
        rc = clae_fail(err, "%s: no codes (shape (0, %zu))", o->more[0], d);
    for (size_t i = 0; rc == 0 && i < n * d; i++)
        if (!isfinite(codes[i]))
            rc = clae_fail(err, "%s: code %zu holds %g", o->more[0], i / d, codes[i]);
    if (rc == 0 && !(images = malloc(n * clae_shape_sample(s->model.input) * sizeof *images)))
        rc = clae_fail(err, "out of host memory for %zu images", n);
    if (rc == 0 && run_decode_codes(ctx, &s->model, codes, n, images)) rc = -1, *err = ctx->err;
    if (rc == 0) rc = run_output(o, "decode", "decoded.png", png, sizeof png, err);
    if (rc == 0) rc = run_write_images(png, images, n, s->model.input, err);
    if (rc == 0 && o->each) rc = write_each(png, images, n, s->model.input, err);
    if (rc == 0) printf("wrote %s (%zu images decoded from %s)\n", png, n, o->more[0]);
    free(codes);
    free(images);
    return rc;
}

int cmd_decode(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse_n(argc, argv, 2, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional || o.n_more != 1) {
        printf(
            "usage: clae decode RUN CODES.npy [-o IMAGES.png] [--each] [--best] [--device SPEC]\n"
            "  float32 codes of shape (N, D) (as clae encode writes them) through RUN's decoder;\n"
            "  a grid of the images, 8 a row (default RUN/decode/decoded.png); --each: also one\n"
            "  PNG per code beside it, each at the image's own size (IMAGES_000.png, ...)\n");
        return o.help ? 0 : 2;
    }
    return run_with_model(&o, decode_run, &err) ? clae_cli_error(&err) : 0;
}
