/* JPEG and WebP round trips in memory (clae/ref_codecs.h). */
#include <stdlib.h>
#include <string.h>

#include "clae/ref_codecs.h"

#ifdef CLAE_HAVE_JPEG
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE */

#include <jpeglib.h>
#endif
#ifdef CLAE_HAVE_WEBP
#include <webp/decode.h>
#include <webp/encode.h>
#endif

const char *clae_ref_name(clae_ref_codec k)
{
#define CLAE_X_REF(id, name) #name,
    static const char *const names[] = {CLAE_REF_LIST(CLAE_X_REF)};
#undef CLAE_X_REF
    return (unsigned)k < CLAE_N_REF ? names[k] : "?";
}

bool clae_ref_available(clae_ref_codec k)
{
#ifdef CLAE_HAVE_JPEG
    if (k == CLAE_REF_JPEG) return true;
#endif
#ifdef CLAE_HAVE_WEBP
    if (k == CLAE_REF_WEBP) return true;
#endif
    (void)k;
    return false;
}

#ifdef CLAE_HAVE_JPEG
typedef struct {
    struct jpeg_error_mgr mgr;
    jmp_buf back;
    char msg[JMSG_LENGTH_MAX];
} jpeg_failure;

/* libjpeg's errors end in exit() by default: jump back and report instead */
static void jpeg_fail_jump(j_common_ptr c)
{
    jpeg_failure *f = (jpeg_failure *)c->err;
    f->mgr.format_message(c, f->msg);
    longjmp(f->back, 1);
}

static int jpeg_compress_bytes(const uint8_t *img, int w, int h, int channels, int quality,
                               unsigned char **buf, unsigned long *len, clae_err *err)
{
    struct jpeg_compress_struct c;
    jpeg_failure f;
    c.err = jpeg_std_error(&f.mgr);
    f.mgr.error_exit = jpeg_fail_jump;
    if (setjmp(f.back)) {
        jpeg_destroy_compress(&c);
        return clae_fail(err, "libjpeg: %s", f.msg);
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, buf, len);
    c.image_width = (JDIMENSION)w, c.image_height = (JDIMENSION)h;
    c.input_components = channels;
    c.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(img + (size_t)c.next_scanline * (size_t)w * (size_t)channels);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return 0;
}

static int jpeg_decompress_bytes(const unsigned char *buf, unsigned long len, int w, int h,
                                 int channels, uint8_t *out, clae_err *err)
{
    struct jpeg_decompress_struct d;
    jpeg_failure f;
    d.err = jpeg_std_error(&f.mgr);
    f.mgr.error_exit = jpeg_fail_jump;
    if (setjmp(f.back)) {
        jpeg_destroy_decompress(&d);
        return clae_fail(err, "libjpeg: %s", f.msg);
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, buf, len);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&d);
    int rc = (int)d.output_width == w && (int)d.output_height == h &&
                     d.output_components == channels
                 ? 0
                 : -1;
    while (rc == 0 && d.output_scanline < d.output_height) {
        JSAMPROW row = out + (size_t)d.output_scanline * (size_t)w * (size_t)channels;
        jpeg_read_scanlines(&d, &row, 1);
    }
    if (rc == 0) jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    return rc ? clae_fail(err, "libjpeg decoded another shape than it encoded") : 0;
}

static int jpeg_roundtrip(const uint8_t *img, int w, int h, int channels, int quality, uint8_t *out,
                          size_t *bytes, clae_err *err)
{
    unsigned char *buf = NULL;
    unsigned long len = 0;
    int rc = jpeg_compress_bytes(img, w, h, channels, quality, &buf, &len, err);
    if (rc == 0) rc = jpeg_decompress_bytes(buf, len, w, h, channels, out, err);
    *bytes = len;
    free(buf);
    return rc;
}
#endif

#ifdef CLAE_HAVE_WEBP
/* WebP codes RGB: a gray image goes in as three equal channels and comes back as their mean */
static int webp_roundtrip(const uint8_t *img, int w, int h, int channels, int quality, uint8_t *out,
                          size_t *bytes, clae_err *err)
{
    size_t px = (size_t)w * (size_t)h;
    uint8_t *rgb = channels == 3 ? (uint8_t *)img : malloc(px * 3), *coded = NULL;
    if (!rgb) return clae_fail(err, "out of host memory");
    for (size_t i = 0; channels == 1 && i < px; i++)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = img[i];
    size_t len = WebPEncodeRGB(rgb, w, h, w * 3, (float)quality, &coded);
    int dw = 0, dh = 0;
    uint8_t *back = len ? WebPDecodeRGB(coded, len, &dw, &dh) : NULL;
    int rc = back && dw == w && dh == h ? 0
                                        : clae_fail(err, "libwebp failed at quality %d", quality);
    for (size_t i = 0; rc == 0 && i < px; i++) {
        if (channels == 3)
            memcpy(out + 3 * i, back + 3 * i, 3);
        else
            out[i] = (uint8_t)((back[3 * i] + back[3 * i + 1] + back[3 * i + 2] + 1) / 3);
    }
    *bytes = len;
    WebPFree(back);
    WebPFree(coded);
    if (rgb != img) free(rgb);
    return rc;
}
#endif

int clae_ref_roundtrip(clae_ref_codec k, const uint8_t *img, int w, int h, int channels,
                       int quality, uint8_t *out, size_t *bytes, clae_err *err)
{
    if (channels != 1 && channels != 3)
        return clae_fail(err, "%s: images of %d channels: expected 1 or 3", clae_ref_name(k),
                         channels);
#ifdef CLAE_HAVE_JPEG
    if (k == CLAE_REF_JPEG) return jpeg_roundtrip(img, w, h, channels, quality, out, bytes, err);
#endif
#ifdef CLAE_HAVE_WEBP
    if (k == CLAE_REF_WEBP) return webp_roundtrip(img, w, h, channels, quality, out, bytes, err);
#endif
    (void)img, (void)w, (void)h, (void)quality, (void)out, (void)bytes;
    return clae_fail(err,
                     "this clae was built without %s (install lib%s's -dev package and "
                     "rebuild)",
                     clae_ref_name(k), clae_ref_name(k));
}
