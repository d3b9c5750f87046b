/* Direct convolution: no im2col matrix, every value computed where it lands.
 * One geometry serves conv and conv-transpose: an image (CI x H x W) and a grid
 * of kernel positions (CG x HO x WO) related by kernel K, stride S, padding P,
 * dilation D, with weights w[CG][CI][K][K] (nn.Conv2d: grid = output; for
 * nn.ConvTranspose2d: grid = input, image = output, and w has the same layout).
 *   grid_from_image:  conv forward (and conv-transpose input gradient)
 *   image_from_grid:  conv input gradient (and conv-transpose forward)
 *   weight_grad:      dw += grid . image over the batch, for both
 * GPUs: one work-item per output value. CPUs (CLAE_CPU): one work-item per
 * output row, with branch-free inner loops over the valid column range, which
 * PoCL vectorizes and where index divisions are paid once per row. */

#ifndef CLAE_CPU
#define CLAE_CPU 0
#endif

/* Columns o in [*lo, *hi) with 0 <= o * S + x0 < W. */
void valid_cols(const int x0, const uint S, const uint W, const uint WO, uint *lo, uint *hi)
{
    int first = x0 < 0 ? (-x0 + (int)S - 1) / (int)S : 0;
    int last = ((int)W - 1 - x0) < 0 ? -1 : ((int)W - 1 - x0) / (int)S; /* inclusive */
    *lo = (uint)first;
    *hi = last + 1 < (int)WO ? (uint)(last + 1) : WO;
    if (*hi < *lo) *hi = *lo;
}

#if CLAE_CPU
__kernel void conv_grid_from_image(__global float *restrict grid, const uint g_off,
                                   __global const float *restrict image, const uint i_off,
                                   __global const float *restrict w, const uint w_off, const uint N,
                                   const uint CI, const uint H, const uint W, const uint CG,
                                   const uint HO, const uint WO, const uint K, const uint S,
                                   const uint P, const uint D)
{
    uint gid = get_global_id(0);
    if (gid >= N * CG * HO) return;
    uint oh = gid % HO, cg = (gid / HO) % CG, n = gid / (HO * CG);
    __global float *out = grid + g_off + (ulong)gid * WO;
    for (uint o = 0; o < WO; o++) out[o] = 0.0f;
    for (uint ci = 0; ci < CI; ci++) {
        __global const float *img = image + i_off + ((ulong)n * CI + ci) * H * W;
        __global const float *wk = w + w_off + ((ulong)cg * CI + ci) * K * K;
        for (uint i = 0; i < K; i++) {
            int h = (int)(oh * S + i * D) - (int)P;
            if (h < 0 || h >= (int)H) continue;
            __global const float *row = img + (uint)h * W;
            for (uint j = 0; j < K; j++) {
                int x0 = (int)(j * D) - (int)P;
                uint lo, hi;
                valid_cols(x0, S, W, WO, &lo, &hi);
                float wv = wk[i * K + j];
                for (uint o = lo; o < hi; o++) out[o] += wv * row[(int)(o * S) + x0];
            }
        }
    }
}

__kernel void conv_image_from_grid(__global float *restrict image, const uint i_off,
                                   __global const float *restrict grid, const uint g_off,
                                   __global const float *restrict w, const uint w_off, const uint N,
                                   const uint CI, const uint H, const uint W, const uint CG,
                                   const uint HO, const uint WO, const uint K, const uint S,
                                   const uint P, const uint D)
{
    uint gid = get_global_id(0);
    if (gid >= N * CI * H) return;
    uint h = gid % H, ci = (gid / H) % CI, n = gid / (H * CI);
    __global float *out = image + i_off + (ulong)gid * W;
    for (uint x = 0; x < W; x++) out[x] = 0.0f;
    for (uint i = 0; i < K; i++) {
        int hh = (int)(h + P) - (int)(i * D);
        if (hh < 0 || hh % (int)S) continue;
        uint oh = (uint)hh / S;
        if (oh >= HO) continue;
        for (uint j = 0; j < K; j++) {
            int x0 = (int)(j * D) - (int)P; /* grid column o lands on image column o * S + x0 */
            uint lo, hi;
            valid_cols(x0, S, W, WO, &lo, &hi);
            for (uint cg = 0; cg < CG; cg++) {
                float wv = w[w_off + (((ulong)cg * CI + ci) * K + i) * K + j];
                __global const float *gp = grid + g_off + (((ulong)n * CG + cg) * HO + oh) * WO;
                for (uint o = lo; o < hi; o++) out[(int)(o * S) + x0] += wv * gp[o];
            }
        }
    }
}
#else

