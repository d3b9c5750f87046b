/* clae rd RUN... [--levels L,...] [--jpeg] [--webp]: rate and distortion of
 * each run's codec at each quantisation and of JPEG and WebP at each quality,
 * on the same images (the first run's test split, as its dataset composited
 * them). clae's bytes are real files: each code is written as a .clae file,
 * its size taken, and decoded back from it. Every codec's output is rounded
 * to 8 bits before PSNR and SSIM, as the PNG a user gets. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clae/quality.h"
#include "clae/ref_codecs.h"
#include "codec_run.h"
#include "rd.h"

/* The images every codec sees: planar floats and bytes (C x H x W), and interleaved bytes. */
typedef struct {
    uint32_t n;
    clae_shape s;
    float *px;
    uint8_t *hwc;
} rd_images;

rd_point *rd_add(rd_points *pts, clae_shape s)
{
    if (pts->n == pts->cap) {
        int cap = pts->cap ? 2 * pts->cap : 32;
        rd_point *p = realloc(pts->p, (size_t)cap * sizeof *p);
        if (!p) return NULL;
        pts->p = p, pts->cap = cap;
    }
    rd_point *p = &pts->p[pts->n];
    memset(p, 0, sizeof *p);
    if (!(p->tiles = malloc(RD_GRID * clae_shape_sample(s) * sizeof *p->tiles))) return NULL;
    pts->n++;
    return p;
}

void rd_free(rd_points *pts)
{
    for (int i = 0; i < pts->n; i++) free(pts->p[i].tiles);
    free(pts->p);
}

/* Adds one decoded image (floats in [0, 1], already on the 8-bit grid) of n bytes to point p. */
static void score(rd_point *p, const rd_images *im, uint32_t i, const float *decoded, size_t bytes)
{
    clae_shape s = im->s;
    size_t len = clae_shape_sample(s);
    double bpp = 8.0 * (double)bytes / ((double)s.h * s.w);
    double psnr = clae_psnr(decoded, im->px + i * len, s);
    p->bpp += bpp / im->n, p->psnr += psnr / im->n;
    p->ssim += clae_ssim(decoded, im->px + i * len, s) / im->n;
    if (i < RD_GRID) {
        p->tile_bpp[i] = bpp, p->tile_psnr[i] = psnr;
        memcpy(p->tiles + i * len, decoded, len * sizeof *decoded);
    }
}

/* Rounds floats to the 8-bit values a PNG of them holds, in place. */
static void to_8bit(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i] > 0.0f ? (x[i] < 1.0f ? x[i] : 1.0f) : 0.0f;
        x[i] = (float)(unsigned)(v * 255.0f + 0.5f) * (1.0f / 255.0f);
    }
}

/* Every image through a .clae file: the code quantised, written, sized, read back. */
static int code_through_files(const clae_codec *c, const char *probe, const float *codes, size_t n,
                              size_t u, clae_shape in, float *decoded_codes, size_t *bytes,
                              clae_err *err)
{
    uint16_t *symbols = malloc(u * sizeof *symbols);
    if (!symbols) return clae_fail(err, "out of host memory");
    clae_codec_header h = {.channels = in.c, .height = in.h, .width = in.w};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct stat st;
        clae_codec_quantise(c, codes + i * u, symbols);
        rc = clae_codec_write_file(probe, c, &h, symbols, NULL, err);
        if (rc == 0 && stat(probe, &st)) rc = clae_fail(err, "%s: cannot stat", probe);
        if (rc == 0) bytes[i] = (size_t)st.st_size;
        if (rc == 0) rc = clae_codec_read_file(probe, c, &h, symbols, err);
        if (rc == 0) clae_codec_dequantise(c, symbols, decoded_codes + i * u);
    }
    remove(probe);
    free(symbols);
    return rc;
}

