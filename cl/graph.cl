/* Graphs: a sparse N x N matrix in CSR form packed in one buffer (row_ptr
 * N + 1, col nnz as uint bits, then val nnz floats; read through a uint and a
 * float view of the same buffer), the graph convolution's product with it,
 * and the inner-product decoder's losses (Kipf & Welling 2016, as their
 * reference implementation): logits x_ij = z_i . z_j, weighted binary
 * cross-entropy with logits,
 *   loss(x, 1) = pos_weight softplus(-x), loss(x, 0) = softplus(x).
 * One work-item per row, no barriers (CPU devices run a group as a loop). */

float graph_softplus(const float x) { return fmax(x, 0.0f) + log1p(exp(-fabs(x))); }

float graph_sigmoid(const float x)
{
    float e = exp(-fabs(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

/* y[r, c] = sum_k A[r, k] x[k, c] (+ y[r, c] when accumulate), x and y rows of cols. */
__kernel void graph_spmm(__global float *y, const uint y_off, __global const uint *csr,
                         __global const float *csr_val, const uint csr_off, __global const float *x,
                         const uint x_off, const uint n, const uint nnz, const uint cols,
                         const int accumulate)
{
    uint i = get_global_id(0);
    if (i >= n * cols) return;
    uint r = i / cols, c = i % cols, col_at = csr_off + n + 1, val_at = col_at + nnz;
    float s = accumulate ? y[y_off + i] : 0.0f;
    for (uint k = csr[csr_off + r]; k < csr[csr_off + r + 1]; k++)
        s += csr_val[val_at + k] * x[x_off + csr[col_at + k] * cols + c];
    y[y_off + i] = s;
}

/* All N^2 pairs, in three passes so the big one has no branches and runs on
 * 8-wide vectors: graph_pos_save keeps the logits of the targets (the
 * pattern of the matrix: A + I, nnz entries), graph_dense_loss treats every
 * pair as a non-edge (logits become scale * sigmoid(x), row_loss[r] = scale
 * * sum softplus(x)), graph_pos_fix turns the targets into edges. */
__kernel void graph_pos_save(__global float *saved, const uint s_off, __global const float *logits,
                             const uint l_off, __global const uint *csr, const uint csr_off,
                             const uint n)
{
    uint r = get_global_id(0);
    if (r >= n) return;
    uint col_at = csr_off + n + 1;
    for (uint k = csr[csr_off + r]; k < csr[csr_off + r + 1]; k++)
        saved[s_off + k] = logits[l_off + r * n + csr[col_at + k]];
}

__kernel void graph_dense_loss(__global float *logits, const uint l_off, __global float *row_loss,
                               const uint n, const float scale)
{
    uint r = get_global_id(0);
    if (r >= n) return;
    __global float *row = logits + l_off + (size_t)r * n;
    float8 s8 = (float8)(0.0f);
    uint j = 0;
    for (; j + 8 <= n; j += 8) {
        float8 x = vload8(0, row + j), e = exp(-fabs(x));
        s8 += fmax(x, 0.0f) + log1p(e);
        vstore8(scale * select(e / (1.0f + e), 1.0f / (1.0f + e), x >= 0.0f), 0, row + j);
    }
    float s = s8.s0 + s8.s1 + s8.s2 + s8.s3 + s8.s4 + s8.s5 + s8.s6 + s8.s7;
    for (; j < n; j++) {
        float x = row[j];
        s += graph_softplus(x);
        row[j] = scale * graph_sigmoid(x);
    }
    row_loss[r] = scale * s;
}

__kernel void graph_pos_fix(__global float *logits, const uint l_off, __global float *row_loss,
                            __global const float *saved, const uint s_off, __global const uint *csr,
                            const uint csr_off, const uint n, const float pos_weight,
                            const float scale)
{
    uint r = get_global_id(0);
    if (r >= n) return;
    uint col_at = csr_off + n + 1;
    float s = 0.0f;
    for (uint k = csr[csr_off + r]; k < csr[csr_off + r + 1]; k++) {
        float x = saved[s_off + k];
        s += pos_weight * graph_softplus(-x) - graph_softplus(x);
        logits[l_off + r * n + csr[col_at + k]] = scale * pos_weight * (graph_sigmoid(x) - 1.0f);
    }
    row_loss[r] += scale * s;
}

/* Sampled pairs, a symmetric CSR whose values are the targets (1 edge, 0
 * non-edge): dz[r] = sum over row r's pairs of w dloss/dx z_col, w = w_pos
 * or w_neg; row_loss[r] = half the row's weighted loss (each pair is stored
 * in both of its rows). */
__kernel void graph_pair_loss(__global float *dz, const uint dz_off, __global float *row_loss,
                              __global const uint *csr, __global const float *csr_val,
                              const uint csr_off, __global const float *z, const uint z_off,
                              const uint n, const uint nnz, const uint units, const float w_pos,
                              const float w_neg)
{
    uint r = get_global_id(0);
    if (r >= n) return;
    uint col_at = csr_off + n + 1, val_at = col_at + nnz;
    __global const float *zr = z + z_off + r * units;
    __global float *g = dz + dz_off + r * units;
    for (uint u = 0; u < units; u++) g[u] = 0.0f;
    float s = 0.0f;
    for (uint k = csr[csr_off + r]; k < csr[csr_off + r + 1]; k++) {
        __global const float *zc = z + z_off + csr[col_at + k] * units;
        float x = 0.0f;
        for (uint u = 0; u < units; u++) x += zr[u] * zc[u];
        bool edge = csr_val[val_at + k] > 0.5f;
        float p = graph_sigmoid(x), w = edge ? w_pos : w_neg;
        s += w * (edge ? graph_softplus(-x) : graph_softplus(x));
        float d = w * (edge ? p - 1.0f : p);
        for (uint u = 0; u < units; u++) g[u] += d * zc[u];
    }
    row_loss[r] = 0.5f * s;
}
