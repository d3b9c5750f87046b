/* Line plots as SVG: axes with "nice" ticks, labels, a legend. */
#include <math.h>
#include <stdio.h>

#include "clae/io.h"

#define W 640
#define H 400
#define LEFT 70
#define RIGHT 20
#define TOP 40
#define BOTTOM 55

/* A step of 1, 2 or 5 x 10^k giving about 5 ticks over [lo, hi]. */
static double nice_step(double lo, double hi)
{
    double raw = (hi - lo) / 5.0, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void data_range(const clae_series *s, int n, double *x0, double *x1, double *y0, double *y1)
{
    *x0 = *y0 = INFINITY;
    *x1 = *y1 = -INFINITY;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < s[i].n; k++) {
            if (!isfinite(s[i].y[k])) continue;
            *x0 = fmin(*x0, s[i].x[k]), *x1 = fmax(*x1, s[i].x[k]);
            *y0 = fmin(*y0, s[i].y[k]), *y1 = fmax(*y1, s[i].y[k]);
        }
    if (!isfinite(*x0)) *x0 = 0, *x1 = 1, *y0 = 0, *y1 = 1;
    if (*x1 - *x0 < 1e-12) *x0 -= 0.5, *x1 += 0.5;
    double pad = (*y1 - *y0) * 0.05 + 1e-12 + fabs(*y1) * 1e-6;
    *y0 -= pad, *y1 += pad;
}

static void axes(FILE *f, double x0, double x1, double y0, double y1, const char *xlabel,
                 const char *ylabel)
{
    int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
    fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#333'/>\n", LEFT,
            TOP, pw, ph);
    double st = nice_step(y0, y1);
    for (double v = ceil(y0 / st) * st; v <= y1; v += st) {
        double py = TOP + ph * (1 - (v - y0) / (y1 - y0));
        fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/>", LEFT, LEFT + pw, py,
                py);
        fprintf(f, "<text x='%d' y='%.1f' font-size='11' text-anchor='end'>%.4g</text>\n", LEFT - 5,
                py + 4, fabs(v) < 1e-9 * st ? 0.0 : v); /* no "-0" from the stepping */
    }
    st = nice_step(x0, x1);
    if (st < 1 && x1 - x0 >= 1) st = 1;
    for (double v = ceil(x0 / st) * st; v <= x1 + 1e-9; v += st) {
        double px = LEFT + pw * (v - x0) / (x1 - x0);
        fprintf(f, "<text x='%.1f' y='%d' font-size='11' text-anchor='middle'>%.4g</text>\n", px,
                TOP + ph + 16, fabs(v) < 1e-9 * st ? 0.0 : v);
    }
    fprintf(f, "<text x='%d' y='%d' font-size='13' text-anchor='middle'>", LEFT + pw / 2, H - 12);
    clae_svg_text(f, xlabel);
    fprintf(f,
            "</text>\n<text x='16' y='%d' font-size='13' text-anchor='middle' "
            "transform='rotate(-90 16 %d)'>",
            TOP + ph / 2, TOP + ph / 2);
    clae_svg_text(f, ylabel);
    fprintf(f, "</text>\n");
}

int clae_svg_plot(const char *path, const char *title, const char *xlabel, const char *ylabel,
                  const clae_series *series, int n_series, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    FILE *f = a.f;
    double x0, x1, y0, y1;
    data_range(series, n_series, &x0, &x1, &y0, &y1);
    int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
    fprintf(f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
            "font-family='sans-serif'>\n",
            W, H);
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(f, "<text x='%d' y='22' font-size='15' text-anchor='middle'>", W / 2);
    clae_svg_text(f, title);
    fprintf(f, "</text>\n");
    axes(f, x0, x1, y0, y1, xlabel, ylabel);
    for (int i = 0; i < n_series; i++) {
        const clae_series *s = &series[i];
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", s->color);
        for (int k = 0; k < s->n; k++)
            if (isfinite(s->y[k]))
                fprintf(f, "%.1f,%.1f ", LEFT + pw * (s->x[k] - x0) / (x1 - x0),
                        TOP + ph * (1 - (s->y[k] - y0) / (y1 - y0)));
        fprintf(f, "'/>\n");
        for (int k = 0; k < s->n; k++)
            if (isfinite(s->y[k]))
                fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>",
                        LEFT + pw * (s->x[k] - x0) / (x1 - x0),
                        TOP + ph * (1 - (s->y[k] - y0) / (y1 - y0)), s->color);
        fprintf(f, "\n<rect x='%d' y='%d' width='14' height='4' fill='%s'/>", W - RIGHT - 150,
                TOP + 12 + 18 * i, s->color);
        fprintf(f, "<text x='%d' y='%d' font-size='12'>", W - RIGHT - 130, TOP + 18 + 18 * i);
        clae_svg_text(f, s->label);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
    return clae_afile_commit(&a, err);
}

void clae_svg_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '\'')
            fputs("&apos;", f);
        else if ((unsigned char)*s >= 32)
            fputc(*s, f);
    }
}

int clae_svg_bars(const char *path, const char *title, const char *const *labels,
                  const double *values, int n, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    FILE *f = a.f;
    double top = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(values[i])) top = fmax(top, values[i]);
    if (top <= 0) top = 1;
    int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM, slot = n ? pw / n : pw;
    fprintf(f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
            "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
            W, H);
    fprintf(f, "<text x='%d' y='22' font-size='15' text-anchor='middle'>", W / 2);
    clae_svg_text(f, title);
    fprintf(f, "</text>\n<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='#333'/>\n", LEFT, LEFT + pw,
            TOP + ph, TOP + ph);
    for (int i = 0; i < n; i++) {
        double v = isfinite(values[i]) && values[i] > 0 ? values[i] : 0, h = ph * v / top;
        int x = LEFT + i * slot + slot / 6;
        fprintf(f, "<rect x='%d' y='%.1f' width='%d' height='%.1f' fill='#1f77b4'/>", x,
                TOP + ph - h, slot * 2 / 3, h);
        fprintf(f, "<text x='%d' y='%.1f' font-size='12' text-anchor='middle'>%.4g</text>",
                x + slot / 3, TOP + ph - h - 4, v);
        fprintf(f, "<text x='%d' y='%d' font-size='12' text-anchor='middle'>", x + slot / 3,
                TOP + ph + 16);
        clae_svg_text(f, labels[i]);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
    return clae_afile_commit(&a, err);
}
