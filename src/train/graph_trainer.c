/* Training a graph autoencoder (clae/graph_train.h). The loss follows Kipf &
 * Welling's reference (gae/optimizer.py): over all N^2 pairs, targets A + I
 * of the training graph,
 *   norm * mean(pos_weight t softplus(-x) + (1 - t) softplus(x)),
 *   pos_weight = (N^2 - 2E) / 2E, norm = N^2 / (2 (N^2 - 2E)),  x = Z Z^T,
 * whose gradient w.r.t. Z is (G + G^T) Z; a vae adds KL / N^2 (the
 * reference's 0.5 / N * mean over nodes of the per-node sums). With
 * train.negatives = K the loss is the mean over the training edges plus the
 * mean over K sampled non-edges each, without any N x N matrix. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clae/clock.h"
#include "clae/data.h"
#include "clae/graph_train.h"
#include "clae/model_file.h"
#include "clae/roc.h"

/* data.path and the other files: ~/ is the home folder; a relative path
 * that does not exist here is looked up in the data folder (where
 * scripts/prepare_data.sh puts graphs). */
static void graph_path(const char *in, char *out, size_t n)
{
    clae_expand_home(in, out, n);
    if (!out[0] || out[0] == '/' || access(out, F_OK) == 0) return;
    char dir[900];
    clae_default_data_dir(dir, sizeof dir);
    snprintf(out, n, "%s/%s", dir, in);
    if (access(out, F_OK) != 0) snprintf(out, n, "%s", in); /* errors name the given path */
}

static int load_graph(clae_graph_trainer *t, clae_err *err)
{
    const clae_data_cfg *d = &t->cfg->data;
    char edges[1024], features[1024], labels[1024];
    graph_path(d->path, edges, sizeof edges);
    graph_path(d->features, features, sizeof features);
    graph_path(d->labels, labels, sizeof labels);
    if (!edges[0]) return clae_fail(err, "%s: data.path: the edge list is needed", t->cfg->path);
    if (clae_graph_load(&t->graph, edges, features, labels, err)) return -1;
    if (clae_graph_split_edges(&t->graph, d->split[1], d->split[2], (uint64_t)t->cfg->train.seed,
                               &t->split, err))
        return clae_wrap(err, "%s", edges);
    const clae_edge_split *s = &t->split;
    if (clae_csr_gcn(t->graph.n_nodes, s->train_u, s->train_v, s->n_train, &t->a_hat, err))
        return -1;
    double nn = (double)t->graph.n_nodes * t->graph.n_nodes, e2 = 2.0 * s->n_train;
    t->pos_weight = (nn - e2) / e2;
    t->norm = nn / (2.0 * (nn - e2));
    return t->cfg->train.negatives > 0
               ? clae_edge_set_create(&t->edges, s->train_u, s->train_v, s->n_train, err)
               : 0;
}

/* The encoder's specs: the config's layers but the inner_product decoder; a
 * featureless graph's first gcn takes one-hot nodes. */
static int encoder_specs(clae_graph_trainer *t, clae_shape *input, clae_err *err)
{
    const clae_config *c = t->cfg;
    t->specs = calloc((size_t)c->n_layers, sizeof *t->specs);
    if (!t->specs) return clae_fail(err, "out of host memory");
    for (int i = 0; i < c->n_layers; i++)
        if (c->layers[i].type != CLAE_LAYER_INNER_PRODUCT) t->specs[t->n_specs++] = c->layers[i];
    if (t->n_specs == 0)
        return clae_fail(err, "%s: a graph autoencoder needs encoder layers (gcn)", c->path);
    *input = (clae_shape){1, t->graph.features ? (int)t->graph.n_features : 1, 1, 1};
    if (t->graph.features) return 0;
    clae_layer_spec *first = &t->specs[0];
    if (first->type != CLAE_LAYER_GCN)
        return clae_fail(err,
                         "%s:%d: [%s] a featureless graph (no data.features) starts with a gcn "
                         "layer, whose input is one-hot nodes",
                         first->file, first->line, first->section);
    first->nodes = (int)t->graph.n_nodes;
    return 0;
}

