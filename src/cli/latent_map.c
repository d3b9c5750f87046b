/* clae latent-map RUN: a 2-D map of a split's codes by t-SNE (exact up to
 * 1,000 points, Barnes-Hut above; clae/embed.h) or PCA, coloured by label:
 * PNG and SVG (a legend of class names where the data has them), the
 * coordinates as .npy (N, 2) and CSV, and a JSON of what was done with the
 * map's trustworthiness (k = 10). The codes are the encoder's in evaluation
 * mode (a VAE's mean), of the split's first N samples. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/clock.h"
#include "clae/embed.h"
#include "clae/parallel.h"
#include "cli.h"
#include "report.h"
#include "graph_run.h"
#include "run.h"

#define TRUST_K 10
#define MAX_CLASSES 256

typedef struct {
    clae_map_method method;
    clae_split_kind split;
    uint32_t n;
    double perplexity;
    uint64_t seed;
} map_opts;

static int parse_map_opts(const clae_cli_opts *o, const clae_saved_model *s, map_opts *m,
                          clae_err *err)
{
    m->method = s->cfg.report.map_method;
    if (o->method && strcmp(o->method, "tsne") == 0)
        m->method = CLAE_MAP_TSNE;
    else if (o->method && strcmp(o->method, "pca") == 0)
        m->method = CLAE_MAP_PCA;
    else if (o->method)
        return clae_fail(err, "--method %s: expected tsne or pca", o->method);
    int k = o->split ? clae_split_parse(o->split, strlen(o->split)) : CLAE_SPLIT_TEST;
    if (k < 0) return clae_fail(err, "--split %s: expected train, val or test", o->split);
    m->split = (clae_split_kind)k;
    double v;
    if (clae_cli_number("--n", o->n, s->cfg.report.map_points, &v, err)) return -1;
    if (v != floor(v) || v > 1e7) return clae_fail(err, "--n %s: expected a whole number", o->n);
    m->n = (uint32_t)v;
    if (clae_cli_number("--perplexity", o->perplexity, 30, &m->perplexity, err)) return -1;
    if (clae_cli_number("--seed", o->seed, s->cfg.train.seed > 0 ? s->cfg.train.seed : 1, &v, err))
        return -1;
    m->seed = (uint64_t)v;
    return 0;
}

/* The points and what they are: codes (n x u), labels (n, -1 without), the data they came from. */
typedef struct {
    clae_data data;
    map_opts opts;
    size_t n, u;
    float *codes, *xy;
    int *labels;
    char names[MAX_CLASSES][64];
    int n_names, n_classes;
} map_points;

static void points_free(map_points *p)
{
    free(p->codes), free(p->xy), free(p->labels);
    clae_data_close(&p->data);
}

static int encode_points(clae_ctx *ctx, clae_saved_model *s, map_points *p, clae_err *err)
{
    uint32_t have = clae_data_samples(&p->data, p->opts.split);
    if (have == 0)
        return clae_fail(err, "%s: its %s split holds no samples", s->checkpoint,
                         clae_split_name(p->opts.split));
    if (p->opts.n > have) p->opts.n = have;
    if (p->opts.n < have)
        printf("mapping the first %u of the %u %s images (--n to change)\n", p->opts.n, have,
               clae_split_name(p->opts.split));
    p->n = p->opts.n;
    p->u = clae_shape_sample(clae_model_code(&s->model)->shape);
    p->codes = malloc(p->n * p->u * sizeof *p->codes);
    p->xy = malloc(p->n * 2 * sizeof *p->xy);
    p->labels = malloc(p->n * sizeof *p->labels);
    if (!p->codes || !p->xy || !p->labels) return clae_fail(err, "out of host memory");
    if (run_encode_split(ctx, &s->model, &p->data, p->opts.split, (uint32_t)p->n, p->codes, NULL))
        return *err = ctx->err, -1;
    const clae_split_data *sd = clae_data_split(&p->data, p->opts.split);
    const clae_dataset *set = &p->data.sources[sd->source].set;
    p->n_names = clae_config_class_names(&s->cfg.data, p->names, MAX_CLASSES);
    p->n_classes = set->labels ? p->n_names : 0;
    for (size_t i = 0; i < p->n; i++) {
        uint32_t sample = clae_data_sample_index(&p->data, p->opts.split, (uint32_t)i);
        p->labels[i] = set->labels ? set->labels[sample] : -1;
        if (p->labels[i] >= p->n_classes) p->n_classes = p->labels[i] + 1;
    }
    return 0;
}

