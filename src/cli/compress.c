/* clae compress RUN IMAGE... -o DIR: one .clae file per image (the encoder's
 * code, quantised and entropy-coded); clae decompress RUN FILE.clae... -o DIR:
 * PNGs from them through the decoder. The codec (quantiser and symbol
 * frequencies) is fitted once on the run's training split and kept beside
 * its checkpoint (checkpoint_codec16.bin, checkpoint_codec_int.bin). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clae/afile.h"
#include "codec_run.h"

int codec_default_levels(const clae_model *m)
{
    return m->layers[m->latent_index].spec.type == CLAE_LAYER_QUANTIZE ? 0 : 16;
}

int codec_parse_levels(const clae_model *m, const char *text, int *levels, int *n, int max,
                       clae_err *err)
{
    *n = 0;
    if (!text) return levels[(*n)++] = codec_default_levels(m), 0;
    for (const char *p = text; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',') || v < 0 || v == 1 || v > CLAE_CODEC_MAX_LEVELS)
            return clae_fail(err,
                             "--levels %s: expected a comma list of levels, each 2 to %d, or 0 "
                             "(the code's integers, for models with a quantize layer)",
                             text, CLAE_CODEC_MAX_LEVELS);
        if (*n == max) return clae_fail(err, "--levels %s: at most %d levels", text, max);
        levels[(*n)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return *n ? 0 : clae_fail(err, "--levels: no levels given");
}

static void codec_path(const clae_saved_model *s, int levels, char *out, size_t n)
{
    char suffix[32];
    if (levels)
        snprintf(suffix, sizeof suffix, "_codec%d.bin", levels);
    else
        snprintf(suffix, sizeof suffix, "_codec_int.bin");
    run_sibling(s->checkpoint, suffix, out, n);
}

/* Fits the codec on the codes of the whole training split. */
static int fit_codec(clae_ctx *ctx, clae_saved_model *s, int levels, uint32_t weights,
                     clae_codec *c, clae_err *err)
{
    clae_data d;
    if (run_open_data(ctx, s, &d, err)) return -1;
    clae_shape code = clae_model_code(&s->model)->shape;
    uint32_t n = clae_data_samples(&d, CLAE_SPLIT_TRAIN);
    size_t u = clae_shape_sample(code);
    float *codes = malloc((size_t)n * u * sizeof *codes + 1);
    int rc = codes ? 0 : clae_fail(err, "out of host memory for %u codes", n);
    if (rc == 0 && run_encode_split(ctx, &s->model, &d, CLAE_SPLIT_TRAIN, n, codes, NULL))
        rc = -1, *err = ctx->err;
    if (rc == 0) rc = clae_codec_fit(c, codes, n, code.c, code.h, code.w, levels, weights, err);
    free(codes);
    clae_data_close(&d);
    return rc;
}

int codec_for_model(clae_ctx *ctx, clae_saved_model *s, int levels, clae_codec *c, clae_err *err)
{
    uint32_t weights;
    char path[1200];
    if (clae_model_weights_hash(&s->model, ctx, &weights, err)) return -1;
    codec_path(s, levels, path, sizeof path);
    clae_err ignored;
    struct stat st;
    if (stat(path, &st) == 0 && clae_codec_load(path, c, &ignored) == 0) {
        if (c->model_hash == weights) return 0;
        clae_codec_free(c); /* made for other weights (the run trained on): fit again */
    }
    if (fit_codec(ctx, s, levels, weights, c, err)) return -1;
    clae_err why;
    if (clae_codec_save(path, c, &why)) /* a read-only run still codes: the fit is repeatable */
        fprintf(stderr,
                "clae: warning: the codec is not kept beside the model (%s); it is "
                "fitted again on each use\n",
                why.msg);
    else
        printf("fitted the codec (%s) on the training split's codes: %s\n",
               levels ? "uniform levels" : "the code's integers", path);
    return 0;
}

/* DIR/NAME.EXT for an input file's base name without its extension */
static void output_name(const char *dir, const char *input, const char *ext, char *out, size_t n)
{
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    char stem[512];
    run_sibling(base, "", stem, sizeof stem);
    snprintf(out, n, "%s/%s%s", dir, stem, ext);
}

/* Two inputs with one base name would write one output twice: refused before anything runs. */
static int check_unique_names(const clae_cli_opts *o, const char *ext, clae_err *err)
{
    for (int i = 0; i < o->n_more; i++)
        for (int j = 0; j < i; j++) {
            char a[1200], b[1200];
            output_name(".", o->more[i], ext, a, sizeof a);
            output_name(".", o->more[j], ext, b, sizeof b);
            if (strcmp(a, b) == 0)
                return clae_fail(err, "%s and %s would both be written as %s", o->more[j],
                                 o->more[i], a + 2);
        }
    return 0;
}

