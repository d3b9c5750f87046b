#include <math.h>

#include "clae/ops.h"

#define CLIP_ARGS(c) ((c).gscale ? KARG_MEM((c).gscale) : KARG_NULL), KARG_F32((c).clip_value)

int clae_op_sgd(clae_ctx *ctx, cl_mem p, cl_mem g, cl_mem buf, size_t n, float lr, float momentum,
                float dampening, float weight_decay, bool nesterov, bool first_step, clae_clip clip)
{
    return CLAE_LAUNCH(ctx, "sgd_step", n, KARG_MEM(p), KARG_MEM(g), KARG_MEM(buf), KARG_U32(n),
                       KARG_F32(lr), KARG_F32(momentum), KARG_F32(dampening),
                       KARG_F32(weight_decay), KARG_I32(nesterov), KARG_I32(first_step),
                       CLIP_ARGS(clip));
}

int clae_op_lion(clae_ctx *ctx, cl_mem p, cl_mem g, cl_mem m, size_t n, float lr, float beta1,
                 float beta2, float weight_decay, clae_clip clip)
{
    return CLAE_LAUNCH(ctx, "lion_step", n, KARG_MEM(p), KARG_MEM(g), KARG_MEM(m), KARG_U32(n),
                       KARG_F32(lr), KARG_F32(beta1), KARG_F32(beta2), KARG_F32(weight_decay),
                       CLIP_ARGS(clip));
}

int clae_op_clip_coefficient(clae_ctx *ctx, cl_mem coef, cl_mem partial, cl_mem g, size_t n,
                             float max_norm)
{
    size_t blocks = (n + 4095) / 4096;
    return CLAE_LAUNCH(ctx, "sumsq_blocks", blocks, KARG_MEM(partial), KARG_MEM(g), KARG_U32(n)) ||
           CLAE_LAUNCH(ctx, "clip_coefficient", 1, KARG_MEM(coef), KARG_MEM(partial),
                       KARG_U32(blocks), KARG_F32(max_norm));
}

int clae_op_adam(clae_ctx *ctx, cl_mem p, cl_mem g, cl_mem state, size_t n, double lr, double beta1,
                 double beta2, double eps, double weight_decay, bool decoupled, long step,
                 clae_clip clip)
{
    /* bias corrections in double on the host, as torch computes them in Python floats */
    double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
    float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    return CLAE_LAUNCH(ctx, "adam_step", (n + 7) / 8, KARG_MEM(p), KARG_MEM(g), KARG_MEM(state),
                       KARG_U32(n), KARG_F32(lr), KARG_F32(beta1), KARG_F32(beta2), KARG_F32(eps),
                       KARG_F32(weight_decay), KARG_I32(decoupled), KARG_F32(step_size),
                       KARG_F32(bc2_sqrt), CLIP_ARGS(clip));
}
