/* The embedding maps (no device): PCA finds the axes of a known covariance;
 * t-SNE's exact gradient is the derivative of its KL divergence, Barnes-Hut
 * with angle 0 is the exact gradient; t-SNE keeps three Gaussian clusters
 * apart, exact and Barnes-Hut, reproducibly and whatever the thread count;
 * the neighbours and the trustworthiness agree with naive references. */
#include <math.h>

#include "../src/embed/tsne_internal.h"
#include "clae/embed.h"
#include "helpers.h"

static double gauss(unsigned *seed)
{
    double u = 1.0 - (test_uniform(seed, 0, 1) * 0.999999), v = test_uniform(seed, 0, 1);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Points in d dims: along an orthonormal basis (Gram-Schmidt of random rows) with std sd[k]. */
static void known_covariance(size_t n, size_t d, const double *sd, double *basis, float *x)
{
    unsigned seed = 11;
    for (size_t k = 0; k < d; k++) {
        for (size_t i = 0; i < d; i++) basis[k * d + i] = gauss(&seed);
        for (size_t p = 0; p < k; p++) {
            double dot = 0;
            for (size_t i = 0; i < d; i++) dot += basis[k * d + i] * basis[p * d + i];
            for (size_t i = 0; i < d; i++) basis[k * d + i] -= dot * basis[p * d + i];
        }
        double norm = 0;
        for (size_t i = 0; i < d; i++) norm += basis[k * d + i] * basis[k * d + i];
        for (size_t i = 0; i < d; i++) basis[k * d + i] /= sqrt(norm);
    }
    for (size_t r = 0; r < n; r++) {
        double c[8];
        for (size_t k = 0; k < d; k++) c[k] = sd[k] * gauss(&seed);
        for (size_t i = 0; i < d; i++) {
            double v = 3.0; /* an offset PCA must remove */
            for (size_t k = 0; k < d; k++) v += c[k] * basis[k * d + i];
            x[r * d + i] = (float)v;
        }
    }
}

static void pca_recovers_axes(void **state)
{
    (void)state;
    enum { N = 4000, D = 6 };
    const double sd[D] = {5, 2, 1, 0.5, 0.3, 0.1};
    double basis[D * D], axes[2 * D], var[2];
    float *x = malloc(N * D * sizeof *x), *y = malloc(2 * N * sizeof *y);
    known_covariance(N, D, sd, basis, x);
    clae_err err;
    assert_int_equal(clae_pca(x, N, D, 2, 7, y, axes, var, &err), 0);
    for (int k = 0; k < 2; k++) {
        double dot = 0, big = 0;
        for (int i = 0; i < D; i++) dot += axes[k * D + i] * basis[k * D + i];
        assert_true(fabs(dot) > 0.999); /* the axis, up to sign */
        assert_true(fabs(var[k] / (sd[k] * sd[k]) - 1) < 0.08);
        for (int i = 0; i < D; i++)
            if (fabs(axes[k * D + i]) > fabs(big)) big = axes[k * D + i];
        assert_true(big > 0);   /* the sign convention */
        double mean = 0, v = 0; /* the projections: centred, with the variance reported */
        for (int r = 0; r < N; r++) mean += y[r * 2 + k];
        mean /= N;
        for (int r = 0; r < N; r++) v += (y[r * 2 + k] - mean) * (y[r * 2 + k] - mean);
        assert_true(fabs(mean) < 1e-3);
        assert_true(fabs(v / (N - 1) / var[k] - 1) < 1e-4);
    }
    assert_true(var[0] > var[1]);
    /* fewer points than values: the covariance is applied, not formed; the same axes */
    enum { FEW = 30, WIDE = 50 };
    float wide[FEW * WIDE], wy[FEW * 2];
    double waxes[2 * WIDE];
    unsigned seed = 5;
    for (int r = 0; r < FEW; r++) {
        double a = 4 * gauss(&seed), b = 1.5 * gauss(&seed);
        for (int i = 0; i < WIDE; i++)
            wide[r * WIDE + i] = (float)((i == 3 ? a : 0) + (i == 17 ? b : 0) +
                                         0.01 * gauss(&seed));
    }
    assert_int_equal(clae_pca(wide, FEW, WIDE, 2, 7, wy, waxes, NULL, &err), 0);
    for (int c = 0; c < 2; c++) /* both axes in the plane of the two directions */
        assert_true(waxes[c * WIDE + 3] * waxes[c * WIDE + 3] +
                        waxes[c * WIDE + 17] * waxes[c * WIDE + 17] >
                    0.999);
    assert_true(fabs(waxes[3]) > 0.98); /* the first along the wider one */
    assert_int_not_equal(clae_pca(x, 1, D, 2, 7, y, NULL, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "at least 2 points"));
    free(x), free(y);
}

/* A random symmetric P of n points (zero diagonal, sum 1) and a random map. */
static void random_problem(size_t n, double *p, double *y, unsigned seed)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double v = i == j ? 0 : test_uniform(&seed, 0.01f, 1);
            p[i * n + j] = p[j * n + i] = v, total += i == j ? 0 : 2 * v;
        }
    for (size_t e = 0; e < n * n; e++) p[e] /= total;
    for (size_t c = 0; c < 2 * n; c++) y[c] = test_uniform(&seed, -2, 2);
}

