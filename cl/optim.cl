/* Optimizer updates over all parameters in one launch (params, grads and
 * state each live in one buffer). Formulas follow torch.optim (1.13). */

/* SGD with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD). */
__kernel void sgd_step(__global float *p, __global const float *g, __global float *buf, const uint n,
                       const float lr, const float momentum, const float dampening, const float weight_decay,
                       const int nesterov, const int first_step)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    float d = g[i] + weight_decay * p[i];
    if (momentum != 0.0f) {
        float b = first_step ? d : momentum * buf[i] + (1.0f - dampening) * d;
        buf[i] = b;
        d = nesterov ? d + momentum * b : b;
    }
    p[i] -= lr * d;
}

/* Adam (decoupled = 0: L2 decay added to the gradient, torch.optim.Adam) and
 * AdamW (decoupled = 1: p *= 1 - lr * wd before the step, torch.optim.AdamW).
 * step_size = lr / (1 - beta1^t); bc2_sqrt = sqrt(1 - beta2^t), computed on the host.
 * state holds m in [0, n) and v in [n, 2n). */
__kernel void adam_step(__global float *p, __global const float *g, __global float *state, const uint n, const float lr, const float beta1, const float beta2, const float eps,
                        const float weight_decay, const int decoupled, const float step_size, const float bc2_sqrt)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    float pi = p[i], gi = g[i];
    if (decoupled) pi *= 1.0f - lr * weight_decay;
    else gi += weight_decay * pi;
    float mi = beta1 * state[i] + (1.0f - beta1) * gi;
    float vi = beta2 * state[n + i] + (1.0f - beta2) * gi * gi;
    state[i] = mi;
    state[n + i] = vi;
    p[i] = pi - step_size * mi / (sqrt(vi) / bc2_sqrt + eps);
}
