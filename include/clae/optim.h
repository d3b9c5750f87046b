/* Optimizers over the model's single parameter buffer: one launch per step.
 * State (momentum buffer, or Adam's m and v) lives in one arena in the same
 * layout as the parameters, so checkpoints save it as flat arrays. */
#ifndef CLAE_OPTIM_H
#define CLAE_OPTIM_H

#include "clae/tensor.h"

typedef enum { CLAE_OPT_SGD = 0, CLAE_OPT_ADAM, CLAE_OPT_ADAMW } clae_optim_kind;

typedef struct {
    clae_optim_kind kind;
    double lr, weight_decay;
    double momentum, dampening; /* sgd */
    bool nesterov;              /* sgd */
    double beta1, beta2, eps;   /* adam, adamw */
} clae_optim_cfg;

typedef struct {
    clae_optim_cfg cfg;
    size_t n;          /* parameters */
    int n_state;       /* state arrays of n floats: sgd 1 (if momentum), adam 2 */
    clae_arena state;  /* n_state * n floats */
    long step;         /* steps taken; Adam's bias correction uses step + 1 */
} clae_optim;

const char *clae_optim_name(clae_optim_kind k);

int clae_optim_create(clae_optim *o, clae_ctx *ctx, const clae_optim_cfg *cfg, size_t n_params);
void clae_optim_release(clae_optim *o);
/* One update of params from grads (both n floats); lr overrides cfg.lr (schedules). */
int clae_optim_step(clae_optim *o, clae_ctx *ctx, cl_mem params, cl_mem grads, double lr);

#endif