__kernel void conv_grid_from_image(__global float *grid, const uint g_off,
                                   __global const float *image, const uint i_off,
                                   __global const float *w, const uint w_off, const uint N,
                                   const uint CI, const uint H, const uint W, const uint CG,
                                   const uint HO, const uint WO, const uint K, const uint S,
                                   const uint P, const uint D)
{
    uint gid = get_global_id(0);
    if (gid >= N * CG * HO * WO) return;
    uint ow = gid % WO, oh = (gid / WO) % HO, cg = (gid / (WO * HO)) % CG, n = gid / (WO * HO * CG);
    float acc = 0.0f;
    for (uint ci = 0; ci < CI; ci++) {
        __global const float *img = image + i_off + ((ulong)n * CI + ci) * H * W;
        __global const float *wk = w + w_off + ((ulong)cg * CI + ci) * K * K;
        for (uint i = 0; i < K; i++) {
            int h = (int)(oh * S + i * D) - (int)P;
            if (h < 0 || h >= (int)H) continue;
            for (uint j = 0; j < K; j++) {
                int x = (int)(ow * S + j * D) - (int)P;
                if (x >= 0 && x < (int)W) acc += wk[i * K + j] * img[(uint)h * W + (uint)x];
            }
        }
    }
    grid[g_off + gid] = acc;
}

__kernel void conv_image_from_grid(__global float *image, const uint i_off,
                                   __global const float *grid, const uint g_off,
                                   __global const float *w, const uint w_off, const uint N,
                                   const uint CI, const uint H, const uint W, const uint CG,
                                   const uint HO, const uint WO, const uint K, const uint S,
                                   const uint P, const uint D)
{
    uint gid = get_global_id(0);
    if (gid >= N * CI * H * W) return;
    uint x = gid % W, h = (gid / W) % H, ci = (gid / (W * H)) % CI, n = gid / (W * H * CI);
    float acc = 0.0f;
    for (uint i = 0; i < K; i++) {
        int hh = (int)(h + P) - (int)(i * D);
        if (hh < 0 || hh % (int)S) continue;
        uint oh = (uint)hh / S;
        if (oh >= HO) continue;
        for (uint j = 0; j < K; j++) {
            int xx = (int)(x + P) - (int)(j * D);
            if (xx < 0 || xx % (int)S) continue;
            uint ow = (uint)xx / S;
            if (ow >= WO) continue;
            __global const float *gp = grid + g_off + (ulong)n * CG * HO * WO + oh * WO + ow;
            __global const float *wp = w + w_off + ((ulong)ci * K + i) * K + j;
            for (uint cg = 0; cg < CG; cg++)
                acc += wp[(ulong)cg * CI * K * K] * gp[(ulong)cg * HO * WO];
        }
    }
    image[i_off + gid] = acc;
}
#endif

/* Sum of a[o] * b[o * S] for o in [0, n): explicit float8 lanes when S = 1, as
 * strict math keeps compilers from vectorizing a reduction on their own. */
float dot_strided(__global const float *a, __global const float *b, const uint n, const uint S)
{
    float acc = 0.0f;
    uint o = 0;
    if (S == 1) {
        float8 v = (float8)(0.0f);
        for (; o + 8 <= n; o += 8) v += vload8(0, a + o) * vload8(0, b + o);
        acc = ((v.s0 + v.s1) + (v.s2 + v.s3)) + ((v.s4 + v.s5) + (v.s6 + v.s7));
    }
    for (; o < n; o++) acc += a[o] * b[o * S];
    return acc;
}

/* dw[cg, ci, i, j] += sum over n, oh, ow of grid[n, cg, oh, ow] * image[n, ci, oh S - P + i D, ow S
 * - P + j D]. */
__kernel void conv_weight_grad(__global float *dw, const uint dw_off, __global const float *grid,
                               const uint g_off, __global const float *image, const uint i_off,
                               const uint N, const uint CI, const uint H, const uint W,
                               const uint CG, const uint HO, const uint WO, const uint K,
                               const uint S, const uint P, const uint D)
{
    uint gid = get_global_id(0);
    if (gid >= CG * CI * K * K) return;
    uint j = gid % K, i = (gid / K) % K, ci = (gid / (K * K)) % CI, cg = gid / (K * K * CI);
    int x0 = (int)(j * D) - (int)P;
    uint lo, hi;
    valid_cols(x0, S, W, WO, &lo, &hi);
    float acc = 0.0f;
    for (uint n = 0; n < N; n++) {
        __global const float *gp = grid + g_off + ((ulong)n * CG + cg) * HO * WO;
        __global const float *img = image + i_off + ((ulong)n * CI + ci) * H * W;
        for (uint oh = 0; oh < HO; oh++) {
            int h = (int)(oh * S + i * D) - (int)P;
            if (h < 0 || h >= (int)H || hi == lo) continue;
            acc += dot_strided(gp + oh * WO + lo, img + (uint)h * W + (int)(lo * S) + x0, hi - lo,
                               S);
        }
    }
    dw[dw_off + gid] += acc;
}
