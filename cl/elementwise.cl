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
__kernel void add_f32(__global float *y, const uint y_off, __global const float *x,
                      const uint x_off, const uint n)
{
    uint i = get_global_id(0);
    if (i < n) y[y_off + i] += x[x_off + i];
}

/* y = a + b (residual connections) */
__kernel void sum2_f32(__global float *y, const uint y_off, __global const float *a,
                       const uint a_off, __global const float *b, const uint b_off, const uint n)
{
    uint i = get_global_id(0);
    if (i < n) y[y_off + i] = a[a_off + i] + b[b_off + i];
}

/* A counter-based hash (murmur3's finaliser): the same (seed, i) always gives the
 * same bits, so dropout's backward recomputes its mask instead of storing it. */
uint hash_u32(uint seed, uint i)
{
    uint h = seed ^ (i * 0x9E3779B1u);
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

/* Inverted dropout (PyTorch): keep with probability 1 - p, scale kept values by 1 / (1 - p).
 * The same kernel serves the backward (x = dy, y = dx) with the same seed. The draws are
 * indexed from base (a shard's first value in its global batch: what one device draws). */
__kernel void dropout_apply(__global float *y, const uint y_off, __global const float *x,
                            const uint x_off, const uint n, const float p, const uint seed,
                            const uint base)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    float u = (float)(hash_u32(seed, base + i) >> 8) * (1.0f / 16777216.0f);
    y[y_off + i] = u >= p ? x[x_off + i] / (1.0f - p) : 0.0f;
}

/* The code's quantiser (src/nn/quantize.c) on g = gain x: mode 0 rint(g) (half to even),
 * 1 g + U(-0.5, 0.5) from a hash of (seed, i), 2 g alone (the backward, on dy). */
__kernel void quantize_apply(__global float *y, const uint y_off, __global const float *x,
                             const uint x_off, const uint n, const uint mode, const uint seed,
                             const float gain, const uint base)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    float g = gain * x[x_off + i];
    float u = (float)(hash_u32(seed, base + i) >> 8) * (1.0f / 16777216.0f) - 0.5f;
    y[y_off + i] = mode == 0u ? rint(g) : mode == 1u ? g + u : g;
}

#define CLAE_X_NOISE(id, name) NOISE_##id, /* include/clae/kinds.h */
enum { CLAE_NOISE_LIST(CLAE_X_NOISE) };
#undef CLAE_X_NOISE

/* Input corruption for denoising autoencoders, from a hash of (seed, index):
 *   gaussian: x + level z (z standard normal, Box-Muller; not clamped)
 *   salt and pepper: with probability level, 0 or 1 (even odds)
 *   masking: with probability level, 0 */
__kernel void add_noise(__global float *y, const uint y_off, __global const float *x,
                        const uint x_off, const uint n, const int kind, const float level,
                        const uint seed, const uint base)
{
    uint i = get_global_id(0);
    if (i >= n) return;
    uint j = base + i; /* the value's index in the global batch */
    uint h1 = hash_u32(seed, 2u * j), h2 = hash_u32(seed ^ 0x9E3779B9u, 2u * j + 1u);
    float u1 = ((float)(h1 >> 8) + 1.0f) * (1.0f / 16777216.0f); /* (0, 1] */
    float u2 = (float)(h2 >> 8) * (1.0f / 16777216.0f);
    float v = x[x_off + i];
    if (kind == NOISE_GAUSSIAN)
        v += level * sqrt(-2.0f * log(u1)) * cos(2.0f * M_PI_F * u2);
    else if (kind == NOISE_SALT_PEPPER && u1 <= level)
        v = (h2 & 1u) ? 1.0f : 0.0f;
    else if (kind == NOISE_MASK && u1 <= level)
        v = 0.0f;
    y[y_off + i] = v;
}
