/* INI -> typed config. Each fixed section is one table: key, type, where it
 * lives, default, range, doc. The same table parses, validates, writes the
 * resolved config and prints `clae keys`, so they cannot drift apart. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clae/config.h"

typedef enum { KT_INT, KT_FLOAT, KT_BOOL, KT_STR, KT_CHOICE } key_type;

typedef struct {
    const char *key;
    key_type type;
    size_t offset;       /* into the section struct */
    size_t size;         /* KT_STR: buffer size */
    const char *def;     /* default, parsed like a value */
    double min, max;     /* KT_INT, KT_FLOAT */
    const char *choices; /* KT_CHOICE: "a|b|c", stored as the index */
    const char *doc;
} key_def;

#define FMNIST "/usr/share/datasets/fashion-mnist/"
#define STR(s, f) KT_STR, offsetof(s, f), sizeof(((s *)0)->f)
#define NUM(t, s, f) t, offsetof(s, f), 0

static const key_def model_keys[] = {
    {"name", STR(clae_model_cfg, name), "model", 0, 0, NULL, "run name; the run directory is out_dir/name"},
    {0},
};

static const key_def data_keys[] = {
    {"train_images", STR(clae_data_cfg, train_images), FMNIST "train-images-idx3-ubyte.gz", 0, 0, NULL,
     "IDX (or .idx.gz) training images, u8, (N,H,W) or (N,C,H,W)"},
    {"train_labels", STR(clae_data_cfg, train_labels), FMNIST "train-labels-idx1-ubyte.gz", 0, 0, NULL,
     "IDX training labels (optional: empty for none)"},
    {"test_images", STR(clae_data_cfg, test_images), FMNIST "t10k-images-idx3-ubyte.gz", 0, 0, NULL,
     "IDX test images"},
    {"test_labels", STR(clae_data_cfg, test_labels), FMNIST "t10k-labels-idx1-ubyte.gz", 0, 0, NULL,
     "IDX test labels (optional)"},
    {"val_fraction", NUM(KT_FLOAT, clae_data_cfg, val_fraction), "0.1", 0, 0.9, NULL,
     "fraction of the training file held out for validation (seeded shuffle)"},
    {"train_limit", NUM(KT_INT, clae_data_cfg, train_limit), "0", 0, 1e9, NULL,
     "use only the first N training images (0 = all)"},
    {"test_limit", NUM(KT_INT, clae_data_cfg, test_limit), "0", 0, 1e9, NULL,
     "use only the first N test images (0 = all)"},
    {0},
};

static const key_def train_keys[] = {
    {"epochs", NUM(KT_INT, clae_train_cfg, epochs), "5", 1, 1e6, NULL, "passes over the training split"},
    {"batch_size", NUM(KT_INT, clae_train_cfg, batch_size), "64", 1, 65536, NULL, "samples per step"},
    {"optimizer", NUM(KT_CHOICE, clae_train_cfg, optimizer), "adamw", 0, 0, "sgd|adam|adamw",
     "sgd (momentum), adam (L2 decay) or adamw (decoupled decay), as torch.optim"},
    {"lr", NUM(KT_FLOAT, clae_train_cfg, lr), "1e-3", 0, 10, NULL, "learning rate"},
    {"weight_decay", NUM(KT_FLOAT, clae_train_cfg, weight_decay), "0.01", 0, 1, NULL,
     "L2 (sgd, adam) or decoupled (adamw) weight decay"},
    {"momentum", NUM(KT_FLOAT, clae_train_cfg, momentum), "0.9", 0, 0.999999, NULL, "sgd momentum"},
    {"dampening", NUM(KT_FLOAT, clae_train_cfg, dampening), "0", 0, 1, NULL, "sgd dampening"},
    {"nesterov", NUM(KT_BOOL, clae_train_cfg, nesterov), "false", 0, 0, NULL, "sgd Nesterov momentum"},
    {"beta1", NUM(KT_FLOAT, clae_train_cfg, beta1), "0.9", 0, 0.999999, NULL, "adam/adamw first-moment decay"},
    {"beta2", NUM(KT_FLOAT, clae_train_cfg, beta2), "0.999", 0, 0.999999999, NULL,
     "adam/adamw second-moment decay"},
    {"eps", NUM(KT_FLOAT, clae_train_cfg, eps), "1e-8", 1e-30, 1, NULL, "adam/adamw denominator epsilon"},
    {"loss", NUM(KT_CHOICE, clae_train_cfg, loss), "mse", 0, 0, "mse|bce",
     "reconstruction loss, mean over all values (bce clamps log at -100 as PyTorch)"},
    {"seed", NUM(KT_INT, clae_train_cfg, seed), "1", 0, 2147483647, NULL,
     "fixes init, split and shuffling: same config + device = same numbers"},
    {"log_every", NUM(KT_INT, clae_train_cfg, log_every), "100", 1, 1e9, NULL,
     "steps between loss reads (the only device->host sync in training)"},
    {"grid", NUM(KT_INT, clae_train_cfg, grid), "8", 1, 64, NULL, "test images in the reconstruction grid"},
    {"out_dir", STR(clae_train_cfg, out_dir), "runs", 0, 0, NULL, "parent folder of run directories"},
    {0},
};

