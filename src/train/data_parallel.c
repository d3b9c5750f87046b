/* Data-parallel training: shards, gradient buckets read back and summed over
 * the ranks while the backward still runs, and rank 0's state to everyone.
 * See clae_data_parallel in clae/train.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clae/clock.h"
#include "clae/train.h"

void clae_dp_shard(int rows, int rank, int size, int *first, int *count)
{
    int base = rows / size, extra = rows % size;
    *count = base + (rank < extra);
    *first = rank * base + (rank < extra ? rank : extra);
}

/* Floats [first, end) of the gradient buffer that layer i's gradients start at: its weights',
 * else its biases'; -1 for a layer without parameters. */
static long grads_start(const clae_layer *l)
{
    return l->n_w ? (long)l->dw.off : l->n_b ? (long)l->db.off : -1;
}

static int enqueue_read(clae_data_parallel *dp, clae_dp_bucket *b)
{
    cl_int rc = clEnqueueReadBuffer(dp->ctx->queue, dp->model->grads.buf, CL_FALSE,
                                    b->first * sizeof(float), b->count * sizeof(float), b->host, 0,
                                    NULL, &b->read);
    if (rc != CL_SUCCESS) return clae_cl_fail(dp->ctx, rc, "clEnqueueReadBuffer (gradients)");
    rc = clFlush(dp->ctx->queue); /* let the device start it while the host goes on */
    return rc == CL_SUCCESS ? 0 : clae_cl_fail(dp->ctx, rc, "clFlush");
}

/* The model's hook: the next bucket is complete once its lowest layer's backward is enqueued. */
static int on_grads_ready(void *user, clae_ctx *ctx, int layer)
{
    (void)ctx;
    clae_data_parallel *dp = user;
    if (dp->next >= dp->n_buckets || dp->buckets[dp->next].low_layer != layer) return 0;
    return enqueue_read(dp, &dp->buckets[dp->next++]);
}

/* Buckets of consecutive layers, last layer first, each of at least bucket_floats (but the
 * lowest). */
static int plan_buckets(clae_data_parallel *dp, size_t bucket_floats, clae_err *err)
{
    clae_model *m = dp->model;
    dp->buckets = calloc((size_t)m->n_layers + 1, sizeof *dp->buckets);
    if (!dp->buckets) return clae_fail(err, "out of host memory for the gradient buckets");
    size_t end = m->grads.capacity;
    for (int i = m->n_layers - 1; i >= 0; i--) {
        long start = grads_start(&m->layers[i]);
        if (start < 0) continue;
        clae_dp_bucket *b = &dp->buckets[dp->n_buckets];
        b->low_layer = i;
        b->first = (size_t)start;
        b->count = end - (size_t)start;
        bool lowest = true;
        for (int k = i - 1; k >= 0 && lowest; k--) lowest = grads_start(&m->layers[k]) < 0;
        if (b->count >= bucket_floats || lowest) {
            dp->n_buckets++;
            end = (size_t)start;
        }
    }
    for (int k = 0; k < dp->n_buckets; k++) {
        clae_dp_bucket *b = &dp->buckets[k];
        b->host = malloc((b->count + 1) * sizeof(float));
        if (!b->host) return clae_fail(err, "out of host memory for the gradient buckets");
    }
    return 0;
}

/* train.sync_bn: Chan's combination of every rank's (count, mean, M2), in rank order so that
 * every rank computes the same numbers. */
static int sync_moments(void *user, double *count, float *mean, float *m2, int c)
{
    clae_data_parallel *dp = user;
    int size = dp->job->size;
    size_t per = 1 + 2 * (size_t)c;
    float *mine = malloc(per * sizeof *mine), *all = malloc(per * (size_t)size * sizeof *all);
    double *acc = calloc(2 * (size_t)c, sizeof *acc);
    clae_err err;
    int rc = !mine || !all || !acc ? clae_fail(&err, "out of host memory") : 0;
    if (rc == 0) {
        mine[0] = (float)*count; /* exact below 2^24 values a channel a rank */
        memcpy(mine + 1, mean, (size_t)c * sizeof *mean);
        memcpy(mine + 1 + c, m2, (size_t)c * sizeof *m2);
        rc = clae_job_allgather(dp->job, mine, all, per, &err);
    }
    double n = 0;
    for (int r = 0; rc == 0 && r < size; r++) {
        const float *p = all + (size_t)r * per;
        double nb = p[0];
        if (nb <= 0) continue;
        for (int i = 0; i < c; i++) {
            double delta = p[1 + i] - acc[i];
            acc[i] += delta * nb / (n + nb);
            acc[c + i] += p[1 + c + i] + delta * delta * n * nb / (n + nb);
        }
        n += nb;
    }
    for (int i = 0; rc == 0 && i < c; i++) mean[i] = (float)acc[i], m2[i] = (float)acc[c + i];
    *count = n;
    free(mine);
    free(all);
    free(acc);
    if (rc) dp->ctx->err = err;
    return rc;
}

