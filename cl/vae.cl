/* Variational bottleneck. ml holds [mu | h] per row (N x 2U), the log-variance
 * logvar = s h: s = 1 (PyTorch's VAE example), s = 2 when h is log sigma (Kipf
 * & Welling's VGAE).
 * Forward: z = mu + exp(logvar / 2) eps (eps standard normal from a hash of
 * (seed, index in the global batch: row0 is a shard's first row); z = mu in
 * evaluation); kl[r] = -1/2 sum_u (1 + logvar - mu^2 - exp(logvar)).
 * Backward: dmu = dz + w mu; dlogvar = dz eps exp(logvar / 2) / 2 + w (exp(logvar) - 1) / 2,
 * dh = s dlogvar, w the weight of the KL term in the loss. Uses hash_u32 from elementwise.cl. */

/* One work-item per (row, unit): the transcendentals of N x U values spread over
 * the device rather than U of them in a row per work-item. kle[r U + u] is the
 * unit's term of the KL; vae_kl_rows sums each row's in unit order. */
__kernel void vae_sample(__global float *z, const uint z_off, __global float *eps,
                         const uint eps_off, __global float *kle, const uint kle_off,
                         __global const float *ml, const uint ml_off, const uint N, const uint U,
                         const uint seed, const int train, const float s, const uint row0)
{
    uint i = get_global_id(0);
    if (i >= N * U) return;
    uint r = i / U, u = i - r * U;
    float mu = ml[ml_off + r * 2 * U + u], lv = s * ml[ml_off + r * 2 * U + U + u], e = 0.0f;
    if (train) {
        uint j = row0 * U + i, h1 = hash_u32(seed, 2u * j),
             h2 = hash_u32(seed ^ 0x9E3779B9u, 2u * j + 1u);
        float u1 = ((float)(h1 >> 8) + 1.0f) * (1.0f / 16777216.0f),
              u2 = (float)(h2 >> 8) * (1.0f / 16777216.0f);
        e = sqrt(-2.0f * log(u1)) * cos(2.0f * M_PI_F * u2);
    }
    eps[eps_off + i] = e;
    z[z_off + i] = mu + exp(0.5f * lv) * e;
    kle[kle_off + i] = 1.0f + lv - mu * mu - exp(lv);
}

__kernel void vae_kl_rows(__global float *kl, const uint kl_off, __global const float *kle,
                          const uint kle_off, const uint N, const uint U)
{
    uint r = get_global_id(0);
    if (r >= N) return;
    float k = 0.0f;
    for (uint u = 0; u < U; u++) k += kle[kle_off + r * U + u];
    kl[kl_off + r] = -0.5f * k;
}

__kernel void vae_backward(__global float *dml, const uint dml_off, __global const float *dz,
                           const uint dz_off, __global const float *ml, const uint ml_off,
                           __global const float *eps, const uint eps_off, const uint N,
                           const uint U, const float w, const float s)
{
    uint i = get_global_id(0);
    if (i >= N * U) return;
    uint r = i / U, u = i % U;
    float mu = ml[ml_off + r * 2 * U + u], lv = s * ml[ml_off + r * 2 * U + U + u],
          g = dz[dz_off + i];
    dml[dml_off + r * 2 * U + u] = g + w * mu;
    dml[dml_off + r * 2 * U + U + u] = s * (0.5f * g * eps[eps_off + i] * exp(0.5f * lv) +
                                            0.5f * w * (exp(lv) - 1.0f));
}