typedef struct {
    double seconds, trust;
    clae_tsne_info tsne;
    int threads;
} map_result;

static int compute_map(map_points *p, map_result *r, clae_err *err)
{
    double t0 = clae_now();
    r->threads = clae_host_threads();
    if (p->opts.method == CLAE_MAP_PCA) {
        if (clae_pca(p->codes, p->n, p->u, 2, p->opts.seed, p->xy, NULL, NULL, err)) return -1;
    } else {
        clae_tsne_opts o;
        clae_tsne_defaults(&o);
        o.perplexity = p->opts.perplexity, o.seed = p->opts.seed;
        if (clae_tsne(p->codes, p->n, p->u, &o, p->xy, &r->tsne, err)) return -1;
    }
    r->seconds = clae_now() - t0;
    r->trust = 2.0 * p->n > 3.0 * TRUST_K + 1
                   ? clae_trustworthiness(p->codes, p->n, p->u, p->xy, 2, TRUST_K, 0, err)
                   : NAN;
    return 0;
}

static const char *class_name(const map_points *p, int label, char *buf, size_t n)
{
    if (label < 0) return "";
    if (label < p->n_names) return p->names[label];
    snprintf(buf, n, "%d", label);
    return buf;
}

/* row,split,index,name,label,class,x,y */
static int write_csv(const char *path, const map_points *p, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    fprintf(a.f, "row,split,index,name,label,class,x,y\n");
    const clae_split_data *sd = clae_data_split((clae_data *)&p->data, p->opts.split);
    const clae_dataset *set = &p->data.sources[sd->source].set;
    for (size_t i = 0; i < p->n; i++) {
        uint32_t sample = clae_data_sample_index(&p->data, p->opts.split, (uint32_t)i);
        char buf[16];
        fprintf(a.f, "%zu,%s,%u,", i, clae_split_name(p->opts.split), sample);
        if (set->names) clae_json_string(a.f, set->names[sample]);
        fprintf(a.f, ",");
        if (p->labels[i] >= 0) fprintf(a.f, "%d", p->labels[i]);
        fprintf(a.f, ",");
        clae_json_string(a.f, class_name(p, p->labels[i], buf, sizeof buf));
        fprintf(a.f, ",%.9g,%.9g\n", p->xy[2 * i], p->xy[2 * i + 1]);
    }
    return clae_afile_commit(&a, err);
}

static int write_json(const char *path, const clae_saved_model *s, const map_points *p,
                      const map_result *r, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    FILE *f = a.f;
    bool tsne = p->opts.method == CLAE_MAP_TSNE;
    fprintf(f, "{\n  \"checkpoint\": ");
    clae_json_string(f, s->checkpoint);
    fprintf(f,
            ",\n  \"method\": \"%s\",\n  \"split\": \"%s\",\n  \"points\": %zu,\n"
            "  \"code_values\": %zu,\n  \"seed\": %llu,\n  \"threads\": %d,\n  \"seconds\": %.3f",
            tsne ? (r->tsne.exact ? "tsne-exact" : "tsne-barnes-hut") : "pca",
            clae_split_name(p->opts.split), p->n, p->u, (unsigned long long)p->opts.seed,
            r->threads, r->seconds);
    if (tsne)
        fprintf(f,
                ",\n  \"perplexity\": %g,\n  \"learning_rate\": %g,\n  \"iterations\": %d,\n"
                "  \"kl_divergence\": %.6f",
                p->opts.perplexity, r->tsne.learning_rate, r->tsne.iterations, r->tsne.kl);
    if (isfinite(r->trust)) fprintf(f, ",\n  \"trustworthiness_k%d\": %.6f", TRUST_K, r->trust);
    fprintf(f, "\n}\n");
    return clae_afile_commit(&a, err);
}

/* The samples' source names (a file, an emoji's name) for the SVG's hover text, or NULL. */
static const char **point_names_of(const map_points *p)
{
    const clae_split_data *sd = clae_data_split((clae_data *)&p->data, p->opts.split);
    const clae_dataset *set = &p->data.sources[sd->source].set;
    const char **names = set->names ? malloc(p->n * sizeof *names) : NULL;
    for (size_t i = 0; names && i < p->n; i++)
        names[i] = set->names[clae_data_sample_index(&p->data, p->opts.split, (uint32_t)i)];
    return names;
}

