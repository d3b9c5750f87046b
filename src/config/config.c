/* INI -> typed config. Each fixed section is one table: key, type, where it
 * lives, default, range, doc. The same table parses, validates, writes the
 * resolved config and prints `clae keys`, so they cannot drift apart. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clae/config.h"

typedef enum { KT_INT, KT_FLOAT, KT_BOOL, KT_STR, KT_CHOICE, KT_SHAPE, KT_FRACTIONS, KT_COLOR } key_type;

typedef struct {
    const char *key;
    key_type type;
    size_t offset;       /* into the section struct */
    size_t size;         /* KT_STR: buffer size */
    const char *def;     /* default, parsed like a value */
    double min, max;     /* KT_INT, KT_FLOAT */
    const char *choices; /* KT_CHOICE: "a|b|c", stored as the index */
    const char *doc;
    unsigned applies;    /* layer keys: the layer types (bits of layer_types[]) that take it */
} key_def;

#define FMNIST "/usr/share/datasets/fashion-mnist/"
#define STR(s, f) KT_STR, offsetof(s, f), sizeof(((s *)0)->f)
#define NUM(t, s, f) t, offsetof(s, f), 0

static const key_def model_keys[] = {
    {"name", STR(clae_model_cfg, name), "model", 0, 0, NULL, "run name; the run directory is out_dir/name", 0},
    {"init", NUM(KT_CHOICE, clae_model_cfg, init), "pytorch", 0, 0, "pytorch|kaiming",
     "weights of conv, conv_transpose, dense, vae: U(+-1/sqrt(fan_in)) as PyTorch's default, or "
     "kaiming_uniform_(nonlinearity='relu'), U(+-sqrt(6/fan_in)), which trains ReLU stacks faster; biases as PyTorch",
     0},
    {0},
};

static const key_def data_keys[] = {
    {"train_images", STR(clae_data_cfg, train_images), FMNIST "train-images-idx3-ubyte.gz", 0, 0, NULL,
     "IDX (or .idx.gz) training images, u8, (N,H,W) or (N,C,H,W)", 0},
    {"train_labels", STR(clae_data_cfg, train_labels), FMNIST "train-labels-idx1-ubyte.gz", 0, 0, NULL,
     "IDX training labels (optional: empty for none)", 0},
    {"test_images", STR(clae_data_cfg, test_images), FMNIST "t10k-images-idx3-ubyte.gz", 0, 0, NULL,
     "IDX test images", 0},
    {"test_labels", STR(clae_data_cfg, test_labels), FMNIST "t10k-labels-idx1-ubyte.gz", 0, 0, NULL,
     "IDX test labels (optional)", 0},
    {"val_fraction", NUM(KT_FLOAT, clae_data_cfg, val_fraction), "0.1", 0, 0.9, NULL,
     "fraction of the training file held out for validation (seeded shuffle)", 0},
    {"train_limit", NUM(KT_INT, clae_data_cfg, train_limit), "0", 0, 1e9, NULL,
     "use only the first N training images (0 = all)", 0},
    {"test_limit", NUM(KT_INT, clae_data_cfg, test_limit), "0", 0, 1e9, NULL,
     "use only the first N test images (0 = all)", 0},
    {"format", NUM(KT_CHOICE, clae_data_cfg, format), "idx", 0, 0, "idx|csv|folder|emoji",
     "idx files (train/test), a CSV table, a folder of PNGs, or the emoji set", 0},
    {"path", STR(clae_data_cfg, path), "", 0, 0, NULL,
     "csv: the file; folder: the folder; emoji: the data folder (\"\" = scripts/prepare_data.sh's default); ~/ = home",
     0},
    {"labels", STR(clae_data_cfg, labels), "", 0, 0, NULL, "folder: optional CSV of file,label", 0},
    {"image", NUM(KT_SHAPE, clae_data_cfg, image), "3x64x64", 0, 0, NULL,
     "csv, folder, emoji: channels (1 or 3) x height x width of a sample; images are resized", 0},
    {"scale", NUM(KT_FLOAT, clae_data_cfg, scale), "255", 1e-9, 1e9, NULL, "csv: a value / scale is a pixel in [0, 1]",
     0},
    {"background", NUM(KT_COLOR, clae_data_cfg, background), "white", 0, 0, NULL,
     "folder, emoji: colour under transparent pixels: white, black, gray or #rrggbb", 0},
    {"vendors", STR(clae_data_cfg, vendors), "google", 0, 0, NULL, "emoji: comma list of google, twitter, facebook, apple",
     0},
    {"filter", STR(clae_data_cfg, filter), "face", 0, 0, NULL, "emoji: keep names containing this (\"\" = all)", 0},
    {"classes", STR(clae_data_cfg, classes), "", 0, 0, NULL,
     "emoji: labels by name keywords, e.g. happy: grinning smiling; sad: crying frowning (others dropped)", 0},
    {"split", NUM(KT_FRACTIONS, clae_data_cfg, split), "0.6,0.2,0.2", 0, 0, NULL,
     "csv, folder, emoji: train,val,test fractions of one source (seeded)", 0},
    {"stratify", NUM(KT_BOOL, clae_data_cfg, stratify), "false", 0, 0, NULL, "split each class by the fractions", 0},
    {"skip_bad", NUM(KT_BOOL, clae_data_cfg, skip_bad), "false", 0, 0, NULL,
     "skip unreadable image files (counted in the summary) instead of failing", 0},
    {0},
};

