/* The device's FMA peak, the yardstick clae bench measures workloads against:
 * each work-item runs 12 independent chains of fused multiply-adds on T
 * values, enough to cover the FMA latency of two pipes, with no memory
 * traffic but one store at the end (which keeps the chains alive). 12 float8
 * fit AVX2's 16 registers, 12 float16 AVX-512's 32. */
#define FMA_PEAK_CHAINS 12

float peak_sum_float(float v) { return v; }
float peak_sum_float4(float4 v) { return dot(v, (float4)(1.0f)); }
float peak_sum_float8(float8 v) { return peak_sum_float4(v.lo + v.hi); }
float peak_sum_float16(float16 v) { return peak_sum_float8(v.lo + v.hi); }

#define FMA_PEAK_KERNEL(NAME, T)                                                            \
    __kernel void NAME(__global float *out, const uint iters, const float a, const float b) \
    {                                                                                       \
        const uint id = get_global_id(0);                                                   \
        T acc[FMA_PEAK_CHAINS];                                                             \
        _Pragma("unroll") for (int c = 0; c < FMA_PEAK_CHAINS; c++) acc[c] =                \
            (T)((float)id * 1e-7f + (float)c * 1e-3f);                                      \
        for (uint t = 0; t < iters; t++)                                                    \
            _Pragma("unroll") for (int c = 0; c < FMA_PEAK_CHAINS; c++) acc[c] =            \
                fma(acc[c], (T)(a), (T)(b));                                                \
        T sum = acc[0];                                                                     \
        _Pragma("unroll") for (int c = 1; c < FMA_PEAK_CHAINS; c++) sum += acc[c];          \
        out[id] = peak_sum_##T(sum);                                                        \
    }

FMA_PEAK_KERNEL(fma_peak_1, float)
FMA_PEAK_KERNEL(fma_peak_4, float4)
FMA_PEAK_KERNEL(fma_peak_8, float8)
FMA_PEAK_KERNEL(fma_peak_16, float16)
