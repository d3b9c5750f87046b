/* Host side of every kernel family: argument setup, work sizes, enqueue.
 * All launches are asynchronous on the context's in-order queue; errors land
 * in ctx->err. An op never knows about layers. */
#ifndef CLAE_OPS_H
#define CLAE_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "clae/gemm.h"
#include "clae/kinds.h"
#include "clae/tensor.h"

#define CLAE_X_ACT(id, name) CLAE_ACT_##id,
typedef enum { CLAE_ACT_LIST(CLAE_X_ACT) } clae_act;
#undef CLAE_X_ACT
#define CLAE_X_LOSS(id, name) CLAE_LOSS_##id,
typedef enum { CLAE_LOSS_LIST(CLAE_X_LOSS) } clae_loss_kind;
#undef CLAE_X_LOSS

/* --- generic launch ------------------------------------------------------ */
typedef struct {
    size_t size;
    const void *value;
} clae_karg;
#define KARG_U32(v) ((clae_karg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define KARG_I32(v) ((clae_karg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})
#define KARG_F32(v) ((clae_karg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})
#define KARG_MEM(m) ((clae_karg){sizeof(cl_mem), &(cl_mem){(m)}})
#define KARG_NULL ((clae_karg){sizeof(cl_mem), NULL})
/* 1-D launch of n work-items (rounded up to the work-group size; kernels bound-check). */
int clae_launch(clae_ctx *ctx, const char *kernel, size_t n, const clae_karg *args, int nargs);
/* 2-D launch of n0 x n1 work-items in groups of group0 x 1 (n0 rounded up;
 * kernels bound-check); the profile counts it under profile_name (NULL: name). */
int clae_launch2(clae_ctx *ctx, const char *name, const char *profile_name, size_t n0, size_t n1,
                 size_t group0, const clae_karg *args, int nargs);
#define CLAE_LAUNCH(ctx, name, n, ...)                          \
    clae_launch((ctx), (name), (n), (clae_karg[]){__VA_ARGS__}, \
                (int)(sizeof((clae_karg[]){__VA_ARGS__}) / sizeof(clae_karg)))

/* Geometry of one convolution: image C x H x W, kernel KH x KW, stride, padding,
 * dilation, and the grid of kernel positions HO x WO it produces. */
typedef struct {
    int c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo;
} clae_conv_geom;

/* --- the device's FMA peak (peak.c, cl/peak.cl) ------------------------ */
typedef struct {
    double gflops;      /* the best of the widths */
    int width;          /* the float vector width that reached it */
    double by_width[4]; /* float, float4, float8, float16 */
} clae_fma_peak_result;
/* Times chains of fused multiply-adds (about 0.2 s per width). */
int clae_fma_peak(clae_ctx *ctx, clae_fma_peak_result *r);

/* --- GEMM (CLBlast or own) ---------------------------------------------- */
/* Row-major C(m x n) = alpha * op(A) * op(B) + beta * C, op = transpose when asked.
 * lda/ldb/ldc are the row strides of A, B, C as stored. */
int clae_gemm(clae_ctx *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
              const clae_tensor *a, size_t lda, const clae_tensor *b, size_t ldb, float beta,
              clae_tensor *c, size_t ldc);
const char *clae_clblast_status_name(int status);
/* The same with a given engine (clae tune, tests), and the choice clae_gemm makes. */
int clae_gemm_with(clae_ctx *ctx, const clae_gemm_choice *ch, bool trans_a, bool trans_b, size_t m,
                   size_t n, size_t k, float alpha, const clae_tensor *a, size_t lda,
                   const clae_tensor *b, size_t ldb, float beta, clae_tensor *c, size_t ldc);
const clae_gemm_choice *clae_gemm_choose(const clae_ctx *ctx, bool trans_a, bool trans_b, size_t m,
                                         size_t n, size_t k);
/* clae_gemm_choose, noting the shape while clae tune records them. */
const clae_gemm_choice *clae_gemm_pick(clae_ctx *ctx, bool trans_a, bool trans_b, size_t m,
                                       size_t n, size_t k);
/* "NT 64x784x512" */
void clae_gemm_shape_key(char *out, size_t len, bool trans_a, bool trans_b, size_t m, size_t n,
                         size_t k);
