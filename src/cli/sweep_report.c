/* The report of a finished sweep (sweep_report.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/afile.h"
#include "clae/config.h"
#include "clae/io.h"
#include "sweep_report.h"

/* A trial's place: complete trials by value (best first), then pruned ones (longer
 * first), then failed ones. */
typedef struct {
    const clae_trial *t;
    int group, epochs;
    double value; /* in the minimising sense, NaN last */
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->group != y->group) return x->group - y->group;
    if (x->group == 1 && x->epochs != y->epochs) return y->epochs - x->epochs;
    if (isnan(x->value) || isnan(y->value)) return isnan(x->value) - isnan(y->value);
    return (x->value > y->value) - (x->value < y->value);
}

static void write_table(FILE *f, const clae_sweep_spec *s, const ranked *rank, int n)
{
    fprintf(f, "| rank | trial | state | %s | epochs |", s->metric);
    for (int k = 0; k < s->n_params; k++) fprintf(f, " %s |", s->params[k].key);
    fprintf(f, " seconds |\n|---|---|---|---|---|");
    for (int k = 0; k < s->n_params; k++) fprintf(f, "---|");
    fprintf(f, "---|\n");
    for (int i = 0; i < n; i++) {
        const clae_trial *t = rank[i].t;
        fprintf(f, "| %d | %d | %s | %.6g | %d |", i + 1, t->id, clae_trial_state_name(t->state),
                clae_trial_value(t), t->n_values);
        for (int k = 0; k < s->n_params; k++) {
            char text[128];
            clae_sweep_value_text(&s->params[k], t->x[k], text, sizeof text);
            fprintf(f, " %s |", text);
        }
        fprintf(f, " %.1f |\n", t->seconds);
    }
}

/* Epochs of a trial that runs to the end, from the base config and [fixed]. */
static int full_epochs(const clae_sweep_spec *s)
{
    char *sets[CLAE_SWEEP_MAX_SETS];
    for (int i = 0; i < s->n_sets; i++) sets[i] = (char *)s->sets[i];
    clae_config c;
    clae_err err;
    if (clae_config_load(&c, s->config, sets, s->n_sets, &err)) return 0;
    int e = c.train.epochs;
    clae_config_free(&c);
    return e;
}

static void write_summary(FILE *f, const clae_sweep_spec *s, const clae_trial *trials, int n)
{
    double imp[CLAE_SWEEP_MAX_PARAMS], secs = 0;
    long epochs = 0;
    int pruned = 0, complete = 0;
    for (int i = 0; i < n; i++) {
        epochs += trials[i].n_values, secs += trials[i].seconds;
        pruned += trials[i].state == CLAE_TRIAL_PRUNED;
        complete += trials[i].state == CLAE_TRIAL_COMPLETE;
    }
    long all = (long)full_epochs(s) * n;
    fprintf(f,
            "\n%d trials: %d complete, %d pruned, %d failed; %ld of %ld epochs run (%.0f%%), "
            "%.1f s in all\n",
            n, complete, pruned, n - complete - pruned, epochs, all,
            all ? 100.0 * epochs / all : 0.0, secs);
    clae_sweep_importance(s, trials, n, imp);
    fprintf(f, "\nImportance (eta squared: the share of the variance of the complete trials' "
               "values, or with fewer than 4 of those of all finished trials' values at the last "
               "epoch all reached, that one key explains alone):\n\n");
    for (int k = 0; k < s->n_params; k++) fprintf(f, "- %s: %.3f\n", s->params[k].key, imp[k]);
}

/* metric against each trial, and the best so far */
static int write_history(const char *dir, const clae_sweep_spec *s, const clae_trial *trials, int n,
                         clae_err *err)
{
    double *x = malloc((size_t)(n + 1) * sizeof *x), *y = malloc((size_t)(n + 1) * sizeof *y),
           *best = malloc((size_t)(n + 1) * sizeof *best);
    int m = 0;
    double b = NAN;
    for (int i = 0; i < n; i++) {
        double v = clae_trial_value(&trials[i]);
        if (trials[i].state != CLAE_TRIAL_COMPLETE || !isfinite(v)) continue;
        if (isnan(b) || (s->maximize ? v > b : v < b)) b = v;
        x[m] = i, y[m] = v, best[m++] = b;
    }
    char path[900], title[300];
    snprintf(path, sizeof path, "%s/history.svg", dir);
    snprintf(title, sizeof title, "%s: %s of the complete trials", s->name, s->metric);
    clae_series series[2] = {{"trial", "#1f77b4", x, y, m}, {"best so far", "#d62728", x, best, m}};
    int rc = m ? clae_svg_plot(path, title, "trial", s->metric, series, 2, err) : 0;
    free(x), free(y), free(best);
    return rc;
}

