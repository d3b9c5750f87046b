#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/clock.h"
#include "clae/train.h"

/* Kahan accumulators on the device, (value, compensation) pairs. Training
 * slots restart each epoch, evaluation slots each evaluation. */
enum {
    ACC_TRAIN = 0, ACC_KL_TRAIN = 2, ACC_PEN_TRAIN = 4, ACC_CE_TRAIN = 6, ACC_OK_TRAIN = 8, ACC_TRAIN_END = 10,
    ACC_MSE = 10, ACC_BCE = 12, ACC_NOISY = 14, ACC_KL_EVAL = 16, ACC_CE_EVAL = 18, ACC_OK_EVAL = 20,
    ACC_Z_SUM = 22, ACC_Z_ZERO = 24, ACC_EVAL_END = 26,
    ACC_FLOATS = 32
};

static cl_mem device_buffer(clae_ctx *ctx, size_t bytes, const void *host, const char *what)
{
    cl_int rc;
    cl_mem m = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | (host ? CL_MEM_COPY_HOST_PTR : 0), bytes ? bytes : 4,
                              (void *)host, &rc);
    if (rc != CL_SUCCESS) clae_cl_fail(ctx, rc, what);
    return m;
}

/* An allocation failure often surfaces only at the first kernel that touches
 * the buffer, so the whole budget is checked up front, with what to lower. */
static int check_device_memory(const clae_trainer *t, clae_err *err)
{
    const clae_model *m = &t->model;
    size_t sample = clae_shape_sample(m->input);
    double state = t->cfg->train.optimizer == CLAE_OPT_SGD ? 1 : 2;
    double bytes = 4.0 * ((double)m->params.capacity * (2 + state) + (double)m->acts.capacity + (double)m->state.capacity) +
                   (double)(t->sources[0].set.count + t->sources[1].set.count) * (double)sample;
    double have = (double)t->ctx->dev.global_mem;
    if (bytes > 0.9 * have)
        return clae_fail(err, "training needs about %.0f MiB of device memory but %s has %.0f MiB: lower "
                              "train.batch_size, the layer sizes, or data.train_limit",
                         bytes / 1048576.0, t->ctx->dev.name, have / 1048576.0);
    return 0;
}

static bool sparse(const clae_trainer *t) { return t->cfg->train.latent_l1 > 0 || t->cfg->train.latent_kl > 0; }

static const clae_layer *code_layer(const clae_trainer *t) { return &t->model.layers[t->model.latent_index]; }

/* The sparsity penalty's gradient on the code (the model calls it in backward),
 * its value summed for the epoch's report. */
static int sparsity_grad(void *user, clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz)
{
    clae_trainer *t = user;
    const clae_train_cfg *tc = &t->cfg->train;
    size_t u = clae_shape_sample(code_layer(t)->out);
    return clae_op_sparsity(ctx, z, dz, (size_t)z->shape.n, u, (float)tc->latent_l1, (float)tc->latent_kl,
                            (float)tc->latent_rho, t->rho_hat, t->unit_pen) ||
           clae_op_accumulate(ctx, t->acc, ACC_PEN_TRAIN, t->unit_pen, u);
}

/* A classifier head needs labels below its output count in every source. */
static int check_labels(clae_trainer *t, clae_err *err)
{
    const clae_layer *out = &t->model.layers[t->model.n_layers - 1];
    t->classes = (int)clae_shape_sample(out->out);
    for (int i = 0; i < t->n_sources; i++) {
        const clae_dataset *d = &t->sources[i].set;
        if (!d->labels)
            return clae_fail(err, "%s:%d: [%s] a classifier head needs labels, but the %s data has none (idx: "
                                  "data.train_labels/test_labels; folder: data.labels; emoji: data.classes)",
                             CLAE_LAYER_WHERE(out), i == 0 ? "training" : "test");
        for (uint32_t k = 0; k < d->count; k++)
            if (d->labels[k] >= t->classes)
                return clae_fail(err, "%s:%d: [%s] outputs %d classes but the data has label %d: set its units to the "
                                      "number of classes",
                                 CLAE_LAYER_WHERE(out), t->classes, d->labels[k]);
    }
    return 0;
}

