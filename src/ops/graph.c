/* Host side of cl/graph.cl: the sparse product and the inner-product
 * decoder's losses. A sparse matrix is one tensor holding the packed CSR
 * (clae/graph.h's layout); the kernels read it through two views. */
#include "clae/ops.h"

int clae_op_spmm(clae_ctx *ctx, const clae_tensor *csr, uint32_t n, uint32_t nnz,
                 const clae_tensor *x, size_t cols, clae_tensor *y, bool accumulate)
{
    cl_mem a = clae_buf(csr);
    return CLAE_LAUNCH(ctx, "graph_spmm", (size_t)n * cols, KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(a), KARG_MEM(a), KARG_U32(csr->off), KARG_MEM(clae_buf(x)),
                       KARG_U32(x->off), KARG_U32(n), KARG_U32(nnz), KARG_U32(cols),
                       KARG_I32(accumulate));
}

int clae_op_graph_dense_loss(clae_ctx *ctx, clae_tensor *logits, cl_mem row_loss,
                             const clae_tensor *csr, uint32_t n, float pos_weight, float scale,
                             const clae_tensor *saved)
{
    cl_mem l = clae_buf(logits), a = clae_buf(csr), s = clae_buf(saved);
    return CLAE_LAUNCH(ctx, "graph_pos_save", n, KARG_MEM(s), KARG_U32(saved->off), KARG_MEM(l),
                       KARG_U32(logits->off), KARG_MEM(a), KARG_U32(csr->off), KARG_U32(n)) ||
           CLAE_LAUNCH(ctx, "graph_dense_loss", n, KARG_MEM(l), KARG_U32(logits->off),
                       KARG_MEM(row_loss), KARG_U32(n), KARG_F32(scale)) ||
           CLAE_LAUNCH(ctx, "graph_pos_fix", n, KARG_MEM(l), KARG_U32(logits->off),
                       KARG_MEM(row_loss), KARG_MEM(s), KARG_U32(saved->off), KARG_MEM(a),
                       KARG_U32(csr->off), KARG_U32(n), KARG_F32(pos_weight), KARG_F32(scale));
}

int clae_op_graph_pair_loss(clae_ctx *ctx, clae_tensor *dz, cl_mem row_loss,
                            const clae_tensor *pairs, uint32_t n, uint32_t nnz,
                            const clae_tensor *z, size_t units, float w_pos, float w_neg)
{
    cl_mem p = clae_buf(pairs);
    return CLAE_LAUNCH(ctx, "graph_pair_loss", n, KARG_MEM(clae_buf(dz)), KARG_U32(dz->off),
                       KARG_MEM(row_loss), KARG_MEM(p), KARG_MEM(p), KARG_U32(pairs->off),
                       KARG_MEM(clae_buf(z)), KARG_U32(z->off), KARG_U32(n), KARG_U32(nnz),
                       KARG_U32(units), KARG_F32(w_pos), KARG_F32(w_neg));
}
