/* Layers and the model. A layer is a small struct with an ops table: forward
 * and backward sit side by side in one file per layer type. The model owns one
 * allocation each for parameters and their gradients (same layout), and one
 * arena for every layer's output and output-gradient at the largest batch. */
#ifndef CLAE_NN_H
#define CLAE_NN_H

#include <stdbool.h>
#include <math.h>
#include <stdint.h>

#include "clae/ops.h"
#include "clae/rng.h"
#include "clae/tensor.h"

/* classifier: a head on the latent (multitask), after the decoder in the file */
#define CLAE_ROLE_LIST(X) \
    X(ENCODER, encoder) X(LATENT, latent) X(DECODER, decoder) X(CLASSIFIER, classifier)
#define CLAE_X_ROLE(id, name) CLAE_ROLE_##id,
typedef enum { CLAE_ROLE_LIST(CLAE_X_ROLE) } clae_role;
#undef CLAE_X_ROLE
/* The layer kinds, X(ID, name): the enum, and the registry (registry.c) of
 * the clae_kind_NAME each layer file defines. Adding a layer is its file in
 * src/nn/ (forward, backward, setup, its clae_layer_kind), its kernels in
 * cl/, its host ops in src/ops/, and one row here. */
#define CLAE_LAYER_LIST(X)    \
    X(DENSE, dense)           \
    X(CONV, conv)             \
    X(CONV_T, conv_transpose) \
    X(MAX_POOL, max_pool)     \
    X(AVG_POOL, avg_pool)     \
    X(UPSAMPLE, upsample)     \
    X(RESHAPE, reshape)       \
    X(BATCH_NORM, batch_norm) \
    X(DROPOUT, dropout)       \
    X(RESIDUAL, residual)     \
    X(ATTENTION, attention)   \
    X(VAE, vae) X(ACT, act) X(GCN, gcn) X(INNER_PRODUCT, inner_product) X(QUANTIZE, quantize)
#define CLAE_X_LAYER(id, name) CLAE_LAYER_##id,
typedef enum { CLAE_LAYER_LIST(CLAE_X_LAYER) } clae_layer_type;
#undef CLAE_X_LAYER

/* Weight init of conv, conv_transpose, dense and vae layers ([model] init). */
#define CLAE_INIT_LIST(X) X(PYTORCH, pytorch) X(KAIMING, kaiming) X(GLOROT, glorot)
#define CLAE_X_INIT(id, name) CLAE_INIT_##id,
typedef enum { CLAE_INIT_LIST(CLAE_X_INIT) } clae_init_kind;
#undef CLAE_X_INIT
/* upsample: nearest, or bilinear with align_corners=False */
#define CLAE_UPSAMPLE_LIST(X) X(NEAREST, nearest) X(BILINEAR, bilinear)
#define CLAE_X_UPSAMPLE(id, name) CLAE_UPSAMPLE_##id,
typedef enum { CLAE_UPSAMPLE_LIST(CLAE_X_UPSAMPLE) } clae_upsample_mode;
#undef CLAE_X_UPSAMPLE

/* What a config section says about one layer, before shapes are known. */
typedef struct {
    char section[96]; /* "encoder.fc1": role and name, unique in the file */
    char file[512];   /* where it was declared, for errors */
    int line;
    clae_role role;
    clae_layer_type type;
    clae_act act; /* dense: activation after the affine map; act layer: the function */
    double slope; /* leaky_relu negative slope (>= 0) */
    int units;    /* dense: output features; attention: key channels (0: C / 8) */
    bool bias;    /* dense, conv, conv_transpose: learn a bias */
    int channels; /* conv, conv_transpose: output channels */
    int kernel, stride, padding, dilation, output_padding; /* conv family and pools */
    int scale;                                             /* upsample factor */
    clae_upsample_mode mode;                               /* upsample */
    clae_conv_algo algo;                                   /* conv, conv_transpose */
    double momentum, eps;                                  /* batch_norm, as PyTorch (0.1, 1e-5) */
    double p;                                              /* dropout probability */
    bool uniform_noise;   /* quantize: training adds U(-0.5, 0.5) instead of rounding */
    double gain;          /* quantize: the input's scale before rounding */
    double gamma;         /* attention: initial residual scale (SAGAN: 0) */
    double beta;          /* vae: weight of the KL term */
    double warmup_epochs; /* vae: the KL weight ramps linearly from 0 over these epochs */
    char from[96];        /* residual: section of the earlier layer whose output is added */
    clae_shape shape;     /* reshape target (c x h x w); c = 0 flattens */
    clae_init_kind init;  /* of the weights: [model] init */
    bool graph;           /* vae: its heads are graph convolutions (VGAE) */
    int nodes; /* gcn: its input is one-hot over this many nodes (a featureless graph; the
                  graph trainer sets it from the data), 0: the input's features */
} clae_layer_spec;

