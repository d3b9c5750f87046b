/* clae anomaly RUN: an anomaly score per image of a split (reconstruction MSE,
 * BCE, 1 - SSIM, or the Mahalanobis distance of the code to the training
 * codes), and, for a run trained without some classes (data.train_classes /
 * exclude_classes), how well the score finds them: ROC AUC and average
 * precision, the ROC curve and per-class histograms (SVG), the most and least
 * anomalous images, beside a PCA baseline with as many components as the code
 * (its reconstruction error as the score). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/embed.h"
#include "clae/roc.h"
#include "cli.h"
#include "run.h"

#define PCA_FIT_MAX 10000 /* training images the PCA baseline is fitted on */
#define SHOW 16           /* images in the most and least anomalous grids */
#define BINS 30

typedef enum { SCORE_MSE, SCORE_RELATIVE, SCORE_BCE, SCORE_SSIM, SCORE_LATENT } score_kind;
#define N_SCORES 5
static const char *const score_names[N_SCORES] = {"mse", "relative", "bce", "ssim", "latent"};

/* The squared error se per unit of the image's intensity ink (n values; at least 1/255 a
 * value): an image with little ink (a sneaker, a sandal) has a small error however foreign
 * it is; this score does not favour it. */
static double per_intensity(double se, double ink, size_t n)
{
    return se / fmax(ink, (double)n / 255.0);
}

static double relative_error(const float *y, const float *x, size_t n)
{
    double se = 0, ink = 0;
    for (size_t i = 0; i < n; i++) se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]), ink += x[i];
    return per_intensity(se, ink, n);
}

/* A split's images as floats, with their labels and whether each is an anomaly. */
typedef struct {
    clae_data data;
    clae_split_kind split;
    size_t n, sample;
    float *images;
    int *labels;
    bool *anomalous;
    bool have_truth; /* the run left classes out of training */
} anomaly_set;

static int parse_score(const char *text, score_kind *k, clae_err *err)
{
    for (int i = 0; i < N_SCORES; i++)
        if (strcmp(text ? text : "mse", score_names[i]) == 0) return *k = (score_kind)i, 0;
    return clae_fail(err, "--score %s: expected mse, relative, bce, ssim or latent", text);
}

static int load_split(const clae_saved_model *s, anomaly_set *a, clae_split_kind k, uint32_t limit,
                      clae_err *err)
{
    a->split = k;
    a->n = clae_data_samples(&a->data, k);
    if (limit && a->n > limit) a->n = limit;
    if (a->n == 0) return clae_fail(err, "the %s split holds no samples", clae_split_name(k));
    a->sample = clae_shape_sample(s->model.input);
    a->images = malloc(a->n * a->sample * sizeof *a->images);
    a->labels = malloc(a->n * sizeof *a->labels);
    a->anomalous = malloc(a->n * sizeof *a->anomalous);
    if (!a->images || !a->labels || !a->anomalous) return clae_fail(err, "out of host memory");
    const clae_dataset *set = &a->data.sources[clae_data_split(&a->data, k)->source].set;
    bool keep[256];
    a->have_truth = clae_config_kept_classes(&s->cfg.data, keep) && set->labels;
    for (size_t i = 0; i < a->n; i++) {
        uint32_t sample = clae_data_sample_index(&a->data, k, (uint32_t)i);
        run_dataset_floats(set, sample, 1, a->images + i * a->sample);
        a->labels[i] = set->labels ? set->labels[sample] : -1;
        a->anomalous[i] = a->have_truth && !keep[a->labels[i]];
    }
    return 0;
}

static void set_free(anomaly_set *a)
{
    free(a->images), free(a->labels), free(a->anomalous);
    a->images = NULL, a->labels = NULL, a->anomalous = NULL;
}

/* ---- scores ---- */

static double bce(const float *y, const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double p = fmin(fmax(y[i], 1e-7), 1 - 1e-7);
        s -= x[i] * log(p) + (1 - x[i]) * log(1 - p);
    }
    return s / (double)n;
}

