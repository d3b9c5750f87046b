/* Image resizing, one axis at a time: area averaging when an axis shrinks (each
 * output value is the mean of the input span it covers, fractions weighted),
 * bilinear with half-pixel centres (align_corners=False) when it grows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/image.h"

/* out[o * ostride] for o < out_n from in[i * istride] for i < in_n */
static void resample_line(const float *in, int in_n, int istride, float *out, int out_n,
                          int ostride)
{
    double scale = (double)in_n / out_n;
    for (int o = 0; o < out_n; o++) {
        double acc = 0;
        if (scale > 1.0) { /* shrink: average [o*scale, (o+1)*scale) */
            double a = o * scale, b = a + scale;
            for (int i = (int)floor(a); i < (int)ceil(b) && i < in_n; i++) {
                double cover = fmin(b, i + 1.0) - fmax(a, (double)i);
                acc += cover * in[(size_t)i * istride];
            }
            acc /= scale;
        } else { /* grow or keep: bilinear */
            double src = (o + 0.5) * scale - 0.5;
            if (src < 0) src = 0;
            int i0 = (int)src, i1 = i0 + 1 < in_n ? i0 + 1 : in_n - 1;
            double l = src - i0;
            acc = (1 - l) * in[(size_t)i0 * istride] + l * in[(size_t)i1 * istride];
        }
        out[(size_t)o * ostride] = (float)acc;
    }
}

int clae_image_resize(const clae_image *in, int h, int w, clae_image *out, clae_err *err)
{
    out->c = in->c, out->h = h, out->w = w;
    float *tmp = malloc((size_t)in->c * in->h * w * sizeof(float));
    out->px = malloc((size_t)in->c * h * w * sizeof(float));
    if (!tmp || !out->px) {
        free(tmp);
        clae_image_free(out);
        return clae_fail(err, "out of host memory resizing an image");
    }
    for (int c = 0; c < in->c; c++) {
        const float *src = in->px + (size_t)c * in->h * in->w;
        float *mid = tmp + (size_t)c * in->h * w, *dst = out->px + (size_t)c * h * w;
        for (int y = 0; y < in->h; y++)
            resample_line(src + (size_t)y * in->w, in->w, 1, mid + (size_t)y * w, w, 1);
        for (int x = 0; x < w; x++) resample_line(mid + x, in->h, w, dst + x, h, w);
    }
    free(tmp);
    return 0;
}
