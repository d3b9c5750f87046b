/* Training and evaluation of one config on one device. The datasets live on
 * the device as bytes; a step gathers its batch there from a permutation that
 * is uploaded once per epoch, so the only reads in training are the loss sums,
 * once per log interval. Shuffles are seeded by (seed, epoch): a resumed run
 * sees exactly the batches an uninterrupted one would. */
#ifndef CLAE_TRAIN_H
#define CLAE_TRAIN_H

#include "clae/config.h"
#include "clae/data.h"
#include "clae/io.h"
#include "clae/nn.h"
#include "clae/optim.h"

typedef struct {
    int source;         /* index into the trainer's sources */
    cl_mem order;       /* u32 entries in visiting order: a sample index, or (copy << 24 | sample) when augmented */
    uint32_t *host_order;
    uint32_t n;         /* entries (samples times copies) */
    bool augment;
} clae_split_data;

/* Where samples come from: one dataset on the host and its bytes on the device. */
typedef struct {
    clae_dataset set;
    cl_mem pixels;      /* u8, set.count * sample */
    cl_mem means;       /* float per sample: mean gray, for contrast jitter (augmented sources only) */
    cl_mem labels;      /* u8 per sample, or NULL when the data has none */
} clae_source;

typedef struct {
    int epoch, epochs;
    long step, steps_per_epoch;
    double loss;          /* mean loss since the previous report */
    double images_per_s;  /* since training started (excluding the first step) */
    double elapsed_s;
} clae_progress;

typedef void (*clae_progress_fn)(void *user, const clae_progress *p);

typedef struct {
    const clae_config *cfg;
    clae_ctx *ctx;
    clae_model model;
    clae_optim optim;
    clae_source sources[2];           /* idx: train file, test file; other formats: one source */
    int n_sources;
    clae_split_data train, val, test;
    cl_mem row_a, row_b;  /* per-row loss sums (max batch) */
    cl_mem acc;           /* Kahan accumulators (value, compensation): see the ACC_ slots in trainer.c */
    cl_mem rho_hat, unit_pen; /* sparse: per code unit, mean activation and share of the penalty */
    int classes;          /* multitask: the head's outputs (0: no head) */
    cl_mem confusion;     /* multitask: classes x classes counts [label][prediction] of the last evaluation */
    uint32_t *host_confusion;
    clae_arena clean_arena; /* denoising: the clean batch (the target), while model.x holds the noisy one */
    clae_tensor clean;
    double acc_train_read; /* train loss sum already reported */
    int epoch;            /* completed epochs */
    long step;            /* completed steps */
    long run_steps;       /* steps taken by this process (the first holds one-time setup) */
    double best_val;
    int since_best;       /* epochs without a better validation loss */
    double lr;            /* learning rate of the last step */
    double train_kl;      /* vae: mean KL per sample over the last epoch */
    double train_penalty; /* sparse: mean penalty per step over the last epoch */
    double train_ce, train_acc; /* multitask: the head's mean cross-entropy and accuracy over the last epoch */
    double first_step_s;  /* includes one-time setup: CLBlast's kernel compile, first allocations */
    double train_s;       /* training time after the first step */
    long images_after_first;
} clae_trainer;

typedef struct {
    double mse, bce, loss; /* means over all values, output against the clean input; loss is the configured one */
    double noisy_mse;      /* denoising: the corrupted input against the clean one (NaN otherwise) */
    double kl;             /* vae: KL divergence per sample, summed over the latent (NaN otherwise) */
    double ce, accuracy;   /* multitask: the head's mean cross-entropy and accuracy (NaN otherwise) */
    double code_mean, code_zero; /* mean code value, fraction of code values with |z| < CLAE_CODE_ZERO */
    double psnr, ssim;     /* test split of images of at least 11x11: means over images (NaN otherwise) */
    const uint32_t *confusion; /* multitask, test split: classes x classes [label][prediction] */
    int classes;
    uint32_t n;
} clae_metrics;

/* Loads data, splits, builds the model and optimizer; parameters are initialised
 * from the seed (or overwritten by clae_trainer_load). */
int clae_trainer_open(clae_trainer *t, clae_ctx *ctx, const clae_config *cfg, clae_err *err);
void clae_trainer_close(clae_trainer *t);

/* One epoch over the training split; returns its mean training loss. */
int clae_trainer_epoch(clae_trainer *t, clae_progress_fn fn, void *user, double *train_loss);
/* Metrics over the validation (which = 'v') or test (which = 't') split. */
int clae_trainer_evaluate(clae_trainer *t, char which, clae_metrics *out);
/* The first n test inputs (as fed: noisy when denoising), their reconstructions and
 * the clean inputs (clean may be NULL), host arrays of n * sample floats. */
int clae_trainer_reconstruct(clae_trainer *t, int n, float *inputs, float *outputs, float *clean);

int clae_trainer_save(clae_trainer *t, const char *path, clae_err *err);
/* vae: n samples decoded from the prior N(0, I), n * sample floats into out. */
int clae_trainer_sample(clae_trainer *t, int n, float *out);

/* data.c: sources, splits, copies, and gathering a batch into model.x */
int clae_trainer_load_data(clae_trainer *t, clae_err *err);
void clae_trainer_release_data(clae_trainer *t);
int clae_trainer_gather(clae_trainer *t, const clae_split_data *s, uint32_t first, int rows);
int clae_trainer_upload_order(clae_trainer *t, clae_split_data *s);
/* "split,index,copy,name" per entry of every split (copy 0 only), for the run directory */
int clae_trainer_write_split(const clae_trainer *t, FILE *f);
int clae_trainer_load(clae_trainer *t, const char *path, clae_err *err);

uint64_t clae_model_signature(const clae_model *m);

#define CLAE_CODE_ZERO 1e-2 /* a code value below this (in magnitude) counts as inactive */

/* quality.c: image quality of y against x (one image of shape s, values in [0, 1]).
 * PSNR in dB (data range 1; capped at 100 for identical images). SSIM as Wang et al.
 * 2004 and pytorch_msssim: 11x11 Gaussian window (sigma 1.5) over the valid region,
 * K1 0.01, K2 0.03, data range 1, mean over channels and positions; NaN when the
 * image is smaller than the window. */
double clae_psnr(const float *y, const float *x, clae_shape s);
double clae_ssim(const float *y, const float *x, clae_shape s);

#endif
