/* Data, evaluation and training of one config on one device. The datasets
 * live on the device as bytes; a step gathers its batch there from a
 * permutation that is uploaded once per epoch, so the only reads in training
 * are the loss sums, once per log interval. Shuffles are seeded by (seed,
 * epoch): a resumed run sees exactly the batches an uninterrupted one would.
 * The trainer is data + loop + optimizer + objective (clae/objective.h);
 * evaluation needs no optimizer, and a model loads alone (clae/model_file.h). */
#ifndef CLAE_TRAIN_H
#define CLAE_TRAIN_H

#include <signal.h>
#include "clae/config.h"
#include "clae/data.h"
#include "clae/job.h"
#include "clae/io.h"
#include "clae/nn.h"
#include "clae/objective.h"
#include "clae/optim.h"
#include "clae/quality.h"

typedef struct {
    int source;   /* index into the data's sources */
    cl_mem order; /* u32 entries in visiting order: a sample index, or (copy << 24 | sample) when
                     augmented */
    uint32_t *host_order;
    uint32_t n; /* entries (samples times copies) */
    bool augment;
} clae_split_data;

/* Where samples come from: one dataset on the host and its bytes on the device. */
typedef struct {
    clae_dataset set;
    cl_mem pixels; /* u8, set.count * sample */
    cl_mem means;  /* float per sample: mean gray, for contrast jitter (augmented sources only) */
    cl_mem labels; /* u8 per sample, or NULL when the data has none */
} clae_source;

/* A config's data on the device (data.c): sources, splits, copies. */
typedef struct {
    const clae_config *cfg;
    clae_ctx *ctx;
    clae_source sources[2]; /* idx: train file, test file; other formats: one source */
    int n_sources;
    clae_split_data train, val, test;
} clae_data;

/* A graph config (data.format = graph) is refused by the image paths with one line. */
int clae_check_image_config(const clae_config *cfg, clae_err *err);
int clae_data_open(clae_data *d, clae_ctx *ctx, const clae_config *cfg, clae_err *err);
void clae_data_close(clae_data *d);
clae_split_data *clae_data_split(clae_data *d, clae_split_kind k);
/* The sample shape of the data (every source has it). */
static inline clae_shape clae_data_sample(const clae_data *d) { return d->sources[0].set.sample; }
/* Entries [first, first + rows) of split k into x (as floats in [0, 1],
 * augmented where the split is); epoch: training redraws per epoch. */
int clae_data_gather(clae_data *d, clae_split_kind k, uint32_t first, int rows, int epoch,
                     clae_tensor *x);
/* The batch description of those entries (order, labels), noise seed and epoch progress unset. */
clae_batch clae_data_batch(clae_data *d, clae_split_kind k, uint32_t first, int rows);
int clae_data_upload_order(clae_data *d, clae_split_data *s);
/* "split,index,name" per entry of every split (copy 0 only), for the run directory */
int clae_data_write_split(const clae_data *d, FILE *f);
/* A classifier head needs labels below its output count in every source. */
int clae_data_check_labels(const clae_data *d, const clae_model *m, clae_err *err);
/* Samples of split k once each (an augmented split's copy-0 entries, which
 * come first), and their plain images (no augmentation): entries
 * [first, first + rows) of those into x. */
uint32_t clae_data_samples(const clae_data *d, clae_split_kind k);
int clae_data_gather_plain(clae_data *d, clae_split_kind k, uint32_t first, int rows,
                           clae_tensor *x);
/* Sample index and source of entry i of split k. */
uint32_t clae_data_sample_index(const clae_data *d, clae_split_kind k, uint32_t i);
/* The noise seed of a batch: training mixes (seed, step), evaluation (seed ^ 0xE7A1, first). */
uint32_t clae_mix_seed(uint64_t a, uint64_t b);

/* Evaluation (evaluate.c): the model in evaluation mode over split k, every
 * term's metrics into out. */
