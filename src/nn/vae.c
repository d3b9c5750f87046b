/* Variational bottleneck ([latent.NAME] type = vae): two dense heads on its
 * input, mu and log-variance (one fused map W (2U, in), b (2U)), and the
 * reparameterised sample z = mu + exp(logvar / 2) eps in training, z = mu in
 * evaluation. Its backward adds the gradient of the KL term, whose weight the
 * trainer sets per step (beta, warm-up, reduction) in kl_weight. KL per row
 * lands in the layer's aux for the trainer to report. Formulas in cl/vae.cl.
 * With graph = true the heads are graph convolutions on the model's side
 * input 0 (VGAE, Kipf & Welling 2016): [mu | log sigma] = A_hat x W^T (no bias,
 * the second head log sigma as the reference's z_log_std), so the weights'
 * gradient is (A_hat dml)^T x and the input's (A_hat dml) W. */
#include <math.h>

#include "clae/nn.h"

enum { ML, EPS, DML, GRAPH_TMP, N_PARTS };

/* scratch regions for the whole batch: [ml (2U)][eps (U)][dml (2U)] per row,
 * with graph heads also [x W^T, then A_hat dml (2U)] */
static clae_tensor part(const clae_layer *l, int which)
{
    size_t u = (size_t)l->spec.units, mb = (size_t)l->scratch.shape.n,
           sizes[N_PARTS] = {2 * u, u, 2 * u, 2 * u};
    clae_tensor t = l->scratch;
    for (int i = 0; i < which; i++) t.off += mb * sizes[i];
    return t;
}

/* The second head is the log-variance, or with graph heads log sigma as the VGAE reference. */
static float logvar_scale(const clae_layer *l) { return l->spec.graph ? 2.0f : 1.0f; }

clae_tensor clae_vae_mu_logvar(const clae_layer *l, int rows)
{
    clae_tensor ml = part(l, ML);
    ml.shape = (clae_shape){rows, 2 * l->spec.units, 1, 1};
    return ml;
}

static int vae_forward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y,
                       bool train)
{
    size_t rows = (size_t)x->shape.n, in = clae_shape_sample(l->in), u = (size_t)l->spec.units;
    clae_tensor ml = part(l, ML), eps = part(l, EPS), kl = clae_rows(&l->aux, (int)rows),
                tmp = part(l, GRAPH_TMP);
    clae_tensor *xw = l->spec.graph ? &tmp : &ml;
    if (l->spec.graph && (!l->side || l->side->shape.n != (int)rows))
        return clae_fail(&ctx->err, "%s:%d: [%s] runs on %zu rows but the graph has %d nodes",
                         CLAE_LAYER_WHERE(l), rows, l->side ? l->side->shape.n : 0);
    if (clae_gemm(ctx, false, true, rows, 2 * u, in, 1.0f, x, in, &l->w, in, 0.0f, xw, 2 * u) ||
        (l->spec.graph && clae_op_spmm(ctx, l->side, (uint32_t)rows, (uint32_t)l->side->shape.c,
                                       &tmp, 2 * u, &ml, false)) ||
        clae_op_bias_act(ctx, &ml, l->n_b ? &l->b : NULL, rows, 2 * u, CLAE_ACT_NONE, 0.0f))
        return -1;
    clae_tensor kle = part(l, DML); /* the KL's terms, before the backward needs it */
    return CLAE_LAUNCH(ctx, "vae_sample", rows * u, KARG_MEM(clae_buf(y)), KARG_U32(y->off),
                       KARG_MEM(clae_buf(&eps)), KARG_U32(eps.off), KARG_MEM(clae_buf(&kle)),
                       KARG_U32(kle.off), KARG_MEM(clae_buf(&ml)), KARG_U32(ml.off), KARG_U32(rows),
                       KARG_U32(u), KARG_U32(l->seed), KARG_I32(train), KARG_F32(logvar_scale(l)),
                       KARG_U32(l->row0)) ||
           CLAE_LAUNCH(ctx, "vae_kl_rows", rows, KARG_MEM(clae_buf(&kl)), KARG_U32(kl.off),
                       KARG_MEM(clae_buf(&kle)), KARG_U32(kle.off), KARG_U32(rows), KARG_U32(u));
}

static int vae_backward(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                        const clae_tensor *dy, clae_tensor *dx)
{
    (void)y;
    size_t rows = (size_t)x->shape.n, in = clae_shape_sample(l->in), u = (size_t)l->spec.units;
    clae_tensor ml = part(l, ML), eps = part(l, EPS), dml = part(l, DML), tmp = part(l, GRAPH_TMP);
    clae_tensor *dh = l->spec.graph ? &tmp : &dml; /* the gradient of x W^T */
    if (CLAE_LAUNCH(ctx, "vae_backward", rows * u, KARG_MEM(clae_buf(&dml)), KARG_U32(dml.off),
                    KARG_MEM(clae_buf(dy)), KARG_U32(dy->off), KARG_MEM(clae_buf(&ml)),
                    KARG_U32(ml.off), KARG_MEM(clae_buf(&eps)), KARG_U32(eps.off), KARG_U32(rows),
                    KARG_U32(u), KARG_F32(l->kl_weight), KARG_F32(logvar_scale(l))) ||
        (l->n_b && clae_op_bias_backward(ctx, &l->db, &dml, rows, 2 * u)) ||
        (l->spec.graph && clae_op_spmm(ctx, l->side, (uint32_t)rows, (uint32_t)l->side->shape.c,
                                       &dml, 2 * u, &tmp, false)) ||
        clae_gemm(ctx, true, false, 2 * u, in, rows, 1.0f, dh, 2 * u, x, in, 1.0f, &l->dw, in))
        return -1;
    return dx ? clae_gemm(ctx, false, false, rows, in, 2 * u, 1.0f, dh, 2 * u, &l->w, in, 0.0f, dx,
                          in)
              : 0;
}

static void vae_init(clae_layer *l, clae_rng *rng, float *host, float *state)
{
    (void)state;
    clae_init_affine(l, (double)clae_shape_sample(l->in), rng, host); /* two nn.Linear heads */
}

static const clae_layer_ops vae_ops = {vae_forward, vae_backward, vae_init};

static int vae_setup(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    (void)earlier, (void)n_earlier;
    (void)err;
    size_t in = clae_shape_sample(l->in), u = (size_t)l->spec.units;
    l->ops = &vae_ops;
    l->out = (clae_shape){1, l->spec.units, 1, 1};
    l->n_w = 2 * u * in;
    l->n_b = l->spec.graph ? 0 : 2 * u; /* graph heads: no bias, as the reference */
    l->scratch_per = (l->spec.graph ? 7 : 5) * u;
    l->aux_per = 1; /* KL per row */
    if (l->spec.graph) l->side_input = 0;
    return 0;
}

static double vae_flops(const clae_layer *l)
{
    return 2.0 * (double)clae_shape_sample(l->in) * 2.0 *
           l->spec.units; /* mean and log-variance heads */
}

/* The KL term's gradient joins in the backward with the weight the trainer
 * sets; tests/test_gradcheck.c checks it with a weight (test_vae). */
const clae_layer_kind clae_kind_vae = {
    .type = CLAE_LAYER_VAE,
    .names = {{"vae", "units beta warmup_epochs graph"}},
    .setup = vae_setup,
    .flops = vae_flops,
    .checks = {{{.type = CLAE_LAYER_VAE, .units = 3, .beta = 1}, {1, 7, 1, 1}, 2}},
};
