/* The image codec's host side (clae/codec.h) and the reference codecs: the
 * quantiser (uniform levels within half a step, clamped outside; integer
 * codes exact), the table's save/load, .clae files round-tripping symbols at
 * the coder's estimated size, every way a file can be wrong refused with its
 * reason, and JPEG/WebP round trips. No device. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "clae/afile.h"
#include "clae/codec.h"
#include "clae/ref_codecs.h"
#include "helpers.h"

#define DIR_ "/tmp/clae_test_codec"
#define C 3
#define CODE_H 2
#define CODE_W 5
#define P (CODE_H * CODE_W)
#define N 400

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
    return *s;
}

/* N codes of C x P: channel k ~ k + a Laplace-ish spread of scale k + 1 (integers when asked) */
static float *make_codes(bool integers)
{
    static float codes[N * C * P];
    uint32_t rng = 99;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < C; k++)
            for (int p = 0; p < P; p++) {
                double u = ((next(&rng) >> 8) + 0.5) / 16777216.0,
                       v = ((next(&rng) >> 8) + 0.5) / 16777216.0;
                double z = k + (k + 1) * log(u / v); /* a difference of exponentials: Laplace */
                codes[(i * C + k) * P + p] = integers ? (float)rint(z) : (float)z;
            }
    return codes;
}

static void fit(clae_codec *c, const float *codes, int levels)
{
    clae_err err;
    if (clae_codec_fit(c, codes, N, C, CODE_H, CODE_W, levels, 0xABCD1234u, &err))
        fail_msg("%s", err.msg);
}

static void test_uniform_levels(void **state)
{
    (void)state;
    const float *codes = make_codes(false);
    clae_codec c;
    fit(&c, codes, 16);
    uint16_t sym[C * P];
    float back[C * P];
    int inside = 0, clamped = 0;
    for (int i = 0; i < N; i++) {
        const float *z = codes + i * C * P;
        clae_codec_quantise(&c, z, sym);
        clae_codec_dequantise(&c, sym, back);
        for (int k = 0; k < C; k++)
            for (int p = 0; p < P; p++) {
                const clae_codec_channel *ch = &c.ch[k];
                float v = z[k * P + p], hi = ch->lo + (float)(ch->levels - 1) * ch->step;
                assert_true(sym[k * P + p] < 16);
                if (v >= ch->lo && v <= hi) {
                    assert_true(fabsf(back[k * P + p] - v) <= 0.5f * ch->step * 1.0001f);
                    inside++;
                } else { /* outside the fitted range: the nearest end */
                    assert_float_equal(back[k * P + p], v < ch->lo ? ch->lo : hi, 1e-5);
                    clamped++;
                }
            }
    }
    /* the range is the 0.1% to 99.9% quantiles: about 0.2% of values fall outside */
    assert_true(clamped > 0 && clamped < 0.01 * (inside + clamped));
    /* a wider channel gets a wider step */
    assert_true(c.ch[2].step > 1.5f * c.ch[0].step);
    clae_codec_free(&c);
}

static void test_integer_levels(void **state)
{
    (void)state;
    const float *codes = make_codes(true);
    clae_codec c;
    fit(&c, codes, 0);
    uint16_t sym[C * P];
    float back[C * P];
    for (int i = 0; i < N; i++) {
        clae_codec_quantise(&c, codes + i * C * P, sym);
        clae_codec_dequantise(&c, sym, back);
        for (int j = 0; j < C * P; j++) /* exact (-0 comes back as 0) */
            assert_true(back[j] == codes[i * C * P + j]);
    }
    for (int k = 0; k < C; k++) assert_float_equal(c.ch[k].step, 1.0, 0);
    clae_codec_free(&c);
    /* a code spanning more integers than the coder's alphabet is refused */
    static float wide[N * C * P];
    for (int i = 0; i < N * C * P; i++) wide[i] = (float)(i * 7);
    clae_err err;
    assert_int_equal(clae_codec_fit(&c, wide, N, C, CODE_H, CODE_W, 0, 1, &err), -1);
    assert_non_null(strstr(err.msg, "quantise with --levels instead"));
    assert_int_equal(clae_codec_fit(&c, wide, N, C, CODE_H, CODE_W, 1, 1, &err), -1);
    assert_int_equal(clae_codec_fit(&c, wide, N, C, CODE_H, CODE_W, 5000, 1, &err), -1);
    wide[17] = NAN;
    assert_int_equal(clae_codec_fit(&c, wide, N, C, CODE_H, CODE_W, 8, 1, &err), -1);
    assert_non_null(strstr(err.msg, "nan"));
}