int clae_evaluate(clae_model *m, clae_objective *o, clae_data *d, clae_split_kind k,
                  clae_metrics *out);
/* The first n test inputs (as fed: noisy when denoising), their
 * reconstructions and the clean inputs (clean may be NULL), host arrays of
 * n * sample floats; n is capped at the batch and the test split. */
int clae_reconstruct(clae_model *m, clae_objective *o, clae_data *d, int n, float *inputs,
                     float *outputs, float *clean);
/* vae: n codes drawn from the prior N(0, T^2 I) by seed into z (n * units
 * floats) and decoded into out (n * sample floats), max_batch at a time. */
int clae_sample_prior(clae_model *m, clae_ctx *ctx, uint64_t seed, double temperature, int n,
                      float *z, float *out);

/* One training step on the batch in model.x: the objective's forward, terms
 * and backward, then the optimizer at lr. clae train and clae bench run it. */
int clae_train_step(clae_model *m, clae_objective *o, clae_optim *opt, const clae_batch *b,
                    uint64_t step, double lr);

/* A config's training step on a synthetic batch (workload.c): what clae bench
 * times. The input is random in [0, 1), the labels cycle through the
 * classes, the model is initialised from seed 1. */
typedef struct {
    clae_ctx *ctx;
    const clae_config *cfg;
    clae_model m;
    clae_objective obj;
    clae_optim opt;
    cl_mem order, labels; /* the synthetic batch's entries 0..batch - 1 and its labels */
    clae_batch batch;
    long step;
} clae_workload;

/* The input shape: data.image, or 1x28x28 for idx files (only the files know theirs). */
int clae_workload_open(clae_workload *wl, clae_ctx *ctx, const clae_config *cfg, clae_err *err);
int clae_workload_step(clae_workload *wl);
/* The training metrics of the steps since the objective's training sums were last cleared. */
int clae_workload_metrics(clae_workload *wl, long steps, clae_metrics *m);
void clae_workload_close(clae_workload *wl);

/* Data-parallel training (data_parallel.c): each rank of a job takes its
 * shard of every global batch (train.batch_size rows, split as evenly as
 * possible, lower ranks one more), computes its gradients, and the ranks sum
 * them, each weighted by its share of the batch, so that every rank applies
 * the gradient of the whole batch: N ranks train as one device on the global
 * batch, up to float reassociation. The gradient buffer goes in buckets of
 * consecutive layers (train.bucket_kb), last layer first; a bucket is read
 * back and its allreduce started as soon as the backward has enqueued its
 * lowest layer, while the device works on the layers below. */
typedef struct {
    size_t first, count; /* floats of the gradient buffer */
    int low_layer;       /* complete once this layer's backward is enqueued */
    float *host;         /* count + 1 floats: the final bucket's last one is the stop vote */
    cl_event read;       /* the read into host, NULL before it is enqueued */
    clae_job_req req;
} clae_dp_bucket;

typedef struct {
    const clae_job *job;
    clae_ctx *ctx;
    clae_model *model;
    clae_dp_bucket *buckets;
    int n_buckets, next;  /* next: the next bucket to read back */
    float share;          /* this rank's rows over the global batch's, this step */
    bool stop;            /* some rank voted to stop after this step */
    clae_batch_sync sync; /* train.sync_bn's collectives */
    double reduce_s;      /* host time in the reduction after the backward was enqueued: */
    double device_wait_s; /* waiting for the device to finish the buckets' layers, */
    double exposed_s;     /* waiting for the allreduces after the last bucket was read */
    long steps;
} clae_data_parallel;

/* Rows [*first, *first + *count) of a global batch of rows entries that rank takes of size. */
void clae_dp_shard(int rows, int rank, int size, int *first, int *count);
/* Buckets of about bucket_floats, hooked into m's backward; sync_bn: batch norm layers
 * normalise over the global batch (clae_batch_sync). */
int clae_dp_open(clae_data_parallel *dp, const clae_job *job, clae_ctx *ctx, clae_model *m,
                 size_t bucket_floats, bool sync_bn, clae_err *err);
