/* The classifier head's term: lambda * softmax cross-entropy of the head's
 * logits against the labels (batch mean), with accuracy and, on the test
 * split, the confusion matrix. Slots: cross-entropy, correct predictions. */
#include <stdlib.h>

#include "clae/objective.h"

enum { CE, OK };

typedef struct {
    int classes;
    cl_mem confusion;         /* classes x classes counts [label][prediction] */
    uint32_t *host_confusion; /* of the last test evaluation */
    bool counted;             /* the evaluation since the last clear counted test batches */
} classifier_state;

static int classifier_open(clae_term *t, clae_err *err)
{
    clae_objective *o = t->obj;
    classifier_state *s = calloc(1, sizeof *s);
    if (!s) return clae_fail(err, "out of host memory");
    t->self = s;
    s->classes = (int)clae_shape_sample(o->model->layers[o->model->n_layers - 1].out);
    size_t cells = (size_t)s->classes * (size_t)s->classes;
    s->host_confusion = calloc(cells, sizeof *s->host_confusion);
    if (!s->host_confusion) return clae_fail(err, "out of host memory");
    s->confusion = clae_buffer(o->ctx, cells * sizeof(uint32_t), NULL, "confusion matrix");
    return s->confusion ? 0 : (*err = o->ctx->err, -1);
}

static int classifier_after(clae_term *t, const clae_batch *b, bool train)
{
    clae_objective *o = t->obj;
    classifier_state *s = t->self;
    clae_model *m = o->model;
    if (!b->labels) return clae_fail(&o->ctx->err, "a classifier head needs labels for its batch");
    clae_tensor z = clae_rows(&m->y[m->n_layers - 1], b->rows),
                dz = clae_rows(&m->dy[m->n_layers - 1], b->rows);
    bool count = b->split == CLAE_SPLIT_TEST && !train;
    s->counted |= count;
    size_t rows = (size_t)b->rows;
    return clae_op_softmax_xent(o->ctx, &z, train ? &dz : NULL, b->labels, b->order, b->first,
                                b->order_mask, rows, (size_t)s->classes,
                                (float)(o->cfg->train.lambda / b->rows), o->row_a, o->row_b,
                                count ? s->confusion : NULL) ||
           clae_op_accumulate(o->ctx, o->acc, clae_term_slot(t, train, CE), o->row_a, rows) ||
           clae_op_accumulate(o->ctx, o->acc, clae_term_slot(t, train, OK), o->row_b, rows);
}

static int classifier_clear(clae_term *t, bool train)
{
    classifier_state *s = t->self;
    if (train) return 0;
    s->counted = false;
    cl_uint zero = 0;
    size_t cells = (size_t)s->classes * (size_t)s->classes;
    CLAE_CL_TRY(t->obj->ctx,
                clEnqueueFillBuffer(t->obj->ctx->queue, s->confusion, &zero, sizeof zero, 0,
                                    cells * sizeof zero, 0, NULL, NULL),
                "clEnqueueFillBuffer (confusion matrix)");
    return 0;
}

static int classifier_read(clae_term *t, bool train)
{
    classifier_state *s = t->self;
    if (train || !s->counted) return 0;
    size_t cells = (size_t)s->classes * (size_t)s->classes;
    CLAE_CL_TRY(t->obj->ctx,
                clEnqueueReadBuffer(t->obj->ctx->queue, s->confusion, CL_TRUE, 0,
                                    cells * sizeof(uint32_t), s->host_confusion, 0, NULL, NULL),
                "clEnqueueReadBuffer (confusion matrix)");
    return 0;
}

static void classifier_finish(const clae_term *t, const clae_term_sums *sums, bool train,
                              clae_metrics *m)
{
    const classifier_state *s = t->self;
    if (!sums->samples) return;
    m->v[CLAE_METRIC_CE] = sums->acc[2 * CE] / (double)sums->samples;
    m->v[CLAE_METRIC_ACCURACY] = sums->acc[2 * OK] / (double)sums->samples;
    if (!train && s->counted) m->confusion = s->host_confusion, m->classes = s->classes;
}

static void classifier_close(clae_term *t)
{
    classifier_state *s = t->self;
    if (s && s->confusion) clReleaseMemObject(s->confusion);
    if (s) free(s->host_confusion);
    free(s);
    t->self = NULL;
}

const clae_term_ops clae_term_classifier = {.name = "classifier",
                                            .slots = 2,
                                            .open = classifier_open,
                                            .after_forward = classifier_after,
                                            .finish = classifier_finish,
                                            .clear = classifier_clear,
                                            .read = classifier_read,
                                            .close = classifier_close};
