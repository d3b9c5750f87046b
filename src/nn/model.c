/* The model: layers in file order, one output tensor per layer, parameters and
 * gradients each in one buffer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/nn.h"

static void shape_str(clae_shape s, char *buf, size_t n)
{
    snprintf(buf, n, "%dx%dx%d (%zu values)", s.c, s.h, s.w, clae_shape_sample(s));
}

static int setup_layer(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err)
{
    const clae_layer_kind *k = clae_layer_kind_of(l->spec.type);
    if (!k)
        return clae_fail(err, "%s:%d: [%s] unknown layer type", l->spec.file, l->spec.line,
                         l->spec.section);
    return k->setup(l, earlier, n_earlier, err);
}

/* Tensors are indexed by 32-bit offsets in the kernels and by int shapes: a
 * layer whose output, weights or scratch would not fit is refused here, before
 * anything is sized from it. */
#define MAX_TENSOR_VALUES ((size_t)INT32_MAX)
static int check_sizes(const clae_layer *l, clae_err *err)
{
    const struct {
        const char *what;
        double values;
    } sizes[] = {{"its output", (double)l->out.c * l->out.h * l->out.w},
                 {"its weights", (double)l->n_w},
                 {"its biases", (double)l->n_b},
                 {"its per-sample scratch", (double)l->scratch_per},
                 {"its per-sample column matrix", (double)l->col_per},
                 {"its per-sample workspace", (double)l->tmp_per},
                 {"its state", (double)l->n_state + (double)l->n_stats}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        if (sizes[k].values > (double)MAX_TENSOR_VALUES || l->out.c < 0 || l->out.h < 0 ||
            l->out.w < 0)
            return clae_fail(err, "%s:%d: [%s] %s would hold %.4g values: at most %zu per tensor",
                             l->spec.file, l->spec.line, l->spec.section, sizes[k].what,
                             sizes[k].values, MAX_TENSOR_VALUES);
    return 0;
}

/* Shapes chain from the input through every layer; the classifier head, after
 * the decoder, starts again from the code. */
static int chain_shapes(clae_model *m, const clae_layer_spec *specs, int n, bool own_gemm,
                        clae_err *err)
{
    clae_shape cur = m->input;
    m->latent_index = -1;
    m->n_main = n;
    for (int i = 0; i < n; i++) {
        clae_layer *l = &m->layers[i];
        bool head = specs[i].role == CLAE_ROLE_CLASSIFIER;
        if (head && m->n_main == n) {
            if (m->latent_index < 0)
                return clae_fail(
                    err,
                    "%s:%d: [%s] a classifier reads the code: add [encoder.NAME] or [latent.NAME] "
                    "sections before it",
                    specs[i].file, specs[i].line, specs[i].section);
            m->n_main = i;
            cur = m->layers[m->latent_index].out;
        } else if (!head && m->n_main < n) {
            return clae_fail(err,
                             "%s:%d: [%s] comes after a [classifier.NAME] section: the classifier "
                             "head goes last",
                             specs[i].file, specs[i].line, specs[i].section);
        }
        l->spec = specs[i];
        l->in = cur;
        l->own_gemm = own_gemm;
        l->side_input = -1;
        if (setup_layer(l, m->layers, i, err) || check_sizes(l, err)) return -1;
        l->n_params = l->n_w + l->n_b;
        cur = l->out;
        if (specs[i].role == CLAE_ROLE_ENCODER || specs[i].role == CLAE_ROLE_LATENT)
            m->latent_index = i;
    }
    double total = 0; /* the gradients are one tensor (clipping, the optimizer) */
    for (int i = 0; i < n; i++) total += (double)m->layers[i].n_params;
    if (total > (double)MAX_TENSOR_VALUES)
        return clae_fail(err, "%s: the model would have %.4g parameters: at most %zu",
                         specs[0].file, total, MAX_TENSOR_VALUES);
    return 0;
}

/* An autoencoder has a code and gives back the input's size. */
static int check_autoencoder(const clae_model *m, clae_err *err)
{
    if (m->latent_index < 0)
        return clae_fail(err, "the model has no encoder or latent layer: add [encoder.NAME] or "
                              "[latent.NAME] sections");
    const clae_layer *last = &m->layers[clae_model_output_index(m)];
    if (clae_shape_sample(last->out) == clae_shape_sample(m->input)) return 0;
    char a[64], b[64];
    shape_str(last->out, a, sizeof a);
    shape_str(m->input, b, sizeof b);
    return clae_fail(
        err,
        "%s:%d: the last layer [%s] outputs %s but the input is %s: the decoder must return to the "
        "input size",
        last->spec.file, last->spec.line, last->spec.section, a, b);
}

static clae_shape flat(size_t n) { return (clae_shape){1, (int)n, 1, 1}; }

static clae_shape batch_of(clae_shape s, int n)
{
    s.n = n;
    return s;
}

/* Parameters and gradients in the same layout; per-layer scratch; one shared
 * im2col and GEMM workspace sized for the largest layer. */
static void place_tensors(clae_model *m)
{
    clae_arena_init(&m->params, "parameters");
    clae_arena_init(&m->grads, "gradients");
    clae_arena_init(&m->acts, "activations");
    clae_arena_init(&m->state, "layer state");
    m->n_params = 0;
    size_t col = 0, tmp = 0;
    for (int i = 0; i < m->n_layers; i++) {
        clae_layer *l = &m->layers[i];
        if (l->n_w)
            l->w = clae_arena_reserve(&m->params, flat(l->n_w)),
            l->dw = clae_arena_reserve(&m->grads, flat(l->n_w));
        if (l->n_b)
            l->b = clae_arena_reserve(&m->params, flat(l->n_b)),
            l->db = clae_arena_reserve(&m->grads, flat(l->n_b));
        if (l->scratch_per)
            l->scratch = clae_arena_reserve(&m->acts, batch_of(flat(l->scratch_per), m->max_batch));
        if (l->aux_per)
            l->aux = clae_arena_reserve(&m->acts, batch_of(flat(l->aux_per), m->max_batch));
        if (l->n_state) l->state = clae_arena_reserve(&m->state, flat(l->n_state));
        if (l->n_stats) l->stats = clae_arena_reserve(&m->acts, flat(l->n_stats));
        col = l->col_per > col ? l->col_per : col;
        tmp = l->tmp_per > tmp ? l->tmp_per : tmp;
        m->n_params += l->n_params;
    }
    m->ws_col = clae_arena_reserve(&m->acts, batch_of(flat(col), m->max_batch));
    m->ws_tmp = clae_arena_reserve(&m->acts, batch_of(flat(tmp), m->max_batch));
    for (int i = 0; i < m->n_layers; i++)
        m->layers[i].col = m->ws_col, m->layers[i].tmp = m->ws_tmp;
    m->x = clae_arena_reserve(&m->acts, batch_of(m->input, m->max_batch));
    for (int i = 0; i < m->n_layers; i++) {
        m->y[i] = clae_arena_reserve(&m->acts, batch_of(m->layers[i].out, m->max_batch));
        m->dy[i] = clae_arena_reserve(&m->acts, batch_of(m->layers[i].out, m->max_batch));
    }
    if (clae_model_has_head(m))
        m->head_dx = clae_arena_reserve(&m->acts,
                                        batch_of(m->layers[m->latent_index].out, m->max_batch));
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].spec.type == CLAE_LAYER_RESIDUAL)
            m->layers[i].skip = m->y[m->layers[i].from];
}

