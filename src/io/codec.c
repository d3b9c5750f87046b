/* The codec's quantiser and symbol frequencies (clae/codec.h): fitted on
 * training codes, applied to one code at a time, saved beside the model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clae/hash.h"
#include "clae/afile.h"
#include "clae/codec.h"

static const char TABLE_MAGIC[8] = {'C', 'L', 'A', 'E', 'C', 'D', 'C', '1'};

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* lo, step and levels of one channel from its m sorted values */
static int fit_range(clae_codec_channel *ch, const float *sorted, size_t m, int levels,
                     clae_err *err)
{
    if (levels == 0) { /* integer codes: every integer between the extremes */
        double lo = floor(sorted[0]), hi = ceil(sorted[m - 1]);
        if (hi - lo + 1 > CLAE_CODEC_MAX_LEVELS)
            return clae_fail(err,
                             "the code spans %.0f integers (%g to %g): the coder takes at most %d; "
                             "quantise with --levels instead",
                             hi - lo + 1, lo, hi, CLAE_CODEC_MAX_LEVELS);
        ch->lo = (float)lo, ch->step = 1.0f, ch->levels = (int)(hi - lo + 1);
        return 0;
    }
    /* uniform levels over the central 99.8%: outliers clamp instead of stretching every step */
    float lo = sorted[(size_t)(0.001 * (double)(m - 1))],
          hi = sorted[(size_t)ceil(0.999 * (double)(m - 1))];
    ch->lo = lo, ch->levels = levels;
    ch->step = hi > lo ? (hi - lo) / (float)(levels - 1) : 1.0f;
    return 0;
}

static inline int symbol_of(const clae_codec_channel *ch, float z)
{
    float q = rintf((z - ch->lo) / ch->step);
    if (!(q >= 0)) return 0; /* NaN too: the decoder's first level, never an out-of-range symbol */
    return q > (float)(ch->levels - 1) ? ch->levels - 1 : (int)q;
}

/* The table's bytes (without its CRC), what its hash and its file are made of; malloc'ed. */
static unsigned char *serialise(const clae_codec *c, size_t *len)
{
    size_t n = sizeof TABLE_MAGIC + 4 * 4 + 8;
    for (int k = 0; k < c->channels; k++) n += 12 + 4 * (size_t)c->ch[k].levels;
    unsigned char *b = malloc(n), *p = b;
    if (!b) return NULL;
    uint32_t head[4] = {(uint32_t)c->levels, (uint32_t)c->channels, c->model_hash, 0};
    uint64_t positions = c->positions;
    memcpy(p, TABLE_MAGIC, sizeof TABLE_MAGIC), p += sizeof TABLE_MAGIC;
    memcpy(p, head, sizeof head), p += sizeof head;
    memcpy(p, &positions, 8), p += 8;
    for (int k = 0; k < c->channels; k++) {
        const clae_codec_channel *ch = &c->ch[k];
        uint32_t levels = (uint32_t)ch->levels;
        memcpy(p, &ch->lo, 4), memcpy(p + 4, &ch->step, 4), memcpy(p + 8, &levels, 4), p += 12;
        memcpy(p, ch->counts, 4 * (size_t)ch->levels), p += 4 * (size_t)ch->levels;
    }
    *len = n;
    return b;
}

/* The entropy models from the counts, and the hash over everything. */
static int finish(clae_codec *c, clae_err *err)
{
    c->rans = malloc((size_t)c->channels * sizeof *c->rans);
    uint64_t *wide = malloc(CLAE_CODEC_MAX_LEVELS * sizeof *wide);
    size_t len = 0;
    unsigned char *bytes = c->rans && wide ? serialise(c, &len) : NULL;
    int rc = bytes ? 0
                   : clae_fail(err, "out of host memory for a codec of %d channels", c->channels);
    for (int k = 0; rc == 0 && k < c->channels; k++) {
        for (int s = 0; s < c->ch[k].levels; s++) wide[s] = c->ch[k].counts[s];
        rc = clae_rans_model_build(wide, c->ch[k].levels, &c->rans[k], err);
    }
    if (rc == 0) c->hash = clae_fnv1a32(CLAE_FNV32_BASIS, bytes, len);
    free(bytes);
    free(wide);
    return rc;
}

static int alloc_channels(clae_codec *c, int channels, clae_err *err)
{
    if (channels < 1 || channels > 1 << 20)
        return clae_fail(err, "a codec of %d channels: expected 1 to %d", channels, 1 << 20);
    c->channels = channels;
    c->ch = calloc((size_t)channels, sizeof *c->ch);
    return c->ch ? 0 : clae_fail(err, "out of host memory for a codec of %d channels", channels);
}

