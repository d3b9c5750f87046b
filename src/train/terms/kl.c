/* The VAE's KL term: beta * KL(q(z|x) || N(0, I)), its weight ramped over
 * warmup_epochs and scaled as the reconstruction's reduction. The vae layer
 * computes the KL per row (into its aux) and its gradient in the backward
 * from the weight set here. Slot: the KL summed over rows. */
#include <math.h>

#include "clae/objective.h"

static clae_layer *vae_layer(const clae_term *t) { return clae_model_vae(t->obj->model); }

static int kl_open(clae_term *t, clae_err *err)
{
    return vae_layer(t) ? 0 : clae_fail(err, "no vae layer");
}

static int kl_before(clae_term *t, const clae_batch *b, bool train)
{
    if (!train) return 0;
    clae_layer *vae = vae_layer(t);
    double warm = 1.0;
    if (vae->spec.warmup_epochs > 0) warm = fmin(1.0, b->epochs_done / vae->spec.warmup_epochs);
    vae->kl_weight = (float)(vae->spec.beta * warm) *
                     clae_objective_reduction_scale(t->obj, b->rows);
    return 0;
}

static int kl_after(clae_term *t, const clae_batch *b, bool train)
{
    clae_objective *o = t->obj;
    return clae_op_accumulate_tensor(o->ctx, o->acc, clae_term_slot(t, train, 0),
                                     &vae_layer(t)->aux, (size_t)b->rows);
}

static void kl_finish(const clae_term *t, const clae_term_sums *s, bool train, clae_metrics *m)
{
    (void)t, (void)train;
    if (s->samples) m->v[CLAE_METRIC_KL] = s->acc[0] / (double)s->samples;
}

const clae_term_ops clae_term_kl = {.name = "kl",
                                    .slots = 1,
                                    .open = kl_open,
                                    .before_forward = kl_before,
                                    .after_forward = kl_after,
                                    .finish = kl_finish};