static const key_def augment_keys[] = {
    {"copies", NUM(KT_INT, clae_augment_cfg, copies), "1", 1, 64, NULL,
     "each sample of an augmented split appears this many times, each a fixed random variant", 0},
    {"splits", STR(clae_augment_cfg, splits), "train", 0, 0, NULL, "comma list of train, val, test to augment", 0},
    {"hflip", NUM(KT_FLOAT, clae_augment_cfg, hflip), "0", 0, 1, NULL, "probability of a horizontal flip", 0},
    {"vflip", NUM(KT_FLOAT, clae_augment_cfg, vflip), "0", 0, 1, NULL, "probability of a vertical flip", 0},
    {"rotate", NUM(KT_FLOAT, clae_augment_cfg, rotate), "0", 0, 180, NULL, "rotation by up to this many degrees", 0},
    {"brightness", NUM(KT_FLOAT, clae_augment_cfg, brightness), "0", 0, 1, NULL, "brightness factor in [1-x, 1+x]", 0},
    {"contrast", NUM(KT_FLOAT, clae_augment_cfg, contrast), "0", 0, 1, NULL, "contrast factor in [1-x, 1+x]", 0},
    {"saturation", NUM(KT_FLOAT, clae_augment_cfg, saturation), "0", 0, 1, NULL, "saturation factor in [1-x, 1+x]", 0},
    {"crop", NUM(KT_FLOAT, clae_augment_cfg, crop), "1", 0.05, 1, NULL,
     "random resized crop: the kept area fraction is drawn from [crop, 1] (1 = none)", 0},
    {"redraw", NUM(KT_BOOL, clae_augment_cfg, redraw), "false", 0, 0, NULL,
     "training split: draw fresh variants every epoch (still fixed by seed and epoch) instead of fixed copies", 0},
    {0},
};

