/* Graph convolution (Kipf & Welling 2017), [encoder.NAME] type = gcn: the
 * rows of a batch are the nodes of the graph in the model's side input 0, a
 * sparse A_hat = D^-1/2 (A + I) D^-1/2 (clae/graph.h), and
 *   forward:  h = x W^T;  y = act(A_hat h + b)          x (N, in), W (units, in)
 *   backward: g = act'(y) * dy;  db += sum_n g;  dh = A_hat^T g = A_hat g (symmetric);
 *             dW += dh^T x;  dx = dh W
 * A featureless graph's input is the identity: with spec.nodes set, W is
 * (nodes, units), one row per node, h = W and dW += dh (x is a placeholder
 * column, dx zero), so no N x N matrix exists anywhere.
 * The inner-product decoder (type = inner_product) is not a row-wise layer:
 * the graph trainer computes it with its loss (src/train/graph_loss.c). */
#include "clae/nn.h"

enum { H, DH, N_PARTS }; /* scratch after the activation gradient's rows (clae_act_grad) */

static clae_tensor part(const clae_layer *l, int which)
{
    size_t u = (size_t)l->spec.units, mb = (size_t)l->scratch.shape.n;
    clae_tensor t = l->scratch;
    t.off += mb * u * (size_t)(1 + which);
    t.shape = (clae_shape){(int)mb, (int)u, 1, 1};
    return t;
}

/* The graph's rows must be the batch's. */
static int check_rows(clae_layer *l, clae_ctx *ctx, int rows)
{
    if (l->side && l->side->shape.n == rows) return 0;
    return clae_fail(&ctx->err, "%s:%d: [%s] runs on %d rows but the graph has %d nodes",
                     CLAE_LAYER_WHERE(l), rows, l->side ? l->side->shape.n : 0);
}

static int gcn_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                       bool train)
{
    (void)train;
    int rows = x->shape.n;
    if (check_rows(l, ctx, rows)) return -1;
    size_t in = clae_shape_sample(l->in), u = (size_t)l->spec.units;
    uint32_t nnz = (uint32_t)l->side->shape.c;
    clae_tensor h = part(l, H);
    const clae_tensor *hp = &h;
    if (l->spec.nodes > 0)
        hp = &l->w; /* one-hot rows: x W is W */
    else if (clae_gemm(ctx, false, true, (size_t)rows, u, in, 1.0f, x, in, &l->w, in, 0.0f, &h, u))
        return -1;
    if (clae_op_spmm(ctx, l->side, (uint32_t)rows, nnz, hp, u, y, false)) return -1;
    return clae_op_bias_act(ctx, y, l->spec.bias ? &l->b : NULL, (size_t)rows, u, l->spec.act,
                            (float)l->spec.slope);
}

static int gcn_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                        const clae_tensor *dy, clae_tensor *dx)
{
    size_t rows = (size_t)x->shape.n, in = clae_shape_sample(l->in), u = (size_t)l->spec.units;
    uint32_t nnz = (uint32_t)l->side->shape.c;
    clae_tensor pre, dh = part(l, DH);
    const clae_tensor *g = clae_act_grad(l, ctx, y, dy, &pre);
    if (!g) return -1;
    if (l->spec.bias && clae_op_bias_backward(ctx, &l->db, g, rows, u)) return -1;
    if (clae_op_spmm(ctx, l->side, (uint32_t)rows, nnz, g, u, &dh, false)) return -1;
    if (l->spec.nodes > 0)
        return clae_op_add(ctx, &l->dw, &dh, rows * u) ||
                       (dx && clae_op_fill(ctx, dx, rows * in, 0.0f))
                   ? -1
                   : 0;
    if (clae_gemm(ctx, true, false, u, in, rows, 1.0f, &dh, u, x, in, 1.0f, &l->dw, in)) return -1;
    return dx ? clae_gemm(ctx, false, false, rows, in, u, 1.0f, &dh, u, &l->w, in, 0.0f, dx, in)
              : 0;
}

static void gcn_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    (void)state;
    /* one-hot input: fan_in is the node count (the reference's identity features) */
    double fan_in = l->spec.nodes > 0 ? l->spec.nodes : (double)clae_shape_sample(l->in);
    clae_init_affine(l, fan_in, rng, host);
}

static const clae_layer_ops gcn_ops = {gcn_forward, gcn_backward, gcn_init};

static int gcn_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    size_t in = clae_shape_sample(l->in), u = (size_t)l->spec.units;
    if (l->spec.nodes > 0 && in != 1)
        return clae_fail(err, "%s:%d: [%s] a one-hot (featureless) gcn must come first",
                         CLAE_LAYER_WHERE(l));
    l->ops = &gcn_ops;
    l->out = (clae_shape){1, l->spec.units, 1, 1};
    l->n_w = (l->spec.nodes > 0 ? (size_t)l->spec.nodes : in) * u;
    l->n_b = l->spec.bias ? u : 0;
    l->scratch_per = (1 + N_PARTS) * u;
    l->side_input = 0;
    return 0;
}

static double gcn_flops(const clae_layer *l)
{
    /* the dense product; the sparse one adds 2 nnz units per graph */
    return l->spec.nodes > 0 ? 0.0 : 2.0 * (double)clae_shape_sample(l->in) * l->spec.units;
}

/* Its gradient checks need a graph bound: tests/test_gradcheck.c (test_gcn). */
const clae_layer_kind clae_kind_gcn = {
    .type = CLAE_LAYER_GCN,
    .names = {{"gcn", "units activation bias slope"}},
    .setup = gcn_setup,
    .flops = gcn_flops,
};

static int inner_product_setup(clae_layer *l, const clae_layer *earlier, int n_earlier,
                               clae_err *err)
{
    (void)earlier, (void)n_earlier;
    return clae_fail(err,
                     "%s:%d: [%s] an inner_product decoder reconstructs a graph's edges: it needs "
                     "data.format = graph",
                     CLAE_LAYER_WHERE(l));
}

const clae_layer_kind clae_kind_inner_product = {
    .type = CLAE_LAYER_INNER_PRODUCT,
    .names = {{"inner_product", ""}},
    .setup = inner_product_setup,
};
