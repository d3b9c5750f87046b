/* Entropy coding of quantised codes (the image codec's back end): a static
 * model of symbol frequencies scaled to 2^16 and a byte-wise rANS coder
 * (Duda's asymmetric numeral systems, 32-bit state, as in Giesen's ryg_rans).
 * The decoder checks that it ends in the encoder's starting state with every
 * byte consumed, which catches truncation and nearly all corruption. */
#ifndef CLAE_RANS_H
#define CLAE_RANS_H

#include <stddef.h>
#include <stdint.h>

#include "clae/error.h"

#define CLAE_RANS_SCALE_BITS 16
#define CLAE_RANS_MAX_SYMBOLS 4096

/* Frequencies of n symbols, each at least 1 (so any symbol can be coded), summing to 2^16:
 * freq[s], and start[s] the sum of the frequencies below s (one allocation, the build's). */
typedef struct {
    int n;
    uint32_t *freq, *start;
} clae_rans_model;

/* From counts (n symbols, 1 to CLAE_RANS_MAX_SYMBOLS): scaled, every symbol kept above 0. */
int clae_rans_model_build(const uint64_t *counts, int n, clae_rans_model *m, clae_err *err);
void clae_rans_model_free(clae_rans_model *m);

/* The size of symbols under the model, in bits (the sum of -log2 p): what the coder reaches
 * to within its 4-byte flush and rounding. */
double clae_rans_bits(const clae_rans_model *m, const uint16_t *symbols, size_t n);
/* Encodes n symbols (each below m->n) into out (cap bytes); the bytes written, or 0 when out
 * is too small (err says how much is needed at least) or a symbol is out of range. */
size_t clae_rans_encode(const clae_rans_model *m, const uint16_t *symbols, size_t n, uint8_t *out,
                        size_t cap, clae_err *err);
/* Decodes n symbols from in (len bytes); -1 with err set when the bytes are truncated, too
 * many or corrupt. */
int clae_rans_decode(const clae_rans_model *m, const uint8_t *in, size_t len, uint16_t *symbols,
                     size_t n, clae_err *err);

/* The same with a model per symbol, chosen from those before it (a context model): symbol i is
 * coded under models[choose(user, symbols, i)], and choose may read symbols[0 .. i-1] only,
 * since the decoder knows no more when it asks. */
typedef size_t (*clae_rans_choose)(const void *user, const uint16_t *symbols, size_t i);
double clae_rans_bits_with(const clae_rans_model *models, clae_rans_choose choose, const void *user,
                           const uint16_t *symbols, size_t n);
size_t clae_rans_encode_with(const clae_rans_model *models, clae_rans_choose choose,
                             const void *user, const uint16_t *symbols, size_t n, uint8_t *out,
                             size_t cap, clae_err *err);
int clae_rans_decode_with(const clae_rans_model *models, clae_rans_choose choose, const void *user,
                          const uint8_t *in, size_t len, uint16_t *symbols, size_t n,
                          clae_err *err);

#endif
