/* Convolution helpers around one GEMM over the whole batch.
 * col layout: [C*KH*KW rows] x [N*HO*WO columns], so
 *   conv forward:   tmp[Cout, N*P] = W[Cout, C*K*K] . col,  then tmp -> NCHW
 *   conv backward:  dW += g[Cout, N*P] . col^T;  dcol = W^T . g;  dx = col2im(dcol)
 * and the transposed convolution uses the same two kernels the other way round.
 * col2im gathers (each input value sums the columns that read it), so no atomics. */

/* One work-item per column row (r, n, oh): WO contiguous values, so the index
 * arithmetic (divisions are costly on CPUs) is paid once per row, not per value. */
__kernel void im2col(__global float *col, const uint col_off, __global const float *x,
                     const uint x_off, const uint N, const uint C, const uint H, const uint W,
                     const uint KH, const uint KW, const uint SH, const uint SW, const uint PH,
                     const uint PW, const uint DH, const uint DW, const uint HO, const uint WO)
{
    uint gid = get_global_id(0);
    if (gid >= C * KH * KW * N * HO) return;
    uint oh = gid % HO, n = (gid / HO) % N, r = gid / (HO * N);
    uint c = r / (KH * KW), k = r % (KH * KW), i = k / KW, j = k % KW;
    __global float *dst = col + col_off + ((ulong)r * N + n) * HO * WO + oh * WO;
    int h = (int)(oh * SH + i * DH) - (int)PH;
    if (h < 0 || h >= (int)H) {
        for (uint ow = 0; ow < WO; ow++) dst[ow] = 0.0f;
        return;
    }
    __global const float *src = x + x_off + ((ulong)n * C + c) * H * W + (uint)h * W;
    int w = (int)(j * DW) - (int)PW;
    for (uint ow = 0; ow < WO; ow++, w += (int)SW) dst[ow] = (w >= 0 && w < (int)W) ? src[w] : 0.0f;
}

/* x[n, c, h, w] = act(sum of the col entries that im2col would have filled
 * from it + b[c]) (b may be null, act none: a convolution's input gradient).
 * One work-item per image row (n, c, h), looping over w; the bias and the
 * activation are applied while the row is in cache, not in a pass of their own. */
__kernel void col2im(__global float *x, const uint x_off, __global const float *col,
                     const uint col_off, const uint N, const uint C, const uint H, const uint W,
                     const uint KH, const uint KW, const uint SH, const uint SW, const uint PH,
                     const uint PW, const uint DH, const uint DW, const uint HO, const uint WO,
                     __global const float *b, const uint b_off, const int act, const float slope)
{
    uint gid = get_global_id(0);
    if (gid >= N * C * H) return;
    uint h = gid % H, c = (gid / H) % C, n = gid / (H * C);
    ulong P = (ulong)HO * WO, NP = (ulong)N * P;
    __global float *dst = x + x_off + (ulong)gid * W;
    for (uint w = 0; w < W; w++) dst[w] = 0.0f;
    for (uint i = 0; i < KH; i++) {
        int hh = (int)(h + PH) - (int)(i * DH);
        if (hh < 0 || hh % (int)SH) continue;
        uint oh = (uint)hh / SH;
        if (oh >= HO) continue;
        for (uint j = 0; j < KW; j++) {
            __global const float *src = col + col_off + ((ulong)(c * KH + i) * KW + j) * NP +
                                        (ulong)n * P + oh * WO;
            /* w = ow * SW - PW + j * DW for the kernel positions ow that reach this row */
            for (uint ow = 0; ow < WO; ow++) {
                int w = (int)(ow * SW + j * DW) - (int)PW;
                if (w >= 0 && w < (int)W) dst[w] += src[ow];
            }
        }
    }
    if (!b && act == ACT_NONE) return;
    const float bias = b ? b[b_off + c] : 0.0f;
    for (uint w = 0; w < W; w++) dst[w] = act_apply(act, dst[w] + bias, slope);
}

/* dst = src with the two leading axes swapped: to_ncp = 1 reads [C, N, P] and
 * writes [N, C, P]; to_ncp = 0 the other way. Indexed by dst position. */
