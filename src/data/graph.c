/* Graph files: the edge list, node features and labels (clae/graph.h). Node
 * ids are strings numbered in order of first appearance; the edge list is
 * made undirected, self-loops dropped and duplicates merged (both counted). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/afile.h"
#include "clae/graph.h"

#define GRAPH_MAX_LINE (16 << 20) /* bytes: a feature row of a few million values */
#define GRAPH_MAX_ID 255
#define GRAPH_MAX_NODES (1u << 30)

/* ---- node ids: open addressing over strings ---- */
typedef struct {
    char **names;
    uint32_t n, cap_names;
    uint32_t *slots; /* index + 1, 0 empty */
    size_t n_slots;
} id_table;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
    return h;
}

static int ids_grow(id_table *t)
{
    size_t n = t->n_slots ? t->n_slots * 2 : 1024;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s) return -1;
    for (uint32_t i = 0; i < t->n; i++) {
        size_t h = hash_str(t->names[i]) & (n - 1);
        while (s[h]) h = (h + 1) & (n - 1);
        s[h] = i + 1;
    }
    free(t->slots);
    t->slots = s;
    t->n_slots = n;
    return 0;
}

/* The node of id, added when add and new; -1 when absent, -2 out of memory. */
static int64_t ids_find(id_table *t, const char *id, bool add)
{
    if (add && (size_t)(t->n + 1) * 2 > t->n_slots && ids_grow(t)) return -2;
    if (!t->n_slots) return -1;
    size_t h = hash_str(id) & (t->n_slots - 1);
    for (; t->slots[h]; h = (h + 1) & (t->n_slots - 1))
        if (strcmp(t->names[t->slots[h] - 1], id) == 0) return t->slots[h] - 1;
    if (!add) return -1;
    if (t->n == t->cap_names) {
        uint32_t c = t->cap_names ? t->cap_names * 2 : 1024;
        char **p = realloc(t->names, (size_t)c * sizeof *p);
        if (!p) return -2;
        t->names = p, t->cap_names = c;
    }
    if (!(t->names[t->n] = strdup(id))) return -2;
    t->slots[h] = ++t->n;
    return t->n - 1;
}

/* ---- edge set: open addressing over (min, max) pairs, at most half full ---- */
struct clae_edge_set {
    uint64_t *keys; /* (a << 32 | b) + 1, 0 empty */
    size_t mask, n;
};

static uint64_t pair_key(uint32_t a, uint32_t b)
{
    return a < b ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
}

static size_t mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    return (size_t)k;
}

static void set_place(uint64_t *keys, size_t mask, uint64_t stored)
{
    size_t h = mix64(stored - 1) & mask;
    while (keys[h]) h = (h + 1) & mask;
    keys[h] = stored;
}

static int set_grow(clae_edge_set *s)
{
    size_t n = (s->mask + 1) * 2;
    uint64_t *k = calloc(n, sizeof *k);
    if (!k) return -1;
    for (size_t i = 0; i <= s->mask; i++)
        if (s->keys[i]) set_place(k, n - 1, s->keys[i]);
    free(s->keys);
    s->keys = k;
    s->mask = n - 1;
    return 0;
}

int clae_edge_set_add(clae_edge_set *s, uint32_t a, uint32_t b)
{
    if ((s->n + 1) * 2 > s->mask + 1 && set_grow(s)) return -1;
    uint64_t stored = pair_key(a, b) + 1;
    size_t h = mix64(stored - 1) & s->mask;
    for (; s->keys[h]; h = (h + 1) & s->mask)
        if (s->keys[h] == stored) return 0;
    s->keys[h] = stored;
    s->n++;
    return 1;
}

int clae_edge_set_create(clae_edge_set **out, const uint32_t *u, const uint32_t *v, uint32_t m,
                         clae_err *err)
{
    clae_edge_set *s = calloc(1, sizeof *s);
    size_t n = 1024;
    while (n < 2 * (size_t)m + 16) n *= 2;
    if (!s || !(s->keys = calloc(n, sizeof *s->keys))) {
        free(s);
        return clae_fail(err, "out of host memory for %u edges", m);
    }
    s->mask = n - 1;
    for (uint32_t k = 0; k < m; k++) clae_edge_set_add(s, u[k], v[k]); /* never grows */
    *out = s;
    return 0;
}