/* A convolution or transposed convolution: the layers with feature maps (clae features). */
static inline bool clae_spec_is_conv(const clae_layer_spec *s)
{
    return s->type == CLAE_LAYER_CONV || s->type == CLAE_LAYER_CONV_T;
}

typedef struct clae_layer clae_layer;

typedef struct {
    /* y = f(x) for x->shape.n rows; train selects training behaviour. */
    int (*forward)(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, clae_tensor *y, bool train);
    /* Parameter gradients += (dy . df/dparams); dx = dy . df/dx unless dx is NULL. */
    int (*backward)(clae_layer *l, clae_ctx *ctx, const clae_tensor *x, const clae_tensor *y,
                    const clae_tensor *dy, clae_tensor *dx);
    /* Writes initial parameters (and non-trained state, e.g. running statistics)
     * into the host arrays at the layer's own offsets. */
    void (*init)(clae_layer *l, clae_rng *rng, float *host_params, float *host_state);
} clae_layer_ops;

/* Batch statistics over the ranks of a job (train.sync_bn, as PyTorch's
 * SyncBatchNorm), the train module's: batch norm hands each shard's per-channel
 * numbers to it on the host and gets those of the whole global batch back. */
typedef struct {
    /* in: this shard's count (rows times pixels) and its mean and sum of squared
     * deviations per channel (c each); out: the global batch's */
    int (*moments)(void *user, double *count, float *mean, float *m2, int c);
    /* in: n sums over this shard of its gradient; out: the global batch's, in
     * this shard's gradient scale (the loss of a shard is its own mean) */
    int (*sums)(void *user, float *s, size_t n);
    void *user;
} clae_batch_sync;

struct clae_layer {
    const clae_layer_ops *ops;
    clae_layer_spec spec;
    clae_shape in, out; /* per sample: n = 1 */
    /* what setup asks the model for (floats): */
    size_t n_w, n_b; /* parameters: weight, bias */
    size_t scratch_per, aux_per, col_per,
        tmp_per; /* per sample: own scratch and aux, shared workspaces */
    size_t n_state,
        n_stats;     /* not per sample: saved state (running statistics), per-step statistics */
    size_t n_params; /* n_w + n_b */
    bool direct;     /* conv family: direct kernels instead of im2col + GEMM */
    bool own_gemm;   /* the device's default GEMM is clae's own (set before setup; algo = auto uses
                        it) */
    clae_tensor w,
        b; /* parameters: dense w (out, in); conv w (Cout, Cin, K, K); conv_t w (Cin, Cout, K, K) */
    clae_tensor dw, db;  /* their gradients, same offsets in the gradient buffer */
    clae_tensor scratch; /* (max_batch, scratch_per): e.g. pre-activation gradient */
    clae_tensor aux;     /* (max_batch, aux_per): e.g. max pool argmax */
    clae_tensor col,
        tmp; /* model-wide workspaces shared by all layers (im2col columns, GEMM output) */
    clae_tensor state; /* (n_state): in the model's state buffer, saved in checkpoints */
    clae_tensor stats; /* (n_stats): e.g. batch mean and 1/std for the backward */
    bool trained;      /* the last forward ran in training mode */
    uint32_t seed;     /* dropout, vae: random seed of the current step, set by the model */
    uint32_t row0;     /* the batch's first row in its global batch (a data-parallel shard's), set
                          by the model: random draws are indexed from it, so a shard draws what
                          one device would */
    float kl_weight;   /* vae: weight of the KL gradient this step, set by the trainer */
    const clae_batch_sync *batch_sync; /* batch norm: statistics over a job's ranks (or NULL) */
    double values;    /* batch norm: values per channel its last forward normalised over */
    int from;         /* residual: index of the layer whose output is added */
    clae_tensor skip; /* residual: that layer's output (max batch) */
    int side_input;   /* -1, or the model's side input its forward and backward read (setup sets it)
                       */
    const clae_tensor
        *side; /* that input (e.g. a graph's adjacency), set by the model before each call */
};

