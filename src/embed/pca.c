/* PCA by subspace iteration: a block of k + 8 seeded random directions is
 * multiplied by the covariance and re-orthonormalised until the leading
 * Rayleigh-Ritz values settle; the block's small eigenproblem (Jacobi) then
 * gives the axes. With more points than values (up to 4,096 values) the
 * covariance is formed once on every core and each iteration costs d^2 per
 * direction; otherwise it is applied as X^T (X Q), never formed. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clae/embed.h"
#include "clae/parallel.h"
#include "clae/rng.h"

#define OVERSAMPLE 8
#define MAX_ITER 300
#define COV_MAX_D 4096 /* a covariance of up to 128 MiB is formed */
#define RNG_STREAM_PCA 0x50434131u

/* Gaussian by Box-Muller */
static double normal(clae_rng *r)
{
    double u = 1.0 - clae_rng_uniform(r), v = clae_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Modified Gram-Schmidt on the b columns of q (d x b, row-major); a column
 * that vanishes is replaced by a unit vector along an axis it lacks. */
static void orthonormalise(double *q, size_t d, size_t b)
{
    size_t replaced = 0;
    for (size_t c = 0; c < b; c++) {
        for (int pass = 0; pass < 2; pass++)
            for (size_t p = 0; p < c; p++) {
                double dot = 0;
                for (size_t i = 0; i < d; i++) dot += q[i * b + p] * q[i * b + c];
                for (size_t i = 0; i < d; i++) q[i * b + c] -= dot * q[i * b + p];
            }
        double norm = 0;
        for (size_t i = 0; i < d; i++) norm += q[i * b + c] * q[i * b + c];
        norm = sqrt(norm);
        if (norm < 1e-150 && replaced < d) { /* try the axes in turn */
            for (size_t i = 0; i < d; i++) q[i * b + c] = i == replaced;
            replaced++;
            c--; /* orthonormalise the replacement against the others */
            continue;
        }
        if (norm < 1e-150) norm = 1; /* b <= d: unreachable with a full set of axes */
        for (size_t i = 0; i < d; i++) q[i * b + c] /= norm;
    }
}

/* Eigen-decomposition of the symmetric b x b matrix a (destroyed) by cyclic
 * Jacobi: values in val, vectors in the columns of v, sorted descending. */
static void jacobi(double *a, size_t b, double *val, double *v)
{
    for (size_t i = 0; i < b * b; i++) v[i] = i % (b + 1) == 0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (size_t p = 0; p < b; p++)
            for (size_t q = p + 1; q < b; q++) off += a[p * b + q] * a[p * b + q];
        if (off < 1e-30) break;
        for (size_t p = 0; p < b; p++)
            for (size_t q = p + 1; q < b; q++) {
                if (fabs(a[p * b + q]) < 1e-300) continue;
                double theta = (a[q * b + q] - a[p * b + p]) / (2 * a[p * b + q]);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < b; k++) { /* columns p, q */
                    double akp = a[k * b + p], akq = a[k * b + q];
                    a[k * b + p] = c * akp - s * akq, a[k * b + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < b; k++) { /* rows p, q */
                    double apk = a[p * b + k], aqk = a[q * b + k];
                    a[p * b + k] = c * apk - s * aqk, a[q * b + k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < b; k++) {
                    double vkp = v[k * b + p], vkq = v[k * b + q];
                    v[k * b + p] = c * vkp - s * vkq, v[k * b + q] = s * vkp + c * vkq;
                }
            }
    }
    for (size_t i = 0; i < b; i++) val[i] = a[i * b + i];
    for (size_t i = 0; i < b; i++) { /* selection sort, descending, columns with values */
        size_t best = i;
        for (size_t j = i + 1; j < b; j++)
            if (val[j] > val[best]) best = j;
        if (best == i) continue;
        double t = val[i];
        val[i] = val[best], val[best] = t;
        for (size_t k = 0; k < b; k++)
            t = v[k * b + i], v[k * b + i] = v[k * b + best], v[k * b + best] = t;
    }
}

typedef struct {
    float *xc;   /* n x d centred points */
    double *cov; /* d x d covariance, when formed (n > d, d <= COV_MAX_D); else NULL */
    double *q, *z, *w, *small, *val, *vec, *prev;
} pca_work;

static void work_free(pca_work *w)
{
    free(w->xc), free(w->cov), free(w->q), free(w->z), free(w->w);
    free(w->small), free(w->val), free(w->vec), free(w->prev);
}

typedef struct {
    const float *xt; /* d x n */
    size_t n, d;
    double *cov;
} cov_job;

/* rows i = share, share + shares, ... of the covariance (the upper triangle, mirrored) */
static void cov_share(void *arg, int share, int shares)
{
    cov_job *j = arg;
    for (size_t i = (size_t)share; i < j->d; i += (size_t)shares)
        for (size_t k = i; k < j->d; k++) {
            const float *a = j->xt + i * j->n, *b = j->xt + k * j->n;
            double sum = 0;
            for (size_t r0 = 0; r0 < j->n; r0 += 1024) { /* float chunks, added in double */
                float part = 0;
                size_t r1 = r0 + 1024 < j->n ? r0 + 1024 : j->n;
                for (size_t r = r0; r < r1; r++) part += a[r] * b[r];
                sum += part;
            }
            j->cov[i * j->d + k] = j->cov[k * j->d + i] = sum / (double)(j->n - 1);
        }
}

/* The covariance of the centred points, on every core; -1 when out of memory. */
static int form_covariance(pca_work *w, size_t n, size_t d)
{
    float *xt = malloc(n * d * sizeof *xt);
    w->cov = malloc(d * d * sizeof *w->cov);
    if (!xt || !w->cov) return free(xt), -1;
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < d; i++) xt[i * n + r] = w->xc[r * d + i];
    cov_job job = {xt, n, d, w->cov};
    int threads = clae_host_threads();
    clae_parallel_shares(threads < (int)d ? threads : (int)d, cov_share, &job);
    free(xt);
    return 0;
}