/* "clblast" or "own:MRxNVxW/GROUP"; parse returns -1 on anything else or a variant not built */
void clae_gemm_choice_name(const clae_gemm_choice *ch, char *out, size_t len);
int clae_gemm_parse_choice(const char *text, clae_gemm_choice *out);
/* The own engine's variant for a device without tuning, by its vector width
 * (README "Speed": 16 floats: 8x2x16, else 6x2x8). */
const clae_gemm_choice *clae_gemm_own_for_device(const clae_device_info *d);
/* The i-th own variant cl/gemm.cl builds (group 4); -1 past the last. */
int clae_gemm_own_variant(int i, clae_gemm_choice *out);
/* The own engine's fused form (cl/gemm.cl), for layers that skip im2col
 * matrices and layout permutes. "Batched" indices run over images: index q
 * sits at (q / cols) * img + q % cols (cols = 0: not batched).
 *   A: op(A)(i, kk); its k index may be batched (a_kcols, a_kimg), on two levels
 *      (then a_kcols2, a_kimg2 split kk / a_kcols again); with a_taps, its rows
 *      are the taps (c, ky, kx) of a padded image, which A then points into.
 *   B: a matrix whose columns may be batched (b_cols, b_img; not with trans_b),
 *      or, with b_im2col, im2col(b) of b_images images (trans_b: its transpose).
 *   C: its column index may be batched (c_cols, c_img); the store adds bias[i]
 *      (bias[j] with bias_per_col) when bias is set and applies act. */
typedef struct {
    bool trans_a, trans_b;
    size_t m, n, k;
    float alpha, beta;
    const clae_tensor *a;
    size_t lda, a_kcols, a_kimg, a_kcols2, a_kimg2;
    const clae_conv_geom
        *a_taps; /* rows c * a_plane + ky dh a_row + kx dw; lda is then the k step */
    size_t a_plane, a_row;
    const clae_tensor *b;
    size_t ldb, b_cols, b_img, b_kcols, b_kimg; /* b_kcols: trans_b with a batched k */
    const clae_conv_geom *b_im2col;
    int b_images;
    clae_tensor *c;
    size_t ldc, c_cols, c_img;
    const clae_tensor *bias;
    bool bias_per_col;
    clae_act act;
    float slope;
} clae_gemm_desc;
int clae_gemm_run(clae_ctx *ctx, const clae_gemm_choice *ch, const clae_gemm_desc *d);
/* A device buffer of at least bytes for a layer's transient operand (slot 0:
 * flipped weights, slot 1: a padded image), owned by the context; valid until
 * the next call for that slot. */
cl_mem clae_gemm_operand_buffer(clae_ctx *ctx, int slot, size_t bytes);
/* A stride-1 convolution on the own engine without any packing: y = act(w *
 * x + bias) for n images (g: geometry with sh = sw = 1, cout output channels),
 * from w (cout, C, KH, KW), or with flip from the flipped weights of the convolution
 * whose input gradient this is (w: (C, cout, KH, KW)). x is first copied into a
 * zero-padded image (cl/conv.cl conv_pad), read with vector loads along an output
 * row segment for several output channels (cl/gemm.cl conv_rows), or, on 8-wide
 * devices where that leaves fewer lanes idle, broadcast for several pixels
 * against vectors of output channels (conv_rows_ch). */
int clae_op_conv_rows(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, const clae_tensor *w,
                      bool flip, int n, int cout, const clae_conv_geom *g, const clae_tensor *bias,
                      clae_act act, float slope);
/* Per-device defaults and $CLAE_GEMM (at context creation); frees the packing scratch. */

/* --- elementwise --------------------------------------------------------- */
int clae_op_fill(clae_ctx *ctx, const clae_tensor *t, size_t n, float value);
int clae_op_add(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, size_t n); /* y += x */
int clae_op_sum2(clae_ctx *ctx, clae_tensor *y, const clae_tensor *a, const clae_tensor *b,
                 size_t n); /* y = a + b */
