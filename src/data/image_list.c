/* Datasets of PNG files: a folder (with an optional labels CSV) or the emoji
 * set prepared by scripts/prepare_data.sh (labels.tsv: file, name, category,
 * vendor). Images are decoded, composited, resized and stored as bytes. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clae/data.h"
#include "clae/image.h"

typedef struct {
    char **paths, **names;
    int *labels; /* -1: none */
    uint32_t n, cap;
} file_list;

static int list_add(file_list *l, const char *path, const char *name, int label)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 256;
        char **p = realloc(l->paths, cap * sizeof *p), **q = p ? realloc(l->names, cap * sizeof *q) : NULL;
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

/* Decodes every file of the list into d; names move into d. */
static int load_list(clae_dataset *d, file_list *l, const clae_image_opts *o, clae_err *err)
{
    memset(d, 0, sizeof *d);
    d->sample = (clae_shape){1, o->image.c, o->image.h, o->image.w};
    size_t sample = clae_shape_sample(d->sample);
    d->pixels = malloc((size_t)l->n * sample + 1);
    d->labels = malloc((size_t)l->n + 1);
    d->names = calloc((size_t)l->n + 1, sizeof *d->names);
    if (!d->pixels || !d->labels || !d->names) return clae_fail(err, "out of host memory for %u images", l->n);
    bool any_label = false;
    for (uint32_t i = 0; i < l->n; i++) {
        clae_image img, sized;
        if (clae_png_load(l->paths[i], o->image.c, o->background, &img, err)) {
            if (!o->skip_bad) return -1;
            d->skipped++;
            continue;
        }
        int rc = clae_image_resize(&img, o->image.h, o->image.w, &sized, err);
        clae_image_free(&img);
        if (rc) return -1;
        uint8_t *px = d->pixels + (size_t)d->count * sample;
        for (size_t k = 0; k < sample; k++) px[k] = (uint8_t)lrintf(255.0f * fminf(fmaxf(sized.px[k], 0.0f), 1.0f));
        clae_image_free(&sized);
        d->labels[d->count] = (uint8_t)(l->labels[i] < 0 ? 0 : l->labels[i]);
        any_label |= l->labels[i] >= 0;
        d->names[d->count++] = l->names[i];
        l->names[i] = NULL;
    }
    if (!any_label) {
        free(d->labels);
        d->labels = NULL;
    }
    if (d->count == 0) return clae_fail(err, "no readable images (%u skipped)", d->skipped);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* "file,label" lines; -1 when the file is not listed. */
static int folder_label(const char *labels_csv, const char *file, clae_err *err, int *label)
{
    *label = -1;
    if (!labels_csv || !*labels_csv) return 0;
    FILE *f = fopen(labels_csv, "r");
    if (!f) return clae_fail(err, "%s: cannot open labels: %s", labels_csv, strerror(errno));
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *comma = strrchr(line, ',');
        if (!comma) continue;
        *comma = 0;
        if (strcmp(line, file) != 0) continue;
        char *end;
        long v = strtol(comma + 1, &end, 10);
        if (end == comma + 1 || v < 0 || v > 255) {
            fclose(f);
            return clae_fail(err, "%s:%d: label of %s is not an integer in [0, 255]", labels_csv, lineno, file);
        }
        *label = (int)v;
        break;
    }
    fclose(f);
    return 0;
}

int clae_dataset_load_folder(clae_dataset *d, const char *dir, const char *labels_csv, const clae_image_opts *o,
                             clae_err *err)
{
    DIR *dp = opendir(dir);
    if (!dp) return clae_fail(err, "%s: cannot open folder: %s", dir, strerror(errno));
    file_list l = {0};
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcasecmp(e->d_name + len - 4, ".png") != 0) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            char **g = realloc(names, cap * sizeof *g);
            if (!g) break;
            names = g;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = n ? 0 : clae_fail(err, "%s: no .png files", dir);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[2048];
        int label;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = folder_label(labels_csv, names[i], err, &label);
        if (rc == 0 && list_add(&l, path, names[i], label)) rc = clae_fail(err, "out of host memory");
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
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
    for (char *s1 = NULL, *cls = strtok_r(buf, ";", &s1); cls; cls = strtok_r(NULL, ";", &s1), index++) {
        char *colon = strchr(cls, ':');
        for (char *s2 = NULL, *kw = strtok_r(colon ? colon + 1 : cls, " ,", &s2); kw; kw = strtok_r(NULL, " ,", &s2))
            if (contains_word(name, kw)) return index;
    }
    return -1;
}

static int read_vendor(file_list *l, const char *dir, const char *vendor, const char *filter, const char *classes,
                       clae_err *err)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/emoji/%s/labels.tsv", dir, vendor);
    FILE *f = fopen(path, "r");
    if (!f)
        return clae_fail(err, "%s: not found: prepare it with 'scripts/prepare_data.sh emoji --vendors %s --dir %s'",
                         path, vendor, dir);
    char line[1024];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        char *save = NULL, *file = strtok_r(line, "\t\n", &save), *name = strtok_r(NULL, "\t\n", &save);
        if (!file || !name || strcmp(file, "file") == 0 || !contains_word(name, filter)) continue;
        int label = classes && *classes ? class_of(classes, name) : -1;
        if (classes && *classes && label < 0) continue; /* matches no class: dropped, as the seeds did */
        char img[2048], shown[1200];
        snprintf(img, sizeof img, "%s/emoji/%s/%s", dir, vendor, file);
        snprintf(shown, sizeof shown, "%s/%s (%s)", vendor, file, name);
        if (list_add(l, img, shown, label)) rc = clae_fail(err, "out of host memory");
    }
    fclose(f);
    return rc;
}

int clae_dataset_load_emoji(clae_dataset *d, const char *dir, const char *vendors, const char *filter,
                            const char *classes, const clae_image_opts *o, clae_err *err)
{
    memset(d, 0, sizeof *d);
    file_list l = {0};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", vendors);
    int rc = 0;
    for (char *save = NULL, *v = strtok_r(buf, ", ", &save); v && rc == 0; v = strtok_r(NULL, ", ", &save))
        rc = read_vendor(&l, dir, v, filter, classes, err);
    if (rc == 0 && l.n == 0)
        rc = clae_fail(err, "data.filter = '%s'%s%s matched no emoji of vendors %s in %s/emoji", filter,
                       classes && *classes ? " with data.classes = " : "", classes ? classes : "", vendors, dir);
    if (rc == 0) rc = load_list(d, &l, o, err);
    list_free(&l);
    if (rc) clae_dataset_free(d);
    return rc;
}
