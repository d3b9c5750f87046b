/* clae's own SGEMM for CPU devices: C = alpha * op(A) * op(B) + beta * C, row-major.
 *
 * Why: PoCL vectorises explicit vector types well, and CLBlast's tiled kernels
 * (built for GPUs, untuned for PoCL) poorly. The micro-kernel keeps an
 * MR x NR register tile of floatW accumulators (NR = NV * W), with no local
 * memory or barriers; one work-item computes one tile, and the work-group runs
 * down a column of tiles so their B panel stays in cache.
 *  - B is first packed (gemm_pack_b) into zero-padded panels
 *      Bp[jb][k][NR] = op(B)[k][jb*NR + c],
 *    which folds its transpose away and turns the k loop into one contiguous
 *    stream (a row stride like 4 KiB would make every k step hit the same
 *    cache sets).
 *  - A is read in place: each k step needs MR scalars, from MR rows (A) or
 *    one contiguous run (A transposed); rows past m are clamped to the last
 *    one and their results dropped.
 *  - Convolutions run on it without their im2col matrix or layout permutes:
 *    B can be packed straight from an image (gemm_pack_im2col), A's k index
 *    and C's column index can run over a batch of images ("batched": index q
 *    sits at (q / cols) * img + q % cols), and the store adds a per-row bias
 *    and applies the activation.
 * Variants differ in MR, NV and W and are chosen by measurement (clae tune). */

/* One work-item packs 16 k-rows of one panel, with vector loads NR wide along
 * B's rows. B's columns may be batched (b_cols, b_img): column j of row kk
 * sits at kk * ldb + (j / b_cols) * b_img + j % b_cols. */
__kernel void gemm_pack_b(__global const float *b, uint b_off, uint ldb, uint k, uint n, uint nr,
                          uint b_cols, uint b_img, __global float *bp, uint bp_off, uint kblocks,
                          uint items)
{
    uint e = get_global_id(0);
    if (e >= items) return;
    uint jb = e / kblocks, k0 = (e - jb * kblocks) * 16, j0 = jb * nr;
    uint kn = min(16u, k - k0);
    __global float *dst = bp + bp_off + ((size_t)jb * k + k0) * nr;
    __global const float *src = b + b_off;
    uint img = j0 / b_cols, q0 = j0 - img * b_cols;
    bool contiguous = j0 + nr <= n && q0 + nr <= b_cols;
    for (uint t = 0; t < kn; t++) {
        __global const float *row = src + (size_t)(k0 + t) * ldb;
        if (contiguous) {
            __global const float *seg = row + (size_t)img * b_img + q0;
            for (uint v = 0; v < nr / 8; v++) vstore8(vload8(v, seg), v, dst + t * nr);
        } else {
            for (uint c = 0; c < nr; c++) {
                uint j = j0 + c, ji = j / b_cols;
                dst[t * nr + c] = j < n ? row[(size_t)ji * b_img + (j - ji * b_cols)] : 0.0f;
            }
        }
    }
}

/* An 8x8 transpose in registers: r[t] becomes (r[0][t], ..., r[7][t]). Three stages of
 * two-source shuffles (unpack, pair, half swap), which become 24 AVX shuffles. */
inline void transpose8x8(float8 *r)
{
    const uint8 lo = (uint8)(0, 8, 1, 9, 4, 12, 5, 13), hi = (uint8)(2, 10, 3, 11, 6, 14, 7, 15);
    const uint8 pl = (uint8)(0, 1, 8, 9, 4, 5, 12, 13), ph = (uint8)(2, 3, 10, 11, 6, 7, 14, 15);
    const uint8 fl = (uint8)(0, 1, 2, 3, 8, 9, 10, 11), fh = (uint8)(4, 5, 6, 7, 12, 13, 14, 15);
    float8 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = shuffle2(r[i], r[i + 1], lo);
        t[i + 1] = shuffle2(r[i], r[i + 1], hi);
    }
    for (int i = 0; i < 8; i += 4) { /* rows i..i+3: elements (0, 4), (1, 5), (2, 6), (3, 7) */
        u[i] = shuffle2(t[i], t[i + 2], pl);
        u[i + 1] = shuffle2(t[i], t[i + 2], ph);
        u[i + 2] = shuffle2(t[i + 1], t[i + 3], pl);
        u[i + 3] = shuffle2(t[i + 1], t[i + 3], ph);
    }
    for (int e = 0; e < 4; e++) {
        r[e] = shuffle2(u[e], u[e + 4], fl);
        r[e + 4] = shuffle2(u[e], u[e + 4], fh);
    }
}

