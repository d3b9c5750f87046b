/* clae train on a graph config (data.format = graph), and clae encode of such
 * a run: the graph trainer (clae/graph_train.h) into a run directory with
 *   config.ini, split.csv (split,u,v,edge per evaluation pair and training edge),
 *   metrics.csv (train loss, validation loss, AUC and AP per epoch), loss.svg, auc.svg,
 *   checkpoint.bin, best.bin (best validation loss), summary.json (test AUC and AP). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clae/clock.h"
#include "clae/graph_train.h"
#include "graph_run.h"
#include "json_lines.h"

static run_position graph_position(const clae_graph_trainer *t)
{
    return (run_position){t->cfg, t->epoch, t->step, t->lr, t->best_val, &t->train_metrics};
}

/* split,u,v,edge */
static void write_pair(FILE *f, const clae_graph *g, const char *split, uint32_t u, uint32_t v,
                       bool edge)
{
    fprintf(f, "%s,", split);
    clae_json_string(f, g->names[u]);
    fputc(',', f);
    clae_json_string(f, g->names[v]);
    fprintf(f, ",%d\n", edge ? 1 : 0);
}

static void write_pairs(FILE *f, const clae_graph *g, const char *split, const clae_pairs *p)
{
    for (size_t i = 0; i < p->n; i++) write_pair(f, g, split, p->u[i], p->v[i], p->positive[i]);
}

static int write_split(const run_paths *rp, const clae_graph_trainer *t, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, rp->split_csv, err)) return -1;
    fprintf(a.f, "split,u,v,edge\n");
    const clae_graph *g = &t->graph;
    for (uint32_t k = 0; k < t->split.n_train; k++)
        write_pair(a.f, g, "train", t->split.train_u[k], t->split.train_v[k], true);
    write_pairs(a.f, g, "val", &t->split.val);
    write_pairs(a.f, g, "test", &t->split.test);
    return clae_afile_commit(&a, err);
}

static void print_data(const clae_graph_trainer *t)
{
    const clae_graph *g = &t->graph;
    printf("data: graph of %u nodes and %u edges (%u lines: %u self-loops and %u duplicates "
           "dropped), ",
           g->n_nodes, g->n_edges, g->lines, g->self_loops, g->duplicates);
    if (g->features)
        printf("%u features per node", g->n_features);
    else
        printf("one-hot nodes (no features)");
    if (g->feature_only) printf(", %u isolated nodes from the features", g->feature_only);
    if (g->labels) printf(", %d labels", g->n_classes);
    printf("\nedges: %u train, %zu validation, %zu test (each against as many non-edges); "
           "loss over %s; model: %d layers, %zu parameters\n",
           t->split.n_train, t->split.val.n / 2, t->split.test.n / 2,
           t->cfg->train.negatives ? "sampled non-edges" : "all node pairs", t->model.n_layers,
           t->model.n_params);
}

/* best.bin: a second name of the checkpoint just written (checkpoints are replaced by
 * rename, so the link keeps this one), else its own save; a large graph's model is
 * hundreds of MB. */
static int save_best(clae_graph_trainer *t, const run_paths *rp, bool checkpoint_saved,
                     clae_err *err)
{
    if (checkpoint_saved) {
        char tmp[1200];
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", rp->best, (long)getpid()); /* as clae_afile names */
        remove(tmp);
        if (link(rp->checkpoint, tmp) == 0 && rename(tmp, rp->best) == 0) return 0;
        remove(tmp); /* a file system without hard links: write it */
    }
    return clae_graph_trainer_save(t, rp->best, err);
}

