/* The codec's quantiser and symbol frequencies (clae/codec.h): fitted on
 * training codes, applied to one code at a time, saved beside the model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clae/hash.h"
#include "clae/afile.h"
#include "clae/codec.h"

static const char TABLE_MAGIC[8] = {'C', 'L', 'A', 'E', 'C', 'D', 'C', '2'};

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

/* The number of contexts per channel at bins: a neighbour the code's shape has takes bins + 1
 * values (its bin, or none at an edge). */
static size_t contexts_at(const clae_codec *c, int bins)
{
    size_t per = (size_t)bins + 1;
    return (c->width > 1 ? per : 1) * (c->height > 1 ? per : 1) * (c->channels > 1 ? per : 1);
}

size_t clae_codec_context(const void *codec, const uint16_t *symbols, size_t i)
{
    const clae_codec *c = codec;
    size_t k = i / c->positions, p = i % c->positions, none = (size_t)c->bins, ctx = 0;
    size_t y = p / (size_t)c->width, x = p % (size_t)c->width;
    const uint8_t *bin = c->ch[k].bin;
    if (c->width > 1) ctx = x ? bin[symbols[i - 1]] : none;
    if (c->height > 1) ctx = ctx * (none + 1) + (y ? bin[symbols[i - (size_t)c->width]] : none);
    if (c->channels > 1)
        ctx = ctx * (none + 1) + (k ? c->ch[k - 1].bin[symbols[i - c->positions]] : none);
    return k * c->contexts + ctx;
}

/* The most bins (8, 6, 4, 2, then 1) whose counts stay within 2^23 entries in all, so that a
 * code of many channels or levels keeps a table of tens of MiB at most. */
#define MAX_ENTRIES (1u << 23)
static void choose_bins(clae_codec *c)
{
    static const int tries[] = {CLAE_CODEC_MAX_BINS, 6, 4, 2, 1};
    size_t levels = 0;
    for (int k = 0; k < c->channels; k++) levels += (size_t)c->ch[k].levels;
    for (size_t t = 0; t < sizeof tries / sizeof tries[0]; t++) {
        c->bins = tries[t], c->contexts = contexts_at(c, c->bins);
        if (c->contexts * levels <= MAX_ENTRIES) return;
    }
}

/* Each symbol's bin: the bin of the middle of its share of the channel's training mass, so the
 * bins hold about equal mass and follow the symbols' order. */
static void fill_bins(clae_codec_channel *ch, const uint64_t *marginal, int bins)
{
    uint64_t total = 0, below = 0;
    for (int s = 0; s < ch->levels; s++) total += marginal[s];
    for (int s = 0; s < ch->levels; s++) {
        double middle = ((double)below + 0.5 * (double)marginal[s]) / (double)total;
        int b = (int)(middle * bins);
        ch->bin[s] = (uint8_t)(b < bins ? b : bins - 1);
        below += marginal[s];
    }
}

/* The channel's counts summed over its contexts (into marginal, levels entries). */
static void channel_marginal(const clae_codec *c, int k, uint64_t *marginal)
{
    const clae_codec_channel *ch = &c->ch[k];
    memset(marginal, 0, (size_t)ch->levels * sizeof *marginal);
    for (size_t x = 0; x < c->contexts; x++)
        for (int s = 0; s < ch->levels; s++) marginal[s] += ch->counts[x * ch->levels + s];
}

/* The table's bytes (without its CRC), what its hash and its file are made of; malloc'ed. */
#define HEAD_WORDS 6
static unsigned char *serialise(const clae_codec *c, size_t *len)
{
    size_t n = HEAD_WORDS * 4;
    for (int k = 0; k < c->channels; k++) n += 12 + (size_t)c->ch[k].levels * (1 + 4 * c->contexts);
    unsigned char *b = malloc(n), *p = b;
    if (!b) return NULL;
    uint32_t head[HEAD_WORDS] = {(uint32_t)c->levels, (uint32_t)c->channels, c->model_hash,
                                 (uint32_t)c->bins,   (uint32_t)c->height,   (uint32_t)c->width};
    memcpy(p, head, sizeof head), p += sizeof head;
    for (int k = 0; k < c->channels; k++) {
        const clae_codec_channel *ch = &c->ch[k];
        uint32_t levels = (uint32_t)ch->levels;
        size_t counts = 4 * c->contexts * (size_t)levels;
        memcpy(p, &ch->lo, 4), memcpy(p + 4, &ch->step, 4), memcpy(p + 8, &levels, 4), p += 12;
        memcpy(p, ch->bin, levels), p += levels;
        memcpy(p, ch->counts, counts), p += counts;
    }
    *len = n;
    return b;
}

