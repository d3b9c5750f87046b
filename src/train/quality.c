/* Image quality of a reconstruction: PSNR and SSIM, on the host over a test
 * batch read back once per batch (evaluation only, never in a training step). */
#include <math.h>
#include <stdlib.h>

#include "clae/quality.h"

#define WIN 11
#define SIGMA 1.5

double clae_psnr(const float *y, const float *x, clae_shape s)
{
    size_t n = clae_shape_sample(s);
    double se = 0;
    for (size_t i = 0; i < n; i++) se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
    double mse = se / (double)n;
    if (!(mse >= 0)) return NAN; /* NaN stays NaN, not a perfect 100 dB */
    return mse > 1e-10 ? 10.0 * log10(1.0 / mse) : 100.0;
}

/* Valid (unpadded) separable filtering of one h x w plane by the 1-D window g:
 * rows first into tmp (h x wo), then columns into out (ho x wo). */
static void filter_valid(const double *in, int h, int w, const double *g, double *tmp, double *out)
{
    int ho = h - WIN + 1, wo = w - WIN + 1;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < wo; c++) {
            double a = 0;
            for (int k = 0; k < WIN; k++) a += g[k] * in[r * w + c + k];
            tmp[r * wo + c] = a;
        }
    for (int r = 0; r < ho; r++)
        for (int c = 0; c < wo; c++) {
            double a = 0;
            for (int k = 0; k < WIN; k++) a += g[k] * tmp[(r + k) * wo + c];
            out[r * wo + c] = a;
        }
}

/* The mean SSIM of one plane pair; maps holds 2 * h * w + 6 * ho * wo doubles. */
static double ssim_plane(const float *y, const float *x, int h, int w, const double *g,
                         double *maps)
{
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    size_t hw = (size_t)h * w, o = (size_t)(h - WIN + 1) * (w - WIN + 1);
    double *src = maps, *tmp = maps + hw, *f[5];
    for (int k = 0; k < 5; k++) f[k] = tmp + hw + k * o;
    for (int k = 0; k < 5; k++) { /* E[x], E[y], E[x^2], E[y^2], E[xy] under the window */
        for (size_t i = 0; i < hw; i++) {
            double a = x[i], b = y[i];
            src[i] = k == 0 ? a : k == 1 ? b : k == 2 ? a * a : k == 3 ? b * b : a * b;
        }
        filter_valid(src, h, w, g, tmp, f[k]);
    }
    double sum = 0;
    for (size_t i = 0; i < o; i++) {
        double mx = f[0][i], my = f[1][i], vx = f[2][i] - mx * mx, vy = f[3][i] - my * my,
               cxy = f[4][i] - mx * my;
        sum += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    }
    return sum / (double)o;
}

double clae_ssim(const float *y, const float *x, clae_shape s)
{
    if (s.h < WIN || s.w < WIN) return NAN;
    double g[WIN], gs = 0;
    for (int k = 0; k < WIN; k++)
        gs += g[k] = exp(-(k - WIN / 2) * (k - WIN / 2) / (2 * SIGMA * SIGMA));
    for (int k = 0; k < WIN; k++) g[k] /= gs;
    size_t hw = (size_t)s.h * s.w, o = (size_t)(s.h - WIN + 1) * (s.w - WIN + 1);
    double *maps = malloc((2 * hw + 6 * o) * sizeof *maps);
    if (!maps) return NAN;
    double sum = 0;
    for (int c = 0; c < s.c; c++) sum += ssim_plane(y + c * hw, x + c * hw, s.h, s.w, g, maps);
    free(maps);
    return sum / s.c;
}

double clae_mse(const float *y, const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
    return s / (double)n;
}
