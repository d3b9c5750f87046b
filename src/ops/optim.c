#include <math.h>

#include "clae/ops.h"

int clae_op_sgd(clae_ctx *ctx, cl_mem p, cl_mem g, cl_mem buf, size_t n, float lr, float momentum, float dampening,
                float weight_decay, bool nesterov, bool first_step)
{
    return CLAE_LAUNCH(ctx, "sgd_step", n, KARG_MEM(p), KARG_MEM(g), KARG_MEM(buf), KARG_U32(n), KARG_F32(lr),
                       KARG_F32(momentum), KARG_F32(dampening), KARG_F32(weight_decay), KARG_I32(nesterov),
                       KARG_I32(first_step));
}

int clae_op_adam(clae_ctx *ctx, cl_mem p, cl_mem g, cl_mem state, size_t n, double lr, double beta1,
                 double beta2, double eps, double weight_decay, bool decoupled, long step)
{
    /* bias corrections in double on the host, as torch computes them in Python floats */
    double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
    float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    return CLAE_LAUNCH(ctx, "adam_step", n, KARG_MEM(p), KARG_MEM(g), KARG_MEM(state), KARG_U32(n),
                       KARG_F32(lr), KARG_F32(beta1), KARG_F32(beta2), KARG_F32(eps), KARG_F32(weight_decay),
                       KARG_I32(decoupled), KARG_F32(step_size), KARG_F32(bc2_sqrt));
}
