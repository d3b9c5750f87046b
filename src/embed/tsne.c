/* t-SNE (van der Maaten and Hinton 2008) as scikit-learn 1.2's TSNE runs it:
 * conditional probabilities by a binary search on each point's precision to
 * the perplexity (over its 3 * perplexity + 1 nearest neighbours for
 * Barnes-Hut, over all points when exact), symmetrised and normalised; a PCA
 * start scaled to a standard deviation of 1e-4; gradient descent with
 * momentum and per-coordinate gains, early exaggeration first. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/embed.h"
#include "clae/parallel.h"
#include "tsne_internal.h"

#define PERPLEXITY_STEPS 100
#define PERPLEXITY_TOL 1e-5
#define MIN_GAIN 0.01
#define CHECK_EVERY 50
#define EXACT_LIMIT 8000 /* a dense P of 8,000 points is 512 MB */

void clae_tsne_defaults(clae_tsne_opts *o)
{
    *o = (clae_tsne_opts){.perplexity = 30,
                          .early_exaggeration = 12,
                          .learning_rate = 0,
                          .n_iter = 1000,
                          .exploration_iter = 250,
                          .n_iter_without_progress = 300,
                          .min_grad_norm = 1e-7,
                          .angle = 0.5,
                          .method = CLAE_TSNE_AUTO,
                          .exact_max = 1000,
                          .threads = 0,
                          .seed = 0};
}

/* p (m) = exp(-beta d2) / sum, beta searched so that the entropy is log(perplexity) */
static void conditional_row(const float *d2, size_t m, double perplexity, double *p)
{
    double beta = 1, lo = -INFINITY, hi = INFINITY, want = log(perplexity);
    for (int step = 0; step < PERPLEXITY_STEPS; step++) {
        double sum = 0, dsum = 0;
        for (size_t j = 0; j < m; j++) sum += p[j] = exp(-(double)d2[j] * beta);
        if (sum == 0) sum = 1e-8;
        for (size_t j = 0; j < m; j++) p[j] /= sum, dsum += d2[j] * p[j];
        double diff = log(sum) + beta * dsum - want;
        if (fabs(diff) <= PERPLEXITY_TOL) break;
        if (diff > 0)
            lo = beta, beta = hi == INFINITY ? beta * 2 : (beta + hi) / 2;
        else
            hi = beta, beta = lo == -INFINITY ? beta / 2 : (beta + lo) / 2;
    }
}

/* ---- Barnes-Hut: P from the neighbours ---- */

typedef struct {
    const float *dist2;
    size_t k;
    double perplexity, *cond;
} cond_job;

static void cond_share(void *arg, size_t begin, size_t end)
{
    cond_job *j = arg;
    for (size_t i = begin; i < end; i++)
        conditional_row(j->dist2 + i * j->k, j->k, j->perplexity, j->cond + i * j->k);
}

/* P = (C + C^T) / sum, C the n x k conditional rows over the neighbours nn */
static int symmetrise(const int32_t *nn, const double *cond, size_t n, size_t k, tsne_sparse_p *p)
{
    size_t *count = calloc(n + 1, sizeof *count), m = 2 * n * k;
    int32_t *col = malloc(m * sizeof *col);
    double *val = malloc(m * sizeof *val);
    *p = (tsne_sparse_p){n, calloc(n + 1, sizeof(size_t)), NULL, NULL};
    if (!count || !col || !val || !p->row) {
        free(count), free(col), free(val), free(p->row);
        return -1;
    }
    for (size_t e = 0; e < n * k; e++) count[e / k]++, count[nn[e]]++;
    for (size_t i = 0; i < n; i++) p->row[i + 1] = p->row[i] + count[i];
    memcpy(count, p->row, n * sizeof *count); /* now the write cursor of each row */
    for (size_t e = 0; e < n * k; e++) {
        size_t i = e / k, j = (size_t)nn[e];
        col[count[i]] = (int32_t)j, val[count[i]++] = cond[e];
        col[count[j]] = (int32_t)i, val[count[j]++] = cond[e];
    }
    /* merge repeated columns in each row (j in i's neighbours and i in j's) */
    size_t out = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t from = p->row[i], to = p->row[i + 1];
        p->row[i] = out;
        for (size_t a = from; a < to; a++) { /* rows are short (about 2k): insertion sort */
            int32_t c = col[a];
            double v = val[a];
            size_t b = a;
            while (b > from && col[b - 1] > c) col[b] = col[b - 1], val[b] = val[b - 1], b--;
            col[b] = c, val[b] = v;
        }
        for (size_t a = from; a < to; a++) {
            if (out > p->row[i] && col[out - 1] == col[a])
                val[out - 1] += val[a];
            else
                col[out] = col[a], val[out++] = val[a];
            total += val[a];
        }
    }
    p->row[n] = out;
    total = fmax(total, DBL_EPSILON);
    for (size_t e = 0; e < out; e++) val[e] /= total;
    p->col = col, p->val = val;
    free(count);
    return 0;
}

