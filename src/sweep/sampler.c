/* Samplers of a sweep (clae/sweep.h). grid walks the product of the values;
 * random draws each key uniformly (log-uniformly for loguniform); tpe is the
 * univariate tree-structured Parzen estimator as Optuna 3.1's TPESampler with
 * its defaults: startup_trials random trials, then the finished trials split
 * into the best gamma(n) = min(ceil(n / 10), 25) and the rest (complete
 * trials by value, then pruned ones, those that ran longer first), a Parzen
 * mixture of truncated normals (a prior component over the range, bandwidths
 * from the neighbours' gaps clipped to [range / min(100, n + 1), range]) for
 * each side, and of `candidates` draws from the good side the one with the
 * highest l(x) / g(x). Log-scaled keys are modelled in log space. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/rng.h"
#include "clae/sweep.h"

/* TPE models at most this many finished trials (the best ones). */
#define TPE_MAX_OBS 1024

double clae_trial_value(const clae_trial *t)
{
    return t->n_values > 0 ? t->values[t->n_values - 1] : NAN;
}

/* The key's range in the space the model works in. */
static void model_range(const clae_sweep_param *p, double *lo, double *hi)
{
    if (p->dist == CLAE_DIST_LOGUNIFORM)
        *lo = log(p->lo), *hi = log(p->hi);
    else if (p->dist == CLAE_DIST_INT)
        *lo = p->lo - 0.5 * p->step, *hi = p->hi + 0.5 * p->step;
    else
        *lo = p->lo, *hi = p->hi;
}

static double to_model(const clae_sweep_param *p, double x)
{
    return p->dist == CLAE_DIST_LOGUNIFORM ? log(x) : x;
}

/* A value of the key from a point of the model's space (ints snapped to the step). */
static double from_model(const clae_sweep_param *p, double t)
{
    if (p->dist == CLAE_DIST_LOGUNIFORM) return fmin(p->hi, fmax(p->lo, exp(t)));
    if (p->dist != CLAE_DIST_INT) return fmin(p->hi, fmax(p->lo, t));
    double k = floor((t - p->lo) / p->step + 0.5), top = floor((p->hi - p->lo) / p->step + 1e-9);
    return p->lo + fmin(top, fmax(0.0, k)) * p->step;
}

static double random_value(const clae_sweep_param *p, clae_rng *rng)
{
    if (p->dist == CLAE_DIST_CHOICE) return (double)clae_rng_below(rng, (uint32_t)p->n_choices);
    double lo, hi;
    model_range(p, &lo, &hi);
    return from_model(p, lo + (hi - lo) * clae_rng_uniform(rng));
}

/* ---- Parzen estimators ---- */
typedef struct {
    int n;
    double mu[TPE_MAX_OBS + 1], sigma[TPE_MAX_OBS + 1], w[TPE_MAX_OBS + 1]; /* + the prior */
    double lo, hi;
} parzen;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Optuna's default_weights: equal below 25 observations, else a ramp up to the newest 25. */
static void obs_weights(int n, double *w)
{
    for (int i = 0; i < n; i++)
        w[i] = n < 25 || i >= n - 25 ? 1.0 : 1.0 / n + (1.0 - 1.0 / n) * i / (double)(n - 25);
}

/* The mixture of the observations obs (in time order) and the prior. */
static void parzen_fit(parzen *pz, const double *obs, int n, double lo, double hi)
{
    pz->lo = lo, pz->hi = hi, pz->n = n + 1;
    obs_weights(n, pz->w);
    for (int i = 0; i < n; i++) pz->mu[i] = obs[i];
    pz->mu[n] = 0.5 * (lo + hi), pz->w[n] = 1.0; /* the prior */
    double sorted[TPE_MAX_OBS + 1];
    memcpy(sorted, pz->mu, (size_t)pz->n * sizeof *sorted);
    qsort(sorted, (size_t)pz->n, sizeof *sorted, cmp_double);
    double range = hi - lo, min_sigma = range / fmin(100.0, 1.0 + pz->n), sum = 0;
    for (int i = 0; i < pz->n; i++) {
        int at = 0;
        while (at < pz->n - 1 && sorted[at] < pz->mu[i]) at++;
        double left = at > 0 ? sorted[at] - sorted[at - 1] : 0,
               right = at < pz->n - 1 ? sorted[at + 1] - sorted[at] : 0;
        double s = i == n ? range : fmax(left, right);
        pz->sigma[i] = fmin(range, fmax(min_sigma, s));
        sum += pz->w[i];
    }
    for (int i = 0; i < pz->n; i++) pz->w[i] /= sum;
}

static double normal_cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

static double parzen_log_pdf(const parzen *pz, double x)
{
    double p = 0;
    for (int i = 0; i < pz->n; i++) {
        double s = pz->sigma[i], z = (x - pz->mu[i]) / s,
               mass = normal_cdf((pz->hi - pz->mu[i]) / s) - normal_cdf((pz->lo - pz->mu[i]) / s);
        p += pz->w[i] * exp(-0.5 * z * z) / (s * sqrt(2 * M_PI) * fmax(mass, 1e-12));
    }
    return log(fmax(p, 1e-300));
}

