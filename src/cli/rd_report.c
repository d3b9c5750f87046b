/* clae rd's report (rd.h): the table, the compression curve, the quality
 * grid and the comparisons at the same bpp. A codec's curve is interpolated
 * linearly in bpp between its measured points, and beyond its largest file
 * it stays at its best PSNR (more bytes can always buy at least as much: they
 * could be padding); below its smallest file it has no value. clae's curve is
 * the upper envelope of all its runs and levels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/afile.h"
#include "clae/io.h"
#include "rd.h"

#define RD_BAR_BPP 3.0 /* the bar: above JPEG at every quality up to this bpp */
#define GRID_SCALE 2   /* pixels per image pixel in the quality grid */
#define GRID_GUTTER 2  /* as clae_png_grid's */
#define LABEL_W 150    /* the grid SVG's row labels */
#define CAPTION_H 14   /* the grid SVG's tile captions */
#define MAX_CURVE 256

typedef struct {
    double x[MAX_CURVE], y[MAX_CURVE];
    int n;
} curve;

static bool same_series(const rd_point *a, const rd_point *b)
{
    return strcmp(a->codec, b->codec) == 0 && strcmp(a->run, b->run) == 0;
}

static void sort_curve(curve *c)
{
    for (int i = 1; i < c->n; i++)
        for (int j = i; j > 0 && c->x[j] < c->x[j - 1]; j--) {
            double tx = c->x[j], ty = c->y[j];
            c->x[j] = c->x[j - 1], c->y[j] = c->y[j - 1];
            c->x[j - 1] = tx, c->y[j - 1] = ty;
        }
}

/* The points of one codec (every run when run is NULL), by bpp; clae's kept to its envelope. */
static void codec_curve(const rd_points *pts, const char *codec, const char *run, curve *c)
{
    c->n = 0;
    for (int i = 0; i < pts->n && c->n < MAX_CURVE; i++) {
        const rd_point *p = &pts->p[i];
        if (strcmp(p->codec, codec) || (run && strcmp(p->run, run))) continue;
        c->x[c->n] = p->bpp, c->y[c->n++] = p->psnr;
    }
    sort_curve(c);
    if (run || strcmp(codec, "clae")) return;
    int kept = 0; /* a point that a cheaper point beats is not on the envelope */
    for (int i = 0; i < c->n; i++) {
        while (kept > 0 && c->y[kept - 1] <= c->y[i] && c->x[kept - 1] >= c->x[i] - 1e-12) kept--;
        if (kept > 0 && c->y[i] <= c->y[kept - 1]) continue;
        c->x[kept] = c->x[i], c->y[kept++] = c->y[i];
    }
    c->n = kept;
}

/* PSNR at bpp on the curve: NAN below its smallest file, its best PSNR above its largest. */
static double at_bpp(const curve *c, double bpp)
{
    if (c->n == 0 || bpp < c->x[0]) return NAN;
    if (bpp >= c->x[c->n - 1]) {
        double best = c->y[0];
        for (int i = 1; i < c->n; i++) best = fmax(best, c->y[i]);
        return best;
    }
    for (int i = 1; i < c->n; i++)
        if (bpp <= c->x[i]) {
            double t = c->x[i] > c->x[i - 1] ? (bpp - c->x[i - 1]) / (c->x[i] - c->x[i - 1]) : 1;
            return c->y[i - 1] + t * (c->y[i] - c->y[i - 1]);
        }
    return c->y[c->n - 1];
}

static int write_csv(const char *dir, const rd_points *pts, clae_err *err)
{
    char path[1200];
    clae_afile a;
    snprintf(path, sizeof path, "%s/rd.csv", dir);
    if (clae_afile_open(&a, path, err)) return -1;
    fprintf(a.f, "codec,run,setting,bpp,psnr,ssim\n");
    for (int i = 0; i < pts->n; i++) {
        const rd_point *p = &pts->p[i];
        fprintf(a.f, "%s,", p->codec);
        clae_json_string(a.f, p->run);
        fprintf(a.f, ",%d,%.5f,%.4f,%.5f\n", p->setting, p->bpp, p->psnr, p->ssim);
    }
    return clae_afile_commit(&a, err);
}

