/* Evaluation of a model on a split, reconstructions and prior samples: a
 * model, its objective and the data, no optimizer. */
#include <math.h>
#include <stdlib.h>

#include "clae/train.h"

/* Evaluation noise is fixed: the same corrupted images every epoch. */
static clae_batch eval_batch(clae_data *d, clae_split_kind k, uint32_t first, int rows)
{
    clae_batch b = clae_data_batch(d, k, first, rows);
    b.noise_seed = clae_mix_seed((uint64_t)d->cfg->train.seed ^ 0xE7A1u, first);
    return b;
}

int clae_evaluate(clae_model *m, clae_objective *o, clae_data *d, clae_split_kind k,
                  clae_metrics *out)
{
    const clae_split_data *s = clae_data_split(d, k);
    uint32_t bs = (uint32_t)m->max_batch;
    float acc[CLAE_ACC_FLOATS];
    if (clae_objective_clear(o, false)) return -1;
    for (uint32_t first = 0; first < s->n; first += bs) {
        int rows = (int)(s->n - first < bs ? s->n - first : bs);
        clae_tensor x = clae_rows(&m->x, rows);
        clae_batch b = eval_batch(d, k, first, rows);
        if (clae_data_gather(d, k, first, rows, 0, &x) || clae_objective_eval_batch(o, &b))
            return -1;
    }
    if (clae_objective_read(o, false, acc)) return -1;
    clae_objective_finish(o, acc, s->n, 0, false, out);
    return 0;
}

int clae_reconstruct(clae_model *m, clae_objective *o, clae_data *d, int n, float *inputs,
                     float *outputs, float *clean)
{
    if (n > m->max_batch) n = m->max_batch;
    if ((uint32_t)n > d->test.n) n = (int)d->test.n;
    size_t cols = clae_shape_sample(m->input);
    clae_tensor x = clae_rows(&m->x, n);
    clae_batch b = eval_batch(d, CLAE_SPLIT_TEST, 0, n);
    b.labels = NULL; /* forward only: no term runs */
    if (clae_data_gather(d, CLAE_SPLIT_TEST, 0, n, 0, &x) || clae_objective_forward(o, &b, false))
        return -1;
    return clae_tensor_read(o->ctx, &m->x, inputs, (size_t)n * cols) ||
           clae_tensor_read(o->ctx, clae_model_output(m), outputs, (size_t)n * cols) ||
           (clean && clae_tensor_read(o->ctx, &o->target, clean, (size_t)n * cols));
}

int clae_sample_prior(clae_model *m, clae_ctx *ctx, uint64_t seed, double temperature, int n,
                      float *z, float *out)
{
    clae_layer *vae = clae_model_vae(m);
    if (!vae)
        return clae_fail(
            &ctx->err,
            "the model has no [latent.NAME] type = vae layer: a plain autoencoder's codes "
            "have no prior to sample from (decode chosen codes with clae decode)");
    int index = (int)(vae - m->layers);
    size_t u = (size_t)vae->spec.units, sample = clae_shape_sample(m->input), total = (size_t)n * u;
    clae_rng rng;
    clae_rng_seed(&rng, seed, 0x5A3B1E);
    for (size_t i = 0; i < total; i += 2) { /* Box-Muller pairs from the prior N(0, T^2 I) */
        double r = sqrt(-2.0 * log(1.0 - clae_rng_uniform(&rng))),
               a = 2.0 * M_PI * clae_rng_uniform(&rng);
        z[i] = (float)(temperature * r * cos(a));
        if (i + 1 < total) z[i + 1] = (float)(temperature * r * sin(a));
    }
    for (int first = 0; first < n; first += m->max_batch) {
        int rows = n - first < m->max_batch ? n - first : m->max_batch;
        clae_tensor code = clae_rows(&m->y[index], rows), y = clae_rows(clae_model_output(m), rows);
        if (clae_tensor_write(ctx, &code, z + (size_t)first * u, (size_t)rows * u) ||
            clae_model_forward_range(m, ctx, index + 1, clae_model_output_index(m), rows, false) ||
            clae_tensor_read(ctx, &y, out + (size_t)first * sample, (size_t)rows * sample))
            return -1;
    }
    return 0;
}
