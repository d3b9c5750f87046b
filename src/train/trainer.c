#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/clock.h"
#include "clae/model_file.h"
#include "clae/train.h"

/* An allocation failure often surfaces only at the first kernel that touches
 * the buffer, so the whole budget is checked up front, with what to lower. */
double clae_trainer_device_bytes(const clae_trainer *t)
{
    const clae_model *m = &t->model;
    size_t sample = clae_shape_sample(m->input);
    double state = t->cfg->train.optimizer == CLAE_OPT_SGD ? 1 : 2;
    return 4.0 * ((double)m->params.capacity * (2 + state) + (double)m->acts.capacity +
                  (double)m->state.capacity) +
           (double)(t->data.sources[0].set.count + t->data.sources[1].set.count) * (double)sample;
}

static int check_device_memory(const clae_trainer *t, clae_err *err)
{
    double bytes = clae_trainer_device_bytes(t);
    double have = (double)t->ctx->dev.global_mem;
    if (bytes > 0.9 * have)
        return clae_fail(
            err,
            "training needs about %.0f MiB of device memory but %s has %.0f MiB: lower "
            "train.batch_size, the layer sizes, or data.train_limit",
            bytes / 1048576.0, t->ctx->dev.name, have / 1048576.0);
    return 0;
}

int clae_trainer_open(clae_trainer *t, clae_ctx *ctx, const clae_config *cfg, clae_err *err)
{
    return clae_trainer_open_job(t, ctx, cfg, NULL, err);
}

static int ranks(const clae_trainer *t) { return t->job ? t->job->size : 1; }

/* Several ranks: the gradient buckets, and rank 0's initial state everywhere (as DDP's
 * broadcast at construction: the seeds agree already, the broadcast makes sure). */
int clae_trainer_join(clae_trainer *t, clae_err *err)
{
    if (ranks(t) <= 1) return 0;
    t->dp = calloc(1, sizeof *t->dp);
    if (!t->dp) return clae_fail(err, "out of host memory");
    size_t bucket = (size_t)t->cfg->train.bucket_kb * 1024 / sizeof(float);
    return clae_dp_open(t->dp, t->job, t->ctx, &t->model, bucket, t->cfg->train.sync_bn, err) ||
           clae_trainer_share(t, err);
}

int clae_trainer_open_job(clae_trainer *t, clae_ctx *ctx, const clae_config *cfg,
                          const clae_job *job, clae_err *err)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->ctx = ctx;
    t->job = job;
    t->best_val = INFINITY;
    clae_metrics_clear(&t->train_metrics);
    int bs = cfg->train.batch_size, n = ranks(t);
    if (bs < n)
        return clae_fail(err,
                         "train.batch_size = %d is below the job's %d ranks: each rank takes a "
                         "shard of the batch, so raise it to at least %d",
                         bs, n, n);
    if (clae_data_open(&t->data, ctx, cfg, err)) return -1;
    if (clae_model_build(&t->model, ctx, clae_data_sample(&t->data), cfg->layers, cfg->n_layers,
                         (bs + n - 1) / n, err) ||
        check_device_memory(t, err) || clae_data_check_labels(&t->data, &t->model, err) ||
        clae_objective_open(&t->objective, ctx, cfg, &t->model, err))
        goto fail;
    t->model.seed = (uint64_t)cfg->train.seed;
    clae_optim_cfg oc = clae_config_optim(cfg);
    if (clae_optim_create(&t->optim, ctx, &oc, t->model.params.capacity) ||
        clae_model_init_params(&t->model, ctx, (uint64_t)cfg->train.seed)) {
        *err = ctx->err;
        goto fail;
    }
    return 0;
fail:
    clae_trainer_close(t);
    return -1;
}

void clae_trainer_close(clae_trainer *t)
{
    if (t->dp) clae_dp_close(t->dp);
    free(t->dp);
    t->dp = NULL;
    clae_objective_close(&t->objective);
    clae_data_close(&t->data);
    clae_model_release(&t->model);
    clae_optim_release(&t->optim);
}

