/* Activations. Backward uses the forward output y (not x), which holds the
 * same information for these functions when the leaky slope is >= 0:
 *   relu'(x) = y > 0; leaky'(x) = y > 0 ? 1 : slope (PyTorch: x > 0, so 0 -> slope);
 *   sigmoid' = y (1 - y); tanh' = 1 - y^2. */

/* ACT_NONE, ACT_RELU, ...: the list in include/clae/kinds.h, embedded first */
#define CLAE_X_ACT(id, name) ACT_##id,
enum { CLAE_ACT_LIST(CLAE_X_ACT) };
#undef CLAE_X_ACT

float act_apply(const int kind, const float x, const float slope)
{
    switch (kind) {
    case ACT_RELU: return fmax(x, 0.0f);
    case ACT_LEAKY_RELU: return x > 0.0f ? x : x * slope;
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* act_apply on a whole vector, lane by lane: act_apply_float8, act_apply_float16. */
#define ACT_APPLY_VEC(T)                                                 \
    T act_apply_##T(T v, int act, float slope)                           \
    {                                                                    \
        switch (act) {                                                   \
        case ACT_RELU: return fmax(v, (T)(0.0f));                        \
        case ACT_LEAKY_RELU: return select(v * slope, v, v > (T)(0.0f)); \
        case ACT_SIGMOID: return (T)(1.0f) / ((T)(1.0f) + exp(-v));      \
        case ACT_TANH: return tanh(v);                                   \
        default: return v;                                               \
        }                                                                \
    }
ACT_APPLY_VEC(float8)
ACT_APPLY_VEC(float16)

float act_grad(const int kind, const float y, const float dy, const float slope)
{
    switch (kind) {
    case ACT_RELU: return y > 0.0f ? dy : 0.0f;
    case ACT_LEAKY_RELU: return y > 0.0f ? dy : dy * slope;
    case ACT_SIGMOID: return dy * y * (1.0f - y);
    case ACT_TANH: return dy * (1.0f - y * y);
    default: return dy;
    }
}

__kernel void act_forward(__global float *y, const uint y_off, __global const float *x,
                          const uint x_off, const uint n, const int kind, const float slope)
{
    uint i = get_global_id(0);
    if (i < n) y[y_off + i] = act_apply(kind, x[x_off + i], slope);
}

/* act_grad on eight lanes: relu and leaky as selects, so that no lane branches. */
float8 act_grad8(const int kind, const float8 y, const float8 dy, const float slope)
{
    switch (kind) {
    case ACT_RELU: return select((float8)(0.0f), dy, y > 0.0f);
    case ACT_LEAKY_RELU: return select(dy * slope, dy, y > 0.0f);
    case ACT_SIGMOID: return dy * y * (1.0f - y);
    case ACT_TANH: return dy * (1.0f - y * y);
    default: return dy;
    }
}

/* Eight elements a work-item, as explicit vectors: PoCL's loop over a group's
 * work-items did not vectorise the scalar form's switch (a third of the
 * memory bandwidth). dx may be dy. */
__kernel void act_backward(__global float *dx, const uint dx_off, __global const float *dy,
                           const uint dy_off, __global const float *y, const uint y_off,
                           const uint n, const int kind, const float slope)
{
    uint i0 = get_global_id(0) * 8;
    if (i0 >= n) return;
    dx += dx_off, dy += dy_off, y += y_off;
    if (i0 + 8 <= n) {
        vstore8(act_grad8(kind, vload8(0, y + i0), vload8(0, dy + i0), slope), 0, dx + i0);
        return;
    }
    for (uint i = i0; i < n; i++) dx[i] = act_grad(kind, y[i], dy[i], slope);
}