static int reconstruction_scores(clae_ctx *ctx, clae_model *m, const anomaly_set *a, score_kind k,
                                 double *score)
{
    float *out = malloc(a->n * a->sample * sizeof *out);
    if (!out) return clae_fail(&ctx->err, "out of host memory");
    int rc = run_reconstruct_images(ctx, m, a->images, a->n, out);
    for (size_t i = 0; rc == 0 && i < a->n; i++) {
        const float *x = a->images + i * a->sample, *y = out + i * a->sample;
        score[i] = k == SCORE_MSE        ? clae_mse(y, x, a->sample)
                   : k == SCORE_RELATIVE ? relative_error(y, x, a->sample)
                   : k == SCORE_BCE      ? bce(y, x, a->sample)
                                         : 1.0 - clae_ssim(y, x, m->input);
    }
    free(out);
    return rc;
}

/* Cholesky factor of the d x d symmetric a in place (lower); -1 when not positive definite. */
static int cholesky(double *a, size_t d)
{
    for (size_t j = 0; j < d; j++) {
        double s = a[j * d + j];
        for (size_t k = 0; k < j; k++) s -= a[j * d + k] * a[j * d + k];
        if (!(s > 0)) return -1;
        a[j * d + j] = sqrt(s);
        for (size_t i = j + 1; i < d; i++) {
            double t = a[i * d + j];
            for (size_t k = 0; k < j; k++) t -= a[i * d + k] * a[j * d + k];
            a[i * d + j] = t / a[j * d + j];
        }
    }
    return 0;
}

/* Mahalanobis distance of each code to the training codes' mean and covariance (with a
 * ridge of 1e-6 of the mean variance, so a code with dead units still factors). */
static int latent_scores(clae_ctx *ctx, clae_saved_model *s, anomaly_set *a, double *score,
                         clae_err *err)
{
    clae_model *m = &s->model;
    size_t u = clae_shape_sample(clae_model_code(m)->shape);
    uint32_t nt = clae_data_samples(&a->data, CLAE_SPLIT_TRAIN);
    float *train = malloc((size_t)nt * u * sizeof *train),
          *codes = malloc(a->n * u * sizeof *codes);
    double *mean = calloc(u, sizeof *mean), *cov = calloc(u * u, sizeof *cov),
           *dz = malloc(u * sizeof *dz);
    int rc = train && codes && mean && cov && dz ? 0 : clae_fail(err, "out of host memory");
    if (rc == 0 && (run_encode_split(ctx, m, &a->data, CLAE_SPLIT_TRAIN, nt, train, NULL) ||
                    run_encode_images(ctx, m, a->images, a->n, codes)))
        rc = -1, *err = ctx->err;
    for (size_t r = 0; rc == 0 && r < nt; r++)
        for (size_t i = 0; i < u; i++) mean[i] += train[r * u + i] / (double)nt;
    for (size_t r = 0; rc == 0 && r < nt; r++)
        for (size_t i = 0; i < u; i++)
            for (size_t j = 0; j <= i; j++)
                cov[i * u + j] += (train[r * u + i] - mean[i]) * (train[r * u + j] - mean[j]) /
                                  (double)(nt > 1 ? nt - 1 : 1);
    double trace = 0;
    for (size_t i = 0; i < u; i++) trace += cov[i * u + i];
    for (size_t i = 0; i < u; i++) cov[i * u + i] += 1e-6 * fmax(trace / (double)u, 1e-12);
    if (rc == 0 && cholesky(cov, u))
        rc = clae_fail(err, "the training codes' covariance is singular: --score latent needs "
                            "codes that vary");
    for (size_t r = 0; rc == 0 && r < a->n; r++) { /* |L^-1 (z - mean)| */
        double sum = 0;
        for (size_t i = 0; i < u; i++) {
            double t = codes[r * u + i] - mean[i];
            for (size_t k = 0; k < i; k++) t -= cov[i * u + k] * dz[k];
            dz[i] = t / cov[i * u + i];
            sum += dz[i] * dz[i];
        }
        score[r] = sqrt(sum);
    }
    free(train), free(codes), free(mean), free(cov), free(dz);
    return rc;
}

/* PCA with as many components as the code, fitted on the training split's first images;
 * each image's score is the MSE of its projection back (relative: per unit of intensity, as
 * the model's). */
