/* Dense layer helpers around the GEMM: bias (+ activation) on the forward
 * output, and the bias gradient summed over the batch. Activation codes and
 * act_apply come from act.cl, which is built into the same program. */

/* y[r, c] = act(y[r, c] + b[c]) in place on the GEMM output. */
__kernel void bias_act_forward(__global float *y, const uint y_off, __global const float *b,
                               const uint b_off, const uint rows, const uint cols, const int kind,
                               const float slope)
{
    uint i = get_global_id(0);
    if (i >= rows * cols) return;
    float v = y[y_off + i] + (b ? b[b_off + i % cols] : 0.0f);
    y[y_off + i] = act_apply(kind, v, slope);
}

/* db[c] += sum_r dy[r, c], rows read in order: one work-item per 8 columns, as
 * explicit vectors (PoCL left the one-column form's strided loads scalar). */
__kernel void bias_backward(__global float *db, const uint db_off, __global const float *dy,
                            const uint dy_off, const uint rows, const uint cols)
{
    uint c0 = get_global_id(0) * 8;
    if (c0 >= cols) return;
    dy += dy_off, db += db_off;
    if (c0 + 8 <= cols) {
        float8 s = (float8)(0.0f);
        for (uint r = 0; r < rows; r++) s += vload8(0, dy + (size_t)r * cols + c0);
        vstore8(vload8(0, db + c0) + s, 0, db + c0);
        return;
    }
    for (uint c = c0; c < cols; c++) {
        float s = 0.0f;
        for (uint r = 0; r < rows; r++) s += dy[(size_t)r * cols + c];
        db[c] += s;
    }
}
