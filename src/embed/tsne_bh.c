/* The Barnes-Hut t-SNE gradient (van der Maaten 2014, as scikit-learn 1.2's
 * _barnes_hut_tsne computes it): attraction over P's sparse entries,
 * repulsion from a quadtree of the map where a cell whose widest side, squared,
 * is below theta^2 times its squared distance counts as one point at its
 * centre of mass. Student-t kernel with one degree of freedom. */
#include <math.h>
#include <stdlib.h>

#include "clae/parallel.h"
#include "tsne_internal.h"

#define DUPLICATE_EPS 1e-6 /* scikit-learn's: a leaf this close to the point is the point */
#define MAX_DEPTH 48
#define TINY_FLOAT 1.1754943508222875e-38 /* FLT_MIN, scikit-learn's FLOAT32_TINY */

typedef struct {
    double bx, by;     /* centre of mass */
    double max_width2; /* the cell's wider side, squared */
    double size;       /* points below */
    int32_t child[4];  /* -1: none; all -1: a leaf */
} qnode;

typedef struct {
    qnode *nodes;
    size_t n_nodes, cap;
    const double *y;
    int32_t *idx; /* points, partitioned in place as the tree is built */
} quadtree;

static int32_t new_node(quadtree *t)
{
    if (t->n_nodes == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        qnode *grown = realloc(t->nodes, cap * sizeof *grown);
        if (!grown) return -1;
        t->nodes = grown, t->cap = cap;
    }
    return (int32_t)t->n_nodes++;
}

/* The node of points idx[lo, hi) in the box [x0, x1) x [y0, y1). */
static int build(quadtree *t, int32_t node, size_t lo, size_t hi, double x0, double y0, double x1,
                 double y1, int depth)
{
    double sx = 0, sy = 0, minx = INFINITY, maxx = -INFINITY, miny = INFINITY, maxy = -INFINITY;
    for (size_t k = lo; k < hi; k++) {
        const double *p = t->y + 2 * (size_t)t->idx[k];
        sx += p[0], sy += p[1];
        minx = fmin(minx, p[0]), maxx = fmax(maxx, p[0]);
        miny = fmin(miny, p[1]), maxy = fmax(maxy, p[1]);
    }
    double w = x1 - x0, h = y1 - y0;
    qnode *q = &t->nodes[node];
    *q = (qnode){sx / (double)(hi - lo),
                 sy / (double)(hi - lo),
                 fmax(w * w, h * h),
                 (double)(hi - lo),
                 {-1, -1, -1, -1}};
    bool same = maxx - minx <= DUPLICATE_EPS && maxy - miny <= DUPLICATE_EPS;
    if (hi - lo == 1 || same || depth >= MAX_DEPTH) return 0;
    double mx = 0.5 * (x0 + x1), my = 0.5 * (y0 + y1);
    size_t count[4] = {0, 0, 0, 0}, begin[4], next[4];
    for (size_t k = lo; k < hi; k++) {
        const double *p = t->y + 2 * (size_t)t->idx[k];
        count[(p[0] >= mx) + 2 * (p[1] >= my)]++;
    }
    begin[0] = next[0] = lo;
    for (int c = 1; c < 4; c++) begin[c] = next[c] = begin[c - 1] + count[c - 1];
    for (int c = 0; c < 4; c++) /* swap each point into its quadrant's range */
        while (next[c] < begin[c] + count[c]) {
            const double *p = t->y + 2 * (size_t)t->idx[next[c]];
            int to = (p[0] >= mx) + 2 * (p[1] >= my);
            if (to == c) {
                next[c]++;
                continue;
            }
            int32_t moved = t->idx[next[c]];
            t->idx[next[c]] = t->idx[next[to]];
            t->idx[next[to]++] = moved;
        }
    for (int c = 0; c < 4; c++) {
        if (!count[c]) continue;
        int32_t child = new_node(t);
        if (child < 0) return -1;
        t->nodes[node].child[c] = child;
        size_t from = begin[c];
        double cx0 = c & 1 ? mx : x0, cx1 = c & 1 ? x1 : mx;
        double cy0 = c & 2 ? my : y0, cy1 = c & 2 ? y1 : my;
        if (build(t, child, from, from + count[c], cx0, cy0, cx1, cy1, depth + 1)) return -1;
    }
    return 0;
}

static int tree_build(quadtree *t, const double *y, size_t n)
{
    *t = (quadtree){NULL, 0, 0, y, malloc(n * sizeof(int32_t))};
    if (!t->idx) return -1;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        t->idx[i] = (int32_t)i;
        x0 = fmin(x0, y[2 * i]), x1 = fmax(x1, y[2 * i]);
        y0 = fmin(y0, y[2 * i + 1]), y1 = fmax(y1, y[2 * i + 1]);
    }
    /* the upper edges just outside the points, as scikit-learn widens them */
    x1 = fmax(x1 + 1e-3 * fabs(x1), x1 + 1e-3), y1 = fmax(y1 + 1e-3 * fabs(y1), y1 + 1e-3);
    return new_node(t) < 0 ? -1 : build(t, 0, 0, n, x0, y0, x1, y1, 0);
}

