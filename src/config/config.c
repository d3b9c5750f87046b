/* INI -> typed config. Each fixed section is one table: key, type, where it
 * lives, default, range, doc. The same table parses, validates, writes the
 * resolved config and prints `clae keys`, so they cannot drift apart. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clae/config.h"

typedef enum {
    KT_INT,
    KT_FLOAT,
    KT_BOOL,
    KT_STR,
    KT_CHOICE,
    KT_SHAPE,
    KT_FRACTIONS,
    KT_COLOR
} key_type;

typedef struct {
    const char *key;
    key_type type;
    size_t offset;   /* into the section struct */
    size_t size;     /* KT_STR: buffer size */
    const char *def; /* default, parsed like a value */
    double min, max; /* KT_INT, KT_FLOAT */
    const char *const
        *choices; /* KT_CHOICE: the names of an enum's list, NULL-ended; stored as the index */
    const char *doc;
} key_def;

/* The names of each enum, from its X-macro list (the enum and these cannot drift). */
static const char *const INIT_NAMES[] = {CLAE_INIT_LIST(CLAE_X_NAME) NULL};
static const char *const FORMAT_NAMES[] = {CLAE_FORMAT_LIST(CLAE_X_NAME) NULL};
static const char *const OPTIM_NAMES[] = {CLAE_OPTIM_LIST(CLAE_X_NAME) NULL};
static const char *const LOSS_NAMES[] = {CLAE_LOSS_LIST(CLAE_X_NAME) NULL};
static const char *const SCHEDULE_NAMES[] = {CLAE_SCHEDULE_LIST(CLAE_X_NAME) NULL};
static const char *const REDUCTION_NAMES[] = {CLAE_REDUCTION_LIST(CLAE_X_NAME) NULL};
static const char *const NOISE_NAMES[] = {CLAE_NOISE_LIST(CLAE_X_NAME) NULL};
static const char *const ALGO_NAMES[] = {CLAE_ALGO_LIST(CLAE_X_NAME) NULL};
static const char *const ACT_NAMES[] = {CLAE_ACT_LIST(CLAE_X_NAME) NULL};
static const char *const SWITCH_NAMES[] = {CLAE_SWITCH_LIST(CLAE_X_NAME) NULL};
static const char *const MAP_METHOD_NAMES[] = {CLAE_MAP_METHOD_LIST(CLAE_X_NAME) NULL};
static const char *const UPSAMPLE_NAMES[] = {CLAE_UPSAMPLE_LIST(CLAE_X_NAME) NULL};
/* KT_CHOICE fields are stored through an int */
_Static_assert(sizeof(clae_act) == sizeof(int) && sizeof(clae_optim_kind) == sizeof(int),
               "enums are ints");

#define FMNIST "/usr/share/datasets/fashion-mnist/"
#define STR(s, f) KT_STR, offsetof(s, f), sizeof(((s *)0)->f)
#define NUM(t, s, f) t, offsetof(s, f), 0

static const key_def model_keys[] = {
    {"name", STR(clae_model_cfg, name), "model", 0, 0, NULL,
     "run name; the run directory is out_dir/name"},
    {"init", NUM(KT_CHOICE, clae_model_cfg, init), "pytorch", 0, 0, INIT_NAMES,
     "weights of conv, conv_transpose, dense, vae, gcn: U(+-1/sqrt(fan_in)) as PyTorch's default, "
     "or "
     "kaiming_uniform_(nonlinearity='relu'), U(+-sqrt(6/fan_in)), which trains ReLU stacks faster; "
     "or glorot (xavier_uniform_, U(+-sqrt(6/(fan_in+fan_out))), Kipf & Welling's for graphs); "
     "biases as PyTorch"},
    {0},
};

static const key_def data_keys[] = {
    {"train_images", STR(clae_data_cfg, train_images), FMNIST "train-images-idx3-ubyte.gz", 0, 0,
     NULL, "IDX (or .idx.gz) training images, u8, (N,H,W) or (N,C,H,W)"},
    {"train_labels", STR(clae_data_cfg, train_labels), FMNIST "train-labels-idx1-ubyte.gz", 0, 0,
     NULL, "IDX training labels (optional: empty for none)"},
    {"test_images", STR(clae_data_cfg, test_images), FMNIST "t10k-images-idx3-ubyte.gz", 0, 0, NULL,
     "IDX test images"},
    {"test_labels", STR(clae_data_cfg, test_labels), FMNIST "t10k-labels-idx1-ubyte.gz", 0, 0, NULL,
     "IDX test labels (optional)"},
    {"val_fraction", NUM(KT_FLOAT, clae_data_cfg, val_fraction), "0.1", 0, 0.9, NULL,
     "fraction of the training file held out for validation (seeded shuffle)"},
    {"train_limit", NUM(KT_INT, clae_data_cfg, train_limit), "0", 0, 1e9, NULL,
     "use only the first N training images (0 = all)"},
    {"test_limit", NUM(KT_INT, clae_data_cfg, test_limit), "0", 0, 1e9, NULL,
     "use only the first N test images (0 = all)"},
    {"format", NUM(KT_CHOICE, clae_data_cfg, format), "idx", 0, 0, FORMAT_NAMES,
     "idx files (train/test), a CSV table, a folder of PNGs, the emoji set, or a graph (an edge "
     "list in path: link prediction)"},
    {"path", STR(clae_data_cfg, path), "", 0, 0, NULL,
     "csv: the file; folder: the folder; emoji: the data folder (\"\" = scripts/prepare_data.sh's "
     "default); graph: the edge list (two node ids a line, '#' comments); ~/ = home"},
    {"labels", STR(clae_data_cfg, labels), "", 0, 0, NULL,
     "folder: optional CSV of file,label; graph: optional CSV of node,label"},
    {"features", STR(clae_data_cfg, features), "", 0, 0, NULL,
     "graph: optional CSV of node,f1,...,fd for every node (\"\" = featureless: one-hot nodes)"},
    {"image", NUM(KT_SHAPE, clae_data_cfg, image), "3x64x64", 0, 0, NULL,
     "csv, folder, emoji: channels (1 or 3) x height x width of a sample; images are resized"},
    {"scale", NUM(KT_FLOAT, clae_data_cfg, scale), "255", 1e-9, 1e9, NULL,
     "csv: a value / scale is a pixel in [0, 1]"},
    {"background", NUM(KT_COLOR, clae_data_cfg, background), "white", 0, 0, NULL,
     "folder, emoji: colour under transparent pixels: white, black, gray or #rrggbb"},
    {"vendors", STR(clae_data_cfg, vendors), "google", 0, 0, NULL,
     "emoji: comma list of google, twitter, facebook, apple"},
    {"filter", STR(clae_data_cfg, filter), "face", 0, 0, NULL,
     "emoji: keep names containing this (\"\" = all)"},
    {"classes", STR(clae_data_cfg, classes), "", 0, 0, NULL,
     "emoji: labels by name keywords, e.g. happy: grinning smiling; sad: crying frowning (others "
     "dropped)"},
    {"class_names", STR(clae_data_cfg, class_names), "", 0, 0, NULL,
     "comma list naming labels 0, 1, ... in legends (\"\" = the classes' names, Fashion-MNIST's "
     "for its default files, else the numbers)"},
    {"train_classes", STR(clae_data_cfg, train_classes), "", 0, 0, NULL,
     "comma list of labels the train and validation splits keep (\"\" = all); the test split "
     "keeps every class (anomaly detection: train on normal classes)"},
    {"exclude_classes", STR(clae_data_cfg, exclude_classes), "", 0, 0, NULL,
     "comma list of labels left out of the train and validation splits (the test keeps them)"},
    {"split", NUM(KT_FRACTIONS, clae_data_cfg, split), "0.6,0.2,0.2", 0, 0, NULL,
     "csv, folder, emoji: train,val,test fractions of one source (seeded); graph: of the edges "
     "(the reference's 0.85,0.05,0.1)"},
    {"stratify", NUM(KT_BOOL, clae_data_cfg, stratify), "false", 0, 0, NULL,
     "split each class by the fractions"},
    {"skip_bad", NUM(KT_BOOL, clae_data_cfg, skip_bad), "false", 0, 0, NULL,
     "skip unreadable image files (counted in the summary) instead of failing"},
    {0},
};

