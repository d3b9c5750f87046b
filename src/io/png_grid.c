/* Image grids with libpng: rows of samples separated by a 2-pixel gutter. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "clae/io.h"

#define GUTTER 2

static unsigned char to_byte(float v)
{
    if (!(v > 0.0f)) return 0; /* NaN shows black */
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

/* Fills an 8-bit image (width x height x channels) from the rows of samples. */
static void paint(unsigned char *img, int width, int channels, const float *const *rows, int n_rows,
                  int n_cols, clae_shape s, int scale)
{
    int cell_w = s.w * scale + GUTTER, cell_h = s.h * scale + GUTTER;
    size_t plane = (size_t)s.h * s.w;
    for (int r = 0; r < n_rows; r++)
        for (int c = 0; c < n_cols; c++) {
            const float *sample = rows[r] + (size_t)c * plane * s.c;
            for (int y = 0; y < s.h * scale; y++)
                for (int x = 0; x < s.w * scale; x++) {
                    size_t src = (size_t)(y / scale) * s.w + (size_t)(x / scale);
                    unsigned char *px = img + ((size_t)(r * cell_h + GUTTER + y) * width +
                                               (size_t)(c * cell_w + GUTTER + x)) *
                                                  channels;
                    for (int k = 0; k < channels; k++)
                        px[k] = to_byte(sample[(s.c == 1 ? 0 : k) * plane + src]);
                }
        }
}

static int write_png(FILE *f, const unsigned char *img, int width, int height, int channels)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, img + (size_t)y * width * channels);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int clae_png_write(const char *path, const unsigned char *img, int width, int height, int channels,
                   clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    if (write_png(a.f, img, width, height, channels)) {
        clae_afile_abort(&a);
        return clae_fail(err, "%s: libpng failed to encode the picture", path);
    }
    return clae_afile_commit(&a, err);
}

int clae_png_grid(const char *path, const float *const *rows, int n_rows, int n_cols,
                  clae_shape sample, int scale, clae_err *err)
{
    int channels = sample.c == 3 ? 3 : 1;
    if (sample.c != 1 && sample.c != 3)
        return clae_fail(err, "%s: a grid shows 1- or 3-channel images, not %d channels", path,
                         sample.c);
    int width = n_cols * (sample.w * scale + GUTTER) + GUTTER,
        height = n_rows * (sample.h * scale + GUTTER) + GUTTER;
    unsigned char *img = malloc((size_t)width * height * channels);
    if (!img) return clae_fail(err, "%s: out of host memory", path);
    memset(img, 255, (size_t)width * height * channels);
    paint(img, width, channels, rows, n_rows, n_cols, sample, scale);
    int rc = clae_png_write(path, img, width, height, channels, err);
    free(img);
    return rc;
}

void clae_planar_to_bytes(const float *planar, clae_shape s, unsigned char *hwc)
{
    size_t plane = (size_t)s.h * s.w;
    for (size_t i = 0; i < plane; i++)
        for (int k = 0; k < s.c; k++) hwc[i * s.c + k] = to_byte(planar[k * plane + i]);
}

int clae_png_image(const char *path, const float *planar, clae_shape s, clae_err *err)
{
    unsigned char *img = malloc((size_t)s.c * s.h * s.w);
    if (!img) return clae_fail(err, "out of host memory for %s", path);
    clae_planar_to_bytes(planar, s, img);
    int rc = clae_png_write(path, img, s.w, s.h, s.c, err);
    free(img);
    return rc;
}