int clae_model_build(clae_model *m, clae_ctx *ctx, clae_shape input, const clae_layer_spec *specs,
                     int n_specs, int max_batch, clae_err *err)
{
    return clae_model_build_stack(m, ctx, input, specs, n_specs, max_batch, true, err);
}

int clae_model_build_stack(clae_model *m, clae_ctx *ctx, clae_shape input,
                           const clae_layer_spec *specs, int n_specs, int max_batch,
                           bool autoencoder, clae_err *err)
{
    memset(m, 0, sizeof *m);
    if (n_specs <= 0)
        return clae_fail(err,
                         "the model has no layers: add [encoder.NAME] and [decoder.NAME] sections");
    m->input = input;
    m->input.n = 1;
    m->max_batch = max_batch;
    m->n_layers = n_specs;
    m->layers = calloc((size_t)n_specs, sizeof *m->layers);
    m->y = calloc((size_t)n_specs, sizeof *m->y);
    m->dy = calloc((size_t)n_specs, sizeof *m->dy);
    if (!m->layers || !m->y || !m->dy) {
        clae_model_release(m);
        return clae_fail(err, "out of host memory building the model");
    }
    bool own_gemm = clae_gemm_default(ctx)->engine == CLAE_GEMM_OWN;
    if (chain_shapes(m, specs, n_specs, own_gemm, err) ||
        (autoencoder && check_autoencoder(m, err))) {
        clae_model_release(m);
        return -1;
    }
    place_tensors(m);
    if (clae_arena_alloc(ctx, &m->params) || clae_arena_alloc(ctx, &m->grads) ||
        clae_arena_alloc(ctx, &m->acts) || clae_arena_alloc(ctx, &m->state)) {
        if (err) *err = ctx->err;
        clae_model_release(m);
        return -1;
    }
    return 0;
}