static int sparse_p(const float *x, size_t n, size_t d, const clae_tsne_opts *o, int threads,
                    tsne_sparse_p *p, clae_err *err)
{
    size_t k = (size_t)fmin((double)n - 1, floor(3.0 * o->perplexity + 1));
    int32_t *nn = malloc(n * k * sizeof *nn);
    float *dist2 = malloc(n * k * sizeof *dist2);
    double *cond = malloc(n * k * sizeof *cond);
    int rc = nn && dist2 && cond ? 0 : clae_fail(err, "out of host memory for t-SNE");
    if (rc == 0) rc = clae_knn(x, n, d, (int)k, threads, nn, dist2, err);
    if (rc == 0) {
        cond_job job = {dist2, k, o->perplexity, cond};
        clae_parallel_for(n, threads, cond_share, &job);
        if (symmetrise(nn, cond, n, k, p)) rc = clae_fail(err, "out of host memory for t-SNE");
    }
    free(nn), free(dist2), free(cond);
    return rc;
}

/* ---- exact: a dense P ---- */

typedef struct {
    const float *x;
    size_t n, d;
    double perplexity, *p;
    int failed;
} dense_job;

static void dense_share(void *arg, size_t begin, size_t end)
{
    dense_job *j = arg;
    float *row = malloc(j->n * sizeof *row);
    double *prob = malloc(j->n * sizeof *prob);
    for (size_t i = begin; row && prob && i < end; i++) {
        size_t m = 0;
        for (size_t l = 0; l < j->n; l++) {
            if (l == i) continue;
            double s = 0;
            for (size_t t = 0; t < j->d; t++) {
                double diff = (double)j->x[i * j->d + t] - j->x[l * j->d + t];
                s += diff * diff;
            }
            row[m++] = (float)s; /* scikit-learn searches on float32 distances */
        }
        conditional_row(row, m, j->perplexity, prob);
        for (size_t l = 0, q = 0; l < j->n; l++) j->p[i * j->n + l] = l == i ? 0 : prob[q++];
    }
    if (!row || !prob) j->failed = 1;
    free(row), free(prob);
}

static int dense_p(const float *x, size_t n, size_t d, double perplexity, int threads, double **out,
                   clae_err *err)
{
    double *p = malloc(n * n * sizeof *p);
    if (!p) return clae_fail(err, "out of host memory for the exact t-SNE of %zu points", n);
    dense_job job = {x, n, d, perplexity, p, 0};
    clae_parallel_for(n, threads, dense_share, &job);
    if (job.failed) {
        free(p);
        return clae_fail(err, "out of host memory for the exact t-SNE of %zu points", n);
    }
    double total = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double v = p[i * n + j] + p[j * n + i];
            p[i * n + j] = p[j * n + i] = v;
            total += 2 * v;
        }
    total = fmax(total, DBL_EPSILON);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            p[i * n + j] = i == j ? 0 : fmax(p[i * n + j] / total, DBL_EPSILON);
    *out = p;
    return 0;
}

typedef struct {
    const double *p, *y;
    size_t n;
    double scale, z, *grad, *part; /* part: per point, sum of kernels, then KL */
    bool error;
} exact_job;

static void kernel_sum_share(void *arg, size_t begin, size_t end)
{
    exact_job *j = arg;
    for (size_t i = begin; i < end; i++) {
        double s = 0;
        for (size_t l = 0; l < j->n; l++) {
            double dx = j->y[2 * i] - j->y[2 * l], dy = j->y[2 * i + 1] - j->y[2 * l + 1];
            if (l != i) s += 1.0 / (1.0 + dx * dx + dy * dy);
        }
        j->part[i] = s;
    }
}

