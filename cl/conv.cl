/* Convolution helpers around one GEMM over the whole batch.
 * col layout: [C*KH*KW rows] x [N*HO*WO columns], so
 *   conv forward:   tmp[Cout, N*P] = W[Cout, C*K*K] . col,  then tmp -> NCHW
 *   conv backward:  dW += g[Cout, N*P] . col^T;  dcol = W^T . g;  dx = col2im(dcol)
 * and the transposed convolution uses the same two kernels the other way round.
 * col2im gathers (each input value sums the columns that read it), so no atomics. */

__kernel void im2col(__global float *col, const uint col_off, __global const float *x, const uint x_off,
                     const uint N, const uint C, const uint H, const uint W, const uint KH, const uint KW,
                     const uint SH, const uint SW, const uint PH, const uint PW, const uint DH, const uint DW,
                     const uint HO, const uint WO)
{
    ulong gid = get_global_id(0);
    ulong P = (ulong)HO * WO, NP = (ulong)N * P;
    if (gid >= (ulong)C * KH * KW * NP) return;
    uint r = (uint)(gid / NP);
    ulong j = gid % NP;
    uint n = (uint)(j / P), p = (uint)(j % P);
    uint oh = p / WO, ow = p % WO;
    uint c = r / (KH * KW), k = r % (KH * KW);
    int h = (int)(oh * SH + (k / KW) * DH) - (int)PH;
    int w = (int)(ow * SW + (k % KW) * DW) - (int)PW;
    float v = 0.0f;
    if (h >= 0 && h < (int)H && w >= 0 && w < (int)W) v = x[x_off + (((ulong)n * C + c) * H + (uint)h) * W + (uint)w];
    col[col_off + gid] = v;
}

/* x[n, c, h, w] = sum of the col entries that im2col would have filled from it. */
__kernel void col2im(__global float *x, const uint x_off, __global const float *col, const uint col_off,
                     const uint N, const uint C, const uint H, const uint W, const uint KH, const uint KW,
                     const uint SH, const uint SW, const uint PH, const uint PW, const uint DH, const uint DW,
                     const uint HO, const uint WO)
{
    ulong gid = get_global_id(0);
    if (gid >= (ulong)N * C * H * W) return;
    uint w = (uint)(gid % W), h = (uint)((gid / W) % H), c = (uint)((gid / ((ulong)W * H)) % C);
    uint n = (uint)(gid / ((ulong)W * H * C));
    ulong P = (ulong)HO * WO, NP = (ulong)N * P;
    float s = 0.0f;
    for (uint i = 0; i < KH; i++) {
        int hh = (int)(h + PH) - (int)(i * DH);
        if (hh < 0 || hh % (int)SH) continue;
        uint oh = (uint)hh / SH;
        if (oh >= HO) continue;
        for (uint j = 0; j < KW; j++) {
            int ww = (int)(w + PW) - (int)(j * DW);
            if (ww < 0 || ww % (int)SW) continue;
            uint ow = (uint)ww / SW;
            if (ow >= WO) continue;
            s += col[col_off + ((ulong)(c * KH + i) * KW + j) * NP + (ulong)n * P + oh * WO + ow];
        }
    }
    x[x_off + gid] = s;
}

/* dst = src with the two leading axes swapped: to_ncp = 1 reads [C, N, P] and
 * writes [N, C, P]; to_ncp = 0 the other way. Indexed by dst position. */
__kernel void permute_cn(__global float *dst, const uint dst_off, __global const float *src, const uint src_off,
                         const uint N, const uint C, const uint P, const int to_ncp)
{
    ulong gid = get_global_id(0);
    if (gid >= (ulong)N * C * P) return;
    uint p = (uint)(gid % P);
    ulong q = gid / P;
    uint a = (uint)(q / (to_ncp ? C : N)), b = (uint)(q % (to_ncp ? C : N)); /* dst is [a][b][p] */
    ulong s = ((ulong)b * (to_ncp ? N : C) + a) * P + p;
    dst[dst_off + gid] = src[src_off + s];
}

/* y[n, c, p] = act(y[n, c, p] + b[c]); b may be null. Uses act.cl. */
__kernel void channel_bias_act(__global float *y, const uint y_off, __global const float *b, const uint b_off,
                               const uint N, const uint C, const uint P, const int kind, const float slope)
{
    ulong gid = get_global_id(0);
    if (gid >= (ulong)N * C * P) return;
    uint c = (uint)((gid / P) % C);
    float v = y[y_off + gid] + (b ? b[b_off + c] : 0.0f);
    y[y_off + gid] = act_apply(kind, v, slope);
}

/* db[c] += sum over n, p of g[n, c, p]: one work-item per channel. */
__kernel void channel_sum(__global float *db, const uint db_off, __global const float *g, const uint g_off,
                          const uint N, const uint C, const uint P)
{
    uint c = get_global_id(0);
    if (c >= C) return;
    float s = 0.0f;
    for (uint n = 0; n < N; n++)
        for (uint p = 0; p < P; p++) s += g[g_off + ((ulong)n * C + c) * P + p];
    db[db_off + c] += s;
}