static const key_def train_keys[] = {
    {"epochs", NUM(KT_INT, clae_train_cfg, epochs), "5", 1, 1e6, NULL, "passes over the training split", 0},
    {"batch_size", NUM(KT_INT, clae_train_cfg, batch_size), "64", 1, 65536, NULL, "samples per step", 0},
    {"optimizer", NUM(KT_CHOICE, clae_train_cfg, optimizer), "adamw", 0, 0, "sgd|adam|adamw|lion",
     "sgd (momentum), adam (L2 decay), adamw (decoupled decay), as torch.optim; lion (sign updates; beta2 0.99 is usual)",
     0},
    {"lr", NUM(KT_FLOAT, clae_train_cfg, lr), "1e-3", 0, 10, NULL, "learning rate", 0},
    {"weight_decay", NUM(KT_FLOAT, clae_train_cfg, weight_decay), "0.01", 0, 1, NULL,
     "L2 (sgd, adam) or decoupled (adamw) weight decay", 0},
    {"momentum", NUM(KT_FLOAT, clae_train_cfg, momentum), "0.9", 0, 0.999999, NULL, "sgd momentum", 0},
    {"dampening", NUM(KT_FLOAT, clae_train_cfg, dampening), "0", 0, 1, NULL, "sgd dampening", 0},
    {"nesterov", NUM(KT_BOOL, clae_train_cfg, nesterov), "false", 0, 0, NULL, "sgd Nesterov momentum", 0},
    {"beta1", NUM(KT_FLOAT, clae_train_cfg, beta1), "0.9", 0, 0.999999, NULL, "adam/adamw first-moment decay", 0},
    {"beta2", NUM(KT_FLOAT, clae_train_cfg, beta2), "0.999", 0, 0.999999999, NULL,
     "adam/adamw second-moment decay", 0},
    {"eps", NUM(KT_FLOAT, clae_train_cfg, eps), "1e-8", 1e-30, 1, NULL, "adam/adamw denominator epsilon", 0},
    {"loss", NUM(KT_CHOICE, clae_train_cfg, loss), "mse", 0, 0, "mse|bce",
     "reconstruction loss, mean over all values (bce clamps log at -100 as PyTorch)", 0},
    {"seed", NUM(KT_INT, clae_train_cfg, seed), "1", 0, 2147483647, NULL,
     "fixes init, split and shuffling: same config + device = same numbers", 0},
    {"log_every", NUM(KT_INT, clae_train_cfg, log_every), "100", 1, 1e9, NULL,
     "steps between loss reads (the only device->host sync in training)", 0},
    {"grid", NUM(KT_INT, clae_train_cfg, grid), "8", 1, 64, NULL, "test images in the reconstruction grid", 0},
    {"out_dir", STR(clae_train_cfg, out_dir), "runs", 0, 0, NULL, "parent folder of run directories", 0},
    {"schedule", NUM(KT_CHOICE, clae_train_cfg, schedule), "constant", 0, 0, "constant|step|exponential|cosine",
     "learning rate per epoch: StepLR, ExponentialLR, CosineAnnealingLR (T_max = epochs)", 0},
    {"step_epochs", NUM(KT_INT, clae_train_cfg, step_epochs), "10", 1, 1e6, NULL, "step schedule: epochs per decay", 0},
    {"gamma", NUM(KT_FLOAT, clae_train_cfg, gamma), "0.1", 0, 1, NULL, "step and exponential schedules: decay factor",
     0},
    {"min_lr", NUM(KT_FLOAT, clae_train_cfg, min_lr), "0", 0, 10, NULL, "cosine schedule: final learning rate", 0},
    {"warmup_steps", NUM(KT_INT, clae_train_cfg, warmup_steps), "0", 0, 1e9, NULL,
     "linear warm-up of the learning rate over the first steps", 0},
    {"clip_norm", NUM(KT_FLOAT, clae_train_cfg, clip_norm), "0", 0, 1e9, NULL,
     "clip gradients to this global L2 norm (0: off), as clip_grad_norm_", 0},
    {"clip_value", NUM(KT_FLOAT, clae_train_cfg, clip_value), "0", 0, 1e9, NULL,
     "clip each gradient value to [-v, v] (0: off), as clip_grad_value_", 0},
    {"patience", NUM(KT_INT, clae_train_cfg, patience), "0", 0, 1e6, NULL,
     "early stopping: stop after this many epochs without a better validation loss (0: off)", 0},
    {"min_delta", NUM(KT_FLOAT, clae_train_cfg, min_delta), "0", 0, 1e9, NULL,
     "early stopping: an improvement must exceed this", 0},
    {"reduction", NUM(KT_CHOICE, clae_train_cfg, reduction), "mean", 0, 0, "mean|sum",
     "reconstruction loss: mean over all values, or sum over a sample's values (mean over the batch)", 0},
    {"noise", NUM(KT_CHOICE, clae_train_cfg, noise), "none", 0, 0, "none|gaussian|salt_pepper|mask",
     "denoising: corrupt the input only; the loss compares the output with the clean input", 0},
    {"noise_level", NUM(KT_FLOAT, clae_train_cfg, noise_level), "0.2", 0, 10, NULL,
     "gaussian sigma (not clamped), or the probability of salt and pepper / masking", 0},
    {"lambda", NUM(KT_FLOAT, clae_train_cfg, lambda), "1", 0, 1e6, NULL,
     "multitask: loss = reconstruction + lambda * the [classifier.*] head's softmax cross-entropy (batch mean)", 0},
    {"latent_l1", NUM(KT_FLOAT, clae_train_cfg, latent_l1), "0", 0, 1e6, NULL,
     "sparse: adds latent_l1 * sum |code| (per sample, mean over the batch) to the loss", 0},
    {"latent_kl", NUM(KT_FLOAT, clae_train_cfg, latent_kl), "0", 0, 1e6, NULL,
     "sparse: adds latent_kl * sum_j KL(latent_rho || mean activation of unit j); needs a sigmoid code", 0},
    {"latent_rho", NUM(KT_FLOAT, clae_train_cfg, latent_rho), "0.05", 1e-4, 0.9999, NULL,
     "sparse: target mean activation of the KL penalty", 0},
    {0},
};

