/* clae's own SGEMM for CPU devices: C = alpha * op(A) * op(B) + beta * C, row-major.
 *
 * Why: PoCL vectorises explicit vector types well, and CLBlast's tiled kernels
 * (built for GPUs, untuned for PoCL) poorly. The micro-kernel keeps an
 * MR x NR register tile of floatW accumulators (NR = NV * W), with no local
 * memory or barriers; one work-item computes one tile, and the work-group runs
 * down a column of tiles so their B panel stays in cache.
 *  - B is first packed (gemm_pack_b) into zero-padded panels
 *      Bp[jb][k][NR] = op(B)[k][jb*NR + c],
 *    which folds its transpose away and turns the k loop into one contiguous
 *    stream (a row stride like 4 KiB would make every k step hit the same
 *    cache sets).
 *  - A is read in place: each k step needs MR scalars, from MR rows (A) or
 *    one contiguous run (A transposed); rows past m are clamped to the last
 *    one and their results dropped.
 * Variants differ in MR, NV and W and are chosen by measurement (clae tune). */

/* One work-item packs 16 k-rows of one panel. Reads are vector loads along
 * B's rows: NR wide (B as stored) or 16 deep (B transposed, scattered into the
 * panel's columns). */
__kernel void gemm_pack_b(__global const float *b, uint b_off, uint ldb, uint trans, uint k, uint n, uint nr,
                          __global float *bp, uint bp_off, uint kblocks, uint items)
{
    uint e = get_global_id(0);
    if (e >= items) return;
    uint jb = e / kblocks, k0 = (e - jb * kblocks) * 16, j0 = jb * nr;
    uint kn = min(16u, k - k0);
    __global float *dst = bp + bp_off + ((size_t)jb * k + k0) * nr;
    __global const float *src = b + b_off;
    bool full_cols = j0 + nr <= n;
    if (!trans) {
        for (uint t = 0; t < kn; t++) {
            __global const float *row = src + (size_t)(k0 + t) * ldb + j0;
            if (full_cols)
                for (uint v = 0; v < nr / 8; v++) vstore8(vload8(v, row), v, dst + t * nr);
            else
                for (uint c = 0; c < nr; c++) dst[t * nr + c] = j0 + c < n ? row[c] : 0.0f;
        }
    } else {
        for (uint c = 0; c < nr; c++) {
            uint j = j0 + c;
            __global const float *col = src + (size_t)j * ldb + k0; /* op(B)[k0.., j] */
            if (j >= n) {
                for (uint t = 0; t < kn; t++) dst[t * nr + c] = 0.0f;
            } else if (kn == 16) {
                float16 v = vload16(0, col);
                float tmp[16];
                vstore16(v, 0, tmp);
                for (uint t = 0; t < 16; t++) dst[t * nr + c] = tmp[t];
            } else {
                for (uint t = 0; t < kn; t++) dst[t * nr + c] = col[t];
            }
        }
    }
}

#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)

/* One variant: MR rows by NV vectors of W floats. A's element (i, kk) sits at
 * a[i * a_rs + kk * a_ks]: (lda, 1) as stored, (1, lda) transposed. */
#define GEMM_TILE_KERNEL(NAME, MR, NV, W)                                                                   \
    __kernel void NAME(__global const float *a, uint a_off, uint a_rs, uint a_ks, __global const float *bp, \
                       uint bp_off, uint k, __global float *c, uint c_off, uint ldc, uint m, uint n,         \
                       float alpha, float beta)                                                              \
    {                                                                                                        \
        const uint ib = get_global_id(0), jb = get_global_id(1);                                             \
        if (ib * MR >= m || jb * (NV * W) >= n) return;                                                      \
        const uint i0 = ib * MR, j0 = jb * (NV * W);                                                         \
        __global const float *pa[MR];                                                                        \
        _Pragma("unroll") for (int r = 0; r < MR; r++) pa[r] = a + a_off + (size_t)min(i0 + r, m - 1) * a_rs; \
        __global const float *pb = bp + bp_off + (size_t)jb * k * (NV * W);                                  \
        GEMM_CAT(float, W) acc[MR][NV];                                                                      \
        _Pragma("unroll") for (int r = 0; r < MR; r++)                                                       \
            _Pragma("unroll") for (int v = 0; v < NV; v++) acc[r][v] = (GEMM_CAT(float, W))(0.0f);           \
        for (uint kk = 0; kk < k; kk++) {                                                                    \
            GEMM_CAT(float, W) bv[NV];                                                                       \
            _Pragma("unroll") for (int v = 0; v < NV; v++) bv[v] = GEMM_CAT(vload, W)(v, pb);                \
            const size_t ka = (size_t)kk * a_ks;                                                             \
            _Pragma("unroll") for (int r = 0; r < MR; r++) {                                                 \
                const float av = pa[r][ka];                                                                  \
                _Pragma("unroll") for (int v = 0; v < NV; v++)                                               \
                    acc[r][v] = fma((GEMM_CAT(float, W))(av), bv[v], acc[r][v]);                             \
            }                                                                                                \
            pb += NV * W;                                                                                    \
        }                                                                                                    \
        const bool full_cols = j0 + NV * W <= n;                                                             \
        _Pragma("unroll") for (int r = 0; r < MR; r++) {                                                     \
            if (i0 + r >= m) break;                                                                          \
            __global float *row = c + c_off + (size_t)(i0 + r) * ldc + j0;                                   \
            _Pragma("unroll") for (int v = 0; v < NV; v++) {                                                 \
                GEMM_CAT(float, W) out = alpha * acc[r][v];                                                  \
                if (full_cols) {                                                                             \
                    if (beta != 0.0f) out += beta * GEMM_CAT(vload, W)(v, row);                              \
                    GEMM_CAT(vstore, W)(out, v, row);                                                        \
                } else {                                                                                     \
                    float tmp[W];                                                                            \
                    GEMM_CAT(vstore, W)(out, 0, tmp);                                                        \
                    for (int e = 0; e < W; e++) {                                                            \
                        uint j = v * W + e;                                                                  \
                        if (j0 + j < n) row[j] = beta != 0.0f ? tmp[e] + beta * row[j] : tmp[e];             \
                    }                                                                                        \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    }

GEMM_TILE_KERNEL(gemm_tile_4x1x16, 4, 1, 16)
GEMM_TILE_KERNEL(gemm_tile_8x1x16, 8, 1, 16)
GEMM_TILE_KERNEL(gemm_tile_4x2x16, 4, 2, 16)
GEMM_TILE_KERNEL(gemm_tile_6x2x16, 6, 2, 16)
GEMM_TILE_KERNEL(gemm_tile_8x2x16, 8, 2, 16)
GEMM_TILE_KERNEL(gemm_tile_4x2x8, 4, 2, 8)
GEMM_TILE_KERNEL(gemm_tile_6x2x8, 6, 2, 8)
GEMM_TILE_KERNEL(gemm_tile_8x1x8, 8, 1, 8)
