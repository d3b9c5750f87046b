/* Pooling, PyTorch semantics: output floor((H + 2 pad - K) / S) + 1; max pool
 * pads with -inf and keeps the first maximum in scan order (its flat index h*W+w
 * in the input plane, stored as a float for the backward); average pool counts
 * the padding (count_include_pad=True). Backward gathers: each input value sums
 * the output gradients of the windows that chose / contain it. */

/* Outputs o whose window [o*S - PAD, o*S - PAD + K) holds position pos: [*lo, *hi]. */
void window_range(const int pos, const int PAD, const int K, const int S, const int OUT, int *lo,
                  int *hi)
{
    int first = pos + PAD - K + 1;
    *lo = first <= 0 ? 0 : (first + S - 1) / S;
    *hi = (pos + PAD) / S;
    if (*hi > OUT - 1) *hi = OUT - 1;
}

#ifndef CLAE_CPU
#define CLAE_CPU 0
#endif

/* The first maximum of the window of output (oh, ow) in one plane, PyTorch's
 * (val > max) || isnan(val); *at is its flat index h*W+w. */
float window_max(__global const float *xp, const int oh, const int ow, const uint H, const uint W,
                 const uint K, const uint S, const uint PAD, int *at)
{
    float best = -INFINITY;
    int best_i = -1;
    for (uint i = 0; i < K; i++) {
        int h = oh * (int)S + (int)i - (int)PAD;
        if (h < 0 || h >= (int)H) continue;
        for (uint j = 0; j < K; j++) {
            int w = ow * (int)S + (int)j - (int)PAD;
            if (w < 0 || w >= (int)W) continue;
            float v = xp[h * (int)W + w];
            if (best_i < 0 || v > best || isnan(v)) {
                best = v;
                best_i = h * (int)W + w;
            }
        }
    }
    *at = best_i;
    return best;
}

#if CLAE_CPU
/* N (8 or 4) 2x2 windows from ow on, from two loads of 2N floats of input rows
 * r0 and r1 (r0 at flat index at0 of its plane); the same first-maximum and NaN
 * rule: max_pool_2x2_8, max_pool_2x2_4. */
#define MAX_POOL_2X2(N, N2, LANES)                                                               \
    void max_pool_2x2_##N(__global const float *r0, __global const float *r1, const int at0,    \
                          const uint W, const uint ow, __global float *yr, __global float *ar)  \
    {                                                                                            \
        const uint c = 2 * ow;                                                                   \
        const float##N2 a0 = vload##N2(0, r0 + c), a1 = vload##N2(0, r1 + c);                    \
        const int##N i0 = (int##N)(at0 + (int)c) + (int##N)LANES, i1 = i0 + (int)W;              \
        float##N b = a0.even, v;                                                                 \
        int##N at = i0, m;                                                                       \
        v = a0.odd, m = isgreater(v, b) | isnan(v), b = select(b, v, m);                         \
        at = select(at, i0 + 1, m);                                                              \
        v = a1.even, m = isgreater(v, b) | isnan(v), b = select(b, v, m), at = select(at, i1, m); \
        v = a1.odd, m = isgreater(v, b) | isnan(v), b = select(b, v, m);                         \
        at = select(at, i1 + 1, m);                                                              \
        vstore##N(b, 0, yr + ow);                                                                \
        vstore##N(convert_float##N(at), 0, ar + ow);                                             \
    }
MAX_POOL_2X2(8, 16, (0, 2, 4, 6, 8, 10, 12, 14))
MAX_POOL_2X2(4, 8, (0, 2, 4, 6))