static int pca_scores(const clae_saved_model *s, int k, bool relative, anomaly_set *a,
                      double *score, clae_err *err)
{
    anomaly_set fit = {.data = a->data};
    if (load_split(s, &fit, CLAE_SPLIT_TRAIN, PCA_FIT_MAX, err)) return set_free(&fit), -1;
    size_t d = a->sample;
    double *axes = malloc((size_t)k * d * sizeof *axes), *mean = calloc(d, sizeof *mean);
    int rc = axes && mean ? 0 : clae_fail(err, "out of host memory");
    if (rc == 0 && ((size_t)k > d || k > 4096))
        rc = clae_fail(err, "a code of %d values: PCA takes at most the image's %zu (and 4,096)", k,
                       d);
    if (rc == 0) rc = clae_pca(fit.images, fit.n, d, k, 1, NULL, axes, NULL, err);
    for (size_t r = 0; rc == 0 && r < fit.n; r++)
        for (size_t i = 0; i < d; i++) mean[i] += fit.images[r * d + i] / (double)fit.n;
    for (size_t r = 0; rc == 0 && r < a->n; r++) {
        const float *x = a->images + r * d;
        double c[4096], se = 0, ink = 0;
        for (int j = 0; j < k && j < 4096; j++) {
            c[j] = 0;
            for (size_t i = 0; i < d; i++) c[j] += (x[i] - mean[i]) * axes[(size_t)j * d + i];
        }
        for (size_t i = 0; i < d; i++) {
            double back = mean[i];
            for (int j = 0; j < k && j < 4096; j++) back += c[j] * axes[(size_t)j * d + i];
            se += (back - x[i]) * (back - x[i]), ink += x[i];
        }
        score[r] = relative ? per_intensity(se, ink, d) : se / (double)d;
    }
    free(axes), free(mean);
    set_free(&fit);
    return rc;
}

/* ---- outputs ---- */

static int write_scores_csv(const char *path, const anomaly_set *a, const double *score,
                            const double *pca, clae_err *err)
{
    clae_afile f;
    if (clae_afile_open(&f, path, err)) return -1;
    const clae_dataset *set =
        &a->data.sources[clae_data_split((clae_data *)&a->data, a->split)->source].set;
    fprintf(f.f, "row,index,name,label,anomalous,score%s\n", pca ? ",pca_score" : "");
    for (size_t i = 0; i < a->n; i++) {
        uint32_t sample = clae_data_sample_index(&a->data, a->split, (uint32_t)i);
        fprintf(f.f, "%zu,%u,", i, sample);
        if (set->names) clae_json_string(f.f, set->names[sample]);
        fprintf(f.f, ",");
        if (a->labels[i] >= 0) fprintf(f.f, "%d", a->labels[i]);
        fprintf(f.f, ",%d,%.9g", a->anomalous[i], score[i]);
        if (pca) fprintf(f.f, ",%.9g", pca[i]);
        fprintf(f.f, "\n");
    }
    return clae_afile_commit(&f, err);
}

static int write_roc_svg(const char *path, const clae_roc *ours, const clae_roc *pca,
                         const char *score, clae_err *err)
{
    char a[96], b[96];
    snprintf(a, sizeof a, "clae (%s): AUC %.3f", score, ours->auc);
    snprintf(b, sizeof b, "PCA: AUC %.3f", pca->auc);
    static const double diag[2] = {0, 1};
    clae_series series[3] = {{a, "#1f77b4", ours->fpr, ours->tpr, (int)ours->n_points},
                             {b, "#ff7f0e", pca->fpr, pca->tpr, (int)pca->n_points},
                             {"chance", "#bbbbbb", diag, diag, 2}};
    return clae_svg_plot(path, "ROC: held-out classes against the rest", "false positive rate",
                         "true positive rate", series, 3, err);
}