void clae_model_release(clae_model *m)
{
    clae_arena_release(&m->params);
    clae_arena_release(&m->grads);
    clae_arena_release(&m->acts);
    clae_arena_release(&m->state);
    free(m->layers);
    free(m->y);
    free(m->dy);
    m->layers = NULL;
    m->y = m->dy = NULL;
}

int clae_model_init_params(clae_model *m, clae_ctx *ctx, uint64_t seed)
{
    float *host = calloc(m->params.capacity + 1, sizeof *host),
          *state = calloc(m->state.capacity + 1, sizeof *state);
    int rc = -1;
    if (!host || !state) {
        clae_fail(&ctx->err, "out of host memory initialising parameters");
    } else {
        clae_rng rng;
        clae_rng_seed(&rng, seed, 0x1A17);
        for (int i = 0; i < m->n_layers; i++)
            m->layers[i].ops->init(&m->layers[i], &rng, host, state);
        clae_tensor all = {&m->params, 0, {1, 1, 1, 1}}, st = {&m->state, 0, {1, 1, 1, 1}};
        rc = clae_tensor_write(ctx, &all, host, m->params.capacity);
        if (rc == 0 && m->state.capacity)
            rc = clae_tensor_write(ctx, &st, state, m->state.capacity);
    }
    free(host);
    free(state);
    return rc;
}

int clae_model_forward(clae_model *m, clae_ctx *ctx, int rows, bool train)
{
    return clae_model_forward_range(m, ctx, 0, m->n_layers - 1, rows, train);
}

clae_layer *clae_model_vae(clae_model *m)
{
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].spec.type == CLAE_LAYER_VAE) return &m->layers[i];
    return NULL;
}

/* The input of layer i: the batch, the previous layer's output, or for the
 * head's first layer the code. */
static clae_tensor layer_input(const clae_model *m, int i, int rows)
{
    if (i == 0) return clae_rows(&m->x, rows);
    return clae_rows(&m->y[i == m->n_main ? m->latent_index : i - 1], rows);
}

int clae_model_bind_side(clae_model *m, int slot, const clae_tensor *t, clae_err *err)
{
    if (slot < 0 || slot >= CLAE_MAX_SIDE_INPUTS)
        return clae_fail(err, "side input %d: the model has slots 0 to %d", slot,
                         CLAE_MAX_SIDE_INPUTS - 1);
    m->side[slot] = *t;
    m->side_bound[slot] = true;
    return 0;
}

/* A layer that reads a side input gets it, bound, before it runs. */
static int attach_side(clae_model *m, clae_ctx *ctx, clae_layer *l)
{
    if (l->side_input < 0) return 0;
    if (l->side_input >= CLAE_MAX_SIDE_INPUTS || !m->side_bound[l->side_input])
        return clae_fail(
            &ctx->err, "%s:%d: [%s] reads side input %d, which is not bound (clae_model_bind_side)",
            CLAE_LAYER_WHERE(l), l->side_input);
    l->side = &m->side[l->side_input];
    return 0;
}

static int forward_layer(clae_model *m, clae_ctx *ctx, int i, int rows, bool train)
{
    clae_layer *l = &m->layers[i];
    if (attach_side(m, ctx, l)) return -1;
    clae_tensor x = layer_input(m, i, rows), y = clae_rows(&m->y[i], rows);
    l->trained = train;
    l->row0 = m->row0;
    l->seed = (uint32_t)(((m->seed * 0x9E3779B97F4A7C15ull) ^ (m->step * 0xD1B54A32D192ED03ull)) >>
                         32) ^
              (uint32_t)(i * 0x85EBCA6Bu);
    return l->ops->forward(l, ctx, &x, &y, train);
}