/* Buffers and checks of the sparse and multitask variants. */
static int open_variants(clae_trainer *t, clae_err *err)
{
    const clae_train_cfg *tc = &t->cfg->train;
    const clae_layer *code = code_layer(t);
    if (tc->latent_kl > 0 && code->spec.act != CLAE_ACT_SIGMOID)
        return clae_fail(err, "%s:%d: [%s] train.latent_kl needs a code in (0, 1): give the code layer activation = "
                              "sigmoid", CLAE_LAYER_WHERE(code));
    if (sparse(t)) {
        size_t u = clae_shape_sample(code->out);
        t->rho_hat = device_buffer(t->ctx, u * sizeof(float), NULL, "sparsity statistics");
        t->unit_pen = device_buffer(t->ctx, u * sizeof(float), NULL, "sparsity statistics");
        if (!t->rho_hat || !t->unit_pen) return *err = t->ctx->err, -1;
        t->model.latent_grad = sparsity_grad;
        t->model.latent_user = t;
    }
    if (!clae_model_has_head(&t->model)) return 0;
    if (check_labels(t, err)) return -1;
    size_t cells = (size_t)t->classes * (size_t)t->classes;
    t->host_confusion = calloc(cells, sizeof *t->host_confusion);
    t->confusion = device_buffer(t->ctx, cells * sizeof(uint32_t), NULL, "confusion matrix");
    if (!t->host_confusion) return clae_fail(err, "out of host memory");
    return t->confusion ? 0 : (*err = t->ctx->err, -1);
}

int clae_trainer_open(clae_trainer *t, clae_ctx *ctx, const clae_config *cfg, clae_err *err)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->ctx = ctx;
    t->best_val = INFINITY;
    if (clae_trainer_load_data(t, err)) goto fail;
    int bs = cfg->train.batch_size;
    if (clae_model_build(&t->model, ctx, t->sources[0].set.sample, cfg->layers, cfg->n_layers, bs, err) ||
        check_device_memory(t, err) || open_variants(t, err))
        goto fail;
    t->model.seed = (uint64_t)cfg->train.seed;
    clae_arena_init(&t->clean_arena, "clean batch");
    if (cfg->train.noise != CLAE_NOISE_NONE) {
        t->clean = clae_arena_reserve(&t->clean_arena, (clae_shape){bs, t->model.input.c, t->model.input.h,
                                                                     t->model.input.w});
        if (clae_arena_alloc(ctx, &t->clean_arena)) {
            *err = ctx->err;
            goto fail;
        }
    }
    clae_optim_cfg oc = clae_config_optim(cfg);
    t->row_a = device_buffer(ctx, (size_t)bs * sizeof(float), NULL, "loss rows");
    t->row_b = device_buffer(ctx, (size_t)bs * sizeof(float), NULL, "loss rows");
    t->acc = device_buffer(ctx, ACC_FLOATS * sizeof(float), (float[ACC_FLOATS]){0}, "loss accumulators");
    if (!t->row_a || !t->row_b || !t->acc || clae_optim_create(&t->optim, ctx, &oc, t->model.params.capacity) ||
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
    clae_trainer_release_data(t);
    clae_arena_release(&t->clean_arena);
    clae_model_release(&t->model);
    clae_optim_release(&t->optim);
    cl_mem bufs[] = {t->row_a, t->row_b, t->acc, t->rho_hat, t->unit_pen, t->confusion};
    for (int i = 0; i < 6; i++)
        if (bufs[i]) clReleaseMemObject(bufs[i]);
    t->row_a = t->row_b = t->acc = t->rho_hat = t->unit_pen = t->confusion = NULL;
    free(t->host_confusion);
    t->host_confusion = NULL;
}

static uint32_t mix_seed(uint64_t a, uint64_t b)
{
    uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    return (uint32_t)(h ^ (h >> 29));
}

/* The batch into model.x; with denoising the clean batch goes to t->clean and
 * model.x gets a corrupted copy drawn from seed. *target: what the output should be. */
