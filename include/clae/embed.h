/* Two-dimensional maps of codes: PCA, t-SNE (exact and Barnes-Hut) and the
 * trustworthiness of a map. Host code on every core (clae/parallel.h); points
 * are rows of n x d floats. Results do not depend on the number of threads. */
#ifndef CLAE_EMBED_H
#define CLAE_EMBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clae/error.h"

/* ---- PCA (pca.c) ---- */
/* The k leading principal axes of the centred points (subspace iteration on
 * the covariance, seeded start): y (n x k, may be NULL) the projections, axes (k x d, may
 * be NULL) unit vectors with their largest entry positive, variance (k, may
 * be NULL) the variance along each, largest first. */
int clae_pca(const float *x, size_t n, size_t d, int k, uint64_t seed, float *y, double *axes,
             double *variance, clae_err *err);

/* ---- t-SNE (tsne.c, tsne_bh.c) ---- */
typedef enum { CLAE_TSNE_AUTO, CLAE_TSNE_EXACT, CLAE_TSNE_BARNES_HUT } clae_tsne_method;

/* The defaults are scikit-learn 1.2's TSNE: perplexity 30, early exaggeration
 * 12 for 250 iterations (momentum 0.5, then 0.8), 1,000 iterations, learning
 * rate max(N / 12 / 4, 50), PCA initialisation scaled to a standard deviation
 * of 1e-4, angle 0.5; auto is exact up to exact_max (1,000) points. */
typedef struct {
    double perplexity, early_exaggeration;
    double learning_rate; /* <= 0: max(N / early_exaggeration / 4, 50) */
    int n_iter, exploration_iter, n_iter_without_progress;
    double min_grad_norm, angle;
    clae_tsne_method method;
    int exact_max;
    int threads; /* 0: every core */
    uint64_t seed;
} clae_tsne_opts;

typedef struct {
    double kl; /* the KL divergence at the end */
    int iterations;
    bool exact;
    double learning_rate;
} clae_tsne_info;

void clae_tsne_defaults(clae_tsne_opts *o);
/* y: n x 2. Needs n > 3 * perplexity (as scikit-learn does: perplexity must be
 * below the number of points). */
int clae_tsne(const float *x, size_t n, size_t d, const clae_tsne_opts *o, float *y,
              clae_tsne_info *info, clae_err *err);

/* ---- neighbours (neighbors.c) ---- */
/* The k nearest other points of every point by Euclidean distance (ties by
 * index): idx and dist2 (squared distances) n x k, nearest first. */
int clae_knn(const float *x, size_t n, size_t d, int k, int threads, int32_t *idx, float *dist2,
             clae_err *err);
/* Trustworthiness of y (n x dy) as a map of x (n x d) with k neighbours, as
 * sklearn.manifold.trustworthiness defines it: 1 - 2 / (n k (2n - 3k - 1)) *
 * sum over i and its map neighbours j of max(0, rank of j among i's neighbours
 * in x - k). NaN on error (err says why). */
double clae_trustworthiness(const float *x, size_t n, size_t d, const float *y, size_t dy, int k,
                            int threads, clae_err *err);

#endif
