/* INI-driven experiments (clae sweep): a sweep file names a base config and
 * the keys that vary, trials sample them (grid, random, or a tree-structured
 * Parzen estimator as Optuna's TPESampler), a pruner stops weak trials from
 * their per-epoch metric (Optuna's MedianPruner, or asynchronous successive
 * halving as its SuccessiveHalvingPruner), and a journal of JSON lines keeps
 * every event so an interrupted sweep resumes. Host code, no device. */
#ifndef CLAE_SWEEP_H
#define CLAE_SWEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "clae/error.h"

#define CLAE_SWEEP_MAX_PARAMS 16
#define CLAE_SWEEP_MAX_CHOICES 32
#define CLAE_SWEEP_MAX_SETS 32

typedef enum { CLAE_DIST_CHOICE, CLAE_DIST_UNIFORM, CLAE_DIST_LOGUNIFORM, CLAE_DIST_INT } clae_dist;

/* One key that varies: choice(a, b, c), uniform(lo, hi), loguniform(lo, hi), int(lo, hi[, step]).
 */
typedef struct {
    char key[160]; /* section.key of the base config */
    clae_dist dist;
    double lo, hi, step;
    char choices[CLAE_SWEEP_MAX_CHOICES][64];
    int n_choices;
    int line; /* in the sweep file */
} clae_sweep_param;

#define CLAE_SAMPLER_LIST(X) X(GRID, grid) X(RANDOM, random) X(TPE, tpe)
#define CLAE_X_SAMPLER(id, name) CLAE_SAMPLER_##id,
typedef enum { CLAE_SAMPLER_LIST(CLAE_X_SAMPLER) } clae_sampler_kind;
#undef CLAE_X_SAMPLER
#define CLAE_PRUNER_LIST(X) X(NONE, none) X(MEDIAN, median) X(HALVING, halving)
#define CLAE_X_PRUNER(id, name) CLAE_PRUNER_##id,
typedef enum { CLAE_PRUNER_LIST(CLAE_X_PRUNER) } clae_pruner_kind;
#undef CLAE_X_PRUNER

const char *clae_sampler_name(clae_sampler_kind k);
const char *clae_pruner_name(clae_pruner_kind k);

typedef struct {
    char path[512];   /* the sweep file */
    char config[512]; /* the base config (relative paths: to the sweep file's folder) */
    char name[96], out_dir[512];
    clae_sweep_param params[CLAE_SWEEP_MAX_PARAMS];
    int n_params;
    int trials;
    char metric[64]; /* per epoch, from clae train --report: val_loss, train_loss, val.KEY, ... */
    bool maximize;
    clae_sampler_kind sampler;
    int startup_trials; /* tpe: random trials first (Optuna: 10) */
    int candidates;     /* tpe: draws from l(x) scored by l(x) / g(x) (Optuna: 24) */
    clae_pruner_kind pruner;
    int pruner_startup; /* median: complete trials before pruning (Optuna: 5) */
    int warmup_epochs;  /* median: epochs of a trial never pruned (Optuna: n_warmup_steps 0) */
    int min_resource, reduction_factor; /* halving: rungs at min_resource * factor^k epochs */
    uint64_t seed;
    char sets[CLAE_SWEEP_MAX_SETS][256]; /* fixed overrides of every trial ([sweep] set = ...) */
    int n_sets;
} clae_sweep_spec;

/* Reads a sweep file; errors name file:line, the key and what is expected. */
int clae_sweep_load(clae_sweep_spec *s, const char *path, clae_err *err);
/* The trials a grid holds (the product of its value counts), and its point id into x. */
long clae_sweep_grid_size(const clae_sweep_spec *s);
void clae_sweep_grid_point(const clae_sweep_spec *s, long id, double *x);

#define CLAE_TRIAL_STATE_LIST(X) \
    X(RUNNING, running) X(COMPLETE, complete) X(PRUNED, pruned) X(FAILED, failed)
#define CLAE_X_STATE(id, name) CLAE_TRIAL_##id,
typedef enum { CLAE_TRIAL_STATE_LIST(CLAE_X_STATE) } clae_trial_state;
#undef CLAE_X_STATE
const char *clae_trial_state_name(clae_trial_state s);

#define CLAE_SWEEP_MAX_EPOCHS 4096
typedef struct {
    int id;
    double x[CLAE_SWEEP_MAX_PARAMS]; /* the value (a choice: its index) */
    clae_trial_state state;
    double values[CLAE_SWEEP_MAX_EPOCHS]; /* the metric after each epoch */
    int n_values;
    double seconds;
} clae_trial;

/* A trial's value: its metric after its last epoch (NaN without one). */
double clae_trial_value(const clae_trial *t);
/* The value of param p as the config takes it ("0.001", "64", a choice's text). */
void clae_sweep_value_text(const clae_sweep_param *p, double x, char *out, size_t n);

/* Parameters of trial id into x from the trials so far (the sampler's rule;
 * draws are seeded by (seed, id), so a resumed sweep draws the same). */
int clae_sweep_sample(const clae_sweep_spec *s, const clae_trial *trials, int n_trials, int id,
                      double *x, clae_err *err);
/* Whether trial t, which has just reported epoch t->n_values, should stop now. */
bool clae_sweep_should_prune(const clae_sweep_spec *s, const clae_trial *trials, int n_trials,
                             const clae_trial *t);

/* Importance of each key for the complete trials' values (with fewer than 4
 * of those, every finished trial's value at the last epoch all of them
 * reached): eta squared, the share of their variance that the key's value
 * explains alone (one-way analysis of variance over its choices, or over
 * quartile bins of a numeric key), into imp (n_params); NaN below 4 values. */
void clae_sweep_importance(const clae_sweep_spec *s, const clae_trial *trials, int n_trials,
                           double *imp);

/* The journal: one JSON line per event, appended and flushed as it happens. */
void clae_journal_start(FILE *f, const clae_sweep_spec *s, const clae_trial *t);
void clae_journal_epoch(FILE *f, const clae_trial *t);
void clae_journal_end(FILE *f, const clae_trial *t, const char *message);
/* Reads a journal into trials (up to max; events of unknown trials are refused):
 * a trial started but not ended comes back RUNNING. A missing file is no trials. */
int clae_journal_read(const char *path, const clae_sweep_spec *s, clae_trial *trials, int max,
                      int *n, clae_err *err);

#endif
