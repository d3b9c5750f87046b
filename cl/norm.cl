/* Batch normalisation over (N, H, W) per channel, PyTorch's nn.BatchNorm1d/2d:
 *   train: mean, biased var of the batch normalise; the running averages move by
 *          momentum toward the mean and the unbiased var (M / (M - 1));
 *   eval:  the running averages normalise.
 *   y = gamma (x - mean) / sqrt(var + eps) + beta
 *   backward (train): dx = gamma rstd / M (M dy - sum dy - xhat sum(dy xhat))
 *   (M values per channel: the batch's, or with train.sync_bn the global batch's
 *   of a job, whose statistics and sums the host combines over the ranks)
 *   backward (eval):  dx = gamma rstd dy
 * One work-item per channel for the sums (no barriers; eight float8 lanes, as
 * strict math keeps compilers from splitting a sum), elementwise otherwise.
 * stats holds [mean C][rstd C][sum dy C][sum dy xhat C]. */

float lane_sum(float8 v)
{
    return ((v.s0 + v.s1) + (v.s2 + v.s3)) + ((v.s4 + v.s5) + (v.s6 + v.s7));
}

/* Channel c's mean and sum of squared deviations over N rows of P values (two passes: no
 * cancellation). */
void channel_moments(__global const float *x, const uint x_off, const uint N, const uint C,
                     const uint P, const uint c, float *mean, float *m2)
{
    float8 s8 = (float8)(0.0f), q8 = (float8)(0.0f);
    float s = 0.0f, q = 0.0f;
    for (uint n = 0; n < N; n++) {
        __global const float *row = x + x_off + ((size_t)n * C + c) * P;
        uint p = 0;
        for (; p + 8 <= P; p += 8) s8 += vload8(0, row + p);
        for (; p < P; p++) s += row[p];
    }
    *mean = (s + lane_sum(s8)) / (float)(N * P);
    for (uint n = 0; n < N; n++) {
        __global const float *row = x + x_off + ((size_t)n * C + c) * P;
        uint p = 0;
        for (; p + 8 <= P; p += 8) {
            float8 d = vload8(0, row + p) - *mean;
            q8 += d * d;
        }
        for (; p < P; p++) {
            float d = row[p] - *mean;
            q += d * d;
        }
    }
    *m2 = q + lane_sum(q8);
}

__kernel void bn_stats(__global float *stats, const uint st_off, __global float *running,
                       const uint run_off, __global const float *x, const uint x_off, const uint N,
                       const uint C, const uint P, const float eps, const float momentum,
                       const int train)
{
    uint c = get_global_id(0);
    if (c >= C) return;
    __global float *rmean = running + run_off, *rvar = running + run_off + C;
    float mean, var;
    if (train) {
        float q;
        channel_moments(x, x_off, N, C, P, c, &mean, &q);
        uint M = N * P;
        var = q / (float)M;
        rmean[c] = (1.0f - momentum) * rmean[c] + momentum * mean;
        rvar[c] = (1.0f - momentum) * rvar[c] + momentum * (M > 1 ? q / (float)(M - 1) : var);
    } else {
        mean = rmean[c];
        var = rvar[c];
    }
    stats[st_off + c] = mean;
    stats[st_off + C + c] = 1.0f / sqrt(var + eps);
}

/* train.sync_bn, the shard's part: its mean and sum of squared deviations per
 * channel into stats [mean C][M2 C] (the host combines the ranks'). */
__kernel void bn_moments(__global float *stats, const uint st_off, __global const float *x,
                         const uint x_off, const uint N, const uint C, const uint P)
{
    uint c = get_global_id(0);
    if (c >= C) return;
    float mean, m2;
    channel_moments(x, x_off, N, C, P, c, &mean, &m2);
    stats[st_off + c] = mean;
    stats[st_off + C + c] = m2;
}

/* train.sync_bn, the global batch's: stats holds [mean C][biased var C] of all M
 * values; the second becomes rstd and the running averages move as bn_stats'. */
__kernel void bn_sync_finish(__global float *stats, const uint st_off, __global float *running,
                             const uint run_off, const uint C, const float M, const float eps,
                             const float momentum)
{
    uint c = get_global_id(0);
    if (c >= C) return;
    float mean = stats[st_off + c], var = stats[st_off + C + c];
    __global float *rmean = running + run_off, *rvar = running + run_off + C;
    rmean[c] = (1.0f - momentum) * rmean[c] + momentum * mean;
    rvar[c] = (1.0f - momentum) * rvar[c] + momentum * (M > 1.0f ? var * M / (M - 1.0f) : var);
    stats[st_off + C + c] = 1.0f / sqrt(var + eps);
}

__kernel void bn_forward(__global float *y, const uint y_off, __global float *xhat,
                         const uint xh_off, __global const float *x, const uint x_off,
                         __global const float *stats, const uint st_off,
                         __global const float *gamma, const uint g_off, __global const float *beta,
                         const uint b_off, const uint N, const uint C, const uint P)
{
    uint i = get_global_id(0); /* 32-bit: a 64-bit division costs tens of cycles on CPUs */
    if (i >= N * C * P) return;
    uint c = (i / P) % C;
    float xh = (x[x_off + i] - stats[st_off + c]) * stats[st_off + C + c];
    xhat[xh_off + i] = xh;
    y[y_off + i] = gamma[g_off + c] * xh + beta[b_off + c];
}

/* dgamma += sum dy xhat; dbeta += sum dy; both sums kept in stats for the dx pass. */
__kernel void bn_backward_sums(__global float *stats, const uint st_off, __global float *dgamma,
                               const uint dg_off, __global float *dbeta, const uint db_off,
                               __global const float *dy, const uint dy_off,
                               __global const float *xhat, const uint xh_off, const uint N,
                               const uint C, const uint P)
{
    uint c = get_global_id(0);
    if (c >= C) return;
    float8 a8 = (float8)(0.0f), b8 = (float8)(0.0f);
    float s1 = 0.0f, s2 = 0.0f;
    for (uint n = 0; n < N; n++) {
        __global const float *d = dy + dy_off + ((size_t)n * C + c) * P,
                             *h = xhat + xh_off + ((size_t)n * C + c) * P;
        uint p = 0;
        for (; p + 8 <= P; p += 8) {
            float8 dv = vload8(0, d + p);
            a8 += dv;
            b8 += dv * vload8(0, h + p);
        }
        for (; p < P; p++) {
            s1 += d[p];
            s2 += d[p] * h[p];
        }
    }
    s1 += lane_sum(a8);
    s2 += lane_sum(b8);
    stats[st_off + 2 * C + c] = s1;
    stats[st_off + 3 * C + c] = s2;
    dgamma[dg_off + c] += s2;
    dbeta[db_off + c] += s1;
}

__kernel void bn_backward_dx(__global float *dx, const uint dx_off, __global const float *dy,
                             const uint dy_off, __global const float *xhat, const uint xh_off,
                             __global const float *stats, const uint st_off,
                             __global const float *gamma, const uint g_off, const uint N,
                             const uint C, const uint P, const int train, const float M)
{
    uint i = get_global_id(0); /* 32-bit: a 64-bit division costs tens of cycles on CPUs */
    if (i >= N * C * P) return;
    uint c = (i / P) % C;
    float k = gamma[g_off + c] * stats[st_off + C + c];
    if (!train) {
        dx[dx_off + i] = k * dy[dy_off + i];
        return;
    }
    dx[dx_off + i] = k / M *
                     (M * dy[dy_off + i] - stats[st_off + 2 * C + c] -
                      xhat[xh_off + i] * stats[st_off + 3 * C + c]);
}
