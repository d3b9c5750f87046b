#include "clae/ops.h"

int clae_op_fill(clae_ctx *ctx, const clae_tensor *t, size_t n, float value)
{
    return CLAE_LAUNCH(ctx, "fill_f32", n, KARG_MEM(clae_buf(t)), KARG_U32(t->off), KARG_U32(n),
                       KARG_F32(value));
}

int clae_op_add(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, size_t n)
{
    return CLAE_LAUNCH(ctx, "add_f32", n, KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(clae_buf(x)), KARG_U32(x->off), KARG_U32(n));
}

int clae_op_sum2(clae_ctx *ctx, clae_tensor *y, const clae_tensor *a, const clae_tensor *b,
                 size_t n)
{
    return CLAE_LAUNCH(ctx, "sum2_f32", n, KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(clae_buf(a)), KARG_U32(a->off), KARG_MEM(clae_buf(b)),
                       KARG_U32(b->off), KARG_U32(n));
}

int clae_op_copy(clae_ctx *ctx, clae_tensor *dst, const clae_tensor *src, size_t n)
{
    CLAE_CL_TRY(ctx,
                clEnqueueCopyBuffer(ctx->queue, clae_buf(src), clae_buf(dst),
                                    src->off * sizeof(float), dst->off * sizeof(float),
                                    n * sizeof(float), 0, NULL, NULL),
                "clEnqueueCopyBuffer");
    return 0;
}

int clae_op_dropout(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, size_t n, float p,
                    uint32_t seed, uint32_t base)
{
    return CLAE_LAUNCH(ctx, "dropout_apply", n, KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(clae_buf(x)), KARG_U32(x->off), KARG_U32(n), KARG_F32(p),
                       KARG_U32(seed), KARG_U32(base));
}

int clae_op_quantize(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, size_t n,
                     clae_quant_mode mode, uint32_t seed, float gain, uint32_t base)
{
    return CLAE_LAUNCH(ctx, "quantize_apply", n, KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(clae_buf(x)), KARG_U32(x->off), KARG_U32(n),
                       KARG_U32((uint32_t)mode), KARG_U32(seed), KARG_F32(gain), KARG_U32(base));
}

int clae_op_gather_u8(clae_ctx *ctx, clae_tensor *dst, cl_mem src_u8, cl_mem idx, size_t idx_off,
                      size_t row_len, size_t rows, float scale)
{
    return CLAE_LAUNCH(ctx, "gather_u8_rows", rows * row_len, KARG_MEM(clae_buf(dst)),
                       KARG_U32(dst->off), KARG_MEM(src_u8), KARG_MEM(idx), KARG_U32(idx_off),
                       KARG_U32(row_len), KARG_U32(rows), KARG_F32(scale));
}

int clae_op_act_forward(clae_ctx *ctx, clae_act kind, float slope, const clae_tensor *x,
                        clae_tensor *y, size_t n)
{
    return CLAE_LAUNCH(ctx, "act_forward", n, KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(clae_buf(x)), KARG_U32(x->off), KARG_U32(n), KARG_I32(kind),
                       KARG_F32(slope));
}

int clae_op_act_backward(clae_ctx *ctx, clae_act kind, float slope, const clae_tensor *y,
                         const clae_tensor *dy, clae_tensor *dx, size_t n)
{
    return CLAE_LAUNCH(ctx, "act_backward", (n + 7) / 8, KARG_MEM(clae_buf(dx)), KARG_U32(dx->off),
                       KARG_MEM(clae_buf(dy)), KARG_U32(dy->off), KARG_MEM(clae_buf(y)),
                       KARG_U32(y->off), KARG_U32(n), KARG_I32(kind), KARG_F32(slope));
}

int clae_op_bias_act(clae_ctx *ctx, clae_tensor *y, const clae_tensor *b, size_t rows, size_t cols,
                     clae_act kind, float slope)
{
    return CLAE_LAUNCH(ctx, "bias_act_forward", rows * cols, KARG_MEM(clae_buf(y)),
                       KARG_U32(y->off), b ? KARG_MEM(clae_buf(b)) : KARG_NULL,
                       KARG_U32(b ? b->off : 0), KARG_U32(rows), KARG_U32(cols), KARG_I32(kind),
                       KARG_F32(slope));
}

int clae_op_bias_backward(clae_ctx *ctx, clae_tensor *db, const clae_tensor *dy, size_t rows,
                          size_t cols)
{
    return CLAE_LAUNCH(ctx, "bias_backward", (cols + 7) / 8, KARG_MEM(clae_buf(db)),
                       KARG_U32(db->off), KARG_MEM(clae_buf(dy)), KARG_U32(dy->off), KARG_U32(rows),
                       KARG_U32(cols));
}

int clae_op_augment(clae_ctx *ctx, clae_tensor *dst, cl_mem src_u8, cl_mem order, size_t order_off,
                    size_t rows, clae_shape sample, cl_mem means, const clae_augment_params *a)
{
    return CLAE_LAUNCH(ctx, "augment_batch", rows * sample.h * sample.w, KARG_MEM(clae_buf(dst)),
                       KARG_U32(dst->off), KARG_MEM(src_u8), KARG_MEM(order), KARG_U32(order_off),
                       KARG_U32(rows), KARG_U32(sample.c), KARG_U32(sample.h), KARG_U32(sample.w),
                       KARG_MEM(means), KARG_U32(a->seed), KARG_F32(a->hflip), KARG_F32(a->vflip),
                       KARG_F32(a->rotate), KARG_F32(a->brightness), KARG_F32(a->contrast),
                       KARG_F32(a->saturation), KARG_F32(a->crop), KARG_F32(a->background[0]),
                       KARG_F32(a->background[1]), KARG_F32(a->background[2]));
}

int clae_op_noise(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, size_t n,
                  clae_noise_kind kind, float level, uint32_t seed, uint32_t base)
{
    return CLAE_LAUNCH(ctx, "add_noise", n, KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(clae_buf(x)), KARG_U32(x->off), KARG_U32(n), KARG_I32(kind),
                       KARG_F32(level), KARG_U32(seed), KARG_U32(base));
}