/* The device's graph tensors: packed A_hat, and the logits or the pair set. */
static int graph_buffers(clae_graph_trainer *t, clae_err *err)
{
    uint32_t n = t->graph.n_nodes;
    int k = t->cfg->train.negatives;
    clae_arena_init(&t->graph_mem, "graph");
    size_t a_floats = clae_csr_packed_floats(&t->a_hat);
    if (a_floats > INT32_MAX) return clae_fail(err, "%u training edges: too many", t->a_hat.nnz);
    t->a_hat_t = clae_arena_reserve(&t->graph_mem, (clae_shape){1, (int)a_floats, 1, 1});
    t->a_hat_t.shape = (clae_shape){(int)n, (int)t->a_hat.nnz, 1, 1}; /* nodes, entries */
    if (k == 0) {
        if ((double)n * n > INT32_MAX)
            return clae_fail(err,
                             "%u nodes: the N^2 logits exceed 2^31 values; set train.negatives "
                             "(e.g. 1) to sample non-edges instead",
                             n);
        t->logits = clae_arena_reserve(&t->graph_mem, (clae_shape){(int)n, (int)n, 1, 1});
        t->saved = clae_arena_reserve(&t->graph_mem, (clae_shape){1, (int)t->a_hat.nnz, 1, 1});
    } else {
        double entries = 2.0 * t->split.n_train * (1.0 + k), floats = entries * 2 + n + 1;
        if (floats > INT32_MAX)
            return clae_fail(err, "train.negatives = %d: %.0f pair entries are too many", k,
                             entries);
        t->pairs_nnz = (uint32_t)entries;
        t->pairs_t = clae_arena_reserve(&t->graph_mem, (clae_shape){1, (int)floats, 1, 1});
        t->pairs_t.shape = (clae_shape){(int)n, (int)t->pairs_nnz, 1, 1};
    }
    if (clae_arena_alloc(t->ctx, &t->graph_mem)) return -1;
    float *packed = malloc(a_floats * sizeof *packed);
    if (!packed) return clae_fail(err, "out of host memory");
    clae_csr_pack(&t->a_hat, packed);
    int rc = clae_tensor_write(t->ctx, &t->a_hat_t, packed, a_floats);
    free(packed);
    if (rc) return *err = t->ctx->err, -1;
    cl_int st;
    t->row_loss = clCreateBuffer(t->ctx->context, CL_MEM_READ_WRITE, (size_t)n * sizeof(float),
                                 NULL, &st);
    return t->row_loss ? 0 : clae_fail(err, "cannot allocate %u floats on the device", n);
}

/* The node features into the model's input (zeros: the placeholder column of one-hot nodes). */
static int upload_features(clae_graph_trainer *t)
{
    clae_tensor *x = clae_model_input(&t->model);
    if (!t->graph.features) return clae_op_fill(t->ctx, x, t->graph.n_nodes, 0.0f);
    return clae_tensor_write(t->ctx, x, t->graph.features,
                             (size_t)t->graph.n_nodes * t->graph.n_features);
}

int clae_graph_trainer_open(clae_graph_trainer *t, clae_ctx *ctx, const clae_config *cfg,
                            clae_err *err)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->ctx = ctx;
    t->best_val = INFINITY;
    clae_metrics_clear(&t->train_metrics);
    clae_shape input;
    clae_optim_cfg oc = clae_config_optim(cfg);
    int rc = load_graph(t, err);
    if (rc == 0) rc = encoder_specs(t, &input, err);
    if (rc == 0)
        rc = clae_model_build_stack(&t->model, ctx, input, t->specs, t->n_specs,
                                    (int)t->graph.n_nodes, false, err);
    if (rc == 0) rc = graph_buffers(t, err);
    if (rc == 0) rc = clae_model_bind_side(&t->model, 0, &t->a_hat_t, err);
    if (rc == 0 &&
        (upload_features(t) || clae_model_init_params(&t->model, ctx, (uint64_t)cfg->train.seed) ||
         clae_optim_create(&t->optim, ctx, &oc, t->model.params.capacity)))
        rc = (*err = ctx->err, -1);
    if (rc) clae_graph_trainer_close(t);
    return rc;
}

void clae_graph_trainer_close(clae_graph_trainer *t)
{
    clae_optim_release(&t->optim);
    clae_model_release(&t->model);
    if (t->row_loss) clReleaseMemObject(t->row_loss);
    clae_arena_release(&t->graph_mem);
    clae_edge_set_free(t->edges);
    clae_csr_free(&t->a_hat);
    clae_edge_split_free(&t->split);
    clae_graph_free(&t->graph);
    free(t->specs);
    t->specs = NULL;
    t->row_loss = NULL;
    t->edges = NULL;
}