static int write_plot(const char *dir, const rd_points *pts, clae_err *err)
{
    static const char *const colors[] = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e",
                                         "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    curve *curves = malloc(8 * sizeof *curves);
    clae_series series[8];
    char labels[8][300];
    int n = 0;
    if (!curves) return clae_fail(err, "out of host memory");
    for (int i = 0; i < pts->n && n < 8; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++) seen |= same_series(&pts->p[j], &pts->p[i]);
        if (seen) continue;
        const rd_point *p = &pts->p[i];
        codec_curve(pts, p->codec, p->run, &curves[n]);
        snprintf(labels[n], sizeof labels[n], "%s%s%s", p->codec, *p->run ? " " : "", p->run);
        series[n] = (clae_series){labels[n], colors[n], curves[n].x, curves[n].y, curves[n].n};
        n++;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/rd.svg", dir);
    int rc = clae_svg_plot(path, "Rate and distortion (test split)", "bits per pixel", "PSNR (dB)",
                           series, n, err);
    free(curves);
    return rc;
}

/* The reference point of codec nearest in bpp to bpp, or NULL. */
static const rd_point *nearest(const rd_points *pts, const char *codec, double bpp)
{
    const rd_point *best = NULL;
    for (int i = 0; i < pts->n; i++)
        if (strcmp(pts->p[i].codec, codec) == 0 &&
            (!best || fabs(pts->p[i].bpp - bpp) < fabs(best->bpp - bpp)))
            best = &pts->p[i];
    return best;
}

/* The grid's rows: each clae point, then JPEG's and WebP's nearest to it in bpp. */
static int grid_rows(const rd_points *pts, const rd_point **rows, int max)
{
    int n = 0;
    for (int i = 0; i < pts->n && n + 3 <= max; i++) {
        if (strcmp(pts->p[i].codec, "clae")) continue;
        rows[n++] = &pts->p[i];
        const rd_point *j = nearest(pts, "jpeg", pts->p[i].bpp),
                       *w = nearest(pts, "webp", pts->p[i].bpp);
        if (j) rows[n++] = j;
        if (w) rows[n++] = w;
    }
    return n;
}

static void grid_svg_row(FILE *f, const rd_point *p, int r, int tiles, clae_shape s, int png_w,
                         int png_h)
{
    int cell_w = s.w * GRID_SCALE + GRID_GUTTER, cell_h = s.h * GRID_SCALE + GRID_GUTTER;
    int y = r * (cell_h + CAPTION_H);
    fprintf(f, "<text x='4' y='%d' font-size='12'>", y + cell_h / 2);
    if (p && strcmp(p->codec, "clae") == 0) {
        clae_svg_text(f, p->run);
        if (p->setting) fprintf(f, ", %d levels", p->setting);
    } else if (p) {
        fprintf(f, "%s q %d", p->codec, p->setting);
    } else {
        fprintf(f, "original");
    }
    fprintf(f,
            "</text>\n<svg x='%d' y='%d' width='%d' height='%d' viewBox='0 %d %d %d'>"
            "<image href='rd_grid.png' width='%d' height='%d'/></svg>\n",
            LABEL_W, y, png_w, cell_h, r * cell_h, png_w, cell_h, png_w, png_h);
    for (int t = 0; p && t < tiles; t++)
        fprintf(f, "<text x='%d' y='%d' font-size='10'>%.2f bpp %.1f dB</text>\n",
                LABEL_W + t * cell_w + GRID_GUTTER, y + cell_h + CAPTION_H - 3, p->tile_bpp[t],
                p->tile_psnr[t]);
}

static int write_grid(const char *dir, const rd_points *pts, const float *originals, int tiles,
                      clae_shape s, clae_err *err)
{
    const rd_point *rows[30];
    int n = grid_rows(pts, rows, 30);
    const float *images[31] = {originals};
    for (int r = 0; r < n; r++) images[r + 1] = rows[r]->tiles;
    char png[1200], svg[1200];
    snprintf(png, sizeof png, "%s/rd_grid.png", dir);
    snprintf(svg, sizeof svg, "%s/rd_grid.svg", dir);
    if (clae_png_grid(png, images, n + 1, tiles, s, GRID_SCALE, err)) return -1;
    int cell_h = s.h * GRID_SCALE + GRID_GUTTER,
        png_w = tiles * (s.w * GRID_SCALE + GRID_GUTTER) + GRID_GUTTER;
    clae_afile a;
    if (clae_afile_open(&a, svg, err)) return -1;
    fprintf(a.f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
            "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
            LABEL_W + png_w, (n + 1) * (cell_h + CAPTION_H));
    for (int r = 0; r <= n; r++)
        grid_svg_row(a.f, r ? rows[r - 1] : NULL, r, tiles, s, png_w,
                     (n + 1) * cell_h + GRID_GUTTER);
    fprintf(a.f, "</svg>\n");
    return clae_afile_commit(&a, err);
}

