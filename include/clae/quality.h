/* Image quality of a reconstruction y against x (one image of shape s,
 * values in [0, 1]). PSNR in dB (data range 1; capped at 100 for identical
 * images). SSIM as Wang et al. 2004 and pytorch_msssim: 11x11 Gaussian window
 * (sigma 1.5) over the valid region, K1 0.01, K2 0.03, data range 1, mean
 * over channels and positions; NaN when the image is smaller than the window. */
#ifndef CLAE_QUALITY_H
#define CLAE_QUALITY_H

#include "clae/tensor.h"

double clae_psnr(const float *y, const float *x, clae_shape s);
/* Mean squared difference of n values (in double). */
double clae_mse(const float *y, const float *x, size_t n);
double clae_ssim(const float *y, const float *x, clae_shape s);

#endif
