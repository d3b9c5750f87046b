/* .npy files: the bytes numpy expects (magic, version 1.0, the header dict
 * padded to 64 bytes and ended by a newline, little-endian float32), read
 * back, and every malformed file refused with one line. No device needed. */
#include <unistd.h>

#include "clae/io.h"
#include "helpers.h"

static char dir[256];

static void path_of(const char *name, char *out, size_t n) { snprintf(out, n, "%s/%s", dir, name); }

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* a hand-made file: magic, version, header text (padded as given), n floats */
static void write_npy(const char *path, int major, const char *header, size_t n_floats)
{
    unsigned char buf[4096];
    size_t hl = strlen(header), at = 0;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major, buf[7] = 0;
    at = 8;
    for (int i = 0; i < (major == 1 ? 2 : 4); i++)
        buf[at++] = (unsigned char)((hl >> (8 * i)) & 0xFF);
    memcpy(buf + at, header, hl);
    at += hl;
    for (size_t i = 0; i < n_floats; i++) {
        float v = (float)i * 0.5f;
        memcpy(buf + at, &v, 4);
        at += 4;
    }
    write_bytes(path, buf, at);
}

static void test_round_trip_and_bytes(void **state)
{
    (void)state;
    char p[300];
    path_of("codes.npy", p, sizeof p);
    float z[3 * 5];
    for (int i = 0; i < 15; i++) z[i] = (float)i - 7.25f;
    clae_err err;
    if (clae_npy_write(p, z, 3, 5, &err)) fail_msg("%s", err.msg);
    FILE *f = fopen(p, "rb");
    unsigned char raw[200];
    size_t n = fread(raw, 1, sizeof raw, f);
    fclose(f);
    assert_memory_equal(raw, "\x93NUMPY\x01\x00", 8);
    size_t hl = raw[8] | (size_t)raw[9] << 8;
    assert_int_equal((10 + hl) % 64, 0); /* numpy's alignment: 128 bytes here */
    assert_int_equal(n, 10 + hl + 15 * 4);
    assert_int_equal(raw[10 + hl - 1], '\n');
    char dict[200];
    memcpy(dict, raw + 10, hl);
    dict[hl] = 0;
    assert_non_null(strstr(dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }"));
    assert_memory_equal(raw + 10 + hl, z, sizeof z);
    float *back;
    size_t rows, cols;
    if (clae_npy_read(p, &back, &rows, &cols, &err)) fail_msg("%s", err.msg);
    assert_int_equal(rows, 3);
    assert_int_equal(cols, 5);
    assert_memory_equal(back, z, sizeof z);
    free(back);
}

static void test_numpy_variants(void **state)
{
    (void)state;
    char p[300];
    float *v;
    size_t rows, cols;
    clae_err err;
    path_of("v1.npy", p, sizeof p);
    write_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }   \n", 4);
    if (clae_npy_read(p, &v, &rows, &cols, &err)) fail_msg("%s", err.msg);
    assert_int_equal(rows, 4);
    assert_int_equal(cols, 1);
    assert_true(v[3] == 1.5f);
    free(v);
    path_of("v2.npy", p, sizeof p);
    write_npy(p, 2, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}\n", 6);
    if (clae_npy_read(p, &v, &rows, &cols, &err)) fail_msg("%s", err.msg);
    assert_int_equal(rows * 10 + cols, 23);
    free(v);
}

static void expect_refused(const char *name, int major, const char *header, size_t n,
                           const char *fragment)
{
    char p[300];
    path_of(name, p, sizeof p);
    write_npy(p, major, header, n);
    float *v = (float *)1;
    size_t rows, cols;
    clae_err err;
    assert_int_not_equal(clae_npy_read(p, &v, &rows, &cols, &err), 0);
    assert_null(v);
    if (!strstr(err.msg, fragment)) fail_msg("'%s' lacks '%s'", err.msg, fragment);
    assert_null(strchr(err.msg, '\n'));
}

static void test_refused(void **state)
{
    (void)state;
    expect_refused("f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n", 8,
                   "dtype '<f8': expected float32");
    expect_refused("fo.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", 4,
                   "Fortran order");
    expect_refused("r3.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }\n",
                   8, "expected (N, D) or (N,)");
    expect_refused("short.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
                   5, "truncated: the header says 2 x 3 floats (24 bytes) but 20 follow");
    expect_refused("long.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
                   7, "trailing bytes");
    expect_refused("v9.npy", 9, "{}", 0, "format 9.0");
    /* header bytes are shown printable: the error stays one line (found by test_fuzz_readers) */
    expect_refused("nl.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2\n, 2), }\n",
                   4, "shape (2?, 2): expected (N, D) or (N,)");
    expect_refused("f\001.npy", 1,
                   "{'descr': '<f\0018', 'fortran_order': False, 'shape': (1,), }\n", 1,
                   "dtype '<f?8': expected float32");
    expect_refused("nohdr.npy", 1, "{'descr': '<f4'}\n", 0, "not a .npy header");
    char p[300];
    path_of("png.npy", p, sizeof p);
    write_bytes(p, "\x89PNG\r\n\x1a\n....", 12);
    float *v;
    size_t rows, cols;
    clae_err err;
    assert_int_not_equal(clae_npy_read(p, &v, &rows, &cols, &err), 0);
    assert_non_null(strstr(err.msg, "not a .npy file"));
    path_of("missing.npy", p, sizeof p);
    assert_int_not_equal(clae_npy_read(p, &v, &rows, &cols, &err), 0);
    assert_non_null(strstr(err.msg, "cannot open: No such file"));
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/clae_test_npy_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd) != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_bytes),
        cmocka_unit_test(test_numpy_variants),
        cmocka_unit_test(test_refused),
    };
    int failed = cmocka_run_group_tests_name("npy", tests, NULL, NULL);
    test_remove_tree(dir);
    return failed;
}