static void json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.4f", v);
    else
        fprintf(f, "null");
}

/* "JPEG 27.31 dB", or why there is no value: not measured, or bpp below its smallest file. */
static void describe_at(const curve *c, const char *name, double v, char *out, size_t n)
{
    if (c->n == 0)
        snprintf(out, n, "%s not measured", name);
    else if (!isfinite(v))
        snprintf(out, n, "%s below its smallest file (%.3f bpp)", name, c->x[0]);
    else
        snprintf(out, n, "%s there %.2f dB", name, v);
}

/* Each clae point against JPEG and WebP at its bpp; JPEG's points up to RD_BAR_BPP against
 * clae's envelope. */
static void compare(FILE *json, const rd_points *pts)
{
    curve *c = malloc(3 * sizeof *c);
    if (!c) return;
    codec_curve(pts, "clae", NULL, &c[0]);
    codec_curve(pts, "jpeg", NULL, &c[1]);
    codec_curve(pts, "webp", NULL, &c[2]);
    fprintf(json, "  \"clae_points\": [\n");
    for (int i = 0, first = 1; i < pts->n; i++) {
        const rd_point *p = &pts->p[i];
        if (strcmp(p->codec, "clae")) continue;
        double j = at_bpp(&c[1], p->bpp), w = at_bpp(&c[2], p->bpp);
        fprintf(json, "%s    {\"run\": ", first ? "" : ",\n"), first = 0;
        clae_json_string(json, p->run);
        fprintf(json,
                ", \"levels\": %d, \"bpp\": %.4f, \"psnr\": %.3f, \"jpeg_psnr\": ", p->setting,
                p->bpp, p->psnr);
        json_number(json, j);
        fprintf(json, ", \"webp_psnr\": ");
        json_number(json, w);
        fprintf(json, "}");
        char jt[96], wt[96];
        describe_at(&c[1], "JPEG", j, jt, sizeof jt), describe_at(&c[2], "WebP", w, wt, sizeof wt);
        printf("clae %s levels %d at %.3f bpp: %.2f dB; %s, %s\n", p->run, p->setting, p->bpp,
               p->psnr, jt, wt);
    }
    int beaten = 0, covered = 0, jpeg_points = 0;
    fprintf(json, "\n  ],\n  \"jpeg_up_to_%.0f_bpp\": [\n", RD_BAR_BPP);
    for (int i = 0; i < c[1].n; i++) {
        if (c[1].x[i] > RD_BAR_BPP) continue;
        double mine = at_bpp(&c[0], c[1].x[i]);
        jpeg_points++, covered += isfinite(mine), beaten += isfinite(mine) && mine > c[1].y[i];
        fprintf(json, "%s    {\"bpp\": %.4f, \"jpeg_psnr\": %.3f, \"clae_psnr\": ",
                jpeg_points > 1 ? ",\n" : "", c[1].x[i], c[1].y[i]);
        json_number(json, mine);
        fprintf(json, "}");
    }
    fprintf(json,
            "\n  ],\n  \"jpeg_points_up_to_bar\": %d, \"covered_by_clae\": %d, "
            "\"clae_above\": %d\n",
            jpeg_points, covered, beaten);
    if (c[1].n)
        printf("JPEG up to %.0f bpp: %d qualities, %d at or above clae's smallest file, clae "
               "above at %d\n",
               RD_BAR_BPP, jpeg_points, covered, beaten);
    free(c);
}

int rd_report(const char *dir, const rd_points *pts, const float *originals, int n_tiles,
              clae_shape s, uint32_t images, clae_err *err)
{
    if (write_csv(dir, pts, err) || write_plot(dir, pts, err) ||
        write_grid(dir, pts, originals, n_tiles, s, err))
        return -1;
    char path[1200];
    clae_afile a;
    snprintf(path, sizeof path, "%s/rd.json", dir);
    if (clae_afile_open(&a, path, err)) return -1;
    fprintf(a.f, "{\n  \"images\": %u,\n", images);
    compare(a.f, pts);
    fprintf(a.f, "}\n");
    if (clae_afile_commit(&a, err)) return -1;
    printf("wrote %s/rd.csv, rd.svg, rd_grid.png, rd_grid.svg and rd.json\n", dir);
    return 0;
}