/* Layer sections: keys and the layer types they apply to. */
enum { T_DENSE = 1, T_RELU = 2, T_LEAKY = 4, T_SIGMOID = 8, T_TANH = 16 };
static const char *const layer_types = "dense|relu|leaky_relu|sigmoid|tanh";
static const char *const act_choices = "none|relu|leaky_relu|sigmoid|tanh";
static const struct {
    const char *key;
    int applies;
    const char *doc;
} layer_keys[] = {
    {"type", 31, "dense | relu | leaky_relu | sigmoid | tanh (required)"},
    {"units", T_DENSE, "output features of a dense layer (required)"},
    {"activation", T_DENSE, "none | relu | leaky_relu | sigmoid | tanh applied after a dense layer (default none)"},
    {"bias", T_DENSE, "learn a bias (default true)"},
    {"slope", T_DENSE | T_LEAKY, "leaky_relu negative slope >= 0 (default 0.01)"},
};
#define N_LAYER_KEYS (sizeof layer_keys / sizeof layer_keys[0])

static const char *const fixed_sections[] = {"model", "data", "train", NULL};

/* ---- value parsing ------------------------------------------------------ */

static void where(const clae_ini_doc *doc, const clae_ini_entry *e, char *buf, size_t n)
{
    if (e && e->line > 0) snprintf(buf, n, "%s:%d: [%s] %s = %s", doc->path, e->line, e->section, e->key, e->value);
    else if (e) snprintf(buf, n, "--set %s.%s=%s", e->section, e->key, e->value);
    else snprintf(buf, n, "%s", doc->path);
}

static int choice_index(const char *choices, const char *value)
{
    int idx = 0;
    size_t vl = strlen(value);
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == vl && strncasecmp(p, value, len) == 0) return idx;
        p += len + (bar ? 1 : 0);
    }
    return -1;
}

static const char *choice_name(const char *choices, int index, char *buf, size_t n)
{
    const char *p = choices;
    for (int i = 0; i < index && p; i++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    if (!p) return "?";
    size_t len = strchr(p, '|') ? (size_t)(strchr(p, '|') - p) : strlen(p);
    snprintf(buf, n, "%.*s", (int)len, p);
    return buf;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = true, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = false, 0;
    }
    return -1;
}

static int parse_number(const char *v, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(v, &end);
    if (end == v || errno == ERANGE || !isfinite(*out)) return -1;
    while (*end == ' ' || *end == '\t') end++;
    return *end ? -1 : 0;
}

