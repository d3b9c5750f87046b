/* The objective: its terms in table order, their accumulator slots, and the
 * step that runs forward, every term, and backward. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/objective.h"

static bool always(const clae_config *c, const clae_model *m) { return (void)c, (void)m, true; }
static bool has_vae(const clae_config *c, const clae_model *m)
{
    (void)c;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].spec.type == CLAE_LAYER_VAE) return true;
    return false;
}
static bool sparse(const clae_config *c, const clae_model *m)
{
    (void)m;
    return c->train.latent_l1 > 0 || c->train.latent_kl > 0;
}
static bool has_head(const clae_config *c, const clae_model *m)
{
    return (void)c, clae_model_has_head(m);
}
/* codec training with a rate term */
static bool priced(const clae_config *c, const clae_model *m)
{
    return (void)m, c->train.rate_lambda > 0;
}
/* SSIM's 11x11 window must fit */
static bool images(const clae_config *c, const clae_model *m)
{
    return (void)c, m->input.h >= 11 && m->input.w >= 11;
}

/* The terms, X(NAME, applies): clae_term_NAME (src/train/terms/NAME.c) and
 * when it applies, in the order they run. recon comes first: its slot 0 is
 * the loss. */
#define TERM_LIST(X) \
    X(recon, always) \
    X(kl, has_vae)   \
    X(sparsity, sparse) X(rate, priced) X(classifier, has_head) X(code, always) X(quality, images)

#define DECLARE_TERM(name, when) extern const clae_term_ops clae_term_##name;
TERM_LIST(DECLARE_TERM)
#undef DECLARE_TERM

static const struct {
    const clae_term_ops *ops;
    bool (*applies)(const clae_config *c, const clae_model *m);
} term_table[] = {
#define TERM_ROW(name, when) {&clae_term_##name, when},
    TERM_LIST(TERM_ROW)
#undef TERM_ROW
};
#define N_TERM_KINDS (int)(sizeof term_table / sizeof term_table[0])

static int open_terms(clae_objective *o, clae_err *err)
{
    int floats = 0;
    for (int k = 0; k < N_TERM_KINDS; k++) {
        if (!term_table[k].applies(o->cfg, o->model)) continue;
        clae_term *t = &o->terms[o->n_terms++];
        *t = (clae_term){.ops = term_table[k].ops, .obj = o, .slot = floats};
        floats += 2 * t->ops->slots;
        if (t->ops->open && t->ops->open(t, err)) return -1;
    }
    o->n_floats = floats;
    return floats <= CLAE_ACC_FLOATS
               ? 0
               : clae_fail(err, "the objective's terms need %d sums (at most %d)", floats,
                           CLAE_ACC_FLOATS);
}

int clae_objective_open(clae_objective *o, clae_ctx *ctx, const clae_config *cfg, clae_model *m,
                        clae_err *err)
{
    memset(o, 0, sizeof *o);
    o->cfg = cfg;
    o->ctx = ctx;
    o->model = m;
    size_t rows = (size_t)m->max_batch * sizeof(float);
    o->row_a = clae_buffer(ctx, rows, NULL, "loss rows");
    o->row_b = o->row_a ? clae_buffer(ctx, rows, NULL, "loss rows") : NULL;
    o->acc = o->row_b
                 ? clae_buffer(ctx, 2 * CLAE_ACC_FLOATS * sizeof(float), NULL, "loss accumulators")
                 : NULL;
    if (!o->acc) {
        *err = ctx->err;
        clae_objective_close(o);
        return -1;
    }
    if (open_terms(o, err) || clae_objective_clear(o, true) || clae_objective_clear(o, false)) {
        clae_objective_close(o);
        return -1;
    }
    return 0;
}

void clae_objective_close(clae_objective *o)
{
    for (int i = 0; i < o->n_terms; i++)
        if (o->terms[i].ops->close) o->terms[i].ops->close(&o->terms[i]);
    o->n_terms = 0;
    cl_mem bufs[] = {o->row_a, o->row_b, o->acc};
    for (int i = 0; i < 3; i++)
        if (bufs[i]) clReleaseMemObject(bufs[i]);
    o->row_a = o->row_b = o->acc = NULL;
}

