/* PSNR and SSIM against a direct, unseparated double-precision evaluation of
 * their definitions (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1
 * 0.01, K2 0.03, valid region, data range 1), plus their known properties. */
#include <math.h>

#include "clae/train.h"
#include "helpers.h"

/* SSIM straight from the definition: the 2-D window at every valid position. */
static double ssim_direct(const float *y, const float *x, clae_shape s)
{
    double w[11][11], ws = 0, total = 0;
    for (int i = 0; i < 11; i++)
        for (int j = 0; j < 11; j++)
            ws += w[i][j] = exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * 1.5 * 1.5));
    for (int c = 0; c < s.c; c++) {
        const float *a = x + (size_t)c * s.h * s.w, *b = y + (size_t)c * s.h * s.w;
        double plane = 0;
        for (int r = 0; r + 11 <= s.h; r++)
            for (int q = 0; q + 11 <= s.w; q++) {
                double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
                for (int i = 0; i < 11; i++)
                    for (int j = 0; j < 11; j++) {
                        double k = w[i][j] / ws, u = a[(r + i) * s.w + q + j],
                               v = b[(r + i) * s.w + q + j];
                        mx += k * u, my += k * v, xx += k * u * u, yy += k * v * v, xy += k * u * v;
                    }
                double vx = xx - mx * mx, vy = yy - my * my, cxy = xy - mx * my, c1 = 1e-4,
                       c2 = 9e-4;
                plane += (2 * mx * my + c1) * (2 * cxy + c2) /
                         ((mx * mx + my * my + c1) * (vx + vy + c2));
            }
        total += plane / ((s.h - 10) * (s.w - 10));
    }
    return total / s.c;
}

static void fill(float *v, size_t n, unsigned seed, float noise, const float *base)
{
    for (size_t i = 0; i < n; i++) {
        float b = base ? base[i] : test_uniform(&seed, 0, 1);
        v[i] = fminf(1, fmaxf(0, b + (base ? test_uniform(&seed, -noise, noise) : 0)));
    }
}

static void test_ssim_reference(void **state)
{
    (void)state;
    static const clae_shape shapes[] = {
        {1, 1, 11, 11}, {1, 3, 16, 23}, {1, 1, 28, 28}, {1, 3, 12, 40}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t n = clae_shape_sample(shapes[k]);
        float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
        fill(x, n, 3 + (unsigned)k, 0, NULL);
        for (int level = 0; level < 3; level++) {
            float noise = level == 0 ? 0.02f : level == 1 ? 0.2f : 1.0f;
            fill(y, n, 9 + (unsigned)k, noise, x);
            double s = clae_ssim(y, x, shapes[k]), ref = ssim_direct(y, x, shapes[k]);
            assert_float_equal(s, ref, 1e-9);
            assert_true(s < 1 && s > -1);
            assert_float_equal(clae_ssim(x, y, shapes[k]), s, 1e-12); /* symmetric */
        }
        assert_float_equal(clae_ssim(x, x, shapes[k]), 1.0, 1e-12);
        free(x), free(y);
    }
    float tiny[10 * 10] = {0};
    assert_true(
        isnan(clae_ssim(tiny, tiny, (clae_shape){1, 1, 10, 10}))); /* smaller than the window */
}

static void test_ssim_orders_quality(void **state)
{
    (void)state;
    clae_shape s = {1, 1, 32, 32};
    float x[32 * 32], a[32 * 32], b[32 * 32];
    fill(x, 1024, 5, 0, NULL);
    fill(a, 1024, 6, 0.05f, x);
    fill(b, 1024, 6, 0.3f, x);
    assert_true(clae_ssim(a, x, s) > clae_ssim(b, x, s));
    assert_true(clae_psnr(a, x, s) > clae_psnr(b, x, s));
}

static void test_psnr(void **state)
{
    (void)state;
    clae_shape s = {1, 2, 3, 5};
    float x[30], y[30];
    for (int i = 0; i < 30; i++) x[i] = (float)i / 30.0f, y[i] = x[i] + (i % 2 ? 0.1f : -0.1f);
    assert_float_equal(clae_psnr(y, x, s), 20.0, 1e-4); /* mse 0.01: 10 log10(1 / 0.01) */
    assert_float_equal(clae_psnr(x, x, s), 100.0, 0);   /* identical: capped */
    y[7] = NAN; /* a diverged output is not a perfect match (it read 100 dB) */
    assert_true(isnan(clae_psnr(y, x, s)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ssim_reference),
        cmocka_unit_test(test_ssim_orders_quality),
        cmocka_unit_test(test_psnr),
    };
    return cmocka_run_group_tests_name("quality", tests, NULL, NULL);
}