static const key_def augment_keys[] = {
    {"copies", NUM(KT_INT, clae_augment_cfg, copies), "1", 1, 64, NULL,
     "each sample of an augmented split appears this many times, each a fixed random variant"},
    {"splits", STR(clae_augment_cfg, splits), "train", 0, 0, NULL,
     "comma list of train, val, test to augment"},
    {"hflip", NUM(KT_FLOAT, clae_augment_cfg, hflip), "0", 0, 1, NULL,
     "probability of a horizontal flip"},
    {"vflip", NUM(KT_FLOAT, clae_augment_cfg, vflip), "0", 0, 1, NULL,
     "probability of a vertical flip"},
    {"rotate", NUM(KT_FLOAT, clae_augment_cfg, rotate), "0", 0, 180, NULL,
     "rotation by up to this many degrees"},
    {"brightness", NUM(KT_FLOAT, clae_augment_cfg, brightness), "0", 0, 1, NULL,
     "brightness factor in [1-x, 1+x]"},
    {"contrast", NUM(KT_FLOAT, clae_augment_cfg, contrast), "0", 0, 1, NULL,
     "contrast factor in [1-x, 1+x]"},
    {"saturation", NUM(KT_FLOAT, clae_augment_cfg, saturation), "0", 0, 1, NULL,
     "saturation factor in [1-x, 1+x]"},
    {"crop", NUM(KT_FLOAT, clae_augment_cfg, crop), "1", 0.05, 1, NULL,
     "random resized crop: the kept area fraction is drawn from [crop, 1] (1 = none)"},
    {"redraw", NUM(KT_BOOL, clae_augment_cfg, redraw), "false", 0, 0, NULL,
     "training split: draw fresh variants every epoch (still fixed by seed and epoch) instead of "
     "fixed copies"},
    {0},
};