static void test_table_file(void **state)
{
    (void)state;
    clae_err err;
    clae_codec c, d;
    fit(&c, make_codes(false), 32);
    mkdir(DIR_, 0755);
    const char *path = DIR_ "/table.bin";
    assert_int_equal(clae_codec_save(path, &c, &err), 0);
    if (clae_codec_load(path, &d, &err)) fail_msg("%s", err.msg);
    assert_int_equal(d.hash, c.hash);
    assert_int_equal(d.model_hash, 0xABCD1234u);
    assert_int_equal(d.levels, 32);
    assert_int_equal(d.bins, c.bins);
    assert_int_equal(d.contexts, c.contexts);
    for (size_t x = 0; x < C * c.contexts; x++) {
        assert_int_equal(d.rans[x].n, c.rans[x].n);
        assert_memory_equal(d.rans[x].freq, c.rans[x].freq,
                            2 * sizeof *d.rans[x].freq * d.rans[x].n);
    }
    for (int k = 0; k < C; k++) assert_float_equal(d.ch[k].lo, c.ch[k].lo, 0);
    clae_codec_free(&d);
    /* another fit (other weights) has another hash */
    clae_codec e;
    clae_codec_fit(&e, make_codes(false), N, C, CODE_H, CODE_W, 32, 0x1u, &err);
    assert_true(e.hash != c.hash);
    clae_codec_free(&e);
    /* a flipped byte anywhere is refused */
    unsigned char *b;
    size_t len;
    assert_int_equal(clae_read_whole(path, "", 0, &b, &len, &err), 0);
    for (size_t at = 0; at < len; at += len / 13 + 1) {
        b[at] ^= 0x10;
        FILE *f = fopen(DIR_ "/bad.bin", "wb");
        fwrite(b, 1, len, f);
        fclose(f);
        b[at] ^= 0x10;
        assert_int_equal(clae_codec_load(DIR_ "/bad.bin", &d, &err), -1);
        assert_non_null(strstr(err.msg, "bad.bin"));
    }
    free(b);
    clae_codec_free(&c);
}

static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void expect_refused(const char *path, const clae_codec *c, const char *why)
{
    clae_codec_header h;
    uint16_t sym[C * P];
    clae_err err;
    assert_int_equal(clae_codec_read_file(path, c, &h, sym, &err), -1);
    assert_non_null(strstr(err.msg, path));
    if (!strstr(err.msg, why)) fail_msg("expected '%s' in: %s", why, err.msg);
}