/* The index of the layer's first input value in its global batch, where random draws start. */
static inline uint32_t clae_layer_base(const clae_layer *l)
{
    return l->row0 * (uint32_t)clae_shape_sample(l->in);
}

#define CLAE_MAX_SIDE_INPUTS 4

/* Adds a penalty's gradient to the code's: called by the backward once
 * dz = dL/d(latent output) is complete, before it flows into the encoder. */
typedef int (*clae_latent_grad_fn)(void *user, clae_ctx *ctx, const clae_tensor *z,
                                   clae_tensor *dz);

/* Layer `layer`'s parameter gradients are complete (enqueued): called by the
 * backward after each layer, last layer first, so data-parallel training can
 * start reducing them while the device works on the layers below. */
typedef int (*clae_grads_ready_fn)(void *user, clae_ctx *ctx, int layer);

typedef struct {
    clae_layer *layers;
    int n_layers;
    int n_main; /* layers [0, n_main) are the autoencoder; [n_main, n_layers) the classifier head */
    int latent_index; /* output of this layer is the code (and the head's input) */
    clae_shape input; /* per sample */
    int max_batch;
    size_t n_params;
    clae_arena params, grads; /* same layout: a parameter and its gradient share offsets */
    clae_arena state;         /* non-trained layer state (running statistics), checkpointed */
    clae_arena acts;
    clae_tensor x;                   /* (max_batch, input): the batch fed to layer 0 */
    clae_tensor ws_col, ws_tmp;      /* shared workspaces, sized for the largest layer */
    clae_tensor *y, *dy;             /* per layer: output and loss gradient w.r.t. it */
    clae_tensor head_dx;             /* (max_batch, latent): the head's gradient w.r.t. the code */
    clae_latent_grad_fn latent_grad; /* optional (sparsity penalties) */
    void *latent_user;
    bool grads_zero; /* the gradient buffer is all zero (an optimizer step consumed it, and the
                        caller said so): the backward skips clearing it */
    clae_grads_ready_fn grads_ready; /* optional (data-parallel training) */
    void *grads_user;
    uint64_t seed,
        step;      /* dropout masks depend on (seed, step, layer): set step before each forward */
    uint32_t row0; /* the batch's first row in its global batch (0 but for a data-parallel shard) */
    clae_tensor side[CLAE_MAX_SIDE_INPUTS]; /* inputs beside the batch, bound by the caller */
    bool side_bound[CLAE_MAX_SIDE_INPUTS];
} clae_model;

/* Binds t (kept by the caller, alive while the model runs) as side input slot:
 * the layers whose setup asked for that slot read it in forward and backward. */
int clae_model_bind_side(clae_model *m, int slot, const clae_tensor *t, clae_err *err);

const char *clae_role_name(clae_role r);
const char *clae_act_name(clae_act a);

/* Chains shapes through the specs, checks the decoder returns to the input size,
 * reserves and allocates all buffers. Errors name the layer sections and shapes. */
int clae_model_build(clae_model *m, clae_ctx *ctx, clae_shape input, const clae_layer_spec *specs,
                     int n_specs, int max_batch, clae_err *err);
/* The same without the autoencoder checks: any stack of layers (tests, heads). */
int clae_model_build_stack(clae_model *m, clae_ctx *ctx, clae_shape input,
                           const clae_layer_spec *specs, int n_specs, int max_batch,
                           bool autoencoder, clae_err *err);
void clae_model_release(clae_model *m);

/* PyTorch's defaults: dense W, b ~ U(-1/sqrt(in), 1/sqrt(in)). */
int clae_model_init_params(clae_model *m, clae_ctx *ctx, uint64_t seed);

