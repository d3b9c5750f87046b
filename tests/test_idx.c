/* IDX reader on good, gzipped, truncated, wrong-magic, trailing-bytes and
 * corrupt-gzip files, written by the test itself. */
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "clae/data.h"
#include "helpers.h"

static char dir[256];

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

/* A 3x2x2 u8 image file: values 0..11. */
static size_t make_idx(unsigned char *buf)
{
    unsigned char head[16] = {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
    memcpy(buf, head, 16);
    for (int i = 0; i < 12; i++) buf[16 + i] = (unsigned char)i;
    return 28;
}

static void write_plain(const char *name, const unsigned char *data, size_t n)
{
    char p[300];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_gz(const char *name, const unsigned char *data, size_t n)
{
    char p[300];
    path_of(p, sizeof p, name);
    gzFile f = gzopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
    gzclose(f);
}

static void expect_error(const char *name, const char *fragment)
{
    char p[300];
    path_of(p, sizeof p, name);
    clae_idx x;
    clae_err err = {0};
    assert_int_equal(clae_idx_read(p, &x, &err), -1);
    if (!strstr(err.msg, fragment)) fail_msg("message '%s' lacks '%s'", err.msg, fragment);
    assert_non_null(strstr(err.msg, name)); /* names the file */
}

static void test_good_plain_and_gz(void **state)
{
    (void)state;
    unsigned char buf[64];
    size_t n = make_idx(buf);
    write_plain("good.idx", buf, n);
    write_gz("good.idx.gz", buf, n);
    const char *names[] = {"good.idx", "good.idx.gz"};
    for (int k = 0; k < 2; k++) {
        char p[300];
        path_of(p, sizeof p, names[k]);
        clae_idx x;
        clae_err err;
        if (clae_idx_read(p, &x, &err)) fail_msg("%s", err.msg);
        assert_int_equal(x.type, 0x08);
        assert_int_equal(x.ndims, 3);
        assert_int_equal(x.dims[0], 3);
        assert_int_equal(x.count, 12);
        assert_int_equal(x.u8[11], 11);
        clae_idx_free(&x);
    }
}

static void test_other_types(void **state)
{
    (void)state;
    /* big-endian int16 and float32 values */
    unsigned char s16[] = {0, 0, 0x0B, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x00};
    unsigned char f32[] = {0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0x00, 0x00};
    write_plain("s16.idx", s16, sizeof s16);
    write_plain("f32.idx", f32, sizeof f32);
    char p[300];
    clae_idx x;
    clae_err err;
    path_of(p, sizeof p, "s16.idx");
    assert_int_equal(clae_idx_read(p, &x, &err), 0);
    assert_float_equal(x.f32[0], -2.0, 0);
    assert_float_equal(x.f32[1], 256.0, 0);
    clae_idx_free(&x);
    path_of(p, sizeof p, "f32.idx");
    assert_int_equal(clae_idx_read(p, &x, &err), 0);
    assert_float_equal(x.f32[0], 1.5, 0);
    clae_idx_free(&x);
}

static void test_truncated(void **state)
{
    (void)state;
    unsigned char buf[64];
    size_t n = make_idx(buf);
    write_plain("short.idx", buf, n - 3);
    expect_error("short.idx", "truncated: the data needs 12 bytes but the file has 9");
    write_gz("short.idx.gz", buf, n - 3);
    expect_error("short.idx.gz", "truncated");
    write_plain("header.idx", buf, 6);
    expect_error("header.idx", "truncated");
    /* a header claiming 32 MiB over 13 bytes: read in growing parts, reported as a whole */
    const unsigned char big[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 4, 0, 0, 0, 0x80,
                                 0, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0};
    write_plain("claims.idx", big, sizeof big);
    expect_error("claims.idx", "truncated: the data needs 33554432 bytes but the file has 13");
}

static void test_wrong_magic(void **state)
{
    (void)state;
    unsigned char buf[64];
    size_t n = make_idx(buf);
    buf[0] = 0x1F; /* e.g. a PNG or text file */
    write_plain("magic.idx", buf, n);
    expect_error("magic.idx", "not an IDX file");
    make_idx(buf);
    buf[2] = 0x07; /* unknown type code */
    write_plain("type.idx", buf, n);
    expect_error("type.idx", "not an IDX file");
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    unsigned char buf[64];
    size_t n = make_idx(buf);
    buf[n] = 42;
    write_plain("long.idx", buf, n + 1);
    expect_error("long.idx", "trailing bytes");
}

static void test_corrupt_gzip(void **state)
{
    (void)state;
    unsigned char buf[4096];
    for (int i = 0; i < 4096; i++) buf[i] = (unsigned char)(i * 7);
    unsigned char head[16] = {0, 0, 0x08, 3, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 16};
    memcpy(buf, head, 16);
    write_gz("bad.gz", buf, 16 + 4096 - 16);
    char p[300];
    path_of(p, sizeof p, "bad.gz");
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    fseek(f, 30, SEEK_SET); /* inside the deflate stream */
    for (int i = 0; i < 8; i++) fputc(0xFF, f);
    fclose(f);
    expect_error("bad.gz", "gzip");
}

static void test_missing_file(void **state)
{
    (void)state;
    expect_error("nope.idx", "cannot open");
}

/* A u8 IDX with the given dimensions (big-endian) and count bytes of pixels. */
static void write_dims(const char *name, int ndims, const uint32_t *dims, size_t count)
{
    unsigned char *buf = calloc(4 + 4 * (size_t)ndims + count, 1);
    buf[2] = 0x08, buf[3] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++)
        for (int b = 0; b < 4; b++) buf[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    write_plain(name, buf, 4 + 4 * (size_t)ndims + count);
    free(buf);
}

static void expect_dataset_error(const char *name, const char *fragment)
{
    char p[300];
    path_of(p, sizeof p, name);
    clae_dataset d;
    clae_err err = {0};
    assert_int_equal(clae_dataset_load_idx(&d, p, NULL, 0, &err), -1);
    if (!strstr(err.msg, fragment)) fail_msg("message '%s' lacks '%s'", err.msg, fragment);
}

/* Shapes the data cannot take are refused at load (issue: a zero dimension
 * overflowed an upload, 4 channels indexed past the luma table, 2 channels
 * failed only when the grid was written after training, and 2^17 x 2^17 x 2^30
 * wrapped the size to 0). */
static void test_bad_shapes(void **state)
{
    (void)state;
    write_dims("zero.idx", 4, (uint32_t[]){10, 0, 28, 28}, 0);
    expect_dataset_error("zero.idx", "dimension 1 is 0: expected 1 to 65536");
    write_dims("rgba.idx", 4, (uint32_t[]){2, 4, 2, 2}, 32);
    expect_dataset_error("rgba.idx", "images of 4 channels: expected 1 (gray) or 3 (RGB)");
    write_dims("two.idx", 4, (uint32_t[]){2, 2, 2, 2}, 16);
    expect_dataset_error("two.idx", "images of 2 channels");
    write_dims("wrap.idx", 3, (uint32_t[]){1u << 17, 1u << 17, 1u << 30}, 0);
    expect_error("wrap.idx", "header declares more than");
    /* a short file whose header claims 4 GiB is truncated, not a 4 GiB allocation (fuzzer) */
    write_dims("claims.idx", 3, (uint32_t[]){1, 65536, 65536}, 10);
    expect_error("claims.idx", "truncated");
    write_dims("none.idx", 3, (uint32_t[]){0, 28, 28}, 0);
    expect_dataset_error("none.idx", "holds no images");
    write_dims("ok.idx", 4, (uint32_t[]){2, 3, 2, 2}, 24);
    char p[300];
    path_of(p, sizeof p, "ok.idx");
    clae_dataset d;
    clae_err err;
    assert_int_equal(clae_dataset_load_idx(&d, p, NULL, 0, &err), 0);
    assert_int_equal(d.sample.c, 3);
    clae_dataset_free(&d);
}

/* A folder, a FIFO (which would block open forever) and a device are not files. */
static void test_not_regular_files(void **state)
{
    (void)state;
    char p[300];
    path_of(p, sizeof p, "a_folder.idx");
    assert_int_equal(mkdir(p, 0755), 0);
    expect_error("a_folder.idx", "is a folder, not a file");
    path_of(p, sizeof p, "fifo.idx");
    assert_int_equal(mkfifo(p, 0644), 0);
    expect_error("fifo.idx", "not a regular file (a FIFO, socket or device)");
    clae_idx x;
    clae_err err;
    assert_int_equal(clae_idx_read("/dev/zero", &x, &err), -1);
    assert_non_null(strstr(err.msg, "/dev/zero: not a regular file"));
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/clae-test-idx-%ld", (long)getpid());
    if (mkdir(dir, 0755)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_plain_and_gz), cmocka_unit_test(test_other_types),
        cmocka_unit_test(test_truncated),         cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_trailing_bytes),    cmocka_unit_test(test_corrupt_gzip),
        cmocka_unit_test(test_missing_file),      cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_not_regular_files),
    };
    int rc = cmocka_run_group_tests_name("idx", tests, NULL, NULL);
    test_remove_tree(dir);
    return rc;
}
