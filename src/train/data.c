/* A config's data: sources loaded by format, split (idx: the training file
 * into train/val by val_fraction, the test file as test; other formats: one
 * source into train/val/test by data.split), augmented splits expanded to
 * copies, and everything uploaded once; a batch is gathered on the device. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/train.h"

#define MAX_AUGMENTED_SAMPLES (1u << 24) /* order entries keep the copy in the top 8 bits */

static cl_mem upload(clae_ctx *ctx, size_t bytes, const void *host, const char *what)
{
    if (bytes > ctx->dev.max_alloc) {
        clae_fail(&ctx->err,
                  "%s take %.1f MiB but %s allows %.1f MiB per allocation: lower data.train_limit",
                  what, bytes / 1048576.0, ctx->dev.name, ctx->dev.max_alloc / 1048576.0);
        return NULL;
    }
    return clae_buffer(ctx, bytes, host, what);
}

int clae_data_upload_order(clae_data *t, clae_split_data *s)
{
    if (s->n == 0) return 0;
    CLAE_CL_TRY(t->ctx,
                clEnqueueWriteBuffer(t->ctx->queue, s->order, CL_TRUE, 0,
                                     (size_t)s->n * sizeof(uint32_t), s->host_order, 0, NULL, NULL),
                "clEnqueueWriteBuffer (sample order)");
    return 0;
}

/* A split is augmented when augment.splits names it and some transform or
 * copy is asked for; the identity takes the plain gather, which costs a
 * fraction of the augment kernel (measured: 2.3 ms of a 7 ms vae_fmnist step). */
static bool augmented(const clae_config *c, const char *split)
{
    const clae_augment_cfg *a = &c->augment;
    if (a->copies <= 1 && a->hflip <= 0 && a->vflip <= 0 && a->rotate <= 0 && a->brightness <= 0 &&
        a->contrast <= 0 && a->saturation <= 0 && a->crop >= 1)
        return false;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", c->augment.splits);
    for (char *save = NULL, *s = strtok_r(buf, ", ", &save); s; s = strtok_r(NULL, ", ", &save))
        if (strcmp(s, split) == 0) return true;
    return false;
}

/* Takes idx (n samples of source src); an augmented split gets copies entries per sample. */
static int make_split(clae_data *t, clae_split_data *s, const char *name, int src, uint32_t *idx,
                      uint32_t n, clae_err *err)
{
    s->source = src;
    s->augment = augmented(t->cfg, name);
    uint32_t copies = s->augment ? (uint32_t)t->cfg->augment.copies : 1;
    if (s->augment && t->sources[src].set.count > MAX_AUGMENTED_SAMPLES) {
        free(idx);
        return clae_fail(err, "augmentation supports up to %u samples per source",
                         MAX_AUGMENTED_SAMPLES);
    }
    s->host_order = malloc((size_t)n * copies * sizeof(uint32_t) + 4);
    if (!s->host_order) {
        free(idx);
        return clae_fail(err, "out of host memory");
    }
    for (uint32_t c = 0; c < copies; c++)
        for (uint32_t i = 0; i < n; i++)
            s->host_order[c * n + i] = s->augment ? (c << 24 | idx[i]) : idx[i];
    free(idx);
    s->n = n * copies;
    s->order = upload(t->ctx, (size_t)(s->n ? s->n : 1) * sizeof(uint32_t), NULL, "sample indices");
    if (!s->order || clae_data_upload_order(t, s)) return *err = t->ctx->err, -1;
    return 0;
}

static int load_idx_sources(clae_data *t, uint32_t *idx[3], uint32_t n[3], clae_err *err)
{
    const clae_data_cfg *d = &t->cfg->data;
    clae_dataset *tr = &t->sources[0].set, *te = &t->sources[1].set;
    t->n_sources = 2;
    if (clae_dataset_load_idx(tr, d->train_images, d->train_labels, (uint32_t)d->train_limit,
                              err) ||
        clae_dataset_load_idx(te, d->test_images, d->test_labels, (uint32_t)d->test_limit, err))
        return -1;
    if (tr->sample.c != te->sample.c || tr->sample.h != te->sample.h ||
        tr->sample.w != te->sample.w)
        return clae_fail(err, "%s holds %dx%dx%d images but %s holds %dx%dx%d", d->train_images,
                         tr->sample.c, tr->sample.h, tr->sample.w, d->test_images, te->sample.c,
                         te->sample.h, te->sample.w);
    if (clae_split(tr->count, d->val_fraction, (uint64_t)t->cfg->train.seed, &idx[0], &n[0],
                   &idx[1], &n[1], err))
        return -1;
    idx[2] = malloc((size_t)te->count * sizeof(uint32_t) + 4);
    if (!idx[2]) return clae_fail(err, "out of host memory");
    for (uint32_t i = 0; i < te->count; i++) idx[2][i] = i;
    n[2] = te->count;
    return 0;
}