__kernel void permute_cn(__global float *dst, const uint dst_off, __global const float *src,
                         const uint src_off, const uint N, const uint C, const uint P,
                         const int to_ncp)
{
    uint gid = get_global_id(0); /* 32-bit: a 64-bit division costs tens of cycles on CPUs */
    if (gid >= N * C * P) return;
    uint p = gid % P, q = gid / P;
    uint a = q / (to_ncp ? C : N), b = q % (to_ncp ? C : N); /* dst is [a][b][p] */
    uint s = (b * (to_ncp ? N : C) + a) * P + p;
    dst[dst_off + gid] = src[src_off + s];
}

/* y[n, c, p] = act(y[n, c, p] + b[c]); b may be null. Uses act.cl. */
__kernel void channel_bias_act(__global float *y, const uint y_off, __global const float *b,
                               const uint b_off, const uint N, const uint C, const uint P,
                               const int kind, const float slope)
{
    uint gid = get_global_id(0); /* 32-bit: a 64-bit division costs tens of cycles on CPUs */
    if (gid >= N * C * P) return;
    uint c = (gid / P) % C;
    float v = y[y_off + gid] + (b ? b[b_off + c] : 0.0f);
    y[y_off + gid] = act_apply(kind, v, slope);
}

/* db[c] += sum over n, p of g[n, c, p]: one work-item per channel. */
__kernel void channel_sum(__global float *db, const uint db_off, __global const float *g,
                          const uint g_off, const uint N, const uint C, const uint P)
{
    uint c = get_global_id(0);
    if (c >= C) return;
    /* eight lanes: strict math keeps compilers from splitting the sum themselves */
    float8 v = (float8)(0.0f);
    float s = 0.0f;
    for (uint n = 0; n < N; n++) {
        __global const float *row = g + g_off + ((size_t)n * C + c) * P;
        uint p = 0;
        for (; p + 8 <= P; p += 8) v += vload8(0, row + p);
        for (; p < P; p++) s += row[p];
    }
    db[db_off + c] += s + ((v.s0 + v.s1) + (v.s2 + v.s3)) + ((v.s4 + v.s5) + (v.s6 + v.s7));
}

/* wt[ci][co][i][j] = w[co][ci][K-1-i][K-1-j]: the weights of the stride-1
 * convolution that is this one's input gradient (a "full" convolution of the
 * output gradient). */
__kernel void conv_flip_weights(__global float *wt, __global const float *w, const uint w_off,
                                const uint CO, const uint CI, const uint KH, const uint KW)
{
    uint gid = get_global_id(0);
    if (gid >= CO * CI * KH * KW) return;
    uint j = gid % KW, i = (gid / KW) % KH, co = (gid / (KW * KH)) % CO, ci = gid / (KW * KH * CO);
    wt[gid] = w[w_off + ((co * CI + ci) * KH + (KH - 1 - i)) * KW + (KW - 1 - j)];
}

/* The weights of a stride-1 convolution by tap, for conv_rows_ch (gemm.cl): wt[tap][m], m
 * over MP lanes (the output channels, zero from M on). flip = 0: the convolution itself, M =
 * CO, tap = (ci, i, j), wt = w[m][ci][i][j]; flip = 1: its input gradient, M = CI, tap = (co,
 * i, j), wt = w[co][m][KH-1-i][KW-1-j] (conv_flip_weights' weights, transposed). */
__kernel void conv_weights_by_tap(__global float *wt, __global const float *w, const uint w_off,
                                  const uint CO, const uint CI, const uint KH, const uint KW,
                                  const uint MP, const uint flip)
{
    const uint M = flip ? CI : CO, taps = (flip ? CO : CI) * KH * KW, gid = get_global_id(0);
    if (gid >= taps * MP) return;
    const uint m = gid % MP, tap = gid / MP, j = tap % KW, i = tap / KW % KH, c = tap / (KW * KH);
    float v = 0.0f;
    if (m < M)
        v = flip ? w[w_off + ((c * CI + m) * KH + (KH - 1 - i)) * KW + (KW - 1 - j)]
                 : w[w_off + ((m * CI + c) * KH + i) * KW + j];
    wt[gid] = v;
}

/* xp[plane][yy][xx] = x[plane][yy - PH][xx - PW], 0 outside the image, and TAIL zeros after
 * the last plane: the zero-padded copy conv_rows (gemm.cl) reads with plain vector loads, whose
 * reads past a plane must meet numbers (a zero weight times a stale NaN is NaN). One
 * work-item per padded row. */
