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

/* db[c] += sum_r dy[r, c]: one work-item per column, rows read in order. */
__kernel void bias_backward(__global float *db, const uint db_off, __global const float *dy,
                            const uint dy_off, const uint rows, const uint cols)
{
    uint c = get_global_id(0);
    if (c >= cols) return;
    float s = 0.0f;
    for (uint r = 0; r < rows; r++) s += dy[dy_off + r * cols + c];
    db[db_off + c] += s;
}