typedef struct {
    const tsne_sparse_p *p;
    const quadtree *tree;
    const double *y;
    double scale, theta2;
    bool error;
    double *grad;               /* first the repulsion, unnormalised */
    double *sum_q, *attract_kl; /* per point: its share of the normaliser Z, and of KL */
} bh_job;

/* Repulsion on point i: sum over cells of size q^2 (y_i - centre), and sum of size q. */
static double repulsion(const quadtree *t, const double *yi, double theta2, double *f)
{
    int32_t stack[MAX_DEPTH * 4 + 8];
    int top = 0;
    double sum_q = 0, fx = 0, fy = 0;
    stack[top++] = 0;
    while (top) {
        const qnode *c = &t->nodes[stack[--top]];
        double dx = yi[0] - c->bx, dy = yi[1] - c->by, d2 = dx * dx + dy * dy;
        bool leaf = c->child[0] < 0 && c->child[1] < 0 && c->child[2] < 0 && c->child[3] < 0;
        if (leaf && fabs(dx) <= DUPLICATE_EPS && fabs(dy) <= DUPLICATE_EPS) {
            /* itself and the points on top of it: no force, but the others count in Z with
             * q = 1 (scikit-learn leaves them out, which inflates q / Z when many coincide) */
            sum_q += c->size - 1;
            continue;
        }
        if (leaf || c->max_width2 < theta2 * d2) {
            double q = 1.0 / (1.0 + d2), m = c->size * q * q;
            sum_q += c->size * q;
            fx += m * dx, fy += m * dy;
            continue;
        }
        for (int k = 3; k >= 0; k--)
            if (c->child[k] >= 0) stack[top++] = c->child[k];
    }
    f[0] = fx, f[1] = fy;
    return sum_q;
}

static void repulsion_share(void *arg, size_t begin, size_t end)
{
    bh_job *job = arg;
    for (size_t i = begin; i < end; i++)
        job->sum_q[i] = repulsion(job->tree, job->y + 2 * i, job->theta2, job->grad + 2 * i);
}

/* Attraction over row i of P; grad holds the repulsion, divided by Z here. */
static void attraction_share(void *arg, size_t begin, size_t end)
{
    bh_job *job = arg;
    double z = job->attract_kl[job->p->n]; /* the normaliser, set before this pass */
    for (size_t i = begin; i < end; i++) {
        const double *yi = job->y + 2 * i;
        double ax = 0, ay = 0, kl = 0;
        for (size_t e = job->p->row[i]; e < job->p->row[i + 1]; e++) {
            const double *yj = job->y + 2 * (size_t)job->p->col[e];
            double dx = yi[0] - yj[0], dy = yi[1] - yj[1], q = 1.0 / (1.0 + dx * dx + dy * dy);
            double pij = job->scale * job->p->val[e], m = pij * q;
            ax += m * dx, ay += m * dy;
            if (job->error) kl += pij * log(fmax(pij, TINY_FLOAT) / fmax(q / z, TINY_FLOAT));
        }
        job->grad[2 * i] = 4.0 * (ax - job->grad[2 * i] / z);
        job->grad[2 * i + 1] = 4.0 * (ay - job->grad[2 * i + 1] / z);
        job->attract_kl[i] = kl;
    }
}

int tsne_gradient_bh(const tsne_sparse_p *p, double scale, const double *y, double theta,
                     bool error, int threads, double *grad, double *kl, clae_err *err)
{
    size_t n = p->n;
    quadtree tree = {0};
    double *sum_q = malloc(n * sizeof *sum_q), *point_kl = malloc((n + 1) * sizeof *point_kl);
    int rc = !sum_q || !point_kl || tree_build(&tree, y, n) ? -1 : 0;
    if (rc == 0) {
        bh_job job = {p, &tree, y, scale, theta * theta, error, grad, sum_q, point_kl};
        clae_parallel_for(n, threads, repulsion_share, &job);
        double z = 0;
        for (size_t i = 0; i < n; i++) z += sum_q[i]; /* in order: the same for any threads */
        z = fmax(z, 1e-300);                          /* all points on one spot repel nothing */
        point_kl[n] = z;
        clae_parallel_for(n, threads, attraction_share, &job);
        double sum = 0;
        for (size_t i = 0; error && i < n; i++) sum += point_kl[i];
        *kl = sum;
    }
    free(tree.nodes), free(tree.idx);
    free(sum_q);
    free(point_kl);
    return rc ? clae_fail(err, "out of host memory for the t-SNE quadtree of %zu points", n) : 0;
}
