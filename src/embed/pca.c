/* PCA by subspace iteration: a block of k + 8 seeded random directions is
 * multiplied by the covariance (as X^T (X Q), never forming the d x d matrix,
 * so 1,024-value codes cost what 32-value ones do per point and direction) and
 * re-orthonormalised until the leading Rayleigh-Ritz values settle; the
 * block's small eigenproblem (Jacobi) then gives the axes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/embed.h"
#include "clae/rng.h"

#define OVERSAMPLE 8
#define MAX_ITER 200
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

/* z (n x b) = xc q; xc (n x d) centred points */
static void times_q(const float *xc, size_t n, size_t d, const double *q, size_t b, double *z)
{
    for (size_t r = 0; r < n; r++) {
        double *zr = z + r * b;
        memset(zr, 0, b * sizeof *zr);
        for (size_t i = 0; i < d; i++) {
            double v = xc[r * d + i];
            for (size_t c = 0; c < b; c++) zr[c] += v * q[i * b + c];
        }
    }
}

/* w (d x b) = xc^T z */
static void transpose_times(const float *xc, size_t n, size_t d, const double *z, size_t b,
                            double *w)
{
    memset(w, 0, d * b * sizeof *w);
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < d; i++) {
            double v = xc[r * d + i];
            for (size_t c = 0; c < b; c++) w[i * b + c] += v * z[r * b + c];
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

/* Rayleigh-Ritz on the block: ritz (b) and vectors (b x b) of q^T C q. */
static void ritz(const double *z, size_t n, size_t b, double *work, double *ritz_val,
                 double *ritz_vec)
{
    for (size_t p = 0; p < b; p++)
        for (size_t q = 0; q < b; q++) {
            double s = 0;
            for (size_t r = 0; r < n; r++) s += z[r * b + p] * z[r * b + q];
            work[p * b + q] = s / (double)(n - 1);
        }
    jacobi(work, b, ritz_val, ritz_vec);
}

typedef struct {
    float *xc;
    double *q, *z, *w, *small, *val, *vec, *prev;
} pca_work;

static void work_free(pca_work *w)
{
    free(w->xc), free(w->q), free(w->z), free(w->w);
    free(w->small), free(w->val), free(w->vec), free(w->prev);
}

/* Iterates the block q (d x b) towards the leading axes; z ends as xc q. */
static void iterate(pca_work *w, size_t n, size_t d, size_t b, int k)
{
    for (int it = 0; it < MAX_ITER; it++) {
        times_q(w->xc, n, d, w->q, b, w->z);
        ritz(w->z, n, b, w->small, w->val, w->vec);
        double change = 0;
        for (int c = 0; c < k; c++)
            change = fmax(change, fabs(w->val[c] - w->prev[c]) / fmax(fabs(w->val[c]), 1e-300));
        memcpy(w->prev, w->val, b * sizeof *w->val);
        if (it > 2 && change < 1e-12) break;
        transpose_times(w->xc, n, d, w->z, b, w->w);
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
    pca_work w = {malloc(n * d * sizeof(float)),  malloc(d * b * sizeof(double)),
                  malloc(n * b * sizeof(double)), malloc(d * b * sizeof(double)),
                  malloc(b * b * sizeof(double)), malloc(b * sizeof(double)),
                  malloc(b * b * sizeof(double)), calloc(b, sizeof(double))};
    if (!w.xc || !w.q || !w.z || !w.w || !w.small || !w.val || !w.vec || !w.prev) {
        work_free(&w);
        return clae_fail(err, "out of host memory for PCA of %zu points", n);
    }
    for (size_t i = 0; i < d; i++) {
        double mean = 0;
        for (size_t r = 0; r < n; r++) mean += x[r * d + i];
        mean /= (double)n;
        for (size_t r = 0; r < n; r++) w.xc[r * d + i] = (float)(x[r * d + i] - mean);
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
    for (size_t r = 0; r < n; r++)
        for (int c = 0; c < k; c++) {
            double s = 0;
            for (size_t i = 0; i < d; i++) s += (double)w.xc[r * d + i] * w.w[i * b + c];
            y[r * (size_t)k + (size_t)c] = (float)s;
        }
    work_free(&w);
    return 0;
}
