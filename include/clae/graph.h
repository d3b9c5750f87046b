/* Graphs on the host (data.format = graph): an edge list with string node
 * ids, optional node features and labels, the link-prediction edge split of
 * Kipf & Welling's reference implementation (gae/preprocessing.py), and the
 * sparse matrices the device reads. */
#ifndef CLAE_GRAPH_H
#define CLAE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clae/error.h"

/* An undirected graph without self-loops: edge k joins u[k] < v[k]. */
typedef struct {
    uint32_t n_nodes, n_edges;
    uint32_t *u, *v;
    char **names;    /* n_nodes ids as the files spell them */
    float *features; /* n_nodes x n_features, or NULL: one-hot (featureless) */
    uint32_t n_features;
    int32_t *labels;    /* n_nodes, -1 for none; NULL without a labels file */
    char **class_names; /* label k's name in the labels file */
    int n_classes;
    uint32_t lines, self_loops, duplicates; /* what the edge list held */
    uint32_t feature_only; /* nodes that appear only in the features file (isolated) */
} clae_graph;

/* Reads edges (required), features and labels ("" or NULL: none). Edge list:
 * two ids per line separated by whitespace or a comma, '#' starts a comment.
 * Features: CSV "id,f1,...,fd" for every node (a header line is skipped).
 * Labels: CSV "id,label". Errors name file:line and what is wrong. */
int clae_graph_load(clae_graph *g, const char *edges, const char *features, const char *labels,
                    clae_err *err);
void clae_graph_free(clae_graph *g);

/* Node pairs with a truth: positive (an edge) or not. */
typedef struct {
    uint32_t *u, *v;
    bool *positive;
    size_t n;
} clae_pairs;

/* The link-prediction split: training edges, and validation and test edges
 * each with as many sampled non-edges (pairs of the whole graph's non-edges,
 * no pair twice). */
typedef struct {
    uint32_t *train_u, *train_v;
    uint32_t n_train;
    clae_pairs val, test;
} clae_edge_split;

/* floor(edges * fraction) validation and test edges of a seeded shuffle, the
 * rest for training (the reference's mask_test_edges). Fails when a split
 * would be empty or there are too few non-edges. */
int clae_graph_split_edges(const clae_graph *g, double val_fraction, double test_fraction,
                           uint64_t seed, clae_edge_split *s, clae_err *err);
void clae_edge_split_free(clae_edge_split *s);

/* A sparse N x N matrix in CSR form with sorted columns in each row. */
typedef struct {
    uint32_t n, nnz;
    uint32_t *row_ptr; /* n + 1 */
    uint32_t *col;     /* nnz */
    float *val;        /* nnz */
} clae_csr;

/* The graph convolution's A_hat = D^-1/2 (A + I) D^-1/2 of the edges, D the
 * degrees of A + I (Kipf & Welling's renormalisation); its pattern is A + I. */
int clae_csr_gcn(uint32_t n, const uint32_t *u, const uint32_t *v, uint32_t m, clae_csr *out,
                 clae_err *err);
void clae_csr_free(clae_csr *c);
/* Floats a device tensor of the packed matrix holds: row_ptr, col (as bits), val. */
static inline size_t clae_csr_packed_floats(const clae_csr *c)
{
    return (size_t)c->n + 1 + 2 * (size_t)c->nnz;
}
/* The packed layout (row_ptr, col as uint32 bits, then val) into out. */
void clae_csr_pack(const clae_csr *c, float *out);

/* A pair set for negative sampling: each training edge against k non-edges
 * (u, w) with w drawn uniformly among nodes that are not u or a neighbour of
 * u in the training graph; stored as a symmetric CSR whose values are 1
 * (edge) or 0 (non-edge), drawn from (seed, epoch). */
typedef struct clae_edge_set clae_edge_set;
/* A set of the m pairs (u[k], v[k]); u and v may be NULL when m is 0. */
int clae_edge_set_create(clae_edge_set **s, const uint32_t *u, const uint32_t *v, uint32_t m,
                         clae_err *err);
/* Adds the pair (either order): 1 when new, 0 when present, -1 out of memory. */
int clae_edge_set_add(clae_edge_set *s, uint32_t a, uint32_t b);
bool clae_edge_set_has(const clae_edge_set *s, uint32_t a, uint32_t b);
void clae_edge_set_free(clae_edge_set *s);
int clae_sample_pairs(uint32_t n, const uint32_t *u, const uint32_t *v, uint32_t m,
                      const clae_edge_set *edges, int k, uint64_t seed, clae_csr *out,
                      clae_err *err);

#endif
