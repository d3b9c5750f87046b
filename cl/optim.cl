/* Optimizer updates over all parameters in one launch (params, grads and
 * state each live in one buffer). Formulas follow torch.optim (1.13). Each
 * update consumes its gradients: it leaves them zero, so that the next backward
 * (which accumulates into them) need not clear the buffer in a pass of its own. */

/* The gradient as the update sees it: scaled by the global-norm clipping
 * coefficient (gscale[0], or 1 when gscale is null) and clipped by value (when
 * clip_value > 0), as torch.nn.utils.clip_grad_norm_ / clip_grad_value_. */
float clipped_grad(__global const float *g, const uint i, __global const float *gscale,
                   const float clip_value)
{
    float v = g[i] * (gscale ? gscale[0] : 1.0f);
    return clip_value > 0.0f ? clamp(v, -clip_value, clip_value) : v;
}

/* Partial sums of squares of g, one per block of 4096 values. */
__kernel void sumsq_blocks(__global float *partial, __global const float *g, const uint n)
{
    uint b = get_global_id(0), start = b * 4096u;
    if (start >= n) return;
    uint end = min(n, start + 4096u);
    float s = 0.0f;
    for (uint i = start; i < end; i++) s += g[i] * g[i];
    partial[b] = s;
}

/* coef[0] = min(1, max_norm / (||g|| + 1e-6)) from the partial sums. Single work-item. */
__kernel void clip_coefficient(__global float *coef, __global const float *partial,
                               const uint blocks, const float max_norm)
{
    if (get_global_id(0) != 0) return;
    float s = 0.0f;
    for (uint b = 0; b < blocks; b++) s += partial[b];
    float c = max_norm / (sqrt(s) + 1e-6f);
    coef[0] = c < 1.0f ? c : 1.0f;
}

/* SGD with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD). */
__kernel void sgd_step(__global float *p, __global float *g, __global float *buf,
                       const uint n, const float lr, const float momentum, const float dampening,
                       const float weight_decay, const int nesterov, const int first_step,
                       __global const float *gscale, const float clip_value)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    float d = clipped_grad(g, i, gscale, clip_value) + weight_decay * p[i];
    g[i] = 0.0f;
    if (momentum != 0.0f) {
        float b = first_step ? d : momentum * buf[i] + (1.0f - dampening) * d;
        buf[i] = b;
        d = nesterov ? d + momentum * b : b;
    }
    p[i] -= lr * d;
}

/* One Adam update of T (float or float8) values pi with gradient gi and
 * moments mi, vi, in place. */
#define ADAM_MATH(T)                                            \
    {                                                           \
        if (decoupled)                                          \
            pi *= 1.0f - lr * weight_decay;                     \
        else                                                    \
            gi += weight_decay * pi;                            \
        mi = beta1 * mi + (1.0f - beta1) * gi;                  \
        vi = beta2 * vi + (1.0f - beta2) * gi * gi;             \
        pi = pi - step_size * mi / (sqrt(vi) / bc2_sqrt + eps); \
    }

/* Adam (decoupled = 0: L2 decay added to the gradient, torch.optim.Adam) and
 * AdamW (decoupled = 1: p *= 1 - lr * wd before the step, torch.optim.AdamW).
 * step_size = lr / (1 - beta1^t); bc2_sqrt = sqrt(1 - beta2^t), computed on the host.
 * state holds m in [0, n) and v in [n, 2n).
 * Eight values per work-item in float8, since PoCL leaves this kernel's
 * scalar form unvectorised (a scalar sqrt and divide each: 25% of an
 * mlp_fmnist step); the last work-item takes the tail one by one. */
__kernel void adam_step(__global float *p, __global float *g, __global float *state,
                        const uint n, const float lr, const float beta1, const float beta2,
                        const float eps, const float weight_decay, const int decoupled,
                        const float step_size, const float bc2_sqrt, __global const float *gscale,
                        const float clip_value)
{
    uint i0 = get_global_id(0) * 8;
    if (i0 >= n) return;
    const float scale = gscale ? gscale[0] : 1.0f;
    if (i0 + 8 <= n) {
        float8 pi = vload8(0, p + i0), gi = vload8(0, g + i0) * scale;
        float8 mi = vload8(0, state + i0), vi = vload8(0, state + n + i0);
        vstore8((float8)(0.0f), 0, g + i0);
        if (clip_value > 0.0f) gi = clamp(gi, -clip_value, clip_value);
        ADAM_MATH(float8)
        vstore8(mi, 0, state + i0);
        vstore8(vi, 0, state + n + i0);
        vstore8(pi, 0, p + i0);
        return;
    }
    for (uint i = i0; i < n; i++) {
        float pi = p[i], gi = clipped_grad(g, i, gscale, clip_value);
        float mi = state[i], vi = state[n + i];
        g[i] = 0.0f;
        ADAM_MATH(float)
        state[i] = mi;
        state[n + i] = vi;
        p[i] = pi;
    }
}

/* Lion (Chen et al. 2023, as lion-pytorch): c = beta1 m + (1 - beta1) g;
 * p = p (1 - lr wd) - lr sign(c); m = beta2 m + (1 - beta2) g. */
__kernel void lion_step(__global float *p, __global float *g, __global float *m, const uint n,
                        const float lr, const float beta1, const float beta2,
                        const float weight_decay, __global const float *gscale,
                        const float clip_value)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    float gi = clipped_grad(g, i, gscale, clip_value);
    g[i] = 0.0f;
    float c = beta1 * m[i] + (1.0f - beta1) * gi;
    p[i] = p[i] * (1.0f - lr * weight_decay) - lr * sign(c);
    m[i] = beta2 * m[i] + (1.0f - beta2) * gi;
}