/* The optimizer on m's gradients, which it consumes: the next backward need not clear them. */
static int optimize(clae_model *m, clae_optim *opt, clae_ctx *ctx, double lr)
{
    if (clae_optim_step(opt, ctx, m->params.buf, m->grads.buf, lr)) return -1;
    m->grads_zero = true;
    return 0;
}

int clae_train_step(clae_model *m, clae_objective *o, clae_optim *opt, const clae_batch *b,
                    uint64_t step, double lr)
{
    m->step = step; /* dropout masks follow the step, so a resumed run draws the same ones */
    return clae_objective_train_batch(o, b) || optimize(m, opt, o->ctx, lr) ? -1 : 0;
}

/* A rank's part of the global batch [first, first + rows): forward and backward of its
 * shard (none when the batch has fewer rows than ranks), the gradients summed over the
 * ranks with the stop votes, then the optimizer. */
static int parallel_step(clae_trainer *t, clae_batch *b, uint32_t first, int rows)
{
    int off, mine;
    clae_dp_shard(rows, t->job->rank, t->job->size, &off, &mine);
    clae_dp_begin(t->dp, (float)mine / (float)rows);
    t->model.step = (uint64_t)t->step;
    int rc = 0;
    if (mine > 0) {
        clae_tensor x = clae_rows(&t->model.x, mine);
        clae_batch shard = clae_data_batch(&t->data, CLAE_SPLIT_TRAIN, first + (uint32_t)off, mine);
        shard.noise_seed = b->noise_seed;
        shard.row0 = (uint32_t)off; /* random draws as one device's of the whole batch */
        shard.epochs_done = b->epochs_done;
        rc = clae_data_gather(&t->data, CLAE_SPLIT_TRAIN, first + (uint32_t)off, mine, t->epoch,
                              &x) ||
             clae_objective_train_batch(&t->objective, &shard);
    } else {
        rc = clae_model_zero_grads(&t->model, t->ctx) || clae_dp_idle_syncs(t->dp);
    }
    if (rc) return -1;
    clae_err err;
    if (clae_dp_reduce(t->dp, t->stop && *t->stop, &err)) {
        t->ctx->err = err;
        return -1;
    }
    return optimize(&t->model, &t->optim, t->ctx, t->lr);
}