/* A rank without rows this step still takes its part in the batch norm collectives. */
int clae_dp_idle_syncs(clae_data_parallel *dp);
void clae_dp_close(clae_data_parallel *dp);
/* Before a step's backward: share = this rank's rows / the global batch's. */
void clae_dp_begin(clae_data_parallel *dp, float share);
/* After it is enqueued: every bucket summed over the ranks and written back;
 * dp->stop: whether any rank's stop_vote was set. */
int clae_dp_reduce(clae_data_parallel *dp, bool stop_vote, clae_err *err);

typedef struct {
    int epoch, epochs;
    long step, steps_per_epoch;
    double loss;         /* mean loss since the previous report */
    double images_per_s; /* since training started (excluding the first step) */
    double elapsed_s;
} clae_progress;

typedef void (*clae_progress_fn)(void *user, const clae_progress *p);

typedef struct {
    const clae_config *cfg;
    clae_ctx *ctx;
    const clae_job *job;    /* the job (NULL or one rank: alone) */
    clae_data_parallel *dp; /* with several ranks */
    clae_data data;
    clae_model model;
    clae_objective objective;
    clae_optim optim;
    double acc_train_read;             /* train loss sum already reported */
    int epoch;                         /* completed epochs */
    long step;                         /* completed steps */
    long epoch_step;                   /* steps done of the unfinished epoch (an interrupted run) */
    const volatile sig_atomic_t *stop; /* set (by a signal): end the epoch after this step */
    long run_steps; /* steps taken by this process (the first holds one-time setup) */
    double best_val;
    int since_best;             /* epochs without a better validation loss */
    double lr;                  /* learning rate of the last step */
    clae_metrics train_metrics; /* of the last epoch */
    double first_step_s; /* includes one-time setup: CLBlast's kernel compile, first allocations */
    double train_s;      /* training time after the first step */
    long images_after_first;
} clae_trainer;

/* Loads data, splits, builds the model, objective and optimizer; parameters
 * are initialised from the seed (or overwritten by clae_trainer_load). */
int clae_trainer_open(clae_trainer *t, clae_ctx *ctx, const clae_config *cfg, clae_err *err);
/* The same as one rank of a job (job NULL: alone), the model sized for a
 * shard; nothing is sent yet, so every rank can first learn whether all opened. */
int clae_trainer_open_job(clae_trainer *t, clae_ctx *ctx, const clae_config *cfg,
                          const clae_job *job, clae_err *err);
/* Then, on every rank of a job of several: the gradient buckets, and rank 0's
 * parameters and layer state broadcast. */
int clae_trainer_join(clae_trainer *t, clae_err *err);
/* Rank 0's training state to every rank: parameters, layer state, optimizer
 * state and the position (after rank 0 alone loaded a checkpoint). */
int clae_trainer_share(clae_trainer *t, clae_err *err);
/* Whether this process writes the run (rank 0, or alone). */
static inline bool clae_trainer_leads(const clae_trainer *t)
{
    return !t->job || t->job->rank == 0;
}
/* The device memory training takes, about: parameters, gradients, optimizer state,
 * activations, layer state and the uploaded images (checked at open against the device). */
double clae_trainer_device_bytes(const clae_trainer *t);
void clae_trainer_close(clae_trainer *t);

/* One epoch over the training split; its metrics into t->train_metrics. */
/* 0: the epoch is done; 1: *t->stop ended it after a step (t->epoch_step says where; a
 * checkpoint saved now resumes there); -1: error. */
int clae_trainer_epoch(clae_trainer *t, clae_progress_fn fn, void *user);
int clae_trainer_evaluate(clae_trainer *t, clae_split_kind k, clae_metrics *out);

int clae_trainer_save(clae_trainer *t, const char *path, clae_err *err);
int clae_trainer_load(clae_trainer *t, const char *path, clae_err *err);

#endif