static const key_def train_keys[] = {
    {"epochs", NUM(KT_INT, clae_train_cfg, epochs), "5", 1, 1e6, NULL,
     "passes over the training split"},
    {"batch_size", NUM(KT_INT, clae_train_cfg, batch_size), "64", 1, 65536, NULL,
     "samples per step"},
    {"optimizer", NUM(KT_CHOICE, clae_train_cfg, optimizer), "adamw", 0, 0, OPTIM_NAMES,
     "sgd (momentum), adam (L2 decay), adamw (decoupled decay), as torch.optim; lion (sign "
     "updates; beta2 0.99 is usual)"},
    {"lr", NUM(KT_FLOAT, clae_train_cfg, lr), "1e-3", 0, 10, NULL, "learning rate"},
    {"weight_decay", NUM(KT_FLOAT, clae_train_cfg, weight_decay), "0.01", 0, 1, NULL,
     "L2 (sgd, adam) or decoupled (adamw) weight decay"},
    {"momentum", NUM(KT_FLOAT, clae_train_cfg, momentum), "0.9", 0, 0.999999, NULL, "sgd momentum"},
    {"dampening", NUM(KT_FLOAT, clae_train_cfg, dampening), "0", 0, 1, NULL, "sgd dampening"},
    {"nesterov", NUM(KT_BOOL, clae_train_cfg, nesterov), "false", 0, 0, NULL,
     "sgd Nesterov momentum"},
    {"beta1", NUM(KT_FLOAT, clae_train_cfg, beta1), "0.9", 0, 0.999999, NULL,
     "adam/adamw first-moment decay"},
    {"beta2", NUM(KT_FLOAT, clae_train_cfg, beta2), "0.999", 0, 0.999999999, NULL,
     "adam/adamw second-moment decay"},
    {"eps", NUM(KT_FLOAT, clae_train_cfg, eps), "1e-8", 1e-30, 1, NULL,
     "adam/adamw denominator epsilon"},
    {"loss", NUM(KT_CHOICE, clae_train_cfg, loss), "mse", 0, 0, LOSS_NAMES,
     "reconstruction loss, mean over all values (bce clamps log at -100 as PyTorch)"},
    {"seed", NUM(KT_INT, clae_train_cfg, seed), "1", 0, 2147483647, NULL,
     "fixes init, split and shuffling: same config + device = same numbers"},
    {"log_every", NUM(KT_INT, clae_train_cfg, log_every), "100", 1, 1e9, NULL,
     "steps between loss reads (the only device->host sync in training)"},
    {"grid", NUM(KT_INT, clae_train_cfg, grid), "8", 1, 64, NULL,
     "test images in the reconstruction grid"},
    {"out_dir", STR(clae_train_cfg, out_dir), "runs", 0, 0, NULL,
     "parent folder of run directories"},
    {"schedule", NUM(KT_CHOICE, clae_train_cfg, schedule), "constant", 0, 0, SCHEDULE_NAMES,
     "learning rate per epoch: StepLR, ExponentialLR, CosineAnnealingLR (T_max = epochs)"},
    {"step_epochs", NUM(KT_INT, clae_train_cfg, step_epochs), "10", 1, 1e6, NULL,
     "step schedule: epochs per decay"},
    {"gamma", NUM(KT_FLOAT, clae_train_cfg, gamma), "0.1", 0, 1, NULL,
     "step and exponential schedules: decay factor"},
    {"min_lr", NUM(KT_FLOAT, clae_train_cfg, min_lr), "0", 0, 10, NULL,
     "cosine schedule: final learning rate"},
    {"warmup_steps", NUM(KT_INT, clae_train_cfg, warmup_steps), "0", 0, 1e9, NULL,
     "linear warm-up of the learning rate over the first steps"},
    {"clip_norm", NUM(KT_FLOAT, clae_train_cfg, clip_norm), "0", 0, 1e9, NULL,
     "clip gradients to this global L2 norm (0: off), as clip_grad_norm_"},
    {"clip_value", NUM(KT_FLOAT, clae_train_cfg, clip_value), "0", 0, 1e9, NULL,
     "clip each gradient value to [-v, v] (0: off), as clip_grad_value_"},
    {"negatives", NUM(KT_INT, clae_train_cfg, negatives), "0", 0, 1000, NULL,
     "graph: 0 = the loss over all N^2 node pairs (the reference's weighted cross-entropy); K = "
     "each training edge against K sampled non-edges, redrawn every epoch (large graphs)"},
    {"patience", NUM(KT_INT, clae_train_cfg, patience), "0", 0, 1e6, NULL,
     "early stopping: stop after this many epochs without a better validation loss (0: off)"},
    {"min_delta", NUM(KT_FLOAT, clae_train_cfg, min_delta), "0", 0, 1e9, NULL,
     "early stopping: an improvement must exceed this"},
    {"reduction", NUM(KT_CHOICE, clae_train_cfg, reduction), "mean", 0, 0, REDUCTION_NAMES,
     "reconstruction loss: mean over all values, or sum over a sample's values (mean over the "
     "batch)"},
    {"noise", NUM(KT_CHOICE, clae_train_cfg, noise), "none", 0, 0, NOISE_NAMES,
     "denoising: corrupt the input only; the loss compares the output with the clean input"},
    {"noise_level", NUM(KT_FLOAT, clae_train_cfg, noise_level), "0.2", 0, 10, NULL,
     "gaussian sigma (not clamped), or the probability of salt and pepper / masking"},
    {"lambda", NUM(KT_FLOAT, clae_train_cfg, lambda), "1", 0, 1e6, NULL,
     "multitask: loss = reconstruction + lambda * the [classifier.*] head's softmax cross-entropy "
     "(batch mean)"},
    {"latent_l1", NUM(KT_FLOAT, clae_train_cfg, latent_l1), "0", 0, 1e6, NULL,
     "sparse: adds latent_l1 * sum |code| (per sample, mean over the batch) to the loss"},
    {"latent_kl", NUM(KT_FLOAT, clae_train_cfg, latent_kl), "0", 0, 1e6, NULL,
     "sparse: adds latent_kl * sum_j KL(latent_rho || mean activation of unit j); needs a sigmoid "
     "code"},
    {"rate_lambda", NUM(KT_FLOAT, clae_train_cfg, rate_lambda), "0", 0, 1e6, NULL,
     "codec: adds rate_lambda * the code's bits per pixel under a Laplace model per channel; "
     "needs a quantize layer at the end of [latent.*]"},
    {"latent_rho", NUM(KT_FLOAT, clae_train_cfg, latent_rho), "0.05", 1e-4, 0.9999, NULL,
     "sparse: target mean activation of the KL penalty"},
    {"autotune", NUM(KT_FLOAT, clae_train_cfg, autotune), "20", 0, 600, NULL,
     "seconds the first run on a CPU device with no tuning spends timing clae's GEMM variants on "
     "this config's shapes, stored as clae tune stores them (0: never; also --no-autotune, "
     "CLAE_NO_AUTOTUNE=1)"},
    {"sync_bn", NUM(KT_BOOL, clae_train_cfg, sync_bn), "false", 0, 0, NULL,
     "mpirun: batch norm over the global batch (statistics summed over the ranks, as "
     "SyncBatchNorm); false: each rank's shard alone, as DDP without it"},
    {"bucket_kb", NUM(KT_INT, clae_train_cfg, bucket_kb), "1024", 4, 1048576, NULL,
     "mpirun: gradients are summed over the ranks in buckets of about this many KiB, each "
     "started as soon as the backward has finished its layers"},
    {"devices", STR(clae_train_cfg, devices), "", 0, 0, NULL,
     "mpirun: device of each rank on a machine, by local rank: e.g. 0:0,0:1 (modulo the list; "
     "--device overrides; empty: the local rank-th GPU, or the one CPU)"},
    {0},
};

/* Layer sections: each key's type, default, range and doc; the keys a
 * layer takes are its kind's (the registry, clae_layer_kind.names). */