/* One epoch's report and files; 1 when early stopping ends training. */
static int after_epoch(clae_graph_trainer *t, const run_paths *rp, FILE *jl, double e0,
                       clae_err *err)
{
    const clae_train_cfg *tc = &t->cfg->train;
    clae_metrics val;
    if (clae_graph_trainer_evaluate(t, CLAE_SPLIT_VAL, &val)) return *err = t->ctx->err, -1;
    double v = val.v[CLAE_METRIC_LOSS];
    bool best = v < t->best_val - tc->min_delta;
    if (best)
        t->best_val = v, t->since_best = 0;
    else
        t->since_best++;
    bool last = t->epoch == tc->epochs; /* lines: the first 3 epochs, every log_every, the last */
    if (last || t->epoch <= 3 || t->epoch % tc->log_every == 0) {
        printf("epoch %d/%d", t->epoch, tc->epochs);
        clae_metrics_print_epoch(stdout, &t->train_metrics, &val);
        printf("%s, %.3f s\n", best ? " best" : "", clae_now() - e0);
        fflush(stdout);
    }
    run_position pos = graph_position(t);
    json_lines_epoch(jl, &pos, &val, clae_now() - e0, best);
    int every = tc->epochs >= 20 ? tc->epochs / 20 : 1;
    bool saved = last || t->epoch % every == 0;
    if (run_append_metrics(rp, &pos, &val, clae_now() - e0, err) ||
        (saved && clae_graph_trainer_save(t, rp->checkpoint, err)) ||
        (best && save_best(t, rp, saved, err)))
        return -1;
    if (tc->patience > 0 && t->since_best >= tc->patience) {
        printf("early stop after epoch %d: no validation improvement for %d epochs\n", t->epoch,
               tc->patience);
        return clae_graph_trainer_save(t, rp->checkpoint, err) ? -1 : 1;
    }
    return 0;
}

static int train_epochs(clae_graph_trainer *t, const run_paths *rp, FILE *jl, clae_err *err)
{
    while (t->epoch < t->cfg->train.epochs) {
        double e0 = clae_now();
        if (clae_graph_trainer_epoch(t)) return *err = t->ctx->err, -1;
        int rc = after_epoch(t, rp, jl, e0, err);
        if (rc) return rc < 0 ? -1 : 0;
        if (t->stop && *t->stop) {
            if (clae_graph_trainer_save(t, rp->checkpoint, err)) return -1;
            printf("interrupted after epoch %d: saved %s\n", t->epoch, rp->checkpoint);
            clae_fail(err, "interrupted: continue with clae train --resume %s", rp->dir);
            return 1;
        }
    }
    return 0;
}

static void write_summary(FILE *f, const clae_graph_trainer *t, const clae_metrics *test,
                          double total_s)
{
    const clae_graph *g = &t->graph;
    fprintf(f, "{\n  \"model\": ");
    clae_json_string(f, t->cfg->model.name);
    fprintf(f, ",\n  \"config\": ");
    clae_json_string(f, t->cfg->path);
    fprintf(f, ",\n  \"device\": ");
    run_write_device_json(f, t->ctx);
    fprintf(f, ",\n  \"parameters\": %zu,\n  \"code_size\": %zu,\n", t->model.n_params,
            clae_graph_code_size(t));
    fprintf(f, "  \"epochs\": %d,\n  \"steps\": %ld,\n", t->epoch, t->step);
    fprintf(f,
            "  \"graph\": {\"nodes\": %u, \"edges\": %u, \"self_loops\": %u, \"duplicates\": %u, "
            "\"features\": %u, \"train_edges\": %u, \"val_edges\": %zu, \"test_edges\": %zu},\n",
            g->n_nodes, g->n_edges, g->self_loops, g->duplicates, g->n_features, t->split.n_train,
            t->split.val.n / 2, t->split.test.n / 2);
    fprintf(f,
            "  \"timing\": {\"kernel_build_s\": %.3f, \"first_step_s\": %.3f, \"train_s\": %.3f, "
            "\"seconds_per_epoch\": %.5f, \"total_s\": %.3f},\n",
            t->ctx->program_seconds, t->first_step_s, t->train_s,
            t->step > 1 ? t->train_s / (double)(t->step - 1) : t->first_step_s, total_s);
    fprintf(f,
            "  \"best_val_loss\": %.8g,\n  \"test\": ", isfinite(t->best_val) ? t->best_val : -1.0);
    clae_metrics_write_json(f, test);
    fprintf(f, "\n}\n");
}