/* w->w (d x b) = C q: with the formed covariance, or as xc^T (xc q) / (n - 1) */
static void apply_covariance(pca_work *w, size_t n, size_t d, size_t b)
{
    if (w->cov) {
        for (size_t i = 0; i < d; i++)
            for (size_t c = 0; c < b; c++) {
                double s = 0;
                for (size_t k = 0; k < d; k++) s += w->cov[i * d + k] * w->q[k * b + c];
                w->w[i * b + c] = s;
            }
        return;
    }
    for (size_t r = 0; r < n; r++) {
        double *zr = w->z + r * b;
        memset(zr, 0, b * sizeof *zr);
        for (size_t i = 0; i < d; i++)
            for (size_t c = 0; c < b; c++) zr[c] += (double)w->xc[r * d + i] * w->q[i * b + c];
    }
    memset(w->w, 0, d * b * sizeof *w->w);
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < d; i++) {
            double v = w->xc[r * d + i] / (double)(n - 1);
            for (size_t c = 0; c < b; c++) w->w[i * b + c] += v * w->z[r * b + c];
        }
}

/* Iterates the block q (d x b) towards the leading axes; on return val and vec hold the
 * Rayleigh-Ritz pairs of q^T C q for the q left in w->q. */
static void iterate(pca_work *w, size_t n, size_t d, size_t b, int k)
{
    for (int it = 0; it < MAX_ITER; it++) {
        apply_covariance(w, n, d, b);
        for (size_t p = 0; p < b; p++)
            for (size_t c = 0; c < b; c++) {
                double s = 0;
                for (size_t i = 0; i < d; i++) s += w->q[i * b + p] * w->w[i * b + c];
                w->small[p * b + c] = s;
            }
        for (size_t p = 0; p < b; p++) /* symmetric up to rounding: make it exactly so */
            for (size_t c = p + 1; c < b; c++)
                w->small[p * b + c] = w->small[c * b + p] = 0.5 * (w->small[p * b + c] +
                                                                   w->small[c * b + p]);
        jacobi(w->small, b, w->val, w->vec);
        double change = 0;
        for (int c = 0; c < k; c++)
            change = fmax(change, fabs(w->val[c] - w->prev[c]) / fmax(fabs(w->val[c]), 1e-300));
        memcpy(w->prev, w->val, b * sizeof *w->val);
        if ((it > 2 && change < 1e-12) || it + 1 == MAX_ITER) break; /* q matches val, vec */
        memcpy(w->q, w->w, d * b * sizeof *w->q);
        orthonormalise(w->q, d, b);
    }
}