static void test_clae_files(void **state)
{
    (void)state;
    const float *codes = make_codes(true);
    clae_codec c;
    fit(&c, codes, 0);
    mkdir(DIR_, 0755);
    const char *path = DIR_ "/a.clae";
    clae_codec_header h = {.channels = 3, .height = 64, .width = 48}, got;
    uint16_t sym[C * P], back[C * P];
    clae_err err;
    for (int i = 0; i < 20; i++) { /* round trips at the estimated size */
        size_t bytes;
        clae_codec_quantise(&c, codes + i * C * P, sym);
        assert_int_equal(clae_codec_write_file(path, &c, &h, sym, &bytes, &err), 0);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal((size_t)st.st_size, bytes);
        double payload = ceil(clae_codec_bits(&c, sym) / 8);
        assert_true(bytes >= CLAE_CODEC_HEADER_BYTES + payload);
        assert_true(bytes <= CLAE_CODEC_HEADER_BYTES + payload * 1.01 + 5);
        if (clae_codec_read_file(path, &c, &got, back, &err)) fail_msg("%s", err.msg);
        assert_memory_equal(sym, back, sizeof sym);
        assert_int_equal(got.height, 64);
        assert_int_equal(got.width, 48);
        assert_int_equal(got.channels, 3);
        assert_int_equal(got.levels, 0);
    }
    unsigned char *b;
    size_t len;
    assert_int_equal(clae_read_whole(path, "", 0, &b, &len, &err), 0);
    const char *bad = DIR_ "/bad.clae";
    for (size_t n = 0; n < len; n++) { /* every truncation */
        write_bytes(bad, b, n);
        expect_refused(bad, &c, n < CLAE_CODEC_HEADER_BYTES ? "truncated" : "CRC");
    }
    for (size_t at = 0; at < len; at++) /* every single-bit flip */
        for (int bit = 0; bit < 8; bit++) {
            b[at] ^= (unsigned char)(1u << bit);
            write_bytes(bad, b, len);
            b[at] ^= (unsigned char)(1u << bit);
            clae_codec_header hh;
            uint16_t s2[C * P];
            assert_int_equal(clae_codec_read_file(bad, &c, &hh, s2, &err), -1);
        }
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, b, len), longer[len] = 0;
    write_bytes(bad, longer, len + 1);
    expect_refused(bad, &c, "CRC");
    free(longer);
    b[4] = 1; /* another version: 1 coded each channel under one model */
    write_bytes(bad, b, len);
    expect_refused(bad, &c, "version 1; this clae reads version 2");
    b[4] = 2, b[0] = 'X';
    write_bytes(bad, b, len);
    expect_refused(bad, &c, "not a .clae file");
    free(b);
    clae_codec other; /* another model's codec */
    clae_codec_fit(&other, codes, N, C, CODE_H, CODE_W, 0, 0x5555u, &err);
    expect_refused(path, &other, "another model");
    clae_codec_free(&other);
    clae_codec_free(&c);
    test_remove_tree(DIR_);
}

/* N codes of 2 x 12 x 12 integers: a smooth field per code (a random level, drifting by -1,
 * 0 or 1 to the right and down), the second channel following the first */
#define SH 12
static float *make_smooth_codes(void)
{
    static float codes[N * 2 * SH * SH];
    uint32_t rng = 3;
    for (int i = 0; i < N; i++) {
        float *z = codes + i * 2 * SH * SH;
        for (int y = 0; y < SH; y++)
            for (int x = 0; x < SH; x++) {
                float base = x ? z[y * SH + x - 1] : y ? z[(y - 1) * SH] : (float)(next(&rng) % 20);
                z[y * SH + x] = base + (float)((int)(next(&rng) % 3) - 1);
                z[SH * SH + y * SH + x] = z[y * SH + x] + (float)(next(&rng) % 2);
            }
    }
    return codes;
}

/* The entropy of the symbols under each channel's own frequencies, in bits per code. */
static double channel_entropy(const clae_codec *c, const float *codes, size_t n)
{
    size_t len = (size_t)c->channels * c->positions;
    uint16_t *sym = malloc(len * sizeof *sym);
    double bits = 0;
    for (int k = 0; k < c->channels; k++) {
        double *count = calloc((size_t)c->ch[k].levels, sizeof *count), total = 0;
        for (size_t i = 0; i < n; i++) {
            clae_codec_quantise(c, codes + i * len, sym);
            for (size_t p = 0; p < c->positions; p++) count[sym[k * c->positions + p]]++, total++;
        }
        for (int s = 0; s < c->ch[k].levels; s++)
            if (count[s] > 0) bits -= count[s] * log2(count[s] / total);
        free(count);
    }
    free(sym);
    return bits / (double)n;
}

/* Coding by context: a smooth code takes well under its channels' entropy, round trips, and a
 * code of one position per channel (a dense code) and one of too many levels for 8 bins work. */
