/* Sweep files (clae/sweep.h): a [sweep] section of settings, each key that
 * varies written as section.key = DISTRIBUTION there, and an optional [fixed]
 * section of overrides every trial gets. Every key a trial varies or fixes is
 * checked against the base config when the file is read. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/config.h"
#include "clae/sweep.h"

static const char *const SAMPLER_NAMES[] = {
#define CLAE_X_NAME(id, name) #name,
    CLAE_SAMPLER_LIST(CLAE_X_NAME)};
static const char *const PRUNER_NAMES[] = {CLAE_PRUNER_LIST(CLAE_X_NAME)};
static const char *const STATE_NAMES[] = {CLAE_TRIAL_STATE_LIST(CLAE_X_NAME)};
#undef CLAE_X_NAME

const char *clae_trial_state_name(clae_trial_state s) { return STATE_NAMES[s]; }
const char *clae_sampler_name(clae_sampler_kind k) { return SAMPLER_NAMES[k]; }
const char *clae_pruner_name(clae_pruner_kind k) { return PRUNER_NAMES[k]; }

static int choice_of(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0) return i;
    return -1;
}

static bool number(const char *s, double *v)
{
    char *end;
    while (isspace((unsigned char)*s)) s++;
    errno = 0;
    *v = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    return end != s && !*end && errno == 0 && isfinite(*v);
}

/* Splits "name(a, b, ...)" into name and trimmed arguments; the count, -1 when malformed. */
static int call_args(char *v, char **name, char **args, int max)
{
    char *open = strchr(v, '('), *close = strrchr(v, ')');
    if (!open || !close || close < open || close[1]) return -1;
    *open = 0, *close = 0, *name = v;
    int n = 0;
    for (char *p = open + 1; n < max;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        while (isspace((unsigned char)*p)) p++;
        size_t len = strlen(p);
        while (len && isspace((unsigned char)p[len - 1])) p[--len] = 0;
        args[n++] = p;
        if (!comma) return n;
        p = comma + 1;
    }
    return -1;
}

static int parse_range(clae_sweep_param *p, char **a, int n, const char *where, clae_err *err)
{
    bool is_int = p->dist == CLAE_DIST_INT;
    if (n < 2 || n > (is_int ? 3 : 2) || !number(a[0], &p->lo) || !number(a[1], &p->hi) ||
        (n == 3 && !number(a[2], &p->step)))
        return clae_fail(err, "%s: expected %s", where,
                         is_int ? "int(lo, hi) or int(lo, hi, step) of integers"
                                : "two numbers (lo, hi)");
    if (n < 3) p->step = is_int ? 1 : 0;
    if (!(p->lo < p->hi))
        return clae_fail(err, "%s: an empty range: lo %g must be below hi %g", where, p->lo, p->hi);
    if (p->dist == CLAE_DIST_LOGUNIFORM && p->lo <= 0)
        return clae_fail(err, "%s: loguniform needs 0 < lo < hi", where);
    if (is_int && (p->lo != floor(p->lo) || p->hi != floor(p->hi) || p->step < 1 ||
                   p->step != floor(p->step)))
        return clae_fail(err, "%s: int takes integers and a step of at least 1", where);
    return 0;
}

/* "choice(a, b)", "uniform(lo, hi)", "loguniform(lo, hi)", "int(lo, hi[, step])" into p. */
static int parse_param(clae_sweep_param *p, const char *key, const char *value, const char *where,
                       clae_err *err)
{
    char buf[256], *name, *a[CLAE_SWEEP_MAX_CHOICES + 1];
    snprintf(buf, sizeof buf, "%s", value);
    snprintf(p->key, sizeof p->key, "%s", key);
    int n = call_args(buf, &name, a, CLAE_SWEEP_MAX_CHOICES + 1);
    static const char *const dists[] = {"choice", "uniform", "loguniform", "int"};
    int d = n < 0 ? -1 : choice_of(name, dists, 4);
    if (d < 0)
        return clae_fail(err,
                         "%s: expected choice(a, b, ...), uniform(lo, hi), loguniform(lo, hi) or "
                         "int(lo, hi[, step])",
                         where);
    p->dist = (clae_dist)d;
    if (p->dist != CLAE_DIST_CHOICE) return parse_range(p, a, n, where, err);
    if (n > CLAE_SWEEP_MAX_CHOICES)
        return clae_fail(err, "%s: at most %d choices", where, CLAE_SWEEP_MAX_CHOICES);
    for (int i = 0; i < n; i++) {
        if (!a[i][0] || strlen(a[i]) > 63)
            return clae_fail(err, "%s: choice %d is %s", where, i + 1,
                             a[i][0] ? "longer than 63 characters" : "empty");
        snprintf(p->choices[i], sizeof p->choices[i], "%s", a[i]);
    }
    p->n_choices = n;
    return 0;
}

void clae_sweep_value_text(const clae_sweep_param *p, double x, char *out, size_t n)
{
    if (p->dist == CLAE_DIST_CHOICE)
        snprintf(out, n, "%s", p->choices[(int)x]);
    else if (p->dist == CLAE_DIST_INT)
        snprintf(out, n, "%.0f", x);
    else
        snprintf(out, n, "%.6g", x);
}

