/* What tsne.c and tsne_bh.c share: the joint probabilities and the two gradients. */
#ifndef CLAE_EMBED_TSNE_INTERNAL_H
#define CLAE_EMBED_TSNE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clae/error.h"

/* Sparse symmetric P (Barnes-Hut): row i's entries are col/val[row[i] .. row[i + 1]). */
typedef struct {
    size_t n;
    size_t *row;
    int32_t *col;
    double *val;
} tsne_sparse_p;

/* The gradient of KL(P || Q) at y (n x 2) into grad (n x 2), with P scaled
 * by scale (the early exaggeration); returns KL when error is set, else 0.
 * Barnes-Hut with angle theta over a quadtree of y; -1 (err set) when out of memory. */
int tsne_gradient_bh(const tsne_sparse_p *p, double scale, const double *y, double theta,
                     bool error, int threads, double *grad, double *kl, clae_err *err);
/* Exact: P dense n x n. */
int tsne_gradient_exact(const double *p, size_t n, double scale, const double *y, bool error,
                        int threads, double *grad, double *kl, clae_err *err);

#endif