/* Pseudo-counts a context's frequencies get from its channel's: what a context seen rarely or
 * never falls back on (measured on emoji codes, the size hardly depends on it). */
#define SMOOTHING 32

/* The entropy model of context x of channel k: its counts, smoothed. */
static int build_context(clae_codec *c, int k, size_t x, const uint64_t *marginal, uint64_t total,
                         uint64_t *weights, clae_err *err)
{
    const clae_codec_channel *ch = &c->ch[k];
    for (int s = 0; s < ch->levels; s++)
        weights[s] = (uint64_t)ch->counts[x * ch->levels + s] * total + SMOOTHING * marginal[s];
    return clae_rans_model_build(weights, ch->levels, &c->rans[(size_t)k * c->contexts + x], err);
}

/* The entropy models from the counts, and the hash over everything. */
static int finish(clae_codec *c, clae_err *err)
{
    c->rans = calloc((size_t)c->channels * c->contexts, sizeof *c->rans);
    uint64_t *marginal = malloc(CLAE_CODEC_MAX_LEVELS * sizeof *marginal),
             *weights = malloc(CLAE_CODEC_MAX_LEVELS * sizeof *weights);
    size_t len = 0;
    unsigned char *bytes = c->rans && marginal && weights ? serialise(c, &len) : NULL;
    int rc = bytes ? 0
                   : clae_fail(err, "out of host memory for a codec of %d channels", c->channels);
    for (int k = 0; rc == 0 && k < c->channels; k++) {
        channel_marginal(c, k, marginal);
        uint64_t total = 0;
        for (int s = 0; s < c->ch[k].levels; s++) total += marginal[s];
        for (size_t x = 0; rc == 0 && x < c->contexts; x++)
            rc = build_context(c, k, x, marginal, total, weights, err);
    }
    if (rc == 0) c->hash = clae_fnv1a32(CLAE_FNV32_BASIS, bytes, len);
    free(bytes);
    free(marginal);
    free(weights);
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

/* lo, step and levels of every channel from the n codes' values. */
static int fit_ranges(clae_codec *c, const float *codes, size_t n, clae_err *err)
{
    size_t positions = c->positions, m = n * positions, stride = (size_t)c->channels * positions;
    float *values = malloc(m * sizeof *values);
    int rc = values ? 0 : clae_fail(err, "out of host memory for %zu code values", m);
    for (int k = 0; rc == 0 && k < c->channels; k++) {
        for (size_t i = 0; i < n; i++)
            memcpy(values + i * positions, codes + i * stride + (size_t)k * positions,
                   positions * sizeof *values);
        for (size_t i = 0; rc == 0 && i < m; i++)
            if (!isfinite(values[i]))
                rc = clae_fail(err, "code %zu holds %g in channel %d", i / positions, values[i], k);
        if (rc) break;
        qsort(values, m, sizeof *values, cmp_float);
        rc = fit_range(&c->ch[k], values, m, c->levels, err);
    }
    free(values);
    return rc;
}

/* The bins from each channel's symbol counts, then the counts by context. */
static int count_symbols(clae_codec *c, const uint16_t *symbols, size_t n, clae_err *err)
{
    size_t len = (size_t)c->channels * c->positions;
    uint64_t *marginal = malloc(CLAE_CODEC_MAX_LEVELS * sizeof *marginal);
    int rc = marginal ? 0 : clae_fail(err, "out of host memory");
    choose_bins(c);
    for (int k = 0; rc == 0 && k < c->channels; k++) {
        clae_codec_channel *ch = &c->ch[k];
        ch->bin = malloc((size_t)ch->levels);
        ch->counts = calloc(c->contexts * (size_t)ch->levels, sizeof *ch->counts);
        if (!ch->bin || !ch->counts) {
            rc = clae_fail(err, "out of host memory for the codec's counts");
            break;
        }
        memset(marginal, 0, (size_t)ch->levels * sizeof *marginal);
        for (size_t i = 0; i < n; i++)
            for (size_t p = 0; p < c->positions; p++)
                marginal[symbols[i * len + (size_t)k * c->positions + p]]++;
        fill_bins(ch, marginal, c->bins);
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        for (size_t j = 0; j < len; j++) {
            const uint16_t *code = symbols + i * len;
            size_t x = clae_codec_context(c, code, j), k = j / c->positions;
            c->ch[k].counts[(x - k * c->contexts) * (size_t)c->ch[k].levels + code[j]]++;
        }
    free(marginal);
    return rc;
}

int clae_codec_fit(clae_codec *c, const float *codes, size_t n, int channels, int height, int width,
                   int levels, uint32_t model_hash, clae_err *err)
{
    memset(c, 0, sizeof *c);
    if (levels != 0 && (levels < 2 || levels > CLAE_CODEC_MAX_LEVELS))
        return clae_fail(err, "--levels %d: expected 2 to %d (or 0: the code's integers)", levels,
                         CLAE_CODEC_MAX_LEVELS);
    if (height < 1 || width < 1) return clae_fail(err, "a code of %dx%d", height, width);
    size_t positions = (size_t)height * (size_t)width;
    if (n == 0) return clae_fail(err, "no codes to fit the codec on");
    if ((double)n * (double)positions >= 4294967295.0)
        return clae_fail(err, "%zu codes of %zu positions: too many to count", n, positions);
    if (alloc_channels(c, channels, err)) return -1;
    c->levels = levels, c->height = height, c->width = width, c->positions = positions;
    c->model_hash = model_hash;
    size_t len = (size_t)channels * positions;
    uint16_t *symbols = NULL;
    int rc = fit_ranges(c, codes, n, err);
    if (rc == 0 && !(symbols = malloc(n * len * sizeof *symbols)))
        rc = clae_fail(err, "out of host memory for %zu codes' symbols", n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        clae_codec_quantise(c, codes + i * len, symbols + i * len);
    if (rc == 0) rc = count_symbols(c, symbols, n, err);
    free(symbols);
    if (rc == 0) rc = finish(c, err);
    if (rc) clae_codec_free(c);
    return rc;
}

void clae_codec_free(clae_codec *c)
{
    for (int k = 0; c->ch && k < c->channels; k++) free(c->ch[k].counts), free(c->ch[k].bin);
    for (size_t x = 0; c->rans && x < (size_t)c->channels * c->contexts; x++)
        clae_rans_model_free(&c->rans[x]);
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
    return clae_rans_bits_with(c->rans, clae_codec_context, c, symbols,
                               (size_t)c->channels * c->positions);
}

/* The table file: TABLE_MAGIC, the serialised bytes' length (u64), those bytes deflated (zlib:
 * the counts of contexts never seen are mostly zeros), a CRC-32 of all before it. */
#define FILE_HEAD (sizeof TABLE_MAGIC + 8)
#define MAX_TABLE (1ull << 30)

int clae_codec_save(const char *path, const clae_codec *c, clae_err *err)
{
    size_t len = 0;
    unsigned char *bytes = serialise(c, &len), *file = NULL;
    uLongf packed = bytes ? compressBound((uLong)len) : 0;
    if (bytes) file = malloc(FILE_HEAD + packed + 4);
    int rc = file ? 0 : clae_fail(err, "out of host memory for the codec table");
    if (rc == 0 && compress2(file + FILE_HEAD, &packed, bytes, (uLong)len, 9) != Z_OK)
        rc = clae_fail(err, "%s: zlib could not deflate the codec table", path);
    if (rc == 0) {
        uint64_t raw = len;
        memcpy(file, TABLE_MAGIC, sizeof TABLE_MAGIC), memcpy(file + sizeof TABLE_MAGIC, &raw, 8);
        uint32_t crc = (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), file, FILE_HEAD + packed);
        memcpy(file + FILE_HEAD + packed, &crc, 4);
        rc = clae_afile_write_bytes(path, file, FILE_HEAD + packed + 4, err);
    }
    free(bytes);
    free(file);
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
        size_t counts = levels <= CLAE_CODEC_MAX_LEVELS ? 4 * c->contexts * levels : 0;
        if (levels < 1 || levels > CLAE_CODEC_MAX_LEVELS || (size_t)(end - p) < levels + counts ||
            !isfinite(ch->lo) || !(ch->step > 0))
            return clae_fail(err, "%s: corrupt codec table (channel %d)", path, k);
        ch->levels = (int)levels;
        ch->bin = malloc(levels), ch->counts = malloc(counts);
        if (!ch->bin || !ch->counts) return clae_fail(err, "out of host memory");
        memcpy(ch->bin, p, levels), p += levels;
        for (uint32_t s = 0; s < levels; s++)
            if (ch->bin[s] >= c->bins)
                return clae_fail(err, "%s: corrupt codec table (channel %d's bins)", path, k);
        memcpy(ch->counts, p, counts), p += counts;
    }
    return p == end ? 0 : clae_fail(err, "%s: corrupt codec table (bytes left over)", path);
}

/* The head of the serialised bytes into c (checked), then the channels. */
static int parse_table(clae_codec *c, const unsigned char *b, size_t len, const char *path,
                       clae_err *err)
{
    uint32_t head[HEAD_WORDS];
    if (len < sizeof head) return clae_fail(err, "%s: truncated codec table", path);
    memcpy(head, b, sizeof head);
    if (head[3] < 1 || head[3] > CLAE_CODEC_MAX_BINS || head[4] < 1 || head[4] > 1u << 16 ||
        head[5] < 1 || head[5] > 1u << 16 || head[0] == 1 || head[0] > CLAE_CODEC_MAX_LEVELS)
        return clae_fail(err, "%s: corrupt codec table (its head)", path);
    c->levels = (int)head[0], c->model_hash = head[2], c->bins = (int)head[3];
    c->height = (int)head[4], c->width = (int)head[5];
    c->positions = (size_t)c->height * (size_t)c->width;
    if (alloc_channels(c, (int)head[1], err)) return -1;
    c->contexts = contexts_at(c, c->bins);
    return parse_channels(c, b + sizeof head, b + len, path, err);
}

/* The file's serialised bytes (magic and CRC checked, inflated); malloc'ed. */
static int read_table(const char *path, unsigned char **raw, size_t *raw_len, clae_err *err)
{
    unsigned char *b;
    size_t len;
    if (clae_read_whole(path, "codec table", 1u << 30, &b, &len, err)) return -1;
    uint32_t crc = 0;
    uint64_t want = 0;
    int rc = 0;
    if (len < FILE_HEAD + 4 || memcmp(b, TABLE_MAGIC, sizeof TABLE_MAGIC) != 0)
        rc = clae_fail(err, "%s: not a clae codec table (of this version)", path);
    if (rc == 0) memcpy(&crc, b + len - 4, 4), memcpy(&want, b + sizeof TABLE_MAGIC, 8);
    if (rc == 0 && crc != (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), b, len - 4))
        rc = clae_fail(err, "%s: corrupt codec table (CRC mismatch)", path);
    if (rc == 0 && (want == 0 || want > MAX_TABLE))
        rc = clae_fail(err, "%s: corrupt codec table (%llu bytes)", path, (unsigned long long)want);
    uLongf got = (uLongf)want;
    if (rc == 0 && !(*raw = malloc(want))) rc = clae_fail(err, "out of host memory");
    if (rc == 0 && (uncompress(*raw, &got, b + FILE_HEAD, (uLong)(len - 4 - FILE_HEAD)) != Z_OK ||
                    got != want)) {
        free(*raw);
        rc = clae_fail(err, "%s: corrupt codec table (its deflated bytes)", path);
    }
    free(b);
    if (rc == 0) *raw_len = (size_t)want;
    return rc;
}

int clae_codec_load(const char *path, clae_codec *c, clae_err *err)
{
    memset(c, 0, sizeof *c);
    unsigned char *raw;
    size_t len;
    if (read_table(path, &raw, &len, err)) return -1;
    int rc = parse_table(c, raw, len, path, err);
    if (rc == 0) rc = finish(c, err);
    free(raw);
    if (rc) clae_codec_free(c);
    return rc;
}
