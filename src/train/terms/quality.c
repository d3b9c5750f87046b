/* PSNR and SSIM of test reconstructions against their targets (quality.c),
 * summed on the host: each test batch is read back. Images of at least
 * 11x11 only (SSIM's window). No slots, no gradient. */
#include <stdlib.h>

#include "clae/objective.h"
#include "clae/quality.h"

typedef struct {
    double psnr, ssim;
    uint32_t images;
} quality_state;

static int quality_open(clae_term *t, clae_err *err)
{
    t->self = calloc(1, sizeof(quality_state));
    return t->self ? 0 : clae_fail(err, "out of host memory");
}

static int quality_after(clae_term *t, const clae_batch *b, bool train)
{
    if (train || b->split != CLAE_SPLIT_TEST) return 0;
    clae_objective *o = t->obj;
    quality_state *s = t->self;
    clae_shape shape = o->model->input;
    size_t cols = clae_shape_sample(shape), n = (size_t)b->rows * cols;
    clae_tensor y = clae_rows(&o->model->y[clae_model_output_index(o->model)], b->rows);
    float *a = malloc(n * sizeof *a), *ref = malloc(n * sizeof *ref);
    int rc = (!a || !ref)
                 ? clae_fail(&o->ctx->err, "out of host memory for the image quality metrics")
                 : clae_tensor_read(o->ctx, &y, a, n) ||
                       clae_tensor_read(o->ctx, &o->target, ref, n);
    for (int r = 0; r < b->rows && rc == 0; r++) {
        s->psnr += clae_psnr(a + r * cols, ref + r * cols, shape);
        s->ssim += clae_ssim(a + r * cols, ref + r * cols, shape);
    }
    s->images += rc == 0 ? (uint32_t)b->rows : 0;
    free(a);
    free(ref);
    return rc ? -1 : 0;
}

static int quality_clear(clae_term *t, bool train)
{
    if (!train) *(quality_state *)t->self = (quality_state){0};
    return 0;
}

static void quality_finish(const clae_term *t, const clae_term_sums *sums, bool train,
                           clae_metrics *m)
{
    const quality_state *s = t->self;
    (void)sums;
    if (train || !s->images) return;
    m->v[CLAE_METRIC_PSNR] = s->psnr / s->images;
    m->v[CLAE_METRIC_SSIM] = s->ssim / s->images;
}

static void quality_close(clae_term *t)
{
    free(t->self);
    t->self = NULL;
}

const clae_term_ops clae_term_quality = {.name = "quality",
                                         .slots = 0,
                                         .open = quality_open,
                                         .after_forward = quality_after,
                                         .finish = quality_finish,
                                         .clear = quality_clear,
                                         .close = quality_close};