static int prepare_batch(clae_trainer *t, const clae_split_data *s, uint32_t first, int rows, uint32_t seed,
                         clae_tensor *target)
{
    clae_tensor x = clae_rows(&t->model.x, rows);
    *target = x;
    if (clae_trainer_gather(t, s, first, rows)) return -1;
    if (t->cfg->train.noise == CLAE_NOISE_NONE) return 0;
    size_t n = (size_t)rows * clae_shape_sample(t->model.input);
    *target = clae_rows(&t->clean, rows);
    return clae_op_copy(t->ctx, target, &x, n) ||
           clae_op_noise(t->ctx, &x, target, n, (clae_noise_kind)t->cfg->train.noise, (float)t->cfg->train.noise_level,
                         seed);
}

/* The loss gradient's scale: reduction mean divides by every value of the
 * batch, sum by the batch size only; the KL term follows the same reduction. */
static float reduction_scale(const clae_trainer *t, int rows)
{
    size_t cols = clae_shape_sample(t->model.input);
    return t->cfg->train.reduction == 1 ? 1.0f / (float)rows : 1.0f / (float)((size_t)rows * cols);
}

/* KL weight of this step: beta, ramped over warmup_epochs, times the reduction. */
static void set_kl_weight(clae_trainer *t, clae_layer *vae, uint32_t first, int rows)
{
    double progress = t->epoch + (t->train.n ? (double)first / t->train.n : 0.0), warm = 1.0;
    if (vae->spec.warmup_epochs > 0) warm = fmin(1.0, progress / vae->spec.warmup_epochs);
    vae->kl_weight = (float)(vae->spec.beta * warm) * reduction_scale(t, rows);
}

static uint32_t order_mask(const clae_split_data *s) { return s->augment ? 0xFFFFFFu : 0xFFFFFFFFu; }

/* The head's cross-entropy and correct predictions of a batch, summed into the
 * slots ce and ok; in training its logits get lambda's share of the gradient. */
static int head_loss(clae_trainer *t, const clae_split_data *s, uint32_t first, int rows, bool train, cl_mem confusion,
                     int ce, int ok)
{
    clae_model *m = &t->model;
    clae_tensor z = clae_rows(&m->y[m->n_layers - 1], rows), dz = clae_rows(&m->dy[m->n_layers - 1], rows);
    return clae_op_softmax_xent(t->ctx, &z, train ? &dz : NULL, t->sources[s->source].labels, s->order, first,
                                order_mask(s), (size_t)rows, (size_t)t->classes, (float)(t->cfg->train.lambda / rows),
                                t->row_a, t->row_b, confusion) ||
           clae_op_accumulate(t->ctx, t->acc, (size_t)ce, t->row_a, (size_t)rows) ||
           clae_op_accumulate(t->ctx, t->acc, (size_t)ok, t->row_b, (size_t)rows);
}

static int train_step(clae_trainer *t, uint32_t first, int rows)
{
    clae_model *m = &t->model;
    size_t cols = clae_shape_sample(m->input);
    int out = clae_model_output_index(m);
    clae_layer *vae = clae_model_vae(m);
    if (vae) set_kl_weight(t, vae, first, rows);
    clae_tensor y = clae_rows(&m->y[out], rows), dy = clae_rows(&m->dy[out], rows), target;
    m->step = (uint64_t)t->step; /* dropout masks follow the step, so a resumed run draws the same ones */
    if (prepare_batch(t, &t->train, first, rows, mix_seed((uint64_t)t->cfg->train.seed, (uint64_t)t->step), &target) ||
        clae_model_forward(m, t->ctx, rows, true) ||
        clae_op_loss(t->ctx, (clae_loss_kind)t->cfg->train.loss, &y, &target, (size_t)rows, cols, &dy,
                     reduction_scale(t, rows), t->row_a) ||
        clae_op_accumulate(t->ctx, t->acc, ACC_TRAIN, t->row_a, (size_t)rows) ||
        (vae && clae_op_accumulate_tensor(t->ctx, t->acc, ACC_KL_TRAIN, &vae->aux, (size_t)rows)) ||
        (t->classes && head_loss(t, &t->train, first, rows, true, NULL, ACC_CE_TRAIN, ACC_OK_TRAIN)) ||
        clae_model_backward(m, t->ctx, rows))
        return -1;
    clae_schedule sched = clae_config_schedule(t->cfg);
    t->lr = clae_schedule_lr(&sched, t->epoch, t->step);
    return clae_optim_step(&t->optim, t->ctx, m->params.buf, m->grads.buf, t->lr);
}