static int finish(const run_paths *rp, clae_graph_trainer *t, double total_s, clae_metrics *test,
                  clae_err *err)
{
    if (clae_graph_trainer_evaluate(t, CLAE_SPLIT_TEST, test)) return *err = t->ctx->err, -1;
    printf("test: %u edges and as many non-edges: AUC %.4f, AP %.4f (mean cross-entropy %.4f)\n",
           test->n / 2, test->v[CLAE_METRIC_AUC], test->v[CLAE_METRIC_AP],
           test->v[CLAE_METRIC_LOSS]);
    char title[160], auc_svg[1100];
    snprintf(title, sizeof title, "%s: loss (validation: mean cross-entropy of its pairs)",
             t->cfg->model.name);
    snprintf(auc_svg, sizeof auc_svg, "%s/auc.svg", rp->dir);
    if (run_plot_columns(rp->loss_svg, rp, "train_loss", "val_loss", title, "loss", err)) return -1;
    snprintf(title, sizeof title, "%s: validation link prediction", t->cfg->model.name);
    if (run_plot_columns(auc_svg, rp, NULL, "val_auc", title, "ROC AUC", err)) return -1;
    clae_afile a;
    if (clae_afile_open(&a, rp->summary, err)) return -1;
    write_summary(a.f, t, test, total_s);
    if (clae_afile_commit(&a, err)) return -1;
    printf("training: %.4f s per epoch (the first, with one-time setup, %.2f s); wrote %s\n",
           t->step > 1 ? t->train_s / (double)(t->step - 1) : t->first_step_s, t->first_step_s,
           rp->dir);
    return 0;
}

/* [report] latent_map: the node codes' map (auto: labelled graphs of at most map_points nodes). */
static int report_map(clae_graph_trainer *t, const run_paths *rp, clae_err *err)
{
    const clae_report_cfg *r = &t->cfg->report;
    bool want = r->latent_map == CLAE_SWITCH_TRUE ||
                (r->latent_map == CLAE_SWITCH_AUTO && t->graph.labels &&
                 t->graph.n_nodes <= (uint32_t)r->map_points);
    if (!want) return 0;
    clae_cli_opts where = {.positional = rp->dir};
    return graph_map_trained(t, &where, err);
}

static int resume(clae_graph_trainer *t, const run_paths *rp, clae_err *err)
{
    if (clae_graph_trainer_load(t, rp->checkpoint, err)) return -1;
    if (t->epoch >= t->cfg->train.epochs)
        return clae_fail(err,
                         "%s already has %d of %d epochs: raise them with --set train.epochs=N",
                         rp->dir, t->epoch, t->cfg->train.epochs);
    printf("resuming %s at epoch %d\n", rp->dir, t->epoch);
    run_remove_stale_temps(rp);
    return run_align_logs(rp, t->epoch, t->step, err);
}

int graph_train_run(clae_ctx *ctx, const clae_config *cfg, const clae_cli_opts *o, FILE *jl,
                    const volatile sig_atomic_t *stop, clae_err *err)
{
    double t0 = clae_now();
    clae_graph_trainer t;
    if (clae_graph_trainer_open(&t, ctx, cfg, err)) return -1;
    t.stop = stop;
    run_paths rp;
    bool resuming = o->resume != NULL;
    int rc = run_prepare(&rp, cfg, resuming ? o->resume : o->run_dir, resuming, err);
    if (rc == 0 && resuming) rc = resume(&t, &rp, err);
    if (rc == 0) rc = run_write_config(&rp, cfg, err);
    if (rc == 0) rc = write_split(&rp, &t, err);
    if (rc == 0) {
        printf("run directory: %s\n", rp.dir);
        print_data(&t);
        rc = train_epochs(&t, &rp, jl, err);
    }
    clae_metrics test;
    if (rc == 0) rc = finish(&rp, &t, clae_now() - t0, &test, err);
    if (rc == 0) rc = report_map(&t, &rp, err);
    run_position pos = graph_position(&t);
    if (rc == 0) json_lines_done(jl, &pos, &test, rp.dir);
    if (rc) json_lines_stopped(jl, &pos, rc == 1 ? "interrupted" : "failed", err->msg);
    clae_profile_print(ctx, stdout, t.step);
    clae_graph_trainer_close(&t);
    return rc;
}