static int write_outputs(const clae_cli_opts *o, const clae_saved_model *s, const map_points *p,
                         const map_result *r, clae_err *err)
{
    char png[1100], svg[1100], npy[1100], csv[1100], json[1100], title[300];
    if (run_output(o, "latent-map", "latent_map.png", png, sizeof png, err)) return -1;
    run_sibling(png, ".svg", svg, sizeof svg);
    run_sibling(png, ".npy", npy, sizeof npy);
    run_sibling(png, ".csv", csv, sizeof csv);
    run_sibling(png, ".json", json, sizeof json);
    const char *names[MAX_CLASSES];
    for (int k = 0; k < p->n_classes; k++) names[k] = k < p->n_names ? p->names[k] : NULL;
    snprintf(title, sizeof title, "%s: %s of %zu %s codes", s->cfg.model.name,
             p->opts.method == CLAE_MAP_PCA ? "PCA" : "t-SNE", p->n,
             clae_split_name(p->opts.split));
    const char **point_names = point_names_of(p);
    clae_scatter sc = {p->xy,        p->n_classes ? p->labels : NULL,
                       p->n,         p->n_classes ? names : NULL,
                       p->n_classes, title,
                       point_names};
    int rc = clae_png_scatter(png, &sc, err) || clae_svg_scatter(svg, &sc, err) ||
             clae_npy_write(npy, p->xy, p->n, 2, err) || write_csv(csv, p, err) ||
             write_json(json, s, p, r, err);
    free(point_names);
    if (rc) return -1;
    printf("wrote %s, %s, %s, %s and %s\n", png, svg, npy, csv, json);
    return 0;
}

int report_latent_map(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    map_points p = {0};
    map_result r = {0};
    int rc = parse_map_opts(o, s, &p.opts, err) || run_open_data(ctx, s, &p.data, err) ? -1 : 0;
    bool opened = rc == 0;
    if (rc == 0) rc = encode_points(ctx, s, &p, err);
    if (rc == 0 && !o->perplexity && p.opts.method == CLAE_MAP_TSNE &&
        3 * p.opts.perplexity >= (double)p.n && p.n >= 4) {
        p.opts.perplexity = floor(((double)p.n - 1) / 3);
        printf("perplexity %g for %zu points (30 needs more than 90; --perplexity to choose)\n",
               p.opts.perplexity, p.n);
    }
    if (rc == 0) rc = compute_map(&p, &r, err);
    if (rc == 0) {
        if (p.opts.method == CLAE_MAP_PCA)
            printf("PCA of %zu codes of %zu values in %.2f s", p.n, p.u, r.seconds);
        else
            printf("t-SNE (%s, perplexity %g) of %zu codes of %zu values: KL %.4f after %d "
                   "iterations, %.2f s on %d threads",
                   r.tsne.exact ? "exact" : "Barnes-Hut", p.opts.perplexity, p.n, p.u, r.tsne.kl,
                   r.tsne.iterations, r.seconds, r.threads);
        if (isfinite(r.trust)) printf("; trustworthiness (k = %d) %.4f", TRUST_K, r.trust);
        printf("\n");
        rc = write_outputs(o, s, &p, &r, err);
    }
    if (opened)
        points_free(&p);
    else
        free(p.codes), free(p.xy), free(p.labels);
    return rc;
}

int cmd_latent_map(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf(
            "usage: clae latent-map RUN [--method tsne|pca] [--split test|val|train] [--n N]\n"
            "                       [--perplexity 30] [--seed S] [-o MAP.png] [--best] "
            "[--device SPEC]\n"
            "  a 2-D map of the codes of the split's first N images (default: up to\n"
            "  report.map_points, 10,000), coloured by label: MAP.png, .svg (with the class\n"
            "  names), .npy (N, 2), .csv (row, split, index, name, label, class, x, y) and .json\n"
            "  (method, KL, iterations, seconds, trustworthiness with k = 10); default\n"
            "  RUN/latent-map/latent_map.png. t-SNE as scikit-learn 1.2's TSNE: exact up to\n"
            "  1,000 points, Barnes-Hut (angle 0.5) above, PCA start, learning rate\n"
            "  max(N / 48, 50), 1,000 iterations, on every core\n");
        return o.help ? 0 : 2;
    }
    clae_config graph_cfg;
    if (graph_run_config(o.positional, &o, &graph_cfg))
        return graph_command(&o, &graph_cfg, graph_map_run);
    return run_with_model(&o, report_latent_map, &err) ? clae_cli_error(&err) : 0;
}
