/* The image codec's host side: a uniform quantiser per code channel, fitted on
 * the training split's codes, with symbol frequencies by context for the
 * entropy coder (clae/rans.h); and the .clae file, one image's quantised code
 * entropy-coded behind a 20-byte header.
 *
 * A code of C channels x H x W positions (a dense code of D units has C = D,
 * H = W = 1) is quantised value by value:
 * symbol = clamp(round((z - lo_c) / step_c), 0, levels_c - 1), decoded as
 * lo_c + symbol step_c. Two ways to fit lo, step and levels:
 *   levels L >= 2: L levels over the channel's 0.1% to 99.9% quantiles;
 *   levels 0 (integer): step 1 over the channel's whole integer range, for
 *     models trained with a quantize layer (their codes are integers).
 *
 * The symbols are coded channel by channel, each channel row by row, and each
 * symbol under the frequencies of its context: the bins of the symbols to its
 * left, above it and at its place in the channel before (each bin one of up
 * to CLAE_CODEC_MAX_BINS ranges of equal training mass, or "none" at an edge),
 * counted over the training codes and smoothed toward the channel's own. */
#ifndef CLAE_CODEC_H
#define CLAE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "clae/error.h"
#include "clae/rans.h"

#define CLAE_CODEC_MAX_LEVELS CLAE_RANS_MAX_SYMBOLS
#define CLAE_CODEC_HEADER_BYTES 20
#define CLAE_CODEC_MAX_BINS 8

typedef struct {
    float lo, step;
    int levels;
    uint8_t *bin;     /* levels: the context bin of each symbol */
    uint32_t *counts; /* contexts x levels: symbol counts by context over the training codes */
} clae_codec_channel;

typedef struct {
    int levels;          /* what was asked: L, or 0 for integer steps */
    int channels;        /* C */
    int height, width;   /* H, W */
    size_t positions;    /* H W */
    int bins;            /* context bins per neighbour (1: one context, the channel's own) */
    size_t contexts;     /* per channel: (bins + 1) for each neighbour the code's shape has */
    uint32_t model_hash; /* of the weights the codes came from */
    uint32_t hash;       /* of all of the above and every channel: what .clae files name */
    clae_codec_channel *ch;
    clae_rans_model *rans; /* channels x contexts, built from the counts */
} clae_codec;

/* Fits the quantiser and the frequencies on n codes (n x C x H x W floats, channel-major). */
int clae_codec_fit(clae_codec *c, const float *codes, size_t n, int channels, int height, int width,
                   int levels, uint32_t model_hash, clae_err *err);
void clae_codec_free(clae_codec *c);
/* One code (C x H x W floats) into symbols and back. */
void clae_codec_quantise(const clae_codec *c, const float *code, uint16_t *symbols);
void clae_codec_dequantise(const clae_codec *c, const uint16_t *symbols, float *code);
/* The entropy-coded size of one code's symbols in bits (what the coder reaches to a few bytes). */
double clae_codec_bits(const clae_codec *c, const uint16_t *symbols);
/* Which of c->rans codes symbol i of a code (it reads only the symbols before i). */
size_t clae_codec_context(const void *codec, const uint16_t *symbols, size_t i);

/* The codec as a file beside the model (atomic; CRC-checked when read). */
int clae_codec_save(const char *path, const clae_codec *c, clae_err *err);
int clae_codec_load(const char *path, clae_codec *c, clae_err *err);

/* What a .clae file's header holds besides the codec's hash. */
typedef struct {
    int version;
    int channels, height, width; /* of the image */
    int levels;                  /* the codec's */
    uint32_t codec_hash;
} clae_codec_header;

/* One image's symbols as a .clae file (atomic). The bytes written go to *bytes (may be NULL). */
int clae_codec_write_file(const char *path, const clae_codec *c, const clae_codec_header *h,
                          const uint16_t *symbols, size_t *bytes, clae_err *err);
/* Reads the header of a .clae file (checking magic, version and the whole file's CRC). */
int clae_codec_read_header(const char *path, clae_codec_header *h, clae_err *err);
/* Reads a .clae file made with codec c: refuses another codec (hash), a truncated, altered or
 * corrupt file, each with one line naming path. */
int clae_codec_read_file(const char *path, const clae_codec *c, clae_codec_header *h,
                         uint16_t *symbols, clae_err *err);

#endif
