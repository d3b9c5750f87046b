/* The reconstruction term: MSE or BCE of the output against the input, or
 * against the clean input when denoising (the model then sees a corrupted
 * copy). Training sums the configured loss; evaluation sums MSE and BCE, and
 * when denoising the corrupted input's MSE. Slots: loss, mse, bce, noisy. */
#include <math.h>
#include <stdlib.h>

#include "clae/objective.h"

enum { LOSS, MSE, BCE, NOISY };

typedef struct {
    clae_arena clean_arena;
    clae_tensor clean; /* (max batch, input): the target while model.x holds the noisy batch */
} recon_state;

static int recon_open(clae_term *t, clae_err *err)
{
    clae_objective *o = t->obj;
    recon_state *s = calloc(1, sizeof *s);
    if (!s) return clae_fail(err, "out of host memory");
    t->self = s;
    clae_arena_init(&s->clean_arena, "clean batch");
    if (o->cfg->train.noise == CLAE_NOISE_NONE) return 0;
    clae_shape in = o->model->input;
    in.n = o->model->max_batch;
    s->clean = clae_arena_reserve(&s->clean_arena, in);
    return clae_arena_alloc(o->ctx, &s->clean_arena) ? (*err = o->ctx->err, -1) : 0;
}

/* denoising: the clean batch becomes the target, model.x a corrupted copy */
static int recon_before(clae_term *t, const clae_batch *b, bool train)
{
    (void)train;
    clae_objective *o = t->obj;
    const clae_train_cfg *tc = &o->cfg->train;
    if (tc->noise == CLAE_NOISE_NONE) return 0;
    recon_state *s = t->self;
    size_t n = (size_t)b->rows * clae_shape_sample(o->model->input);
    o->target = clae_rows(&s->clean, b->rows);
    return clae_op_copy(o->ctx, &o->target, &o->input, n) ||
           clae_op_noise(o->ctx, &o->input, &o->target, n, (clae_noise_kind)tc->noise,
                         (float)tc->noise_level, b->noise_seed,
                         b->row0 * (uint32_t)clae_shape_sample(o->model->input));
}

static int recon_after(clae_term *t, const clae_batch *b, bool train)
{
    clae_objective *o = t->obj;
    clae_model *m = o->model;
    size_t cols = clae_shape_sample(m->input), rows = (size_t)b->rows;
    clae_tensor y = clae_rows(&m->y[clae_model_output_index(m)], b->rows);
    if (train) {
        clae_tensor dy = clae_rows(&m->dy[clae_model_output_index(m)], b->rows);
        return clae_op_loss(o->ctx, (clae_loss_kind)o->cfg->train.loss, &y, &o->target, rows, cols,
                            &dy, clae_objective_reduction_scale(o, b->rows), o->row_a) ||
               clae_op_accumulate(o->ctx, o->acc, clae_term_slot(t, true, LOSS), o->row_a, rows);
    }
    if (clae_op_metric_rows(o->ctx, &y, &o->target, rows, cols, o->row_a, o->row_b) ||
        clae_op_accumulate(o->ctx, o->acc, clae_term_slot(t, false, MSE), o->row_a, rows) ||
        clae_op_accumulate(o->ctx, o->acc, clae_term_slot(t, false, BCE), o->row_b, rows))
        return -1;
    if (o->cfg->train.noise == CLAE_NOISE_NONE) return 0;
    return clae_op_metric_rows(o->ctx, &o->input, &o->target, rows, cols, o->row_a, o->row_b) ||
           clae_op_accumulate(o->ctx, o->acc, clae_term_slot(t, false, NOISY), o->row_a, rows);
}

static void recon_finish(const clae_term *t, const clae_term_sums *s, bool train, clae_metrics *m)
{
    const clae_objective *o = t->obj;
    if (!s->samples) return;
    double values = (double)s->samples * (double)clae_shape_sample(o->model->input);
    bool bce = o->cfg->train.loss == CLAE_LOSS_BCE;
    if (train) {
        m->v[CLAE_METRIC_LOSS] = s->acc[2 * LOSS] / values;
        return;
    }
    m->v[CLAE_METRIC_MSE] = s->acc[2 * MSE] / values;
    m->v[CLAE_METRIC_BCE] = s->acc[2 * BCE] / values;
    m->v[CLAE_METRIC_LOSS] = bce ? m->v[CLAE_METRIC_BCE] : m->v[CLAE_METRIC_MSE];
    if (o->cfg->train.noise != CLAE_NOISE_NONE)
        m->v[CLAE_METRIC_NOISY_MSE] = s->acc[2 * NOISY] / values;
}

static void recon_close(clae_term *t)
{
    recon_state *s = t->self;
    if (s) clae_arena_release(&s->clean_arena);
    free(s);
    t->self = NULL;
}

const clae_term_ops clae_term_recon = {.name = "recon",
                                       .slots = 4,
                                       .open = recon_open,
                                       .before_forward = recon_before,
                                       .after_forward = recon_after,
                                       .finish = recon_finish,
                                       .close = recon_close};