#define L(f, t) t, offsetof(clae_layer_spec, f), sizeof(((clae_layer_spec *)0)->f)
/* def NULL: required. stride 0 means "the default": 1 for convolutions, the kernel for pools. */
static const key_def layer_keys[] = {
    {"units", L(units, KT_INT), NULL, 1, 1e7, NULL,
     "output features (vae: latent size) (required)"},
    {"beta", L(beta, KT_FLOAT), "1", 0, 1e6, NULL, "vae: weight of the KL term"},
    {"warmup_epochs", L(warmup_epochs, KT_FLOAT), "0", 0, 1e6, NULL,
     "vae: the KL weight ramps linearly from 0 to beta over these epochs"},
    {"channels", L(channels, KT_INT), NULL, 1, 65536, NULL, "output channels (required)"},
    {"kernel", L(kernel, KT_INT), NULL, 1, 64, NULL, "kernel size K (K x K, required)"},
    {"stride", L(stride, KT_INT), "0", 0, 64, NULL,
     "stride (default 1 for conv, the kernel for pools)"},
    {"padding", L(padding, KT_INT), "0", 0, 64, NULL, "zero padding (pools: -inf for max)"},
    {"dilation", L(dilation, KT_INT), "1", 1, 64, NULL, "kernel dilation"},
    {"output_padding", L(output_padding, KT_INT), "0", 0, 63, NULL,
     "extra rows/columns on one side of the output, as PyTorch"},
    {"algo", L(algo, KT_CHOICE), "auto", 0, 0, ALGO_NAMES,
     "im2col + GEMM or direct kernels (auto: direct for thin layers)"},
    {"activation", L(act, KT_CHOICE), "none", 0, 0, ACT_NAMES, "applied after the layer"},
    {"bias", L(bias, KT_BOOL), "true", 0, 0, NULL, "learn a bias"},
    {"slope", L(slope, KT_FLOAT), "0.01", 0, 1, NULL, "leaky_relu negative slope"},
    {"scale", L(scale, KT_INT), NULL, 1, 16, NULL, "integer upsampling factor (required)"},
    {"mode", L(mode, KT_CHOICE), "nearest", 0, 0, UPSAMPLE_NAMES,
     "bilinear uses align_corners=False"},
    {"momentum", L(momentum, KT_FLOAT), "0.1", 0, 1, NULL,
     "running statistics update (PyTorch's momentum)"},
    {"eps", L(eps, KT_FLOAT), "1e-5", 1e-12, 1, NULL, "added to the variance"},
    {"key_channels", L(units, KT_INT), "0", 0, 65536, NULL,
     "query/key channels (0: channels / 8, at least 1)"},
    {"gamma", L(gamma, KT_FLOAT), "0", -10, 10, NULL,
     "initial scale of the attention output (SAGAN: 0)"},
    {"p", L(p, KT_FLOAT), "0.5", 0, 0.99, NULL, "probability of zeroing a value in training"},
    {"gain", L(gain, KT_FLOAT), "1", 1e-3, 1e3, NULL,
     "quantize: the code is round(gain x) (a gain above 1 lets small encoder outputs use more "
     "levels)"},
    {"uniform_noise", L(uniform_noise, KT_BOOL), "false", 0, 0, NULL,
     "quantize: training adds uniform noise in [-0.5, 0.5) instead of rounding (the gradient "
     "passes straight through either way)"},
    {"from", L(from, KT_STR), NULL, 0, 0, NULL,
     "section of an earlier layer whose output is added (required)"},
    {"shape", L(shape, KT_SHAPE), NULL, 0, 0, NULL, "target CxHxW, e.g. 32x7x7 (required)"},
    {"graph", L(graph, KT_BOOL), "false", 0, 0, NULL,
     "vae: the mean and log-sigma heads are graph convolutions without bias (VGAE; data.format "
     "= graph)"},
    {0},
};
#undef L

static const key_def report_keys[] = {
    {"latent_map", NUM(KT_CHOICE, clae_report_cfg, latent_map), "auto", 0, 0, SWITCH_NAMES,
     "a 2-D map of the test codes (clae latent-map); auto: when the data has labels and the test "
     "split at most map_points images"},
    {"map_method", NUM(KT_CHOICE, clae_report_cfg, map_method), "tsne", 0, 0, MAP_METHOD_NAMES,
     "the latent map's method: t-SNE or PCA"},
    {"map_points", NUM(KT_INT, clae_report_cfg, map_points), "10000", 10, 1000000, NULL,
     "auto maps test splits of at most this many images; a map of a larger one (true) takes the "
     "first this many"},
    {"weights", NUM(KT_BOOL, clae_report_cfg, weights), "true", 0, 0, NULL,
     "histograms and statistics of every layer's weights (clae weights)"},
    {"features", NUM(KT_CHOICE, clae_report_cfg, features), "auto", 0, 0, SWITCH_NAMES,
     "every convolution's feature maps for the first test image (clae features); auto: models "
     "with a convolution"},
    {0},
};

static const char *const fixed_sections[] = {"model", "data", "train", "augment", "report", NULL};

/* ---- value parsing ------------------------------------------------------ */

static void where(const clae_ini_doc *doc, const clae_ini_entry *e, char *buf, size_t n)
{
    if (e && e->line > 0)
        snprintf(buf, n, "%s:%d: [%s] %s = %s", doc->path, e->line, e->section, e->key, e->value);
    else if (e)
        snprintf(buf, n, "--set %s.%s=%s", e->section, e->key, e->value);
    else
        snprintf(buf, n, "%s", doc->path);
}

#define MAX_SHAPE_DIM 65536

/* "CxHxW": three integers in [1, MAX_SHAPE_DIM] (strtol: sscanf's %d overflows silently) */
static int parse_shape(const char *value, int dims[3])
{
    const char *p = value;
    for (int k = 0; k < 3; k++) {
        if (!isdigit((unsigned char)*p)) return -1;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || v < 1 || v > MAX_SHAPE_DIM) return -1;
        dims[k] = (int)v;
        if (*end != (k < 2 ? 'x' : '\0')) return -1;
        p = end + 1;
    }
    return 0;
}

static int choice_index(const char *const *choices, const char *value)
{
    for (int i = 0; choices[i]; i++)
        if (strcasecmp(choices[i], value) == 0) return i;
    return -1;
}

static const char *choice_name(const char *const *choices, int index)
{
    for (int i = 0; choices[i]; i++)
        if (i == index) return choices[i];
    return "?";
}

/* "a|b|c" */
static const char *choices_text(const char *const *choices, char *buf, size_t n)
{
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; choices[i] && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? "|" : "", choices[i]);
    return buf;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = true, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = false, 0;
    }
    return -1;
}

static int parse_number(const char *v, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(v, &end);
    if (end == v || errno == ERANGE || !isfinite(*out)) return -1;
    while (*end == ' ' || *end == '\t') end++;
    return *end ? -1 : 0;
}

