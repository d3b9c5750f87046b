/* rANS with a static model (clae/rans.h). The encoder runs over the symbols
 * backwards and writes bytes from the end of its buffer, so the decoder reads
 * forwards: state x in [L, 256 L), L = 2^23; a symbol of frequency f at start
 * s maps x to (x / f) 2^16 + x mod f + s, renormalising a byte at a time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/rans.h"

#define TOTAL (1u << CLAE_RANS_SCALE_BITS)
#define LOW (1u << 23)

int clae_rans_model_build(const uint64_t *counts, int n, clae_rans_model *m, clae_err *err)
{
    if (n < 1 || n > CLAE_RANS_MAX_SYMBOLS)
        return clae_fail(err, "an entropy model of %d symbols: expected 1 to %d", n,
                         CLAE_RANS_MAX_SYMBOLS);
    memset(m, 0, sizeof *m);
    if (!(m->freq = calloc(2 * (size_t)n, sizeof *m->freq)))
        return clae_fail(err, "out of host memory for an entropy model of %d symbols", n);
    m->start = m->freq + n, m->n = n;
    long double sum = 0;
    for (int i = 0; i < n; i++) sum += (long double)counts[i];
    /* every symbol gets 1, the rest of the total is shared by count */
    uint32_t spare = TOTAL - (uint32_t)n, used = 0;
    for (int i = 0; i < n; i++) {
        uint32_t extra = sum > 0 ? (uint32_t)floorl(spare * ((long double)counts[i] / sum)) : 0;
        m->freq[i] = 1 + extra, used += m->freq[i];
    }
    /* what rounding left goes to the most frequent symbol */
    int big = 0;
    for (int i = 1; i < n; i++)
        if (m->freq[i] > m->freq[big]) big = i;
    m->freq[big] += TOTAL - used;
    for (int i = 1; i < n; i++) m->start[i] = m->start[i - 1] + m->freq[i - 1];
    return 0;
}

void clae_rans_model_free(clae_rans_model *m)
{
    free(m->freq);
    memset(m, 0, sizeof *m);
}

static size_t only_model(const void *user, const uint16_t *symbols, size_t i)
{
    (void)user, (void)symbols, (void)i;
    return 0;
}

double clae_rans_bits_with(const clae_rans_model *models, clae_rans_choose choose, const void *user,
                           const uint16_t *symbols, size_t n)
{
    double bits = 0;
    for (size_t i = 0; i < n; i++)
        bits += CLAE_RANS_SCALE_BITS -
                log2((double)models[choose(user, symbols, i)].freq[symbols[i]]);
    return bits;
}

double clae_rans_bits(const clae_rans_model *m, const uint16_t *symbols, size_t n)
{
    return clae_rans_bits_with(m, only_model, NULL, symbols, n);
}

size_t clae_rans_encode_with(const clae_rans_model *models, clae_rans_choose choose,
                             const void *user, const uint16_t *symbols, size_t n, uint8_t *out,
                             size_t cap, clae_err *err)
{
    uint32_t x = LOW;
    size_t at = cap; /* bytes go to out[at - 1], out[at - 2], ... */
    for (size_t i = n; i-- > 0;) {
        const clae_rans_model *m = &models[choose(user, symbols, i)];
        if (symbols[i] >= m->n) {
            clae_fail(err, "symbol %zu is %u: the model has %d", i, symbols[i], m->n);
            return 0;
        }
        uint32_t f = m->freq[symbols[i]], x_max = ((LOW >> CLAE_RANS_SCALE_BITS) << 8) * f;
        while (x >= x_max) {
            if (at == 0) goto full;
            out[--at] = (uint8_t)(x & 0xFF), x >>= 8;
        }
        x = ((x / f) << CLAE_RANS_SCALE_BITS) + (x % f) + m->start[symbols[i]];
    }
    for (int k = 0; k < 4; k++) { /* the final state, most significant byte first */
        if (at == 0) goto full;
        out[--at] = (uint8_t)(x >> (8 * k));
    }
    memmove(out, out + at, cap - at);
    return cap - at;
full:
    clae_fail(err, "the coded symbols need more than %zu bytes", cap);
    return 0;
}

size_t clae_rans_encode(const clae_rans_model *m, const uint16_t *symbols, size_t n, uint8_t *out,
                        size_t cap, clae_err *err)
{
    return clae_rans_encode_with(m, only_model, NULL, symbols, n, out, cap, err);
}

/* The symbol whose interval holds slot: a binary search over the starts. */
static int symbol_at(const clae_rans_model *m, uint32_t slot)
{
    int lo = 0, hi = m->n - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (m->start[mid] <= slot)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int clae_rans_decode_with(const clae_rans_model *models, clae_rans_choose choose, const void *user,
                          const uint8_t *in, size_t len, uint16_t *symbols, size_t n, clae_err *err)
{
    if (len < 4) return clae_fail(err, "coded symbols of %zu bytes: at least 4 expected", len);
    uint32_t x = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
    size_t at = 4;
    for (size_t i = 0; i < n; i++) {
        if (x < LOW) return clae_fail(err, "corrupt coded symbols (state out of range)");
        const clae_rans_model *m = &models[choose(user, symbols, i)];
        uint32_t slot = x & (TOTAL - 1);
        int s = symbol_at(m, slot);
        symbols[i] = (uint16_t)s;
        x = m->freq[s] * (x >> CLAE_RANS_SCALE_BITS) + slot - m->start[s];
        while (x < LOW) {
            if (at == len)
                return clae_fail(err,
                                 "truncated coded symbols: %zu bytes end before symbol %zu "
                                 "of %zu",
                                 len, i + 1, n);
            x = x << 8 | in[at++];
        }
    }
    if (x != LOW || at != len)
        return clae_fail(err, "corrupt coded symbols: %s",
                         at != len ? "bytes left over" : "the final state is off");
    return 0;
}

int clae_rans_decode(const clae_rans_model *m, const uint8_t *in, size_t len, uint16_t *symbols,
                     size_t n, clae_err *err)
{
    return clae_rans_decode_with(m, only_model, NULL, in, len, symbols, n, err);
}
