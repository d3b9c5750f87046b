/* PNG decoding: libpng's transforms turn every colour type and bit depth
 * (1-16 bit gray, gray+alpha, RGB, RGBA, palette with tRNS, interlaced) into
 * 8-bit RGBA rows; the alpha is then composited onto the background. libpng
 * reports errors by longjmp: the handler keeps its message for one clear line. */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "clae/afile.h"
#include "clae/image.h"

typedef struct {
    char msg[256];
} png_failure;

static void on_error(png_structp png, png_const_charp msg)
{
    png_failure *f = png_get_error_ptr(png);
    snprintf(f->msg, sizeof f->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static void to_rgba8(png_structp png, png_infop info)
{
    int type = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (depth == 16) png_set_strip_16(png);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (!(type & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_add_alpha(png, 0xFF, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

/* rgba (h x w x 4, 8-bit) over bg -> planar channels */
static void composite(const unsigned char *rgba, int h, int w, int channels, const float bg[3],
                      float *out)
{
    size_t plane = (size_t)h * w;
    for (size_t i = 0; i < plane; i++) {
        const unsigned char *p = rgba + 4 * i;
        float a = p[3] / 255.0f, rgb[3];
        for (int k = 0; k < 3; k++) rgb[k] = a * (p[k] / 255.0f) + (1.0f - a) * bg[k];
        if (channels == 1)
            out[i] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
        else
            for (int k = 0; k < 3; k++) out[k * plane + i] = rgb[k];
    }
}

int clae_png_load(const char *path, int channels, const float bg[3], clae_image *out, clae_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = clae_open_input(path, "rb", "", 0, err);
    if (!f) return -1;
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8)) {
        fclose(f);
        return clae_fail(err, "%s: not a PNG file (bad signature)", path);
    }
    png_failure failure = {""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    unsigned char *volatile rgba = NULL;
    png_bytep *volatile rows = NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(f);
        return clae_fail(err, "%s: out of memory starting libpng", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        free(rgba);
        free(rows);
        clae_image_free(out);
        return clae_fail(err, "%s: corrupt or truncated PNG: %s", path, failure.msg);
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, 16384, 16384);
    png_read_info(png, info);
    to_rgba8(png, info);
    int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
    rgba = malloc((size_t)w * h * 4);
    rows = malloc((size_t)h * sizeof *rows);
    out->px = malloc((size_t)channels * w * h * sizeof(float));
    if (!rgba || !rows || !out->px) png_error(png, "out of memory");
    for (int y = 0; y < h; y++) rows[y] = rgba + (size_t)y * w * 4;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    out->c = channels, out->h = h, out->w = w;
    composite(rgba, h, w, channels, bg, out->px);
    free(rgba);
    free(rows);
    return 0;
}

void clae_image_free(clae_image *img)
{
    free(img->px);
    img->px = NULL;
}
