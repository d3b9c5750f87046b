/* The rANS coder: round trips of random symbol streams of every length from 0
 * to 300 and some long ones, with uniform, skewed (geometric) and one-symbol
 * histograms and alphabets of 1 to 4,096; the coded size within 4 bytes (plus
 * rounding) of the model's estimate; truncated, extended and corrupted input
 * refused; the model's frequencies; a model per symbol chosen from the symbols
 * before it. No device. */
#include <math.h>

#include "clae/rans.h"
#include "helpers.h"

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
    return *s;
}

/* n symbols of an alphabet of k: uniform, or geometric with ratio 1/2 (skewed) */
static void draw(uint16_t *sym, size_t n, int k, bool skewed, uint32_t *rng)
{
    for (size_t i = 0; i < n; i++) {
        int s = 0;
        if (skewed)
            while (s < k - 1 && (next(rng) & 1)) s++;
        else
            s = (int)(next(rng) % (uint32_t)k);
        sym[i] = (uint16_t)s;
    }
}

static void round_trip(const uint16_t *sym, size_t n, int k)
{
    uint64_t counts[CLAE_RANS_MAX_SYMBOLS] = {0};
    for (size_t i = 0; i < n; i++) counts[sym[i]]++;
    clae_rans_model m;
    clae_err err;
    assert_int_equal(clae_rans_model_build(counts, k, &m, &err), 0);
    size_t cap = 16 + n * 3;
    uint8_t *buf = malloc(cap);
    uint16_t *back = malloc((n + 1) * sizeof *back);
    size_t len = clae_rans_encode(&m, sym, n, buf, cap, &err);
    if (!len) fail_msg("%s", err.msg);
    assert_int_equal(clae_rans_decode(&m, buf, len, back, n, &err), 0);
    assert_memory_equal(sym, back, n * sizeof *sym);
    double bits = clae_rans_bits(&m, sym, n);
    /* the size: the estimate, plus the 4-byte state, plus under 1% for 16-bit rounding */
    if ((double)len > ceil(bits / 8) * 1.01 + 5)
        fail_msg("%zu symbols: %zu bytes for an estimate of %.1f", n, len, bits / 8);
    free(buf);
    free(back);
    clae_rans_model_free(&m);
}

static void test_round_trips(void **state)
{
    (void)state;
    uint32_t rng = 12345;
    uint16_t *sym = malloc(200000 * sizeof *sym);
    const int alphabets[] = {1, 2, 3, 17, 256, 4096};
    for (size_t a = 0; a < sizeof alphabets / sizeof alphabets[0]; a++)
        for (int skewed = 0; skewed < 2; skewed++)
            for (size_t n = 0; n <= 300; n += (n < 40 ? 1 : 37)) {
                draw(sym, n, alphabets[a], skewed, &rng);
                round_trip(sym, n, alphabets[a]);
            }
    draw(sym, 200000, 256, true, &rng);
    round_trip(sym, 200000, 256);
    draw(sym, 200000, 4096, false, &rng);
    round_trip(sym, 200000, 4096);
    for (size_t i = 0; i < 5000; i++) sym[i] = 7; /* one symbol only: almost no bytes */
    round_trip(sym, 5000, 16);
    free(sym);
}