/* The score's density per class, one line each. */
static int write_hist_svg(const char *path, const anomaly_set *a, const double *score,
                          const clae_config *cfg, clae_err *err)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < a->n; i++) lo = fmin(lo, score[i]), hi = fmax(hi, score[i]);
    double width = hi > lo ? (hi - lo) / BINS : 1;
    char names[64][64];
    int n_names = clae_config_class_names(&cfg->data, names, 64), n_classes = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->labels[i] + 1 > n_classes) n_classes = a->labels[i] + 1;
    if (n_classes > 20) n_classes = 20;
    if (n_classes == 0) n_classes = 1;
    static const char *const colours[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    double x[20][BINS], y[20][BINS];
    char label[20][80];
    clae_series series[20];
    for (int c = 0; c < n_classes; c++) {
        size_t count = 0;
        for (int b = 0; b < BINS; b++) x[c][b] = lo + (b + 0.5) * width, y[c][b] = 0;
        for (size_t i = 0; i < a->n; i++) {
            if (a->labels[i] >= 0 && a->labels[i] != c) continue;
            int b = (int)((score[i] - lo) / width);
            y[c][b < 0 ? 0 : b >= BINS ? BINS - 1 : b] += 1, count++;
        }
        for (int b = 0; b < BINS; b++) y[c][b] /= (double)(count ? count : 1) * width;
        bool held_out = false;
        for (size_t i = 0; i < a->n; i++)
            if (a->labels[i] == c && a->anomalous[i]) held_out = true;
        snprintf(label[c], sizeof label[c], "%s%s", c < n_names ? names[c] : "",
                 held_out ? " (held out)" : "");
        if (c >= n_names)
            snprintf(label[c], sizeof label[c], "%d%s", c, held_out ? " (held out)" : "");
        series[c] = (clae_series){label[c], colours[c % 10], x[c], y[c], BINS};
    }
    return clae_svg_plot(path, "anomaly score per class", "score", "density", series, n_classes,
                         err);
}

typedef struct {
    const double *score;
    size_t i;
} ranked;

static int by_score_desc(const void *p, const void *q)
{
    double a = ((const ranked *)p)->score[((const ranked *)p)->i],
           b = ((const ranked *)q)->score[((const ranked *)q)->i];
    return (a < b) - (a > b);
}

/* The SHOW most anomalous images (top) and the SHOW least (bottom). */
static int write_extremes(const char *top, const char *bottom, const anomaly_set *a,
                          const double *score, clae_shape shape, clae_err *err)
{
    ranked *order = malloc(a->n * sizeof *order);
    size_t show = a->n < SHOW ? a->n : SHOW;
    float *pick = malloc(show * a->sample * sizeof *pick);
    int rc = order && pick ? 0 : clae_fail(err, "out of host memory");
    for (size_t i = 0; rc == 0 && i < a->n; i++) order[i] = (ranked){score, i};
    if (rc == 0) qsort(order, a->n, sizeof *order, by_score_desc);
    for (int side = 0; rc == 0 && side < 2; side++) {
        for (size_t k = 0; k < show; k++) {
            size_t i = order[side == 0 ? k : a->n - 1 - k].i;
            memcpy(pick + k * a->sample, a->images + i * a->sample, a->sample * sizeof *pick);
        }
        rc = run_write_images(side == 0 ? top : bottom, pick, show, shape, err);
    }
    free(order), free(pick);
    return rc;
}

static int write_json(const char *path, const clae_saved_model *s, const anomaly_set *a,
                      score_kind k, size_t code, const clae_roc *ours, const clae_roc *pca,
                      clae_err *err)
{
    clae_afile f;
    if (clae_afile_open(&f, path, err)) return -1;
    fprintf(f.f, "{\n  \"checkpoint\": ");
    clae_json_string(f.f, s->checkpoint);
    fprintf(f.f, ",\n  \"split\": \"%s\",\n  \"images\": %zu,\n  \"score\": \"%s\"",
            clae_split_name(a->split), a->n, score_names[k]);
    if (a->have_truth)
        fprintf(f.f,
                ",\n  \"anomalies\": %zu,\n  \"roc_auc\": %.6f,\n  \"average_precision\": %.6f,\n"
                "  \"pca_components\": %zu,\n  \"pca_roc_auc\": %.6f,\n"
                "  \"pca_average_precision\": %.6f",
                ours->positives, ours->auc, ours->ap, code, pca->auc, pca->ap);
    fprintf(f.f, "\n}\n");
    return clae_afile_commit(&f, err);
}

/* The files beside path (RUN/anomaly/scores.csv or -o): roc.svg, hist.svg, top.png,
 * bottom.png, anomaly.json. */