/* Runs every layer on the first rows rows of the input; the reconstruction
 * is clae_model_output(m), the head's logits (if any) clae_model_logits(m). */
int clae_model_forward(clae_model *m, clae_ctx *ctx, int rows, bool train);
/* Runs layers first..last (inclusive) on the output of layer first - 1 (the
 * input when first is 0): 0..code_index encodes, code_index + 1..output_index
 * decodes codes written into clae_model_code(m). The head runs only after a
 * range that computed the code. rows at most max_batch. */
int clae_model_forward_range(clae_model *m, clae_ctx *ctx, int first, int last, int rows,
                             bool train);
/* Zeroes gradients, then back-propagates the output's gradient
 * m->dy[n_main - 1] and the head's m->dy[n_layers - 1] (set by the losses). */
int clae_model_backward(clae_model *m, clae_ctx *ctx, int rows);
/* Zeroes the gradient buffer unless grads_zero says it is (the backward's first step; a
 * data-parallel rank without rows in a batch takes it alone). */
int clae_model_zero_grads(clae_model *m, clae_ctx *ctx);

static inline bool clae_model_has_head(const clae_model *m) { return m->n_main < m->n_layers; }
static inline int clae_model_output_index(const clae_model *m) { return m->n_main - 1; }
static inline int clae_model_code_index(const clae_model *m) { return m->latent_index; }
/* (max_batch, input): the batch fed to layer 0 */
static inline clae_tensor *clae_model_input(clae_model *m) { return &m->x; }
/* (max_batch, code): the output of the last encoder or latent layer */
static inline clae_tensor *clae_model_code(clae_model *m) { return &m->y[m->latent_index]; }
/* (max_batch, input): the reconstruction */
static inline clae_tensor *clae_model_output(clae_model *m) { return &m->y[m->n_main - 1]; }
/* (max_batch, classes): the classifier head's logits, NULL without a head */
static inline clae_tensor *clae_model_logits(clae_model *m)
{
    return clae_model_has_head(m) ? &m->y[m->n_layers - 1] : NULL;
}

/* A view of t holding only its first rows samples. */
static inline clae_tensor clae_rows(const clae_tensor *t, int rows)
{
    clae_tensor v = *t;
    v.shape.n = rows;
    return v;
}

/* auto: direct when the im2col matrix would dwarf the work (see conv2d.c) */
bool clae_conv_choose_direct(const clae_layer *l, int grid_channels, int image_channels);
/* conv and conv_transpose: stride 1 unless given */
void clae_conv_resolve(clae_layer_spec *s);
/* Forward FLOPs of one sample through l (its kind's count: matrix work only). */
double clae_layer_flops(const clae_layer *l);
/* FLOPs of one training step per sample (flops.c: matrix work only). */
double clae_model_train_flops(const clae_model *m);
/* The model's vae layer, or NULL. */
clae_layer *clae_model_vae(clae_model *m);
/* A vae layer's mean and log-variance (graph heads: log sigma) of its last forward's first rows:
 * rows x 2U, each row mu (U) then log-variance (U). */
clae_tensor clae_vae_mu_logvar(const clae_layer *l, int rows);
/* A name a layer kind is written with in a config ("relu" is the act kind
 * with relu), the keys it takes there (space-separated), what the name sets
 * (NULL: nothing) and whether a spec is written with it (NULL: the kind's
 * only name). */
typedef struct {
    const char *name;
    const char *keys;
    void (*defaults)(clae_layer_spec *s);
    bool (*is)(const clae_layer_spec *s);
} clae_layer_name;

/* A gradient check of one layer (tests/test_gradcheck.c runs every kind's):
 * the spec as a config would give it, the input of one sample, the rows. */
typedef struct {
    clae_layer_spec spec;
    clae_shape in;
    int rows;
} clae_layer_check;

#define CLAE_MAX_LAYER_NAMES 4
#define CLAE_MAX_LAYER_CHECKS 6

/* What a layer kind says of itself, once: the model, the config's key
 * table, flops.c and the gradient checks read it. */
