/* Seeded mutation fuzzing of every file reader (checkpoint, .npy, INI, PNG, IDX, CSV,
 * labels CSV, .clae files, codec tables) and of the rANS decoder in the suite
 * (under ASan and UBSan in CI): valid files written by the writers, then
 * thousands of mutants (flipped bytes, truncations, insertions, size fields
 * set to extremes), each accepted or refused with one line (readers.h).
 * With --write-seeds DIR it writes a seed per reader for scripts/fuzz.sh. */
#include <unistd.h>

#include "fuzz/readers.h"
#include "helpers.h"

static char path[256];

/* A file the writers (or a hand-made valid one) produce, for reader kind. */
static void write_seed_file(int kind, const char *file)
{
    clae_err err;
    FILE *f;
    static const char ini[] =
        "; --set train.lr=0.5\n[model]\nname = fuzz\n[train]\nepochs = 1\n"
        "lr = 1e-3\n[data]\nimage = 1x2x2\n[encoder.a]\ntype = dense\n"
        "units = 2\nactivation = relu\n[decoder.b]\ntype = dense\nunits = 4\n";
    static const char csv[] = "label,p0,p1,p2,p3\n3,0,10,20,30\n7,1,2,3,255\n";
    static const char labels[] = "file,label\na.png,1\nb.png,2\n";
    static const char graph[] = "# a graph\na b\nb,c\nc\ta\na d\nd b\ne a\n";
    static const unsigned char idx[28] = {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0,  0,
                                          0, 2, 0,    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    if (kind == FUZZ_RANS) { /* FUZZ_RANS_SYMBOLS symbols drawn from the harness's model */
        static clae_rans_model m;
        if (!m.freq) fuzz_rans_model(&m);
        uint16_t sym[FUZZ_RANS_SYMBOLS];
        uint32_t rng = 7;
        for (int i = 0; i < FUZZ_RANS_SYMBOLS; i++) {
            int s = 0;
            while (s < 39 && ((rng = rng * 1664525u + 1013904223u) >> 31)) s++;
            sym[i] = (uint16_t)s;
        }
        uint8_t bytes[4096];
        size_t len = clae_rans_encode(&m, sym, FUZZ_RANS_SYMBOLS, bytes, sizeof bytes, &err);
        if (!len) fail_msg("%s", err.msg);
        assert_non_null(f = fopen(file, "wb"));
        assert_int_equal(fwrite(bytes, 1, len, f), len);
        fclose(f);
    } else if (kind == FUZZ_CLAE || kind == FUZZ_CODEC) { /* a file of the harness's codec */
        static clae_codec c;
        if (!c.ch) fuzz_codec_build(&c);
        uint16_t sym[6] = {0, 3, 8, 4, 4, 1};
        clae_codec_header h = {.channels = 1, .height = 2, .width = 3};
        if (kind == FUZZ_CLAE ? clae_codec_write_file(file, &c, &h, sym, NULL, &err)
                              : clae_codec_save(file, &c, &err))
            fail_msg("%s", err.msg);
    } else if (kind == FUZZ_NPY) {
        float z[6] = {1, -2, 3.5f, 0, 5, -6};
        if (clae_npy_write(file, z, 2, 3, &err)) fail_msg("%s", err.msg);
    } else if (kind == FUZZ_CKPT) {
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
    } else if (kind == FUZZ_PNG) {
        float px[36];
        for (int i = 0; i < 36; i++) px[i] = (float)i / 35.0f;
        const float *rows[1] = {px};
        if (clae_png_grid(file, rows, 1, 1, (clae_shape){1, 3, 3, 4}, 1, &err))
            fail_msg("%s", err.msg);
    } else {
        const void *text = kind == FUZZ_INI     ? (const void *)ini
                           : kind == FUZZ_CSV   ? (const void *)csv
                           : kind == FUZZ_IDX   ? (const void *)idx
                           : kind == FUZZ_GRAPH ? (const void *)graph
                                                : (const void *)labels;
        size_t len = kind == FUZZ_INI     ? sizeof ini - 1
                     : kind == FUZZ_CSV   ? sizeof csv - 1
                     : kind == FUZZ_IDX   ? sizeof idx
                     : kind == FUZZ_GRAPH ? sizeof graph - 1
                                          : sizeof labels - 1;
        assert_non_null(f = fopen(file, "wb"));
        assert_int_equal(fwrite(text, 1, len, f), len);
        fclose(f);
    }
}

/* A seed: the selector byte, then the file. */
static uint8_t *seed_of(int kind, size_t *n)
{
    char file[300];
    snprintf(file, sizeof file, "%s.seed", path);
    write_seed_file(kind, file);
    FILE *f = fopen(file, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(8192);
    buf[0] = (uint8_t)kind;
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

static void fuzz_seed(int kind, int mutants)
{
    size_t n;
    uint8_t *seed = seed_of(kind, &n), *buf = malloc(8192);
    assert_int_equal(fuzz_reader_input(path, seed, n), 0);
    uint32_t rng = 0x1234567u + 0x9E3779B9u * (uint32_t)kind;
    for (int i = 0; i < mutants; i++) {
        size_t len = mutate(seed, n, buf, &rng);
        if (fuzz_reader_input(path, buf, len))
            fail_msg("mutant %d of the %s seed: a refusal without its line", i,
                     fuzz_reader_names[kind]);
    }
    free(seed);
    free(buf);
}

static void test_npy_mutants(void **state) { (void)state, fuzz_seed(FUZZ_NPY, 3000); }
static void test_checkpoint_mutants(void **state) { (void)state, fuzz_seed(FUZZ_CKPT, 3000); }
static void test_ini_mutants(void **state) { (void)state, fuzz_seed(FUZZ_INI, 3000); }
static void test_png_mutants(void **state) { (void)state, fuzz_seed(FUZZ_PNG, 2000); }
static void test_idx_mutants(void **state) { (void)state, fuzz_seed(FUZZ_IDX, 3000); }
static void test_csv_mutants(void **state) { (void)state, fuzz_seed(FUZZ_CSV, 3000); }
static void test_labels_mutants(void **state) { (void)state, fuzz_seed(FUZZ_LABELS, 1000); }
static void test_rans_mutants(void **state) { (void)state, fuzz_seed(FUZZ_RANS, 3000); }
static void test_graph_mutants(void **state) { (void)state, fuzz_seed(FUZZ_GRAPH, 3000); }
static void test_clae_mutants(void **state) { (void)state, fuzz_seed(FUZZ_CLAE, 3000); }
static void test_codec_mutants(void **state) { (void)state, fuzz_seed(FUZZ_CODEC, 3000); }

int main(int argc, char **argv)
{
    snprintf(path, sizeof path, "/tmp/clae_fuzz_readers_%d.bin", (int)getpid());
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        for (int kind = 0; kind < FUZZ_READERS; kind++) {
            size_t n;
            uint8_t *s = seed_of(kind, &n);
            char out[600];
            snprintf(out, sizeof out, "%s/%s.seed", argv[2], fuzz_reader_names[kind]);
            FILE *f = fopen(out, "wb");
            if (!f || fwrite(s, 1, n, f) != n || fclose(f)) return 1;
            free(s);
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_mutants),    cmocka_unit_test(test_checkpoint_mutants),
        cmocka_unit_test(test_ini_mutants),    cmocka_unit_test(test_png_mutants),
        cmocka_unit_test(test_idx_mutants),    cmocka_unit_test(test_csv_mutants),
        cmocka_unit_test(test_labels_mutants), cmocka_unit_test(test_rans_mutants),
        cmocka_unit_test(test_graph_mutants),  cmocka_unit_test(test_clae_mutants),
        cmocka_unit_test(test_codec_mutants),
    };
    int failed = cmocka_run_group_tests_name("fuzz_readers", tests, NULL, NULL);
    unlink(path);
    char cleanup[600];
    snprintf(cleanup, sizeof cleanup, "%s.folder", path);
    test_remove_tree(cleanup);
    return failed;
}