/* metric against key k, complete and pruned trials in two colours */
static int write_key_plot(const char *dir, const clae_sweep_spec *s, int k,
                          const clae_trial *trials, int n, clae_err *err)
{
    float *xy = malloc((size_t)(n + 1) * 2 * sizeof *xy);
    int *labels = malloc((size_t)(n + 1) * sizeof *labels), m = 0;
    const clae_sweep_param *p = &s->params[k];
    for (int i = 0; i < n; i++) {
        double v = clae_trial_value(&trials[i]);
        if (trials[i].state == CLAE_TRIAL_FAILED || !isfinite(v)) continue;
        double x = trials[i].x[k];
        xy[2 * m] = (float)(p->dist == CLAE_DIST_LOGUNIFORM ? log10(x) : x);
        xy[2 * m + 1] = (float)v;
        labels[m++] = trials[i].state == CLAE_TRIAL_PRUNED;
    }
    char path[900], title[300], key[160];
    snprintf(key, sizeof key, "%s", p->key);
    for (char *c = key; *c; c++)
        if (*c == '/' || *c == ' ') *c = '_';
    snprintf(path, sizeof path, "%s/key_%s.svg", dir, key);
    snprintf(title, sizeof title, "%s against %s%s%s", s->metric,
             p->dist == CLAE_DIST_LOGUNIFORM ? "log10 " : "", p->key,
             p->dist == CLAE_DIST_CHOICE ? " (choice index)" : "");
    static const char *const names[2] = {"complete", "pruned (last value)"};
    clae_scatter sc = {xy, labels, (size_t)m, names, 2, title, NULL};
    int rc = m ? clae_svg_scatter(path, &sc, err) : 0;
    free(xy), free(labels);
    return rc;
}

static int copy_best(const char *dir, const clae_trial *best, clae_err *err)
{
    char from[900], to[900];
    snprintf(from, sizeof from, "%s/trial-%03d/config.ini", dir, best->id);
    snprintf(to, sizeof to, "%s/best.ini", dir);
    FILE *in = fopen(from, "r");
    if (!in) return clae_fail(err, "cannot read %s", from);
    clae_afile a;
    int rc = clae_afile_open(&a, to, err);
    char buf[8192];
    size_t got;
    while (rc == 0 && (got = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, got, a.f);
    fclose(in);
    if (rc == 0) rc = clae_afile_commit(&a, err);
    if (rc == 0) printf("best trial %d: %s (a ready config)\n", best->id, to);
    return rc;
}

int sweep_report(const clae_sweep_spec *s, const char *dir, const clae_trial *trials, int n,
                 clae_err *err)
{
    ranked *rank = malloc((size_t)(n + 1) * sizeof *rank);
    if (!rank) return clae_fail(err, "out of host memory");
    for (int i = 0; i < n; i++) {
        const clae_trial *t = &trials[i];
        double v = clae_trial_value(t);
        int group = t->state == CLAE_TRIAL_COMPLETE ? 0 : t->state == CLAE_TRIAL_PRUNED ? 1 : 2;
        rank[i] = (ranked){t, group, t->n_values, s->maximize ? -v : v};
    }
    qsort(rank, (size_t)n, sizeof *rank, cmp_ranked);
    write_table(stdout, s, rank, n);
    write_summary(stdout, s, trials, n);
    char md[900];
    snprintf(md, sizeof md, "%s/sweep.md", dir);
    clae_afile a;
    int rc = clae_afile_open(&a, md, err);
    if (rc == 0) {
        fprintf(a.f, "# Sweep %s (%s: sampler %s, pruner %s, %s %s)\n\n", s->name, s->path,
                clae_sampler_name(s->sampler), clae_pruner_name(s->pruner),
                s->maximize ? "maximize" : "minimize", s->metric);
        write_table(a.f, s, rank, n);
        write_summary(a.f, s, trials, n);
        rc = clae_afile_commit(&a, err);
    }
    if (rc == 0 && n && rank[0].group == 0) rc = copy_best(dir, rank[0].t, err);
    if (rc == 0) rc = write_history(dir, s, trials, n, err);
    for (int k = 0; rc == 0 && k < s->n_params; k++) rc = write_key_plot(dir, s, k, trials, n, err);
    if (rc == 0) printf("wrote %s, history.svg and key_*.svg\n", md);
    free(rank);
    return rc;
}