/* Redraws the epoch's non-edges and uploads the pair set. */
static int upload_pairs(clae_graph_trainer *t)
{
    clae_csr p;
    const clae_edge_split *s = &t->split;
    uint64_t seed = (uint64_t)t->cfg->train.seed * 0x9E3779B97F4A7C15ull + (uint64_t)t->epoch;
    if (clae_sample_pairs(t->graph.n_nodes, s->train_u, s->train_v, s->n_train, t->edges,
                          t->cfg->train.negatives, seed, &p, &t->ctx->err))
        return -1;
    size_t n = clae_csr_packed_floats(&p);
    float *packed = malloc(n * sizeof *packed);
    int rc = packed ? 0 : clae_fail(&t->ctx->err, "out of host memory");
    if (rc == 0) clae_csr_pack(&p, packed), rc = clae_tensor_write(t->ctx, &t->pairs_t, packed, n);
    free(packed);
    clae_csr_free(&p);
    return rc;
}

/* The decoder's loss on the code z: its gradient into dz, its row sums into row_loss. */
static int decoder_loss(clae_graph_trainer *t, const clae_tensor *z, clae_tensor *dz)
{
    uint32_t n = t->graph.n_nodes;
    size_t u = clae_graph_code_size(t);
    clae_ctx *ctx = t->ctx;
    if (t->cfg->train.negatives > 0) {
        double m = t->split.n_train;
        return upload_pairs(t) ||
               clae_op_graph_pair_loss(ctx, dz, t->row_loss, &t->pairs_t, n, t->pairs_nnz, z, u,
                                       (float)(1.0 / m),
                                       (float)(1.0 / (m * t->cfg->train.negatives)));
    }
    double scale = t->norm / ((double)n * n);
    return clae_gemm(ctx, false, true, n, n, u, 1.0f, z, u, z, u, 0.0f, &t->logits, n) ||
           clae_op_graph_dense_loss(ctx, &t->logits, t->row_loss, &t->a_hat_t, n,
                                    (float)t->pos_weight, (float)scale, &t->saved) ||
           clae_gemm(ctx, false, false, n, u, n, 1.0f, &t->logits, n, z, u, 0.0f, dz, u) ||
           clae_gemm(ctx, true, false, n, u, n, 1.0f, &t->logits, n, z, u, 1.0f, dz, u);
}

/* The sum of n device floats (in double). */
static int read_sum(clae_ctx *ctx, cl_mem buf, size_t off, size_t n, double *sum)
{
    float *h = malloc(n * sizeof *h + 1);
    if (!h) return clae_fail(&ctx->err, "out of host memory");
    cl_int st = clEnqueueReadBuffer(ctx->queue, buf, CL_TRUE, off * sizeof(float),
                                    n * sizeof(float), h, 0, NULL, NULL);
    *sum = 0;
    for (size_t i = 0; i < n; i++) *sum += h[i];
    free(h);
    return st == CL_SUCCESS ? 0 : clae_fail(&ctx->err, "reading the loss: OpenCL error %d", st);
}

/* The step's metrics: loss (reconstruction + KL) and KL per node. */
static int step_metrics(clae_graph_trainer *t, clae_layer *vae)
{
    uint32_t n = t->graph.n_nodes;
    double recon, kl = 0;
    if (read_sum(t->ctx, t->row_loss, 0, n, &recon) ||
        (vae && read_sum(t->ctx, vae->aux.arena->buf, vae->aux.off, n, &kl)))
        return -1;
    clae_metrics_clear(&t->train_metrics);
    t->train_metrics.n = n;
    t->train_metrics.v[CLAE_METRIC_LOSS] = recon + (vae ? vae->kl_weight * kl : 0.0);
    t->train_metrics.v[CLAE_METRIC_BCE] = recon;
    if (vae) t->train_metrics.v[CLAE_METRIC_KL] = kl / n;
    if (isfinite(t->train_metrics.v[CLAE_METRIC_LOSS])) return 0;
    return clae_fail(&t->ctx->err,
                     "epoch %d: the training loss is not finite (%g): lower train.lr or set "
                     "train.clip_norm",
                     t->epoch + 1, t->train_metrics.v[CLAE_METRIC_LOSS]);
}

/* The KL weight of a vae this epoch: beta (ramped over its warm-up) / N^2. */
static void set_kl_weight(clae_graph_trainer *t, clae_layer *vae)
{
    double n = t->graph.n_nodes, warm = 1.0;
    if (vae->spec.warmup_epochs > 0) warm = fmin(1.0, t->epoch / vae->spec.warmup_epochs);
    vae->kl_weight = (float)(vae->spec.beta * warm / (n * n));
}

