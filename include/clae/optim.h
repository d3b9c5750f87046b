/* Optimizers over the model's single parameter buffer: one launch per step.
 * State (momentum buffer, or Adam's m and v) lives in one arena in the same
 * layout as the parameters, so checkpoints save it as flat arrays. */
#ifndef CLAE_OPTIM_H
#define CLAE_OPTIM_H

#include "clae/kinds.h"
#include "clae/tensor.h"

/* X(ID, name): the enum and the names the config takes, from one list */
#define CLAE_OPTIM_LIST(X) X(SGD, sgd) X(ADAM, adam) X(ADAMW, adamw) X(LION, lion)
#define CLAE_X_OPT(id, name) CLAE_OPT_##id,
typedef enum { CLAE_OPTIM_LIST(CLAE_X_OPT) } clae_optim_kind;
#undef CLAE_X_OPT

typedef struct {
    clae_optim_kind kind;
    double lr, weight_decay;
    double momentum, dampening; /* sgd */
    bool nesterov;              /* sgd */
    double beta1, beta2, eps;   /* adam, adamw; lion uses beta1, beta2 */
    double clip_norm;           /* global-norm clipping (0: off) */
    double clip_value;          /* clipping by value (0: off) */
} clae_optim_cfg;

typedef struct {
    clae_optim_cfg cfg;
    size_t n;                       /* parameters */
    int n_state;                    /* state arrays of n floats: sgd 1 (if momentum), adam 2 */
    clae_arena state;               /* n_state * n floats */
    long step;                      /* steps taken; Adam's bias correction uses step + 1 */
    cl_mem clip_partial, clip_coef; /* global-norm clipping workspace */
} clae_optim;

const char *clae_optim_name(clae_optim_kind k);

int clae_optim_create(clae_optim *o, clae_ctx *ctx, const clae_optim_cfg *cfg, size_t n_params);
void clae_optim_release(clae_optim *o);
/* One update of params from grads (both n floats); lr overrides cfg.lr (schedules). The
 * gradients are consumed: the step leaves them zero (see clae_model.grads_zero). */
int clae_optim_step(clae_optim *o, clae_ctx *ctx, cl_mem params, cl_mem grads, double lr);

/* Learning rate per epoch (PyTorch's schedulers stepped once per epoch) with a
 * linear warm-up over the first warmup_steps steps. */
#define CLAE_SCHEDULE_LIST(X) \
    X(CONSTANT, constant) X(STEP, step) X(EXPONENTIAL, exponential) X(COSINE, cosine)
#define CLAE_X_SCHED(id, name) CLAE_SCHED_##id,
typedef enum { CLAE_SCHEDULE_LIST(CLAE_X_SCHED) } clae_schedule_kind;
#undef CLAE_X_SCHED

typedef struct {
    clae_schedule_kind kind;
    double lr, gamma, min_lr;
    int step_epochs, epochs;
    long warmup_steps;
} clae_schedule;

/* constant: lr; step: lr gamma^floor(epoch / step_epochs) (StepLR); exponential:
 * lr gamma^epoch (ExponentialLR); cosine: min_lr + (lr - min_lr)(1 + cos(pi epoch / epochs)) / 2
 * (CosineAnnealingLR, T_max = epochs); times (step + 1) / warmup_steps while warming up. */
double clae_schedule_lr(const clae_schedule *s, int epoch, long step);

#endif
