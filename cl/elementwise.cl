/* Elementwise helpers: fill, batch gather from a uint8 dataset, axpy-style adds.
 * Offsets are in floats so one buffer can hold many tensors (arena). */

__kernel void fill_f32(__global float *x, const uint x_off, const uint n, const float value)
{
    uint i = get_global_id(0);
    if (i < n) x[x_off + i] = value;
}

/* dst[r, :] = src[idx[idx_off + r], :] * scale: builds a batch of rows of a
 * dataset kept on the device as bytes, so a training step sends nothing. */
__kernel void gather_u8_rows(__global float *dst, const uint dst_off, __global const uchar *src,
                             __global const uint *idx, const uint idx_off, const uint row_len,
                             const uint n_rows, const float scale)
{
    uint i = get_global_id(0);
    if (i >= n_rows * row_len) return;
    uint r = i / row_len, c = i % row_len;
    ulong s = (ulong)idx[idx_off + r] * row_len + c;
    dst[dst_off + i] = (float)src[s] * scale;
}

/* y += x */
__kernel void add_f32(__global float *y, const uint y_off, __global const float *x, const uint x_off, const uint n)
{
    uint i = get_global_id(0);
    if (i < n) y[y_off + i] += x[x_off + i];
}
