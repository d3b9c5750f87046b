/* Self-attention over spatial positions (SAGAN), y = x + gamma * attention(x);
 * formulas in cl/attention.cl. Parameters, in one block: Wq (CK, C), bq (CK),
 * Wk (CK, C), bk (CK), Wv (C, C), bv (C), gamma (1); CK = key_channels
 * (default C / 8). gamma starts at `gamma` (0 as in SAGAN: the block starts as
 * the identity). The projections are 1x1 convolutions (the direct kernels). */
#include "clae/nn.h"

enum { Q, K, V, BETA, O, DQ, DK, DV, DS, TMP, N_PARTS };

typedef struct {
    int c, ck, p;
} attn_dims;

static attn_dims dims(const clae_layer *l)
{
    return (attn_dims){l->in.c,
                       l->spec.units > 0 ? l->spec.units : (l->in.c / 8 > 0 ? l->in.c / 8 : 1),
                       l->in.h * l->in.w};
}

/* floats per sample of each scratch part */
static size_t part_size(attn_dims d, int part)
{
    static const int kind[N_PARTS] = {1, 1, 2, 3, 2,
                                      1, 1, 2, 3, 2}; /* 1: CK x P, 2: C x P, 3: P x P */
    return (size_t)(kind[part] == 1 ? d.ck : kind[part] == 2 ? d.c : d.p) * d.p;
}

/* Part of the scratch laid out for the whole batch: [max_batch][part] contiguous. */
static clae_tensor part(const clae_layer *l, int which, int max_batch)
{
    attn_dims d = dims(l);
    clae_tensor t = l->scratch;
    for (int i = 0; i < which; i++) t.off += (size_t)max_batch * part_size(d, i);
    return t;
}

/* Views into the parameter (or gradient) block: Wq, bq, Wk, bk, Wv, bv, gamma. */
static clae_tensor param(const clae_tensor *block, attn_dims d, int which)
{
    size_t sizes[7] = {(size_t)d.ck * d.c,
                       (size_t)d.ck,
                       (size_t)d.ck * d.c,
                       (size_t)d.ck,
                       (size_t)d.c * d.c,
                       (size_t)d.c,
                       1};
    clae_tensor t = *block;
    for (int i = 0; i < which; i++) t.off += sizes[i];
    return t;
}

static clae_conv_geom one_by_one(const clae_layer *l)
{
    return (clae_conv_geom){l->in.c, l->in.h, l->in.w, 1, 1, 1, 1, 0, 0, 1, 1, l->in.h, l->in.w};
}

/* Projection which (q, k, v) of x into part out_part: a 1x1 convolution in ops. */
static int project(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, int n, int which,
                   int out_part, int channels)
{
    attn_dims d = dims(l);
    clae_tensor out = part(l, out_part, l->scratch.shape.n), w = param(&l->w, d, 2 * which),
                b = param(&l->w, d, 2 * which + 1);
    clae_project_op pr = {
        .g = one_by_one(l), .c_in = d.c, .c_out = channels, .p = d.p, .w = &w, .b = &b};
    return clae_project_forward(ctx, &pr, x, &out, n);
}

static int attention_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                             bool train)
{
    (void)train;
    attn_dims d = dims(l);
    int n = x->shape.n, mb = l->scratch.shape.n;
    clae_tensor q = part(l, Q, mb), k = part(l, K, mb), v = part(l, V, mb),
                beta = part(l, BETA, mb), o = part(l, O, mb), gamma = param(&l->w, d, 6);
    if (project(l, ctx, x, n, 0, Q, d.ck) || project(l, ctx, x, n, 1, K, d.ck) ||
        project(l, ctx, x, n, 2, V, d.c))
        return -1;
    return CLAE_LAUNCH(ctx, "attn_logits", (size_t)n * d.p * d.p, KARG_MEM(clae_buf(&beta)),
                       KARG_U32(beta.off), KARG_MEM(clae_buf(&q)), KARG_U32(q.off),
                       KARG_MEM(clae_buf(&k)), KARG_U32(k.off), KARG_U32(n), KARG_U32(d.ck),
                       KARG_U32(d.p)) ||
           CLAE_LAUNCH(ctx, "attn_softmax", (size_t)n * d.p, KARG_MEM(clae_buf(&beta)),
                       KARG_U32(beta.off), KARG_U32(n * d.p), KARG_U32(d.p)) ||
           CLAE_LAUNCH(ctx, "attn_apply", (size_t)n * d.c * d.p, KARG_MEM(clae_buf(&o)),
                       KARG_U32(o.off), KARG_MEM(clae_buf(&v)), KARG_U32(v.off),
                       KARG_MEM(clae_buf(&beta)), KARG_U32(beta.off), KARG_U32(n), KARG_U32(d.c),
                       KARG_U32(d.p)) ||
           CLAE_LAUNCH(ctx, "attn_residual", (size_t)n * d.c * d.p, KARG_MEM(clae_buf(y)),
                       KARG_U32(y->off), KARG_MEM(clae_buf(x)), KARG_U32(x->off),
                       KARG_MEM(clae_buf(&o)), KARG_U32(o.off), KARG_MEM(clae_buf(&gamma)),
                       KARG_U32(gamma.off), KARG_U32(n * d.c * d.p));
}

/* Gradients of one projection: dW += d . x^T, db += sum d, dx += W^T d. */
static int project_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *dx,
                            int n, int which, int grad_part, int channels)
{
    attn_dims d = dims(l);
    int mb = l->scratch.shape.n;
    clae_tensor gp = part(l, grad_part, mb), tmp = part(l, TMP, mb), w = param(&l->w, d, 2 * which),
                dw = param(&l->dw, d, 2 * which), db = param(&l->dw, d, 2 * which + 1);
    clae_project_op pr = {.g = one_by_one(l), .c_in = d.c, .c_out = channels, .p = d.p, .w = &w};
    return clae_op_channel_sum(ctx, &db, &gp, n, channels, d.p) ||
           clae_project_backward(ctx, &pr, x, &gp, &dw, dx, &tmp, n);
}