/* train.sync_bn: sums of each shard's gradient, weighted by its share of the batch as the
 * gradients are, summed, then back in this shard's scale. */
static int sync_sums(void *user, float *s, size_t n)
{
    clae_data_parallel *dp = user;
    for (size_t i = 0; i < n; i++) s[i] *= dp->share;
    clae_err err;
    if (clae_job_allreduce_sum(dp->job, s, n, &err)) return dp->ctx->err = err, -1;
    if (dp->share > 0)
        for (size_t i = 0; i < n; i++) s[i] /= dp->share;
    return 0;
}

int clae_dp_open(clae_data_parallel *dp, const clae_job *job, clae_ctx *ctx, clae_model *m,
                 size_t bucket_floats, bool sync_bn, clae_err *err)
{
    memset(dp, 0, sizeof *dp);
    dp->job = job;
    dp->ctx = ctx;
    dp->model = m;
    if (plan_buckets(dp, bucket_floats, err)) return -1;
    m->grads_ready = on_grads_ready;
    m->grads_user = dp;
    dp->sync = (clae_batch_sync){sync_moments, sync_sums, dp};
    for (int i = 0; sync_bn && i < m->n_layers; i++)
        if (m->layers[i].spec.type == CLAE_LAYER_BATCH_NORM) m->layers[i].batch_sync = &dp->sync;
    return 0;
}

int clae_dp_idle_syncs(clae_data_parallel *dp)
{
    clae_model *m = dp->model;
    int c_max = 0;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].batch_sync && m->layers[i].in.c > c_max) c_max = m->layers[i].in.c;
    if (!c_max) return 0;
    float *zero = calloc(2 * (size_t)c_max, sizeof *zero);
    if (!zero) return clae_fail(&dp->ctx->err, "out of host memory");
    int rc = 0;
    for (int i = 0; rc == 0 && i < m->n_layers; i++) { /* as the forward: first layer first */
        double none = 0;
        int c = m->layers[i].in.c;
        if (m->layers[i].batch_sync) rc = sync_moments(dp, &none, zero, zero + c, c);
    }
    for (int i = m->n_layers - 1; rc == 0 && i >= 0; i--) { /* as the backward */
        memset(zero, 0, 2 * (size_t)c_max * sizeof *zero);
        if (m->layers[i].batch_sync) rc = sync_sums(dp, zero, 2 * (size_t)m->layers[i].in.c);
    }
    free(zero);
    return rc;
}

void clae_dp_close(clae_data_parallel *dp)
{
    /* A step that failed may leave reads into the host buffers, or writes back from them, in
     * the queue (finish it first) and allreduces on them (a collective cannot be cancelled:
     * the buffers stay allocated; the job is being stopped anyway). */
    if (dp->ctx) clFinish(dp->ctx->queue); /* reads into and writes from the host buffers */
    bool reducing = false;
    for (int k = 0; k < dp->n_buckets; k++) {
        if (dp->buckets[k].read) clReleaseEvent(dp->buckets[k].read);
        reducing |= dp->buckets[k].req.active;
    }
    for (int k = 0; k < dp->n_buckets && !reducing; k++) free(dp->buckets[k].host);
    free(dp->buckets);
    if (dp->model && dp->model->grads_user == dp) dp->model->grads_ready = NULL;
    memset(dp, 0, sizeof *dp);
}

void clae_dp_begin(clae_data_parallel *dp, float share)
{
    dp->next = 0;
    dp->share = share;
}

/* Waits for bucket b's read while the allreduces already started progress (MPI moves a
 * non-blocking one only inside its calls). Without any started, the driver's wait; with,
 * polls a few times, then naps: on a CPU device a spinning host takes the core the
 * device's threads, or another rank's, would use. */