int clae_graph_trainer_gradient(clae_graph_trainer *t)
{
    clae_model *m = &t->model;
    clae_layer *vae = clae_model_vae(m);
    int rows = (int)t->graph.n_nodes, last = m->n_layers - 1;
    if (vae) set_kl_weight(t, vae);
    m->step = (uint64_t)t->step;
    clae_tensor z = clae_rows(&m->y[last], rows), dz = clae_rows(&m->dy[last], rows);
    return clae_model_forward(m, t->ctx, rows, true) || decoder_loss(t, &z, &dz) ||
           clae_model_backward(m, t->ctx, rows) || step_metrics(t, vae);
}

int clae_graph_trainer_epoch(clae_graph_trainer *t)
{
    double t0 = clae_now();
    clae_model *m = &t->model;
    clae_schedule sched = clae_config_schedule(t->cfg);
    t->lr = clae_schedule_lr(&sched, t->epoch, t->step);
    if (clae_graph_trainer_gradient(t) ||
        clae_optim_step(&t->optim, t->ctx, m->params.buf, m->grads.buf, t->lr))
        return -1;
    t->epoch++;
    t->step++;
    double dt = clae_now() - t0;
    if (t->step == 1)
        t->first_step_s = dt;
    else
        t->train_s += dt;
    return 0;
}

int clae_graph_trainer_codes(clae_graph_trainer *t, float *codes)
{
    int rows = (int)t->graph.n_nodes;
    clae_tensor z = clae_rows(&t->model.y[t->model.n_layers - 1], rows);
    return clae_model_forward(&t->model, t->ctx, rows, false) ||
           clae_tensor_read(t->ctx, &z, codes, (size_t)rows * clae_graph_code_size(t));
}

const clae_pairs *clae_graph_trainer_pairs(const clae_graph_trainer *t, clae_split_kind k)
{
    return k == CLAE_SPLIT_VAL ? &t->split.val : k == CLAE_SPLIT_TEST ? &t->split.test : NULL;
}

static double softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }

int clae_graph_trainer_evaluate(clae_graph_trainer *t, clae_split_kind k, clae_metrics *out)
{
    const clae_pairs *p = clae_graph_trainer_pairs(t, k);
    size_t u = clae_graph_code_size(t);
    clae_metrics_clear(out);
    if (!p) return clae_fail(&t->ctx->err, "the training split has no evaluation pairs");
    float *z = malloc((size_t)t->graph.n_nodes * u * sizeof *z);
    double *score = malloc(p->n * sizeof *score);
    int rc = z && score ? clae_graph_trainer_codes(t, z) : clae_fail(&t->ctx->err, "out of memory");
    double loss = 0;
    for (size_t i = 0; rc == 0 && i < p->n; i++) {
        double x = 0;
        for (size_t j = 0; j < u; j++) x += (double)z[p->u[i] * u + j] * z[p->v[i] * u + j];
        score[i] = 1.0 / (1.0 + exp(-x));
        loss += p->positive[i] ? softplus(-x) : softplus(x);
    }
    clae_roc roc = {0};
    if (rc == 0) rc = clae_roc_compute(score, p->positive, p->n, &roc, &t->ctx->err);
    if (rc == 0) {
        out->n = (uint32_t)p->n;
        out->v[CLAE_METRIC_LOSS] = loss / (double)p->n;
        out->v[CLAE_METRIC_AUC] = roc.auc;
        out->v[CLAE_METRIC_AP] = roc.ap;
    }
    clae_roc_free(&roc);
    free(z);
    free(score);
    return rc;
}

int clae_graph_trainer_save(clae_graph_trainer *t, const char *path, clae_err *err)
{
    clae_ckpt_meta pos = {.epoch = t->epoch, .since_best = t->since_best, .best_val = t->best_val};
    return clae_model_save_training(path, &t->model, t->ctx, t->cfg, pos, &t->optim, err);
}

int clae_graph_trainer_load(clae_graph_trainer *t, const char *path, clae_err *err)
{
    clae_ckpt_meta meta;
    if (clae_model_load_training(path, &t->model, t->ctx, &t->optim, &meta, err)) return -1;
    t->epoch = meta.epoch;
    t->step = meta.optim_step;
    t->best_val = meta.best_val;
    t->since_best = meta.since_best;
    return 0;
}