/* Parses value into the field of def; on error fills err with what is expected. */
static int set_value(const key_def *def, void *base, const char *value, const char *loc, clae_err *err)
{
    char *field = (char *)base + def->offset;
    double x;
    switch (def->type) {
    case KT_STR:
        if (strlen(value) >= def->size)
            return clae_fail(err, "%s: value longer than %zu characters", loc, def->size - 1);
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case KT_BOOL:
        if (parse_bool(value, (bool *)field)) return clae_fail(err, "%s: expected true or false", loc);
        return 0;
    case KT_CHOICE: {
        int idx = choice_index(def->choices, value);
        if (idx < 0) return clae_fail(err, "%s: expected one of %s", loc, def->choices);
        *(int *)field = idx;
        return 0;
    }
    case KT_INT:
        if (parse_number(value, &x) || x != floor(x))
            return clae_fail(err, "%s: expected an integer in [%.0f, %.0f]", loc, def->min, def->max);
        if (x < def->min || x > def->max)
            return clae_fail(err, "%s: out of range: expected an integer in [%.0f, %.0f]", loc, def->min, def->max);
        *(int *)field = (int)x;
        return 0;
    case KT_FLOAT:
        if (parse_number(value, &x)) return clae_fail(err, "%s: expected a number in [%g, %g]", loc, def->min, def->max);
        if (x < def->min || x > def->max)
            return clae_fail(err, "%s: out of range: expected a number in [%g, %g]", loc, def->min, def->max);
        *(double *)field = x;
        return 0;
    }
    return -1;
}

static void key_list(const key_def *defs, char *buf, size_t n)
{
    buf[0] = 0;
    for (const key_def *d = defs; d->key; d++) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s", d == defs ? "" : ", ", d->key);
    }
}

/* Defaults first, then the document's entries for this section. */
static int load_section(clae_ini_doc *doc, const char *section, const key_def *defs, void *base, clae_err *err)
{
    for (const key_def *d = defs; d->key; d++)
        if (set_value(d, base, d->def, "built-in default", err)) return -1;
    for (int i = 0; i < doc->n_entries; i++) {
        clae_ini_entry *e = &doc->entries[i];
        if (strcmp(e->section, section) != 0) continue;
        e->used = true;
        char loc[700];
        where(doc, e, loc, sizeof loc);
        const key_def *d = defs;
        while (d->key && strcmp(d->key, e->key) != 0) d++;
        if (!d->key) {
            char keys[600];
            key_list(defs, keys, sizeof keys);
            return clae_fail(err, "%s: unknown key '%s' in [%s]; expected one of: %s", loc, e->key, section, keys);
        }
        if (set_value(d, base, e->value, loc, err)) return -1;
    }
    return 0;
}

/* ---- layer sections ----------------------------------------------------- */

static int layer_role(const char *section, clae_role *role)
{
    static const struct { const char *prefix; clae_role role; } roles[] = {
        {"encoder.", CLAE_ROLE_ENCODER}, {"latent.", CLAE_ROLE_LATENT}, {"decoder.", CLAE_ROLE_DECODER}};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(roles[i].prefix);
        if (strncmp(section, roles[i].prefix, n) == 0 && section[n]) {
            *role = roles[i].role;
            return 0;
        }
    }
    return -1;
}

static const clae_ini_entry *section_value(clae_ini_doc *doc, const char *section, const char *key)
{
    for (int i = 0; i < doc->n_entries; i++)
        if (strcmp(doc->entries[i].section, section) == 0 && strcmp(doc->entries[i].key, key) == 0)
            return &doc->entries[i];
    return NULL;
}

static int layer_value(clae_ini_doc *doc, clae_layer_spec *s, int type_bit, clae_ini_entry *e, clae_err *err)
{
    char loc[700], name[32];
    where(doc, e, loc, sizeof loc);
    size_t k = 0;
    while (k < N_LAYER_KEYS && strcmp(layer_keys[k].key, e->key) != 0) k++;
    if (k == N_LAYER_KEYS || !(layer_keys[k].applies & type_bit)) {
        char keys[300] = "";
        for (size_t j = 0; j < N_LAYER_KEYS; j++)
            if (layer_keys[j].applies & type_bit) {
                size_t len = strlen(keys);
                snprintf(keys + len, sizeof keys - len, "%s%s", len ? ", " : "", layer_keys[j].key);
            }
        return clae_fail(err, "%s: unknown key '%s' for a %s layer; expected one of: %s", loc, e->key,
                         choice_name(layer_types, __builtin_ctz((unsigned)type_bit), name, sizeof name), keys);
    }
    double x;
    bool b;
    int idx;
    if (strcmp(e->key, "units") == 0) {
        if (parse_number(e->value, &x) || x != floor(x) || x < 1 || x > 1e7)
            return clae_fail(err, "%s: expected a positive integer", loc);
        s->units = (int)x;
    } else if (strcmp(e->key, "activation") == 0) {
        if ((idx = choice_index(act_choices, e->value)) < 0)
            return clae_fail(err, "%s: expected one of %s", loc, act_choices);
        s->act = (clae_act)idx;
    } else if (strcmp(e->key, "bias") == 0) {
        if (parse_bool(e->value, &b)) return clae_fail(err, "%s: expected true or false", loc);
        s->bias = b;
    } else if (strcmp(e->key, "slope") == 0) {
        if (parse_number(e->value, &x) || x < 0 || x > 1)
            return clae_fail(err, "%s: expected a number in [0, 1]", loc);
        s->slope = (float)x;
    }
    return 0;
}