static void exact_gradient_is_kl_derivative(void **state)
{
    (void)state;
    enum { N = 23 };
    double p[N * N], y[2 * N], grad[2 * N], g2[2 * N], kl_plus, kl_minus, kl;
    random_problem(N, p, y, 5);
    clae_err err;
    assert_int_equal(tsne_gradient_exact(p, N, 1.0, y, true, 2, grad, &kl, &err), 0);
    assert_true(kl > 0);
    const double h = 1e-6;
    for (size_t c = 0; c < 2 * N; c++) {
        double keep = y[c];
        y[c] = keep + h;
        tsne_gradient_exact(p, N, 1.0, y, true, 1, g2, &kl_plus, &err);
        y[c] = keep - h;
        tsne_gradient_exact(p, N, 1.0, y, true, 1, g2, &kl_minus, &err);
        y[c] = keep;
        double fd = (kl_plus - kl_minus) / (2 * h);
        assert_true(fabs(fd - grad[c]) <= 1e-6 + 1e-5 * fabs(fd));
    }
}

/* Barnes-Hut with angle 0 sums every pair: the exact gradient and KL on the same P. */
static void barnes_hut_at_angle_zero_is_exact(void **state)
{
    (void)state;
    enum { N = 57 };
    double p[N * N], y[2 * N], exact[2 * N], bh[2 * N], kl_exact, kl_bh;
    random_problem(N, p, y, 9);
    size_t row[N + 1];
    int32_t col[N * N];
    double val[N * N];
    size_t e = 0;
    for (size_t i = 0; i < N; i++) {
        row[i] = e;
        for (size_t j = 0; j < N; j++)
            if (j != i) col[e] = (int32_t)j, val[e++] = p[i * N + j];
    }
    row[N] = e;
    tsne_sparse_p sp = {N, row, col, val};
    clae_err err;
    assert_int_equal(tsne_gradient_exact(p, N, 3.0, y, true, 2, exact, &kl_exact, &err), 0);
    assert_int_equal(tsne_gradient_bh(&sp, 3.0, y, 0.0, true, 2, bh, &kl_bh, &err), 0);
    for (size_t c = 0; c < 2 * N; c++) assert_true(fabs(exact[c] - bh[c]) < 1e-9);
    assert_true(fabs(kl_exact - kl_bh) < 1e-9);
    /* angle 0.5 approximates it */
    assert_int_equal(tsne_gradient_bh(&sp, 3.0, y, 0.5, false, 2, bh, &kl_bh, &err), 0);
    double diff = 0, norm = 0;
    for (size_t c = 0; c < 2 * N; c++)
        diff += (exact[c] - bh[c]) * (exact[c] - bh[c]), norm += exact[c] * exact[c];
    assert_true(sqrt(diff / norm) < 0.05);
    /* points on top of each other are one leaf: they do not push each other, but count in
     * the normaliser, so angle 0 is still the exact gradient and KL */
    for (size_t i = 0; i < 5; i++) y[2 * i] = y[0], y[2 * i + 1] = y[1];
    assert_int_equal(tsne_gradient_exact(p, N, 1.0, y, true, 2, exact, &kl_exact, &err), 0);
    assert_int_equal(tsne_gradient_bh(&sp, 1.0, y, 0.0, true, 2, bh, &kl_bh, &err), 0);
    for (size_t c = 0; c < 2 * N; c++) assert_true(fabs(exact[c] - bh[c]) < 1e-9);
    assert_true(fabs(kl_exact - kl_bh) < 1e-9);
}

