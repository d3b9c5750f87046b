#include <string.h>

#include "clae/ops.h"
#include "clae/optim.h"

const char *clae_optim_name(clae_optim_kind k)
{
    return k == CLAE_OPT_SGD ? "sgd" : k == CLAE_OPT_ADAM ? "adam" : "adamw";
}

int clae_optim_create(clae_optim *o, clae_ctx *ctx, const clae_optim_cfg *cfg, size_t n_params)
{
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->n = n_params;
    o->n_state = cfg->kind == CLAE_OPT_SGD ? (cfg->momentum != 0.0 ? 1 : 0) : 2;
    clae_arena_init(&o->state, "optimizer moments");
    clae_tensor all = clae_arena_reserve(&o->state, (clae_shape){o->n_state ? o->n_state : 1, 1, (int)n_params, 1});
    if (clae_arena_alloc(ctx, &o->state)) return -1;
    return clae_op_fill(ctx, &all, (size_t)(o->n_state ? o->n_state : 1) * n_params, 0.0f);
}

void clae_optim_release(clae_optim *o) { clae_arena_release(&o->state); }

int clae_optim_step(clae_optim *o, clae_ctx *ctx, cl_mem params, cl_mem grads, double lr)
{
    const clae_optim_cfg *c = &o->cfg;
    int rc;
    if (c->kind == CLAE_OPT_SGD) {
        rc = clae_op_sgd(ctx, params, grads, o->state.buf, o->n, (float)lr, (float)c->momentum, (float)c->dampening,
                         (float)c->weight_decay, c->nesterov, o->step == 0);
    } else {
        rc = clae_op_adam(ctx, params, grads, o->state.buf, o->n, lr, c->beta1, c->beta2, c->eps, c->weight_decay,
                          c->kind == CLAE_OPT_ADAMW, o->step + 1);
    }
    if (rc == 0) o->step++;
    return rc;
}
