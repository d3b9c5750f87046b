/* Runtime: device choice, error names, and the on-disk program cache (a second
 * context must load the program instead of compiling it; a corrupt cache entry
 * must fall back to a build). */
#include <sys/stat.h>
#include <unistd.h>

#include "clae/clock.h"
#include "clae/ops.h"
#include "helpers.h"

static char cache[256];

static void test_error_names(void **state)
{
    (void)state;
    assert_string_equal(clae_cl_error_name(-5), "CL_OUT_OF_RESOURCES");
    assert_string_equal(clae_cl_error_name(-4), "CL_MEM_OBJECT_ALLOCATION_FAILURE");
    assert_string_equal(clae_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
    assert_string_equal(clae_clblast_status_name(-1024), "CLBlastNotImplemented");
    assert_string_equal(clae_clblast_status_name(-2048), "CLBlastInvalidOverrideKernel");
    assert_string_equal(clae_clblast_status_name(-54), "CL_INVALID_WORK_GROUP_SIZE");
}

static void test_device_choice(void **state)
{
    (void)state;
    clae_device_info *list, d;
    int n;
    clae_err err;
    assert_int_equal(clae_list_devices(&list, &n, &err), 0);
    assert_true(n >= 1);
    char spec[32];
    snprintf(spec, sizeof spec, "%d:%d", list[0].platform_index, list[0].device_index);
    assert_int_equal(clae_select_device(spec, &d, &err), 0);
    assert_string_equal(d.name, list[0].name);
    assert_int_equal(clae_select_device(clae_device_kind_name(list[0].kind), &d, &err), 0);
    /* a name substring, case-insensitive */
    char sub[8] = {0};
    for (int i = 0; i < 4 && list[0].name[i]; i++)
        sub[i] = (char)(list[0].name[i] ^ 0x20 * ((list[0].name[i] | 0x20) >= 'a' &&
                                                  (list[0].name[i] | 0x20) <= 'z'));
    assert_int_equal(clae_select_device(sub, &d, &err), 0);
    assert_int_equal(clae_select_device("9:9", &d, &err), -1);
    assert_non_null(strstr(err.msg, "--device=9:9 matches no device"));
    assert_non_null(strstr(err.msg, list[0].name)); /* lists what exists */
    setenv("CLAE_DEVICE", "no-such-device", 1);
    assert_int_equal(clae_select_device(NULL, &d, &err), -1);
    assert_non_null(strstr(err.msg, "CLAE_DEVICE=no-such-device"));
    unsetenv("CLAE_DEVICE");
    free(list);
}

/* A rank of a job takes entry (local rank modulo the count) of a comma-separated spec; the CPU
 * serves every rank; a single spec is the same device for all. */
static void test_device_for_rank(void **state)
{
    (void)state;
    clae_device_info *list, d;
    int n;
    clae_err err;
    assert_int_equal(clae_list_devices(&list, &n, &err), 0);
    char spec[96];
    snprintf(spec, sizeof spec, "%d:%d,no-such-device", list[0].platform_index,
             list[0].device_index);
    for (int rank = 0; rank < 4; rank += 2) {
        assert_int_equal(clae_select_device_for_rank(spec, rank, &d, &err), 0);
        assert_string_equal(d.name, list[0].name);
    }
    assert_int_equal(clae_select_device_for_rank(spec, 3, &d, &err), -1);
    assert_non_null(strstr(err.msg, "--device=no-such-device matches no device"));
    if (list[0].kind == CLAE_DEV_CPU)
        for (int rank = 0; rank < 3; rank++) {
            assert_int_equal(clae_select_device_for_rank("cpu", rank, &d, &err), 0);
            assert_true(d.device == list[0].device || d.kind == CLAE_DEV_CPU);
        }
    snprintf(spec, sizeof spec, "%d:%d", list[0].platform_index, list[0].device_index);
    assert_int_equal(clae_select_device_for_rank(spec, 5, &d, &err), 0);
    assert_string_equal(d.name, list[0].name);
    free(list);
}

/* A context from the cache must have working kernels: fill a buffer. */
static void check_kernels_work(clae_ctx *ctx)
{
    clae_tensor t;
    float out[37];
    CHECK_OK(ctx, clae_tensor_create(ctx, (clae_shape){1, 37, 1, 1}, &t));
    CHECK_OK(ctx, clae_op_fill(ctx, &t, 37, 2.5f));
    CHECK_OK(ctx, clae_tensor_read(ctx, &t, out, 37));
    for (int i = 0; i < 37; i++) assert_float_equal(out[i], 2.5f, 0);
    clae_tensor_destroy(&t);
}

static void test_program_cache(void **state)
{
    (void)state;
    setenv("CLAE_CACHE_DIR", cache, 1);
    setenv("CLAE_PROGRAM_CACHE", "binary", 1); /* clae's own cache, on any driver */
    clae_ctx a, b, c;
    clae_err err;
    if (clae_ctx_create(&a, getenv("CLAE_TEST_DEVICE"), &err)) fail_msg("%s", err.msg);
    assert_false(a.program_from_cache); /* fresh cache dir: compiled */
    assert_int_equal(access(a.cache_path, R_OK), 0);
    check_kernels_work(&a);
    if (clae_ctx_create(&b, getenv("CLAE_TEST_DEVICE"), &err)) fail_msg("%s", err.msg);
    assert_true(b.program_from_cache); /* second run does not recompile */
    assert_string_equal(a.cache_path, b.cache_path);
    check_kernels_work(&b);
    print_message("program: built in %.3f s, loaded from cache in %.3f s\n", a.program_seconds,
                  b.program_seconds);
    /* a corrupt entry is rebuilt silently */
    FILE *f = fopen(a.cache_path, "wb");
    fputs("garbage", f);
    fclose(f);
    if (clae_ctx_create(&c, getenv("CLAE_TEST_DEVICE"), &err)) fail_msg("%s", err.msg);
    assert_false(c.program_from_cache);
    check_kernels_work(&c);
    clae_ctx_release(&a), clae_ctx_release(&b), clae_ctx_release(&c);
    unsetenv("CLAE_CACHE_DIR");
    unsetenv("CLAE_PROGRAM_CACHE");
}

/* Left to the driver's cache: no binary is written, and a rebuild carries a
 * define no earlier build had, so that the driver compiles it afresh. */
static void test_driver_cache(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s-driver", cache);
    setenv("CLAE_CACHE_DIR", dir, 1);
    setenv("CLAE_PROGRAM_CACHE", "driver", 1);
    clae_ctx a, b;
    clae_err err;
    if (clae_ctx_create(&a, getenv("CLAE_TEST_DEVICE"), &err)) fail_msg("%s", err.msg);
    assert_true(a.program_cache_driver);
    assert_false(a.program_from_cache);
    assert_string_equal(a.cache_path, "");
    assert_int_equal(access(dir, F_OK), -1); /* nothing written under clae's cache */
    check_kernels_work(&a);
    clae_ctx_opts fresh = {.device = getenv("CLAE_TEST_DEVICE"), .rebuild = true};
    if (clae_ctx_open(&b, &fresh, &err)) fail_msg("%s", err.msg);
    assert_non_null(strstr(b.build_options, "-DCLAE_REBUILD="));
    assert_null(strstr(a.build_options, "-DCLAE_REBUILD="));
    check_kernels_work(&b);
    print_message("driver cache: built in %.3f s, rebuilt in %.3f s\n", a.program_seconds,
                  b.program_seconds);
    clae_ctx_release(&a), clae_ctx_release(&b);
    unsetenv("CLAE_CACHE_DIR");
    unsetenv("CLAE_PROGRAM_CACHE");
}

/* Different build options must not share a cache entry. */
static void test_cache_keyed_by_options(void **state)
{
    (void)state;
    setenv("CLAE_CACHE_DIR", cache, 1);
    setenv("CLAE_PROGRAM_CACHE", "binary", 1);
    clae_ctx a, b;
    clae_err err;
    if (clae_ctx_create(&a, getenv("CLAE_TEST_DEVICE"), &err)) fail_msg("%s", err.msg);
    clae_ctx_opts with = {.device = getenv("CLAE_TEST_DEVICE"),
                          .cl_options = "-DCLAE_TEST_OPTION=1"};
    if (clae_ctx_open(&b, &with, &err)) fail_msg("%s", err.msg);
    assert_string_not_equal(a.cache_path, b.cache_path);
    assert_false(b.program_from_cache);
    clae_ctx_release(&a), clae_ctx_release(&b);
    unsetenv("CLAE_CACHE_DIR");
    unsetenv("CLAE_PROGRAM_CACHE");
}

int main(void)
{
    snprintf(cache, sizeof cache, "/tmp/clae-test-cache-%ld", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_names),     cmocka_unit_test(test_device_choice),
        cmocka_unit_test(test_device_for_rank), cmocka_unit_test(test_program_cache),
        cmocka_unit_test(test_driver_cache),    cmocka_unit_test(test_cache_keyed_by_options),
    };
    int rc = cmocka_run_group_tests_name("runtime", tests, NULL, NULL);
    test_remove_tree(cache);
    return rc;
}