/* Three Gaussian clusters in 50 dimensions, centres 10 apart, unit spread. */
static float *three_clusters(size_t per, int *label)
{
    enum { D = 50 };
    float *x = malloc(3 * per * D * sizeof *x);
    unsigned seed = 3;
    for (size_t r = 0; r < 3 * per; r++) {
        label[r] = (int)(r % 3);
        for (int i = 0; i < D; i++)
            x[r * D + i] = (float)((i == label[r] ? 10.0 : 0.0) + gauss(&seed));
    }
    return x;
}

/* The fraction of each point's 5 nearest map neighbours with its label. */
static double purity(const float *y, size_t n, const int *label)
{
    int32_t nn[5 * 3000];
    float d2[5 * 3000];
    clae_err err;
    assert_true(n <= 3000);
    assert_int_equal(clae_knn(y, n, 2, 5, 2, nn, d2, &err), 0);
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 5; k++) same += label[nn[i * 5 + k]] == label[i];
    return (double)same / (5.0 * n);
}

static void tsne_keeps_clusters(clae_tsne_method method, size_t per)
{
    int label[3000];
    float *x = three_clusters(per, label);
    size_t n = 3 * per;
    float *y = malloc(2 * n * sizeof *y), *again = malloc(2 * n * sizeof *again);
    clae_tsne_opts o;
    clae_tsne_defaults(&o);
    o.method = method, o.seed = 4, o.threads = 2;
    clae_tsne_info info;
    clae_err err;
    assert_int_equal(clae_tsne(x, n, 50, &o, y, &info, &err), 0);
    assert_int_equal(info.exact, method == CLAE_TSNE_EXACT);
    assert_true(info.iterations > 250 && info.kl > 0 && isfinite(info.kl));
    assert_true(fabs(info.learning_rate - fmax(n / 48.0, 50)) < 1e-12);
    double pur = purity(y, n, label);
    print_message("    %s, %zu points: purity %.4f, KL %.4f after %d iterations\n",
                  info.exact ? "exact" : "Barnes-Hut", n, pur, info.kl, info.iterations);
    assert_true(pur >= 0.95);
    o.threads = 1; /* the same map on one thread */
    assert_int_equal(clae_tsne(x, n, 50, &o, again, NULL, &err), 0);
    assert_memory_equal(y, again, 2 * n * sizeof *y);
    free(x), free(y), free(again);
}

static void tsne_exact_clusters(void **state)
{
    (void)state, tsne_keeps_clusters(CLAE_TSNE_EXACT, 100);
}
static void tsne_bh_clusters(void **state)
{
    (void)state, tsne_keeps_clusters(CLAE_TSNE_BARNES_HUT, 400);
}

static void tsne_refuses_bad_options(void **state)
{
    (void)state;
    float x[40] = {0};
    float y[40];
    clae_tsne_opts o;
    clae_tsne_defaults(&o);
    clae_err err;
    assert_int_not_equal(clae_tsne(x, 20, 2, &o, y, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "perplexity 30"));
    o.perplexity = 5, o.n_iter = 100;
    assert_int_not_equal(clae_tsne(x, 20, 2, &o, y, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "100 iterations"));
}

/* naive references: sort every row */
static double sq_dist(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t i = 0; i < d; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return s;
}