int clae_op_copy(clae_ctx *ctx, clae_tensor *dst, const clae_tensor *src, size_t n);
#define CLAE_X_NOISE(id, name) CLAE_NOISE_##id,
typedef enum { CLAE_NOISE_LIST(CLAE_X_NOISE) } clae_noise_kind;
#undef CLAE_X_NOISE
/* y = x corrupted by noise drawn from hash(seed, base + index) (cl/elementwise.cl); base: the
 * index of x's first value in its global batch (0 but for a shard of a data-parallel job) */
int clae_op_noise(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, size_t n,
                  clae_noise_kind kind, float level, uint32_t seed, uint32_t base);
/* y = x * keep / (1 - p), keep drawn from hash(seed, index); the backward is the same call on
 * gradients */
/* The quantize layer on g = gain x: y = rint(g), g + U(-0.5, 0.5) from a hash of (seed, index),
 * or g alone (its backward). */
typedef enum { CLAE_QUANT_ROUND, CLAE_QUANT_NOISE, CLAE_QUANT_SCALE } clae_quant_mode;
int clae_op_quantize(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, size_t n,
                     clae_quant_mode mode, uint32_t seed, float gain, uint32_t base);
int clae_op_dropout(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, size_t n, float p,
                    uint32_t seed, uint32_t base);
/* dst rows = src_u8 rows picked by idx[idx_off ..], times scale. */
int clae_op_gather_u8(clae_ctx *ctx, clae_tensor *dst, cl_mem src_u8, cl_mem idx, size_t idx_off,
                      size_t row_len, size_t rows, float scale);

/* Augmented batch gather (augment.cl): order entries are (copy << 24 | sample). */
typedef struct {
    float hflip, vflip, rotate, brightness, contrast, saturation, crop, background[3];
    uint32_t seed;
} clae_augment_params;
int clae_op_augment(clae_ctx *ctx, clae_tensor *dst, cl_mem src_u8, cl_mem order, size_t order_off,
                    size_t rows, clae_shape sample, cl_mem means, const clae_augment_params *a);

/* --- activations --------------------------------------------------------- */
int clae_op_act_forward(clae_ctx *ctx, clae_act kind, float slope, const clae_tensor *x,
                        clae_tensor *y, size_t n);
int clae_op_act_backward(clae_ctx *ctx, clae_act kind, float slope, const clae_tensor *y,
                         const clae_tensor *dy, clae_tensor *dx, size_t n);

/* --- dense helpers ------------------------------------------------------- */
/* y = act(y + b) in place; b may be NULL (no bias). */
int clae_op_bias_act(clae_ctx *ctx, clae_tensor *y, const clae_tensor *b, size_t rows, size_t cols,
                     clae_act kind, float slope);
int clae_op_bias_backward(clae_ctx *ctx, clae_tensor *db, const clae_tensor *dy, size_t rows,
                          size_t cols);

/* --- convolution routines (conv_routine.c) -------------------------------
 * A layer asks for a convolution, a transposed one, a 1x1 projection or a
 * dense product; the routine picks the engine (the tuning's GEMM choice per
 * shape) and the algorithm. */
/* conv, conv_transpose: im2col + GEMM, direct kernels, or auto (by shape) */
#define CLAE_ALGO_LIST(X) X(AUTO, auto) X(IM2COL, im2col) X(DIRECT, direct)
#define CLAE_X_ALGO(id, name) CLAE_ALGO_##id,
typedef enum { CLAE_ALGO_LIST(CLAE_X_ALGO) } clae_conv_algo;
#undef CLAE_X_ALGO

/* A convolution as a layer holds it: image (g.c x g.h x g.w) and grid
 * (grid_c x g.ho x g.wo); a conv maps image to grid, a conv_transpose grid
 * to image. w (grid_c, C, K, K); b (conv: grid_c; conv_transpose: C) or NULL. */
typedef struct {
    clae_conv_geom g;
    int grid_c;
    clae_conv_algo algo;
    bool direct; /* clae_conv_plan_direct at setup */
    const clae_tensor *w, *b;
    clae_act act; /* fused after the forward */
    float slope;
    clae_tensor *col, *tmp; /* workspaces: im2col columns, GEMM output (unused when direct) */
} clae_conv_op;

/* Whether a convolution runs the direct kernels: algo, or for auto by its
 * shape and whether the device's default GEMM is the own engine. */
