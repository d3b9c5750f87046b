/* Datasets of PNG files: a folder (with an optional labels CSV) or the emoji
 * set prepared by scripts/prepare_data.sh (labels.tsv: file, name, category,
 * vendor). Images are decoded, composited and resized on one thread per core
 * and stored as bytes. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clae/afile.h"
#include "clae/data.h"
#include "clae/image.h"
#include "clae/parallel.h"

#define MAX_DECODE_THREADS 16

typedef struct {
    char **paths, **names;
    int *labels; /* -1: none */
    uint32_t n, cap;
} file_list;

static int list_add(file_list *l, const char *path, const char *name, int label)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 256;
        char **p = realloc(l->paths, cap * sizeof *p),
             **q = p ? realloc(l->names, cap * sizeof *q) : NULL;
        int *b = q ? realloc(l->labels, cap * sizeof *b) : NULL;
        if (p) l->paths = p;
        if (q) l->names = q;
        if (b) l->labels = b;
        if (!b) return -1;
        l->cap = cap;
    }
    l->paths[l->n] = strdup(path);
    l->names[l->n] = strdup(name);
    l->labels[l->n] = label;
    return (l->paths[l->n] && l->names[l->n++]) ? 0 : -1;
}

static void list_free(file_list *l)
{
    for (uint32_t i = 0; i < l->n; i++) free(l->paths[i]), free(l->names[i]);
    free(l->paths), free(l->names), free(l->labels);
}

int clae_image_file_sample(const char *path, const clae_image_opts *o, uint8_t *px, clae_err *err)
{
    bool bad = false;
    clae_image_opts strict = *o;
    strict.skip_bad = false;
    return clae_decode_image_file(path, &strict, px, &bad, err);
}

/* Decodes path into px (o->image, bytes). *bad: unreadable, which skip_bad
 * forgives; a resize failure is an error either way. */
int clae_decode_image_file(const char *path, const clae_image_opts *o, uint8_t *px, bool *bad,
                           clae_err *err)
{
    clae_image img, sized;
    if (clae_png_load(path, o->image.c, o->background, &img, err))
        return *bad = true, o->skip_bad ? 0 : -1;
    if (o->exact_size && (img.h != o->image.h || img.w != o->image.w)) {
        clae_fail(err, "%s: %dx%d pixels, but the model takes %dx%d (--resize resizes it as "
                       "the dataset does)",
                  path, img.w, img.h, o->image.w, o->image.h);
        clae_image_free(&img);
        return -1;
    }
    int rc = clae_image_resize(&img, o->image.h, o->image.w, &sized, err);
    clae_image_free(&img);
    if (rc) return -1;
    size_t n = (size_t)sized.c * sized.h * sized.w;
    for (size_t k = 0; k < n; k++)
        px[k] = (uint8_t)lrintf(255.0f * fminf(fmaxf(sized.px[k], 0.0f), 1.0f));
    clae_image_free(&sized);
    return 0;
}

/* One decoding thread's share: files first, first + step, ... into their own
 * slots. It stops at its first error, which is its lowest failing index, so
 * the lowest over all threads is the file a sequential load would name. */
typedef struct {
    uint32_t failed_at; /* UINT32_MAX: no error */
    clae_err err;
} decode_result;

typedef struct {
    const file_list *l;
    const clae_image_opts *o;
    uint8_t *pixels, *bad; /* slot i: file i */
    decode_result result[MAX_DECODE_THREADS];
} decode_job;

static void decode_share(void *arg, int share, int n_shares)
{
    decode_job *j = arg;
    decode_result *r = &j->result[share];
    size_t sample = clae_shape_sample((clae_shape){1, j->o->image.c, j->o->image.h, j->o->image.w});
    r->failed_at = UINT32_MAX;
    for (uint32_t i = (uint32_t)share; i < j->l->n; i += (uint32_t)n_shares) {
        bool bad = false;
        if (clae_decode_image_file(j->l->paths[i], j->o, j->pixels + (size_t)i * sample, &bad,
                                   &r->err)) {
            r->failed_at = i;
            break;
        }
        j->bad[i] = bad;
    }
}

/* Decodes every file on n_shares threads (PNG decoding and resizing are most
 * of a dataset's load time); an error is the lowest failing file's. */
static int decode_all(const file_list *l, const clae_image_opts *o, uint8_t *pixels, uint8_t *bad,
                      int n_shares, clae_err *err)
{
    decode_job job = {.l = l, .o = o, .pixels = pixels, .bad = bad};
    clae_parallel_shares(n_shares, decode_share, &job);
    const decode_result *first = NULL;
    for (int k = 0; k < n_shares; k++)
        if (job.result[k].failed_at != UINT32_MAX &&
            (!first || job.result[k].failed_at < first->failed_at))
            first = &job.result[k];
    if (first) *err = first->err;
    return first ? -1 : 0;
}

static int decode_threads(uint32_t n_files)
{
    int n = clae_host_threads();
    if (n > MAX_DECODE_THREADS) n = MAX_DECODE_THREADS;
    return n > (int)n_files ? (n_files ? (int)n_files : 1) : n;
}