static void knn_matches_naive(void **state)
{
    (void)state;
    enum { N = 90, D = 7, K = 6 };
    float x[N * D];
    unsigned seed = 21;
    for (int i = 0; i < N * D; i++) x[i] = test_uniform(&seed, -1, 1);
    int32_t nn[N * K];
    float d2[N * K];
    clae_err err;
    assert_int_equal(clae_knn(x, N, D, K, 2, nn, d2, &err), 0);
    for (int i = 0; i < N; i++) {
        int below = 0; /* the k-th neighbour's distance has exactly k - 1 points nearer */
        double kth = sq_dist(x + i * D, x + nn[i * K + K - 1] * D, D);
        for (int j = 0; j < N; j++)
            if (j != i && sq_dist(x + i * D, x + j * D, D) < kth - 1e-9) below++;
        assert_int_equal(below, K - 1);
        for (int k = 1; k < K; k++) assert_true(d2[i * K + k - 1] <= d2[i * K + k]);
        assert_true(fabs(d2[i * K] - sq_dist(x + i * D, x + nn[i * K] * D, D)) < 1e-5);
    }
    assert_int_not_equal(clae_knn(x, N, D, N, 1, nn, d2, &err), 0);
}

static double naive_trust(const float *x, const float *y, size_t n, size_t d, int k)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t nn[16];
        float nd[16];
        clae_err err;
        (void)err;
        /* map neighbours: the k smallest 2-D distances */
        for (int m = 0; m < k; m++) nd[m] = INFINITY, nn[m] = -1;
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            float dj = (float)sq_dist(y + 2 * i, y + 2 * j, 2);
            int at = k;
            while (at > 0 && nd[at - 1] > dj) at--;
            if (at == k) continue;
            for (int m = k - 1; m > at; m--) nd[m] = nd[m - 1], nn[m] = nn[m - 1];
            nd[at] = dj, nn[at] = (int32_t)j;
        }
        for (int m = 0; m < k; m++) {
            double dj = sq_dist(x + i * d, x + (size_t)nn[m] * d, d);
            size_t r = 1;
            for (size_t l = 0; l < n; l++)
                if (l != i && sq_dist(x + i * d, x + l * d, d) < dj) r++;
            if (r > (size_t)k) sum += (double)(r - (size_t)k);
        }
    }
    return 1 - sum * 2.0 / ((double)n * k * (2.0 * n - 3.0 * k - 1.0));
}

static void trustworthiness_matches_naive(void **state)
{
    (void)state;
    enum { N = 120, D = 5, K = 10 };
    float x[N * D], y[N * 2], same[N * 2];
    unsigned seed = 8;
    for (int i = 0; i < N * D; i++) x[i] = test_uniform(&seed, -1, 1);
    for (int i = 0; i < N; i++) {
        y[2 * i] = x[i * D] + 0.3f * test_uniform(&seed, -1, 1), y[2 * i + 1] = x[i * D + 1];
        same[2 * i] = x[i * D], same[2 * i + 1] = x[i * D + 1];
    }
    clae_err err;
    double t = clae_trustworthiness(x, N, D, y, 2, K, 2, &err);
    assert_true(fabs(t - naive_trust(x, y, N, D, K)) < 1e-12);
    assert_true(t > 0.5 && t < 1);
    /* a map that is the points themselves is perfectly trustworthy */
    assert_true(clae_trustworthiness(same, N, 2, same, 2, K, 2, &err) == 1.0);
    assert_true(isnan(clae_trustworthiness(x, 6, D, y, 2, K, 2, &err)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pca_recovers_axes),
        cmocka_unit_test(exact_gradient_is_kl_derivative),
        cmocka_unit_test(barnes_hut_at_angle_zero_is_exact),
        cmocka_unit_test(knn_matches_naive),
        cmocka_unit_test(trustworthiness_matches_naive),
        cmocka_unit_test(tsne_refuses_bad_options),
        cmocka_unit_test(tsne_exact_clusters),
        cmocka_unit_test(tsne_bh_clusters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