/* One run at one quantisation: a point. */
static int measure_level(clae_ctx *ctx, clae_saved_model *s, const rd_images *im,
                         const float *codes, int levels, const char *dir, rd_points *pts,
                         clae_err *err)
{
    size_t n = im->n, u = clae_shape_sample(clae_model_code(&s->model)->shape),
           len = clae_shape_sample(im->s);
    clae_codec c = {0};
    float *coded = malloc(n * u * sizeof *coded), *out = malloc(n * len * sizeof *out);
    size_t *bytes = malloc(n * sizeof *bytes);
    char probe[1200];
    snprintf(probe, sizeof probe, "%s/.rd_probe.clae", dir);
    int rc = coded && out && bytes ? 0 : clae_fail(err, "out of host memory for %zu codes", n);
    if (rc == 0) rc = codec_for_model(ctx, s, levels, &c, err);
    if (rc == 0) rc = code_through_files(&c, probe, codes, n, u, im->s, coded, bytes, err);
    if (rc == 0 && run_decode_codes(ctx, &s->model, coded, n, out)) rc = -1, *err = ctx->err;
    rd_point *p = rc == 0 ? rd_add(pts, im->s) : NULL;
    if (rc == 0 && !p) rc = clae_fail(err, "out of host memory");
    if (p) {
        snprintf(p->codec, sizeof p->codec, "clae");
        snprintf(p->run, sizeof p->run, "%s", s->cfg.model.name);
        p->setting = levels;
        to_8bit(out, n * len);
        for (uint32_t i = 0; i < im->n; i++) score(p, im, i, out + i * len, bytes[i]);
        printf("  %s, levels %d: %.3f bpp, PSNR %.2f dB, SSIM %.4f\n", p->run, levels, p->bpp,
               p->psnr, p->ssim);
    }
    clae_codec_free(&c);
    free(coded), free(out), free(bytes);
    return rc;
}

static int measure_run(clae_ctx *ctx, clae_saved_model *s, const rd_images *im,
                       const clae_cli_opts *o, const char *dir, rd_points *pts, clae_err *err)
{
    clae_shape in = s->model.input;
    if (in.c != im->s.c || in.h != im->s.h || in.w != im->s.w)
        return clae_fail(err,
                         "%s takes %dx%dx%d images, the first run %dx%dx%d: rd compares "
                         "codecs on the same images",
                         s->checkpoint, in.c, in.h, in.w, im->s.c, im->s.h, im->s.w);
    int levels[CODEC_MAX_LEVEL_LIST], n_levels;
    if (codec_parse_levels(&s->model, o->levels, levels, &n_levels, CODEC_MAX_LEVEL_LIST, err))
        return -1;
    size_t u = clae_shape_sample(clae_model_code(&s->model)->shape);
    float *codes = malloc((size_t)im->n * u * sizeof *codes);
    int rc = codes ? 0 : clae_fail(err, "out of host memory");
    if (rc == 0 && run_encode_images(ctx, &s->model, im->px, im->n, codes))
        rc = -1, *err = ctx->err;
    for (int k = 0; rc == 0 && k < n_levels; k++)
        rc = measure_level(ctx, s, im, codes, levels[k], dir, pts, err);
    free(codes);
    return rc;
}

/* One reference codec at one quality over every image. */
static int measure_reference(clae_ref_codec k, int quality, const rd_images *im, rd_points *pts,
                             clae_err *err)
{
    clae_shape s = im->s;
    size_t len = clae_shape_sample(s), plane = (size_t)s.h * s.w;
    uint8_t *back = malloc(len);
    float *decoded = malloc(len * sizeof *decoded);
    rd_point *p = back && decoded ? rd_add(pts, s) : NULL;
    int rc = p ? 0 : clae_fail(err, "out of host memory");
    if (p) snprintf(p->codec, sizeof p->codec, "%s", clae_ref_name(k)), p->setting = quality;
    for (uint32_t i = 0; rc == 0 && i < im->n; i++) {
        size_t bytes;
        rc = clae_ref_roundtrip(k, im->hwc + i * len, s.w, s.h, s.c, quality, back, &bytes, err);
        for (size_t q = 0; rc == 0 && q < plane; q++)
            for (int ch = 0; ch < s.c; ch++)
                decoded[ch * plane + q] = (float)back[q * s.c + ch] * (1.0f / 255.0f);
        if (rc == 0) score(p, im, i, decoded, bytes);
    }
    free(back), free(decoded);
    return rc;
}

/* --qualities for codec k: the ranges by default (JPEG 5..95, WebP 0..100, by 5). */
static int measure_references(const clae_cli_opts *o, const rd_images *im, rd_points *pts,
                              clae_err *err)
{
    bool want[CLAE_N_REF] = {o->jpeg, o->webp};
    for (int k = 0; k < CLAE_N_REF; k++) {
        if (!want[k]) continue;
        if (!clae_ref_available((clae_ref_codec)k))
            return clae_fail(err,
                             "--%s: this clae was built without lib%s (install its -dev "
                             "package and rebuild)",
                             clae_ref_name((clae_ref_codec)k), clae_ref_name((clae_ref_codec)k));
        int lo = k == CLAE_REF_JPEG ? 5 : 0, hi = k == CLAE_REF_JPEG ? 95 : 100;
        for (int q = lo; q <= hi; q += 5)
            if (measure_reference((clae_ref_codec)k, q, im, pts, err)) return -1;
        printf("  %s: qualities %d to %d\n", clae_ref_name((clae_ref_codec)k), lo, hi);
    }
    return 0;
}