bool clae_edge_set_has(const clae_edge_set *s, uint32_t a, uint32_t b)
{
    uint64_t stored = pair_key(a, b) + 1;
    for (size_t h = mix64(stored - 1) & s->mask; s->keys[h]; h = (h + 1) & s->mask)
        if (s->keys[h] == stored) return true;
    return false;
}

void clae_edge_set_free(clae_edge_set *s)
{
    if (s) free(s->keys);
    free(s);
}

/* ---- reading ---- */
typedef struct {
    FILE *f;
    const char *path;
    char *line;
    size_t cap;
    int lineno;
} line_reader;

/* The next line without its newline and comment (#...), trimmed; 1 at the end, -1 on error. */
static int next_line(line_reader *r, char **out, clae_err *err)
{
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n < 0) {
        if (ferror(r->f))
            return clae_fail(err, "%s: read error after line %d: %s", r->path, r->lineno,
                             strerror(errno));
        return 1;
    }
    r->lineno++;
    if (n > GRAPH_MAX_LINE)
        return clae_fail(err, "%s:%d: line longer than %d bytes", r->path, r->lineno,
                         GRAPH_MAX_LINE);
    if ((size_t)n != strlen(r->line))
        return clae_fail(err, "%s:%d: a NUL byte: expected text", r->path, r->lineno);
    char *s = r->line, *hash = strchr(s, '#');
    if (hash) *hash = 0;
    if (r->lineno == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        s += 3; /* a UTF-8 byte order mark */
    while (*s == ' ' || *s == '\t') s++;
    size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1])) s[--len] = 0;
    *out = s;
    return 0;
}

/* Splits s at whitespace or commas into at most max fields; the count found. */
static int split_fields(char *s, char **f, int max, bool commas_only)
{
    int n = 0;
    const char *sep = commas_only ? "," : " \t,";
    while (*s) {
        if (n == max) return max + 1;
        f[n++] = s;
        s += strcspn(s, sep);
        if (!*s) break;
        *s++ = 0;
        if (!commas_only) s += strspn(s, " \t,");
    }
    return n;
}

static int check_id(const char *id, const line_reader *r, clae_err *err)
{
    if (strlen(id) > GRAPH_MAX_ID)
        return clae_fail(err, "%s:%d: a node id longer than %d characters", r->path, r->lineno,
                         GRAPH_MAX_ID);
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        if (*p < 32 || *p == 127)
            return clae_fail(err, "%s:%d: a control byte in node id '%.40s'", r->path, r->lineno,
                             id);
    return 0;
}

static int64_t node_of(id_table *ids, const char *id, const line_reader *r, clae_err *err)
{
    if (check_id(id, r, err)) return -1;
    int64_t k = ids_find(ids, id, false);
    if (k >= 0) return k;
    if (ids->n >= GRAPH_MAX_NODES) /* a new one past the limit; known ids still read */
        return clae_fail(err, "%s:%d: more than %u nodes", r->path, r->lineno, GRAPH_MAX_NODES);
    k = ids_find(ids, id, true);
    if (k == -2) return clae_fail(err, "%s: out of host memory for node ids", r->path);
    return k;
}

typedef struct {
    uint32_t *u, *v;
    uint32_t n, cap;
} edge_list;

static int edges_push(edge_list *e, uint32_t a, uint32_t b)
{
    if (e->n == e->cap) {
        if (e->cap >= UINT32_MAX / 2) return -1;
        uint32_t c = e->cap ? e->cap * 2 : 4096;
        uint32_t *u = realloc(e->u, (size_t)c * sizeof *u);
        if (u) e->u = u;
        uint32_t *v = u ? realloc(e->v, (size_t)c * sizeof *v) : NULL;
        if (!v) return -1;
        e->v = v, e->cap = c;
    }
    e->u[e->n] = a < b ? a : b;
    e->v[e->n++] = a < b ? b : a;
    return 0;
}