int clae_model_forward_range(clae_model *m, clae_ctx *ctx, int first, int last, int rows,
                             bool train)
{
    if (first < 0 || last >= m->n_layers || first > last + 1 || rows < 1 || rows > m->max_batch)
        return clae_fail(&ctx->err,
                         "forward over layers %d..%d of %d with %d rows (at most %d): out of range",
                         first, last, m->n_layers, rows, m->max_batch);
    for (int i = first; i <= last; i++) {
        /* the head reads the code: only when this range computed it (not when decoding given codes)
         */
        if (i == m->n_main && first > m->latent_index && first < m->n_main) break;
        if (forward_layer(m, ctx, i, rows, train)) return -1;
    }
    return 0;
}

/* dx (may be NULL) = the gradient w.r.t. layer i's input */
static int backward_layer(clae_model *m, clae_ctx *ctx, int i, int rows, clae_tensor *dx)
{
    clae_tensor x = layer_input(m, i, rows), y = clae_rows(&m->y[i], rows),
                dy = clae_rows(&m->dy[i], rows);
    if (attach_side(m, ctx, &m->layers[i]) ||
        m->layers[i].ops->backward(&m->layers[i], ctx, &x, &y, &dy, dx))
        return -1;
    return m->grads_ready ? m->grads_ready(m->grads_user, ctx, i) : 0;
}

/* dy[latent] holds the decoder's gradient: add the head's and any penalty's. */
static int finish_latent_grad(clae_model *m, clae_ctx *ctx, int rows)
{
    int li = m->latent_index;
    clae_tensor dz = clae_rows(&m->dy[li], rows), z = clae_rows(&m->y[li], rows),
                hd = clae_rows(&m->head_dx, rows);
    if (clae_model_has_head(m) &&
        clae_op_add(ctx, &dz, &hd, (size_t)rows * clae_shape_sample(m->layers[li].out)))
        return -1;
    return m->latent_grad ? m->latent_grad(m->latent_user, ctx, &z, &dz) : 0;
}

/* dy[i - 1] is complete once layer i ran: add what residual connections from
 * layer i - 1 sent back */
static int add_residual_grads(clae_model *m, clae_ctx *ctx, int i, clae_tensor *dx, int rows)
{
    for (int r = i; r < m->n_layers; r++) {
        if (m->layers[r].spec.type != CLAE_LAYER_RESIDUAL || m->layers[r].from != i - 1) continue;
        clae_tensor back = clae_rows(&m->dy[r], rows);
        if (clae_op_add(ctx, dx, &back, (size_t)rows * clae_shape_sample(m->layers[i - 1].out)))
            return -1;
    }
    return 0;
}

int clae_model_zero_grads(clae_model *m, clae_ctx *ctx)
{
    clae_tensor all = {&m->grads, 0, {1, (int)m->grads.capacity, 1, 1}}; /* < 2^31: check_sizes */
    if (m->grads.capacity && !m->grads_zero && clae_op_fill(ctx, &all, m->grads.capacity, 0.0f))
        return -1;
    m->grads_zero = true;
    return 0;
}

int clae_model_backward(clae_model *m, clae_ctx *ctx, int rows)
{
    if (clae_model_zero_grads(m, ctx)) return -1;
    m->grads_zero = false;
    for (int i = m->n_layers - 1; i >= m->n_main;
         i--) { /* the head first: its last dx is head_dx */
        clae_tensor dx = i > m->n_main ? clae_rows(&m->dy[i - 1], rows)
                                       : clae_rows(&m->head_dx, rows);
        if (backward_layer(m, ctx, i, rows, &dx) ||
            (i > m->n_main && add_residual_grads(m, ctx, i, &dx, rows)))
            return -1;
    }
    if (m->latent_index == m->n_main - 1 && finish_latent_grad(m, ctx, rows)) return -1;
    for (int i = m->n_main - 1; i >= 0; i--) {
        clae_tensor dx = i > 0 ? clae_rows(&m->dy[i - 1], rows) : (clae_tensor){0};
        if (backward_layer(m, ctx, i, rows, i > 0 ? &dx : NULL)) return -1;
        if (i > 0 && add_residual_grads(m, ctx, i, &dx, rows)) return -1;
        if (i - 1 == m->latent_index && finish_latent_grad(m, ctx, rows)) return -1;
    }
    return 0;
}