/* What a [sweep] setting holds: text, a bounded int, one of names (an int), the 64-bit
 * seed, or the direction (minimize | maximize into a bool). */
typedef enum { SET_STR, SET_INT, SET_CHOICE, SET_SEED, SET_DIRECTION } setting_kind;

typedef struct {
    const char *key;
    setting_kind kind;
    size_t offset, size;
    const char *const *names; /* SET_CHOICE: 3 names */
    double lo, hi;            /* SET_INT */
} setting;

#define AT(f) offsetof(clae_sweep_spec, f)
#define S_STR(f) SET_STR, AT(f), sizeof(((clae_sweep_spec *)0)->f), NULL, 0, 0
#define S_INT(f, lo, hi) SET_INT, AT(f), 0, NULL, lo, hi
#define S_CHOICE(f, names) SET_CHOICE, AT(f), 0, names, 0, 0
static const char *const DIRECTIONS[] = {"minimize", "maximize", NULL};
static const setting SETTINGS[] = {
    {"config", S_STR(config)},
    {"name", S_STR(name)},
    {"out_dir", S_STR(out_dir)},
    {"metric", S_STR(metric)},
    {"direction", SET_DIRECTION, AT(maximize), 0, NULL, 0, 0},
    {"trials", S_INT(trials, 1, 100000)},
    {"sampler", S_CHOICE(sampler, SAMPLER_NAMES)},
    {"startup_trials", S_INT(startup_trials, 0, 100000)},
    {"candidates", S_INT(candidates, 1, 10000)},
    {"pruner", S_CHOICE(pruner, PRUNER_NAMES)},
    {"pruner_startup", S_INT(pruner_startup, 0, 100000)},
    {"warmup_epochs", S_INT(warmup_epochs, 0, 100000)},
    {"min_resource", S_INT(min_resource, 1, 100000)},
    {"reduction_factor", S_INT(reduction_factor, 2, 100)},
    {"seed", SET_SEED, AT(seed), 0, NULL, 0, 0},
    {NULL},
};
#undef AT

static int unknown_setting(const clae_ini_entry *e, const char *where, clae_err *err)
{
    char keys[400] = "";
    for (const setting *d = SETTINGS; d->key; d++) {
        size_t len = strlen(keys);
        snprintf(keys + len, sizeof keys - len, "%s, ", d->key);
    }
    return clae_fail(err,
                     "%s: unknown key '%s' in [sweep]; expected %sor section.key = a "
                     "distribution",
                     where, e->key, keys);
}

static int set_setting(clae_sweep_spec *s, const clae_ini_entry *e, const char *where,
                       clae_err *err)
{
    const setting *d = SETTINGS;
    while (d->key && strcmp(d->key, e->key) != 0) d++;
    if (!d->key) return unknown_setting(e, where, err);
    char *field = (char *)s + d->offset;
    double v;
    int k;
    switch (d->kind) {
    case SET_STR:
        if (strlen(e->value) >= d->size)
            return clae_fail(err, "%s: %s: longer than %zu characters", where, d->key, d->size - 1);
        snprintf(field, d->size, "%s", e->value);
        return 0;
    case SET_INT:
        if (!number(e->value, &v) || v != floor(v) || v < d->lo || v > d->hi)
            return clae_fail(err, "%s: %s: expected a whole number from %g to %g", where, d->key,
                             d->lo, d->hi);
        *(int *)field = (int)v;
        return 0;
    case SET_CHOICE:
        if ((k = choice_of(e->value, d->names, 3)) < 0)
            return clae_fail(err, "%s: %s: expected %s, %s or %s", where, d->key, d->names[0],
                             d->names[1], d->names[2]);
        *(int *)field = k;
        return 0;
    case SET_SEED:
        if (!number(e->value, &v) || v < 0 || v != floor(v) || v > 1e15)
            return clae_fail(err, "%s: seed: expected a whole number", where);
        *(uint64_t *)field = (uint64_t)v;
        return 0;
    case SET_DIRECTION:
        if ((k = choice_of(e->value, DIRECTIONS, 2)) < 0)
            return clae_fail(err, "%s: direction: expected minimize or maximize", where);
        *(bool *)field = k == 1;
        return 0;
    }
    return -1;
}

static void defaults(clae_sweep_spec *s, const char *path)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    snprintf(s->out_dir, sizeof s->out_dir, "runs/sweeps");
    snprintf(s->metric, sizeof s->metric, "val_loss");
    s->trials = 20, s->sampler = CLAE_SAMPLER_TPE, s->startup_trials = 10, s->candidates = 24;
    s->pruner = CLAE_PRUNER_NONE, s->pruner_startup = 5, s->min_resource = 1;
    s->reduction_factor = 3, s->seed = 1;
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    snprintf(s->name, sizeof s->name, "%.*s", (int)strcspn(base, "."), base);
}

