/* Losses with PyTorch's semantics (reduction='mean' for training):
 *   MSE: (y - t)^2;  BCE: -(t log y + (1 - t) log(1 - y)), each log clamped at -100,
 *   BCE gradient (y - t) / max(y (1 - y), 1e-12).
 * One work-item per row writes that row's loss sum and its gradient, so no
 * barriers are needed (CPU devices run a work-group as a loop). */

#define CLAE_X_LOSS(id, name) LOSS_##id, /* include/clae/kinds.h */
enum { CLAE_LOSS_LIST(CLAE_X_LOSS) };
#undef CLAE_X_LOSS

#define BCE_TERM(T, NAME)                     \
    T NAME(const T y, const T t)              \
    {                                         \
        T ly = fmax(log(y), -100.0f);         \
        T l1y = fmax(log(1.0f - y), -100.0f); \
        return -(t * ly + (1.0f - t) * l1y);  \
    }
BCE_TERM(float, bce_term)
BCE_TERM(float8, bce_term8)

/* One element's loss (added to s) and gradient (stored through dy when not
 * null), on T = float or float8. */
#define LOSS_ELEMENT(T, BCE, yv, tv, s, store)              \
    {                                                       \
        T g;                                                \
        if (kind == LOSS_MSE) {                             \
            T d = yv - tv;                                  \
            s += d * d;                                     \
            g = 2.0f * d;                                   \
        } else {                                            \
            s += BCE(yv, tv);                               \
            g = (yv - tv) / fmax(yv * (1.0f - yv), 1e-12f); \
        }                                                   \
        if (dy) store;                                      \
    }

/* row_loss[r] = sum_c loss(y[r,c], t[r,c]); dy = grad_scale * dloss/dy (skipped when dy is null).
 */
__kernel void loss_rows(__global float *dy, const uint dy_off, __global float *row_loss,
                        __global const float *y, const uint y_off, __global const float *t,
                        const uint t_off, const uint rows, const uint cols, const int kind,
                        const float grad_scale)
{
    uint r = get_global_id(0);
    if (r >= rows) return;
    /* float8 along the row (the scalar logs were 20% of an mlp_fmnist step) */
    __global const float *yr = y + y_off + (size_t)r * cols, *tr = t + t_off + (size_t)r * cols;
    __global float *dr = dy ? dy + dy_off + (size_t)r * cols : 0;
    float8 s8 = 0.0f;
    uint c = 0;
    for (; c + 8 <= cols; c += 8) {
        float8 yv = vload8(0, yr + c), tv = vload8(0, tr + c);
        LOSS_ELEMENT(float8, bce_term8, yv, tv, s8, vstore8(g * grad_scale, 0, dr + c))
    }
    float s = ((s8.s0 + s8.s1) + (s8.s2 + s8.s3)) + ((s8.s4 + s8.s5) + (s8.s6 + s8.s7));
    for (; c < cols; c++) {
        float yv = yr[c], tv = tr[c];
        LOSS_ELEMENT(float, bce_term, yv, tv, s, dr[c] = g * grad_scale)
    }
    row_loss[r] = s;
}

/* Both metrics per row for evaluation: row_mse[r], row_bce[r] (sums over the row). */
__kernel void metric_rows(__global float *row_mse, __global float *row_bce, __global const float *y,
                          const uint y_off, __global const float *t, const uint t_off,
                          const uint rows, const uint cols)
{
    uint r = get_global_id(0);
    if (r >= rows) return;
    float se = 0.0f, sb = 0.0f;
    for (uint c = 0; c < cols; c++) {
        uint i = r * cols + c;
        float d = y[y_off + i] - t[t_off + i];
        se += d * d;
        sb += bce_term(y[y_off + i], t[t_off + i]);
    }
    row_mse[r] = se;
    row_bce[r] = sb;
}

/* acc[slot] += sum(v[0..n)) with Kahan compensation in acc[slot + 1], so a
 * whole epoch of batch losses sums in float without drift. Single work-item. */
__kernel void accumulate_sum(__global float *acc, const uint slot, __global const float *v,
                             const uint v_off, const uint n)
{
    if (get_global_id(0) != 0) return;
    float s = 0.0f;
    for (uint i = 0; i < n; i++) s += v[v_off + i];
    float y = s - acc[slot + 1];
    float t = acc[slot] + y;
    acc[slot + 1] = (t - acc[slot]) - y;
    acc[slot] = t;
}

/* Softmax cross-entropy of a classifier head (multitask), one work-item per row.
 * The label of row r is labels[order[first + r] & mask] (mask drops the copy
 * index of augmented entries). row_loss[r] = logsumexp(z) - z[label];
 * row_correct[r] = 1 when the first maximum is the label; dz (skipped when null)
 * = grad_scale * (softmax(z) - onehot(label)); confusion (skipped when null)
 * counts [label][prediction]. */
__kernel void softmax_xent_rows(__global float *dz, const uint dz_off, __global float *row_loss,
                                __global float *row_correct, __global const float *z,
                                const uint z_off, __global const uchar *labels,
                                __global const uint *order, const uint first, const uint mask,
                                const uint rows, const uint k, const float grad_scale,
                                __global uint *confusion)
{
    uint r = get_global_id(0);
    if (r >= rows) return;
    __global const float *zr = z + z_off + r * k;
    uint label = labels[order[first + r] & mask], best = 0;
    float m = zr[0];
    for (uint c = 1; c < k; c++)
        if (zr[c] > m) m = zr[c], best = c;
    float s = 0.0f;
    for (uint c = 0; c < k; c++) s += exp(zr[c] - m);
    float lse = m + log(s);
    row_loss[r] = lse - zr[label];
    row_correct[r] = best == label ? 1.0f : 0.0f;
    if (dz)
        for (uint c = 0; c < k; c++)
            dz[dz_off + r * k + c] = grad_scale * (exp(zr[c] - lse) - (c == label ? 1.0f : 0.0f));
    if (confusion) atomic_inc(&confusion[label * k + best]);
}