/* Layer sections: the type names, and each key with the types that take it. */
static const struct {
    const char *name;
    clae_layer_type type;
    clae_act act;
} layer_types[] = {
    {"dense", CLAE_LAYER_DENSE, CLAE_ACT_NONE},       {"conv", CLAE_LAYER_CONV, CLAE_ACT_NONE},
    {"conv_transpose", CLAE_LAYER_CONV_T, CLAE_ACT_NONE}, {"max_pool", CLAE_LAYER_MAX_POOL, CLAE_ACT_NONE},
    {"avg_pool", CLAE_LAYER_AVG_POOL, CLAE_ACT_NONE},  {"upsample", CLAE_LAYER_UPSAMPLE, CLAE_ACT_NONE},
    {"reshape", CLAE_LAYER_RESHAPE, CLAE_ACT_NONE},    {"flatten", CLAE_LAYER_RESHAPE, CLAE_ACT_NONE},
    {"batch_norm", CLAE_LAYER_BATCH_NORM, CLAE_ACT_NONE},
    {"dropout", CLAE_LAYER_DROPOUT, CLAE_ACT_NONE},    {"residual", CLAE_LAYER_RESIDUAL, CLAE_ACT_NONE},
    {"attention", CLAE_LAYER_ATTENTION, CLAE_ACT_NONE}, {"vae", CLAE_LAYER_VAE, CLAE_ACT_NONE},
    {"relu", CLAE_LAYER_ACT, CLAE_ACT_RELU},           {"leaky_relu", CLAE_LAYER_ACT, CLAE_ACT_LEAKY_RELU},
    {"sigmoid", CLAE_LAYER_ACT, CLAE_ACT_SIGMOID},     {"tanh", CLAE_LAYER_ACT, CLAE_ACT_TANH},
};
#define N_LAYER_TYPES (sizeof layer_types / sizeof layer_types[0])
enum {
    T_DENSE = 1 << 0, T_CONV = 1 << 1, T_CONV_T = 1 << 2, T_MAX_POOL = 1 << 3, T_AVG_POOL = 1 << 4,
    T_UPSAMPLE = 1 << 5, T_RESHAPE = 1 << 6, T_FLATTEN = 1 << 7, T_BATCH_NORM = 1 << 8, T_DROPOUT = 1 << 9,
    T_RESIDUAL = 1 << 10, T_ATTENTION = 1 << 11, T_VAE = 1 << 12, T_LEAKY = 1 << 14,
    T_CONVS = T_CONV | T_CONV_T, T_POOLS = T_MAX_POOL | T_AVG_POOL, T_AFFINE = T_DENSE | T_CONVS,
};

