/* Augmentation while gathering a batch, so the host does no per-step work.
 * An order entry holds the sample in its low 24 bits and the copy in its high 8;
 * the transform of (sample, copy) comes from a hash of (seed, sample, copy), so
 * a copy is the same variant every epoch (as an offline-augmented dataset) and
 * the run is reproducible. Per output pixel: random resized crop (kept area in
 * [crop, 1], square), rotation by up to rotate degrees, flips, bilinear sampling
 * with the background outside the image; then brightness, contrast (around the
 * image's mean gray) and saturation factors in [1 - x, 1 + x], as torchvision's
 * ColorJitter applies them. Uses hash_u32 from elementwise.cl. */

float aug_uniform(const uint key, const uint k)
{
    return (float)(hash_u32(key, k) >> 8) * (1.0f / 16777216.0f);
}

float aug_tap(__global const uchar *img, const int y, const int x, const uint H, const uint W,
              const float bg)
{
    if (y < 0 || x < 0 || y >= (int)H || x >= (int)W) return bg;
    return (float)img[(uint)y * W + (uint)x] * (1.0f / 255.0f);
}

__kernel void augment_batch(__global float *dst, const uint dst_off, __global const uchar *src,
                            __global const uint *order, const uint order_off, const uint rows,
                            const uint C, const uint H, const uint W, __global const float *means,
                            const uint seed, const float hflip, const float vflip,
                            const float rotate_deg, const float brightness, const float contrast,
                            const float saturation, const float crop, const float bg0,
                            const float bg1, const float bg2)
{
    uint gid = get_global_id(0);
    if (gid >= rows * H * W) return;
    uint r = gid / (H * W), pix = gid % (H * W), y = pix / W, x = pix % W;
    uint code = order[order_off + r], sample = code & 0xFFFFFFu, copy = code >> 24;
    uint key = hash_u32(seed ^ hash_u32(sample, 0x51A3u), copy);
    float side = sqrt(crop + (1.0f - crop) * aug_uniform(key, 3));
    float offx = (2.0f * aug_uniform(key, 4) - 1.0f) * (1.0f - side) * 0.5f * (float)W;
    float offy = (2.0f * aug_uniform(key, 5) - 1.0f) * (1.0f - side) * 0.5f * (float)H;
    float angle = (2.0f * aug_uniform(key, 2) - 1.0f) * rotate_deg * (M_PI_F / 180.0f);
    float px = ((float)x + 0.5f - 0.5f * (float)W) * side + offx,
          py = ((float)y + 0.5f - 0.5f * (float)H) * side + offy;
    float cs = cos(angle), sn = sin(angle);
    float qx = cs * px - sn * py, qy = sn * px + cs * py;
    if (aug_uniform(key, 0) < hflip) qx = -qx;
    if (aug_uniform(key, 1) < vflip) qy = -qy;
    float sx = qx + 0.5f * (float)W - 0.5f, sy = qy + 0.5f * (float)H - 0.5f;
    int x0 = (int)floor(sx), y0 = (int)floor(sy);
    float lx = sx - (float)x0, ly = sy - (float)y0;
    float bg[3] = {bg0, bg1, bg2}, v[3];
    for (uint c = 0; c < C && c < 3; c++) {
        __global const uchar *img = src + ((ulong)sample * C + c) * H * W;
        float b = bg[C == 1 ? 0 : c];
        v[c] = (1.0f - ly) * ((1.0f - lx) * aug_tap(img, y0, x0, H, W, b) +
                              lx * aug_tap(img, y0, x0 + 1, H, W, b)) +
               ly * ((1.0f - lx) * aug_tap(img, y0 + 1, x0, H, W, b) +
                     lx * aug_tap(img, y0 + 1, x0 + 1, H, W, b));
    }
    float fb = 1.0f + (2.0f * aug_uniform(key, 6) - 1.0f) * brightness;
    float fc = 1.0f + (2.0f * aug_uniform(key, 7) - 1.0f) * contrast;
    float fs = 1.0f + (2.0f * aug_uniform(key, 8) - 1.0f) * saturation;
    float mean = means[sample] * fb;
    for (uint c = 0; c < C && c < 3; c++)
        v[c] = clamp((clamp(v[c] * fb, 0.0f, 1.0f) - mean) * fc + mean, 0.0f, 1.0f);
    if (C == 3) {
        float gray = 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
        for (uint c = 0; c < 3; c++) v[c] = clamp((v[c] - gray) * fs + gray, 0.0f, 1.0f);
    }
    for (uint c = 0; c < C && c < 3; c++) dst[dst_off + ((ulong)r * C + c) * H * W + pix] = v[c];
}