static int read_entries(clae_sweep_spec *s, const clae_ini_doc *doc, clae_err *err)
{
    for (int i = 0; i < doc->n_entries; i++) {
        const clae_ini_entry *e = &doc->entries[i];
        char where[700];
        snprintf(where, sizeof where, "%s:%d", doc->path, e->line);
        bool fixed = strcmp(e->section, "fixed") == 0;
        if (!fixed && strcmp(e->section, "sweep") != 0)
            return clae_fail(err, "%s: unknown section [%s]; a sweep file has [sweep] and [fixed]",
                             where, e->section);
        if (fixed) {
            if (s->n_sets == CLAE_SWEEP_MAX_SETS)
                return clae_fail(err, "%s: at most %d fixed keys", where, CLAE_SWEEP_MAX_SETS);
            snprintf(s->sets[s->n_sets++], sizeof s->sets[0], "%s=%s", e->key, e->value);
        } else if (strchr(e->key, '.')) {
            if (s->n_params == CLAE_SWEEP_MAX_PARAMS)
                return clae_fail(err, "%s: at most %d keys vary", where, CLAE_SWEEP_MAX_PARAMS);
            clae_sweep_param *p = &s->params[s->n_params++];
            p->line = e->line;
            char at[900];
            snprintf(at, sizeof at, "%s: %s", where, e->key);
            if (parse_param(p, e->key, e->value, at, err)) return -1;
        } else if (set_setting(s, e, where, err)) {
            return -1;
        }
    }
    return 0;
}

/* The base config path relative to the sweep file's folder. */
static void resolve_config(clae_sweep_spec *s)
{
    const char *slash = strrchr(s->path, '/');
    if (s->config[0] == '/' || !slash) return;
    char joined[1100];
    snprintf(joined, sizeof joined, "%.*s/%s", (int)(slash - s->path), s->path, s->config);
    snprintf(s->config, sizeof s->config, "%s", joined);
}

/* Each varying key at its low value (or first choice) against the base config. */
static int check_keys(const clae_sweep_spec *s, clae_err *err)
{
    char *sets[CLAE_SWEEP_MAX_SETS + 1], one[300];
    for (int i = 0; i < s->n_sets; i++) sets[i] = (char *)s->sets[i];
    clae_config c;
    for (int k = -1; k < s->n_params; k++) {
        int n = s->n_sets;
        if (k >= 0) {
            char text[128];
            clae_sweep_value_text(&s->params[k],
                                  s->params[k].dist == CLAE_DIST_CHOICE ? 0 : s->params[k].lo, text,
                                  sizeof text);
            snprintf(one, sizeof one, "%s=%s", s->params[k].key, text);
            sets[n++] = one;
        }
        clae_err e2;
        if (clae_config_load(&c, s->config, sets, n, &e2) == 0) {
            clae_config_free(&c);
            continue;
        }
        if (k < 0) return clae_fail(err, "%s: the base config or [fixed]: %s", s->path, e2.msg);
        return clae_fail(err, "%s:%d: %s: %s", s->path, s->params[k].line, s->params[k].key,
                         e2.msg);
    }
    return 0;
}

int clae_sweep_load(clae_sweep_spec *s, const char *path, clae_err *err)
{
    defaults(s, path);
    clae_ini_doc doc;
    if (clae_ini_read(&doc, path, err)) return -1;
    int rc = read_entries(s, &doc, err);
    clae_ini_free(&doc);
    if (rc) return -1;
    if (!s->config[0]) return clae_fail(err, "%s: [sweep] needs config = the base config", path);
    if (s->n_params == 0)
        return clae_fail(err, "%s: [sweep] varies no key: add section.key = choice(...) etc.",
                         path);
    if (!s->name[0] || strchr(s->name, '/'))
        return clae_fail(err, "%s: name: expected a folder name without '/'", path);
    resolve_config(s);
    if (s->sampler == CLAE_SAMPLER_GRID)
        for (int k = 0; k < s->n_params; k++)
            if (s->params[k].dist == CLAE_DIST_UNIFORM || s->params[k].dist == CLAE_DIST_LOGUNIFORM)
                return clae_fail(err, "%s:%d: %s: a grid takes choice() and int() keys only", path,
                                 s->params[k].line, s->params[k].key);
    return check_keys(s, err);
}

static long values_of(const clae_sweep_param *p)
{
    return p->dist == CLAE_DIST_CHOICE ? p->n_choices
                                       : (long)floor((p->hi - p->lo) / p->step + 1e-9) + 1;
}

long clae_sweep_grid_size(const clae_sweep_spec *s)
{
    long n = 1;
    for (int k = 0; k < s->n_params && n < 100000000; k++) n *= values_of(&s->params[k]);
    return n;
}

/* Grid point id: mixed radix over the keys, the last key fastest. */
void clae_sweep_grid_point(const clae_sweep_spec *s, long id, double *x)
{
    for (int k = s->n_params - 1; k >= 0; k--) {
        const clae_sweep_param *p = &s->params[k];
        long n = values_of(p), i = id % n;
        id /= n;
        x[k] = p->dist == CLAE_DIST_CHOICE ? (double)i : p->lo + (double)i * p->step;
    }
}