#define L(f, t) t, offsetof(clae_layer_spec, f), sizeof(((clae_layer_spec *)0)->f)
/* def NULL: required. stride 0 means "the default": 1 for convolutions, the kernel for pools. */
static const key_def layer_keys[] = {
    {"units", L(units, KT_INT), NULL, 1, 1e7, NULL, "output features (vae: latent size) (required)", T_DENSE | T_VAE},
    {"beta", L(beta, KT_FLOAT), "1", 0, 1e6, NULL, "vae: weight of the KL term", T_VAE},
    {"warmup_epochs", L(warmup_epochs, KT_FLOAT), "0", 0, 1e6, NULL,
     "vae: the KL weight ramps linearly from 0 to beta over these epochs", T_VAE},
    {"channels", L(channels, KT_INT), NULL, 1, 65536, NULL, "output channels (required)", T_CONVS},
    {"kernel", L(kernel, KT_INT), NULL, 1, 64, NULL, "kernel size K (K x K, required)", T_CONVS | T_POOLS},
    {"stride", L(stride, KT_INT), "0", 0, 64, NULL, "stride (default 1 for conv, the kernel for pools)",
     T_CONVS | T_POOLS},
    {"padding", L(padding, KT_INT), "0", 0, 64, NULL, "zero padding (pools: -inf for max)", T_CONVS | T_POOLS},
    {"dilation", L(dilation, KT_INT), "1", 1, 64, NULL, "kernel dilation", T_CONVS},
    {"output_padding", L(output_padding, KT_INT), "0", 0, 63, NULL,
     "extra rows/columns on one side of the output, as PyTorch", T_CONV_T},
    {"algo", L(algo, KT_CHOICE), "auto", 0, 0, "auto|im2col|direct",
     "im2col + GEMM or direct kernels (auto: direct for thin layers)", T_CONVS},
    {"activation", L(act, KT_CHOICE), "none", 0, 0, "none|relu|leaky_relu|sigmoid|tanh", "applied after the layer",
     T_AFFINE},
    {"bias", L(bias, KT_BOOL), "true", 0, 0, NULL, "learn a bias", T_AFFINE},
    {"slope", L(slope, KT_FLOAT), "0.01", 0, 1, NULL, "leaky_relu negative slope", T_AFFINE | T_LEAKY},
    {"scale", L(scale, KT_INT), NULL, 1, 16, NULL, "integer upsampling factor (required)", T_UPSAMPLE},
    {"mode", L(mode, KT_CHOICE), "nearest", 0, 0, "nearest|bilinear", "bilinear uses align_corners=False",
     T_UPSAMPLE},
    {"momentum", L(momentum, KT_FLOAT), "0.1", 0, 1, NULL, "running statistics update (PyTorch's momentum)",
     T_BATCH_NORM},
    {"eps", L(eps, KT_FLOAT), "1e-5", 1e-12, 1, NULL, "added to the variance", T_BATCH_NORM},
    {"key_channels", L(units, KT_INT), "0", 0, 65536, NULL, "query/key channels (0: channels / 8, at least 1)",
     T_ATTENTION},
    {"gamma", L(gamma, KT_FLOAT), "0", -10, 10, NULL, "initial scale of the attention output (SAGAN: 0)",
     T_ATTENTION},
    {"p", L(p, KT_FLOAT), "0.5", 0, 0.99, NULL, "probability of zeroing a value in training", T_DROPOUT},
    {"from", L(from, KT_STR), NULL, 0, 0, NULL, "section of an earlier layer whose output is added (required)",
     T_RESIDUAL},
    {"shape", L(shape, KT_SHAPE), NULL, 0, 0, NULL, "target CxHxW, e.g. 32x7x7 (required)", T_RESHAPE},
    {0},
};
#undef L

static const char *const fixed_sections[] = {"model", "data", "train", "augment", NULL};

/* ---- value parsing ------------------------------------------------------ */

static void where(const clae_ini_doc *doc, const clae_ini_entry *e, char *buf, size_t n)
{
    if (e && e->line > 0) snprintf(buf, n, "%s:%d: [%s] %s = %s", doc->path, e->line, e->section, e->key, e->value);
    else if (e) snprintf(buf, n, "--set %s.%s=%s", e->section, e->key, e->value);
    else snprintf(buf, n, "%s", doc->path);
}

static int choice_index(const char *choices, const char *value)
{
    int idx = 0;
    size_t vl = strlen(value);
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == vl && strncasecmp(p, value, len) == 0) return idx;
        p += len + (bar ? 1 : 0);
    }
    return -1;
}