/* The split's images (the first run's data, each once) on the host. */
static int take_images(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, rd_images *im,
                       clae_err *err)
{
    clae_data d;
    const char *split = o->split ? o->split : "test";
    int k = clae_split_parse(split, strlen(split));
    if (k < 0) return clae_fail(err, "--split %s: expected train, val or test", split);
    if (run_open_data(ctx, s, &d, err)) return -1;
    im->s = s->model.input, im->n = clae_data_samples(&d, (clae_split_kind)k);
    size_t len = clae_shape_sample(im->s), plane = (size_t)im->s.h * im->s.w;
    im->px = malloc((size_t)im->n * len * sizeof *im->px + 1);
    im->hwc = malloc((size_t)im->n * len + 1);
    int rc = im->px && im->hwc ? 0 : clae_fail(err, "out of host memory");
    if (rc == 0 && im->n == 0) rc = clae_fail(err, "the %s split holds no images", split);
    const clae_split_data *sd = clae_data_split(&d, (clae_split_kind)k);
    const clae_dataset *set = &d.sources[sd->source].set;
    for (uint32_t i = 0; rc == 0 && i < im->n; i++) {
        uint32_t sample = clae_data_sample_index(&d, (clae_split_kind)k, i);
        const uint8_t *src = set->pixels + (size_t)sample * len;
        run_dataset_floats(set, sample, 1, im->px + i * len);
        for (size_t q = 0; q < plane; q++)
            for (int c = 0; c < im->s.c; c++)
                im->hwc[i * len + q * im->s.c + c] = src[c * plane + q];
    }
    clae_data_close(&d);
    return rc;
}

static int rd_run(clae_ctx *ctx, clae_saved_model *first, const clae_cli_opts *o, clae_err *err)
{
    rd_images im = {0};
    rd_points pts = {0};
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", o->out ? o->out : "");
    if (!o->out) snprintf(dir, sizeof dir, "%s/rd", o->positional);
    int rc = clae_mkdir_p(dir, err) || take_images(ctx, first, o, &im, err);
    if (rc == 0) printf("rd on %u images of %dx%dx%d\n", im.n, im.s.c, im.s.h, im.s.w);
    if (rc == 0) rc = measure_run(ctx, first, &im, o, dir, &pts, err);
    for (int r = 0; rc == 0 && r < o->n_more; r++) {
        clae_cli_opts other = *o;
        clae_saved_model s;
        other.positional = o->more[r];
        rc = run_load_model(ctx, &other, &s, err);
        if (rc == 0) rc = measure_run(ctx, &s, &im, o, dir, &pts, err);
        if (rc == 0) clae_saved_model_release(&s);
    }
    if (rc == 0) rc = measure_references(o, &im, &pts, err);
    int tiles = im.n < RD_GRID ? (int)im.n : RD_GRID;
    if (rc == 0) rc = rd_report(dir, &pts, im.px, tiles, im.s, im.n, err);
    rd_free(&pts);
    free(im.px), free(im.hwc);
    return rc;
}

int cmd_rd(int argc, char **argv)
{
    return run_model_command(
        argc, argv, 1 + CLAE_MAX_MORE,
        "usage: clae rd RUN... [--levels L[,L...]] [--jpeg] [--webp] [--split test] [-o DIR]\n"
        "                [--best] [--device SPEC]\n"
        "  rate and distortion on the first run's test split: each run's codec at each\n"
        "  --levels (as clae compress; bytes from real .clae files), JPEG at qualities 5-95\n"
        "  (libjpeg-turbo, 4:2:0) and WebP at 0-100 (libwebp), by 5, on the same images.\n"
        "  Writes DIR/rd.csv (codec, run, setting, bpp, PSNR, SSIM: means over the images),\n"
        "  rd.svg (PSNR against bpp, a line per codec), rd_grid.png and rd_grid.svg (originals,\n"
        "  then each codec at about the bpp of each clae point, tiles labelled with bpp and\n"
        "  PSNR) and rd.json (clae against JPEG and WebP at the same bpp); DIR: RUN/rd\n",
        rd_run);
}