/* Parses value into the field of def; on error fills err with what is expected. */
static int set_value(const key_def *def, void *base, const char *value, const char *loc,
                     clae_err *err)
{
    char *field = (char *)base + def->offset;
    double x;
    switch (def->type) {
    case KT_STR:
        if (strlen(value) >= def->size)
            return clae_fail(err, "%s: value longer than %zu characters", loc, def->size - 1);
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case KT_BOOL:
        if (parse_bool(value, (bool *)field))
            return clae_fail(err, "%s: expected true or false", loc);
        return 0;
    case KT_CHOICE: {
        int idx = choice_index(def->choices, value);
        char names[256];
        if (idx < 0)
            return clae_fail(err, "%s: expected one of %s", loc,
                             choices_text(def->choices, names, sizeof names));
        *(int *)field = idx;
        return 0;
    }
    case KT_INT:
        if (parse_number(value, &x) || x != floor(x))
            return clae_fail(err, "%s: expected an integer in [%.0f, %.0f]", loc, def->min,
                             def->max);
        if (x < def->min || x > def->max)
            return clae_fail(err, "%s: out of range: expected an integer in [%.0f, %.0f]", loc,
                             def->min, def->max);
        *(int *)field = (int)x;
        return 0;
    case KT_FRACTIONS: {
        double *v = (double *)field;
        char tail;
        if (sscanf(value, "%lf,%lf,%lf%c", &v[0], &v[1], &v[2], &tail) != 3 || v[0] <= 0 ||
            v[1] < 0 || v[2] < 0 || fabs(v[0] + v[1] + v[2] - 1.0) > 1e-6)
            return clae_fail(
                err, "%s: expected three fractions train,val,test that sum to 1, e.g. 0.6,0.2,0.2",
                loc);
        return 0;
    }
    case KT_COLOR: {
        float *rgb = (float *)field;
        unsigned hex;
        char tail;
        if (strcasecmp(value, "white") == 0)
            rgb[0] = rgb[1] = rgb[2] = 1.0f;
        else if (strcasecmp(value, "black") == 0)
            rgb[0] = rgb[1] = rgb[2] = 0.0f;
        else if (strcasecmp(value, "gray") == 0)
            rgb[0] = rgb[1] = rgb[2] = 0.5f;
        else if (sscanf(value, "#%6x%c", &hex, &tail) == 1 && strlen(value) == 7)
            for (int k = 0; k < 3; k++) rgb[k] = (float)((hex >> (16 - 8 * k)) & 0xFF) / 255.0f;
        else
            return clae_fail(err, "%s: expected white, black, gray or #rrggbb", loc);
        return 0;
    }
    case KT_SHAPE: {
        int dims[3];
        if (parse_shape(value, dims))
            return clae_fail(err,
                             "%s: expected a shape CxHxW of integers from 1 to %d, e.g. 32x7x7",
                             loc, MAX_SHAPE_DIM);
        *(clae_shape *)field = (clae_shape){1, dims[0], dims[1], dims[2]};
        return 0;
    }
    case KT_FLOAT:
        if (parse_number(value, &x))
            return clae_fail(err, "%s: expected a number in [%g, %g]", loc, def->min, def->max);
        if (x < def->min || x > def->max)
            return clae_fail(err, "%s: out of range: expected a number in [%g, %g]", loc, def->min,
                             def->max);
        *(double *)field = x;
        return 0;
    }
    return -1;
}

static void key_list(const key_def *defs, char *buf, size_t n)
{
    buf[0] = 0;
    for (const key_def *d = defs; d->key; d++) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s", d == defs ? "" : ", ", d->key);
    }
}

/* Defaults first, then the document's entries for this section. */
static int load_section(clae_ini_doc *doc, const char *section, const key_def *defs, void *base,
                        clae_err *err)
{
    for (const key_def *d = defs; d->key; d++)
        if (set_value(d, base, d->def, "built-in default", err)) return -1;
    for (int i = 0; i < doc->n_entries; i++) {
        clae_ini_entry *e = &doc->entries[i];
        if (strcmp(e->section, section) != 0) continue;
        e->used = true;
        char loc[700];
        where(doc, e, loc, sizeof loc);
        const key_def *d = defs;
        while (d->key && strcmp(d->key, e->key) != 0) d++;
        if (!d->key) {
            char keys[600];
            key_list(defs, keys, sizeof keys);
            return clae_fail(err, "%s: unknown key '%s' in [%s]; expected one of: %s", loc, e->key,
                             section, keys);
        }
        if (set_value(d, base, e->value, loc, err)) return -1;
    }
    return 0;
}

/* ---- layer sections ----------------------------------------------------- */

static int layer_role(const char *section, clae_role *role)
{
    static const struct {
        const char *prefix;
        clae_role role;
    } roles[] = {{"encoder.", CLAE_ROLE_ENCODER},
                 {"latent.", CLAE_ROLE_LATENT},
                 {"decoder.", CLAE_ROLE_DECODER},
                 {"classifier.", CLAE_ROLE_CLASSIFIER}};
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(roles[i].prefix);
        if (strncmp(section, roles[i].prefix, n) == 0 && section[n]) {
            *role = roles[i].role;
            return 0;
        }
    }
    return -1;
}

static const clae_ini_entry *section_value(clae_ini_doc *doc, const char *section, const char *key)
{
    for (int i = 0; i < doc->n_entries; i++)
        if (strcmp(doc->entries[i].section, section) == 0 && strcmp(doc->entries[i].key, key) == 0)
            return &doc->entries[i];
    return NULL;
}

/* A layer type as a config writes it: its kind and the name it goes by. */
typedef struct {
    const clae_layer_kind *kind;
    const clae_layer_name *name;
} layer_name_ref;

static bool takes_key(const clae_layer_name *n, const char *key)
{
    size_t len = strlen(key);
    for (const char *p = n->keys; (p = strstr(p, key)) != NULL; p += len)
        if ((p == n->keys || p[-1] == ' ') && (p[len] == ' ' || p[len] == 0)) return true;
    return false;
}

/* Its keys in the table's order, ", "-separated. */
static void layer_key_list(const clae_layer_name *n, char *keys, size_t len)
{
    keys[0] = 0;
    for (const key_def *d = layer_keys; d->key; d++)
        if (takes_key(n, d->key)) {
            size_t at = strlen(keys);
            snprintf(keys + at, len - at, "%s%s", at ? ", " : "", d->key);
        }
}

/* Every kind's every name; stops when fn returns true. */
static bool each_layer_name(bool (*fn)(layer_name_ref r, void *user), void *user)
{
    for (int k = 0; k < clae_n_layer_kinds; k++)
        for (int n = 0; n < CLAE_MAX_LAYER_NAMES && clae_layer_kinds[k]->names[n].name; n++)
            if (fn((layer_name_ref){clae_layer_kinds[k], &clae_layer_kinds[k]->names[n]}, user))
                return true;
    return false;
}

typedef struct {
    const char *name;
    layer_name_ref found;
} name_search;

static bool name_is(layer_name_ref r, void *user)
{
    name_search *q = user;
    if (strcasecmp(r.name->name, q->name) != 0) return false;
    q->found = r;
    return true;
}

static bool find_layer_name(const char *name, layer_name_ref *out)
{
    name_search q = {name, {NULL, NULL}};
    bool found = each_layer_name(name_is, &q);
    *out = q.found;
    return found;
}

static bool append_name(layer_name_ref r, void *user)
{
    char *names = user;
    size_t at = strlen(names);
    snprintf(names + at, 300 - at, "%s%s", at ? "|" : "", r.name->name);
    return false;
}

/* The name a spec is written with: of its kind, the first whose is() holds. */
static layer_name_ref name_of_spec(const clae_layer_spec *s)
{
    const clae_layer_kind *k = clae_layer_kind_of(s->type);
    for (int n = 0; n < CLAE_MAX_LAYER_NAMES && k->names[n].name; n++)
        if (!k->names[n].is || k->names[n].is(s)) return (layer_name_ref){k, &k->names[n]};
    return (layer_name_ref){k, &k->names[0]};
}

