/* clae's own SGEMM for CPU devices: C = alpha * op(A) * op(B) + beta * C, row-major.
 *
 * Why: PoCL vectorises explicit vector types well and CLBlast's tiled kernels
 * (built for GPUs, untuned for PoCL) poorly. Both operands are first packed
 * (gemm_pack_a/b) into zero-padded panels, which also folds the transposes away:
 *   Ap[ib][k][MR]  = op(A)[ib*MR + r][k]      (MR rows of A side by side)
 *   Bp[jb][k][NR]  = op(B)[k][jb*NR + c]      (NR = NV * W columns of B)
 * so the micro-kernel streams both panels contiguously and keeps an MR x NR
 * register tile of floatW accumulators, with no local memory or barriers. One
 * work-item computes one tile; the work-group runs down a column of tiles so
 * the B panel stays in cache. Variants differ in MR, NV and W and are chosen by
 * measurement (clae tune). */

/* One work-item writes one k-row of a panel: MR (or NR) contiguous floats. */
__kernel void gemm_pack_a(__global const float *a, uint a_off, uint lda, uint trans, uint m, uint k, uint mr,
                          __global float *ap, uint ap_off, uint rows)
{
    uint e = get_global_id(0);
    if (e >= rows) return;
    uint ib = e / k, kk = e - ib * k;
    __global float *dst = ap + ap_off + (size_t)e * mr;
    for (uint r = 0; r < mr; r++) {
        uint i = ib * mr + r;
        dst[r] = i >= m ? 0.0f : trans ? a[a_off + kk * lda + i] : a[a_off + i * lda + kk];
    }
}

__kernel void gemm_pack_b(__global const float *b, uint b_off, uint ldb, uint trans, uint k, uint n, uint nr,
                          __global float *bp, uint bp_off, uint rows)
{
    uint e = get_global_id(0);
    if (e >= rows) return;
    uint jb = e / k, kk = e - jb * k;
    __global float *dst = bp + bp_off + (size_t)e * nr;
    for (uint c = 0; c < nr; c++) {
        uint j = jb * nr + c;
        dst[c] = j >= n ? 0.0f : trans ? b[b_off + j * ldb + kk] : b[b_off + kk * ldb + j];
    }
}

#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)

/* One variant: MR rows by NV vectors of W floats. */
#define GEMM_TILE_KERNEL(NAME, MR, NV, W)                                                                \
    __kernel void NAME(__global const float *panels, uint ap_off, uint bp_off, uint k, __global float *c, \
                       uint c_off, uint ldc, uint m, uint n, float alpha, float beta)                   \
    {                                                                                                    \
        const uint ib = get_global_id(0), jb = get_global_id(1);                                         \
        if (ib * MR >= m || jb * (NV * W) >= n) return;                                                  \
        __global const float *pa = panels + ap_off + (size_t)ib * k * MR;                                             \
        __global const float *pb = panels + bp_off + (size_t)jb * k * (NV * W);                                       \
        GEMM_CAT(float, W) acc[MR][NV];                                                                  \
        _Pragma("unroll") for (int r = 0; r < MR; r++)                                                                     \
            _Pragma("unroll") for (int v = 0; v < NV; v++) acc[r][v] = (GEMM_CAT(float, W))(0.0f);                         \
        for (uint kk = 0; kk < k; kk++) {                                            \
            GEMM_CAT(float, W) bv[NV];                                                                   \
            _Pragma("unroll") for (int v = 0; v < NV; v++) bv[v] = GEMM_CAT(vload, W)(v, pb);                              \
            _Pragma("unroll") for (int r = 0; r < MR; r++) {                                                               \
                const float av = pa[r];                                                                  \
                _Pragma("unroll") for (int v = 0; v < NV; v++) acc[r][v] = fma((GEMM_CAT(float, W))(av), bv[v], acc[r][v]); \
            }                                                                                            \
            pa += MR;                                                                                    \
            pb += NV * W;                                                                                \
        }                                                                                                \
        const uint i0 = ib * MR, j0 = jb * (NV * W);                                                     \
        const bool full_cols = j0 + NV * W <= n;                                                         \
        _Pragma("unroll") for (int r = 0; r < MR; r++) {                                                                   \
            if (i0 + r >= m) break;                                                                      \
            __global float *row = c + c_off + (size_t)(i0 + r) * ldc + j0;                               \
            _Pragma("unroll") for (int v = 0; v < NV; v++) {                                                               \
                GEMM_CAT(float, W) out = alpha * acc[r][v];                                              \
                if (full_cols) {                                                                         \
                    if (beta != 0.0f) out += beta * GEMM_CAT(vload, W)(v, row);                          \
                    GEMM_CAT(vstore, W)(out, v, row);                                                    \
                } else {                                                                                 \
                    float tmp[W];                                                                        \
                    GEMM_CAT(vstore, W)(out, 0, tmp);                                                    \
                    _Pragma("unroll") for (int e = 0; e < W; e++) {                                                        \
                        uint j = v * W + e;                                                              \
                        if (j0 + j < n) row[j] = beta != 0.0f ? tmp[e] + beta * row[j] : tmp[e];         \
                    }                                                                                    \
                }                                                                                        \
            }                                                                                            \
        }                                                                                                \
    }

GEMM_TILE_KERNEL(gemm_tile_4x1x16, 4, 1, 16)
GEMM_TILE_KERNEL(gemm_tile_8x1x16, 8, 1, 16)
GEMM_TILE_KERNEL(gemm_tile_4x2x16, 4, 2, 16)
GEMM_TILE_KERNEL(gemm_tile_6x2x16, 6, 2, 16)
GEMM_TILE_KERNEL(gemm_tile_8x2x16, 8, 2, 16)
GEMM_TILE_KERNEL(gemm_tile_4x2x8, 4, 2, 8)
GEMM_TILE_KERNEL(gemm_tile_6x2x8, 6, 2, 8)
GEMM_TILE_KERNEL(gemm_tile_8x1x8, 8, 1, 8)
