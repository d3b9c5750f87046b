/* The link-prediction split and the sparse matrices of a graph
 * (clae/graph.h): as Kipf & Welling's gae/preprocessing.py, validation and
 * test take floor(fraction * edges) of a seeded shuffle, each against as many
 * sampled non-edges; the model sees only the training edges. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/graph.h"
#include "clae/rng.h"

enum { STREAM_SPLIT = 0x6A5E, STREAM_NON_EDGES = 0x6A5F, STREAM_NEGATIVES = 0x6A60 };

static int pairs_alloc(clae_pairs *p, size_t n)
{
    p->n = n;
    p->u = malloc(n * sizeof *p->u + 1);
    p->v = malloc(n * sizeof *p->v + 1);
    p->positive = malloc(n * sizeof *p->positive + 1);
    return p->u && p->v && p->positive ? 0 : -1;
}

static void pairs_free(clae_pairs *p)
{
    free(p->u);
    free(p->v);
    free(p->positive);
    memset(p, 0, sizeof *p);
}

/* Pairs [first, p->n) of p: uniform pairs a != b that are no edge of the
 * graph and were not drawn before (in either order). */
static int draw_non_edges(clae_pairs *p, size_t first, uint32_t n_nodes, const clae_edge_set *all,
                          clae_edge_set *drawn, clae_rng *rng, clae_err *err)
{
    size_t tries = 0, limit = 100 * (p->n - first) + 10000;
    for (size_t k = first; k < p->n;) {
        if (++tries > limit)
            return clae_fail(err, "the graph is too dense: cannot sample %zu non-edges",
                             p->n - first);
        uint32_t a = clae_rng_below(rng, n_nodes), b = clae_rng_below(rng, n_nodes);
        if (a == b || clae_edge_set_has(all, a, b)) continue;
        int added = clae_edge_set_add(drawn, a, b);
        if (added < 0) return clae_fail(err, "out of host memory sampling non-edges");
        if (!added) continue;
        p->u[k] = a, p->v[k] = b, p->positive[k] = false;
        k++;
    }
    return 0;
}

/* Edges order[first, first + count) and as many non-edges into p. */
static int evaluation_pairs(const clae_graph *g, const uint32_t *order, uint32_t first,
                            uint32_t count, const clae_edge_set *all, clae_edge_set *drawn,
                            clae_rng *rng, clae_pairs *p, clae_err *err)
{
    if (pairs_alloc(p, 2 * (size_t)count)) return clae_fail(err, "out of host memory");
    for (uint32_t k = 0; k < count; k++) {
        uint32_t e = order[first + k];
        p->u[k] = g->u[e], p->v[k] = g->v[e], p->positive[k] = true;
    }
    return draw_non_edges(p, count, g->n_nodes, all, drawn, rng, err);
}

int clae_graph_split_edges(const clae_graph *g, double val_fraction, double test_fraction,
                           uint64_t seed, clae_edge_split *s, clae_err *err)
{
    memset(s, 0, sizeof *s);
    uint32_t m = g->n_edges, n_test = (uint32_t)floor(m * test_fraction),
             n_val = (uint32_t)floor(m * val_fraction);
    if (n_test == 0 || n_val == 0 || n_test + n_val >= m)
        return clae_fail(err,
                         "%u edges cannot be split into %g validation and %g test: each needs at "
                         "least one edge and training the rest",
                         m, val_fraction, test_fraction);
    uint32_t *order = malloc((size_t)m * sizeof *order);
    clae_edge_set *all = NULL, *drawn = NULL;
    int rc = order ? 0 : clae_fail(err, "out of host memory");
    if (rc == 0) rc = clae_edge_set_create(&all, g->u, g->v, m, err);
    if (rc == 0) rc = clae_edge_set_create(&drawn, NULL, NULL, 0, err);
    clae_rng rng;
    clae_rng_seed(&rng, seed, STREAM_SPLIT);
    for (uint32_t k = 0; rc == 0 && k < m; k++) order[k] = k;
    if (rc == 0) clae_rng_shuffle(&rng, order, m);
    clae_rng_seed(&rng, seed, STREAM_NON_EDGES);
    if (rc == 0) rc = evaluation_pairs(g, order, 0, n_test, all, drawn, &rng, &s->test, err);
    if (rc == 0) rc = evaluation_pairs(g, order, n_test, n_val, all, drawn, &rng, &s->val, err);
    s->n_train = m - n_test - n_val;
    s->train_u = rc ? NULL : malloc((size_t)s->n_train * sizeof *s->train_u);
    s->train_v = rc ? NULL : malloc((size_t)s->n_train * sizeof *s->train_v);
    if (rc == 0 && (!s->train_u || !s->train_v)) rc = clae_fail(err, "out of host memory");
    for (uint32_t k = 0; rc == 0 && k < s->n_train; k++) {
        uint32_t e = order[n_test + n_val + k];
        s->train_u[k] = g->u[e], s->train_v[k] = g->v[e];
    }
    clae_edge_set_free(all);
    clae_edge_set_free(drawn);
    free(order);
    if (rc) clae_edge_split_free(s);
    return rc;
}

void clae_edge_split_free(clae_edge_split *s)
{
    free(s->train_u);
    free(s->train_v);
    pairs_free(&s->val);
    pairs_free(&s->test);
    memset(s, 0, sizeof *s);
}