/* Defaults of the keys that apply; every key the section sets, checked to apply. */
static int layer_values(clae_ini_doc *doc, const clae_ini_section *sec, const clae_layer_name *t,
                        clae_layer_spec *s, clae_err *err)
{
    for (const key_def *d = layer_keys; d->key; d++)
        if (takes_key(t, d->key) && d->def && set_value(d, s, d->def, "built-in default", err))
            return -1;
    for (int i = 0; i < doc->n_entries; i++) {
        clae_ini_entry *e = &doc->entries[i];
        if (strcmp(e->section, sec->name) != 0 || strcmp(e->key, "type") == 0) continue;
        e->used = true;
        char loc[700], keys[300];
        where(doc, e, loc, sizeof loc);
        const key_def *d = layer_keys;
        while (d->key && strcmp(d->key, e->key) != 0) d++;
        if (!d->key || !takes_key(t, d->key)) {
            layer_key_list(t, keys, sizeof keys);
            return clae_fail(err, "%s: unknown key '%s' for a %s layer; expected one of: %s", loc,
                             e->key, t->name, keys[0] ? keys : "(none)");
        }
        if (set_value(d, s, e->value, loc, err)) return -1;
    }
    for (const key_def *d = layer_keys; d->key; d++)
        if (takes_key(t, d->key) && !d->def && !section_value(doc, sec->name, d->key))
            return clae_fail(err, "%s:%d: [%s] a %s layer needs '%s': %s", doc->path, sec->line,
                             sec->name, t->name, d->key, d->doc);
    return 0;
}

static int load_layer(clae_ini_doc *doc, const clae_ini_section *sec, clae_role role,
                      clae_layer_spec *s, clae_err *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->section, sizeof s->section, "%s", sec->name);
    snprintf(s->file, sizeof s->file, "%s", doc->path);
    s->line = sec->line;
    s->role = role;
    const clae_ini_entry *te = section_value(doc, sec->name, "type");
    char names[300] = "";
    each_layer_name(append_name, names);
    if (!te)
        return clae_fail(err, "%s:%d: [%s] has no 'type'; expected one of %s", doc->path, sec->line,
                         sec->name, names);
    ((clae_ini_entry *)te)->used = true;
    layer_name_ref t;
    if (!find_layer_name(te->value, &t)) {
        char loc[700];
        where(doc, te, loc, sizeof loc);
        return clae_fail(err, "%s: unknown layer type; expected one of %s", loc, names);
    }
    s->type = t.kind->type;
    if (t.name->defaults) t.name->defaults(s);
    if (layer_values(doc, sec, t.name, s, err)) return -1;
    if (t.kind->resolve) t.kind->resolve(s);
    return 0;
}

static int load_layers(clae_config *c, clae_ini_doc *doc, clae_err *err)
{
    c->layers = calloc((size_t)(doc->n_sections ? doc->n_sections : 1), sizeof *c->layers);
    if (!c->layers) return clae_fail(err, "out of host memory");
    for (int i = 0; i < doc->n_sections; i++) {
        const clae_ini_section *sec = &doc->sections[i];
        bool fixed = false;
        for (int k = 0; fixed_sections[k]; k++) fixed |= strcmp(sec->name, fixed_sections[k]) == 0;
        if (fixed) continue;
        clae_role role;
        if (layer_role(sec->name, &role))
            return clae_fail(
                err,
                "%s:%d: unknown section [%s]; expected [model], [data], [train], [augment], "
                "[report] or "
                "a layer [encoder.NAME], [latent.NAME], [decoder.NAME], [classifier.NAME]",
                doc->path, sec->line, sec->name);
        if (load_layer(doc, sec, role, &c->layers[c->n_layers], err)) return -1;
        c->layers[c->n_layers++].init = c->model.init;
    }
    return 0;
}

/* ---- public ------------------------------------------------------------- */

static int check_all_used(const clae_ini_doc *doc, clae_err *err)
{
    for (int i = 0; i < doc->n_entries; i++)
        if (!doc->entries[i].used) {
            char loc[700];
            where(doc, &doc->entries[i], loc, sizeof loc);
            return clae_fail(
                err,
                "%s: unknown section [%s]; expected [model], [data], [train] or a layer section",
                loc, doc->entries[i].section);
        }
    return 0;
}

/* model.name names the run directory inside out_dir: one path component */
static int check_name(const clae_config *c, clae_ini_doc *doc, clae_err *err)
{
    const char *n = c->model.name;
    if (*n && !strchr(n, '/') && strcmp(n, ".") != 0 && strcmp(n, "..") != 0) return 0;
    char loc[700];
    where(doc, section_value(doc, "model", "name"), loc, sizeof loc);
    return clae_fail(err,
                     "%s: expected a name without '/' (not empty, '.' or '..'): the run "
                     "directory is train.out_dir/name",
                     loc);
}

/* A graph autoencoder: encoder and latent layers of gcn (or dense) and a graph vae, decoded by
 * one inner_product decoder; the inner_product decodes graphs only. */
static int check_graph(const clae_config *c, clae_ini_doc *doc, clae_err *err)
{
    bool graph = c->data.format == CLAE_DATA_GRAPH;
    int decoders = 0;
    for (int i = 0; i < c->n_layers; i++) {
        const clae_layer_spec *s = &c->layers[i];
        decoders += s->role == CLAE_ROLE_DECODER;
        bool ip = s->type == CLAE_LAYER_INNER_PRODUCT,
             node_wise = s->type == CLAE_LAYER_GCN || s->type == CLAE_LAYER_DENSE ||
                         s->type == CLAE_LAYER_ACT || s->type == CLAE_LAYER_DROPOUT ||
                         s->type == CLAE_LAYER_VAE;
        const char *why = NULL;
        if (!graph && (ip || s->type == CLAE_LAYER_GCN || s->graph))
            why = "is a graph layer: it needs data.format = graph";
        else if (graph && s->role == CLAE_ROLE_CLASSIFIER)
            why = "a graph autoencoder has no classifier head";
        else if (graph && s->role == CLAE_ROLE_DECODER && !ip)
            why = "a graph autoencoder's decoder is one [decoder.NAME] type = inner_product";
        else if (graph && s->role != CLAE_ROLE_DECODER && !node_wise)
            why = "a graph encoder takes gcn, dense, activation, dropout and vae layers";
        else if (graph && s->type == CLAE_LAYER_VAE && !s->graph)
            why = "a graph vae needs graph = true (graph-convolution heads, as VGAE)";
        if (why) return clae_fail(err, "%s:%d: [%s] %s", doc->path, s->line, s->section, why);
    }
    if (graph && decoders != 1)
        return clae_fail(err,
                         "%s: a graph autoencoder needs exactly one [decoder.NAME] type = "
                         "inner_product (found %d decoder sections)",
                         doc->path, decoders);
    return 0;
}