/* Decodes every file of the list into d, in list order without the skipped
 * ones; names move into d. */
static int load_list(clae_dataset *d, file_list *l, const clae_image_opts *o, clae_err *err)
{
    memset(d, 0, sizeof *d);
    d->sample = (clae_shape){1, o->image.c, o->image.h, o->image.w};
    size_t sample = clae_shape_sample(d->sample);
    d->pixels = malloc((size_t)l->n * sample + 1);
    d->labels = malloc((size_t)l->n + 1);
    d->names = calloc((size_t)l->n + 1, sizeof *d->names);
    uint8_t *bad = calloc((size_t)l->n + 1, 1);
    if (!d->pixels || !d->labels || !d->names || !bad) {
        free(bad);
        return clae_fail(err, "out of host memory for %u images", l->n);
    }
    if (decode_all(l, o, d->pixels, bad, decode_threads(l->n), err)) {
        free(bad);
        return -1;
    }
    bool any_label = false;
    for (uint32_t i = 0; i < l->n; i++) {
        if (bad[i]) {
            d->skipped++;
            continue;
        }
        if (d->count != i)
            memmove(d->pixels + (size_t)d->count * sample, d->pixels + (size_t)i * sample, sample);
        d->labels[d->count] = (uint8_t)(l->labels[i] < 0 ? 0 : l->labels[i]);
        any_label |= l->labels[i] >= 0;
        d->unlisted += l->labels[i] < 0;
        d->names[d->count++] = l->names[i];
        l->names[i] = NULL;
    }
    free(bad);
    if (!any_label) {
        free(d->labels);
        d->labels = NULL;
        d->unlisted = 0; /* an unlabelled dataset, not unlisted images */
    }
    if (d->count == 0) return clae_fail(err, "no readable images (%u skipped)", d->skipped);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder's labels CSV, read once and sorted by file name. */
typedef struct {
    char *file;
    int label;
} file_label;

typedef struct {
    file_label *rows;
    size_t n;
} label_table;

static int cmp_file_label(const void *a, const void *b)
{
    return strcmp(((const file_label *)a)->file, ((const file_label *)b)->file);
}

static void labels_free(label_table *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->rows[i].file);
    free(t->rows);
    *t = (label_table){0};
}

/* Parses "file,label" line number lineno (newline stripped) into t. A first
 * line whose label is not a number is a header; blank lines are skipped. */
static int labels_add(label_table *t, size_t *cap, char *line, int lineno, const char *csv,
                      clae_err *err)
{
    char *comma = strrchr(line, ',');
    if (!*line) return 0;
    if (!comma) return clae_fail(err, "%s:%d: expected 'file,label'", csv, lineno);
    *comma = 0;
    char *end;
    long v = strtol(comma + 1, &end, 10);
    if (end == comma + 1 || *end || v < 0 || v > 255) {
        if (lineno == 1) return 0;
        return clae_fail(err, "%s:%d: label of %s is not an integer in [0, 255]", csv, lineno,
                         line);
    }
    if (t->n == *cap) {
        size_t grown = *cap ? 2 * *cap : 256;
        file_label *rows = realloc(t->rows, grown * sizeof *rows);
        if (!rows) return clae_fail(err, "out of host memory");
        t->rows = rows, *cap = grown;
    }
    t->rows[t->n] = (file_label){strdup(line), (int)v};
    return t->rows[t->n++].file ? 0 : clae_fail(err, "out of host memory");
}

static int labels_read(const char *csv, label_table *t, clae_err *err)
{
    *t = (label_table){0};
    if (!csv || !*csv) return 0;
    FILE *f = clae_open_input(csv, "r", "labels", 0, err);
    if (!f) return -1;
    char line[1024];
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        lineno++;
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            rc = clae_fail(err, "%s:%d: line longer than %zu characters", csv, lineno,
                           sizeof line - 2);
            break;
        }
        line[strcspn(line, "\r\n")] = 0;
        rc = labels_add(t, &cap, line, lineno, csv, err);
    }
    fclose(f);
    if (rc) return labels_free(t), -1;
    if (t->n == 0)
        return clae_fail(err,
                         "%s: no 'file,label' rows (%d line%s): list the images' labels or "
                         "leave data.labels empty",
                         csv, lineno, lineno == 1 ? "" : "s");
    if (t->n > 1) qsort(t->rows, t->n, sizeof *t->rows, cmp_file_label);
    for (size_t i = 1; i < t->n; i++)
        if (strcmp(t->rows[i].file, t->rows[i - 1].file) == 0 &&
            t->rows[i].label != t->rows[i - 1].label) {
            clae_fail(err, "%s: %s is listed with labels %d and %d", csv, t->rows[i].file,
                      t->rows[i - 1].label, t->rows[i].label);
            return labels_free(t), -1;
        }
    return 0;
}