static void exact_grad_share(void *arg, size_t begin, size_t end)
{
    exact_job *j = arg;
    for (size_t i = begin; i < end; i++) {
        double gx = 0, gy = 0, kl = 0;
        for (size_t l = 0; l < j->n; l++) {
            if (l == i) continue;
            double dx = j->y[2 * i] - j->y[2 * l], dy = j->y[2 * i + 1] - j->y[2 * l + 1];
            double w = 1.0 / (1.0 + dx * dx + dy * dy), q = fmax(w / j->z, DBL_EPSILON);
            double pil = j->scale * j->p[i * j->n + l], m = (pil - q) * w;
            gx += m * dx, gy += m * dy;
            if (j->error) kl += pil * log(fmax(pil, DBL_EPSILON) / q);
        }
        j->grad[2 * i] = 4 * gx, j->grad[2 * i + 1] = 4 * gy;
        j->part[i] = kl;
    }
}

int tsne_gradient_exact(const double *p, size_t n, double scale, const double *y, bool error,
                        int threads, double *grad, double *kl, clae_err *err)
{
    double *part = malloc(n * sizeof *part);
    if (!part) return clae_fail(err, "out of host memory for t-SNE");
    exact_job job = {p, y, n, scale, 0, grad, part, error};
    clae_parallel_for(n, threads, kernel_sum_share, &job);
    for (size_t i = 0; i < n; i++) job.z += part[i];
    clae_parallel_for(n, threads, exact_grad_share, &job);
    double sum = 0;
    for (size_t i = 0; error && i < n; i++) sum += part[i];
    *kl = sum;
    free(part);
    return 0;
}

/* ---- the optimisation ---- */

typedef struct {
    size_t n;
    bool exact;
    const double *dense;
    const tsne_sparse_p *sparse;
    double angle, learning_rate, min_grad_norm;
    int threads;
    double *y, *grad, *update, *gains;
} descent;

typedef struct {
    int first, last; /* iterations first .. last - 1 */
    double momentum, scale;
    int without_progress;
} phase;

/* One phase of scikit-learn's _gradient_descent (update and gains start afresh);
 * returns the last iteration run, or -1 (err set). */
static int run_phase(descent *s, phase ph, double *kl, clae_err *err)
{
    size_t m = 2 * s->n;
    for (size_t c = 0; c < m; c++) s->update[c] = 0, s->gains[c] = 1;
    double best = DBL_MAX;
    int best_iter = ph.first, i = ph.first;
    for (; i < ph.last; i++) {
        bool check = (i + 1) % CHECK_EVERY == 0, error = check || i == ph.last - 1;
        int rc = s->exact ? tsne_gradient_exact(s->dense, s->n, ph.scale, s->y, error, s->threads,
                                                s->grad, kl, err)
                          : tsne_gradient_bh(s->sparse, ph.scale, s->y, s->angle, error, s->threads,
                                             s->grad, kl, err);
        if (rc) return -1;
        double norm = 0;
        for (size_t c = 0; c < m; c++) {
            bool increase = s->update[c] * s->grad[c] < 0;
            s->gains[c] = fmax(increase ? s->gains[c] + 0.2 : s->gains[c] * 0.8, MIN_GAIN);
            s->grad[c] *= s->gains[c];
            s->update[c] = ph.momentum * s->update[c] - s->learning_rate * s->grad[c];
            s->y[c] += s->update[c];
            norm += s->grad[c] * s->grad[c];
        }
        if (!check) continue;
        if (*kl < best)
            best = *kl, best_iter = i;
        else if (i - best_iter > ph.without_progress)
            break;
        if (sqrt(norm) <= s->min_grad_norm) break;
    }
    return i < ph.last ? i : ph.last - 1;
}