int graph_write_nodes_csv(const char *path, const clae_graph *g, const float *xy, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    fprintf(a.f, "row,node,label,class%s\n", xy ? ",x,y" : "");
    for (uint32_t k = 0; k < g->n_nodes; k++) {
        int label = g->labels ? g->labels[k] : -1;
        fprintf(a.f, "%u,", k);
        clae_json_string(a.f, g->names[k]);
        if (label >= 0) {
            fprintf(a.f, ",%d,", label);
            clae_json_string(a.f, g->class_names[label]);
        } else {
            fprintf(a.f, ",,");
        }
        if (xy) fprintf(a.f, ",%.7g,%.7g", xy[2 * k], xy[2 * k + 1]);
        fputc('\n', a.f);
    }
    return clae_afile_commit(&a, err);
}

int graph_encode_run(clae_ctx *ctx, const clae_config *cfg, const clae_cli_opts *o, clae_err *err)
{
    clae_graph_trainer t;
    if (clae_graph_trainer_open(&t, ctx, cfg, err)) return -1;
    char ckpt[1100], npy[1100], csv[1100];
    snprintf(ckpt, sizeof ckpt, "%s/%s", o->positional, o->best ? "best.bin" : "checkpoint.bin");
    size_t n = t.graph.n_nodes, u = clae_graph_code_size(&t);
    float *codes = malloc(n * u * sizeof *codes);
    int rc = codes ? clae_graph_trainer_load(&t, ckpt, err) : clae_fail(err, "out of host memory");
    if (rc == 0) rc = run_output(o, "encode", "codes.npy", npy, sizeof npy, err);
    if (rc == 0 && clae_graph_trainer_codes(&t, codes)) rc = -1, *err = ctx->err;
    run_sibling(npy, ".csv", csv, sizeof csv);
    if (rc == 0)
        rc = clae_npy_write(npy, codes, n, u, err) ||
             graph_write_nodes_csv(csv, &t.graph, NULL, err);
    if (rc == 0)
        printf("wrote %s (%zu node codes of %zu values%s) and %s\n", npy, n, u,
               clae_model_vae(&t.model) ? ", the means" : "", csv);
    free(codes);
    clae_graph_trainer_close(&t);
    return rc ? -1 : 0;
}

bool graph_run_config(const char *run, const clae_cli_opts *o, clae_config *cfg)
{
    char path[1100];
    clae_err err;
    snprintf(path, sizeof path, "%s/config.ini", run);
    if (access(path, R_OK) != 0 || clae_config_load(cfg, path, o->sets, o->n_sets, &err))
        return false;
    if (cfg->data.format == CLAE_DATA_GRAPH) return true;
    clae_config_free(cfg);
    return false;
}

int graph_command(clae_cli_opts *o, clae_config *cfg,
                  int (*f)(clae_ctx *, const clae_config *, const clae_cli_opts *, clae_err *))
{
    clae_ctx ctx;
    clae_err err;
    int rc = clae_device_open(&ctx, &o->dev, &err);
    if (rc == 0) {
        run_print_device(&ctx);
        rc = f(&ctx, cfg, o, &err);
        clae_device_close(&ctx);
    }
    clae_config_free(cfg);
    return rc ? clae_cli_error(&err) : 0;
}