/* Zeroes the accumulator slots [from, to). */
static int clear_acc(clae_trainer *t, int from, int to)
{
    float zero = 0.0f;
    CLAE_CL_TRY(t->ctx,
                clEnqueueFillBuffer(t->ctx->queue, t->acc, &zero, sizeof zero, (size_t)from * sizeof(float),
                                    (size_t)(to - from) * sizeof(float), 0, NULL, NULL),
                "clEnqueueFillBuffer (loss sums)");
    return 0;
}

static int read_acc(clae_trainer *t, float acc[ACC_FLOATS])
{
    CLAE_CL_TRY(t->ctx,
                clEnqueueReadBuffer(t->ctx->queue, t->acc, CL_TRUE, 0, ACC_FLOATS * sizeof(float), acc, 0, NULL, NULL),
                "clEnqueueReadBuffer (loss sums)");
    return 0;
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
    qsort(t->train.host_order, t->train.n, sizeof(uint32_t), cmp_u32);
    clae_rng rng;
    clae_rng_seed(&rng, (uint64_t)t->cfg->train.seed, 0xE90C0000ull + (uint64_t)t->epoch);
    clae_rng_shuffle(&rng, t->train.host_order, t->train.n);
    return clae_trainer_upload_order(t, &t->train);
}

static void report(clae_trainer *t, clae_progress_fn fn, void *user, const float acc[ACC_FLOATS], long done, long total,
                   long values_since, double t_start)
{
    if (!fn) return;
    double sum = (double)acc[ACC_TRAIN];
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

int clae_trainer_epoch(clae_trainer *t, clae_progress_fn fn, void *user, double *train_loss)
{
    int bs = t->cfg->train.batch_size, log_every = t->cfg->train.log_every;
    size_t cols = clae_shape_sample(t->model.input);
    long steps = ((long)t->train.n + bs - 1) / bs, values_since = 0;
    float acc[ACC_FLOATS] = {0};
    /* sums restart each epoch, so a resumed run accumulates exactly as an uninterrupted one */
    if (shuffle_epoch(t) || clear_acc(t, ACC_TRAIN, ACC_TRAIN_END)) return -1;
    double t_start = clae_now();
    t->acc_train_read = 0.0;
    for (long s = 0; s < steps; s++) {
        uint32_t first = (uint32_t)(s * bs);
        int rows = (int)((t->train.n - first) < (uint32_t)bs ? t->train.n - first : (uint32_t)bs);
        double t0 = clae_now();
        if (train_step(t, first, rows)) return -1;
        values_since += (long)rows * (long)cols;
        if (t->run_steps++ == 0) {
            /* the first step holds one-time setup (CLBlast's compile, first allocations): timed apart */
            if (clae_finish(t->ctx)) return -1;
            t->first_step_s = clae_now() - t0;
        } else {
            t->images_after_first += rows;
        }
        t->step++;
        bool log = (s + 1) % log_every == 0 || s + 1 == steps;
        if (log && read_acc(t, acc)) return -1; /* the sync: launches above were asynchronous */
        if (t->run_steps > 1) t->train_s += clae_now() - t0;
        if (log) {
            report(t, fn, user, acc, s + 1, steps, values_since, t_start);
            values_since = 0;
        }
    }
    *train_loss = (double)acc[ACC_TRAIN] / ((double)t->train.n * (double)cols);
    t->train_kl = (double)acc[ACC_KL_TRAIN] / (double)t->train.n;
    t->train_penalty = (double)acc[ACC_PEN_TRAIN] / (double)steps;
    t->train_ce = (double)acc[ACC_CE_TRAIN] / (double)t->train.n;
    t->train_acc = (double)acc[ACC_OK_TRAIN] / (double)t->train.n;
    t->epoch++;
    return 0;
}

/* PSNR and SSIM of a test batch, read back to the host (evaluation only). */
static int add_quality(clae_trainer *t, const clae_tensor *y, const clae_tensor *target, int rows, double sums[2])
{
    clae_shape s = t->model.input;
    size_t cols = clae_shape_sample(s), n = (size_t)rows * cols;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    int rc = (!a || !b) ? clae_fail(&t->ctx->err, "out of host memory for the image quality metrics")
                        : clae_tensor_read(t->ctx, y, a, n) || clae_tensor_read(t->ctx, target, b, n);
    for (int r = 0; r < rows && rc == 0; r++) {
        sums[0] += clae_psnr(a + r * cols, b + r * cols, s);
        sums[1] += clae_ssim(a + r * cols, b + r * cols, s);
    }
    free(a);
    free(b);
    return rc ? -1 : 0;
}

/* Per batch: reconstruction metrics, the noisy input's, the KL, the head's
 * loss and accuracy, and the code's activity; PSNR and SSIM sums into quality
 * unless it is NULL. */
static int evaluate_batch(clae_trainer *t, const clae_split_data *s, uint32_t first, int rows, bool test,
                          double *quality)
{
    clae_model *m = &t->model;
    size_t cols = clae_shape_sample(m->input), u = clae_shape_sample(code_layer(t)->out);
    const clae_layer *vae = clae_model_vae(m);
    clae_tensor y = clae_rows(&m->y[clae_model_output_index(m)], rows), x = clae_rows(&m->x, rows), target;
    clae_tensor z = clae_rows(&m->y[m->latent_index], rows);
    /* evaluation noise is fixed: the same corrupted images every epoch */
    if (prepare_batch(t, s, first, rows, mix_seed((uint64_t)t->cfg->train.seed ^ 0xE7A1u, first), &target) ||
        clae_model_forward(m, t->ctx, rows, false) ||
        clae_op_metric_rows(t->ctx, &y, &target, (size_t)rows, cols, t->row_a, t->row_b) ||
        clae_op_accumulate(t->ctx, t->acc, ACC_MSE, t->row_a, (size_t)rows) ||
        clae_op_accumulate(t->ctx, t->acc, ACC_BCE, t->row_b, (size_t)rows) ||
        clae_op_code_rows(t->ctx, &z, (size_t)rows, u, (float)CLAE_CODE_ZERO, t->row_a, t->row_b) ||
        clae_op_accumulate(t->ctx, t->acc, ACC_Z_SUM, t->row_a, (size_t)rows) ||
        clae_op_accumulate(t->ctx, t->acc, ACC_Z_ZERO, t->row_b, (size_t)rows))
        return -1;
    if (vae && clae_op_accumulate_tensor(t->ctx, t->acc, ACC_KL_EVAL, &vae->aux, (size_t)rows)) return -1;
    if (t->cfg->train.noise != CLAE_NOISE_NONE &&
        (clae_op_metric_rows(t->ctx, &x, &target, (size_t)rows, cols, t->row_a, t->row_b) ||
         clae_op_accumulate(t->ctx, t->acc, ACC_NOISY, t->row_a, (size_t)rows)))
        return -1;
    if (t->classes && head_loss(t, s, first, rows, false, test ? t->confusion : NULL, ACC_CE_EVAL, ACC_OK_EVAL))
        return -1;
    return quality ? add_quality(t, &y, &target, rows, quality) : 0;
}

int clae_trainer_evaluate(clae_trainer *t, char which, clae_metrics *out)
{
    const clae_split_data *s = which == 'v' ? &t->val : &t->test;
    clae_model *m = &t->model;
    int bs = t->cfg->train.batch_size;
    bool test = which == 't';
    size_t cols = clae_shape_sample(m->input), u = clae_shape_sample(code_layer(t)->out);
    size_t cells = (size_t)t->classes * (size_t)t->classes;
    cl_uint zero = 0;
    float acc[ACC_FLOATS];
    double quality[2] = {0, 0};
    bool measure_quality = test && m->input.h >= 11 && m->input.w >= 11; /* SSIM's window fits */
    if (clear_acc(t, ACC_MSE, ACC_EVAL_END)) return -1;
    if (test && cells)
        CLAE_CL_TRY(t->ctx,
                    clEnqueueFillBuffer(t->ctx->queue, t->confusion, &zero, sizeof zero, 0, cells * sizeof zero, 0,
                                        NULL, NULL),
                    "clEnqueueFillBuffer (confusion matrix)");
    for (uint32_t first = 0; first < s->n; first += (uint32_t)bs) {
        int rows = (int)(s->n - first < (uint32_t)bs ? s->n - first : (uint32_t)bs);
        if (evaluate_batch(t, s, first, rows, test, measure_quality ? quality : NULL)) return -1;
    }
    if (read_acc(t, acc)) return -1;
    if (test && cells)
        CLAE_CL_TRY(t->ctx,
                    clEnqueueReadBuffer(t->ctx->queue, t->confusion, CL_TRUE, 0, cells * sizeof *t->host_confusion,
                                        t->host_confusion, 0, NULL, NULL),
                    "clEnqueueReadBuffer (confusion matrix)");
    double values = (double)s->n * (double)cols, n = (double)s->n;
    bool any = s->n > 0;
    *out = (clae_metrics){.n = s->n, .psnr = NAN, .ssim = NAN, .ce = NAN, .accuracy = NAN, .noisy_mse = NAN,
                          .kl = NAN};
    out->mse = any ? acc[ACC_MSE] / values : NAN;
    out->bce = any ? acc[ACC_BCE] / values : NAN;
    out->loss = t->cfg->train.loss == CLAE_LOSS_BCE ? out->bce : out->mse;
    if (t->cfg->train.noise != CLAE_NOISE_NONE && any) out->noisy_mse = acc[ACC_NOISY] / values;
    if (clae_model_vae(m) && any) out->kl = acc[ACC_KL_EVAL] / n;
    if (t->classes && any) out->ce = acc[ACC_CE_EVAL] / n, out->accuracy = acc[ACC_OK_EVAL] / n;
    out->code_mean = any ? acc[ACC_Z_SUM] / (n * (double)u) : NAN;
    out->code_zero = any ? acc[ACC_Z_ZERO] / (n * (double)u) : NAN;
    if (measure_quality && any) out->psnr = quality[0] / n, out->ssim = quality[1] / n;
    if (test && cells) out->confusion = t->host_confusion, out->classes = t->classes;
    return 0;
}

int clae_trainer_reconstruct(clae_trainer *t, int n, float *inputs, float *outputs, float *clean)
{
    clae_model *m = &t->model;
    if (n > m->max_batch) n = m->max_batch;
    if ((uint32_t)n > t->test.n) n = (int)t->test.n;
    size_t cols = clae_shape_sample(m->input);
    clae_tensor target;
    if (prepare_batch(t, &t->test, 0, n, mix_seed((uint64_t)t->cfg->train.seed ^ 0xE7A1u, 0), &target) ||
        clae_model_forward(m, t->ctx, n, false))
        return -1;
    return clae_tensor_read(t->ctx, &m->x, inputs, (size_t)n * cols) ||
           clae_tensor_read(t->ctx, &m->y[clae_model_output_index(m)], outputs, (size_t)n * cols) ||
           (clean && clae_tensor_read(t->ctx, &target, clean, (size_t)n * cols));
}

int clae_trainer_sample(clae_trainer *t, int n, float *out)
{
    clae_model *m = &t->model;
    clae_layer *vae = clae_model_vae(m);
    if (!vae) return clae_fail(&t->ctx->err, "sampling needs a [latent.NAME] type = vae layer");
    int index = (int)(vae - m->layers);
    if (n > m->max_batch) n = m->max_batch;
    size_t u = (size_t)vae->spec.units;
    float *z = malloc((size_t)n * u * sizeof *z);
    if (!z) return clae_fail(&t->ctx->err, "out of host memory");
    clae_rng rng;
    clae_rng_seed(&rng, (uint64_t)t->cfg->train.seed, 0x5A3B1E);
    for (size_t i = 0; i < (size_t)n * u; i += 2) { /* Box-Muller pairs from the prior N(0, I) */
        double r = sqrt(-2.0 * log(1.0 - clae_rng_uniform(&rng))), a = 2.0 * M_PI * clae_rng_uniform(&rng);
        z[i] = (float)(r * cos(a));
        if (i + 1 < (size_t)n * u) z[i + 1] = (float)(r * sin(a));
    }
    int rc = clae_tensor_write(t->ctx, &m->y[index], z, (size_t)n * u) ||
             clae_model_forward_from(m, t->ctx, index + 1, n, false) ||
             clae_tensor_read(t->ctx, &m->y[clae_model_output_index(m)], out, (size_t)n * clae_shape_sample(m->input));
    free(z);
    return rc ? -1 : 0;
}

uint64_t clae_model_signature(const clae_model *m)
{
    uint64_t h = 0xCBF29CE484222325ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 0x100000001B3ull)
    MIX(m->input.c), MIX(m->input.h), MIX(m->input.w);
    for (int i = 0; i < m->n_layers; i++) {
        const clae_layer_spec *s = &m->layers[i].spec;
        MIX(s->type), MIX(s->units), MIX(s->act), MIX(s->bias), MIX(m->layers[i].n_params);
    }
#undef MIX
    return h;
}

