/* Pruners of a sweep (clae/sweep.h), as Optuna 3.1's:
 *   median   MedianPruner(n_startup_trials = pruner_startup, n_warmup_steps =
 *            warmup_epochs): after epoch e a trial stops when its best value so far
 *            is worse than the median of the complete trials' values at epoch e.
 *   halving  SuccessiveHalvingPruner(min_resource, reduction_factor,
 *            min_early_stopping_rate 0): rungs at min_resource * factor^k epochs; a
 *            trial reaching a rung goes on only when its value there is within the
 *            best 1 / factor of every trial's value at that rung (at least the best).
 * Also the keys' importance (eta squared). */
#include <math.h>
#include <stdlib.h>

#include "clae/sweep.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* v in the minimising sense */
static double signed_value(const clae_sweep_spec *s, double v) { return s->maximize ? -v : v; }

static bool median_prune(const clae_sweep_spec *s, const clae_trial *trials, int n,
                         const clae_trial *t)
{
    int e = t->n_values, complete = 0, m = 0;
    if (e <= s->warmup_epochs) return false;
    double *at = malloc((size_t)(n + 1) * sizeof *at), best = INFINITY;
    for (int i = 0; i < n; i++) {
        if (trials[i].state != CLAE_TRIAL_COMPLETE) continue;
        complete++;
        if (trials[i].n_values >= e) at[m++] = signed_value(s, trials[i].values[e - 1]);
    }
    for (int j = 0; j < e; j++) best = fmin(best, signed_value(s, t->values[j]));
    bool prune = false;
    if (complete >= s->pruner_startup && m > 0) {
        qsort(at, (size_t)m, sizeof *at, cmp_double);
        double median = m % 2 ? at[m / 2] : 0.5 * (at[m / 2 - 1] + at[m / 2]);
        prune = best > median;
    }
    free(at);
    return prune;
}

static bool halving_prune(const clae_sweep_spec *s, const clae_trial *trials, int n,
                          const clae_trial *t)
{
    int e = t->n_values;
    long rung = s->min_resource;
    while (rung < e) rung *= s->reduction_factor;
    if (rung != e) return false; /* not at a rung */
    double *at = malloc((size_t)(n + 1) * sizeof *at), mine = signed_value(s, t->values[e - 1]);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (trials[i].n_values >= e) at[m++] = signed_value(s, trials[i].values[e - 1]);
    qsort(at, (size_t)m, sizeof *at, cmp_double);
    int idx = m / s->reduction_factor - 1;
    bool prune = m > 0 && mine > at[idx < 0 ? 0 : idx];
    free(at);
    return prune;
}

bool clae_sweep_should_prune(const clae_sweep_spec *s, const clae_trial *trials, int n_trials,
                             const clae_trial *t)
{
    if (t->n_values < 1 || !isfinite(t->values[t->n_values - 1])) return false;
    if (s->pruner == CLAE_PRUNER_MEDIAN) return median_prune(s, trials, n_trials, t);
    if (s->pruner == CLAE_PRUNER_HALVING) return halving_prune(s, trials, n_trials, t);
    return false;
}

/* The bin of trial value x of key p: a choice's index, or its quarter of the sorted values
 * (equal values share one). */
static int bin_of(const clae_sweep_param *p, double x, const double *sorted, int m)
{
    if (p->dist == CLAE_DIST_CHOICE) return (int)x;
    int below = 0;
    while (below < m && sorted[below] < x) below++;
    int b = (int)(4.0 * below / m);
    return b > 3 ? 3 : b;
}

/* The values importance measures, into y (and the trials' indices into idx): the
 * complete trials' final values, or with fewer than 4 of those (a pruner that stopped
 * most), every finished trial's value at the last epoch they all reached. */
static int importance_values(const clae_trial *trials, int n, double *y, int *idx)
{
    int m = 0, common = CLAE_SWEEP_MAX_EPOCHS;
    for (int i = 0; i < n; i++)
        if (trials[i].state == CLAE_TRIAL_COMPLETE && isfinite(clae_trial_value(&trials[i])))
            idx[m] = i, y[m++] = clae_trial_value(&trials[i]);
    if (m >= 4) return m;
    m = 0;
    for (int i = 0; i < n; i++)
        if ((trials[i].state == CLAE_TRIAL_COMPLETE || trials[i].state == CLAE_TRIAL_PRUNED) &&
            trials[i].n_values > 0 && trials[i].n_values < common)
            common = trials[i].n_values;
    for (int i = 0; i < n; i++) {
        const clae_trial *t = &trials[i];
        if ((t->state == CLAE_TRIAL_COMPLETE || t->state == CLAE_TRIAL_PRUNED) &&
            t->n_values >= common && isfinite(t->values[common - 1]))
            idx[m] = i, y[m++] = t->values[common - 1];
    }
    return m;
}

void clae_sweep_importance(const clae_sweep_spec *s, const clae_trial *trials, int n_trials,
                           double *imp)
{
    double *y = malloc((size_t)(n_trials + 1) * sizeof *y),
           *xs = malloc((size_t)(n_trials + 1) * sizeof *xs);
    int *idx = malloc((size_t)(n_trials + 1) * sizeof *idx);
    int m = importance_values(trials, n_trials, y, idx);
    double mean = 0, total = 0;
    for (int i = 0; i < m; i++) mean += y[i] / m;
    for (int i = 0; i < m; i++) total += (y[i] - mean) * (y[i] - mean);
    for (int k = 0; k < s->n_params; k++) {
        const clae_sweep_param *p = &s->params[k];
        double sum[CLAE_SWEEP_MAX_CHOICES] = {0}, between = 0;
        int count[CLAE_SWEEP_MAX_CHOICES] = {0};
        for (int i = 0; i < m; i++) xs[i] = trials[idx[i]].x[k];
        qsort(xs, (size_t)m, sizeof *xs, cmp_double);
        for (int i = 0; i < m; i++) {
            int b = bin_of(p, trials[idx[i]].x[k], xs, m);
            sum[b] += y[i], count[b]++;
        }
        for (int b = 0; b < CLAE_SWEEP_MAX_CHOICES; b++)
            if (count[b]) between += count[b] * pow(sum[b] / count[b] - mean, 2);
        imp[k] = m >= 4 && total > 0 ? between / total : NAN;
    }
    free(y);
    free(xs);
    free(idx);
}