static int attention_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x,
                              const clae_tensor *y, const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    attn_dims d = dims(l);
    int n = x->shape.n, mb = l->scratch.shape.n;
    clae_tensor q = part(l, Q, mb), k = part(l, K, mb), v = part(l, V, mb),
                beta = part(l, BETA, mb), o = part(l, O, mb), dq = part(l, DQ, mb),
                dk = part(l, DK, mb), dv = part(l, DV, mb), ds = part(l, DS, mb),
                gamma = param(&l->w, d, 6), dgamma = param(&l->dw, d, 6);
    size_t nvals = (size_t)n * d.c * d.p;
    if (CLAE_LAUNCH(ctx, "attn_dgamma", 1, KARG_MEM(clae_buf(&dgamma)), KARG_U32(dgamma.off),
                    KARG_MEM(clae_buf(dy)), KARG_U32(dy->off), KARG_MEM(clae_buf(&o)),
                    KARG_U32(o.off), KARG_U32(nvals)) ||
        CLAE_LAUNCH(ctx, "attn_dv", nvals, KARG_MEM(clae_buf(&dv)), KARG_U32(dv.off),
                    KARG_MEM(clae_buf(dy)), KARG_U32(dy->off), KARG_MEM(clae_buf(&beta)),
                    KARG_U32(beta.off), KARG_MEM(clae_buf(&gamma)), KARG_U32(gamma.off),
                    KARG_U32(n), KARG_U32(d.c), KARG_U32(d.p)) ||
        CLAE_LAUNCH(ctx, "attn_dbeta", (size_t)n * d.p * d.p, KARG_MEM(clae_buf(&ds)),
                    KARG_U32(ds.off), KARG_MEM(clae_buf(dy)), KARG_U32(dy->off),
                    KARG_MEM(clae_buf(&v)), KARG_U32(v.off), KARG_MEM(clae_buf(&gamma)),
                    KARG_U32(gamma.off), KARG_U32(n), KARG_U32(d.c), KARG_U32(d.p)) ||
        CLAE_LAUNCH(ctx, "attn_softmax_backward", (size_t)n * d.p, KARG_MEM(clae_buf(&ds)),
                    KARG_U32(ds.off), KARG_MEM(clae_buf(&beta)), KARG_U32(beta.off),
                    KARG_U32(n * d.p), KARG_U32(d.p)) ||
        CLAE_LAUNCH(ctx, "attn_dqk", (size_t)n * d.ck * d.p, KARG_MEM(clae_buf(&dq)),
                    KARG_U32(dq.off), KARG_MEM(clae_buf(&ds)), KARG_U32(ds.off),
                    KARG_MEM(clae_buf(&k)), KARG_U32(k.off), KARG_U32(n), KARG_U32(d.ck),
                    KARG_U32(d.p), KARG_I32(0)) ||
        CLAE_LAUNCH(ctx, "attn_dqk", (size_t)n * d.ck * d.p, KARG_MEM(clae_buf(&dk)),
                    KARG_U32(dk.off), KARG_MEM(clae_buf(&ds)), KARG_U32(ds.off),
                    KARG_MEM(clae_buf(&q)), KARG_U32(q.off), KARG_U32(n), KARG_U32(d.ck),
                    KARG_U32(d.p), KARG_I32(1)))
        return -1;
    if (dx && clae_op_copy(ctx, dx, dy, nvals)) return -1; /* the residual path */
    return project_backward(l, ctx, x, dx, n, 0, DQ, d.ck) ||
           project_backward(l, ctx, x, dx, n, 1, DK, d.ck) ||
           project_backward(l, ctx, x, dx, n, 2, DV, d.c);
}

static void attention_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    (void)state;
    attn_dims d = dims(l);
    clae_init_uniform(host + l->w.off, l->n_w - 1, 1.0 / sqrt((double)d.c),
                      rng); /* as nn.Conv2d(C, ., 1) */
    host[param(&l->w, d, 6).off] = (float)l->spec.gamma;
}

static const clae_layer_ops attention_ops = {attention_forward, attention_backward, attention_init};

static int attention_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    (void)err;
    l->ops = &attention_ops;
    l->out = l->in;
    attn_dims d = dims(l);
    l->n_w = 2 * ((size_t)d.ck * d.c + d.ck) + (size_t)d.c * d.c + d.c + 1;
    l->n_b = 0;
    l->scratch_per = 0;
    for (int i = 0; i < N_PARTS; i++) l->scratch_per += part_size(d, i);
    return 0;
}

static double attention_flops(const clae_layer *l)
{
    double c = l->in.c, p = (double)l->in.h * l->in.w;
    double ck = l->spec.units > 0 ? l->spec.units : (l->in.c / 8 > 0 ? l->in.c / 8 : 1);
    return 2.0 * p * c * (2.0 * ck + c) /* q, k, v */ + 2.0 * p * p * ck /* scores */ +
           2.0 * p * p * c /* mix */;
}

const clae_layer_kind clae_kind_attention = {
    .type = CLAE_LAYER_ATTENTION,
    .names = {{"attention", "key_channels gamma"}},
    .setup = attention_setup,
    .flops = attention_flops,
    .checks = {{{.type = CLAE_LAYER_ATTENTION, .units = 2, .gamma = 0.7}, {1, 5, 3, 4}, 2},
               {{.type = CLAE_LAYER_ATTENTION, .gamma = 0.4}, {1, 9, 2, 3}, 1}},
};
