/* Upsampling by an integer factor, PyTorch nn.Upsample semantics:
 *   nearest:  src = floor(dst / F)
 *   bilinear (align_corners=False): src = max((dst + 0.5) / F - 0.5, 0),
 *             i0 = floor(src), i1 = min(i0 + 1, in - 1), weight of i1 = src - i0.
 * Backward gathers over the outputs that read each input (a window of about
 * 3F outputs for bilinear), so it needs no atomics. */

void bilinear_src(const int dst, const int F, const int in, int *i0, int *i1, float *l1)
{
    float src = ((float)dst + 0.5f) / (float)F - 0.5f;
    if (src < 0.0f) src = 0.0f;
    *i0 = (int)src;
    if (*i0 > in - 1) *i0 = in - 1;
    *i1 = *i0 + 1 < in ? *i0 + 1 : in - 1;
    *l1 = src - (float)*i0;
}

/* One work-item per output row (index divisions once per row). */
__kernel void upsample_forward(__global float *y, const uint y_off, __global const float *x,
                               const uint x_off, const uint NC, const uint H, const uint W,
                               const uint F, const int bilinear)
{
    uint gid = get_global_id(0);
    uint HO = H * F, WO = W * F;
    if (gid >= NC * HO) return;
    uint oh = gid % HO;
    __global const float *xp = x + x_off + (ulong)(gid / HO) * H * W;
    __global float *out = y + y_off + (ulong)gid * WO;
    if (!bilinear && F == 2 && W >= 4) { /* each vector of 8 (4) inputs becomes 16 (8) outputs */
        __global const float *row = xp + (oh / 2) * W;
        const uint16 twice = (uint16)(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        /* the row's last 8 (4) again where it ends mid-vector: the same values stored twice */
        if (W < 8) {
            vstore8(shuffle(vload4(0, row), twice.lo), 0, out);
            vstore8(shuffle(vload4(0, row + W - 4), twice.lo), 0, out + 2 * (W - 4));
            return;
        }
        for (uint iw = 0; iw + 8 <= W; iw += 8)
            vstore16(shuffle(vload8(0, row + iw), twice), 0, out + 2 * iw);
        if (W % 8) vstore16(shuffle(vload8(0, row + W - 8), twice), 0, out + 2 * (W - 8));
        return;
    }
    if (!bilinear) {
        __global const float *row = xp + (oh / F) * W;
        for (uint iw = 0; iw < W; iw++) { /* no division per value */
            float v = row[iw];
            for (uint f = 0; f < F; f++) out[iw * F + f] = v;
        }
        return;
    }
    int h0, h1, w0, w1;
    float lh, lw;
    bilinear_src((int)oh, (int)F, (int)H, &h0, &h1, &lh);
    __global const float *r0 = xp + h0 * W, *r1 = xp + h1 * W;
    for (uint ow = 0; ow < WO; ow++) {
        bilinear_src((int)ow, (int)F, (int)W, &w0, &w1, &lw);
        out[ow] = (1.0f - lh) * ((1.0f - lw) * r0[w0] + lw * r0[w1]) +
                  lh * ((1.0f - lw) * r1[w0] + lw * r1[w1]);
    }
}

/* Weight with which output o reads input i along one axis (bilinear). */
float bilinear_weight(const int o, const int i, const int F, const int in)
{
    int i0, i1;
    float l1;
    bilinear_src(o, F, in, &i0, &i1, &l1);
    return (i0 == i ? 1.0f - l1 : 0.0f) + (i1 == i ? l1 : 0.0f);
}

#ifndef CLAE_CPU
#define CLAE_CPU 0
#endif

__kernel void upsample_backward(__global float *dx, const uint dx_off, __global const float *dy,
                                const uint dy_off, const uint NC, const uint H, const uint W,
                                const uint F, const int bilinear)
{
    if (CLAE_CPU &&
        !bilinear) { /* CPUs: the host launches one work-item per input row (nearest only) */
        uint row = get_global_id(0);
        if (row >= NC * H) return;
        uint h = row % H, WO = W * F;
        __global const float *d0 = dy + dy_off + ((size_t)(row / H) * H * F + h * F) * WO;
        __global float *out = dx + dx_off + (size_t)row * W;
        if (F == 2 && W >= 8) { /* 8 inputs from two rows of 16; the last 8 overlap */
            for (uint w = 0;; w += 8) {
                w = min(w, W - 8);
                float16 a = vload16(0, d0 + 2 * w), b = vload16(0, d0 + WO + 2 * w);
                vstore8(a.even + a.odd + b.even + b.odd, 0, out + w); /* the scalar order */
                if (w + 8 == W) return;
            }
        }
        if (F == 2 && W >= 4) { /* rows of 4 to 7: 4 inputs at 0 and at W - 4 */
            for (uint w = 0;; w = W - 4) {
                float8 a = vload8(0, d0 + 2 * w), b = vload8(0, d0 + WO + 2 * w);
                vstore4(a.even + a.odd + b.even + b.odd, 0, out + w);
                if (w + 4 == W) return;
            }
        }
        for (uint w = 0; w < W; w++) {
            float s = 0.0f;
            for (uint i = 0; i < F; i++)
                for (uint j = 0; j < F; j++) s += d0[i * WO + w * F + j];
            out[w] = s;
        }
        return;
    }
    uint gid = get_global_id(0); /* 32-bit: a 64-bit division costs tens of cycles on CPUs */
    if (gid >= NC * H * W) return;
    uint w = gid % W, h = (gid / W) % H;
    uint HO = H * F, WO = W * F;
    __global const float *dyp = dy + dy_off + (size_t)(gid / (W * H)) * HO * WO;
    float s = 0.0f;
    if (!bilinear) {
        for (uint i = 0; i < F; i++)
            for (uint j = 0; j < F; j++) s += dyp[(h * F + i) * WO + w * F + j];
    } else {
        int oh0 = (int)(h * F) - (int)F, oh1 = (int)(h * F + 2 * F), ow0 = (int)(w * F) - (int)F,
            ow1 = (int)(w * F + 2 * F);
        for (int oh = oh0 < 0 ? 0 : oh0; oh < oh1 && oh < (int)HO; oh++) {
            float wh = bilinear_weight(oh, (int)h, (int)F, (int)H);
            if (wh == 0.0f) continue;
            for (int ow = ow0 < 0 ? 0 : ow0; ow < ow1 && ow < (int)WO; ow++) {
                float ww = bilinear_weight(ow, (int)w, (int)F, (int)W);
                if (ww != 0.0f) s += wh * ww * dyp[oh * WO + ow];
            }
        }
    }
    dx[dx_off + gid] = s;
}