static int load_layer(clae_ini_doc *doc, const clae_ini_section *sec, clae_role role, clae_layer_spec *s,
                      clae_err *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->section, sizeof s->section, "%s", sec->name);
    snprintf(s->file, sizeof s->file, "%s", doc->path);
    s->line = sec->line;
    s->role = role;
    s->bias = true;
    s->slope = 0.01f;
    const clae_ini_entry *te = section_value(doc, sec->name, "type");
    if (!te)
        return clae_fail(err, "%s:%d: [%s] has no 'type'; expected one of %s", doc->path, sec->line, sec->name,
                         layer_types);
    int t = choice_index(layer_types, te->value);
    if (t < 0) {
        char loc[700];
        where(doc, te, loc, sizeof loc);
        return clae_fail(err, "%s: unknown layer type; expected one of %s", loc, layer_types);
    }
    s->type = t == 0 ? CLAE_LAYER_DENSE : CLAE_LAYER_ACT;
    if (t > 0) s->act = (clae_act)t; /* act codes follow the same order */
    for (int i = 0; i < doc->n_entries; i++) {
        clae_ini_entry *e = &doc->entries[i];
        if (strcmp(e->section, sec->name) != 0) continue;
        e->used = true;
        if (strcmp(e->key, "type") != 0 && layer_value(doc, s, 1 << t, e, err)) return -1;
    }
    if (s->type == CLAE_LAYER_DENSE && s->units <= 0)
        return clae_fail(err, "%s:%d: [%s] a dense layer needs 'units' (its output features)", doc->path, sec->line,
                         sec->name);
    return 0;
}

static int load_layers(clae_config *c, clae_ini_doc *doc, clae_err *err)
{
    c->layers = calloc((size_t)(doc->n_sections ? doc->n_sections : 1), sizeof *c->layers);
    if (!c->layers) return clae_fail(err, "out of host memory");
    for (int i = 0; i < doc->n_sections; i++) {
        const clae_ini_section *sec = &doc->sections[i];
        bool fixed = false;
        for (int k = 0; fixed_sections[k]; k++) fixed |= strcmp(sec->name, fixed_sections[k]) == 0;
        if (fixed) continue;
        clae_role role;
        if (layer_role(sec->name, &role))
            return clae_fail(err, "%s:%d: unknown section [%s]; expected [model], [data], [train] or a layer "
                                  "[encoder.NAME], [latent.NAME], [decoder.NAME]",
                             doc->path, sec->line, sec->name);
        if (load_layer(doc, sec, role, &c->layers[c->n_layers++], err)) return -1;
    }
    return 0;
}

/* ---- public ------------------------------------------------------------- */

static int check_all_used(const clae_ini_doc *doc, clae_err *err)
{
    for (int i = 0; i < doc->n_entries; i++)
        if (!doc->entries[i].used) {
            char loc[700];
            where(doc, &doc->entries[i], loc, sizeof loc);
            return clae_fail(err, "%s: unknown section [%s]; expected [model], [data], [train] or a layer section",
                             loc, doc->entries[i].section);
        }
    return 0;
}

