/* Run with OCL_ICD_VENDORS pointing at an empty folder: no OpenCL platform.
 * The message must say so and name the package to install. */
#include "helpers.h"

static void test_no_platform_message(void **state)
{
    (void)state;
    clae_device_info *list, d;
    int n;
    clae_err err = {0};
    assert_int_equal(clae_list_devices(&list, &n, &err), -1);
    assert_non_null(strstr(err.msg, "no OpenCL platform found"));
    assert_non_null(strstr(err.msg, "pocl-opencl-icd"));
    assert_int_equal(clae_select_device(NULL, &d, &err), -1);
    assert_non_null(strstr(err.msg, "pocl-opencl-icd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_platform_message)};
    return cmocka_run_group_tests_name("no_platform", tests, NULL, NULL);
}