/* Column j of the panel (op(B)(k0 .. k0 + kn, j)) element by element, zeros past n. */
inline void pack_bt_column(__global const float *b, uint ldb, uint n, uint nr, uint b_kcols,
                           uint b_kimg, uint kn, uint img0, uint q0, uint j, uint c,
                           __global float *dst)
{
    if (j >= n) {
        for (uint t = 0; t < kn; t++) dst[t * nr + c] = 0.0f;
        return;
    }
    __global const float *col = b + (size_t)j * ldb;
    uint img = img0, q = q0;
    for (uint t = 0; t < kn; t++, q++) {
        if (q == b_kcols) q = 0, img++;
        dst[t * nr + c] = col[(size_t)img * b_kimg + q];
    }
}

/* The same with B transposed: op(B)(kk, j) sits along B's stored rows, so a
 * full block of 8 columns by 16 k reads 16 vectors and turns them into panel
 * rows with two register transposes; partial blocks go element by element.
 * Its k index may be batched: op(B)(kk, j) at j * ldb + (kk / b_kcols) * b_kimg
 * + kk % b_kcols (b_kcols = k when not; batched, an NCHW gradient read as
 * [positions, channels]). */
__kernel void gemm_pack_bt(__global const float *b, uint b_off, uint ldb, uint k, uint n, uint nr,
                           uint b_kcols, uint b_kimg, __global float *bp, uint bp_off, uint kblocks,
                           uint items)
{
    uint e = get_global_id(0);
    if (e >= items) return;
    uint jb = e / kblocks, k0 = (e - jb * kblocks) * 16, j0 = jb * nr;
    uint kn = min(16u, k - k0), img0 = k0 / b_kcols, q0 = k0 - img0 * b_kcols;
    bool contiguous = kn == 16 && q0 + 16 <= b_kcols;
    __global float *dst = bp + bp_off + ((size_t)jb * k + k0) * nr;
    b += b_off;
    for (uint c0 = 0; c0 < nr; c0 += 8) {
        if (!contiguous || j0 + c0 + 8 > n) {
            for (uint c = c0; c < c0 + 8; c++)
                pack_bt_column(b, ldb, n, nr, b_kcols, b_kimg, kn, img0, q0, j0 + c, c, dst);
            continue;
        }
        __global const float *src = b + (size_t)(j0 + c0) * ldb + (size_t)img0 * b_kimg + q0;
        for (uint h = 0; h < 16; h += 8) {
            float8 r[8];
            for (uint i = 0; i < 8; i++) r[i] = vload8(0, src + (size_t)i * ldb + h);
            transpose8x8(r);
            for (uint t = 0; t < 8; t++) vstore8(r[t], 0, dst + (h + t) * nr + c0);
        }
    }
}

/* Eight values SW apart (SW 1 or 2) from p, reading p[0 .. 7 SW] and no further: the last
 * may end the buffer. */
inline float8 im2col_load8(__global const float *p, uint sw)
{
    return sw == 1 ? vload8(0, p) : (float8)(vload8(0, p).even, vload8(0, p + 7).odd);
}

/* Whether eight taps of one image row, from column ix every SW, are all inside the image. */
inline bool im2col_inside8(int iy, int ix, uint h, uint w, uint sw)
{
    return (uint)iy < h && ix >= 0 && ix + 7 * (int)sw < (int)w;
}

/* Tap (off: its channel's plane, dy, dx) of position pos (n, oh, ow) of im2col(x), 0 outside. */
inline float im2col_tap(__global const float *x, uint pos, uint c, uint h, uint w, uint sh,
                        uint sw, uint ph, uint pw, uint ho, uint wo, int off, int dy, int dx)
{
    uint img = pos / (ho * wo), pp = pos - img * ho * wo, oh = pp / wo, ow = pp - oh * wo;
    int iy = (int)(oh * sh) - (int)ph + dy, ix = (int)(ow * sw) - (int)pw + dx;
    bool in = (uint)iy < h && (uint)ix < w;
    return in ? x[(size_t)img * c * h * w + off + iy * (int)w + ix] : 0.0f;
}