/* "0,1,2" into a mask of the 256 labels; -1 at a bad entry */
int clae_config_class_mask(const char *list, bool mask[256])
{
    memset(mask, 0, 256 * sizeof *mask);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 255) return -1;
        mask[v] = true;
        p = end;
        while (*p == ' ') p++;
        if (*p && *p != ',') return -1;
    }
    return 0;
}

bool clae_config_kept_classes(const clae_data_cfg *d, bool keep[256])
{
    if (!d->train_classes[0] && !d->exclude_classes[0]) return false;
    clae_config_class_mask(d->train_classes[0] ? d->train_classes : d->exclude_classes, keep);
    if (!d->train_classes[0])
        for (int c = 0; c < 256; c++) keep[c] = !keep[c];
    return true;
}

static int check_classes(const clae_config *c, clae_ini_doc *doc, clae_err *err)
{
    bool mask[256];
    const char *keys[2] = {"train_classes", "exclude_classes"};
    const char *values[2] = {c->data.train_classes, c->data.exclude_classes};
    for (int k = 0; k < 2; k++) {
        if (clae_config_class_mask(values[k], mask) == 0) continue;
        char loc[700];
        where(doc, section_value(doc, "data", keys[k]), loc, sizeof loc);
        return clae_fail(err, "%s: expected a comma list of labels 0 to 255", loc);
    }
    if (values[0][0] && values[1][0]) {
        char loc[700];
        where(doc, section_value(doc, "data", "exclude_classes"), loc, sizeof loc);
        return clae_fail(err, "%s: set data.train_classes or data.exclude_classes, not both", loc);
    }
    return 0;
}

static int check_clipping(const clae_config *c, clae_ini_doc *doc, clae_err *err)
{
    if (c->train.clip_norm > 0 && c->train.clip_value > 0) {
        char loc[700];
        where(doc, section_value(doc, "train", "clip_value"), loc, sizeof loc);
        return clae_fail(err, "%s: set train.clip_norm or train.clip_value, not both", loc);
    }
    return 0;
}

static int check_augment_splits(const clae_config *c, clae_ini_doc *doc, clae_err *err)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", c->augment.splits);
    for (char *save = NULL, *s = strtok_r(buf, ", ", &save); s; s = strtok_r(NULL, ", ", &save))
        if (strcmp(s, "train") && strcmp(s, "val") && strcmp(s, "test")) {
            char loc[700];
            where(doc, section_value(doc, "augment", "splits"), loc, sizeof loc);
            return clae_fail(
                err, "%s: unknown split '%s'; expected a comma list of train, val, test", loc, s);
        }
    return 0;
}

/* The config of a document read (or half read: rc_read != 0) into doc. */
static int config_from_doc(clae_config *c, const char *path, clae_ini_doc *doc_in, int rc_read,
                           char *const *sets, int n_sets, clae_err *err);

int clae_config_load(clae_config *c, const char *path, char *const *sets, int n_sets, clae_err *err)
{
    clae_ini_doc doc;
    int rc = clae_ini_read(&doc, path, err);
    return config_from_doc(c, path, &doc, rc, sets, n_sets, err);
}

int clae_config_load_text(clae_config *c, const char *name, const char *text, char *const *sets,
                          int n_sets, clae_err *err)
{
    clae_ini_doc doc;
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    if (!f) return memset(c, 0, sizeof *c), clae_fail(err, "%s: cannot read the config text", name);
    int rc = clae_ini_read_stream(&doc, name, f, err);
    fclose(f);
    return config_from_doc(c, name, &doc, rc, sets, n_sets, err);
}

static int config_from_doc(clae_config *c, const char *path, clae_ini_doc *doc_in, int rc_read,
                           char *const *sets, int n_sets, clae_err *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    clae_ini_doc doc = *doc_in;
    int rc = -1;
    if (rc_read) goto done;
    for (int i = 0; i < n_sets; i++)
        if (clae_ini_override(&doc, sets[i], fixed_sections, err)) goto done;
    if (load_section(&doc, "model", model_keys, &c->model, err) ||
        load_section(&doc, "data", data_keys, &c->data, err) ||
        load_section(&doc, "train", train_keys, &c->train, err) ||
        load_section(&doc, "augment", augment_keys, &c->augment, err) ||
        load_section(&doc, "report", report_keys, &c->report, err) ||
        check_augment_splits(c, &doc, err) || check_clipping(c, &doc, err) ||
        check_name(c, &doc, err) || check_classes(c, &doc, err) || load_layers(c, &doc, err) ||
        check_all_used(&doc, err) || check_graph(c, &doc, err))
        goto done;
    if (c->n_layers == 0) {
        clae_fail(
            err,
            "%s: no layer sections: add [encoder.NAME], [latent.NAME] and [decoder.NAME] sections",
            path);
        goto done;
    }
    rc = 0;
done:
    clae_ini_free(&doc);
    if (rc) clae_config_free(c);
    return rc;
}

void clae_config_free(clae_config *c)
{
    free(c->layers);
    c->layers = NULL;
    c->n_layers = 0;
}

static void write_value(FILE *f, const key_def *d, const void *base)
{
    const char *field = (const char *)base + d->offset;
    switch (d->type) {
    case KT_STR: fprintf(f, "%s", field); break;
    case KT_BOOL: fprintf(f, "%s", *(const bool *)field ? "true" : "false"); break;
    case KT_CHOICE: fprintf(f, "%s", choice_name(d->choices, *(const int *)field)); break;
    case KT_INT: fprintf(f, "%d", *(const int *)field); break;
    case KT_FLOAT: fprintf(f, "%.9g", *(const double *)field); break;
    case KT_SHAPE: {
        const clae_shape *sh = (const clae_shape *)field;
        fprintf(f, "%dx%dx%d", sh->c, sh->h, sh->w);
    } break;
    case KT_FRACTIONS: {
        const double *v = (const double *)field;
        fprintf(f, "%.9g,%.9g,%.9g", v[0], v[1], v[2]);
    } break;
    case KT_COLOR: {
        const float *rgb = (const float *)field;
        fprintf(f, "#%02x%02x%02x", (int)lrintf(rgb[0] * 255), (int)lrintf(rgb[1] * 255),
                (int)lrintf(rgb[2] * 255));
    } break;
    }
}

