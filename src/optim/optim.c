#include <math.h>
#include <string.h>

#include "clae/ops.h"
#include "clae/optim.h"

const char *clae_optim_name(clae_optim_kind k)
{
    static const char *const names[] = {CLAE_OPTIM_LIST(CLAE_X_NAME)};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

int clae_optim_create(clae_optim *o, clae_ctx *ctx, const clae_optim_cfg *cfg, size_t n_params)
{
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->n = n_params;
    o->n_state = cfg->kind == CLAE_OPT_SGD    ? (cfg->momentum != 0.0 ? 1 : 0)
                 : cfg->kind == CLAE_OPT_LION ? 1
                                              : 2;
    clae_arena_init(&o->state, "optimizer moments");
    clae_tensor all = clae_arena_reserve(
        &o->state, (clae_shape){o->n_state ? o->n_state : 1, 1, (int)n_params, 1});
    if (clae_arena_alloc(ctx, &o->state)) return -1;
    if (cfg->clip_norm > 0) {
        cl_int rc;
        o->clip_partial = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE,
                                         ((n_params + 4095) / 4096 + 1) * 4, NULL, &rc);
        if (rc == CL_SUCCESS)
            o->clip_coef = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, 4, NULL, &rc);
        if (rc != CL_SUCCESS) return clae_cl_fail(ctx, rc, "clCreateBuffer (clipping workspace)");
    }
    return clae_op_fill(ctx, &all, (size_t)(o->n_state ? o->n_state : 1) * n_params, 0.0f);
}

void clae_optim_release(clae_optim *o)
{
    clae_arena_release(&o->state);
    if (o->clip_partial) clReleaseMemObject(o->clip_partial);
    if (o->clip_coef) clReleaseMemObject(o->clip_coef);
    o->clip_partial = o->clip_coef = NULL;
}

int clae_optim_step(clae_optim *o, clae_ctx *ctx, cl_mem params, cl_mem grads, double lr)
{
    const clae_optim_cfg *c = &o->cfg;
    clae_clip clip = {NULL, (float)c->clip_value};
    if (c->clip_norm > 0) {
        if (clae_op_clip_coefficient(ctx, o->clip_coef, o->clip_partial, grads, o->n,
                                     (float)c->clip_norm))
            return -1;
        clip.gscale = o->clip_coef;
    }
    int rc;
    if (c->kind == CLAE_OPT_SGD)
        rc = clae_op_sgd(ctx, params, grads, o->state.buf, o->n, (float)lr, (float)c->momentum,
                         (float)c->dampening, (float)c->weight_decay, c->nesterov, o->step == 0,
                         clip);
    else if (c->kind == CLAE_OPT_LION)
        rc = clae_op_lion(ctx, params, grads, o->state.buf, o->n, (float)lr, (float)c->beta1,
                          (float)c->beta2, (float)c->weight_decay, clip);
    else
        rc = clae_op_adam(ctx, params, grads, o->state.buf, o->n, lr, c->beta1, c->beta2, c->eps,
                          c->weight_decay, c->kind == CLAE_OPT_ADAMW, o->step + 1, clip);
    if (rc == 0) o->step++;
    return rc;
}

double clae_schedule_lr(const clae_schedule *s, int epoch, long step)
{
    double lr = s->lr;
    switch (s->kind) {
    case CLAE_SCHED_STEP:
        lr *= pow(s->gamma, (double)(epoch / (s->step_epochs > 0 ? s->step_epochs : 1)));
        break;
    case CLAE_SCHED_EXPONENTIAL: lr *= pow(s->gamma, (double)epoch); break;
    case CLAE_SCHED_COSINE:
        lr = s->min_lr + (s->lr - s->min_lr) *
                             (1.0 + cos(M_PI * epoch / (s->epochs > 0 ? s->epochs : 1))) / 2.0;
        break;
    default: break;
    }
    if (step < s->warmup_steps) lr *= (double)(step + 1) / (double)s->warmup_steps;
    return lr;
}
