/* Host images: PNG decoding with libpng (every colour type and bit depth,
 * interlaced or not), alpha composited onto a background, and resizing. */
#ifndef CLAE_IMAGE_H
#define CLAE_IMAGE_H

#include "clae/error.h"

typedef struct {
    int c, h, w;
    float *px; /* planar C x H x W, values in [0, 1] */
} clae_image;

/* Decodes path into channels (1: gray, 3: RGB) over the background bg (RGB in [0, 1]).
 * A corrupt or truncated file is an error naming the file. */
int clae_png_load(const char *path, int channels, const float bg[3], clae_image *out,
                  clae_err *err);
/* Area averaging where an axis shrinks, bilinear (align_corners=False) where it grows. */
int clae_image_resize(const clae_image *in, int h, int w, clae_image *out, clae_err *err);
void clae_image_free(clae_image *img);

#endif