/* The label of file, or -1 when the table does not list it. */
static int label_of(const label_table *t, const char *file)
{
    file_label key = {(char *)file, 0};
    const file_label *row = t->n ? bsearch(&key, t->rows, t->n, sizeof *t->rows, cmp_file_label)
                                 : NULL;
    return row ? row->label : -1;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* The .png files of dir, sorted by name. */
static int list_pngs(const char *dir, char ***out, size_t *count, clae_err *err)
{
    DIR *dp = opendir(dir);
    if (!dp) return clae_fail(err, "%s: cannot open folder: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    bool oom = false;
    for (struct dirent *e; !oom && (e = readdir(dp));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcasecmp(e->d_name + len - 4, ".png") != 0) continue;
        if (n == cap) {
            char **grown = realloc(names, (cap ? 2 * cap : 256) * sizeof *grown);
            if (!grown) {
                oom = true;
                break;
            }
            names = grown, cap = cap ? 2 * cap : 256;
        }
        oom = !(names[n] = strdup(e->d_name));
        n += !oom;
    }
    closedir(dp);
    if (oom)
        return free_names(names, n),
               clae_fail(err, "%s: out of host memory listing the folder", dir);
    if (n == 0) return free(names), clae_fail(err, "%s: no .png files", dir);
    qsort(names, n, sizeof *names, cmp_str);
    *out = names, *count = n;
    return 0;
}

int clae_dataset_load_folder(clae_dataset *d, const char *dir, const char *labels_csv,
                             const clae_image_opts *o, clae_err *err)
{
    memset(d, 0, sizeof *d); /* freed on any error below */
    file_list l = {0};
    char **names = NULL;
    size_t n = 0;
    label_table labels = {0};
    int rc = list_pngs(dir, &names, &n, err);
    if (rc == 0) rc = labels_read(labels_csv, &labels, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (list_add(&l, path, names[i], label_of(&labels, names[i])))
            rc = clae_fail(err, "out of host memory");
    }
    labels_free(&labels);
    free_names(names, n);
    if (rc == 0) rc = load_list(d, &l, o, err);
    list_free(&l);
    if (rc) clae_dataset_free(d);
    return rc;
}

static bool contains_word(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return true;
    return n == 0;
}

/* classes "happy: grinning smiling; sad: crying": the first class with a keyword in name, or -1. */
static int class_of(const char *classes, const char *name)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", classes);
    int index = 0;
    for (char *s1 = NULL, *cls = strtok_r(buf, ";", &s1); cls;
         cls = strtok_r(NULL, ";", &s1), index++) {
        char *colon = strchr(cls, ':');
        for (char *s2 = NULL, *kw = strtok_r(colon ? colon + 1 : cls, " ,", &s2); kw;
             kw = strtok_r(NULL, " ,", &s2))
            if (contains_word(name, kw)) return index;
    }
    return -1;
}

static int read_vendor(file_list *l, const char *dir, const char *vendor, const char *filter,
                       const char *classes, clae_err *err)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/emoji/%s/labels.tsv", dir, vendor);
    if (access(path, F_OK) != 0)
        return clae_fail(
            err,
            "%s: not found: prepare it with 'scripts/prepare_data.sh emoji --vendors %s --dir %s'",
            path, vendor, dir);
    FILE *f = clae_open_input(path, "r", "labels", 0, err);
    if (!f) return -1;
    char line[1024];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        char *save = NULL, *file = strtok_r(line, "\t\n", &save),
             *name = strtok_r(NULL, "\t\n", &save);
        if (!file || !name || strcmp(file, "file") == 0 || !contains_word(name, filter)) continue;
        int label = classes && *classes ? class_of(classes, name) : -1;
        if (classes && *classes && label < 0)
            continue; /* matches no class: dropped, as the seeds did */
        char img[2048], shown[1200];
        snprintf(img, sizeof img, "%s/emoji/%s/%s", dir, vendor, file);
        snprintf(shown, sizeof shown, "%s/%s (%s)", vendor, file, name);
        if (list_add(l, img, shown, label)) rc = clae_fail(err, "out of host memory");
    }
    fclose(f);
    return rc;
}

int clae_dataset_load_emoji(clae_dataset *d, const char *dir, const char *vendors,
                            const char *filter, const char *classes, const clae_image_opts *o,
                            clae_err *err)
{
    memset(d, 0, sizeof *d);
    file_list l = {0};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", vendors);
    int rc = 0;
    for (char *save = NULL, *v = strtok_r(buf, ", ", &save); v && rc == 0;
         v = strtok_r(NULL, ", ", &save))
        rc = read_vendor(&l, dir, v, filter, classes, err);
    if (rc == 0 && l.n == 0)
        rc = clae_fail(err, "data.filter = '%s'%s%s matched no emoji of vendors %s in %s/emoji",
                       filter, classes && *classes ? " with data.classes = " : "",
                       classes ? classes : "", vendors, dir);
    if (rc == 0) rc = load_list(d, &l, o, err);
    list_free(&l);
    if (rc) clae_dataset_free(d);
    return rc;
}