static int output_dir(const clae_cli_opts *o, const char *sub, char *dir, size_t n, clae_err *err)
{
    if (o->out)
        snprintf(dir, n, "%s", o->out);
    else
        snprintf(dir, n, "%s/%s", o->positional, sub);
    return clae_mkdir_p(dir, err);
}

/* The images of o->split (each once, as the dataset holds them), named SPLIT_INDEX. */
static int load_split(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, float **images,
                      size_t *n, char ***names, clae_err *err)
{
    int k = clae_split_parse(o->split, strlen(o->split));
    if (k < 0) return clae_fail(err, "--split %s: expected train, val or test", o->split);
    clae_data d;
    if (run_open_data(ctx, s, &d, err)) return -1;
    *n = clae_data_samples(&d, (clae_split_kind)k);
    size_t len = clae_shape_sample(s->model.input);
    *images = malloc(*n * len * sizeof **images + 1);
    *names = calloc(*n + 1, sizeof **names);
    int rc = *images && *names ? 0 : clae_fail(err, "out of host memory for %zu images", *n);
    const clae_split_data *sd = clae_data_split(&d, (clae_split_kind)k);
    for (size_t i = 0; rc == 0 && i < *n; i++) {
        uint32_t sample = clae_data_sample_index(&d, (clae_split_kind)k, (uint32_t)i);
        run_dataset_floats(&d.sources[sd->source].set, sample, 1, *images + i * len);
        char name[64];
        snprintf(name, sizeof name, "%s_%05zu", o->split, i);
        if (!((*names)[i] = strdup(name))) rc = clae_fail(err, "out of host memory");
    }
    clae_data_close(&d);
    return rc;
}

/* The images as the model takes them (floats in [0, 1]), read as its dataset reads files. */
static int load_images(const clae_saved_model *s, const clae_cli_opts *o, float *images,
                       clae_err *err)
{
    clae_image_opts io = {.image = s->model.input, .exact_size = !o->resize};
    memcpy(io.background, s->cfg.data.background, sizeof io.background);
    size_t len = clae_shape_sample(s->model.input);
    uint8_t *px = malloc(len);
    if (!px) return clae_fail(err, "out of host memory");
    int rc = 0;
    for (int i = 0; rc == 0 && i < o->n_more; i++) {
        rc = clae_image_file_sample(o->more[i], &io, px, err);
        for (size_t k = 0; rc == 0 && k < len; k++)
            images[(size_t)i * len + k] = (float)px[k] * (1.0f / 255.0f);
    }
    free(px);
    return rc;
}

/* The images to compress (o->more's files, or o->split's) and the names their files take. */
static int compress_inputs(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o,
                           float **images, size_t *n, char ***names, clae_err *err)
{
    if (o->split) return load_split(ctx, s, o, images, n, names, err);
    *n = (size_t)o->n_more;
    *images = malloc(*n * clae_shape_sample(s->model.input) * sizeof **images);
    *names = calloc(*n + 1, sizeof **names);
    if (!*images || !*names) return clae_fail(err, "out of host memory for %zu images", *n);
    for (size_t i = 0; i < *n; i++) {
        char path[1200];
        output_name("", o->more[i], "", path, sizeof path);
        if (!((*names)[i] = strdup(path + 1))) return clae_fail(err, "out of host memory");
    }
    return check_unique_names(o, ".clae", err) || load_images(s, o, *images, err);
}

static void free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++) free(names[i]);
    free(names);
}

static int compress_run(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    int levels, n_levels;
    char dir[1100];
    if (codec_parse_levels(&s->model, o->levels, &levels, &n_levels, 1, err)) return -1;
    clae_shape in = s->model.input, code = clae_model_code(&s->model)->shape;
    size_t n = 0, u = clae_shape_sample(code);
    float *images = NULL, *codes = NULL;
    char **names = NULL;
    uint16_t *symbols = malloc(u * sizeof *symbols);
    clae_codec c = {0};
    int rc = compress_inputs(ctx, s, o, &images, &n, &names, err);
    if (rc == 0 && !(codes = malloc(n * u * sizeof *codes + 1)))
        rc = clae_fail(err, "out of host memory for %zu codes", n);
    if (rc == 0) rc = codec_for_model(ctx, s, levels, &c, err);
    if (rc == 0 && run_encode_images(ctx, &s->model, images, n, codes)) rc = -1, *err = ctx->err;
    if (rc == 0) rc = output_dir(o, "compressed", dir, sizeof dir, err);
    size_t total = 0;
    clae_codec_header h = {.channels = in.c, .height = in.h, .width = in.w};
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[1200];
        size_t bytes;
        snprintf(path, sizeof path, "%s/%s.clae", dir, names[i]);
        clae_codec_quantise(&c, codes + i * u, symbols);
        rc = clae_codec_write_file(path, &c, &h, symbols, &bytes, err);
        total += bytes;
        if (rc == 0 && n <= 8)
            printf("wrote %s: %zu bytes, %.3f bpp\n", path, bytes,
                   8.0 * (double)bytes / ((double)in.h * in.w));
    }
    if (rc == 0)
        printf("compressed %zu images into %s: %zu bytes, %.3f bpp on average (%d of each file's "
               "bytes are its header)\n",
               n, dir, total, 8.0 * (double)total / ((double)n * in.h * in.w),
               CLAE_CODEC_HEADER_BYTES);
    clae_codec_free(&c);
    free(images), free(codes), free(symbols);
    free_names(names);
    return rc;
}

