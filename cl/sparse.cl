/* Sparsity penalties on the code z (rows, u), as in sparse autoencoders:
 *   L1:  l1 * mean over rows of sum_j |z[r,j]|
 *   KL:  kl * sum_j KL(rho || rho_hat_j), rho_hat_j = mean over rows of z[r,j]
 *        (z in (0, 1): a sigmoid code), KL(a || b) = a log(a/b) + (1-a) log((1-a)/(1-b))
 * rho_hat is clamped to [1e-6, 1 - 1e-6] so a saturated unit gives a large but
 * finite penalty. */

float clamp_rho(const float v) { return clamp(v, 1e-6f, 1.0f - 1e-6f); }

/* One work-item per unit: rho_hat[j] and unit_pen[j], the unit's share of the penalty. */
__kernel void sparsity_units(__global float *rho_hat, __global float *unit_pen,
                             __global const float *z, const uint z_off, const uint rows,
                             const uint u, const float l1, const float kl, const float rho)
{
    uint j = get_global_id(0);
    if (j >= u) return;
    float s = 0.0f, a = 0.0f;
    for (uint r = 0; r < rows; r++) {
        float v = z[z_off + r * u + j];
        s += v;
        a += fabs(v);
    }
    float q = clamp_rho(s / rows);
    rho_hat[j] = q;
    float pen = l1 * a / rows;
    if (kl > 0.0f) pen += kl * (rho * log(rho / q) + (1.0f - rho) * log((1.0f - rho) / (1.0f - q)));
    unit_pen[j] = pen;
}

/* dz[r,j] += d(penalty)/dz[r,j]: (l1 sign(z) + kl (-rho/rho_hat + (1-rho)/(1-rho_hat))) / rows */
__kernel void sparsity_grad(__global float *dz, const uint dz_off, __global const float *z,
                            const uint z_off, __global const float *rho_hat, const uint rows,
                            const uint u, const float l1, const float kl, const float rho)
{
    uint i = get_global_id(0);
    if (i >= rows * u) return;
    float q = rho_hat[i % u], g = l1 * sign(z[z_off + i]);
    if (kl > 0.0f) g += kl * (-rho / q + (1.0f - rho) / (1.0f - q));
    dz[dz_off + i] += g / rows;
}

/* Per row, for reports: the sum of the code and how many of its units are
 * near zero (|z| < threshold). */
__kernel void code_rows(__global float *row_sum, __global float *row_zero, __global const float *z,
                        const uint z_off, const uint rows, const uint u, const float threshold)
{
    uint r = get_global_id(0);
    if (r >= rows) return;
    float s = 0.0f, n = 0.0f;
    for (uint j = 0; j < u; j++) {
        float v = z[z_off + r * u + j];
        s += v;
        n += fabs(v) < threshold ? 1.0f : 0.0f;
    }
    row_sum[r] = s;
    row_zero[r] = n;
}