/* Sorts each row's columns (with their values): rows are short, insertion sort. */
static void sort_rows(clae_csr *c)
{
    for (uint32_t r = 0; r < c->n; r++)
        for (uint32_t i = c->row_ptr[r] + 1; i < c->row_ptr[r + 1]; i++) {
            uint32_t col = c->col[i], j = i;
            float val = c->val[i];
            for (; j > c->row_ptr[r] && c->col[j - 1] > col; j--)
                c->col[j] = c->col[j - 1], c->val[j] = c->val[j - 1];
            c->col[j] = col, c->val[j] = val;
        }
}

static int csr_alloc(clae_csr *c, uint32_t n, size_t nnz, clae_err *err)
{
    memset(c, 0, sizeof *c);
    if (nnz > UINT32_MAX) return clae_fail(err, "%zu matrix entries: at most 2^32 - 1", nnz);
    c->n = n, c->nnz = (uint32_t)nnz;
    c->row_ptr = calloc((size_t)n + 1, sizeof *c->row_ptr);
    c->col = malloc(nnz * sizeof *c->col + 1);
    c->val = malloc(nnz * sizeof *c->val + 1);
    if (c->row_ptr && c->col && c->val) return 0;
    clae_csr_free(c);
    return clae_fail(err, "out of host memory for a sparse matrix of %zu entries", nnz);
}

/* row_ptr from the counts in row_ptr[1..n]; fill[r] the next free slot of row r. */
static void prefix_rows(clae_csr *c, uint32_t *fill)
{
    for (uint32_t r = 0; r < c->n; r++) c->row_ptr[r + 1] += c->row_ptr[r];
    memcpy(fill, c->row_ptr, (size_t)c->n * sizeof *fill);
}

int clae_csr_gcn(uint32_t n, const uint32_t *u, const uint32_t *v, uint32_t m, clae_csr *out,
                 clae_err *err)
{
    if (csr_alloc(out, n, 2 * (size_t)m + n, err)) return -1;
    uint32_t *fill = malloc((size_t)n * sizeof *fill + 1);
    if (!fill) return clae_csr_free(out), clae_fail(err, "out of host memory");
    for (uint32_t r = 0; r < n; r++) out->row_ptr[r + 1] = 1; /* the self-loop */
    for (uint32_t k = 0; k < m; k++) out->row_ptr[u[k] + 1]++, out->row_ptr[v[k] + 1]++;
    prefix_rows(out, fill);
    for (uint32_t r = 0; r < n; r++) out->col[fill[r]++] = r;
    for (uint32_t k = 0; k < m; k++) out->col[fill[u[k]]++] = v[k], out->col[fill[v[k]]++] = u[k];
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t i = out->row_ptr[r]; i < out->row_ptr[r + 1]; i++) {
            uint32_t c = out->col[i];
            double dr = out->row_ptr[r + 1] - out->row_ptr[r],
                   dc = out->row_ptr[c + 1] - out->row_ptr[c];
            out->val[i] = (float)(1.0 / sqrt(dr * dc));
        }
    sort_rows(out);
    free(fill);
    return 0;
}

void clae_csr_free(clae_csr *c)
{
    free(c->row_ptr);
    free(c->col);
    free(c->val);
    memset(c, 0, sizeof *c);
}

void clae_csr_pack(const clae_csr *c, float *out)
{
    memcpy(out, c->row_ptr, ((size_t)c->n + 1) * sizeof *out);
    memcpy(out + c->n + 1, c->col, (size_t)c->nnz * sizeof *out);
    memcpy(out + c->n + 1 + c->nnz, c->val, (size_t)c->nnz * sizeof *out);
}

int clae_sample_pairs(uint32_t n, const uint32_t *u, const uint32_t *v, uint32_t m,
                      const clae_edge_set *edges, int k, uint64_t seed, clae_csr *out,
                      clae_err *err)
{
    size_t pairs = (size_t)m * (1 + (size_t)k);
    if (csr_alloc(out, n, 2 * pairs, err)) return -1;
    uint32_t *a = malloc(pairs * sizeof *a + 1), *b = malloc(pairs * sizeof *b + 1),
             *fill = malloc((size_t)n * sizeof *fill + 1);
    int rc = a && b && fill ? 0 : clae_fail(err, "out of host memory for %zu pairs", pairs);
    clae_rng rng;
    clae_rng_seed(&rng, seed, STREAM_NEGATIVES);
    for (size_t e = 0; rc == 0 && e < m; e++) {
        a[e] = u[e], b[e] = v[e];
        for (int j = 0; j < k; j++) {
            uint32_t w = u[e];
            for (int tries = 0; w == u[e] || clae_edge_set_has(edges, u[e], w); tries++) {
                if (tries == 1000) {
                    rc = clae_fail(err,
                                   "node %u is joined to almost every node: no non-edge to "
                                   "sample",
                                   u[e]);
                    break;
                }
                w = clae_rng_below(&rng, n);
            }
            a[m + e * (size_t)k + j] = u[e], b[m + e * (size_t)k + j] = w;
        }
    }
    for (size_t p = 0; rc == 0 && p < pairs; p++)
        out->row_ptr[a[p] + 1]++, out->row_ptr[b[p] + 1]++;
    if (rc == 0) prefix_rows(out, fill);
    for (size_t p = 0; rc == 0 && p < pairs; p++) {
        float t = p < m ? 1.0f : 0.0f;
        out->col[fill[a[p]]] = b[p], out->val[fill[a[p]]++] = t;
        out->col[fill[b[p]]] = a[p], out->val[fill[b[p]]++] = t;
    }
    free(a);
    free(b);
    free(fill);
    if (rc) clae_csr_free(out);
    return rc;
}