static int await_read(clae_data_parallel *dp, int b, clae_err *err)
{
    cl_event *read = &dp->buckets[b].read;
    bool pending = false;
    for (int k = 0; k < b; k++) pending |= dp->buckets[k].req.active;
    if (!pending) {
        cl_int rc = clWaitForEvents(1, read);
        if (rc != CL_SUCCESS) return clae_cl_fail(dp->ctx, rc, "reading the gradients back");
    }
    for (long polls = 0;; polls++) {
        cl_int status;
        cl_int rc = clGetEventInfo(dp->buckets[b].read, CL_EVENT_COMMAND_EXECUTION_STATUS,
                                   sizeof status, &status, NULL);
        if (rc != CL_SUCCESS || status < 0)
            return clae_cl_fail(dp->ctx, rc != CL_SUCCESS ? rc : status,
                                "reading the gradients back");
        if (status == CL_COMPLETE) break;
        for (int k = 0; k < b; k++) {
            bool done;
            if (clae_job_test(dp->job, &dp->buckets[k].req, &done, err)) return -1;
        }
        if (polls > 20) nanosleep(&(struct timespec){0, 20000}, NULL);
    }
    clReleaseEvent(dp->buckets[b].read);
    dp->buckets[b].read = NULL;
    return 0;
}

int clae_dp_reduce(clae_data_parallel *dp, bool stop_vote, clae_err *err)
{
    double t0 = clae_now(), waited = 0;
    for (; dp->next < dp->n_buckets; dp->next++) /* a rank without rows ran no backward */
        if (enqueue_read(dp, &dp->buckets[dp->next])) return *err = dp->ctx->err, -1;
    for (int k = 0; k < dp->n_buckets; k++) {
        clae_dp_bucket *b = &dp->buckets[k];
        double w0 = clae_now();
        if (await_read(dp, k, err)) return -1;
        waited += clae_now() - w0;
        if (dp->share != 1.0f)
            for (size_t i = 0; i < b->count; i++) b->host[i] *= dp->share;
        bool last = k == dp->n_buckets - 1;
        if (last) b->host[b->count] = stop_vote ? 1.0f : 0.0f;
        if (clae_job_iallreduce_sum(dp->job, b->host, b->count + last, &b->req, err)) return -1;
    }
    double c0 = clae_now();
    dp->model->grads_zero = false; /* the sums go back into the buffer */
    for (int k = 0; k < dp->n_buckets; k++) {
        clae_dp_bucket *b = &dp->buckets[k];
        if (clae_job_wait(dp->job, &b->req, err)) return -1;
        cl_int rc = clEnqueueWriteBuffer(dp->ctx->queue, dp->model->grads.buf, CL_FALSE,
                                         b->first * sizeof(float), b->count * sizeof(float),
                                         b->host, 0, NULL, NULL);
        if (rc != CL_SUCCESS)
            return clae_cl_fail(dp->ctx, rc, "clEnqueueWriteBuffer (gradients)"),
                   *err = dp->ctx->err, -1;
    }
    const clae_dp_bucket *last = dp->n_buckets ? &dp->buckets[dp->n_buckets - 1] : NULL;
    dp->stop = last && last->host[last->count] > 0.5f;
    dp->reduce_s += clae_now() - t0;
    dp->device_wait_s += waited;
    dp->exposed_s += clae_now() - c0;
    dp->steps++;
    return 0;
}

/* n floats of arena a from rank 0 to every rank. */
static int share_arena(clae_trainer *t, clae_arena *a, clae_err *err)
{
    if (!a->capacity) return 0;
    float *host = malloc(a->capacity * sizeof *host);
    if (!host) return clae_fail(err, "out of host memory sharing the %s", a->what);
    clae_tensor all = {a, 0, {1, 1, 1, 1}};
    int rc = t->job->rank == 0 && clae_tensor_read(t->ctx, &all, host, a->capacity);
    if (rc) *err = t->ctx->err;
    if (!rc) rc = clae_job_bcast(t->job, host, a->capacity * sizeof *host, 0, err);
    if (!rc && t->job->rank != 0 && clae_tensor_write(t->ctx, &all, host, a->capacity))
        rc = -1, *err = t->ctx->err;
    free(host);
    return rc;
}

int clae_trainer_share(clae_trainer *t, clae_err *err)
{
    if (!t->job || t->job->size <= 1) return 0;
    struct {
        int32_t epoch, since_best;
        int64_t step, epoch_step, optim_step;
        double best_val;
    } pos = {t->epoch, t->since_best, t->step, t->epoch_step, t->optim.step, t->best_val};
    if (share_arena(t, &t->model.params, err) || share_arena(t, &t->model.state, err) ||
        (t->optim.n_state && share_arena(t, &t->optim.state, err)) ||
        clae_job_bcast(t->job, &pos, sizeof pos, 0, err))
        return -1;
    t->epoch = pos.epoch;
    t->since_best = pos.since_best;
    t->step = pos.step;
    t->epoch_step = pos.epoch_step;
    t->optim.step = pos.optim_step;
    t->best_val = pos.best_val;
    return 0;
}
