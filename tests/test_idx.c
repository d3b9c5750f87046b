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

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/clae-test-idx-%ld", (long)getpid());
    if (mkdir(dir, 0755)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_plain_and_gz), cmocka_unit_test(test_other_types),
        cmocka_unit_test(test_truncated),         cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_trailing_bytes),    cmocka_unit_test(test_corrupt_gzip),
        cmocka_unit_test(test_missing_file),
    };
    int rc = cmocka_run_group_tests_name("idx", tests, NULL, NULL);
    test_remove_tree(dir);
    return rc;
}