static int write_outputs(const clae_cli_opts *o, const clae_saved_model *s, const anomaly_set *a,
                         score_kind k, size_t code, const double *score, const double *pca,
                         const clae_roc *ours, const clae_roc *base, clae_err *err)
{
    char csv[1100], roc[1100], hist[1100], top[1100], bottom[1100], json[1100];
    if (run_output(o, "anomaly", "scores.csv", csv, sizeof csv, err)) return -1;
    run_sibling(csv, "_roc.svg", roc, sizeof roc);
    run_sibling(csv, "_hist.svg", hist, sizeof hist);
    run_sibling(csv, "_top.png", top, sizeof top);
    run_sibling(csv, "_bottom.png", bottom, sizeof bottom);
    run_sibling(csv, ".json", json, sizeof json);
    if (write_scores_csv(csv, a, score, pca, err) || write_hist_svg(hist, a, score, &s->cfg, err) ||
        write_extremes(top, bottom, a, score, s->model.input, err) ||
        (a->have_truth && write_roc_svg(roc, ours, base, score_names[k], err)) ||
        write_json(json, s, a, k, code, ours, base, err))
        return -1;
    printf("wrote %s, %s%s%s, %s, %s and %s\n", csv, a->have_truth ? roc : "",
           a->have_truth ? ", " : "", hist, top, bottom, json);
    return 0;
}

static int anomaly_run(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    score_kind k = SCORE_MSE;
    size_t code = clae_shape_sample(clae_model_code(&s->model)->shape);
    int split = o->split ? clae_split_parse(o->split, strlen(o->split)) : CLAE_SPLIT_TEST;
    if (parse_score(o->score, &k, err)) return -1;
    if (split < 0) return clae_fail(err, "--split %s: expected train, val or test", o->split);
    anomaly_set a = {0};
    if (run_open_data(ctx, s, &a.data, err)) return -1;
    double *score = NULL, *pca = NULL;
    clae_roc ours = {0}, base = {0};
    int rc = load_split(s, &a, (clae_split_kind)split, 0, err);
    if (rc == 0 && !(score = malloc(a.n * sizeof *score))) rc = clae_fail(err, "out of memory");
    if (rc == 0)
        rc = k == SCORE_LATENT ? latent_scores(ctx, s, &a, score, err)
                               : reconstruction_scores(ctx, &s->model, &a, k, score);
    if (rc && k != SCORE_LATENT && !err->msg[0]) *err = ctx->err;
    if (rc == 0 && a.have_truth) {
        if (!(pca = malloc(a.n * sizeof *pca))) rc = clae_fail(err, "out of host memory");
        if (rc == 0) rc = pca_scores(s, (int)code, k == SCORE_RELATIVE, &a, pca, err);
        if (rc == 0) rc = clae_roc_compute(score, a.anomalous, a.n, &ours, err);
        if (rc == 0) rc = clae_roc_compute(pca, a.anomalous, a.n, &base, err);
        if (rc == 0)
            printf("%zu of %zu %s images held out of training: %s score ROC AUC %.4f, average "
                   "precision %.4f; PCA with %zu components: ROC AUC %.4f, AP %.4f\n",
                   ours.positives, a.n, clae_split_name(a.split), score_names[k], ours.auc, ours.ap,
                   code, base.auc, base.ap);
    } else if (rc == 0) {
        printf("%zu %s images scored (%s); no classes were held out of training "
               "(data.train_classes), so there is no ROC\n",
               a.n, clae_split_name(a.split), score_names[k]);
    }
    if (rc == 0) rc = write_outputs(o, s, &a, k, code, score, pca, &ours, &base, err);
    clae_roc_free(&ours), clae_roc_free(&base);
    free(score), free(pca);
    set_free(&a);
    clae_data_close(&a.data);
    return rc;
}

int cmd_anomaly(int argc, char **argv)
{
    return run_model_command(
        argc, argv, 1,
        "usage: clae anomaly RUN [--split test|val|train] [--score mse|relative|bce|ssim|latent]\n"
        "                    [-o SCORES.csv] [--best] [--device SPEC]\n"
        "  an anomaly score per image: the reconstruction's MSE, its squared error per unit of\n"
        "  the image's intensity (relative), BCE, 1 - SSIM, or the Mahalanobis distance of the\n"
        "  code to the training codes (latent). For a run trained without some classes\n"
        "  (data.train_classes or data.exclude_classes) it reports ROC AUC and average\n"
        "  precision of finding them, against PCA with as many components as the code\n"
        "  (fitted on up to 10,000 training images). Writes SCORES.csv (row, index, name,\n"
        "  label, anomalous, score, pca_score), _roc.svg, _hist.svg (score per class),\n"
        "  _top.png and _bottom.png (the 16 most and least anomalous) and .json beside it\n"
        "  (default RUN/anomaly/scores.csv)\n",
        anomaly_run);
}