static void write_section(FILE *f, const char *name, const key_def *defs, const void *base)
{
    fprintf(f, "[%s]\n", name);
    for (const key_def *d = defs; d->key; d++) {
        fprintf(f, "%s = ", d->key);
        write_value(f, d, base);
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

static void write_layer(FILE *f, const clae_layer_spec *s)
{
    layer_name_ref t = name_of_spec(s);
    fprintf(f, "[%s]\ntype = %s\n", s->section, t.name->name);
    for (const key_def *d = layer_keys; d->key; d++) {
        if (!takes_key(t.name, d->key)) continue;
        fprintf(f, "%s = ", d->key);
        write_value(f, d, s);
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

/* Keys that change how a layer trains, not what it computes or holds: a
 * checkpoint loads under other values of these. */
static bool training_only(const char *key)
{
    static const char *const keys[] = {"beta", "warmup_epochs", "algo",          "momentum",
                                       "p",    "gamma",         "uniform_noise", NULL};
    for (int i = 0; keys[i]; i++)
        if (strcmp(keys[i], key) == 0) return true;
    return false;
}

int clae_config_describe_layer(FILE *f, const clae_layer_spec *s)
{
    layer_name_ref t = name_of_spec(s);
    fprintf(f, "[%s] %s", s->section, t.name->name);
    for (const key_def *d = layer_keys; d->key; d++) {
        if (!takes_key(t.name, d->key) || training_only(d->key)) continue;
        fprintf(f, " %s=", d->key);
        write_value(f, d, s);
    }
    if (s->nodes > 0) fprintf(f, " one_hot_nodes=%d", s->nodes); /* a featureless graph's */
    return ferror(f) ? -1 : 0;
}

int clae_config_write(const clae_config *c, FILE *f)
{
    fprintf(f, "; resolved config: every key with its value in effect (from %s)\n\n", c->path);
    write_section(f, "model", model_keys, &c->model);
    write_section(f, "data", data_keys, &c->data);
    write_section(f, "train", train_keys, &c->train);
    write_section(f, "augment", augment_keys, &c->augment);
    write_section(f, "report", report_keys, &c->report);
    for (int i = 0; i < c->n_layers; i++) write_layer(f, &c->layers[i]);
    return ferror(f) ? -1 : 0;
}

static void print_table(FILE *f, const char *name, const key_def *defs)
{
    fprintf(f, "[%s]\n", name);
    char names[256];
    for (const key_def *d = defs; d->key; d++)
        fprintf(f, "  %-15s default %-12s %s%s%s\n", d->key, *d->def ? d->def : "\"\"", d->doc,
                d->choices ? "; one of " : "",
                d->choices ? choices_text(d->choices, names, sizeof names) : "");
}

static bool print_layer_name(layer_name_ref r, void *user)
{
    char keys[300];
    layer_key_list(r.name, keys, sizeof keys);
    fprintf(user, "  %-15s %s\n", r.name->name, keys[0] ? keys : "(no keys)");
    return false;
}

void clae_config_print_keys(FILE *f)
{
    print_table(f, "model", model_keys);
    print_table(f, "data", data_keys);
    print_table(f, "train", train_keys);
    print_table(f, "augment", augment_keys);
    print_table(f, "report", report_keys);
    fprintf(f, "[encoder.NAME] [latent.NAME] [decoder.NAME] [classifier.NAME]  one section per "
               "layer, in order (a "
               "classifier head reads the code and goes last); type = one of:\n");
    each_layer_name(print_layer_name, f);
    for (const key_def *d = layer_keys; d->key; d++)
        fprintf(f, "  %-15s %s%s%s\n", d->key, d->doc, d->def ? "; default " : "",
                d->def ? d->def : "");
}

clae_optim_cfg clae_config_optim(const clae_config *c)
{
    const clae_train_cfg *t = &c->train;
    return (clae_optim_cfg){.kind = (clae_optim_kind)t->optimizer,
                            .lr = t->lr,
                            .weight_decay = t->weight_decay,
                            .momentum = t->momentum,
                            .dampening = t->dampening,
                            .nesterov = t->nesterov,
                            .beta1 = t->beta1,
                            .beta2 = t->beta2,
                            .eps = t->eps,
                            .clip_norm = t->clip_norm,
                            .clip_value = t->clip_value};
}

clae_schedule clae_config_schedule(const clae_config *c)
{
    const clae_train_cfg *t = &c->train;
    return (clae_schedule){.kind = (clae_schedule_kind)t->schedule,
                           .lr = t->lr,
                           .gamma = t->gamma,
                           .min_lr = t->min_lr,
                           .step_epochs = t->step_epochs,
                           .epochs = t->epochs,
                           .warmup_steps = t->warmup_steps};
}

/* Debian's Fashion-MNIST files (the default data) and their classes */
static const char *const FMNIST_CLASSES[] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                             "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                             "Bag",         "Ankle boot"};

/* Comma (or ';' with "name: keywords" entries) separated names into names. */
static int split_names(const char *list, char sep, bool before_colon, char names[][64], int max)
{
    int n = 0;
    for (const char *p = list; *p && n < max;) {
        const char *end = strchr(p, sep), *stop = end ? end : p + strlen(p);
        const char *colon = before_colon ? memchr(p, ':', (size_t)(stop - p)) : NULL;
        const char *name_end = colon ? colon : stop;
        while (p < name_end && isspace((unsigned char)*p)) p++;
        while (name_end > p && isspace((unsigned char)name_end[-1])) name_end--;
        snprintf(names[n++], 64, "%.*s", (int)(name_end - p), p);
        p = end ? end + 1 : stop;
    }
    return n;
}

int clae_config_class_names(const clae_data_cfg *d, char names[][64], int max)
{
    if (d->class_names[0]) return split_names(d->class_names, ',', false, names, max);
    if (d->format == CLAE_DATA_EMOJI && d->classes[0])
        return split_names(d->classes, ';', true, names, max);
    if (d->format == CLAE_DATA_IDX &&
        strcmp(d->train_images, FMNIST "train-images-idx3-ubyte.gz") == 0 &&
        strcmp(d->test_labels, FMNIST "t10k-labels-idx1-ubyte.gz") == 0) {
        int n = max < 10 ? max : 10;
        for (int i = 0; i < n; i++) snprintf(names[i], 64, "%s", FMNIST_CLASSES[i]);
        return n;
    }
    return 0;
}