static int load_one_source(clae_data *t, uint32_t *idx[3], uint32_t n[3], clae_err *err)
{
    const clae_data_cfg *d = &t->cfg->data;
    clae_dataset *set = &t->sources[0].set;
    clae_image_opts o = {.image = d->image, .skip_bad = d->skip_bad};
    memcpy(o.background, d->background, sizeof o.background);
    char dir[1024];
    if (d->path[0])
        clae_expand_home(d->path, dir, sizeof dir);
    else
        clae_default_data_dir(dir, sizeof dir);
    t->n_sources = 1;
    int rc;
    if (d->format == CLAE_DATA_CSV)
        rc = clae_dataset_load_csv(set, dir, d->image, d->scale, (uint32_t)d->train_limit, err);
    else if (d->format == CLAE_DATA_FOLDER)
        rc = clae_dataset_load_folder(set, dir, d->labels, &o, err);
    else
        rc = clae_dataset_load_emoji(set, dir, d->vendors, d->filter, d->classes, &o, err);
    if (rc) return -1;
    if (set->sample.c != 1 && set->sample.c != 3)
        return clae_fail(err, "data.image = %dx%dx%d: images have 1 or 3 channels", set->sample.c,
                         set->sample.h, set->sample.w);
    return clae_split3(set, d->split, d->stratify, (uint64_t)t->cfg->train.seed, idx, n, err);
}

/* Mean gray of each image (contrast jitter blends toward it). */
static cl_mem image_means(clae_ctx *ctx, const clae_dataset *d)
{
    size_t plane = (size_t)d->sample.h * d->sample.w;
    float *m = malloc((size_t)d->count * sizeof *m + 4);
    if (!m) return clae_fail(&ctx->err, "out of host memory"), NULL;
    static const float luma[3] = {0.299f, 0.587f, 0.114f};
    for (uint32_t i = 0; i < d->count; i++) {
        const uint8_t *px = d->pixels + (size_t)i * d->sample.c * plane;
        double s = 0;
        for (int c = 0; c < d->sample.c; c++)
            for (size_t k = 0; k < plane; k++)
                s += (d->sample.c == 1 ? 1.0 : luma[c]) * px[c * plane + k];
        m[i] = (float)(s / (255.0 * plane));
    }
    cl_mem buf = upload(ctx, (size_t)d->count * sizeof(float), m, "image means");
    free(m);
    return buf;
}

/* data.train_classes / exclude_classes: train and validation keep the normal classes, the
 * test split every class (the held-out ones are the anomalies). */
static int keep_classes(clae_data *t, uint32_t *idx[3], uint32_t n[3], clae_err *err)
{
    const clae_data_cfg *d = &t->cfg->data;
    bool keep[256];
    if (!clae_config_kept_classes(d, keep)) return 0;
    const clae_dataset *set = &t->sources[0].set;
    if (!set->labels)
        return clae_fail(err, "data.%s needs labelled data: %s has none",
                         d->train_classes[0] ? "train_classes" : "exclude_classes",
                         d->format == CLAE_DATA_IDX ? d->train_images : d->path);
    for (int s = 0; s < 2; s++) {
        uint32_t out = 0;
        for (uint32_t i = 0; i < n[s]; i++)
            if (keep[set->labels[idx[s][i]]]) idx[s][out++] = idx[s][i];
        n[s] = out;
    }
    return 0;
}

/* Every split needs a sample: an empty validation split made the loss NaN and an empty test
 * split a summary of nothing. The message names the key that cuts the data. */
static int check_split_counts(const clae_data *t, const uint32_t n[3], clae_err *err)
{
    if (n[0] && n[1] && n[2]) return 0;
    const clae_data_cfg *d = &t->cfg->data;
    if (d->format == CLAE_DATA_IDX)
        return clae_fail(err,
                         "data.val_fraction = %g of %u training images (%s) leaves %u to train "
                         "and %u to validate, and the test file gives %u: each needs at least "
                         "one (change data.val_fraction, data.train_limit or data.test_limit)",
                         d->val_fraction, n[0] + n[1], d->train_images, n[0], n[1], n[2]);
    return clae_fail(err,
                     "data.split = %g,%g,%g of %u images gives %u train, %u validation and %u "
                     "test images: each needs at least one (change data.split)",
                     d->split[0], d->split[1], d->split[2], n[0] + n[1] + n[2], n[0], n[1], n[2]);
}

