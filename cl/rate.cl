/* The rate term of codec training (src/train/terms/rate.c): the code's size
 * in bits under a discretised Laplace model per channel, its location the
 * channel's mean and its scale the channel's mean absolute deviation over the
 * batch (the maximum-likelihood fit, held constant in the gradient), the
 * probability of a value y that of [y - 1/2, y + 1/2]. The code is rows x C x
 * P (channel-major per row). */

#define RATE_MIN_SCALE 0.05f

/* -ln p(t) and its derivative in t for t = y - mu, scale b */
float laplace_nll(const float t, const float b, float *grad)
{
    float a = fabs(t), s = t < 0.0f ? -1.0f : 1.0f;
    if (a >= 0.5f) { /* both ends on one side: p = e^{-(a - 1/2)/b} (1 - e^{-1/b}) / 2 */
        *grad = s / b;
        return (a - 0.5f) / b - log(0.5f * -expm1(-1.0f / b));
    }
    float e1 = exp(-(0.5f - a) / b), e2 = exp(-(0.5f + a) / b);
    float p = 1.0f - 0.5f * (e1 + e2), dp = -0.5f * (e1 - e2) / b;
    *grad = -s * dp / p;
    return -log(p);
}

/* One work-item per channel: mu, b and the channel's bits summed over the rows, per pixel. */
__kernel void rate_channels(__global float *mu, __global float *scale, __global float *bits,
                            __global const float *z, const uint z_off, const uint rows,
                            const uint channels, const uint positions, const float pixels)
{
    uint c = get_global_id(0);
    if (c >= channels) return;
    float sum = 0.0f, dev = 0.0f, nll = 0.0f, g;
    for (uint r = 0; r < rows; r++)
        for (uint p = 0; p < positions; p++) sum += z[z_off + (r * channels + c) * positions + p];
    float m = sum / (float)(rows * positions);
    for (uint r = 0; r < rows; r++)
        for (uint p = 0; p < positions; p++)
            dev += fabs(z[z_off + (r * channels + c) * positions + p] - m);
    float b = fmax(dev / (float)(rows * positions), RATE_MIN_SCALE);
    for (uint r = 0; r < rows; r++)
        for (uint p = 0; p < positions; p++)
            nll += laplace_nll(z[z_off + (r * channels + c) * positions + p] - m, b, &g);
    mu[c] = m, scale[c] = b;
    bits[c] = nll * M_LOG2E_F / pixels;
}

/* dz += weight * d(bits)/dz, weight = lambda / (rows pixels) (the rate in bits per pixel,
 * the mean over the batch) */
__kernel void rate_grad(__global float *dz, const uint dz_off, __global const float *z,
                        const uint z_off, __global const float *mu, __global const float *scale,
                        const uint n, const uint channels, const uint positions,
                        const float weight)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    uint c = (i / positions) % channels;
    float g;
    laplace_nll(z[z_off + i] - mu[c], scale[c], &g);
    dz[dz_off + i] += weight * M_LOG2E_F * g;
}