bool clae_conv_plan_direct(clae_conv_algo algo, bool own_gemm, int grid_channels,
                           int image_channels);
/* y = act(conv(x) + b) for n images; the backward takes the gradient before
 * the activation: dw += its weight gradient, dx (may be NULL) = the input's. */
int clae_conv_forward(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x, clae_tensor *y,
                      int n);
int clae_conv_backward(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x,
                       const clae_tensor *grad, clae_tensor *dw, clae_tensor *dx, int n);
int clae_conv_t_forward(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x, clae_tensor *y,
                        int n);
int clae_conv_t_backward(clae_ctx *ctx, const clae_conv_op *c, const clae_tensor *x,
                         const clae_tensor *grad, clae_tensor *dw, clae_tensor *dx, int n);

/* A 1x1 projection of c_in to c_out channels over p positions (g: its geometry). */
typedef struct {
    clae_conv_geom g;
    int c_in, c_out, p;
    const clae_tensor *w, *b;
} clae_project_op;
int clae_project_forward(clae_ctx *ctx, const clae_project_op *pr, const clae_tensor *x,
                         clae_tensor *out, int n);
/* dw += gp . x^T; dx (may be NULL) += w^T gp (tmp: n * c_in * p floats of workspace) */
int clae_project_backward(clae_ctx *ctx, const clae_project_op *pr, const clae_tensor *x,
                          const clae_tensor *gp, clae_tensor *dw, clae_tensor *dx, clae_tensor *tmp,
                          int n);

/* y = act(x w^T + b) for rows rows; x (rows, in), w (out, in), b (out) or NULL. */
typedef struct {
    size_t in, out;
    const clae_tensor *w, *b;
    clae_act act;
    float slope;
} clae_dense_op;
int clae_dense_forward(clae_ctx *ctx, const clae_dense_op *d, const clae_tensor *x, clae_tensor *y,
                       size_t rows);
/* dw += g^T x; dx (may be NULL) = g w, g the gradient before the activation */
int clae_dense_backward(clae_ctx *ctx, const clae_dense_op *d, const clae_tensor *x,
                        const clae_tensor *g, clae_tensor *dw, clae_tensor *dx, size_t rows);

/* --- graphs (graph.cl) ---------------------------------------------------
 * A sparse n x n matrix is a tensor holding its packed CSR (clae/graph.h):
 * row_ptr (n + 1), col (nnz, uint bits), val (nnz). Row loss sums go to
 * row_loss (n floats). */
/* y (n x cols) = A x (+ y when accumulate) */
int clae_op_spmm(clae_ctx *ctx, const clae_tensor *csr, uint32_t n, uint32_t nnz,
                 const clae_tensor *x, size_t cols, clae_tensor *y, bool accumulate);
/* Over all n^2 logits, targets the pattern of csr: logits become scale * the
 * gradient of the weighted cross-entropy, row_loss scale * its row sums.
 * saved: nnz floats of workspace. */
int clae_op_graph_dense_loss(clae_ctx *ctx, clae_tensor *logits, cl_mem row_loss,
                             const clae_tensor *csr, uint32_t n, float pos_weight, float scale,
                             const clae_tensor *saved);
/* Over the pairs of a symmetric CSR whose values are targets: dz (n x units)
 * = the gradient w.r.t. the codes z of sum w_pos softplus(-x) over edges and
 * w_neg softplus(x) over non-edges, x = z_i . z_j. */
int clae_op_graph_pair_loss(clae_ctx *ctx, clae_tensor *dz, cl_mem row_loss,
                            const clae_tensor *pairs, uint32_t n, uint32_t nnz,
                            const clae_tensor *z, size_t units, float w_pos, float w_neg);

/* --- convolution (conv.cl) ---------------------------------------------- */
/* col[C*KH*KW, n*HO*WO] from x (n images) */
int clae_op_im2col(clae_ctx *ctx, clae_tensor *col, const clae_tensor *x, int n,
                   const clae_conv_geom *g);
/* x (n images) = act(the sum of col entries read from each position + bias per
 * channel) (overwrites x; bias NULL and CLAE_ACT_NONE: the plain sum) */
int clae_op_col2im(clae_ctx *ctx, clae_tensor *x, const clae_tensor *col, int n,
                   const clae_conv_geom *g, const clae_tensor *bias, clae_act act, float slope);