static const char *choice_name(const char *choices, int index, char *buf, size_t n)
{
    const char *p = choices;
    for (int i = 0; i < index && p; i++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    if (!p) return "?";
    size_t len = strchr(p, '|') ? (size_t)(strchr(p, '|') - p) : strlen(p);
    snprintf(buf, n, "%.*s", (int)len, p);
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
static int set_value(const key_def *def, void *base, const char *value, const char *loc, clae_err *err)
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
        if (parse_bool(value, (bool *)field)) return clae_fail(err, "%s: expected true or false", loc);
        return 0;
    case KT_CHOICE: {
        int idx = choice_index(def->choices, value);
        if (idx < 0) return clae_fail(err, "%s: expected one of %s", loc, def->choices);
        *(int *)field = idx;
        return 0;
    }
    case KT_INT:
        if (parse_number(value, &x) || x != floor(x))
            return clae_fail(err, "%s: expected an integer in [%.0f, %.0f]", loc, def->min, def->max);
        if (x < def->min || x > def->max)
            return clae_fail(err, "%s: out of range: expected an integer in [%.0f, %.0f]", loc, def->min, def->max);
        *(int *)field = (int)x;
        return 0;
    case KT_FRACTIONS: {
        double *v = (double *)field;
        char tail;
        if (sscanf(value, "%lf,%lf,%lf%c", &v[0], &v[1], &v[2], &tail) != 3 || v[0] <= 0 || v[1] < 0 || v[2] < 0 ||
            fabs(v[0] + v[1] + v[2] - 1.0) > 1e-6)
            return clae_fail(err, "%s: expected three fractions train,val,test that sum to 1, e.g. 0.6,0.2,0.2", loc);
        return 0;
    }
    case KT_COLOR: {
        float *rgb = (float *)field;
        unsigned hex;
        char tail;
        if (strcasecmp(value, "white") == 0) rgb[0] = rgb[1] = rgb[2] = 1.0f;
        else if (strcasecmp(value, "black") == 0) rgb[0] = rgb[1] = rgb[2] = 0.0f;
        else if (strcasecmp(value, "gray") == 0) rgb[0] = rgb[1] = rgb[2] = 0.5f;
        else if (sscanf(value, "#%6x%c", &hex, &tail) == 1 && strlen(value) == 7)
            for (int k = 0; k < 3; k++) rgb[k] = (float)((hex >> (16 - 8 * k)) & 0xFF) / 255.0f;
        else return clae_fail(err, "%s: expected white, black, gray or #rrggbb", loc);
        return 0;
    }
    case KT_SHAPE: {
        int c, h, w;
        char tail;
        if (sscanf(value, "%dx%dx%d%c", &c, &h, &w, &tail) != 3 || c < 1 || h < 1 || w < 1)
            return clae_fail(err, "%s: expected a shape CxHxW of positive integers, e.g. 32x7x7", loc);
        *(clae_shape *)field = (clae_shape){1, c, h, w};
        return 0;
    }
    case KT_FLOAT:
        if (parse_number(value, &x)) return clae_fail(err, "%s: expected a number in [%g, %g]", loc, def->min, def->max);
        if (x < def->min || x > def->max)
            return clae_fail(err, "%s: out of range: expected a number in [%g, %g]", loc, def->min, def->max);
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
static int load_section(clae_ini_doc *doc, const char *section, const key_def *defs, void *base, clae_err *err)
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
            return clae_fail(err, "%s: unknown key '%s' in [%s]; expected one of: %s", loc, e->key, section, keys);
        }
        if (set_value(d, base, e->value, loc, err)) return -1;
    }
    return 0;
}

/* ---- layer sections ----------------------------------------------------- */