int clae_codec_fit(clae_codec *c, const float *codes, size_t n, int channels, size_t positions,
                   int levels, uint32_t model_hash, clae_err *err)
{
    memset(c, 0, sizeof *c);
    if (levels != 0 && (levels < 2 || levels > CLAE_CODEC_MAX_LEVELS))
        return clae_fail(err, "--levels %d: expected 2 to %d (or 0: the code's integers)", levels,
                         CLAE_CODEC_MAX_LEVELS);
    if (n == 0 || positions == 0) return clae_fail(err, "no codes to fit the codec on");
    if (alloc_channels(c, channels, err)) return -1;
    c->levels = levels, c->positions = positions, c->model_hash = model_hash;
    size_t m = n * positions, stride = (size_t)channels * positions;
    float *values = malloc(m * sizeof *values);
    int rc = values ? 0 : clae_fail(err, "out of host memory for %zu code values", m);
    for (int k = 0; rc == 0 && k < channels; k++) {
        for (size_t i = 0; i < n; i++)
            memcpy(values + i * positions, codes + i * stride + (size_t)k * positions,
                   positions * sizeof *values);
        for (size_t i = 0; rc == 0 && i < m; i++)
            if (!isfinite(values[i]))
                rc = clae_fail(err, "code %zu holds %g in channel %d", i / positions, values[i], k);
        if (rc) break;
        qsort(values, m, sizeof *values, cmp_float);
        clae_codec_channel *ch = &c->ch[k];
        rc = fit_range(ch, values, m, levels, err);
        if (rc == 0 && !(ch->counts = calloc((size_t)ch->levels, sizeof *ch->counts)))
            rc = clae_fail(err, "out of host memory");
        for (size_t i = 0; rc == 0 && i < m; i++) ch->counts[symbol_of(ch, values[i])]++;
    }
    free(values);
    if (rc == 0) rc = finish(c, err);
    if (rc) clae_codec_free(c);
    return rc;
}

void clae_codec_free(clae_codec *c)
{
    for (int k = 0; c->ch && k < c->channels; k++) free(c->ch[k].counts);
    free(c->ch);
    free(c->rans);
    memset(c, 0, sizeof *c);
}

void clae_codec_quantise(const clae_codec *c, const float *code, uint16_t *symbols)
{
    for (int k = 0; k < c->channels; k++)
        for (size_t p = 0; p < c->positions; p++) {
            size_t i = (size_t)k * c->positions + p;
            symbols[i] = (uint16_t)symbol_of(&c->ch[k], code[i]);
        }
}

void clae_codec_dequantise(const clae_codec *c, const uint16_t *symbols, float *code)
{
    for (int k = 0; k < c->channels; k++)
        for (size_t p = 0; p < c->positions; p++) {
            size_t i = (size_t)k * c->positions + p;
            code[i] = c->ch[k].lo + (float)symbols[i] * c->ch[k].step;
        }
}

double clae_codec_bits(const clae_codec *c, const uint16_t *symbols)
{
    return clae_rans_bits_grouped(c->rans, c->positions, symbols,
                                  (size_t)c->channels * c->positions);
}

int clae_codec_save(const char *path, const clae_codec *c, clae_err *err)
{
    size_t len = 0;
    unsigned char *bytes = serialise(c, &len);
    if (!bytes) return clae_fail(err, "out of host memory");
    uint32_t crc = (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), bytes, len);
    clae_afile a;
    int rc = clae_afile_open(&a, path, err);
    if (rc == 0 && (fwrite(bytes, 1, len, a.f) != len || fwrite(&crc, 4, 1, a.f) != 1)) {
        clae_afile_abort(&a);
        rc = clae_fail(err, "%s: write failed", path);
    } else if (rc == 0) {
        rc = clae_afile_commit(&a, err);
    }
    free(bytes);
    return rc;
}

/* Parses the channels of a table's bytes at p (end: its end). */
static int parse_channels(clae_codec *c, const unsigned char *p, const unsigned char *end,
                          const char *path, clae_err *err)
{
    for (int k = 0; k < c->channels; k++) {
        clae_codec_channel *ch = &c->ch[k];
        uint32_t levels;
        if (end - p < 12) return clae_fail(err, "%s: truncated codec table", path);
        memcpy(&ch->lo, p, 4), memcpy(&ch->step, p + 4, 4), memcpy(&levels, p + 8, 4), p += 12;
        if (levels < 1 || levels > CLAE_CODEC_MAX_LEVELS || (size_t)(end - p) < 4 * levels ||
            !isfinite(ch->lo) || !(ch->step > 0))
            return clae_fail(err, "%s: corrupt codec table (channel %d)", path, k);
        ch->levels = (int)levels;
        if (!(ch->counts = malloc(4 * (size_t)levels))) return clae_fail(err, "out of memory");
        memcpy(ch->counts, p, 4 * (size_t)levels), p += 4 * (size_t)levels;
    }
    return p == end ? 0 : clae_fail(err, "%s: corrupt codec table (bytes left over)", path);
}

int clae_codec_load(const char *path, clae_codec *c, clae_err *err)
{
    memset(c, 0, sizeof *c);
    unsigned char *b;
    size_t len;
    if (clae_read_whole(path, "codec table", 1u << 30, &b, &len, err)) return -1;
    size_t head = sizeof TABLE_MAGIC + 4 * 4 + 8;
    uint32_t crc = 0, fields[4];
    uint64_t positions = 0;
    int rc = 0;
    if (len < head + 4 || memcmp(b, TABLE_MAGIC, sizeof TABLE_MAGIC) != 0)
        rc = clae_fail(err, "%s: not a clae codec table", path);
    if (rc == 0) memcpy(&crc, b + len - 4, 4);
    if (rc == 0 && crc != (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), b, len - 4))
        rc = clae_fail(err, "%s: corrupt codec table (CRC mismatch)", path);
    if (rc == 0) {
        memcpy(fields, b + sizeof TABLE_MAGIC, sizeof fields);
        memcpy(&positions, b + sizeof TABLE_MAGIC + sizeof fields, 8);
        c->levels = (int)fields[0], c->model_hash = fields[2], c->positions = positions;
        rc = alloc_channels(c, (int)fields[1], err);
    }
    if (rc == 0) rc = parse_channels(c, b + head, b + len - 4, path, err);
    if (rc == 0) rc = finish(c, err);
    free(b);
    if (rc) clae_codec_free(c);
    return rc;
}