static clae_ckpt_meta current_meta(const clae_trainer *t)
{
    return (clae_ckpt_meta){.model_signature = clae_model_signature(&t->model),
                            .n_params = t->model.params.capacity,
                            .n_layer_state = t->model.state.capacity,
                            .optim_kind = (uint32_t)t->optim.cfg.kind,
                            .n_state = (uint32_t)t->optim.n_state,
                            .optim_step = t->optim.step,
                            .epoch = t->epoch,
                            .since_best = t->since_best,
                            .best_val = t->best_val};
}

/* The three device buffers a checkpoint holds, with their sizes (floats). */
static void ckpt_tensors(clae_trainer *t, const clae_ckpt_meta *m, clae_tensor tens[3], size_t n[3])
{
    tens[0] = (clae_tensor){&t->model.params, 0, {1, 1, 1, 1}};
    tens[1] = (clae_tensor){&t->model.state, 0, {1, 1, 1, 1}};
    tens[2] = (clae_tensor){&t->optim.state, 0, {1, 1, 1, 1}};
    n[0] = m->n_params, n[1] = m->n_layer_state, n[2] = (size_t)m->n_state * m->n_params;
}

int clae_trainer_save(clae_trainer *t, const char *path, clae_err *err)
{
    clae_ckpt_meta meta = current_meta(t);
    clae_tensor tens[3];
    size_t n[3];
    ckpt_tensors(t, &meta, tens, n);
    float *host[3] = {NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        host[i] = malloc(n[i] * sizeof(float) + 1);
        if (!host[i]) rc = clae_fail(err, "out of host memory saving a checkpoint");
        else if (n[i] && clae_tensor_read(t->ctx, &tens[i], host[i], n[i])) rc = -1, *err = t->ctx->err;
    }
    if (rc == 0) {
        clae_ckpt_data d = {host[0], host[1], host[2]};
        rc = clae_ckpt_save(path, &meta, &d, err);
    }
    for (int i = 0; i < 3; i++) free(host[i]);
    return rc;
}