/* [C, N, P] -> [N, C, P] (to_ncp) or back */
int clae_op_permute_cn(clae_ctx *ctx, clae_tensor *dst, const clae_tensor *src, int n, int c, int p,
                       bool to_ncp);
/* y[n, c, p] = act(y + b[c]) in place; b may be NULL */
int clae_op_channel_bias_act(clae_ctx *ctx, clae_tensor *y, const clae_tensor *b, int n, int c,
                             int p, clae_act kind, float slope);
/* db[c] += sum over n, p of g[n, c, p] */
int clae_op_channel_sum(clae_ctx *ctx, clae_tensor *db, const clae_tensor *g, int n, int c, int p);
/* dw[gc][tap] += sum over images and positions of grid[n][gc][pos] times
 * im2col(image)[tap][pos], on the own engine ch without a column matrix: the
 * image is zero-padded once and read as A in place (rows = taps), the grid as
 * B^T; the same sum conv_weight_grad (direct) computes. */
int clae_op_conv_weight_grad_gemm(clae_ctx *ctx, const clae_gemm_choice *ch, clae_tensor *dw,
                                  const clae_tensor *grid, const clae_tensor *image, int n,
                                  int grid_channels, const clae_conv_geom *g);
/* The same sum for a stride-1 geometry (padding at most the kernel's span) without a GEMM, for
 * grids of few channels: image and grid are padded to rows of one width and each tap's sum
 * over an image is a dot product of two contiguous runs (cl/conv.cl conv_weight_grad_flat). */
int clae_op_conv_weight_grad_flat(clae_ctx *ctx, clae_tensor *dw, const clae_tensor *grid,
                                  const clae_tensor *image, int n, int grid_channels,
                                  const clae_conv_geom *g);
/* wt (ci, co, kh, kw) = w (co, ci, kh, kw) flipped in both kernel axes */
int clae_op_conv_flip_weights(clae_ctx *ctx, cl_mem wt, const clae_tensor *w, int co, int ci,
                              int kh, int kw);

/* Direct convolution (conv_direct.cl). The grid has cg channels of g->ho x g->wo
 * positions; w is [cg][g->c][kh][kw] (kh = kw, square strides/paddings/dilations). */
int clae_op_conv_grid_from_image(clae_ctx *ctx, clae_tensor *grid, const clae_tensor *image,
                                 const clae_tensor *w, int n, int cg, const clae_conv_geom *g);
int clae_op_conv_image_from_grid(clae_ctx *ctx, clae_tensor *image, const clae_tensor *grid,
                                 const clae_tensor *w, int n, int cg, const clae_conv_geom *g);
int clae_op_conv_weight_grad(clae_ctx *ctx, clae_tensor *dw, const clae_tensor *grid,
                             const clae_tensor *image, int n, int cg, const clae_conv_geom *g);

/* --- pooling and upsampling (pool.cl, upsample.cl) ------------------------ */
typedef struct {
    int planes, h, w, k, s, pad, ho, wo; /* planes = N * C */
} clae_pool_geom;
int clae_op_max_pool(clae_ctx *ctx, clae_tensor *y, clae_tensor *arg, const clae_tensor *x,
                     const clae_pool_geom *g);
int clae_op_max_pool_backward(clae_ctx *ctx, clae_tensor *dx, const clae_tensor *dy,
                              const clae_tensor *arg, const clae_pool_geom *g);
int clae_op_avg_pool(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, const clae_pool_geom *g);
int clae_op_avg_pool_backward(clae_ctx *ctx, clae_tensor *dx, const clae_tensor *dy,
                              const clae_pool_geom *g);
/* factor f in both directions; planes x h x w in, planes x hf x wf out */
int clae_op_upsample(clae_ctx *ctx, clae_tensor *y, const clae_tensor *x, int planes, int h, int w,
                     int f, bool bilinear);
int clae_op_upsample_backward(clae_ctx *ctx, clae_tensor *dx, const clae_tensor *dy, int planes,
                              int h, int w, int f, bool bilinear);