int clae_check_image_config(const clae_config *cfg, clae_err *err)
{
    if (cfg->data.format != CLAE_DATA_GRAPH) return 0;
    return clae_fail(err,
                     "%s: data.format = graph: a graph trains with clae train and its nodes "
                     "encode with clae encode; this command works on images",
                     cfg->path);
}

int clae_data_open(clae_data *t, clae_ctx *ctx, const clae_config *cfg, clae_err *err)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->ctx = ctx;
    uint32_t *idx[3] = {NULL, NULL, NULL}, n[3] = {0, 0, 0};
    if (clae_check_image_config(cfg, err)) return -1;
    int rc = t->cfg->data.format == CLAE_DATA_IDX ? load_idx_sources(t, idx, n, err)
                                                  : load_one_source(t, idx, n, err);
    for (int i = 0; i < t->n_sources && rc == 0; i++) {
        clae_source *s = &t->sources[i];
        s->pixels = upload(t->ctx, (size_t)s->set.count * clae_shape_sample(s->set.sample),
                           s->set.pixels, "images");
        s->means = s->pixels ? image_means(t->ctx, &s->set) : NULL;
        if (s->set.labels && s->means)
            s->labels = upload(t->ctx, s->set.count, s->set.labels, "labels");
        if (!s->pixels || !s->means || (s->set.labels && !s->labels)) rc = -1, *err = t->ctx->err;
    }
    int test_src = t->n_sources - 1;
    if (rc == 0) rc = keep_classes(t, idx, n, err);
    if (rc == 0) rc = check_split_counts(t, n, err);
    if (rc == 0) { /* make_split takes its list: on a failure the later ones are freed here */
        clae_split_data *splits[3] = {&t->train, &t->val, &t->test};
        static const char *const names[3] = {"train", "val", "test"};
        for (int k = 0; k < 3; k++) {
            uint32_t *list = idx[k];
            idx[k] = NULL;
            if (rc == 0)
                rc = make_split(t, splits[k], names[k], k == 2 ? test_src : 0, list, n[k], err);
            else
                free(list);
        }
        if (rc) clae_data_close(t);
        return rc;
    }
    for (int i = 0; i < 3; i++) free(idx[i]);
    clae_data_close(t);
    return -1;
}

static void release_split(clae_split_data *s)
{
    if (s->order) clReleaseMemObject(s->order);
    free(s->host_order);
    memset(s, 0, sizeof *s);
}

void clae_data_close(clae_data *t)
{
    release_split(&t->train);
    release_split(&t->val);
    release_split(&t->test);
    for (int i = 0; i < 2; i++) {
        clae_source *s = &t->sources[i];
        if (s->pixels) clReleaseMemObject(s->pixels);
        if (s->means) clReleaseMemObject(s->means);
        if (s->labels) clReleaseMemObject(s->labels);
        clae_dataset_free(&s->set);
        memset(s, 0, sizeof *s);
    }
    t->n_sources = 0;
}

clae_split_data *clae_data_split(clae_data *d, clae_split_kind k)
{
    return k == CLAE_SPLIT_TRAIN ? &d->train : k == CLAE_SPLIT_VAL ? &d->val : &d->test;
}

int clae_data_gather(clae_data *t, clae_split_kind k, uint32_t first, int rows, int epoch,
                     clae_tensor *x)
{
    const clae_split_data *s = clae_data_split(t, k);
    const clae_source *src = &t->sources[s->source];
    if (!s->augment) return clae_data_gather_plain(t, k, first, rows, x);
    const clae_augment_cfg *a = &t->cfg->augment;
    clae_augment_params p = {
        (float)a->hflip,      (float)a->vflip,    (float)a->rotate,
        (float)a->brightness, (float)a->contrast, (float)a->saturation,
        (float)a->crop,       {0, 0, 0},          (uint32_t)t->cfg->train.seed};
    memcpy(p.background, t->cfg->data.background, sizeof p.background);
    if (a->redraw &&
        k == CLAE_SPLIT_TRAIN) /* evaluation splits keep fixed variants, comparable across epochs */
        p.seed = (uint32_t)((uint64_t)p.seed * 0x9E3779B1u + 0x7F4A7C15u * (uint32_t)(epoch + 1));
    return clae_op_augment(t->ctx, x, src->pixels, s->order, first, (size_t)rows, src->set.sample,
                           src->means, &p);
}