int clae_trainer_load(clae_trainer *t, const char *path, clae_err *err)
{
    clae_ckpt_meta expect = current_meta(t), meta;
    clae_ckpt_data d;
    if (clae_ckpt_load(path, &meta, &expect, &d, err)) return -1;
    int rc = -1;
    clae_tensor tens[3];
    size_t n[3];
    ckpt_tensors(t, &meta, tens, n);
    float *host[3] = {d.params, d.layer, d.optim};
    if (meta.optim_kind != expect.optim_kind || meta.n_state != expect.n_state) {
        clae_fail(err, "%s: saved with optimizer %s but the config says %s: resume with the same optimizer", path,
                  clae_optim_name((clae_optim_kind)meta.optim_kind), clae_optim_name(t->optim.cfg.kind));
    } else {
        rc = 0;
        for (int i = 0; i < 3 && rc == 0; i++)
            if (n[i] && clae_tensor_write(t->ctx, &tens[i], host[i], n[i])) rc = -1, *err = t->ctx->err;
    }
    if (rc == 0) {
        t->optim.step = meta.optim_step;
        t->epoch = meta.epoch;
        t->step = meta.optim_step;
        t->best_val = meta.best_val;
        t->since_best = meta.since_best;
    }
    clae_ckpt_data_free(&d);
    return rc;
}