int clae_pca(const float *x, size_t n, size_t d, int k, uint64_t seed, float *y, double *axes,
             double *variance, clae_err *err)
{
    if (n < 2 || d < (size_t)k || k < 1)
        return clae_fail(err,
                         "PCA to %d dimensions of %zu points of %zu values: expected at "
                         "least 2 points and %d values",
                         k, n, d, k);
    size_t b = (size_t)k + OVERSAMPLE < d ? (size_t)k + OVERSAMPLE : d;
    bool formed = n > d && d <= COV_MAX_D; /* C costs n d^2 once, then d^2 b per iteration */
    pca_work w = {malloc(n * d * sizeof(float)),  NULL,
                  malloc(d * b * sizeof(double)), formed ? NULL : malloc(n * b * sizeof(double)),
                  malloc(d * b * sizeof(double)), malloc(b * b * sizeof(double)),
                  malloc(b * sizeof(double)),     malloc(b * b * sizeof(double)),
                  calloc(b, sizeof(double))};
    if (!w.xc || !w.q || (!formed && !w.z) || !w.w || !w.small || !w.val || !w.vec || !w.prev) {
        work_free(&w);
        return clae_fail(err, "out of host memory for PCA of %zu points", n);
    }
    for (size_t i = 0; i < d; i++) {
        double mean = 0;
        for (size_t r = 0; r < n; r++) mean += x[r * d + i];
        mean /= (double)n;
        for (size_t r = 0; r < n; r++) w.xc[r * d + i] = (float)(x[r * d + i] - mean);
    }
    if (formed && form_covariance(&w, n, d)) {
        work_free(&w);
        return clae_fail(err, "out of host memory for the %zu x %zu covariance", d, d);
    }
    clae_rng rng;
    clae_rng_seed(&rng, seed, RNG_STREAM_PCA);
    for (size_t i = 0; i < d * b; i++) w.q[i] = normal(&rng);
    orthonormalise(w.q, d, b);
    iterate(&w, n, d, b, k);
    for (int c = 0; c < k; c++) {
        double big = 0; /* the axis: q times Ritz vector c */
        size_t arg = 0;
        for (size_t i = 0; i < d; i++) {
            double a = 0;
            for (size_t p = 0; p < b; p++) a += w.q[i * b + p] * w.vec[p * b + c];
            w.w[i * b + c] = a;
            if (fabs(a) > big) big = fabs(a), arg = i;
        }
        double sign = w.w[arg * b + c] < 0 ? -1 : 1;
        for (size_t i = 0; i < d; i++) {
            w.w[i * b + c] *= sign;
            if (axes) axes[(size_t)c * d + i] = w.w[i * b + c];
        }
        if (variance) variance[c] = w.val[c];
    }
    for (size_t r = 0; y && r < n; r++)
        for (int c = 0; c < k; c++) {
            double s = 0;
            for (size_t i = 0; i < d; i++) s += (double)w.xc[r * d + i] * w.w[i * b + c];
            y[r * (size_t)k + (size_t)c] = (float)s;
        }
    work_free(&w);
    return 0;
}