static double parzen_draw(const parzen *pz, clae_rng *rng)
{
    double u = clae_rng_uniform(rng), acc = 0;
    int i = 0;
    for (; i < pz->n - 1 && (acc += pz->w[i]) < u; i++) {
    }
    for (int tries = 0; tries < 1000; tries++) { /* the truncated normal, by rejection */
        double u1 = 1.0 - clae_rng_uniform(rng), u2 = clae_rng_uniform(rng);
        double x = pz->mu[i] + pz->sigma[i] * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        if (x >= pz->lo && x <= pz->hi) return x;
    }
    return fmin(pz->hi, fmax(pz->lo, pz->mu[i]));
}

/* ---- the split into good and bad trials ---- */
typedef struct {
    const clae_trial *t;
    double key1, key2; /* complete first (0), then pruned by epochs run; then value */
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->key1 != y->key1) return x->key1 < y->key1 ? -1 : 1;
    return (x->key2 > y->key2) - (x->key2 < y->key2);
}

/* Finished trials with a value, best first; their count. */
static int rank_trials(const clae_sweep_spec *s, const clae_trial *trials, int n, ranked *out)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        const clae_trial *t = &trials[i];
        double v = clae_trial_value(t);
        if ((t->state != CLAE_TRIAL_COMPLETE && t->state != CLAE_TRIAL_PRUNED) || !isfinite(v))
            continue;
        out[m++] = (ranked){t, t->state == CLAE_TRIAL_COMPLETE ? -1e9 : -(double)t->n_values,
                            s->maximize ? -v : v};
    }
    qsort(out, (size_t)m, sizeof *out, cmp_ranked);
    return m;
}

/* Trials in time order (by id) of one side: the param's values in the model's space. */
static int side_values(const clae_sweep_param *p, int k, const ranked *r, int from, int to,
                       double *out)
{
    int n = 0;
    for (int i = from; i < to; i++) out[n++] = to_model(p, r[i].t->x[k]);
    return n;
}

static double tpe_numeric(const clae_sweep_param *p, int k, const ranked *r, int m, int below,
                          int candidates, clae_rng *rng)
{
    parzen pz[2], *good = &pz[0], *bad = &pz[1]; /* 49 KB of the stack */
    double lo, hi, obs[TPE_MAX_OBS];
    model_range(p, &lo, &hi);
    parzen_fit(good, obs, side_values(p, k, r, 0, below, obs), lo, hi);
    parzen_fit(bad, obs, side_values(p, k, r, below, m, obs), lo, hi);
    double best = NAN, best_score = -INFINITY;
    for (int c = 0; c < candidates; c++) {
        double x = parzen_draw(good, rng), score = parzen_log_pdf(good, x) - parzen_log_pdf(bad, x);
        if (score > best_score) best = x, best_score = score;
    }
    return from_model(p, best);
}

/* A choice: each side's category weights are a prior of 1 spread over the choices plus
 * its trials' weights. */
static double tpe_choice(const clae_sweep_param *p, int k, const ranked *r, int m, int below,
                         int candidates, clae_rng *rng)
{
    double good[CLAE_SWEEP_MAX_CHOICES], bad[CLAE_SWEEP_MAX_CHOICES], wg[TPE_MAX_OBS],
        wb[TPE_MAX_OBS], sg = 1, sb = 1;
    for (int c = 0; c < p->n_choices; c++) good[c] = bad[c] = 1.0 / p->n_choices;
    obs_weights(below, wg);
    obs_weights(m - below, wb);
    for (int i = 0; i < m; i++) {
        int c = (int)r[i].t->x[k];
        if (i < below)
            good[c] += wg[i], sg += wg[i];
        else
            bad[c] += wb[i - below], sb += wb[i - below];
    }
    int best = 0;
    double best_score = -INFINITY;
    for (int n = 0; n < candidates; n++) {
        double u = clae_rng_uniform(rng) * sg, acc = 0;
        int c = 0;
        for (; c < p->n_choices - 1 && (acc += good[c]) < u; c++) {
        }
        double score = log(good[c] / sg) - log(bad[c] / sb);
        if (score > best_score) best = c, best_score = score;
    }
    return best;
}

int clae_sweep_sample(const clae_sweep_spec *s, const clae_trial *trials, int n_trials, int id,
                      double *x, clae_err *err)
{
    clae_rng rng;
    clae_rng_seed(&rng, s->seed, 0x7E5A0000ull + (uint64_t)id);
    if (s->sampler == CLAE_SAMPLER_GRID) {
        long size = clae_sweep_grid_size(s);
        if (id >= size)
            return clae_fail(err, "the grid has %ld points: trial %d is past it", size, id);
        clae_sweep_grid_point(s, id, x);
        return 0;
    }
    ranked *r = malloc((size_t)(n_trials + 1) * sizeof *r);
    if (!r) return clae_fail(err, "out of host memory");
    int m = s->sampler == CLAE_SAMPLER_TPE ? rank_trials(s, trials, n_trials, r) : 0;
    if (m > TPE_MAX_OBS) m = TPE_MAX_OBS; /* the best ones */
    int below = (int)fmin(ceil(0.1 * m), 25.0);
    if (below < 1) below = 1;
    for (int k = 0; k < s->n_params; k++) {
        const clae_sweep_param *p = &s->params[k];
        if (m < s->startup_trials || m < 2)
            x[k] = random_value(p, &rng);
        else if (p->dist == CLAE_DIST_CHOICE)
            x[k] = tpe_choice(p, k, r, m, below, s->candidates, &rng);
        else
            x[k] = tpe_numeric(p, k, r, m, below, s->candidates, &rng);
    }
    free(r);
    return 0;
}