/* A file's symbols into code (the model's code, dequantised), with the codec its header names
 * (*c is fitted or loaded when its levels differ from the file's). */
static int read_code(clae_ctx *ctx, clae_saved_model *s, const char *path, clae_codec *c,
                     uint16_t *symbols, float *code, clae_err *err)
{
    clae_codec_header h;
    clae_shape in = s->model.input;
    if (clae_codec_read_header(path, &h, err)) return -1;
    if (h.channels != in.c || h.height != in.h || h.width != in.w)
        return clae_fail(err, "%s: an image of %dx%dx%d, but this model codes %dx%dx%d", path,
                         h.channels, h.height, h.width, in.c, in.h, in.w);
    if (!c->ch || c->levels != h.levels) {
        clae_codec_free(c);
        if (codec_for_model(ctx, s, h.levels, c, err)) return -1;
    }
    if (clae_codec_read_file(path, c, &h, symbols, err)) return -1;
    clae_codec_dequantise(c, symbols, code);
    return 0;
}

static int decompress_run(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    clae_shape in = s->model.input;
    size_t n = (size_t)o->n_more, u = clae_shape_sample(clae_model_code(&s->model)->shape);
    float *codes = malloc(n * u * sizeof *codes),
          *images = malloc(n * clae_shape_sample(in) * sizeof *images);
    uint16_t *symbols = malloc(u * sizeof *symbols);
    clae_codec c = {0};
    char dir[1100];
    int rc = codes && images && symbols ? 0 : clae_fail(err, "out of host memory");
    if (rc == 0) rc = check_unique_names(o, ".png", err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = read_code(ctx, s, o->more[i], &c, symbols, codes + i * u, err);
    if (rc == 0 && run_decode_codes(ctx, &s->model, codes, n, images)) rc = -1, *err = ctx->err;
    if (rc == 0) rc = output_dir(o, "decompressed", dir, sizeof dir, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[1200];
        output_name(dir, o->more[i], ".png", path, sizeof path);
        rc = clae_png_image(path, images + i * clae_shape_sample(in), in, err);
        if (rc == 0 && n <= 8) printf("wrote %s\n", path);
    }
    if (rc == 0) printf("decompressed %zu files into %s\n", n, dir);
    clae_codec_free(&c);
    free(codes), free(images), free(symbols);
    return rc;
}

static int check_files_given(const clae_cli_opts *o, const char *what, clae_err *err)
{
    return o->n_more ? 0 : clae_fail(err, "%s: no %s given (see --help)", o->positional, what);
}

static int compress_checked(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o,
                            clae_err *err)
{
    if (o->split && o->n_more) return clae_fail(err, "give images or --split, not both");
    return !o->split && check_files_given(o, "images", err) ? -1 : compress_run(ctx, s, o, err);
}

static int decompress_checked(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o,
                              clae_err *err)
{
    return check_files_given(o, ".clae files", err) ? -1 : decompress_run(ctx, s, o, err);
}

int cmd_compress(int argc, char **argv)
{
    return run_model_command(
        argc, argv, 1 + CLAE_MAX_MORE,
        "usage: clae compress RUN IMAGE...|--split S [-o DIR] [--levels L] [--resize] [--best]\n"
        "                      [--device SPEC]\n"
        "  each PNG (or each image of a split of RUN's data: DIR/S_00000.clae, ...) through RUN's\n"
        "  encoder into DIR/NAME.clae (default RUN/compressed): a 20-byte\n"
        "  header (magic, version, image size, levels, the codec's hash, CRC-32) and the code,\n"
        "  quantised per channel and rANS-coded, each value under the frequencies of its context\n"
        "  (the values to its left, above it and in the channel before); bpp = 8 x bytes /\n"
        "  pixels, from the files. --levels: uniform levels per channel over its training range\n"
        "  (default 16; 0, the default for a model with a quantize layer: the code's integers).\n"
        "  The codec is fitted on the training split once and kept beside the checkpoint.\n"
        "  Images of another size are refused unless --resize (resized as the dataset does).\n",
        compress_checked);
}

int cmd_decompress(int argc, char **argv)
{
    return run_model_command(
        argc, argv, 1 + CLAE_MAX_MORE,
        "usage: clae decompress RUN FILE.clae... [-o DIR] [--best] [--device SPEC]\n"
        "  each .clae file through RUN's decoder into DIR/NAME.png (default RUN/decompressed);\n"
        "  a file from another model or codec, of another version, truncated or corrupt is\n"
        "  refused with its name and what is wrong, and nothing is written\n",
        decompress_checked);
}
