/* Seeded mutation fuzzing of the .npy and checkpoint readers in the suite
 * (under ASan and UBSan in CI): valid files written by the writers, then
 * thousands of mutants (flipped bytes, truncations, insertions, size fields
 * set to extremes), each accepted or refused with one line (readers.h).
 * With --write-seeds DIR it writes the two seeds for scripts/fuzz.sh. */
#include <unistd.h>

#include "fuzz/readers.h"
#include "helpers.h"

static char path[256];

/* A seed: the selector byte, then a file the writer produced. */
static uint8_t *seed_of(int npy, size_t *n)
{
    char file[300];
    snprintf(file, sizeof file, "%s.seed", path);
    clae_err err;
    if (npy) {
        float z[6] = {1, -2, 3.5f, 0, 5, -6};
        if (clae_npy_write(file, z, 2, 3, &err)) fail_msg("%s", err.msg);
    } else {
        float params[5] = {0.5f, -1, 2, 3, 4}, state[2] = {1, 0}, optim[10] = {0};
        clae_ckpt_meta meta = {.model_signature = 42,
                               .n_params = 5,
                               .n_layer_state = 2,
                               .n_state = 2,
                               .optim_step = 7,
                               .epoch = 1,
                               .best_val = 0.25,
                               .input_c = 1,
                               .input_h = 4,
                               .input_w = 4};
        clae_ckpt_data d = {.config = "[train]\nepochs = 1\n[encoder.a]\ntype = dense\nunits = 2\n",
                            .layers = "input 1x4x4\n[encoder.a] dense units=2\n",
                            .params = params,
                            .layer = state,
                            .optim = optim};
        if (clae_ckpt_save(file, &meta, &d, &err)) fail_msg("%s", err.msg);
    }
    FILE *f = fopen(file, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(8192);
    buf[0] = (uint8_t)(npy ? 1 : 0);
    *n = 1 + fread(buf + 1, 1, 8191, f);
    fclose(f);
    unlink(file);
    return buf;
}

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
    return *s;
}

/* One mutant of seed (n bytes) into out; returns its length. */
static size_t mutate(const uint8_t *seed, size_t n, uint8_t *out, uint32_t *rng)
{
    memcpy(out, seed, n);
    size_t len = n;
    int edits = 1 + (int)(next(rng) % 4);
    for (int e = 0; e < edits; e++) {
        size_t at = 1 + next(rng) % (len - 1);
        switch (next(rng) % 5) {
        case 0: out[at] ^= (uint8_t)(1u << (next(rng) % 8)); break; /* flip a bit */
        case 1: out[at] = (uint8_t)next(rng); break;                /* any byte */
        case 2: len = at; break;                                    /* truncate */
        case 3: /* a size-like field set to an extreme: 0, 1, 0xFF.., 0x7F.. */
            for (size_t k = 0; k < 4 && at + k < len; k++)
                out[at + k] = (uint8_t)((next(rng) & 1) ? 0xFF : 0);
            break;
        default: /* insert a byte */
            if (len < 8191) {
                memmove(out + at + 1, out + at, len - at);
                out[at] = (uint8_t)next(rng);
                len++;
            }
        }
        if (len < 2) len = 2;
    }
    return len;
}

static void fuzz_seed(int npy, int mutants)
{
    size_t n;
    uint8_t *seed = seed_of(npy, &n), *buf = malloc(8192);
    assert_int_equal(fuzz_reader_input(path, seed, n), 0);
    uint32_t rng = npy ? 0x1234567u : 0x89ABCDEu;
    for (int i = 0; i < mutants; i++) {
        size_t len = mutate(seed, n, buf, &rng);
        if (fuzz_reader_input(path, buf, len))
            fail_msg("mutant %d of the %s seed: a refusal without its line", i,
                     npy ? ".npy" : "checkpoint");
    }
    free(seed);
    free(buf);
}

static void test_npy_mutants(void **state)
{
    (void)state;
    fuzz_seed(1, 3000);
}

static void test_checkpoint_mutants(void **state)
{
    (void)state;
    fuzz_seed(0, 3000);
}

int main(int argc, char **argv)
{
    snprintf(path, sizeof path, "/tmp/clae_fuzz_readers_%d.bin", (int)getpid());
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        for (int npy = 0; npy < 2; npy++) {
            size_t n;
            uint8_t *s = seed_of(npy, &n);
            char out[600];
            snprintf(out, sizeof out, "%s/%s", argv[2], npy ? "npy.seed" : "checkpoint.seed");
            FILE *f = fopen(out, "wb");
            if (!f || fwrite(s, 1, n, f) != n || fclose(f)) return 1;
            free(s);
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_mutants),
        cmocka_unit_test(test_checkpoint_mutants),
    };
    int failed = cmocka_run_group_tests_name("fuzz_readers", tests, NULL, NULL);
    unlink(path);
    return failed;
}
