/* The code's activity, in evaluation: its mean value, the fraction of values
 * near zero (|z| < CLAE_CODE_ZERO), and its size in bits per input pixel at 8
 * bits a value. Slots: sum of values, count near zero. No gradient. */
#include "clae/objective.h"

enum { SUM, ZERO };

static size_t code_units(const clae_model *m)
{
    return clae_shape_sample(m->layers[m->latent_index].out);
}

static int code_after(clae_term *t, const clae_batch *b, bool train)
{
    if (train) return 0;
    clae_objective *o = t->obj;
    clae_model *m = o->model;
    clae_tensor z = clae_rows(&m->y[m->latent_index], b->rows);
    size_t rows = (size_t)b->rows;
    return clae_op_code_rows(o->ctx, &z, rows, code_units(m), (float)CLAE_CODE_ZERO, o->row_a,
                             o->row_b) ||
           clae_op_accumulate(o->ctx, o->acc, clae_term_slot(t, false, SUM), o->row_a, rows) ||
           clae_op_accumulate(o->ctx, o->acc, clae_term_slot(t, false, ZERO), o->row_b, rows);
}

static void code_finish(const clae_term *t, const clae_term_sums *s, bool train, clae_metrics *m)
{
    const clae_model *mod = t->obj->model;
    if (train || !s->samples) return;
    double values = (double)s->samples * (double)code_units(mod);
    m->v[CLAE_METRIC_CODE_MEAN] = s->acc[2 * SUM] / values;
    m->v[CLAE_METRIC_CODE_ZERO] = s->acc[2 * ZERO] / values;
    m->v[CLAE_METRIC_RAW_BITS_PER_PIXEL] = 8.0 * (double)code_units(mod) /
                                       ((double)mod->input.h * mod->input.w);
}

const clae_term_ops clae_term_code = {
    .name = "code", .slots = 2, .after_forward = code_after, .finish = code_finish};