typedef struct {
    clae_layer_type type;
    clae_layer_name names[CLAE_MAX_LAYER_NAMES]; /* name NULL ends */
    /* Fills ops and output shape from l->in and l->spec, says what buffers
     * it needs; earlier: the layers before it (residual). */
    int (*setup)(clae_layer *l, const clae_layer *earlier, int n_earlier, clae_err *err);
    /* After the keys are read: defaults that depend on other keys (stride). NULL: none. */
    void (*resolve)(clae_layer_spec *s);
    /* Forward FLOPs of one sample (2 per multiply-add of matrix work); NULL: none counted. */
    double (*flops)(const clae_layer *l);
    clae_layer_check checks[CLAE_MAX_LAYER_CHECKS]; /* rows 0 ends */
} clae_layer_kind;

/* The registry: every kind, in CLAE_LAYER_LIST's order. */
extern const clae_layer_kind *const clae_layer_kinds[];
extern const int clae_n_layer_kinds;
const clae_layer_kind *clae_layer_kind_of(clae_layer_type t);
/* The name a config writes the spec's type with ("relu", "flatten", "conv"). */
const char *clae_layer_type_name(const clae_layer_spec *s);

/* host[0..n) ~ U(-bound, bound): PyTorch's kaiming_uniform(a=sqrt(5)) for weights
 * and its bias init both reduce to bound = 1/sqrt(fan_in). */
static inline void clae_init_uniform(float *host, size_t n, double bound, clae_rng *rng)
{
    for (size_t i = 0; i < n; i++) host[i] = (float)((2.0 * clae_rng_uniform(rng) - 1.0) * bound);
}

/* Bound of a weight's uniform init. PyTorch's default, 1/sqrt(fan_in), has
 * gain 1/sqrt(3): activations shrink through a ReLU stack and a short training
 * run starts slow. kaiming is kaiming_uniform_(w, nonlinearity='relu'): gain
 * sqrt(2), keeps the activation variance through ReLUs (He et al. 2015).
 * glorot is xavier_uniform_ (Glorot & Bengio 2010), sqrt(6 / (fan_in +
 * fan_out)), the init of Kipf & Welling's graph convolutions. */
static inline double clae_init_weight_bound(const clae_layer *l, double fan_in, double fan_out)
{
    switch (l->spec.init) {
    case CLAE_INIT_KAIMING: return sqrt(6.0 / fan_in);
    case CLAE_INIT_GLOROT: return sqrt(6.0 / (fan_in + fan_out));
    default: return 1.0 / sqrt(fan_in);
    }
}

/* Weights by [model] init, fan_out the weights per input times the receptive
 * field (one head of a vae); bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as
 * PyTorch's layers either way. */
static inline void clae_init_affine(clae_layer *l, double fan_in, clae_rng *rng, float *host)
{
    double fan_out = (double)l->n_w / fan_in;
    if (clae_spec_is_conv(&l->spec)) fan_out *= (double)l->spec.kernel * l->spec.kernel;
    if (l->spec.type == CLAE_LAYER_VAE) fan_out = l->spec.units;
    clae_init_uniform(host + l->w.off, l->n_w, clae_init_weight_bound(l, fan_in, fan_out), rng);
    clae_init_uniform(host + l->b.off, l->n_b, 1.0 / sqrt(fan_in), rng);
}

/* A conv-family layer's convolution as ops runs it, image and grid given
 * (conv: input and output; conv_transpose: output and input). */
clae_conv_op clae_layer_conv_op(clae_layer *l, clae_shape image, clae_shape grid);

/* init of layers without parameters or state */
void clae_layer_no_init(clae_layer *l, clae_rng *rng, float *host, float *state);

/* The gradient before the layer's fused activation: dy itself when there is
 * none, else act'(y) * dy written into the layer's scratch. NULL on error. */
const clae_tensor *clae_act_grad(clae_layer *l, clae_ctx *ctx, const clae_tensor *y,
                                 const clae_tensor *dy, clae_tensor *scratch_view);

/* "file:line: [section]" of a layer, for error messages. */
#define CLAE_LAYER_WHERE(l) (l)->spec.file, (l)->spec.line, (l)->spec.section

#endif