clae_term *clae_objective_term(clae_objective *o, const char *name)
{
    for (int i = 0; i < o->n_terms; i++)
        if (strcmp(o->terms[i].ops->name, name) == 0) return &o->terms[i];
    return NULL;
}

float clae_objective_reduction_scale(const clae_objective *o, int rows)
{
    size_t cols = clae_shape_sample(o->model->input);
    return o->cfg->train.reduction == CLAE_REDUCTION_SUM ? 1.0f / (float)rows
                                                         : 1.0f / (float)((size_t)rows * cols);
}

/* The batch as the terms see it, then every term's preparation and the forward. */
int clae_objective_forward(clae_objective *o, const clae_batch *b, bool train)
{
    o->input = clae_rows(&o->model->x, b->rows);
    o->target = o->input;
    o->model->row0 = b->row0;
    for (int i = 0; i < o->n_terms; i++) {
        clae_term *t = &o->terms[i];
        if (t->ops->before_forward && t->ops->before_forward(t, b, train)) return -1;
    }
    return clae_model_forward(o->model, o->ctx, b->rows, train);
}

static int after_forward(clae_objective *o, const clae_batch *b, bool train)
{
    for (int i = 0; i < o->n_terms; i++)
        if (o->terms[i].ops->after_forward &&
            o->terms[i].ops->after_forward(&o->terms[i], b, train))
            return -1;
    return 0;
}

int clae_objective_train_batch(clae_objective *o, const clae_batch *b)
{
    if (clae_objective_forward(o, b, true) || after_forward(o, b, true)) return -1;
    return clae_model_backward(o->model, o->ctx, b->rows);
}

int clae_objective_eval_batch(clae_objective *o, const clae_batch *b)
{
    return clae_objective_forward(o, b, false) || after_forward(o, b, false);
}

int clae_objective_clear(clae_objective *o, bool train)
{
    float zero = 0.0f;
    size_t at = train ? 0 : CLAE_ACC_FLOATS;
    CLAE_CL_TRY(o->ctx,
                clEnqueueFillBuffer(o->ctx->queue, o->acc, &zero, sizeof zero, at * sizeof(float),
                                    CLAE_ACC_FLOATS * sizeof(float), 0, NULL, NULL),
                "clEnqueueFillBuffer (loss sums)");
    for (int i = 0; i < o->n_terms; i++) {
        clae_term *t = &o->terms[i];
        if (t->ops->clear && t->ops->clear(t, train)) return -1;
    }
    return 0;
}

int clae_objective_read(clae_objective *o, bool train, float *acc)
{
    size_t at = train ? 0 : CLAE_ACC_FLOATS;
    CLAE_CL_TRY(o->ctx,
                clEnqueueReadBuffer(o->ctx->queue, o->acc, CL_TRUE, at * sizeof(float),
                                    (size_t)o->n_floats * sizeof(float), acc, 0, NULL, NULL),
                "clEnqueueReadBuffer (loss sums)");
    for (int i = 0; i < o->n_terms; i++) {
        clae_term *t = &o->terms[i];
        if (t->ops->read && t->ops->read(t, train)) return -1;
    }
    return 0;
}

double clae_objective_loss_sum(const clae_objective *o, const float *acc)
{
    /* the Kahan pair's compensation holds the bits the float sum lost: a step's loss is the
     * difference of two epoch sums, which the float alone knows to ulp(sum) / values */
    return (double)acc[o->terms[0].slot] - (double)acc[o->terms[0].slot + 1];
}

void clae_objective_finish(const clae_objective *o, const float *acc, uint32_t samples, long steps,
                           bool train, clae_metrics *m)
{
    clae_metrics_clear(m);
    m->n = samples;
    for (int i = 0; i < o->n_terms; i++) {
        const clae_term *t = &o->terms[i];
        clae_term_sums s = {acc + t->slot, samples, steps};
        t->ops->finish(t, &s, train, m);
    }
}
