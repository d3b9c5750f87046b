/* The rate of codec training: rate_lambda * the code's bits per pixel under a
 * discretised Laplace model per channel (cl/rate.cl), so one config trains one
 * point of the rate-distortion curve. The code must come out of a quantize
 * layer: training sees it with uniform noise, evaluation rounded, and the
 * model prices either as the integers the codec will code. The value is
 * summed in every pass (the train and validation rate columns, the test
 * rate); its gradient joins the code's in the backward (the model's
 * latent_grad hook, as sparsity's). Slot: bits per pixel, summed per sample. */
#include <stdlib.h>

#include "clae/objective.h"

typedef struct {
    cl_mem mu, scale, bits; /* per channel */
    size_t channels, positions;
    float pixels;
    int rows; /* of the batch last fitted */
} rate_state;

static int rate_grad(void *user, clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz)
{
    clae_term *t = user;
    rate_state *s = t->self;
    float weight = (float)(t->obj->cfg->train.rate_lambda / ((double)s->rows * s->pixels));
    return clae_op_rate_grad(ctx, z, dz, (size_t)s->rows, s->channels, s->positions, weight, s->mu,
                             s->scale);
}

static int rate_open(clae_term *t, clae_err *err)
{
    clae_objective *o = t->obj;
    clae_model *m = o->model;
    const clae_layer *code = &m->layers[m->latent_index];
    if (code->spec.type != CLAE_LAYER_QUANTIZE)
        return clae_fail(err,
                         "%s:%d: [%s] train.rate_lambda prices integer codes: end the latent "
                         "section with a quantize layer",
                         CLAE_LAYER_WHERE(code));
    if (m->latent_grad)
        return clae_fail(err, "train.rate_lambda and the sparsity penalties (latent_l1, "
                              "latent_kl) cannot be combined");
    rate_state *s = calloc(1, sizeof *s);
    if (!s) return clae_fail(err, "out of host memory");
    t->self = s;
    s->channels = (size_t)code->out.c, s->positions = (size_t)code->out.h * code->out.w;
    s->pixels = (float)m->input.h * (float)m->input.w;
    size_t bytes = s->channels * sizeof(float);
    s->mu = clae_buffer(o->ctx, bytes, NULL, "rate model");
    s->scale = s->mu ? clae_buffer(o->ctx, bytes, NULL, "rate model") : NULL;
    s->bits = s->scale ? clae_buffer(o->ctx, bytes, NULL, "rate model") : NULL;
    if (!s->bits) return *err = o->ctx->err, -1;
    m->latent_grad = rate_grad;
    m->latent_user = t;
    return 0;
}

static int rate_after(clae_term *t, const clae_batch *b, bool train)
{
    clae_objective *o = t->obj;
    rate_state *s = t->self;
    clae_tensor z = clae_rows(clae_model_code(o->model), b->rows);
    s->rows = b->rows;
    return clae_op_rate_fit(o->ctx, &z, (size_t)b->rows, s->channels, s->positions, s->pixels,
                            s->mu, s->scale, s->bits) ||
           clae_op_accumulate(o->ctx, o->acc, clae_term_slot(t, train, 0), s->bits, s->channels);
}

static void rate_finish(const clae_term *t, const clae_term_sums *s, bool train, clae_metrics *m)
{
    (void)t, (void)train;
    if (s->samples) m->v[CLAE_METRIC_RATE] = s->acc[0] / (double)s->samples;
}

static void rate_close(clae_term *t)
{
    rate_state *s = t->self;
    if (!s) return;
    if (s->mu) clReleaseMemObject(s->mu);
    if (s->scale) clReleaseMemObject(s->scale);
    if (s->bits) clReleaseMemObject(s->bits);
    t->obj->model->latent_grad = NULL;
    free(s);
    t->self = NULL;
}

const clae_term_ops clae_term_rate = {.name = "rate",
                                      .slots = 1,
                                      .open = rate_open,
                                      .after_forward = rate_after,
                                      .finish = rate_finish,
                                      .close = rate_close};
