/* The training objective: a list of terms built once from the config, each
 * owning its value, its gradient, its accumulator slots and its metrics.
 *   recon       MSE or BCE (mean or sum) against the input, or the clean input when denoising
 *   kl          a vae layer's beta * KL, with its warm-up
 *   sparsity    L1 of the code, or KL of its mean activation to rho
 *   classifier  lambda * the head's softmax cross-entropy; accuracy, confusion matrix
 *   code        the code's activity (evaluation)
 *   quality     PSNR and SSIM of test reconstructions (host side)
 * Adding a term is its file in src/train/terms/ (defining clae_term_NAME)
 * and one row in objective.c's TERM_LIST. */
#ifndef CLAE_OBJECTIVE_H
#define CLAE_OBJECTIVE_H

#include "clae/config.h"
#include "clae/metrics.h"
#include "clae/nn.h"

#define CLAE_SPLIT_LIST(X) X(TRAIN, train) X(VAL, val) X(TEST, test)
#define CLAE_X_SPLIT(id, name) CLAE_SPLIT_##id,
typedef enum { CLAE_SPLIT_LIST(CLAE_X_SPLIT) } clae_split_kind;
#undef CLAE_X_SPLIT
/* "train", "val", "test" */
const char *clae_split_name(clae_split_kind k);
/* The split named by the len characters at text; -1 when none is. */
int clae_split_parse(const char *text, size_t len);

/* A batch already in model.x, and where its samples came from. */
typedef struct {
    clae_split_kind split;
    int rows;
    cl_mem order; /* u32 order entries of the split; the batch is entries first.. first + rows */
    uint32_t first, order_mask; /* the sample index is entry & mask */
    cl_mem labels;              /* u8 per sample of the batch's source, or NULL */
    uint32_t noise_seed;        /* denoising: the corruption of this batch */
    uint32_t row0;      /* its first row in its global batch (a data-parallel shard's; else 0) */
    double epochs_done; /* fractional epochs before this batch (the KL warm-up) */
} clae_batch;

typedef struct clae_objective clae_objective;
typedef struct clae_term clae_term;

/* Sums a term reads back: acc[k] is its k-th accumulator slot. */
typedef struct {
    const float *acc;
    uint32_t samples; /* entries accumulated */
    long steps;       /* training batches accumulated */
} clae_term_sums;

typedef struct {
    const char *name;
    int slots; /* accumulator slots (value and compensation each) */
    /* Checks the config and the model against the term, allocates its buffers (may be NULL). */
    int (*open)(clae_term *t, clae_err *err);
    /* Before the forward (may be NULL): e.g. corrupt the input, set a layer's weight. */
    int (*before_forward)(clae_term *t, const clae_batch *b, bool train);
    /* After the forward: the value summed into the term's slots and, in
     * training, the gradient written or added where the backward reads it (may be NULL:
     * sparsity adds its gradient inside the backward). */
    int (*after_forward)(clae_term *t, const clae_batch *b, bool train);
    /* The metrics from the sums (training: one epoch; otherwise one evaluation). */
    void (*finish)(const clae_term *t, const clae_term_sums *s, bool train, clae_metrics *m);
    /* Sums kept outside the accumulators (may be NULL): zeroed with them, read after them. */
    int (*clear)(clae_term *t, bool train);
    int (*read)(clae_term *t, bool train);
    void (*close)(clae_term *t);
} clae_term_ops;

struct clae_term {
    const clae_term_ops *ops;
    clae_objective *obj;
    int slot;   /* first slot, in floats: slots are (value, compensation) pairs */
    void *self; /* the term's own state, freed by close */
};

#define CLAE_CODE_ZERO 1e-2 /* a code value below this (in magnitude) counts as inactive */
#define CLAE_MAX_TERMS 8
#define CLAE_ACC_FLOATS 64

struct clae_objective {
    const clae_config *cfg;
    clae_ctx *ctx;
    clae_model *model;
    clae_term terms[CLAE_MAX_TERMS];
    int n_terms;
    cl_mem row_a, row_b; /* per-row values of a batch (max batch floats) */
    cl_mem acc;          /* Kahan pairs: training slots, then the same layout for evaluation */
    int n_floats;        /* floats of one layout */
    clae_tensor target;  /* what the output is compared with in this batch */
    clae_tensor input;   /* the batch as the model saw it (rows of model.x) */
};

/* The terms that apply to cfg and m, opened in table order (recon first). */
int clae_objective_open(clae_objective *o, clae_ctx *ctx, const clae_config *cfg, clae_model *m,
                        clae_err *err);
void clae_objective_close(clae_objective *o);

/* Forward of the batch in model.x, every term's value and (train) gradient,
 * then the backward: the whole training step but the optimizer. */
int clae_objective_train_batch(clae_objective *o, const clae_batch *b);
/* The batch as the terms see it (the input, the target: corrupted and clean
 * copies when denoising) and the forward, no term's value. */
int clae_objective_forward(clae_objective *o, const clae_batch *b, bool train);
/* Forward in evaluation mode and every term's metric sums. */
int clae_objective_eval_batch(clae_objective *o, const clae_batch *b);

/* Zeroes the training or the evaluation sums. */
int clae_objective_clear(clae_objective *o, bool train);
/* Reads the training or evaluation sums (one sync), n_floats into acc. */
int clae_objective_read(clae_objective *o, bool train, float *acc);
/* The configured loss summed so far this epoch (training sums in acc). */
double clae_objective_loss_sum(const clae_objective *o, const float *acc);
/* Metrics of every term from sums read by clae_objective_read. */
void clae_objective_finish(const clae_objective *o, const float *acc, uint32_t samples, long steps,
                           bool train, clae_metrics *m);
/* A term by name ("classifier"), or NULL when the objective has none. */
clae_term *clae_objective_term(clae_objective *o, const char *name);

/* The gradient scale of the reconstruction: mean divides by every value of
 * the batch, sum by the batch size only; the KL term follows it. */
float clae_objective_reduction_scale(const clae_objective *o, int rows);

/* Where a term's k-th slot of the training or evaluation sums is, in floats. */
static inline size_t clae_term_slot(const clae_term *t, bool train, int k)
{
    return (train ? 0 : CLAE_ACC_FLOATS) + (size_t)t->slot + 2 * (size_t)k;
}

#endif