const char *clae_split_name(clae_split_kind k)
{
    static const char *const names[] = {CLAE_SPLIT_LIST(CLAE_X_NAME)};
    return (unsigned)k < 3 ? names[k] : "?";
}

int clae_split_parse(const char *text, size_t len)
{
    for (int k = 0; k < 3; k++)
        if (strlen(clae_split_name((clae_split_kind)k)) == len &&
            strncmp(text, clae_split_name((clae_split_kind)k), len) == 0)
            return k;
    return -1;
}

uint32_t clae_data_samples(const clae_data *d, clae_split_kind k)
{
    const clae_split_data *s = clae_data_split((clae_data *)d, k);
    uint32_t copies = s->augment ? (uint32_t)d->cfg->augment.copies : 1;
    return s->n / copies;
}

uint32_t clae_data_sample_index(const clae_data *d, clae_split_kind k, uint32_t i)
{
    const clae_split_data *s = clae_data_split((clae_data *)d, k);
    return s->augment ? s->host_order[i] & 0xFFFFFFu : s->host_order[i];
}

int clae_data_gather_plain(clae_data *d, clae_split_kind k, uint32_t first, int rows,
                           clae_tensor *x)
{
    /* copy-0 entries are plain sample indices, so the plain gather reads them */
    const clae_split_data *s = clae_data_split(d, k);
    const clae_source *src = &d->sources[s->source];
    return clae_op_gather_u8(d->ctx, x, src->pixels, s->order, first,
                             clae_shape_sample(src->set.sample), (size_t)rows, 1.0f / 255.0f);
}

clae_batch clae_data_batch(clae_data *d, clae_split_kind k, uint32_t first, int rows)
{
    const clae_split_data *s = clae_data_split(d, k);
    return (clae_batch){.split = k,
                        .rows = rows,
                        .order = s->order,
                        .first = first,
                        .order_mask = s->augment ? 0xFFFFFFu : 0xFFFFFFFFu,
                        .labels = d->sources[s->source].labels};
}

uint32_t clae_mix_seed(uint64_t a, uint64_t b)
{
    uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    return (uint32_t)(h ^ (h >> 29));
}

int clae_data_check_labels(const clae_data *d, const clae_model *m, clae_err *err)
{
    if (!clae_model_has_head(m)) return 0;
    const clae_layer *out = &m->layers[m->n_layers - 1];
    int classes = (int)clae_shape_sample(out->out);
    for (int i = 0; i < d->n_sources; i++) {
        const clae_dataset *set = &d->sources[i].set;
        if (!set->labels)
            return clae_fail(
                err,
                "%s:%d: [%s] a classifier head needs labels, but the %s data has none (idx: "
                "data.train_labels/test_labels; folder: data.labels; emoji: data.classes)",
                CLAE_LAYER_WHERE(out), i == 0 ? "training" : "test");
        for (uint32_t k = 0; k < set->count; k++)
            if (set->labels[k] >= classes)
                return clae_fail(err,
                                 "%s:%d: [%s] outputs %d classes but the data has label %d: set "
                                 "its units to the "
                                 "number of classes",
                                 CLAE_LAYER_WHERE(out), classes, set->labels[k]);
    }
    return 0;
}

int clae_data_write_split(const clae_data *t, FILE *f)
{
    const clae_split_data *splits[3] = {&t->train, &t->val, &t->test};
    fprintf(f, "split,index,name\n");
    for (int k = 0; k < 3; k++) {
        const clae_split_data *s = splits[k];
        const clae_dataset *d = &t->sources[s->source].set;
        for (uint32_t i = 0; i < s->n; i++) {
            uint32_t e = s->host_order[i], sample = s->augment ? (e & 0xFFFFFFu) : e;
            if (s->augment && (e >> 24) != 0) continue; /* copies repeat the same samples */
            fprintf(f, "%s,%u,", clae_split_name((clae_split_kind)k), sample);
            if (d->names) clae_json_string(f, d->names[sample]); /* quoted: names may hold commas */
            fprintf(f, "\n");
        }
    }
    return ferror(f) ? -1 : 0;
}