/* Packs B = col (taps_are_k = 1: col[tap][pos], k over taps) or B = col^T
 * (taps_are_k = 0: k over positions) straight from the images x, where
 * col = im2col(x) as conv.cl defines it: tap = (c, i, j) over C K K and
 * pos = (n, oh, ow) over N HO WO. Out-of-image taps read 0. One kernel per
 * panel width NR, so the per-column arrays live in registers and the loops
 * over them unroll. At stride 1 or 2, eight consecutive positions of one
 * output row (a line) read a tap as one vector load (two at stride 2)
 * wherever all eight are inside the image; the edges, lines broken by a row's
 * end and other strides read element by element. */
#define GEMM_PACK_IM2COL(NR)                                                                     \
    __kernel void gemm_pack_im2col_##NR(                                                         \
        __global const float *x, uint x_off, uint N, uint C, uint H, uint W, uint KH, uint KW,   \
        uint SH, uint SW, uint PH, uint PW, uint DH, uint DW, uint HO, uint WO, uint taps_are_k, \
        uint k, uint n, __global float *bp, uint bp_off, uint kblocks, uint items)               \
    {                                                                                            \
        uint e = get_global_id(0);                                                               \
        if (e >= items) return;                                                                  \
        uint jb = e / kblocks, k0 = (e - jb * kblocks) * 16, j0 = jb * NR;                       \
        uint kn = min(16u, k - k0);                                                              \
        __global float *dst = bp + bp_off + ((size_t)jb * k + k0) * NR;                          \
        const uint HOWO = HO * WO, KK = KH * KW, HW = H * W;                                     \
        __global const float *src = x + x_off;                                                   \
        if (taps_are_k) { /* columns are positions: NR of them, rows are 16 taps */              \
            int iy0[NR], ix0[NR], base[NR];                                                      \
            _Pragma("unroll") for (uint q = 0; q < NR; q++)                                      \
            {                                                                                    \
                uint pos = j0 + q, img = pos / HOWO, pp = pos - img * HOWO, oh = pp / WO,        \
                     ow = pp - oh * WO;                                                          \
                bool ok = pos < n;                                                               \
                base[q] = ok ? (int)(img * C * HW) : 0;                                          \
                iy0[q] = ok ? (int)(oh * SH) - (int)PH : -(1 << 28);                             \
                ix0[q] = (int)(ow * SW) - (int)PW;                                               \
            }                                                                                    \
            for (uint u = 0; u < kn; u++) {                                                      \
                uint tap = k0 + u, ci = tap / KK, r = tap - ci * KK, ky = r / KW,                \
                     kx = r - ky * KW;                                                           \
                int dy = (int)(ky * DH), dx = (int)(kx * DW), plane = (int)(ci * HW);            \
                _Pragma("unroll") for (uint q0 = 0; q0 < NR; q0 += 8)                            \
                {                                                                                \
                    int iy = iy0[q0] + dy, ix = ix0[q0] + dx;                                    \
                    bool line = SW <= 2 && iy0[q0 + 7] == iy0[q0] &&                             \
                                ix0[q0 + 7] - ix0[q0] == 7 * (int)SW;                            \
                    if (line && im2col_inside8(iy, ix, H, W, SW)) {                              \
                        vstore8(im2col_load8(src + base[q0] + plane + iy * (int)W + ix, SW), 0,  \
                                dst + u * NR + q0);                                              \
                        continue;                                                                \
                    }                                                                            \
                    if (line && (uint)iy >= H) { /* a padding row */                             \
                        vstore8((float8)(0.0f), 0, dst + u * NR + q0);                           \
                        continue;                                                                \
                    }                                                                            \
                    if (line && ix < 0 && im2col_inside8(iy, ix + (int)SW, H, W, SW)) {          \
                        /* only the first lane in the left padding: the next eight, shifted */   \
                        float8 v = im2col_load8(src + base[q0] + plane + iy * (int)W + ix + SW,  \
                                                SW);                                             \
                        vstore8((float8)(0.0f, v.s0, v.s1, v.s2, v.s3, v.s4, v.s5, v.s6), 0,    \
                                dst + u * NR + q0);                                              \
                        continue;                                                                \
                    }                                                                            \
                    _Pragma("unroll") for (uint q = q0; q < q0 + 8; q++)                         \
                    {                                                                            \
                        int yq = iy0[q] + dy, xq = ix0[q] + dx;                                  \
                        bool in = (uint)yq < H && (uint)xq < W;                                  \
                        dst[u * NR + q] = in ? src[base[q] + plane + yq * (int)W + xq] : 0.0f;   \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
        } else { /* columns are taps: NR of them, rows are 16 positions */                       \
            int off[NR], dys[NR], dxs[NR];                                                       \
            _Pragma("unroll") for (uint q = 0; q < NR; q++)                                      \
            {                                                                                    \
                uint tap = j0 + q, ci = tap / KK, r = tap - ci * KK, ky = r / KW,                \
                     kx = r - ky * KW;                                                           \
                bool ok = tap < n;                                                               \
                off[q] = (int)(ci * HW);                                                         \
                dys[q] = ok ? (int)(ky * DH) : -(1 << 28);                                       \
                dxs[q] = (int)(kx * DW);                                                         \
            }                                                                                    \
            for (uint u0 = 0; u0 < kn; u0 += 8) {                                                \
                uint pos = k0 + u0, img = pos / HOWO, pp = pos - img * HOWO, oh = pp / WO,       \
                     ow = pp - oh * WO;                                                          \
                const bool line = SW <= 2 && u0 + 8 <= kn && ow + 7 < WO;                        \
                int iy0 = (int)(oh * SH) - (int)PH, ix0 = (int)(ow * SW) - (int)PW,              \
                    base = (int)(img * C * HW);                                                  \
                _Pragma("unroll") for (uint q = 0; q < NR; q++)                                  \
                {                                                                                \
                    int iy = iy0 + dys[q], ix = ix0 + dxs[q];                                    \
                    if (line && im2col_inside8(iy, ix, H, W, SW)) {                              \
                        float8 v = im2col_load8(src + base + off[q] + iy * (int)W + ix, SW);     \
                        dst[u0 * NR + q] = v.s0, dst[(u0 + 1) * NR + q] = v.s1;                  \
                        dst[(u0 + 2) * NR + q] = v.s2, dst[(u0 + 3) * NR + q] = v.s3;            \
                        dst[(u0 + 4) * NR + q] = v.s4, dst[(u0 + 5) * NR + q] = v.s5;            \
                        dst[(u0 + 6) * NR + q] = v.s6, dst[(u0 + 7) * NR + q] = v.s7;            \
                        continue;                                                                \
                    }                                                                            \
                    for (uint t = u0; t < u0 + 8 && t < kn; t++)                                 \
                        dst[t * NR + q] = im2col_tap(src, k0 + t, C, H, W, SH, SW, PH, PW, HO,   \
                                                     WO, off[q], dys[q], dxs[q]);                \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    }

GEMM_PACK_IM2COL(8)
GEMM_PACK_IM2COL(16)
GEMM_PACK_IM2COL(32)

#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)


/* Where row i of A starts: i * a_rs, or, when a_tkw > 0, the rows are the
 * taps (c, ky, kx) of a padded image: c * a_plane + ky * a_dy + kx * a_dx. */
size_t gemm_a_row(uint i, uint a_rs, uint a_tkh, uint a_tkw, uint a_plane, uint a_dy, uint a_dx)
{
    if (!a_tkw) return (size_t)i * a_rs;
    uint c = i / (a_tkh * a_tkw), r = i - c * a_tkh * a_tkw, ky = r / a_tkw, kx = r - ky * a_tkw;
    return (size_t)c * a_plane + (size_t)ky * a_dy + (size_t)kx * a_dx;
}

/* One variant: MR rows by NV vectors of W floats. A(i, kk) sits at
 * a[row(i) + (kk / a_kcols) * a_kimg + (kk % a_kcols) * a_ks] ((lda, 1) as
 * stored, (1, lda) transposed, a_kcols >= k when not batched), and with a
 * second level the quotient kk / a_kcols splits again by a_kcols2 / a_kimg2
 * (rows, then images of a padded image); C(i, j) at
 * c[i * ldc + (j / c_cols) * c_img + j % c_cols]. The bias is per row (one
 * per output channel of a convolution) or, with bias_cols, per column (one per
 * feature of a dense layer). */
#define GEMM_TILE_KERNEL(NAME, MR, NV, W)                                                          \
    __kernel void NAME(__global const float *a, uint a_off, uint a_rs, uint a_ks, uint a_kcols,    \
                       uint a_kimg, uint a_kcols2, uint a_kimg2, uint a_tkh, uint a_tkw,           \
                       uint a_plane, uint a_dy, uint a_dx, __global const float *bp, uint bp_off,  \
                       uint k, __global float *c, uint c_off, uint ldc, uint c_cols, uint c_img,   \
                       uint m, uint n, float alpha, float beta, __global const float *bias,        \
                       uint bias_off, uint bias_cols, int act, float slope)                        \
    {                                                                                              \
        const uint ib = get_global_id(0), jb = get_global_id(1);                                   \
        if (ib * MR >= m || jb * (NV * W) >= n) return;                                            \
        const uint i0 = ib * MR, j0 = jb * (NV * W);                                               \
        __global const float *pa[MR];                                                              \
        _Pragma("unroll") for (int r = 0; r < MR; r++) pa[r] =                                     \
            a + a_off + gemm_a_row(min(i0 + r, m - 1), a_rs, a_tkh, a_tkw, a_plane, a_dy, a_dx);   \
        __global const float *pb = bp + bp_off + (size_t)jb * k * (NV * W);                        \
        GEMM_CAT(float, W) acc[MR][NV];                                                            \
        _Pragma("unroll") for (int r = 0; r < MR; r++)                                             \
            _Pragma("unroll") for (int v = 0; v < NV; v++) acc[r][v] = (GEMM_CAT(float, W))(0.0f); \
        size_t ka = 0;                                                                             \
        uint kc = 0, kc2 = 0;                                                                      \
        /* runs of k along one row (or image) of a batched k, so that the                          \
         * innermost loop carries no bookkeeping: registers stay for the tile */                   \
        for (uint kk = 0; kk < k;) {                                                               \
            const uint run = min(a_kcols - kc, k - kk);                                            \
            for (uint t = 0; t < run; t++) {                                                       \
                GEMM_CAT(float, W) bv[NV];                                                         \
                _Pragma("unroll") for (int v = 0; v < NV; v++) bv[v] = GEMM_CAT(vload, W)(v, pb);  \
                _Pragma("unroll") for (int r = 0; r < MR; r++)                                     \
                {                                                                                  \
                    const float av = pa[r][ka];                                                    \
                    _Pragma("unroll") for (int v = 0; v < NV; v++)                                 \
                        acc[r][v] = fma((GEMM_CAT(float, W))(av), bv[v], acc[r][v]);               \
                }                                                                                  \
                pb += NV * W;                                                                      \
                ka += a_ks;                                                                        \
            }                                                                                      \
            kk += run;                                                                             \
            if ((kc += run) == a_kcols) { /* the next row (or image) of a batched k */             \
                kc = 0;                                                                            \
                ka += (size_t)a_kimg - (size_t)a_kcols * a_ks;                                     \
                if (++kc2 == a_kcols2) { /* the next image of a two-level k */                     \
                    kc2 = 0;                                                                       \
                    ka += (size_t)a_kimg2 - (size_t)a_kcols2 * a_kimg;                             \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        const uint img0 = j0 / c_cols, q0 = j0 - img0 * c_cols;                                    \
        const bool contiguous = j0 + NV * W <= n && q0 + NV * W <= c_cols;                         \
        __global const float *bs = bias ? bias + bias_off : 0;                                     \
        _Pragma("unroll") for (int r = 0; r < MR; r++)                                             \
        {                                                                                          \
            if (i0 + r >= m) break;                                                                \
            __global float *row = c + c_off + (size_t)(i0 + r) * ldc;                              \
            const float bi = bs && !bias_cols ? bs[i0 + r] : 0.0f;                                 \
            if (contiguous) {                                                                      \
                __global float *seg = row + (size_t)img0 * c_img + q0;                             \
                _Pragma("unroll") for (int v = 0; v < NV; v++)                                     \
                {                                                                                  \
                    GEMM_CAT(float, W) out = alpha * acc[r][v] + bi;                               \
                    if (bs && bias_cols) out += GEMM_CAT(vload, W)(v, bs + j0);                    \
                    if (beta != 0.0f) out += beta * GEMM_CAT(vload, W)(v, seg);                    \
                    if (act) out = GEMM_CAT(act_apply_float, W)(out, act, slope);                  \
                    GEMM_CAT(vstore, W)(out, v, seg);                                              \
                }                                                                                  \
            } else { /* the last tile, one that runs into the next image, or C transposed */       \
                uint img = img0, q = q0;                                                           \
                /* without per-column terms the whole vector is final here: its activation         \
                 * runs on the vector (scalar exp is slow), only the stores are scalar */          \
                const bool whole = beta == 0.0f && !(bs && bias_cols);                             \
                _Pragma("unroll") for (int v = 0; v < NV; v++)                                     \
                {                                                                                  \
                    float tmp[W];                                                                  \
                    GEMM_CAT(float, W) out = alpha * acc[r][v] + bi;                               \
                    if (whole && act) out = GEMM_CAT(act_apply_float, W)(out, act, slope);         \
                    GEMM_CAT(vstore, W)(out, 0, tmp);                                              \
                    for (int e = 0; e < W; e++, q++) {                                             \
                        if (j0 + v * W + e >= n) break;                                            \
                        while (q >= c_cols) q -= c_cols, img++;                                    \
                        __global float *cp = row + (size_t)img * c_img + q;                        \
                        if (whole) {                                                               \
                            *cp = tmp[e];                                                          \
                            continue;                                                              \
                        }                                                                          \
                        float o = tmp[e] + (bs && bias_cols ? bs[j0 + v * W + e] : 0.0f);          \
                        if (beta != 0.0f) o += beta * *cp;                                         \
                        *cp = act_apply(act, o, slope);                                            \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

GEMM_TILE_KERNEL(gemm_tile_4x1x16, 4, 1, 16)
GEMM_TILE_KERNEL(gemm_tile_8x1x16, 8, 1, 16)
GEMM_TILE_KERNEL(gemm_tile_4x2x16, 4, 2, 16)
GEMM_TILE_KERNEL(gemm_tile_6x2x16, 6, 2, 16)
GEMM_TILE_KERNEL(gemm_tile_8x2x16, 8, 2, 16)
GEMM_TILE_KERNEL(gemm_tile_4x2x8, 4, 2, 8)
GEMM_TILE_KERNEL(gemm_tile_6x2x8, 6, 2, 8)
GEMM_TILE_KERNEL(gemm_tile_8x1x8, 8, 1, 8)

/* The first n (< 8 or < 16) lanes of o stored at p, as vector stores of 8, 4, 2 and 1: a
 * row's last segment, without a round trip through memory lane by lane (which took a third of
 * conv_rows' time at 1 -> 32 channels, 9 taps). */
inline void store_part8(float8 o, uint n, __global float *p)
{
    if (n & 4) {
        vstore4(o.lo, 0, p);
        p += 4, o.lo = o.hi;
    }
    if (n & 2) {
        vstore2(o.s01, 0, p);
        p += 2, o.s01 = o.s23;
    }
    if (n & 1) p[0] = o.s0;
}

inline void store_part16(float16 o, uint n, __global float *p)
{
    if (n & 8) {
        vstore8(o.lo, 0, p);
        p += 8, o.lo = o.hi;
    }
    store_part8(o.lo, n & 7, p);
}

/* A stride-1 convolution without packing: y[img][co][oy][ox0 ..] for MR output
 * channels and one segment of NR = NV * W outputs of a row, from the
 * zero-padded input xp (conv.cl conv_pad), whose rows make each tap's NR inputs
 * one unaligned vector load. Lanes past the row's end read the next row and
 * are not stored. Weights are w[co][tap], tap = (ci, ky, kx). */
#define CONV_ROWS_KERNEL(NAME, MR, NV, W)                                                          \
    __kernel void NAME(__global const float *w, uint w_off, uint ckk, __global const float *xp,    \
                       uint C, uint Hp, uint Wp, uint KH, uint KW, uint DH, uint DW,               \
                       __global float *y, uint y_off, uint M, uint HO, uint WO, uint segs,         \
                       uint tiles, __global const float *bias, uint bias_off, int act,             \
                       float slope)                                                                \
    {                                                                                              \
        const uint ib = get_global_id(0), t = get_global_id(1);                                    \
        if (ib * MR >= M || t >= tiles) return;                                                    \
        const uint i0 = ib * MR, s = t % segs, row = t / segs, oy = row % HO, img = row / HO;      \
        const uint ox0 = s * (NV * W);                                                             \
        __global const float *pa[MR];                                                              \
        _Pragma("unroll") for (int r = 0; r < MR; r++)                                             \
            pa[r] = w + w_off + (size_t)min(i0 + r, M - 1) * ckk;                                  \
        GEMM_CAT(float, W) acc[MR][NV];                                                            \
        _Pragma("unroll") for (int r = 0; r < MR; r++)                                             \
            _Pragma("unroll") for (int v = 0; v < NV; v++) acc[r][v] = (GEMM_CAT(float, W))(0.0f); \
        __global const float *xi = xp + (size_t)img * C * Hp * Wp + (size_t)oy * Wp + ox0;         \
        uint kk = 0;                                                                               \
        for (uint ci = 0; ci < C; ci++)                                                            \
            for (uint ky = 0; ky < KH; ky++) {                                                     \
                __global const float *rowp = xi + ((size_t)ci * Hp + ky * DH) * Wp;                \
                for (uint kx = 0; kx < KW; kx++, kk++) {                                           \
                    GEMM_CAT(float, W) bv[NV];                                                     \
                    _Pragma("unroll") for (int v = 0; v < NV; v++)                                 \
                        bv[v] = GEMM_CAT(vload, W)(v, rowp + kx * DW);                             \
                    _Pragma("unroll") for (int r = 0; r < MR; r++)                                 \
                    {                                                                              \
                        const float av = pa[r][kk];                                                \
                        _Pragma("unroll") for (int v = 0; v < NV; v++)                             \
                            acc[r][v] = fma((GEMM_CAT(float, W))(av), bv[v], acc[r][v]);           \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        _Pragma("unroll") for (int r = 0; r < MR; r++)                                             \
        {                                                                                          \
            if (i0 + r >= M) break;                                                                \
            __global float *out = y + y_off + (((size_t)img * M + i0 + r) * HO + oy) * WO + ox0;   \
            const float bi = bias ? bias[bias_off + i0 + r] : 0.0f;                                \
            _Pragma("unroll") for (int v = 0; v < NV; v++)                                         \
            {                                                                                      \
                GEMM_CAT(float, W) o = acc[r][v] + bi;                                             \
                if (act) o = GEMM_CAT(act_apply_float, W)(o, act, slope);                          \
                if (ox0 + (v + 1) * W <= WO) {                                                     \
                    GEMM_CAT(vstore, W)(o, v, out);                                                \
                } else if (ox0 + v * W < WO) { /* the row's last, partial vector */                \
                    GEMM_CAT(store_part, W)(o, WO - ox0 - v * W, out + v * W);                     \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

CONV_ROWS_KERNEL(conv_rows_1x1x8, 1, 1, 8)
CONV_ROWS_KERNEL(conv_rows_1x1x16, 1, 1, 16)
CONV_ROWS_KERNEL(conv_rows_1x2x16, 1, 2, 16)
CONV_ROWS_KERNEL(conv_rows_8x1x8, 8, 1, 8)
CONV_ROWS_KERNEL(conv_rows_8x1x16, 8, 1, 16)
CONV_ROWS_KERNEL(conv_rows_8x2x16, 8, 2, 16)
/* for 8-wide devices (16 registers): 12 float8 accumulators */
CONV_ROWS_KERNEL(conv_rows_6x2x8, 6, 2, 8)

/* The same convolution with the vectors along the output channels: a work-item computes P
 * output pixels (consecutive in (n, oy, ox) order, across rows and images) by NV * W output
 * channels from the weights by tap wt[tap][MP] (conv.cl conv_weights_by_tap: MP is M rounded
 * up to NV * W, zero past M), broadcasting each pixel's input. No lane idles at a row's end,
 * and the channels fill every vector where M is a multiple of NV * W; the price is a store per
 * output value instead of per vector (1 in 2 C K K of the FMAs at most). */
#define CONV_ROWS_CH_KERNEL(NAME, P, NV, W)                                                        \
    __kernel void NAME(__global const float *wt, uint MP, __global const float *xp, uint C,        \
                       uint Hp, uint Wp, uint KH, uint KW, uint DH, uint DW, __global float *y,    \
                       uint y_off, uint M, uint HO, uint WO, uint npix,                            \
                       __global const float *bias, uint bias_off, int act, float slope)            \
    {                                                                                              \
        const uint c0 = get_global_id(0) * (NV * W), j0 = get_global_id(1) * P, HOWO = HO * WO;   \
        if (c0 >= M || j0 >= npix) return;                                                         \
        __global const float *px[P];                                                               \
        _Pragma("unroll") for (int p = 0; p < P; p++)                                              \
        {                                                                                          \
            const uint j = min(j0 + p, npix - 1), img = j / HOWO, pp = j - img * HOWO,             \
                       oy = pp / WO;                                                               \
            px[p] = xp + ((size_t)img * C * Hp + oy) * Wp + (pp - oy * WO);                        \
        }                                                                                          \
        GEMM_CAT(float, W) acc[P][NV];                                                             \
        _Pragma("unroll") for (int p = 0; p < P; p++)                                              \
            _Pragma("unroll") for (int v = 0; v < NV; v++) acc[p][v] = (GEMM_CAT(float, W))(0.0f); \
        __global const float *pw = wt + c0;                                                        \
        for (uint ci = 0; ci < C; ci++)                                                            \
            for (uint ky = 0; ky < KH; ky++) {                                                     \
                const uint ro = (ci * Hp + ky * DH) * Wp;                                          \
                for (uint kx = 0; kx < KW; kx++, pw += MP) {                                       \
                    const uint off = ro + kx * DW;                                                 \
                    GEMM_CAT(float, W) bv[NV];                                                     \
                    _Pragma("unroll") for (int v = 0; v < NV; v++)                                 \
                        bv[v] = GEMM_CAT(vload, W)(v, pw);                                         \
                    _Pragma("unroll") for (int p = 0; p < P; p++)                                  \
                    {                                                                              \
                        const float av = px[p][off];                                               \
                        _Pragma("unroll") for (int v = 0; v < NV; v++)                             \
                            acc[p][v] = fma((GEMM_CAT(float, W))(av), bv[v], acc[p][v]);           \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        GEMM_CAT(float, W) bvec[NV];                                                               \
        _Pragma("unroll") for (int v = 0; v < NV; v++)                                             \
        {                                                                                          \
            float tmp[W];                                                                          \
            for (uint e = 0; e < W; e++) {                                                         \
                const uint c = c0 + v * W + e;                                                     \
                tmp[e] = bias && c < M ? bias[bias_off + c] : 0.0f;                                \
            }                                                                                      \
            bvec[v] = GEMM_CAT(vload, W)(0, tmp);                                                  \
        }                                                                                          \
        _Pragma("unroll") for (int p = 0; p < P; p++)                                              \
        {                                                                                          \
            const uint j = j0 + p, img = j / HOWO;                                                 \
            if (j >= npix) break;                                                                  \
            __global float *out = y + y_off + (size_t)img * M * HOWO + (j - img * HOWO);           \
            _Pragma("unroll") for (int v = 0; v < NV; v++)                                         \
            {                                                                                      \
                GEMM_CAT(float, W) o = acc[p][v] + bvec[v];                                        \
                if (act) o = GEMM_CAT(act_apply_float, W)(o, act, slope);                          \
                float tmp[W];                                                                      \
                GEMM_CAT(vstore, W)(o, 0, tmp);                                                    \
                for (uint e = 0; e < W && c0 + v * W + e < M; e++)                                 \
                    out[(size_t)(c0 + v * W + e) * HOWO] = tmp[e];                                 \
            }                                                                                      \
        }                                                                                          \
    }

/* 8-wide devices: 12 float8 accumulators, 16 channels by 6 pixels */
CONV_ROWS_CH_KERNEL(conv_rows_ch_6x2x8, 6, 2, 8)
