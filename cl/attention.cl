/* Self-attention over spatial positions (SAGAN), for bottlenecks:
 *   q = Wq x + bq (CK x P), k = Wk x + bk (CK x P), v = Wv x + bv (C x P)   (1x1 projections)
 *   beta[i, :] = softmax_j(sum_c q[c, i] k[c, j]);  o[c, i] = sum_j v[c, j] beta[i, j]
 *   y = x + gamma o
 * Backward: dgamma = sum dy o; do = gamma dy; dv[c, j] = sum_i do[c, i] beta[i, j];
 *   dbeta[i, j] = sum_c do[c, i] v[c, j]; ds = beta (dbeta - sum_j beta dbeta);
 *   dq[c, i] = sum_j ds[i, j] k[c, j]; dk[c, j] = sum_i ds[i, j] q[c, i].
 * One work-item per output value or softmax row; no barriers. */

__kernel void attn_logits(__global float *s, const uint s_off, __global const float *q,
                          const uint q_off, __global const float *k, const uint k_off, const uint N,
                          const uint CK, const uint P)
{
    uint gid = get_global_id(0);
    if (gid >= N * P * P) return;
    uint j = gid % P, i = (gid / P) % P, n = gid / (P * P);
    float acc = 0.0f;
    for (uint c = 0; c < CK; c++)
        acc += q[q_off + (n * CK + c) * P + i] * k[k_off + (n * CK + c) * P + j];
    s[s_off + gid] = acc;
}

/* In place: each row of P logits becomes its softmax (max subtracted first). */
__kernel void attn_softmax(__global float *s, const uint s_off, const uint rows, const uint P)
{
    uint r = get_global_id(0);
    if (r >= rows) return;
    __global float *row = s + s_off + (ulong)r * P;
    float m = row[0], sum = 0.0f;
    for (uint j = 1; j < P; j++) m = fmax(m, row[j]);
    for (uint j = 0; j < P; j++) sum += (row[j] = exp(row[j] - m));
    for (uint j = 0; j < P; j++) row[j] /= sum;
}

/* o[n, c, i] = sum_j v[n, c, j] beta[n, i, j] */
__kernel void attn_apply(__global float *o, const uint o_off, __global const float *v,
                         const uint v_off, __global const float *beta, const uint b_off,
                         const uint N, const uint C, const uint P)
{
    uint gid = get_global_id(0);
    if (gid >= N * C * P) return;
    uint i = gid % P, n = gid / (C * P);
    __global const float *vr = v + v_off + (gid / P) * P,
                         *br = beta + b_off + ((ulong)n * P + i) * P;
    float acc = 0.0f;
    for (uint j = 0; j < P; j++) acc += vr[j] * br[j];
    o[o_off + gid] = acc;
}

/* y = x + gamma o */
__kernel void attn_residual(__global float *y, const uint y_off, __global const float *x,
                            const uint x_off, __global const float *o, const uint o_off,
                            __global const float *gamma, const uint g_off, const uint n)
{
    uint i = get_global_id(0);
    if (i < n) y[y_off + i] = x[x_off + i] + gamma[g_off] * o[o_off + i];
}

/* dgamma += sum dy o (one work-item: the bottleneck is small) */
__kernel void attn_dgamma(__global float *dgamma, const uint dg_off, __global const float *dy,
                          const uint dy_off, __global const float *o, const uint o_off,
                          const uint n)
{
    if (get_global_id(0) != 0) return;
    float acc = 0.0f;
    for (uint i = 0; i < n; i++) acc += dy[dy_off + i] * o[o_off + i];
    dgamma[dg_off] += acc;
}

/* dv[n, c, j] = gamma sum_i dy[n, c, i] beta[n, i, j] */
__kernel void attn_dv(__global float *dv, const uint dv_off, __global const float *dy,
                      const uint dy_off, __global const float *beta, const uint b_off,
                      __global const float *gamma, const uint g_off, const uint N, const uint C,
                      const uint P)
{
    uint gid = get_global_id(0);
    if (gid >= N * C * P) return;
    uint j = gid % P, n = gid / (C * P);
    __global const float *dr = dy + dy_off + (gid / P) * P;
    float acc = 0.0f;
    for (uint i = 0; i < P; i++) acc += dr[i] * beta[b_off + ((ulong)n * P + i) * P + j];
    dv[dv_off + gid] = gamma[g_off] * acc;
}

/* ds[n, i, j] = gamma sum_c dy[n, c, i] v[n, c, j] (dbeta, before the softmax backward) */
__kernel void attn_dbeta(__global float *ds, const uint ds_off, __global const float *dy,
                         const uint dy_off, __global const float *v, const uint v_off,
                         __global const float *gamma, const uint g_off, const uint N, const uint C,
                         const uint P)
{
    uint gid = get_global_id(0);
    if (gid >= N * P * P) return;
    uint j = gid % P, i = (gid / P) % P, n = gid / (P * P);
    float acc = 0.0f;
    for (uint c = 0; c < C; c++)
        acc += dy[dy_off + (n * C + c) * P + i] * v[v_off + (n * C + c) * P + j];
    ds[ds_off + gid] = gamma[g_off] * acc;
}

/* In place, per row: ds = beta (dbeta - sum_j beta dbeta) */
__kernel void attn_softmax_backward(__global float *ds, const uint ds_off,
                                    __global const float *beta, const uint b_off, const uint rows,
                                    const uint P)
{
    uint r = get_global_id(0);
    if (r >= rows) return;
    __global float *d = ds + ds_off + (ulong)r * P;
    __global const float *b = beta + b_off + (ulong)r * P;
    float dot = 0.0f;
    for (uint j = 0; j < P; j++) dot += b[j] * d[j];
    for (uint j = 0; j < P; j++) d[j] = b[j] * (d[j] - dot);
}

/* transpose_s = 0: out[n, c, i] = sum_j ds[n, i, j] other[n, c, j]   (dq from k)
 * transpose_s = 1: out[n, c, j] = sum_i ds[n, i, j] other[n, c, i]   (dk from q) */
__kernel void attn_dqk(__global float *out, const uint out_off, __global const float *ds,
                       const uint ds_off, __global const float *other, const uint ot_off,
                       const uint N, const uint CK, const uint P, const int transpose_s)
{
    uint gid = get_global_id(0);
    if (gid >= N * CK * P) return;
    uint a = gid % P, n = gid / (CK * P);
    __global const float *orow = other + ot_off + (gid / P) * P;
    __global const float *s = ds + ds_off + (ulong)n * P * P;
    float acc = 0.0f;
    for (uint b = 0; b < P; b++) acc += (transpose_s ? s[b * P + a] : s[a * P + b]) * orow[b];
    out[out_off + gid] = acc;
}
