/* The codecs clae rd measures the autoencoder against: JPEG (libjpeg-turbo,
 * its defaults: 4:2:0 chroma, standard Huffman tables, as Pillow and cjpeg
 * write) and lossy WebP (libwebp's simple API: method 4, as Pillow), each an
 * in-memory round trip of one 8-bit image. Either may be missing from a build
 * (meson features jpeg, webp); clae_ref_available says so. */
#ifndef CLAE_REF_CODECS_H
#define CLAE_REF_CODECS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clae/error.h"

#define CLAE_REF_LIST(X) X(JPEG, jpeg) X(WEBP, webp)
#define CLAE_X_REF(id, name) CLAE_REF_##id,
typedef enum { CLAE_REF_LIST(CLAE_X_REF) CLAE_N_REF } clae_ref_codec;
#undef CLAE_X_REF

const char *clae_ref_name(clae_ref_codec k);
bool clae_ref_available(clae_ref_codec k);
/* img: h x w x channels bytes (1 gray, 3 RGB), interleaved. Compresses it at quality (JPEG
 * 1..100, WebP 0..100), decodes the bytes into out (the same layout) and gives their count. */
int clae_ref_roundtrip(clae_ref_codec k, const uint8_t *img, int w, int h, int channels,
                       int quality, uint8_t *out, size_t *bytes, clae_err *err);

#endif