/* CPUs: one work-item per output row, so the index divisions are paid once a row. */
__kernel void max_pool_forward(__global float *y, const uint y_off, __global float *arg,
                               const uint arg_off, __global const float *x, const uint x_off,
                               const uint NC, const uint H, const uint W, const uint K,
                               const uint S, const uint PAD, const uint HO, const uint WO)
{
    uint gid = get_global_id(0);
    if (gid >= NC * HO) return;
    uint oh = gid % HO, plane = gid / HO;
    __global const float *xp = x + x_off + (size_t)plane * H * W;
    if (K == 2 && S == 2 && PAD == 0 && WO >= 4) { /* the common window, 8 or 4 at a time */
        __global const float *r0 = xp + 2 * oh * W;
        __global float *yr = y + y_off + gid * WO, *ar = arg + arg_off + gid * WO;
        int at0 = (int)(2 * oh * W);
        /* a row's last windows again as the last 8 (4): the same values stored twice */
        if (WO < 8) {
            max_pool_2x2_4(r0, r0 + W, at0, W, 0, yr, ar);
            max_pool_2x2_4(r0, r0 + W, at0, W, WO - 4, yr, ar);
            return;
        }
        for (uint ow = 0; ow + 8 <= WO; ow += 8) max_pool_2x2_8(r0, r0 + W, at0, W, ow, yr, ar);
        if (WO % 8) max_pool_2x2_8(r0, r0 + W, at0, W, WO - 8, yr, ar);
        return;
    }
    for (uint ow = 0; ow < WO; ow++) {
        int at;
        y[y_off + gid * WO + ow] = window_max(xp, (int)oh, (int)ow, H, W, K, S, PAD, &at);
        arg[arg_off + gid * WO + ow] = (float)at;
    }
}
#else
__kernel void max_pool_forward(__global float *y, const uint y_off, __global float *arg,
                               const uint arg_off, __global const float *x, const uint x_off,
                               const uint NC, const uint H, const uint W, const uint K,
                               const uint S, const uint PAD, const uint HO, const uint WO)
{
    uint gid = get_global_id(0);
    if (gid >= NC * HO * WO) return;
    uint ow = gid % WO, oh = (gid / WO) % HO, plane = gid / (WO * HO);
    int at;
    y[y_off + gid] = window_max(x + x_off + (size_t)plane * H * W, (int)oh, (int)ow, H, W, K, S,
                                PAD, &at);
    arg[arg_off + gid] = (float)at;
}
#endif

/* Gradients of N (8 or 4) 2x2 windows from ow on into their 2x2 input blocks,
 * every input written (zero where not the argmax): nothing to clear first, and
 * writing a block twice stores the same values. */
#define MAX_POOL_2X2_BACKWARD(N, N2, LANES, MIX)                                                 \
    void max_pool_2x2_backward##N(__global float *r0, const int at0, const uint W,             \
                                  const uint ow, __global const float *dyr,                    \
                                  __global const float *ar)                                    \
    {                                                                                            \
        const float##N d = vload##N(0, dyr + ow), z = (float##N)(0.0f);                          \
        const int##N a = convert_int##N(vload##N(0, ar + ow));                                   \
        const int##N i0 = (int##N)(at0 + 2 * (int)ow) + (int##N)LANES, i1 = i0 + (int)W;         \
        const uint##N2 mix = (uint##N2)MIX;                                                      \
        float##N e0 = select(z, d, a == i0), o0 = select(z, d, a == i0 + 1);                     \
        float##N e1 = select(z, d, a == i1), o1 = select(z, d, a == i1 + 1);                     \
        vstore##N2(shuffle2(e0, o0, mix), 0, r0 + 2 * ow);                                       \
        vstore##N2(shuffle2(e1, o1, mix), 0, r0 + W + 2 * ow);                                   \
    }
MAX_POOL_2X2_BACKWARD(8, 16, (0, 2, 4, 6, 8, 10, 12, 14),
                      (0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15))
MAX_POOL_2X2_BACKWARD(4, 8, (0, 2, 4, 6), (0, 4, 1, 5, 2, 6, 3, 7))

/* Output row oh's windows (2x2, stride 2, WO >= 4) into input rows 2 oh and 2 oh + 1, with the
 * columns past the last window and, for the last row, the rows below it cleared. */
void max_pool_2x2_backward_row(__global float *dx, const uint dx_off, __global const float *dy,
                               const uint dy_off, __global const float *arg, const uint arg_off,
                               const uint row, const uint H, const uint W, const uint HO,
                               const uint WO)
{
    uint oh = row % HO;
    int at0 = (int)(2 * oh * W);
    __global float *dxp = dx + dx_off + (ulong)(row / HO) * H * W, *r0 = dxp + at0;
    __global const float *dyr = dy + dy_off + (ulong)row * WO;
    __global const float *ar = arg + arg_off + (ulong)row * WO;
    if (WO < 8) {
        max_pool_2x2_backward4(r0, at0, W, 0, dyr, ar);
        max_pool_2x2_backward4(r0, at0, W, WO - 4, dyr, ar);
    } else {
        for (uint ow = 0; ow + 8 <= WO; ow += 8) max_pool_2x2_backward8(r0, at0, W, ow, dyr, ar);
        if (WO % 8) max_pool_2x2_backward8(r0, at0, W, WO - 8, dyr, ar);
    }
    for (uint w = 2 * WO; w < W; w++) r0[w] = r0[W + w] = 0.0f;
    if (oh == HO - 1)
        for (uint h = 2 * HO; h < H; h++)
            for (uint w = 0; w < W; w++) dxp[h * W + w] = 0.0f;
}

