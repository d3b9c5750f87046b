/* Scatter plots of 2-D maps (clae latent-map): SVG with axes and a legend of
 * class names, PNG with the points as discs and numbered swatches (a 3x5
 * digit font: the names are in the SVG and the CSV beside it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/io.h"

#define SIZE 600 /* the square plot, pixels */
#define MARGIN 30
#define LEGEND_W 190 /* room for the legend right of the plot */

/* Tableau's 10 colours, then 10 lighter ones; more classes cycle */
static const unsigned char palette[20][3] = {
    {31, 119, 180},  {255, 127, 14},  {44, 160, 44},   {214, 39, 40},   {148, 103, 189},
    {140, 86, 75},   {227, 119, 194}, {127, 127, 127}, {188, 189, 34},  {23, 190, 207},
    {174, 199, 232}, {255, 187, 120}, {152, 223, 138}, {255, 152, 150}, {197, 176, 213},
    {196, 156, 148}, {247, 182, 210}, {199, 199, 199}, {219, 219, 141}, {158, 218, 229}};

static const unsigned char *colour_of(const clae_scatter *s, size_t i)
{
    int l = s->labels ? s->labels[i] : -1;
    return palette[l < 0 ? 0 : l % 20];
}

typedef struct {
    double x0, y0, span; /* the square of data shown: [x0, x0 + span] x [y0, y0 + span] */
} frame;

/* A square around the finite points, 4% wider than their extent. */
static frame frame_of(const clae_scatter *s)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < s->n; i++) {
        double x = s->xy[2 * i], y = s->xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) continue;
        x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
    }
    if (!isfinite(x0)) x0 = y0 = 0, x1 = y1 = 1;
    double span = fmax(fmax(x1 - x0, y1 - y0), 1e-12) * 1.04;
    return (frame){(x0 + x1 - span) / 2, (y0 + y1 - span) / 2, span};
}

static void to_plot(frame f, double x, double y, double *px, double *py)
{
    *px = MARGIN + (x - f.x0) / f.span * SIZE;
    *py = MARGIN + (1 - (y - f.y0) / f.span) * SIZE;
}

/* ---- SVG ---- */

int clae_svg_scatter(const char *path, const clae_scatter *s, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    FILE *f = a.f;
    frame fr = frame_of(s);
    int w = SIZE + 2 * MARGIN + (s->n_classes > 0 ? LEGEND_W : 0), h = SIZE + 2 * MARGIN;
    fprintf(f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
            "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
            w, h);
    fprintf(f, "<text x='%d' y='20' font-size='15' text-anchor='middle'>", MARGIN + SIZE / 2);
    clae_svg_text(f, s->title ? s->title : "");
    fprintf(f, "</text>\n<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#333'/>\n",
            MARGIN, MARGIN, SIZE, SIZE);
    for (size_t i = 0; i < s->n; i++) {
        double px, py;
        if (!isfinite(s->xy[2 * i]) || !isfinite(s->xy[2 * i + 1])) continue;
        to_plot(fr, s->xy[2 * i], s->xy[2 * i + 1], &px, &py);
        const unsigned char *c = colour_of(s, i);
        fprintf(f, "<circle cx='%.1f' cy='%.1f' r='2' fill='#%02x%02x%02x' fill-opacity='0.7'", px,
                py, c[0], c[1], c[2]);
        if (s->point_names && s->point_names[i]) {
            fprintf(f, "><title>");
            clae_svg_text(f, s->point_names[i]);
            fprintf(f, "</title></circle>\n");
        } else {
            fprintf(f, "/>\n");
        }
    }
    for (int k = 0; k < s->n_classes; k++) {
        int y = MARGIN + 10 + 20 * k;
        const unsigned char *c = palette[k % 20];
        fprintf(f,
                "<circle cx='%d' cy='%d' r='5' fill='#%02x%02x%02x'/><text x='%d' y='%d' "
                "font-size='13'>",
                MARGIN * 2 + SIZE, y, c[0], c[1], c[2], MARGIN * 2 + SIZE + 12, y + 4);
        if (s->names && s->names[k])
            clae_svg_text(f, s->names[k]);
        else
            fprintf(f, "%d", k);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
    return clae_afile_commit(&a, err);
}

/* ---- PNG ---- */

/* 3x5 digits, a row of 3 bits each, top first */
static const unsigned char digits[10][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}};

typedef struct {
    unsigned char *px;
    int w, h;
} canvas;

static void put(canvas *c, int x, int y, const unsigned char rgb[3], double alpha)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    unsigned char *p = c->px + ((size_t)y * c->w + x) * 3;
    for (int k = 0; k < 3; k++) p[k] = (unsigned char)lrint(p[k] * (1 - alpha) + rgb[k] * alpha);
}

static void disc(canvas *c, double cx, double cy, double r, const unsigned char rgb[3], double a)
{
    for (int y = (int)floor(cy - r); y <= (int)ceil(cy + r); y++)
        for (int x = (int)floor(cx - r); x <= (int)ceil(cx + r); x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) put(c, x, y, rgb, a);
}

/* the number v at (x, y), each font pixel 2x2 */
static void number(canvas *c, int x, int y, int v)
{
    static const unsigned char ink[3] = {40, 40, 40};
    char text[16];
    snprintf(text, sizeof text, "%d", v);
    for (const char *t = text; *t; t++, x += 8)
        for (int row = 0; row < 5; row++)
            for (int col = 0; col < 3; col++)
                if (digits[*t - '0'][row] & (4 >> col))
                    for (int k = 0; k < 4; k++)
                        put(c, x + 2 * col + k % 2, y + 2 * row + k / 2, ink, 1);
}

int clae_png_scatter(const char *path, const clae_scatter *s, clae_err *err)
{
    int legend = s->n_classes > 0 ? 60 : 0;
    canvas c = {NULL, SIZE + 2 * MARGIN + legend, SIZE + 2 * MARGIN};
    if (!(c.px = malloc((size_t)c.w * c.h * 3)))
        return clae_fail(err, "%s: out of host memory", path);
    memset(c.px, 255, (size_t)c.w * c.h * 3);
    static const unsigned char frame_ink[3] = {60, 60, 60};
    for (int k = 0; k <= SIZE; k++) {
        put(&c, MARGIN + k, MARGIN, frame_ink, 1), put(&c, MARGIN + k, MARGIN + SIZE, frame_ink, 1);
        put(&c, MARGIN, MARGIN + k, frame_ink, 1), put(&c, MARGIN + SIZE, MARGIN + k, frame_ink, 1);
    }
    frame fr = frame_of(s);
    for (size_t i = 0; i < s->n; i++) {
        double px, py;
        if (!isfinite(s->xy[2 * i]) || !isfinite(s->xy[2 * i + 1])) continue;
        to_plot(fr, s->xy[2 * i], s->xy[2 * i + 1], &px, &py);
        disc(&c, px, py, 1.8, colour_of(s, i), 0.7);
    }
    for (int k = 0; k < s->n_classes; k++) {
        int y = MARGIN + 10 + 20 * k;
        disc(&c, MARGIN * 2 + SIZE, y, 5, palette[k % 20], 1);
        number(&c, MARGIN * 2 + SIZE + 10, y - 5, k);
    }
    int rc = clae_png_write(path, c.px, c.w, c.h, 3, err);
    free(c.px);
    return rc;
}