static void test_contexts(void **state)
{
    (void)state;
    const float *codes = make_smooth_codes();
    clae_codec c;
    clae_err err;
    if (clae_codec_fit(&c, codes, N, 2, SH, SH, 0, 7, &err)) fail_msg("%s", err.msg);
    assert_int_equal(c.bins, CLAE_CODEC_MAX_BINS);
    assert_int_equal(c.contexts, 9 * 9 * 9);
    uint16_t sym[2 * SH * SH], back[2 * SH * SH];
    double bits = 0;
    mkdir(DIR_, 0755);
    for (int i = 0; i < N; i++) {
        clae_codec_quantise(&c, codes + i * 2 * SH * SH, sym);
        bits += clae_codec_bits(&c, sym);
        if (i % 50) continue;
        assert_int_equal(
            clae_codec_write_file(DIR_ "/s.clae", &c,
                                  &(clae_codec_header){.channels = 3, .height = 8, .width = 8}, sym,
                                  NULL, &err),
            0);
        clae_codec_header h;
        if (clae_codec_read_file(DIR_ "/s.clae", &c, &h, back, &err)) fail_msg("%s", err.msg);
        assert_memory_equal(sym, back, sizeof sym);
    }
    double own = channel_entropy(&c, codes, N);
    if (bits / N > 0.6 * own)
        fail_msg("%.1f bits a code by context, %.1f by channel", bits / N, own);
    sym[5] = (uint16_t)c.ch[0].levels; /* a symbol the codec does not have: refused */
    assert_int_equal(
        clae_codec_write_file(DIR_ "/s.clae", &c,
                              &(clae_codec_header){.channels = 3, .height = 8, .width = 8}, sym,
                              NULL, &err),
        -1);
    assert_non_null(strstr(err.msg, "symbol 5 is"));
    clae_codec_free(&c);
    /* a dense code: 24 channels of one position, each context the channel before */
    if (clae_codec_fit(&c, codes, N, 24, 1, 1, 0, 7, &err)) fail_msg("%s", err.msg);
    assert_int_equal(c.contexts, CLAE_CODEC_MAX_BINS + 1);
    clae_codec_free(&c);
    /* 3 x 2 x 5 codes at 4,096 levels: 8 bins would need 3 x 4096 x 729 counts, so fewer */
    if (clae_codec_fit(&c, make_codes(false), N, C, CODE_H, CODE_W, 4096, 7, &err))
        fail_msg("%s", err.msg);
    assert_true(c.bins < CLAE_CODEC_MAX_BINS && c.bins >= 1);
    assert_true(c.contexts * C * 4096 <= 1u << 23);
    clae_codec_quantise(&c, make_codes(false), sym);
    assert_int_equal(
        clae_codec_write_file(DIR_ "/w.clae", &c,
                              &(clae_codec_header){.channels = 3, .height = 8, .width = 8}, sym,
                              NULL, &err),
        0);
    clae_codec_free(&c);
    test_remove_tree(DIR_);
}

/* A smooth colour image through JPEG and WebP: close at high quality, smaller at low. */
static void test_reference_codecs(void **state)
{
    (void)state;
    enum { W = 48, H = 40 };
    static uint8_t img[H * W * 3], out[H * W * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            img[(y * W + x) * 3] = (uint8_t)(x * 5), img[(y * W + x) * 3 + 1] = (uint8_t)(y * 6);
            img[(y * W + x) * 3 + 2] = (uint8_t)(128 + 60 * sin(x * 0.2));
        }
    for (int k = 0; k < CLAE_N_REF; k++) {
        clae_err err;
        size_t hi_bytes, lo_bytes;
        if (!clae_ref_available((clae_ref_codec)k)) {
            assert_int_equal(
                clae_ref_roundtrip((clae_ref_codec)k, img, W, H, 3, 90, out, &hi_bytes, &err), -1);
            continue;
        }
        for (int channels = 1; channels <= 3; channels += 2) {
            assert_int_equal(clae_ref_roundtrip((clae_ref_codec)k, img, W, H, channels, 95, out,
                                                &hi_bytes, &err),
                             0);
            double se = 0;
            for (int i = 0; i < H * W * channels; i++) se += pow(out[i] - img[i], 2);
            double psnr = 10 * log10(255.0 * 255.0 / (se / (H * W * channels)));
            if (psnr < 30) fail_msg("%s at 95: %.1f dB", clae_ref_name((clae_ref_codec)k), psnr);
            assert_int_equal(clae_ref_roundtrip((clae_ref_codec)k, img, W, H, channels, 10, out,
                                                &lo_bytes, &err),
                             0);
            assert_true(lo_bytes < hi_bytes);
        }
        assert_int_equal(
            clae_ref_roundtrip((clae_ref_codec)k, img, W, H, 2, 50, out, &lo_bytes, &err), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_levels), cmocka_unit_test(test_integer_levels),
        cmocka_unit_test(test_table_file),     cmocka_unit_test(test_clae_files),
        cmocka_unit_test(test_contexts),       cmocka_unit_test(test_reference_codecs),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