/* --- losses and metrics -------------------------------------------------- */
/* row_loss[r] = sum over the row; dy (may be NULL) = grad_scale * dloss/dy. */
int clae_op_loss(clae_ctx *ctx, clae_loss_kind kind, const clae_tensor *y, const clae_tensor *t,
                 size_t rows, size_t cols, clae_tensor *dy, float grad_scale, cl_mem row_loss);
int clae_op_metric_rows(clae_ctx *ctx, const clae_tensor *y, const clae_tensor *t, size_t rows,
                        size_t cols, cl_mem row_mse, cl_mem row_bce);
/* acc[slot] += sum(v[0..n)), Kahan-compensated in acc[slot + 1]. */
int clae_op_accumulate(clae_ctx *ctx, cl_mem acc, size_t slot, cl_mem v, size_t n);
/* the same over a tensor's first n values */
int clae_op_accumulate_tensor(clae_ctx *ctx, cl_mem acc, size_t slot, const clae_tensor *v,
                              size_t n);

/* --- classifier head and sparsity (loss.cl, sparse.cl) ------------------ */
/* Softmax cross-entropy of logits z (rows, k) against labels[order[first + r] & mask]:
 * row_loss, row_correct (1 when the first arg-max is the label); dz (may be NULL)
 * = grad_scale * (softmax - onehot); confusion (may be NULL) += 1 at [label][prediction]. */
int clae_op_softmax_xent(clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz, cl_mem labels,
                         cl_mem order, size_t first, uint32_t mask, size_t rows, size_t k,
                         float grad_scale, cl_mem row_loss, cl_mem row_correct, cl_mem confusion);
/* Sparsity penalty of the code z (rows, u): l1 * mean_r sum_j |z| + kl * sum_j KL(rho || mean_r
 * z_j). unit_pen[j] gets each unit's share (their sum is the penalty), rho_hat[j] the mean
 * activation; dz (may be NULL) += the penalty's gradient. */
int clae_op_sparsity(clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz, size_t rows, size_t u,
                     float l1, float kl, float rho, cl_mem rho_hat, cl_mem unit_pen);
/* The rate term (rate.cl): per channel of z (rows x channels x positions) its Laplace fit (mu,
 * scale) and its bits per pixel summed over the rows; then dz += weight * d(bits)/dz. */
int clae_op_rate_fit(clae_ctx *ctx, const clae_tensor *z, size_t rows, size_t channels,
                     size_t positions, float pixels, cl_mem mu, cl_mem scale, cl_mem bits);
int clae_op_rate_grad(clae_ctx *ctx, const clae_tensor *z, clae_tensor *dz, size_t rows,
                      size_t channels, size_t positions, float weight, cl_mem mu, cl_mem scale);
/* row_sum[r] = sum_j z[r,j]; row_zero[r] = #{j : |z[r,j]| < threshold} */
int clae_op_code_rows(clae_ctx *ctx, const clae_tensor *z, size_t rows, size_t u, float threshold,
                      cl_mem row_sum, cl_mem row_zero);

/* --- optimizers (whole parameter buffer in one launch) ------------------- */
/* Every update takes the clipping of its gradient: gscale (a device float, the
 * global-norm coefficient; NULL: none) and clip_value (0: none). */
typedef struct {
    cl_mem gscale;
    float clip_value;
} clae_clip;
int clae_op_sgd(clae_ctx *ctx, cl_mem p, cl_mem g, cl_mem buf, size_t n, float lr, float momentum,
                float dampening, float weight_decay, bool nesterov, bool first_step,
                clae_clip clip);
int clae_op_lion(clae_ctx *ctx, cl_mem p, cl_mem g, cl_mem m, size_t n, float lr, float beta1,
                 float beta2, float weight_decay, clae_clip clip);
/* coef[0] = min(1, max_norm / (||g|| + 1e-6)); partial holds (n + 4095) / 4096 floats */
int clae_op_clip_coefficient(clae_ctx *ctx, cl_mem coef, cl_mem partial, cl_mem g, size_t n,
                             float max_norm);
/* state: m in [0, n), v in [n, 2n) */
int clae_op_adam(clae_ctx *ctx, cl_mem p, cl_mem g, cl_mem state, size_t n, double lr, double beta1,
                 double beta2, double eps, double weight_decay, bool decoupled, long step,
                 clae_clip clip);

#endif
