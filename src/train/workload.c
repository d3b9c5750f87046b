/* A config's training step on a synthetic batch, for clae bench and clae
 * tune: the model, its objective and optimizer as clae train builds them. */
#include <stdlib.h>
#include <string.h>

#include "clae/train.h"

/* The input of a sample: the config's data.image, or 1x28x28 for idx files
 * (Fashion-MNIST and MNIST), whose shape only the files know. */
static clae_shape workload_input(const clae_config *cfg)
{
    if (cfg->data.format != CLAE_DATA_IDX && cfg->data.image.c > 0) return cfg->data.image;
    return (clae_shape){1, 1, 28, 28};
}

/* clae train's step, objective included, on the synthetic batch (there is
 * no gather). A denoising term corrupts model.x in place each step, as in
 * training: the values drift from step to step, the work does not. */
int clae_workload_step(clae_workload *wl)
{
    clae_batch b = wl->batch;
    b.noise_seed = clae_mix_seed((uint64_t)wl->cfg->train.seed, (uint64_t)wl->step);
    return clae_train_step(&wl->m, &wl->obj, &wl->opt, &b, (uint64_t)wl->step++, wl->cfg->train.lr);
}

/* A random batch in [0, 1) with labels below the head's classes (if any),
 * entries 0..batch - 1 as its order. */
static int synthetic_batch(clae_workload *wl, clae_shape in)
{
    clae_ctx *ctx = wl->ctx;
    int rows = wl->cfg->train.batch_size;
    size_t n = (size_t)rows * clae_shape_sample(in);
    float *host = malloc(n * sizeof *host);
    uint32_t *order = malloc((size_t)rows * sizeof *order);
    uint8_t *labels = malloc((size_t)rows);
    int rc = -1;
    clae_tensor *logits = clae_model_logits(&wl->m);
    int classes = logits ? (int)clae_shape_sample(wl->m.layers[wl->m.n_layers - 1].out) : 1;
    if (!host || !order || !labels) {
        clae_fail(&ctx->err, "out of host memory");
    } else {
        clae_rng rng;
        clae_rng_seed(&rng, 1, 0);
        for (size_t i = 0; i < n; i++) host[i] = (float)clae_rng_uniform(&rng);
        for (int r = 0; r < rows; r++) order[r] = (uint32_t)r, labels[r] = (uint8_t)(r % classes);
        wl->order = clae_buffer(ctx, (size_t)rows * sizeof *order, order, "synthetic batch");
        wl->labels = wl->order ? clae_buffer(ctx, (size_t)rows, labels, "synthetic batch") : NULL;
        rc = wl->labels ? clae_tensor_write(ctx, &wl->m.x, host, n) : -1;
    }
    wl->batch = (clae_batch){.split = CLAE_SPLIT_TRAIN,
                             .rows = rows,
                             .order = wl->order,
                             .order_mask = 0xFFFFFFFFu,
                             .labels = wl->labels};
    free(host);
    free(order);
    free(labels);
    return rc;
}

/* Model, objective, optimizer and the synthetic batch. */
int clae_workload_open(clae_workload *wl, clae_ctx *ctx, const clae_config *cfg, clae_err *err)
{
    memset(wl, 0, sizeof *wl);
    wl->ctx = ctx;
    wl->cfg = cfg;
    clae_shape in = workload_input(cfg);
    if (clae_check_image_config(cfg, err)) return -1;
    if (clae_model_build(&wl->m, ctx, in, cfg->layers, cfg->n_layers, cfg->train.batch_size, err) ||
        clae_objective_open(&wl->obj, ctx, cfg, &wl->m, err))
        return clae_workload_close(wl), -1;
    wl->m.seed = (uint64_t)cfg->train.seed;
    clae_optim_cfg oc = clae_config_optim(cfg);
    if (synthetic_batch(wl, in) || clae_optim_create(&wl->opt, ctx, &oc, wl->m.params.capacity) ||
        clae_model_init_params(&wl->m, ctx, 1)) {
        *err = ctx->err;
        clae_workload_close(wl);
        return -1;
    }
    return 0;
}

int clae_workload_metrics(clae_workload *wl, long steps, clae_metrics *m)
{
    float acc[CLAE_ACC_FLOATS];
    if (clae_objective_read(&wl->obj, true, acc)) return -1;
    clae_objective_finish(&wl->obj, acc, (uint32_t)(steps * wl->batch.rows), steps, true, m);
    return 0;
}

void clae_workload_close(clae_workload *wl)
{
    clae_objective_close(&wl->obj);
    clae_optim_release(&wl->opt);
    clae_model_release(&wl->m);
    if (wl->order) clReleaseMemObject(wl->order);
    if (wl->labels) clReleaseMemObject(wl->labels);
    wl->order = wl->labels = NULL;
}
