/* Nearest neighbours by brute force and the trustworthiness of a map. Points
 * are transposed once (d x n) so that a row of distances from one point is a
 * loop over points the compiler vectorises. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/embed.h"
#include "clae/parallel.h"

typedef struct {
    const float *xt; /* d x n */
    size_t n, d;
} point_set;

/* x (n x d) as d x n, or NULL when out of memory */
static float *transpose(const float *x, size_t n, size_t d)
{
    float *t = malloc(n * d * sizeof *t + 1);
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) t[k * n + i] = x[i * d + k];
    return t;
}

/* row[j] = squared distance from point i to point j, for every j */
static void distance_row(const point_set *p, size_t i, float *row)
{
    memset(row, 0, p->n * sizeof *row);
    for (size_t k = 0; k < p->d; k++) {
        const float *col = p->xt + k * p->n;
        float xi = col[i];
        for (size_t j = 0; j < p->n; j++) {
            float diff = col[j] - xi;
            row[j] += diff * diff;
        }
    }
}

/* The k smallest of row (skipping self), ties by index, nearest first. */
static void select_nearest(const float *row, size_t n, size_t self, int k, int32_t *idx,
                           float *dist2)
{
    int have = 0;
    for (size_t j = 0; j < n; j++) {
        if (j == self) continue;
        float dj = row[j];
        if (have == k && !(dj < dist2[k - 1])) continue; /* equal: the lower index stays */
        int at = have < k ? have++ : k - 1;
        while (at > 0 && dist2[at - 1] > dj) {
            dist2[at] = dist2[at - 1], idx[at] = idx[at - 1];
            at--;
        }
        dist2[at] = dj, idx[at] = (int32_t)j;
    }
}

typedef struct {
    point_set p;
    int k;
    int32_t *idx;
    float *dist2;
    int failed; /* a share had no memory for its row */
} knn_job;

static void knn_share(void *arg, size_t begin, size_t end)
{
    knn_job *job = arg;
    float *row = malloc(job->p.n * sizeof *row);
    if (!row) {
        job->failed = 1;
        return;
    }
    for (size_t i = begin; i < end; i++) {
        distance_row(&job->p, i, row);
        select_nearest(row, job->p.n, i, job->k, job->idx + i * job->k, job->dist2 + i * job->k);
    }
    free(row);
}

int clae_knn(const float *x, size_t n, size_t d, int k, int threads, int32_t *idx, float *dist2,
             clae_err *err)
{
    if (k < 1 || (size_t)k >= n)
        return clae_fail(err, "%d neighbours of %zu points: expected 1 to %zu", k, n, n - 1);
    float *xt = transpose(x, n, d);
    if (!xt) return clae_fail(err, "out of host memory for %zu points", n);
    knn_job job = {{xt, n, d}, k, idx, dist2, 0};
    clae_parallel_for(n, threads > 0 ? threads : clae_host_threads(), knn_share, &job);
    free(xt);
    return job.failed ? clae_fail(err, "out of host memory for the neighbours") : 0;
}

/* ---- trustworthiness ---- */

typedef struct {
    point_set p;
    const int32_t *map_nn; /* n x k: neighbours in the map */
    int k;
    double *penalty; /* per point: sum of max(0, rank - k) */
    int failed;
} trust_job;

/* 1 + the number of other points nearer to i than j in x (ties by index, as a sort would) */
static size_t rank_of(const float *row, size_t n, size_t self, size_t j)
{
    size_t r = 1;
    float dj = row[j];
    for (size_t l = 0; l < n; l++)
        if (l != self && (row[l] < dj || (row[l] == dj && l < j))) r++;
    return r;
}

static void trust_share(void *arg, size_t begin, size_t end)
{
    trust_job *job = arg;
    size_t n = job->p.n;
    float *row = malloc(n * sizeof *row);
    if (!row) {
        job->failed = 1;
        return;
    }
    for (size_t i = begin; i < end; i++) {
        distance_row(&job->p, i, row);
        row[i] = INFINITY;
        /* only neighbours beyond the k-th input distance can rank above k */
        float kth = -1;
        int32_t nn[64];
        float nd[64];
        select_nearest(row, n, i, job->k, nn, nd);
        kth = nd[job->k - 1];
        double sum = 0;
        for (int m = 0; m < job->k; m++) {
            size_t j = (size_t)job->map_nn[i * job->k + m];
            if (row[j] < kth) continue;
            size_t r = rank_of(row, n, i, j);
            if (r > (size_t)job->k) sum += (double)(r - (size_t)job->k);
        }
        job->penalty[i] = sum;
    }
    free(row);
}

double clae_trustworthiness(const float *x, size_t n, size_t d, const float *y, size_t dy, int k,
                            int threads, clae_err *err)
{
    if (k < 1 || k > 64 || 2.0 * n - 3.0 * k - 1.0 <= 0) {
        clae_fail(err,
                  "trustworthiness with %d neighbours of %zu points: expected k in 1..64 "
                  "below n / 2",
                  k, n);
        return NAN;
    }
    if (threads < 1) threads = clae_host_threads();
    int32_t *map_nn = malloc(n * (size_t)k * sizeof *map_nn);
    float *map_d = malloc(n * (size_t)k * sizeof *map_d);
    double *penalty = calloc(n, sizeof *penalty);
    float *xt = transpose(x, n, d);
    double t = NAN;
    if (!map_nn || !map_d || !penalty || !xt)
        clae_fail(err, "out of host memory for %zu points", n);
    else if (clae_knn(y, n, dy, k, threads, map_nn, map_d, err) == 0) {
        trust_job job = {{xt, n, d}, map_nn, k, penalty, 0};
        clae_parallel_for(n, threads, trust_share, &job);
        double sum = 0;
        for (size_t i = 0; i < n; i++) sum += penalty[i];
        if (job.failed)
            clae_fail(err, "out of host memory for the trustworthiness");
        else
            t = 1.0 - sum * (2.0 / ((double)n * k * (2.0 * n - 3.0 * k - 1.0)));
    }
    free(map_nn);
    free(map_d);
    free(penalty);
    free(xt);
    return t;
}