__kernel void conv_pad(__global float *xp, __global const float *x, const uint x_off, const uint NC,
                       const uint H, const uint W, const uint PH, const uint PW, const uint Hp,
                       const uint Wp, const uint TAIL)
{
    uint gid = get_global_id(0);
    if (gid >= NC * Hp) return;
    uint yy = gid % Hp, plane = gid / Hp;
    __global float *dst = xp + (size_t)gid * Wp;
    if (gid == NC * Hp - 1)
        for (uint i = 0; i < TAIL; i++) dst[Wp + i] = 0.0f;
    int sy = (int)yy - (int)PH;
    uint i = 0;
    if (sy < 0 || sy >= (int)H) {
        for (; i + 8 <= Wp; i += 8) vstore8((float8)(0.0f), 0, dst + i);
        for (; i < Wp; i++) dst[i] = 0.0f;
        return;
    }
    __global const float *src = x + x_off + ((size_t)plane * H + (uint)sy) * W;
    for (uint j = 0; j < PW; j++) dst[j] = 0.0f;
    /* rows of a few dozen floats: vectors, not PoCL's loop across work-items; a row that ends
     * mid-vector copies its last 8 (4) again, the same values */
    if (W >= 8) {
        for (; i + 8 <= W; i += 8) vstore8(vload8(0, src + i), 0, dst + PW + i);
        if (i < W) vstore8(vload8(0, src + W - 8), 0, dst + PW + W - 8);
    } else if (W >= 4) {
        vstore4(vload4(0, src), 0, dst + PW);
        vstore4(vload4(0, src + W - 4), 0, dst + PW + W - 4);
    } else {
        for (; i < W; i++) dst[PW + i] = src[i];
    }
    for (i = PW + W; i < Wp; i++) dst[i] = 0.0f;
}

/* The weight gradient of a stride-1 convolution with few grid channels (auto runs those
 * direct), on padded planes: dw[cg][ci][tap] += sum over n and q of
 * gp[n][cg][q] xp[n][ci][q + off(tap)], off(ky, kx) = ky DH Wp + kx DW, where xp is the image
 * padded to Hp x Wp (conv_pad) and gp the grid in HO rows of Wp (columns from WO on zero):
 * each tap is then one dot product of two contiguous runs of HO Wp floats per image, read
 * with vector loads. One work-item per (cg, ci, block of 9 taps), its taps' partial sums in
 * 9 float8 registers sharing each load of gp; taps past KK repeat the last one, unstored.
 * xp must have (KW - 1) DW readable floats past its last plane. */
__kernel void conv_weight_grad_flat(__global float *dw, const uint dw_off,
                                    __global const float *gp, __global const float *xp,
                                    const uint N, const uint CI, const uint CG, const uint Hp,
                                    const uint Wp, const uint HO, const uint KH, const uint KW,
                                    const uint DH, const uint DW, const uint blocks)
{
    uint gid = get_global_id(0);
    if (gid >= CG * CI * blocks) return;
    const uint blk = gid % blocks, ci = gid / blocks % CI, cg = gid / (blocks * CI);
    const uint KK = KH * KW, t0 = blk * 9, L = HO * Wp, L8 = L & ~7u;
    int off[9];
    float8 acc[9];
    float tail[9];
#pragma unroll
    for (uint t = 0; t < 9; t++) {
        uint tap = min(t0 + t, KK - 1), ky = tap / KW, kx = tap - ky * KW;
        off[t] = (int)(ky * DH * Wp + kx * DW);
        acc[t] = (float8)(0.0f), tail[t] = 0.0f;
    }
    for (uint n = 0; n < N; n++) {
        __global const float *g = gp + ((size_t)n * CG + cg) * L;
        __global const float *x = xp + ((size_t)n * CI + ci) * Hp * Wp;
        for (uint q = 0; q < L8; q += 8) {
            const float8 gv = vload8(0, g + q);
#pragma unroll
            for (uint t = 0; t < 9; t++)
                acc[t] = fma(gv, vload8(0, x + q + off[t]), acc[t]);
        }
        for (uint q = L8; q < L; q++)
            for (uint t = 0; t < 9; t++) tail[t] += g[q] * x[q + off[t]];
    }
    __global float *out = dw + dw_off + ((size_t)cg * CI + ci) * KK + t0;
#pragma unroll
    for (uint t = 0; t < 9; t++) {
        if (t0 + t >= KK) break;
        float8 a = acc[t];
        float4 h = a.lo + a.hi;
        out[t] += (h.x + h.y) + (h.z + h.w) + tail[t];
    }
}
