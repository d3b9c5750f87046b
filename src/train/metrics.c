/* Every report of a run's metrics, from the one table in clae/metrics.h. */
#include <math.h>
#include <stdbool.h>

#include "clae/metrics.h"

typedef struct {
    const char *json, *train_col, *val_col, *csv, *epoch, *test;
    double factor;
} metric_def;

static const metric_def defs[CLAE_N_METRICS] = {
#define CLAE_METRIC_DEF(id, json, train_col, val_col, csv, epoch, test, factor) \
    {json, train_col, val_col, csv, epoch, test, factor},
    CLAE_METRIC_LIST(CLAE_METRIC_DEF)
#undef CLAE_METRIC_DEF
};

void clae_metrics_clear(clae_metrics *m)
{
    for (int i = 0; i < CLAE_N_METRICS; i++) m->v[i] = NAN;
    m->n = 0;
    m->confusion = NULL;
    m->classes = 0;
}

void clae_metrics_csv_header(FILE *f)
{
    fprintf(f, "epoch,step");
    for (int i = 0; i < CLAE_N_METRICS; i++) {
        if (defs[i].train_col) fprintf(f, ",%s", defs[i].train_col);
        if (defs[i].val_col) fprintf(f, ",%s", defs[i].val_col);
    }
    fprintf(f, "\n");
}

/* one layout for every variant, so resumed runs append alike: what a run
 * does not have is written as 0 */
static void csv_value(FILE *f, const char *fmt, double v)
{
    fputc(',', f);
    fprintf(f, fmt, isfinite(v) ? v : 0.0);
}

void clae_metrics_csv_row(FILE *f, int epoch, long step, const clae_metrics *train,
                          const clae_metrics *val)
{
    fprintf(f, "%d,%ld", epoch, step);
    for (int i = 0; i < CLAE_N_METRICS; i++) {
        if (defs[i].train_col) csv_value(f, defs[i].csv, train->v[i]);
        if (defs[i].val_col) csv_value(f, defs[i].csv, val->v[i]);
    }
    fprintf(f, "\n");
}

void clae_metrics_print_epoch(FILE *f, const clae_metrics *train, const clae_metrics *val)
{
    for (int i = 0; i < CLAE_N_METRICS; i++) {
        const metric_def *d = &defs[i];
        double tv = train->v[i], vv = val->v[i];
        if (!d->epoch || (d->train_col && !isfinite(tv)) || (d->val_col && !isfinite(vv))) continue;
        if (d->train_col && d->val_col)
            fprintf(f, d->epoch, tv, vv);
        else
            fprintf(f, d->epoch, d->train_col ? tv : vv);
    }
}

void clae_metrics_print_test(FILE *f, const clae_metrics *m)
{
    fprintf(f, "test: %u images", m->n);
    for (int i = 0; i < CLAE_N_METRICS; i++)
        if (defs[i].test && isfinite(m->v[i])) fprintf(f, defs[i].test, m->v[i] * defs[i].factor);
    fprintf(f, "\n");
}

void clae_metrics_write_json(FILE *f, const clae_metrics *m)
{
    fprintf(f, "{\"images\": %u", m->n);
    for (int i = 0; i < CLAE_N_METRICS; i++)
        if (defs[i].json && isfinite(m->v[i])) fprintf(f, ", \"%s\": %.8g", defs[i].json, m->v[i]);
    if (m->confusion) {
        fprintf(f, ", \"confusion\": [");
        for (int r = 0; r < m->classes; r++) {
            fprintf(f, "%s[", r ? ", " : "");
            for (int c = 0; c < m->classes; c++)
                fprintf(f, "%s%u", c ? ", " : "", m->confusion[r * m->classes + c]);
            fprintf(f, "]");
        }
        fprintf(f, "]");
    }
    fprintf(f, "}");
}
