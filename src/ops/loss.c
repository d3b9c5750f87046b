#include "clae/ops.h"

int clae_op_loss(clae_ctx *ctx, clae_loss_kind kind, const clae_tensor *y, const clae_tensor *t,
                 size_t rows, size_t cols, clae_tensor *dy, float grad_scale, cl_mem row_loss)
{
    return CLAE_LAUNCH(ctx, "loss_rows", rows, dy ? KARG_MEM(clae_buf(dy)) : KARG_NULL,
                       KARG_U32(dy ? dy->off : 0), KARG_MEM(row_loss), KARG_MEM(clae_buf(y)),
                       KARG_U32(y->off), KARG_MEM(clae_buf(t)), KARG_U32(t->off), KARG_U32(rows),
                       KARG_U32(cols), KARG_I32(kind), KARG_F32(grad_scale));
}

int clae_op_metric_rows(clae_ctx *ctx, const clae_tensor *y, const clae_tensor *t, size_t rows,
                        size_t cols, cl_mem row_mse, cl_mem row_bce)
{
    return CLAE_LAUNCH(ctx, "metric_rows", rows, KARG_MEM(row_mse), KARG_MEM(row_bce),
                       KARG_MEM(clae_buf(y)), KARG_U32(y->off), KARG_MEM(clae_buf(t)),
                       KARG_U32(t->off), KARG_U32(rows), KARG_U32(cols));
}

int clae_op_accumulate(clae_ctx *ctx, cl_mem acc, size_t slot, cl_mem v, size_t n)
{
    return CLAE_LAUNCH(ctx, "accumulate_sum", 1, KARG_MEM(acc), KARG_U32(slot), KARG_MEM(v),
                       KARG_U32(0), KARG_U32(n));
}

int clae_op_accumulate_tensor(clae_ctx *ctx, cl_mem acc, size_t slot, const clae_tensor *v,
                              size_t n)
{
    return CLAE_LAUNCH(ctx, "accumulate_sum", 1, KARG_MEM(acc), KARG_U32(slot),
                       KARG_MEM(clae_buf(v)), KARG_U32(v->off), KARG_U32(n));
}

int clae_op_softmax_xent(clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz, cl_mem labels,
                         cl_mem order, size_t first, uint32_t mask, size_t rows, size_t k,
                         float grad_scale, cl_mem row_loss, cl_mem row_correct, cl_mem confusion)
{
    return CLAE_LAUNCH(ctx, "softmax_xent_rows", rows, dz ? KARG_MEM(clae_buf(dz)) : KARG_NULL,
                       KARG_U32(dz ? dz->off : 0), KARG_MEM(row_loss), KARG_MEM(row_correct),
                       KARG_MEM(clae_buf(z)), KARG_U32(z->off), KARG_MEM(labels), KARG_MEM(order),
                       KARG_U32(first), KARG_U32(mask), KARG_U32(rows), KARG_U32(k),
                       KARG_F32(grad_scale), confusion ? KARG_MEM(confusion) : KARG_NULL);
}

int clae_op_sparsity(clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz, size_t rows, size_t u,
                     float l1, float kl, float rho, cl_mem rho_hat, cl_mem unit_pen)
{
    if (CLAE_LAUNCH(ctx, "sparsity_units", u, KARG_MEM(rho_hat), KARG_MEM(unit_pen),
                    KARG_MEM(clae_buf(z)), KARG_U32(z->off), KARG_U32(rows), KARG_U32(u),
                    KARG_F32(l1), KARG_F32(kl), KARG_F32(rho)))
        return -1;
    if (!dz) return 0;
    return CLAE_LAUNCH(ctx, "sparsity_grad", rows * u, KARG_MEM(clae_buf(dz)), KARG_U32(dz->off),
                       KARG_MEM(clae_buf(z)), KARG_U32(z->off), KARG_MEM(rho_hat), KARG_U32(rows),
                       KARG_U32(u), KARG_F32(l1), KARG_F32(kl), KARG_F32(rho));
}

int clae_op_rate_fit(clae_ctx *ctx, const clae_tensor *z, size_t rows, size_t channels,
                     size_t positions, float pixels, cl_mem mu, cl_mem scale, cl_mem bits)
{
    return CLAE_LAUNCH(ctx, "rate_channels", channels, KARG_MEM(mu), KARG_MEM(scale),
                       KARG_MEM(bits), KARG_MEM(clae_buf(z)), KARG_U32(z->off), KARG_U32(rows),
                       KARG_U32(channels), KARG_U32(positions), KARG_F32(pixels));
}

int clae_op_rate_grad(clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz, size_t rows,
                      size_t channels, size_t positions, float weight, cl_mem mu, cl_mem scale)
{
    size_t n = rows * channels * positions;
    return CLAE_LAUNCH(ctx, "rate_grad", n, KARG_MEM(clae_buf(dz)), KARG_U32(dz->off),
                       KARG_MEM(clae_buf(z)), KARG_U32(z->off), KARG_MEM(mu), KARG_MEM(scale),
                       KARG_U32(n), KARG_U32(channels), KARG_U32(positions), KARG_F32(weight));
}

int clae_op_code_rows(clae_ctx *ctx, const clae_tensor *z, size_t rows, size_t u, float threshold,
                      cl_mem row_sum, cl_mem row_zero)
{
    return CLAE_LAUNCH(ctx, "code_rows", rows, KARG_MEM(row_sum), KARG_MEM(row_zero),
                       KARG_MEM(clae_buf(z)), KARG_U32(z->off), KARG_U32(rows), KARG_U32(u),
                       KARG_F32(threshold));
}
