/* Batch normalisation per channel, PyTorch's nn.BatchNorm2d (and nn.BatchNorm1d
 * on a dense layer's (N, C) output): gamma (C) and beta (C) are trained; the
 * running mean and variance (C each) are layer state, saved in checkpoints and
 * used in evaluation. Formulas in cl/norm.cl. */
#include <stdlib.h>

#include "clae/nn.h"

/* train.sync_bn: this shard's moments, combined over the ranks on the host, back as
 * the global batch's mean and variance; *count: its values per channel. */
static int synced_stats(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, double *count)
{
    int n = x->shape.n, c = l->in.c, p = l->in.h * l->in.w;
    clae_tensor st = {l->stats.arena, l->stats.off, {1, 2 * c, 1, 1}};
    float *host = malloc(2 * (size_t)c * sizeof *host);
    if (!host) return clae_fail(&ctx->err, "out of host memory");
    *count = (double)n * p;
    int rc = CLAE_LAUNCH(ctx, "bn_moments", (size_t)c, KARG_MEM(clae_buf(&l->stats)),
                         KARG_U32(l->stats.off), KARG_MEM(clae_buf(x)), KARG_U32(x->off),
                         KARG_U32(n), KARG_U32(c), KARG_U32(p)) ||
             clae_tensor_read(ctx, &st, host, 2 * (size_t)c) ||
             l->batch_sync->moments(l->batch_sync->user, count, host, host + c, c);
    for (int i = 0; rc == 0 && i < c; i++) host[c + i] = (float)(host[c + i] / *count);
    rc = rc || clae_tensor_write(ctx, &st, host, 2 * (size_t)c) ||
         CLAE_LAUNCH(ctx, "bn_sync_finish", (size_t)c, KARG_MEM(clae_buf(&l->stats)),
                     KARG_U32(l->stats.off), KARG_MEM(clae_buf(&l->state)), KARG_U32(l->state.off),
                     KARG_U32(c), KARG_F32((float)*count), KARG_F32(l->spec.eps),
                     KARG_F32(l->spec.momentum));
    free(host);
    return rc ? -1 : 0;
}

static int bn_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                      bool train)
{
    int n = x->shape.n, c = l->in.c, p = l->in.h * l->in.w;
    clae_tensor xhat = clae_rows(&l->scratch, n);
    l->values = (double)n * p;
    if (train && l->batch_sync) {
        if (synced_stats(l, ctx, x, &l->values)) return -1;
    } else if (CLAE_LAUNCH(ctx, "bn_stats", (size_t)c, KARG_MEM(clae_buf(&l->stats)),
                           KARG_U32(l->stats.off), KARG_MEM(clae_buf(&l->state)),
                           KARG_U32(l->state.off), KARG_MEM(clae_buf(x)), KARG_U32(x->off),
                           KARG_U32(n), KARG_U32(c), KARG_U32(p), KARG_F32(l->spec.eps),
                           KARG_F32(l->spec.momentum), KARG_I32(train))) {
        return -1;
    }
    return CLAE_LAUNCH(ctx, "bn_forward", (size_t)n * c * p, KARG_MEM(clae_buf(y)),
                       KARG_U32(y->off), KARG_MEM(clae_buf(&xhat)), KARG_U32(xhat.off),
                       KARG_MEM(clae_buf(x)), KARG_U32(x->off), KARG_MEM(clae_buf(&l->stats)),
                       KARG_U32(l->stats.off), KARG_MEM(clae_buf(&l->w)), KARG_U32(l->w.off),
                       KARG_MEM(clae_buf(&l->b)), KARG_U32(l->b.off), KARG_U32(n), KARG_U32(c),
                       KARG_U32(p));
}

/* train.sync_bn: the sums the dx pass reads, [sum dy C][sum dy xhat C], over the global
 * batch (dgamma and dbeta keep the shard's: the gradient allreduce sums those). */
static int sync_sums(clae_layer *l, clae_ctx *ctx)
{
    int c = l->in.c;
    clae_tensor st = {l->stats.arena, l->stats.off + 2 * (size_t)c, {1, 2 * c, 1, 1}};
    float *host = malloc(2 * (size_t)c * sizeof *host);
    if (!host) return clae_fail(&ctx->err, "out of host memory");
    int rc = clae_tensor_read(ctx, &st, host, 2 * (size_t)c) ||
             l->batch_sync->sums(l->batch_sync->user, host, 2 * (size_t)c) ||
             clae_tensor_write(ctx, &st, host, 2 * (size_t)c);
    free(host);
    return rc ? -1 : 0;
}

static int bn_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                       const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    int n = x->shape.n, c = l->in.c, p = l->in.h * l->in.w;
    clae_tensor xhat = clae_rows(&l->scratch, n);
    if (CLAE_LAUNCH(ctx, "bn_backward_sums", (size_t)c, KARG_MEM(clae_buf(&l->stats)),
                    KARG_U32(l->stats.off), KARG_MEM(clae_buf(&l->dw)), KARG_U32(l->dw.off),
                    KARG_MEM(clae_buf(&l->db)), KARG_U32(l->db.off), KARG_MEM(clae_buf(dy)),
                    KARG_U32(dy->off), KARG_MEM(clae_buf(&xhat)), KARG_U32(xhat.off), KARG_U32(n),
                    KARG_U32(c), KARG_U32(p)))
        return -1;
    if (l->trained && l->batch_sync && sync_sums(l, ctx)) return -1;
    if (!dx) return 0;
    return CLAE_LAUNCH(ctx, "bn_backward_dx", (size_t)n * c * p, KARG_MEM(clae_buf(dx)),
                       KARG_U32(dx->off), KARG_MEM(clae_buf(dy)), KARG_U32(dy->off),
                       KARG_MEM(clae_buf(&xhat)), KARG_U32(xhat.off), KARG_MEM(clae_buf(&l->stats)),
                       KARG_U32(l->stats.off), KARG_MEM(clae_buf(&l->w)), KARG_U32(l->w.off),
                       KARG_U32(n), KARG_U32(c), KARG_U32(p), KARG_I32(l->trained),
                       KARG_F32((float)l->values));
}

static void bn_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    (void)rng;
    size_t c = (size_t)l->in.c;
    for (size_t i = 0; i < c; i++) {
        host[l->w.off + i] = 1.0f;          /* gamma */
        host[l->b.off + i] = 0.0f;          /* beta */
        state[l->state.off + i] = 0.0f;     /* running mean */
        state[l->state.off + c + i] = 1.0f; /* running var */
    }
}

static const clae_layer_ops bn_ops = {bn_forward, bn_backward, bn_init};

static int batch_norm_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    (void)err;
    l->ops = &bn_ops;
    l->out = l->in;
    l->n_w = l->n_b = (size_t)l->in.c;
    l->n_state = 2 * (size_t)l->in.c;
    l->n_stats = 4 * (size_t)l->in.c;
    l->scratch_per = clae_shape_sample(l->in); /* xhat */
    return 0;
}

const clae_layer_kind clae_kind_batch_norm = {
    .type = CLAE_LAYER_BATCH_NORM,
    .names = {{"batch_norm", "momentum eps"}},
    .setup = batch_norm_setup,
    .checks = {{{.type = CLAE_LAYER_BATCH_NORM, .momentum = 0.1, .eps = 1e-5}, {1, 3, 4, 5}, 3},
               {{.type = CLAE_LAYER_BATCH_NORM, .momentum = 0.1, .eps = 1e-5}, {1, 7, 1, 1}, 4}},
};