static int train_step(clae_trainer *t, uint32_t first, int rows)
{
    clae_tensor x = clae_rows(&t->model.x, rows);
    clae_batch b = clae_data_batch(&t->data, CLAE_SPLIT_TRAIN, first, rows);
    b.noise_seed = clae_mix_seed((uint64_t)t->cfg->train.seed, (uint64_t)t->step);
    b.epochs_done = t->epoch + (t->data.train.n ? (double)first / t->data.train.n : 0.0);
    clae_schedule sched = clae_config_schedule(t->cfg);
    t->lr = clae_schedule_lr(&sched, t->epoch, t->step);
    if (t->dp) return parallel_step(t, &b, first, rows);
    return clae_data_gather(&t->data, CLAE_SPLIT_TRAIN, first, rows, t->epoch, &x) ||
           clae_train_step(&t->model, &t->objective, &t->optim, &b, (uint64_t)t->step, t->lr);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The order of epoch e depends only on (seed, e), not on earlier epochs, so a
 * resumed run replays exactly the batches of an uninterrupted one. */
static int shuffle_epoch(clae_trainer *t)
{
    clae_split_data *s = &t->data.train;
    qsort(s->host_order, s->n, sizeof(uint32_t), cmp_u32);
    clae_rng rng;
    clae_rng_seed(&rng, (uint64_t)t->cfg->train.seed, 0xE90C0000ull + (uint64_t)t->epoch);
    clae_rng_shuffle(&rng, s->host_order, s->n);
    return clae_data_upload_order(&t->data, s);
}

/* The first of n floats of t (on the device) that is not finite, or -1; -2 when it cannot be read.
 */
static long first_nonfinite(clae_ctx *ctx, const clae_tensor *t, size_t n)
{
    if (!n) return -1;
    float *v = malloc(n * sizeof *v);
    clae_tensor view = *t;
    long at = v && clae_tensor_read(ctx, &view, v, n) == 0 ? -1 : -2;
    for (size_t i = 0; at == -1 && i < n; i++)
        if (!isfinite(v[i])) at = (long)i;
    free(v);
    return at;
}

/* Where the last step first went non-finite: a layer's parameters, else the
 * first output in forward order, else the first gradient in backward order. */
static void locate_nonfinite(clae_trainer *t, int rows, char *where, size_t n)
{
    clae_model *m = &t->model;
    snprintf(where, n, "no layer's parameters, outputs or gradients (the loss itself)");
    for (int i = 0; i < m->n_layers; i++) {
        const clae_layer *l = &m->layers[i];
        if (first_nonfinite(t->ctx, &l->w, l->n_w) >= 0 ||
            first_nonfinite(t->ctx, &l->b, l->n_b) >= 0) {
            snprintf(where, n, "[%s]'s parameters", l->spec.section);
            return;
        }
    }
    for (int i = 0; i < m->n_layers; i++) {
        clae_tensor y = clae_rows(&m->y[i], rows);
        if (first_nonfinite(t->ctx, &y, clae_shape_numel(y.shape)) >= 0) {
            snprintf(where, n, "[%s]'s output", m->layers[i].spec.section);
            return;
        }
    }
    for (int i = m->n_layers - 1; i >= 0; i--) {
        clae_tensor dy = clae_rows(&m->dy[i], rows);
        if (first_nonfinite(t->ctx, &dy, clae_shape_numel(dy.shape)) >= 0) {
            snprintf(where, n, "the gradient of [%s]'s output", m->layers[i].spec.section);
            return;
        }
    }
}

/* A non-finite training loss stops the epoch (no checkpoint is written for it) with where. */
static int check_finite(clae_trainer *t, const float *acc, long from, long to, int rows)
{
    double sum = clae_objective_loss_sum(&t->objective, acc);
    if (isfinite(sum)) return 0;
    char where[200];
    locate_nonfinite(t, rows, where, sizeof where);
    return clae_fail(&t->ctx->err,
                     "epoch %d: the training loss became %s between steps %ld and %ld; the first "
                     "non-finite values are in %s: lower train.lr, set train.clip_norm, or check "
                     "the data",
                     t->epoch + 1, isnan(sum) ? "NaN" : "infinite", from, to, where);
}

/* The loss sums of every rank's shards: those of the global batches. Each (value,
 * compensation) pair is summed as the double it stands for and split back into a pair, so
 * the sum keeps the precision each rank's had. */
static int sum_over_ranks(clae_trainer *t, float *acc)
{
    if (!t->dp) return 0;
    int pairs = t->objective.n_floats / 2;
    double sums[CLAE_ACC_FLOATS / 2];
    for (int k = 0; k < pairs; k++) sums[k] = (double)acc[2 * k] - (double)acc[2 * k + 1];
    clae_err err;
    if (clae_job_allreduce_sum_f64(t->job, sums, (size_t)pairs, &err)) {
        t->ctx->err = err;
        return -1;
    }
    for (int k = 0; k < pairs; k++) {
        acc[2 * k] = (float)sums[k];
        acc[2 * k + 1] = (float)((double)acc[2 * k] - sums[k]);
    }
    return 0;
}

static void report(clae_trainer *t, clae_progress_fn fn, void *user, const float *acc, long done,
                   long total, long values_since, double t_start)
{
    if (!fn) return;
    double sum = clae_objective_loss_sum(&t->objective, acc);
    clae_progress p = {.epoch = t->epoch + 1,
                       .epochs = t->cfg->train.epochs,
                       .step = done,
                       .steps_per_epoch = total,
                       .loss = (sum - t->acc_train_read) / (double)values_since,
                       .elapsed_s = clae_now() - t_start};
    p.images_per_s = t->train_s > 0 ? (double)t->images_after_first / t->train_s : 0.0;
    t->acc_train_read = sum;
    fn(user, &p);
}

int clae_trainer_epoch(clae_trainer *t, clae_progress_fn fn, void *user)
{
    int bs = t->cfg->train.batch_size, log_every = t->cfg->train.log_every;
    size_t cols = clae_shape_sample(t->model.input);
    uint32_t n = t->data.train.n;
    long steps = ((long)n + bs - 1) / bs, values_since = 0;
    float acc[CLAE_ACC_FLOATS] = {0};
    /* sums restart each epoch, so a resumed run accumulates exactly as an uninterrupted one */
    if (shuffle_epoch(t) || clae_objective_clear(&t->objective, true)) return -1;
    double t_start = clae_now();
    t->acc_train_read = 0.0;
    long start = t->epoch_step; /* an interrupted epoch goes on where it stopped */
    for (long s = start; s < steps; s++) {
        uint32_t first = (uint32_t)(s * bs);
        int rows = (int)((n - first) < (uint32_t)bs ? n - first : (uint32_t)bs);
        double t0 = clae_now();
        if (train_step(t, first, rows)) return -1;
        values_since += (long)rows * (long)cols;
        if (t->run_steps++ == 0) {
            /* the first step holds one-time setup (CLBlast's compile, first allocations): timed
             * apart */
            if (clae_finish(t->ctx)) return -1;
            t->first_step_s = clae_now() - t0;
        } else {
            t->images_after_first += rows;
        }
        t->step++;
        /* several ranks stop together: at the step where any of them was asked to */
        bool stopping = t->dp ? t->dp->stop : t->stop && *t->stop;
        bool log = (s + 1) % log_every == 0 || s + 1 == steps || stopping;
        if (log && (clae_objective_read(&t->objective, true, acc) || sum_over_ranks(t, acc) ||
                    check_finite(t, acc, s + 2 - (s % log_every + 1), s + 1, rows)))
            return -1; /* the sync: launches were asynchronous */
        if (t->run_steps > 1) t->train_s += clae_now() - t0;
        if (log) {
            report(t, fn, user, acc, s + 1, steps, values_since, t_start);
            values_since = 0;
        }
        if (stopping && s + 1 < steps) {
            t->epoch_step = s + 1;
            return 1;
        }
    }
    /* the sums cover the steps of this process: all of the epoch unless it was resumed */
    uint32_t first = (uint32_t)(start * bs);
    /* batches accumulated: in a job every rank's shard of each step (a per-batch term's mean) */
    clae_objective_finish(&t->objective, acc, n - first, (steps - start) * ranks(t), true,
                          &t->train_metrics);
    t->epoch++;
    t->epoch_step = 0;
    return 0;
}

int clae_trainer_evaluate(clae_trainer *t, clae_split_kind k, clae_metrics *out)
{
    return clae_evaluate(&t->model, &t->objective, &t->data, k, out);
}

/* The training position a checkpoint keeps beside the model (and the optimizer's). */
static clae_ckpt_meta position(const clae_trainer *t)
{
    return (clae_ckpt_meta){.epoch = t->epoch,
                            .since_best = t->since_best,
                            .best_val = t->best_val,
                            .epoch_step = (int32_t)t->epoch_step};
}

int clae_trainer_save(clae_trainer *t, const char *path, clae_err *err)
{
    return clae_model_save_training(path, &t->model, t->ctx, t->cfg, position(t), &t->optim, err);
}

int clae_trainer_load(clae_trainer *t, const char *path, clae_err *err)
{
    clae_ckpt_meta meta;
    if (clae_model_load_training(path, &t->model, t->ctx, &t->optim, &meta, err)) return -1;
    t->epoch = meta.epoch;
    t->step = meta.optim_step;
    t->best_val = meta.best_val;
    t->since_best = meta.since_best;
    t->epoch_step = meta.epoch_step;
    long per_epoch = ((long)t->data.train.n + t->cfg->train.batch_size - 1) /
                     t->cfg->train.batch_size;
    if (t->epoch_step >= per_epoch)
        return clae_fail(err,
                         "%s: interrupted at step %ld of an epoch of %ld steps: resume with the "
                         "batch size and data it was trained with",
                         path, t->epoch_step, per_epoch);
    return 0;
}
