/* clae latent-map of a graph run: its node codes (a vae's means) mapped to 2-D
 * by t-SNE or PCA and drawn coloured by the node labels when the run has them:
 * latent_map.png, .svg (the node id on hover), .npy (N, 2) and .csv
 * (row, node, label, class, x, y), in RUN/latent-map/ or -o. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clae/embed.h"
#include "clae/graph_train.h"
#include "graph_run.h"

/* t-SNE (perplexity at most (N - 1) / 3) or PCA of the codes into xy. */
static int embed_codes(const clae_graph_trainer *t, const float *codes, size_t n, float *xy,
                       clae_err *err)
{
    size_t u = clae_graph_code_size(t);
    uint64_t seed = t->cfg->train.seed > 0 ? (uint64_t)t->cfg->train.seed : 1;
    if (t->cfg->report.map_method == CLAE_MAP_PCA || n < 8)
        return clae_pca(codes, n, u, 2, seed, xy, NULL, NULL, err);
    clae_tsne_opts o;
    clae_tsne_info info;
    clae_tsne_defaults(&o);
    o.seed = seed;
    if (3 * o.perplexity >= (double)n) o.perplexity = floor(((double)n - 1) / 3);
    if (clae_tsne(codes, n, u, &o, xy, &info, err)) return -1;
    printf("t-SNE (%s, perplexity %g) of %zu node codes: KL %.4f\n",
           info.exact ? "exact" : "Barnes-Hut", o.perplexity, n, info.kl);
    return 0;
}

static int write_map(const clae_graph_trainer *t, const clae_cli_opts *o, const float *xy,
                     clae_err *err)
{
    const clae_graph *g = &t->graph;
    char png[1100], svg[1100], npy[1100], csv[1100], title[300];
    if (run_output(o, "latent-map", "latent_map.png", png, sizeof png, err)) return -1;
    run_sibling(png, ".svg", svg, sizeof svg);
    run_sibling(png, ".npy", npy, sizeof npy);
    run_sibling(png, ".csv", csv, sizeof csv);
    snprintf(title, sizeof title, "%s: %s of %u node codes", t->cfg->model.name,
             t->cfg->report.map_method == CLAE_MAP_PCA ? "PCA" : "t-SNE", g->n_nodes);
    clae_scatter sc = {xy,
                       g->labels,
                       g->n_nodes,
                       (const char *const *)g->class_names,
                       g->n_classes,
                       title,
                       (const char *const *)g->names};
    if (clae_png_scatter(png, &sc, err) || clae_svg_scatter(svg, &sc, err) ||
        clae_npy_write(npy, xy, g->n_nodes, 2, err) || graph_write_nodes_csv(csv, g, xy, err))
        return -1;
    printf("wrote %s, %s, %s and %s\n", png, svg, npy, csv);
    return 0;
}

int graph_map_trained(clae_graph_trainer *t, const clae_cli_opts *o, clae_err *err)
{
    size_t n = t->graph.n_nodes, u = clae_graph_code_size(t);
    float *codes = malloc(n * u * sizeof *codes), *xy = malloc(n * 2 * sizeof *xy);
    int rc = codes && xy ? 0 : clae_fail(err, "out of host memory");
    if (rc == 0 && clae_graph_trainer_codes(t, codes)) rc = -1, *err = t->ctx->err;
    if (rc == 0) rc = embed_codes(t, codes, n, xy, err);
    if (rc == 0) rc = write_map(t, o, xy, err);
    free(codes);
    free(xy);
    return rc;
}

int graph_map_run(clae_ctx *ctx, const clae_config *cfg, const clae_cli_opts *o, clae_err *err)
{
    clae_graph_trainer t;
    if (clae_graph_trainer_open(&t, ctx, cfg, err)) return -1;
    char ckpt[1100];
    snprintf(ckpt, sizeof ckpt, "%s/%s", o->positional, o->best ? "best.bin" : "checkpoint.bin");
    int rc = clae_graph_trainer_load(&t, ckpt, err);
    if (rc == 0) rc = graph_map_trained(&t, o, err);
    clae_graph_trainer_close(&t);
    return rc;
}
