/* The sparsity penalty on the code: latent_l1 * sum |z| per sample and
 * latent_kl * sum_j KL(rho || mean activation of unit j). Its gradient joins
 * the code's inside the backward (the model's latent_grad), where the code's
 * gradient from the decoder is complete. Slot: the penalty per step. */
#include <stdlib.h>

#include "clae/objective.h"

typedef struct {
    cl_mem rho_hat, unit_pen; /* per code unit: mean activation, share of the penalty */
} sparsity_state;

static size_t code_units(const clae_model *m)
{
    return clae_shape_sample(m->layers[m->latent_index].out);
}

static int sparsity_grad(void *user, clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz)
{
    clae_term *t = user;
    sparsity_state *s = t->self;
    const clae_train_cfg *tc = &t->obj->cfg->train;
    size_t u = code_units(t->obj->model);
    return clae_op_sparsity(ctx, z, dz, (size_t)z->shape.n, u, (float)tc->latent_l1,
                            (float)tc->latent_kl, (float)tc->latent_rho, s->rho_hat, s->unit_pen) ||
           clae_op_accumulate(ctx, t->obj->acc, clae_term_slot(t, true, 0), s->unit_pen, u);
}

static int sparsity_open(clae_term *t, clae_err *err)
{
    clae_objective *o = t->obj;
    const clae_layer *code = &o->model->layers[o->model->latent_index];
    if (o->cfg->train.latent_kl > 0 && code->spec.act != CLAE_ACT_SIGMOID)
        return clae_fail(
            err,
            "%s:%d: [%s] train.latent_kl needs a code in (0, 1): give the code layer activation = "
            "sigmoid",
            CLAE_LAYER_WHERE(code));
    sparsity_state *s = calloc(1, sizeof *s);
    if (!s) return clae_fail(err, "out of host memory");
    t->self = s;
    s->rho_hat = clae_buffer(o->ctx, code_units(o->model) * sizeof(float), NULL,
                             "sparsity statistics");
    s->unit_pen = s->rho_hat ? clae_buffer(o->ctx, code_units(o->model) * sizeof(float), NULL,
                                           "sparsity statistics")
                             : NULL;
    if (!s->unit_pen) return *err = o->ctx->err, -1;
    o->model->latent_grad = sparsity_grad;
    o->model->latent_user = t;
    return 0;
}

static void sparsity_finish(const clae_term *t, const clae_term_sums *s, bool train,
                            clae_metrics *m)
{
    (void)t;
    if (train && s->steps) m->v[CLAE_METRIC_PENALTY] = s->acc[0] / (double)s->steps;
}

static void sparsity_close(clae_term *t)
{
    sparsity_state *s = t->self;
    if (s && s->rho_hat) clReleaseMemObject(s->rho_hat);
    if (s && s->unit_pen) clReleaseMemObject(s->unit_pen);
    if (s) t->obj->model->latent_grad = NULL;
    free(s);
    t->self = NULL;
}

const clae_term_ops clae_term_sparsity = {.name = "sparsity",
                                          .slots = 1,
                                          .open = sparsity_open,
                                          .finish = sparsity_finish,
                                          .close = sparsity_close};