/* The start: the first two principal components, scaled so the first has std 1e-4. */
static int pca_start(const float *x, size_t n, size_t d, uint64_t seed, double *y, clae_err *err)
{
    float *pc = malloc(2 * n * sizeof *pc);
    if (!pc) return clae_fail(err, "out of host memory for t-SNE");
    int rc = 0;
    if (d >= 2)
        rc = clae_pca(x, n, d, 2, seed, pc, NULL, NULL, err);
    else
        for (size_t i = 0; i < n; i++) pc[2 * i] = x[i], pc[2 * i + 1] = 0;
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++) mean += pc[2 * i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) var += (pc[2 * i] - mean) * (pc[2 * i] - mean);
    double sd = sqrt(var / (double)n);
    if (rc == 0 && !(sd > 1e-12 * (1 + fabs(mean))))
        rc = clae_fail(err, "t-SNE of %zu points: they all coincide (no variance to map)", n);
    for (size_t c = 0; rc == 0 && c < 2 * n; c++) y[c] = pc[c] / sd * 1e-4;
    free(pc);
    return rc;
}

static int check_opts(size_t n, size_t d, const clae_tsne_opts *o, bool exact, clae_err *err)
{
    if (n < 4 || d < 1) return clae_fail(err, "t-SNE of %zu points of %zu values: too few", n, d);
    if (!(o->perplexity > 0) || o->perplexity >= (double)n)
        return clae_fail(err, "t-SNE perplexity %g: expected above 0 and below the %zu points",
                         o->perplexity, n);
    if (o->n_iter < o->exploration_iter || o->exploration_iter < 0)
        return clae_fail(err,
                         "t-SNE: %d iterations, expected at least the %d of early "
                         "exaggeration",
                         o->n_iter, o->exploration_iter);
    if (exact && n > EXACT_LIMIT)
        return clae_fail(err, "exact t-SNE of %zu points: at most %d (Barnes-Hut handles more)", n,
                         EXACT_LIMIT);
    if (!exact && !(o->angle >= 0 && o->angle <= 1))
        return clae_fail(err, "t-SNE angle %g: expected 0 to 1", o->angle);
    return 0;
}

int clae_tsne(const float *x, size_t n, size_t d, const clae_tsne_opts *o, float *y,
              clae_tsne_info *info, clae_err *err)
{
    bool exact = o->method == CLAE_TSNE_EXACT ||
                 (o->method == CLAE_TSNE_AUTO && n <= (size_t)o->exact_max);
    if (check_opts(n, d, o, exact, err)) return -1;
    int threads = o->threads > 0 ? o->threads : clae_host_threads();
    double lr = o->learning_rate > 0 ? o->learning_rate
                                     : fmax((double)n / o->early_exaggeration / 4, 50);
    descent s = {n,
                 exact,
                 NULL,
                 NULL,
                 o->angle,
                 lr,
                 o->min_grad_norm,
                 threads,
                 malloc(2 * n * sizeof(double)),
                 malloc(2 * n * sizeof(double)),
                 malloc(2 * n * sizeof(double)),
                 malloc(2 * n * sizeof(double))};
    tsne_sparse_p sp = {0};
    double *dense = NULL, kl = 0;
    int rc = s.y && s.grad && s.update && s.gains ? 0 : clae_fail(err, "out of host memory");
    if (rc == 0) rc = pca_start(x, n, d, o->seed, s.y, err);
    if (rc == 0 && exact) rc = dense_p(x, n, d, o->perplexity, threads, &dense, err);
    if (rc == 0 && !exact) rc = sparse_p(x, n, d, o, threads, &sp, err);
    s.dense = dense, s.sparse = &sp;
    int last = -1;
    if (rc == 0) {
        phase early = {0, o->exploration_iter, 0.5, o->early_exaggeration, o->exploration_iter};
        last = o->exploration_iter > 0 ? run_phase(&s, early, &kl, err) : -1;
        phase rest = {last + 1, o->n_iter, 0.8, 1.0, o->n_iter_without_progress};
        if (o->exploration_iter > 0 && last < 0)
            rc = -1;
        else if (rest.first < rest.last && (last = run_phase(&s, rest, &kl, err)) < 0)
            rc = -1;
    }
    for (size_t c = 0; rc == 0 && c < 2 * n; c++) y[c] = (float)s.y[c];
    for (size_t c = 0; rc == 0 && c < 2 * n; c++)
        if (!isfinite(y[c])) rc = clae_fail(err, "t-SNE diverged (point %zu is %g)", c / 2, y[c]);
    if (info) *info = (clae_tsne_info){kl, last + 1, exact, lr};
    free(s.y), free(s.grad), free(s.update), free(s.gains), free(dense);
    free(sp.row), free(sp.col), free(sp.val);
    return rc;
}
