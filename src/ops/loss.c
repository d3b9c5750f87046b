#include "clae/ops.h"

int clae_op_loss(clae_ctx *ctx, clae_loss_kind kind, const clae_tensor *y, const clae_tensor *t, size_t rows,
                 size_t cols, clae_tensor *dy, float grad_scale, cl_mem row_loss)
{
    return CLAE_LAUNCH(ctx, "loss_rows", rows, dy ? KARG_MEM(clae_buf(dy)) : KARG_NULL, KARG_U32(dy ? dy->off : 0),
                       KARG_MEM(row_loss), KARG_MEM(clae_buf(y)), KARG_U32(y->off), KARG_MEM(clae_buf(t)),
                       KARG_U32(t->off), KARG_U32(rows), KARG_U32(cols), KARG_I32(kind), KARG_F32(grad_scale));
}

int clae_op_metric_rows(clae_ctx *ctx, const clae_tensor *y, const clae_tensor *t, size_t rows, size_t cols,
                        cl_mem row_mse, cl_mem row_bce)
{
    return CLAE_LAUNCH(ctx, "metric_rows", rows, KARG_MEM(row_mse), KARG_MEM(row_bce), KARG_MEM(clae_buf(y)),
                       KARG_U32(y->off), KARG_MEM(clae_buf(t)), KARG_U32(t->off), KARG_U32(rows), KARG_U32(cols));
}

int clae_op_accumulate(clae_ctx *ctx, cl_mem acc, size_t slot, cl_mem v, size_t n)
{
    return CLAE_LAUNCH(ctx, "accumulate_sum", 1, KARG_MEM(acc), KARG_U32(slot), KARG_MEM(v), KARG_U32(0), KARG_U32(n));
}

int clae_op_accumulate_tensor(clae_ctx *ctx, cl_mem acc, size_t slot, const clae_tensor *v, size_t n)
{
    return CLAE_LAUNCH(ctx, "accumulate_sum", 1, KARG_MEM(acc), KARG_U32(slot), KARG_MEM(clae_buf(v)),
                       KARG_U32(v->off), KARG_U32(n));
}