static int layer_role(const char *section, clae_role *role)
{
    static const struct { const char *prefix; clae_role role; } roles[] = {
        {"encoder.", CLAE_ROLE_ENCODER}, {"latent.", CLAE_ROLE_LATENT}, {"decoder.", CLAE_ROLE_DECODER},
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

static void layer_key_list(unsigned bit, char *keys, size_t n)
{
    keys[0] = 0;
    for (const key_def *d = layer_keys; d->key; d++)
        if (d->applies & bit) {
            size_t len = strlen(keys);
            snprintf(keys + len, n - len, "%s%s", len ? ", " : "", d->key);
        }
}

static int type_index(const char *name)
{
    for (size_t i = 0; i < N_LAYER_TYPES; i++)
        if (strcasecmp(layer_types[i].name, name) == 0) return (int)i;
    return -1;
}

/* Defaults of the keys that apply; every key the section sets, checked to apply. */
static int layer_values(clae_ini_doc *doc, const clae_ini_section *sec, int t, clae_layer_spec *s, clae_err *err)
{
    unsigned bit = 1u << t;
    for (const key_def *d = layer_keys; d->key; d++)
        if ((d->applies & bit) && d->def && set_value(d, s, d->def, "built-in default", err)) return -1;
    for (int i = 0; i < doc->n_entries; i++) {
        clae_ini_entry *e = &doc->entries[i];
        if (strcmp(e->section, sec->name) != 0 || strcmp(e->key, "type") == 0) continue;
        e->used = true;
        char loc[700], keys[300];
        where(doc, e, loc, sizeof loc);
        const key_def *d = layer_keys;
        while (d->key && strcmp(d->key, e->key) != 0) d++;
        if (!d->key || !(d->applies & bit)) {
            layer_key_list(bit, keys, sizeof keys);
            return clae_fail(err, "%s: unknown key '%s' for a %s layer; expected one of: %s", loc, e->key,
                             layer_types[t].name, keys[0] ? keys : "(none)");
        }
        if (set_value(d, s, e->value, loc, err)) return -1;
    }
    for (const key_def *d = layer_keys; d->key; d++)
        if ((d->applies & bit) && !d->def && !section_value(doc, sec->name, d->key))
            return clae_fail(err, "%s:%d: [%s] a %s layer needs '%s': %s", doc->path, sec->line, sec->name,
                             layer_types[t].name, d->key, d->doc);
    return 0;
}

static int load_layer(clae_ini_doc *doc, const clae_ini_section *sec, clae_role role, clae_layer_spec *s,
                      clae_err *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->section, sizeof s->section, "%s", sec->name);
    snprintf(s->file, sizeof s->file, "%s", doc->path);
    s->line = sec->line;
    s->role = role;
    const clae_ini_entry *te = section_value(doc, sec->name, "type");
    char names[300] = "";
    for (size_t i = 0; i < N_LAYER_TYPES; i++) {
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s", i ? "|" : "", layer_types[i].name);
    }
    if (!te) return clae_fail(err, "%s:%d: [%s] has no 'type'; expected one of %s", doc->path, sec->line, sec->name, names);
    ((clae_ini_entry *)te)->used = true;
    int t = type_index(te->value);
    if (t < 0) {
        char loc[700];
        where(doc, te, loc, sizeof loc);
        return clae_fail(err, "%s: unknown layer type; expected one of %s", loc, names);
    }
    s->type = layer_types[t].type;
    if (s->type == CLAE_LAYER_ACT) s->act = layer_types[t].act, s->slope = 0.01;
    if (layer_values(doc, sec, t, s, err)) return -1;
    if (s->stride == 0) s->stride = (s->type == CLAE_LAYER_MAX_POOL || s->type == CLAE_LAYER_AVG_POOL) ? s->kernel : 1;
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
            return clae_fail(err, "%s:%d: unknown section [%s]; expected [model], [data], [train], [augment] or a "
                                  "layer [encoder.NAME], [latent.NAME], [decoder.NAME], [classifier.NAME]",
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
            return clae_fail(err, "%s: unknown section [%s]; expected [model], [data], [train] or a layer section",
                             loc, doc->entries[i].section);
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
            return clae_fail(err, "%s: unknown split '%s'; expected a comma list of train, val, test", loc, s);
        }
    return 0;
}

/* The config of a document read (or half read: rc_read != 0) into doc. */
static int config_from_doc(clae_config *c, const char *path, clae_ini_doc *doc_in, int rc_read, char *const *sets,
                           int n_sets, clae_err *err);

int clae_config_load(clae_config *c, const char *path, char *const *sets, int n_sets, clae_err *err)
{
    clae_ini_doc doc;
    int rc = clae_ini_read(&doc, path, err);
    return config_from_doc(c, path, &doc, rc, sets, n_sets, err);
}

int clae_config_load_text(clae_config *c, const char *name, const char *text, char *const *sets, int n_sets,
                          clae_err *err)
{
    clae_ini_doc doc;
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    if (!f) return memset(c, 0, sizeof *c), clae_fail(err, "%s: cannot read the config text", name);
    int rc = clae_ini_read_stream(&doc, name, f, err);
    fclose(f);
    return config_from_doc(c, name, &doc, rc, sets, n_sets, err);
}

static int config_from_doc(clae_config *c, const char *path, clae_ini_doc *doc_in, int rc_read, char *const *sets,
                           int n_sets, clae_err *err)
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
        load_section(&doc, "augment", augment_keys, &c->augment, err) || check_augment_splits(c, &doc, err) ||
        check_clipping(c, &doc, err) ||
        load_layers(c, &doc, err) ||
        check_all_used(&doc, err))
        goto done;
    if (c->n_layers == 0) {
        clae_fail(err, "%s: no layer sections: add [encoder.NAME], [latent.NAME] and [decoder.NAME] sections", path);
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
    char name[64];
    switch (d->type) {
    case KT_STR: fprintf(f, "%s", field); break;
    case KT_BOOL: fprintf(f, "%s", *(const bool *)field ? "true" : "false"); break;
    case KT_CHOICE: fprintf(f, "%s", choice_name(d->choices, *(const int *)field, name, sizeof name)); break;
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
        fprintf(f, "#%02x%02x%02x", (int)lrintf(rgb[0] * 255), (int)lrintf(rgb[1] * 255), (int)lrintf(rgb[2] * 255));
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

static int spec_type_index(const clae_layer_spec *s)
{
    for (size_t i = 0; i < N_LAYER_TYPES; i++) {
        if (layer_types[i].type != s->type) continue;
        if (s->type == CLAE_LAYER_ACT && layer_types[i].act != s->act) continue;
        if (s->type == CLAE_LAYER_RESHAPE && (s->shape.c == 0) != (strcmp(layer_types[i].name, "flatten") == 0))
            continue;
        return (int)i;
    }
    return 0;
}

static void write_layer(FILE *f, const clae_layer_spec *s)
{
    int t = spec_type_index(s);
    fprintf(f, "[%s]\ntype = %s\n", s->section, layer_types[t].name);
    for (const key_def *d = layer_keys; d->key; d++) {
        if (!(d->applies & (1u << t))) continue;
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
    static const char *const keys[] = {"beta", "warmup_epochs", "algo", "momentum", "p", "gamma", NULL};
    for (int i = 0; keys[i]; i++)
        if (strcmp(keys[i], key) == 0) return true;
    return false;
}

int clae_config_describe_layer(FILE *f, const clae_layer_spec *s)
{
    int t = spec_type_index(s);
    fprintf(f, "[%s] %s", s->section, layer_types[t].name);
    for (const key_def *d = layer_keys; d->key; d++) {
        if (!(d->applies & (1u << t)) || training_only(d->key)) continue;
        fprintf(f, " %s=", d->key);
        write_value(f, d, s);
    }
    return ferror(f) ? -1 : 0;
}

int clae_config_write(const clae_config *c, FILE *f)
{
    fprintf(f, "; resolved config: every key with its value in effect (from %s)\n\n", c->path);
    write_section(f, "model", model_keys, &c->model);
    write_section(f, "data", data_keys, &c->data);
    write_section(f, "train", train_keys, &c->train);
    write_section(f, "augment", augment_keys, &c->augment);
    for (int i = 0; i < c->n_layers; i++) write_layer(f, &c->layers[i]);
    return ferror(f) ? -1 : 0;
}

static void print_table(FILE *f, const char *name, const key_def *defs)
{
    fprintf(f, "[%s]\n", name);
    for (const key_def *d = defs; d->key; d++)
        fprintf(f, "  %-13s default %-12s %s%s%s\n", d->key, *d->def ? d->def : "\"\"", d->doc,
                d->choices ? "; one of " : "", d->choices ? d->choices : "");
}

void clae_config_print_keys(FILE *f)
{
    print_table(f, "model", model_keys);
    print_table(f, "data", data_keys);
    print_table(f, "train", train_keys);
    print_table(f, "augment", augment_keys);
    fprintf(f, "[encoder.NAME] [latent.NAME] [decoder.NAME] [classifier.NAME]  one section per layer, in order (a "
               "classifier head reads the code and goes last); type = one of:\n");
    for (size_t t = 0; t < N_LAYER_TYPES; t++) {
        char keys[300];
        layer_key_list(1u << t, keys, sizeof keys);
        fprintf(f, "  %-15s %s\n", layer_types[t].name, keys[0] ? keys : "(no keys)");
    }
    for (const key_def *d = layer_keys; d->key; d++)
        fprintf(f, "  %-15s %s%s%s\n", d->key, d->doc, d->def ? "; default " : "", d->def ? d->def : "");
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