static void test_bad_input(void **state)
{
    (void)state;
    uint32_t rng = 99;
    enum { N = 2000 };
    uint16_t sym[N], back[N];
    draw(sym, N, 40, true, &rng);
    uint64_t counts[40] = {0};
    for (int i = 0; i < N; i++) counts[sym[i]]++;
    clae_rans_model m;
    clae_err err;
    assert_int_equal(clae_rans_model_build(counts, 40, &m, &err), 0);
    uint8_t buf[8000];
    size_t len = clae_rans_encode(&m, sym, N, buf, sizeof buf, &err);
    assert_true(len > 100);
    assert_int_equal(clae_rans_decode(&m, buf, len - 1, back, N, &err), -1); /* truncated */
    assert_non_null(strstr(err.msg, "coded symbols"));
    assert_int_equal(clae_rans_decode(&m, buf, len + 1, back, N, &err), -1); /* a byte more */
    assert_non_null(strstr(err.msg, "bytes left over"));
    int caught = 0;
    for (int k = 0; k < 200; k++) { /* a flipped bit anywhere: refused, nearly always */
        uint8_t bad[8000];
        memcpy(bad, buf, len);
        bad[next(&rng) % len] ^= (uint8_t)(1u << (next(&rng) % 8));
        caught += clae_rans_decode(&m, bad, len, back, N, &err) != 0;
    }
    assert_true(caught >= 190);
    uint8_t small[16];
    assert_int_equal(clae_rans_encode(&m, sym, N, small, sizeof small, &err), 0);
    assert_non_null(strstr(err.msg, "need more than 16 bytes"));
    uint16_t out_of_range[1] = {40};
    assert_int_equal(clae_rans_encode(&m, out_of_range, 1, buf, sizeof buf, &err), 0);
    assert_non_null(strstr(err.msg, "symbol 0 is 40: the model has 40"));
    clae_rans_model_free(&m);
}

static void test_model(void **state)
{
    (void)state;
    clae_rans_model m;
    clae_err err;
    uint64_t counts[4] = {1000000, 0, 3, 0};
    assert_int_equal(clae_rans_model_build(counts, 4, &m, &err), 0);
    uint32_t total = 0;
    for (int i = 0; i < 4; i++) {
        assert_true(m.freq[i] >= 1); /* unseen symbols stay codable */
        total += m.freq[i];
        if (i) assert_int_equal(m.start[i], m.start[i - 1] + m.freq[i - 1]);
    }
    assert_int_equal(total, 1u << CLAE_RANS_SCALE_BITS);
    assert_true(m.freq[0] > 65000);
    clae_rans_model_free(&m);
    assert_int_equal(clae_rans_model_build(counts, 0, &m, &err), -1);
    assert_int_equal(clae_rans_model_build(counts, CLAE_RANS_MAX_SYMBOLS + 1, &m, &err), -1);
}

/* Symbol i under model symbols[i - 1] (of 3): a stream whose next symbol follows its last */
static size_t by_last(const void *user, const uint16_t *symbols, size_t i)
{
    (void)user;
    return i ? symbols[i - 1] % 3 : 0;
}

static void test_chosen_models(void **state)
{
    (void)state;
    enum { N = 5000, K = 3 };
    uint16_t sym[N], back[N];
    uint32_t rng = 5;
    for (int i = 0; i < N; i++) /* after a symbol s, mostly s or s + 1 */
        sym[i] = (uint16_t)(i == 0 ? 0 : (sym[i - 1] + (next(&rng) % 8 == 0)) % K);
    uint64_t counts[3][K] = {{0}}, all[K] = {0};
    for (int i = 0; i < N; i++) counts[by_last(NULL, sym, (size_t)i)][sym[i]]++, all[sym[i]]++;
    clae_rans_model models[3], one;
    clae_err err;
    for (int k = 0; k < 3; k++)
        assert_int_equal(clae_rans_model_build(counts[k], K, &models[k], &err), 0);
    assert_int_equal(clae_rans_model_build(all, K, &one, &err), 0);
    uint8_t buf[16000];
    size_t len = clae_rans_encode_with(models, by_last, NULL, sym, N, buf, sizeof buf, &err);
    if (!len) fail_msg("%s", err.msg);
    assert_int_equal(clae_rans_decode_with(models, by_last, NULL, buf, len, back, N, &err), 0);
    assert_memory_equal(sym, back, sizeof sym);
    double bits = clae_rans_bits_with(models, by_last, NULL, sym, N);
    assert_true((double)len <= ceil(bits / 8) * 1.01 + 5);
    /* the models by context code this stream in well under what one model needs */
    assert_true(bits < 0.8 * clae_rans_bits(&one, sym, N));
    for (int k = 0; k < 3; k++) clae_rans_model_free(&models[k]);
    clae_rans_model_free(&one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_chosen_models),
    };
    return cmocka_run_group_tests_name("rans", tests, NULL, NULL);
}