/* One work-item per output row: each output's gradient goes to its argmax.
 * Rows of one plane may share inputs (overlapping windows), so a work-item owns a
 * whole plane's gradient when windows overlap (S < K); otherwise a row of windows. */
__kernel void max_pool_backward(__global float *dx, const uint dx_off, __global const float *dy,
                                const uint dy_off, __global const float *arg, const uint arg_off,
                                const uint NC, const uint H, const uint W, const uint K,
                                const uint S, const uint PAD, const uint HO, const uint WO)
{
    uint gid = get_global_id(0);
    bool overlap = S < K;
    if (CLAE_CPU && K == 2 && S == 2 && PAD == 0 && WO >= 4) {
        if (gid < NC * HO)
            max_pool_2x2_backward_row(dx, dx_off, dy, dy_off, arg, arg_off, gid, H, W, HO, WO);
        return;
    }
    if (gid >= (overlap ? NC : NC * HO)) return;
    uint plane = overlap ? gid : gid / HO;
    uint oh0 = overlap ? 0 : gid % HO, oh1 = overlap ? HO : oh0 + 1;
    __global float *dxp = dx + dx_off + (ulong)plane * H * W;
    /* clear the input rows this work-item owns, then route */
    int h_lo = overlap ? 0 : (int)(oh0 * S) - (int)PAD, h_hi = overlap ? (int)H : h_lo + (int)S;
    if (!overlap && oh0 == HO - 1) h_hi = (int)H; /* rows below the last window get no gradient */
    if (!overlap && oh0 == 0) h_lo = 0;
    for (int h = h_lo < 0 ? 0 : h_lo; h < h_hi && h < (int)H; h++)
        for (uint w = 0; w < W; w++) dxp[(uint)h * W + w] = 0.0f;
    for (uint oh = oh0; oh < oh1; oh++)
        for (uint ow = 0; ow < WO; ow++) {
            ulong o = ((ulong)plane * HO + oh) * WO + ow;
            int a = (int)arg[arg_off + o];
            if (a >= 0) dxp[a] += dy[dy_off + o];
        }
}

__kernel void avg_pool_forward(__global float *y, const uint y_off, __global const float *x,
                               const uint x_off, const uint NC, const uint H, const uint W,
                               const uint K, const uint S, const uint PAD, const uint HO,
                               const uint WO)
{
    uint gid = get_global_id(0); /* 32-bit: a 64-bit division costs tens of cycles on CPUs */
    if (gid >= NC * HO * WO) return;
    uint ow = gid % WO, oh = (gid / WO) % HO;
    uint plane = gid / (WO * HO);
    float s = 0.0f;
    for (uint i = 0; i < K; i++) {
        int h = (int)(oh * S + i) - (int)PAD;
        if (h < 0 || h >= (int)H) continue;
        for (uint j = 0; j < K; j++) {
            int w = (int)(ow * S + j) - (int)PAD;
            if (w >= 0 && w < (int)W) s += x[x_off + plane * H * W + (uint)h * W + (uint)w];
        }
    }
    y[y_off + gid] = s / (float)(K * K);
}

__kernel void avg_pool_backward(__global float *dx, const uint dx_off, __global const float *dy,
                                const uint dy_off, const uint NC, const uint H, const uint W,
                                const uint K, const uint S, const uint PAD, const uint HO,
                                const uint WO)
{
    uint gid = get_global_id(0); /* 32-bit: a 64-bit division costs tens of cycles on CPUs */
    if (gid >= NC * H * W) return;
    uint w = gid % W, h = (gid / W) % H;
    uint plane = gid / (W * H);
    float s = 0.0f;
    int oh0, oh1, ow0, ow1;
    window_range((int)h, (int)PAD, (int)K, (int)S, (int)HO, &oh0, &oh1);
    window_range((int)w, (int)PAD, (int)K, (int)S, (int)WO, &ow0, &ow1);
    for (int oh = oh0; oh <= oh1; oh++)
        for (int ow = ow0; ow <= ow1; ow++)
            s += dy[dy_off + plane * HO * WO + (uint)oh * WO + (uint)ow];
    dx[dx_off + gid] = s / (float)(K * K);
}