static int read_edges(clae_graph *g, id_table *ids, edge_list *e, const char *path, clae_err *err)
{
    line_reader r = {.path = path};
    if (!(r.f = clae_open_input(path, "r", "edge list", 0, err))) return -1;
    clae_edge_set *seen = NULL;
    int rc = clae_edge_set_create(&seen, NULL, NULL, 0, err);
    char *s, *f[3];
    while (rc == 0 && (rc = next_line(&r, &s, err)) == 0) {
        if (!*s) continue;
        g->lines++;
        int n = split_fields(s, f, 2, false);
        if (n != 2) {
            rc = clae_fail(err,
                           "%s:%d: expected two node ids separated by whitespace or a comma, "
                           "found %s",
                           path, r.lineno, n < 2 ? "one" : "more than two fields");
            break;
        }
        int64_t a = node_of(ids, f[0], &r, err), b = a < 0 ? -1 : node_of(ids, f[1], &r, err);
        if (a < 0 || b < 0) {
            rc = -1;
            break;
        }
        if (a == b) {
            g->self_loops++;
            continue;
        }
        int added = clae_edge_set_add(seen, (uint32_t)a, (uint32_t)b);
        if (added < 0) {
            rc = clae_fail(err, "%s: out of host memory for the edges", path);
            break;
        }
        if (!added) {
            g->duplicates++;
            continue;
        }
        if (edges_push(e, (uint32_t)a, (uint32_t)b))
            rc = clae_fail(err, "%s: too many edges", path);
    }
    clae_edge_set_free(seen);
    fclose(r.f);
    free(r.line);
    if (rc > 0) rc = 0;
    if (rc == 0 && e->n == 0)
        rc = clae_fail(err, "%s: no edges (%u lines, %u self-loops): expected lines 'id id'", path,
                       g->lines, g->self_loops);
    return rc;
}

static bool is_number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    while (*end == ' ') end++;
    return end != s && !*end && isfinite(*v) && (errno == 0 || fabs(*v) < 1);
}

/* Splits a CSV line into fields (grown as needed); the count, -1 out of memory. */
static int csv_fields(char *s, char ***f, int *cap)
{
    int n = 0;
    for (char *p = s;; n++) {
        if (n == *cap) {
            int c = *cap ? *cap * 2 : 64;
            char **t = realloc(*f, (size_t)c * sizeof *t);
            if (!t) return -1;
            *f = t, *cap = c;
        }
        char *comma = strchr(p, ',');
        (*f)[n] = p;
        while (*(*f)[n] == ' ') (*f)[n]++;
        if (!comma) return n + 1;
        *comma = 0;
        p = comma + 1;
    }
}

/* One features row into the table; 0, or -1 with err set. */
static int feature_row(clae_graph *g, id_table *ids, char **f, int n, const line_reader *r,
                       float **rows, uint32_t *cap, bool *have, clae_err *err)
{
    if (g->n_features == 0) g->n_features = (uint32_t)n - 1;
    if ((uint32_t)n - 1 != g->n_features)
        return clae_fail(err, "%s:%d: %d features, the first row had %u", r->path, r->lineno, n - 1,
                         g->n_features);
    int64_t k = node_of(ids, f[0], r, err);
    if (k < 0) return -1;
    if ((uint32_t)k >= *cap) {
        uint32_t c = *cap ? *cap : 1024;
        while (c <= (uint32_t)k) c *= 2;
        float *t = realloc(*rows, (size_t)c * g->n_features * sizeof *t);
        if (!t) return clae_fail(err, "%s: out of host memory for features", r->path);
        *rows = t, *cap = c;
    }
    if (have[k])
        return clae_fail(err, "%s:%d: node '%.60s' has a second features row", r->path, r->lineno,
                         f[0]);
    for (int j = 1; j < n; j++) {
        double v;
        if (!is_number(f[j], &v))
            return clae_fail(err, "%s:%d: column %d is %s: '%.40s'", r->path, r->lineno, j + 1,
                             *f[j] ? "not a number" : "empty", f[j]);
        (*rows)[(size_t)k * g->n_features + (size_t)j - 1] = (float)v;
    }
    have[k] = true;
    return 0;
}