int clae_config_load(clae_config *c, const char *path, char *const *sets, int n_sets, clae_err *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    clae_ini_doc doc;
    int rc = -1;
    if (clae_ini_read(&doc, path, err)) goto done;
    for (int i = 0; i < n_sets; i++)
        if (clae_ini_override(&doc, sets[i], fixed_sections, err)) goto done;
    if (load_section(&doc, "model", model_keys, &c->model, err) ||
        load_section(&doc, "data", data_keys, &c->data, err) ||
        load_section(&doc, "train", train_keys, &c->train, err) || load_layers(c, &doc, err) ||
        check_all_used(&doc, err))
        goto done;
    if (c->n_layers == 0) {
        clae_fail(err, "%s: no layer sections: add [encoder.NAME], [latent.NAME] and [decoder.NAME] sections", path);
        goto done;
    }
    rc = 0;
done:
    clae_ini_free(&doc);
    if (rc) clae_config_free(c);
    return rc;
}

void clae_config_free(clae_config *c)
{
    free(c->layers);
    c->layers = NULL;
    c->n_layers = 0;
}

static void write_value(FILE *f, const key_def *d, const void *base)
{
    const char *field = (const char *)base + d->offset;
    char name[64];
    switch (d->type) {
    case KT_STR: fprintf(f, "%s", field); break;
    case KT_BOOL: fprintf(f, "%s", *(const bool *)field ? "true" : "false"); break;
    case KT_CHOICE: fprintf(f, "%s", choice_name(d->choices, *(const int *)field, name, sizeof name)); break;
    case KT_INT: fprintf(f, "%d", *(const int *)field); break;
    case KT_FLOAT: fprintf(f, "%.9g", *(const double *)field); break;
    }
}

static void write_section(FILE *f, const char *name, const key_def *defs, const void *base)
{
    fprintf(f, "[%s]\n", name);
    for (const key_def *d = defs; d->key; d++) {
        fprintf(f, "%s = ", d->key);
        write_value(f, d, base);
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

int clae_config_write(const clae_config *c, FILE *f)
{
    fprintf(f, "; resolved config: every key with its value in effect (from %s)\n\n", c->path);
    write_section(f, "model", model_keys, &c->model);
    write_section(f, "data", data_keys, &c->data);
    write_section(f, "train", train_keys, &c->train);
    for (int i = 0; i < c->n_layers; i++) {
        const clae_layer_spec *s = &c->layers[i];
        if (s->type == CLAE_LAYER_DENSE)
            fprintf(f, "[%s]\ntype = dense\nunits = %d\nactivation = %s\nbias = %s\nslope = %.9g\n\n", s->section,
                    s->units, clae_act_name(s->act), s->bias ? "true" : "false", s->slope);
        else if (s->act == CLAE_ACT_LEAKY_RELU)
            fprintf(f, "[%s]\ntype = leaky_relu\nslope = %.9g\n\n", s->section, s->slope);
        else fprintf(f, "[%s]\ntype = %s\n\n", s->section, clae_act_name(s->act));
    }
    return ferror(f) ? -1 : 0;
}

static void print_table(FILE *f, const char *name, const key_def *defs)
{
    fprintf(f, "[%s]\n", name);
    for (const key_def *d = defs; d->key; d++)
        fprintf(f, "  %-13s default %-12s %s%s%s\n", d->key, *d->def ? d->def : "\"\"", d->doc,
                d->choices ? "; one of " : "", d->choices ? d->choices : "");
}

void clae_config_print_keys(FILE *f)
{
    print_table(f, "model", model_keys);
    print_table(f, "data", data_keys);
    print_table(f, "train", train_keys);
    fprintf(f, "[encoder.NAME] [latent.NAME] [decoder.NAME]  one section per layer, in order\n");
    for (size_t k = 0; k < N_LAYER_KEYS; k++) fprintf(f, "  %-13s %s\n", layer_keys[k].key, layer_keys[k].doc);
}

clae_optim_cfg clae_config_optim(const clae_config *c)
{
    const clae_train_cfg *t = &c->train;
    return (clae_optim_cfg){.kind = (clae_optim_kind)t->optimizer,
                            .lr = t->lr,
                            .weight_decay = t->weight_decay,
                            .momentum = t->momentum,
                            .dampening = t->dampening,
                            .nesterov = t->nesterov,
                            .beta1 = t->beta1,
                            .beta2 = t->beta2,
                            .eps = t->eps};
}