static int read_features(clae_graph *g, id_table *ids, const char *path, clae_err *err)
{
    line_reader r = {.path = path};
    if (!(r.f = clae_open_input(path, "r", "features", 0, err))) return -1;
    uint32_t edge_nodes = ids->n, cap = 0;
    float *rows = NULL;
    size_t have_cap = (size_t)ids->n + 1024;
    bool *have = calloc(have_cap, 1); /* which nodes have their row */
    char **f = NULL, *s;
    int fcap = 0, rc = have ? 0 : clae_fail(err, "out of host memory");
    while (rc == 0 && (rc = next_line(&r, &s, err)) == 0) {
        if (!*s) continue;
        int n = csv_fields(s, &f, &fcap);
        double v;
        if (n < 0)
            rc = clae_fail(err, "%s: out of host memory", path);
        else if (n < 2)
            rc = clae_fail(err, "%s:%d: expected 'id,f1,...,fd', found one field", path, r.lineno);
        else if (g->n_features == 0 && !is_number(f[1], &v))
            continue; /* a header */
        if (rc == 0 && ids->n + 1 >= have_cap) {
            bool *t = realloc(have, have_cap * 2);
            if (!t)
                rc = clae_fail(err, "out of host memory");
            else
                memset(t + have_cap, 0, have_cap), have = t, have_cap *= 2;
        }
        if (rc == 0) rc = feature_row(g, ids, f, n, &r, &rows, &cap, have, err);
    }
    if (rc > 0) rc = 0;
    g->feature_only = ids->n - edge_nodes;
    for (uint32_t k = 0; rc == 0 && k < ids->n; k++)
        if (!have[k])
            rc = clae_fail(err, "%s: node '%.60s' of the graph has no features row", path,
                           ids->names[k]);
    if (rc == 0 && ids->n > cap) {
        float *t = realloc(rows, (size_t)ids->n * g->n_features * sizeof *t);
        if (t) rows = t;
    }
    g->features = rows;
    free(have);
    free(f);
    free(r.line);
    fclose(r.f);
    return rc;
}

static int label_of(clae_graph *g, const char *name, clae_err *err)
{
    for (int k = 0; k < g->n_classes; k++)
        if (strcmp(g->class_names[k], name) == 0) return k;
    if (g->n_classes == 256) return clae_fail(err, "more than 256 distinct labels");
    char **t = realloc(g->class_names, (size_t)(g->n_classes + 1) * sizeof *t);
    if (!t) return clae_fail(err, "out of host memory");
    g->class_names = t;
    if (!(t[g->n_classes] = strdup(name))) return clae_fail(err, "out of host memory");
    return g->n_classes++;
}

static int read_labels(clae_graph *g, id_table *ids, const char *path, clae_err *err)
{
    line_reader r = {.path = path};
    if (!(r.f = clae_open_input(path, "r", "labels", 0, err))) return -1;
    g->labels = malloc((size_t)ids->n * sizeof *g->labels + 1);
    int rc = g->labels ? 0 : clae_fail(err, "out of host memory");
    for (uint32_t k = 0; rc == 0 && k < ids->n; k++) g->labels[k] = -1;
    char *s, *f[3];
    bool first = true;
    while (rc == 0 && (rc = next_line(&r, &s, err)) == 0) {
        if (!*s) continue;
        int n = split_fields(s, f, 2, true);
        if (n != 2) {
            rc = clae_fail(err, "%s:%d: expected 'id,label'", path, r.lineno);
            break;
        }
        int64_t k = ids_find(ids, f[0], false);
        bool header = first && k < 0;
        first = false;
        if (header) continue;
        if (k < 0) {
            rc = clae_fail(err, "%s:%d: node '%.60s' is not in the graph", path, r.lineno, f[0]);
            break;
        }
        if (g->labels[k] >= 0) {
            rc = clae_fail(err, "%s:%d: node '%.60s' has a second label", path, r.lineno, f[0]);
            break;
        }
        int label = label_of(g, f[1], err);
        if (label < 0) {
            rc = clae_wrap(err, "%s:%d", path, r.lineno);
            break;
        }
        g->labels[k] = label;
    }
    free(r.line);
    fclose(r.f);
    return rc > 0 ? 0 : rc;
}

int clae_graph_load(clae_graph *g, const char *edges, const char *features, const char *labels,
                    clae_err *err)
{
    memset(g, 0, sizeof *g);
    id_table ids = {0};
    edge_list e = {0};
    int rc = read_edges(g, &ids, &e, edges, err);
    if (rc == 0 && features && *features) rc = read_features(g, &ids, features, err);
    if (rc == 0 && labels && *labels) rc = read_labels(g, &ids, labels, err);
    free(ids.slots);
    g->names = ids.names;
    g->n_nodes = ids.n;
    g->u = e.u, g->v = e.v, g->n_edges = e.n;
    if (rc) clae_graph_free(g);
    return rc;
}

void clae_graph_free(clae_graph *g)
{
    for (uint32_t k = 0; g->names && k < g->n_nodes; k++) free(g->names[k]);
    for (int k = 0; k < g->n_classes; k++) free(g->class_names[k]);
    free(g->names);
    free(g->class_names);
    free(g->u);
    free(g->v);
    free(g->features);
    free(g->labels);
    memset(g, 0, sizeof *g);
}
