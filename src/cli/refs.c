/* The images a command names: a PNG file (decoded, composited, resized and
 * quantised as the run's dataset was), [SPLIT:]INDEX (entry INDEX of a
 * split, test by default), or a name (a sample whose name, or the part in
 * parentheses, is it, case-insensitive: emoji names such as "grinning
 * face"). Shared by interp and arith. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "run.h"

void run_dataset_floats(const clae_dataset *set, uint32_t first, uint32_t count, float *out)
{
    size_t n = (size_t)count * clae_shape_sample(set->sample);
    const uint8_t *px = set->pixels + (size_t)first * clae_shape_sample(set->sample);
    for (size_t i = 0; i < n; i++)
        out[i] = (float)px[i] * (1.0f / 255.0f); /* as the device gather scales */
}

/* "google/64/1f63b.png (smiling cat face with heart-shaped eyes)" -> the part in parentheses */
static void short_name(const char *name, char *out, size_t n)
{
    const char *open = strrchr(name, '('), *close = open ? strchr(open, ')') : NULL;
    if (open && close)
        snprintf(out, n, "%.*s", (int)(close - open - 1), open + 1);
    else
        snprintf(out, n, "%s", name);
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[256];
    if (lb > 255) lb = 255;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t keep = row[j];
            size_t sub = diag +
                         (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            diag = keep;
        }
    }
    return row[lb];
}

/* "matches no sample; closest: a, b, c, d, e" */
static int no_match(const clae_dataset *set, const char *ref, clae_err *err)
{
    size_t best_d[5];
    char best[5][128];
    int n_best = 0;
    for (uint32_t i = 0; i < set->count; i++) {
        char s[128];
        short_name(set->names[i], s, sizeof s);
        size_t d = edit_distance(ref, s);
        bool dup = false;
        for (int k = 0; k < n_best; k++) dup |= strcasecmp(best[k], s) == 0;
        if (dup) continue;
        int at = n_best < 5 ? n_best++ : 4;
        if (at == 4 && n_best == 5 && d >= best_d[4]) continue;
        for (; at > 0 && best_d[at - 1] > d; at--)
            best_d[at] = best_d[at - 1], memcpy(best[at], best[at - 1], 128);
        best_d[at] = d;
        snprintf(best[at], sizeof best[at], "%s", s);
    }
    char list[700] = "";
    for (int k = 0; k < n_best; k++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", k ? ", " : "",
                 best[k]);
    return clae_fail(err, "'%s' is not a file, an index or a sample's name; the closest names: %s",
                     ref, list);
}

static int by_name(const clae_data *d, const char *ref, float *out, char *what, size_t n,
                   clae_err *err)
{
    const clae_dataset *set = &d->sources[0].set;
    if (!set->names)
        return clae_fail(err, "'%s' is not a file or an index, and the data has no names", ref);
    for (uint32_t i = 0; i < set->count; i++) {
        char s[512];
        short_name(set->names[i], s, sizeof s);
        if (strcasecmp(s, ref) != 0 && strcasecmp(set->names[i], ref) != 0) continue;
        run_dataset_floats(set, i, 1, out);
        snprintf(what, n, "%s", set->names[i]);
        return 0;
    }
    return no_match(set, ref, err);
}

/* "[SPLIT:]INDEX": entry INDEX of the split (test when not named) */
static int by_index(clae_data *d, const char *ref, float *out, char *what, size_t n, bool *is_index,
                    clae_err *err)
{
    int k = CLAE_SPLIT_TEST;
    const char *num = ref, *colon = strchr(ref, ':');
    if (colon) {
        k = clae_split_parse(ref, (size_t)(colon - ref));
        num = colon + 1;
    }
    char *end;
    unsigned long v = strtoul(num, &end, 10);
    *is_index = k >= 0 && end != num && *end == 0 && isdigit((unsigned char)*num);
    if (!*is_index) return 0;
    uint32_t count = clae_data_samples(d, (clae_split_kind)k);
    if (v >= count)
        return clae_fail(err, "'%s': the %s split has %u samples (0 to %u)", ref,
                         clae_split_name((clae_split_kind)k), count, count ? count - 1 : 0);
    const clae_split_data *s = clae_data_split(d, (clae_split_kind)k);
    const clae_dataset *set = &d->sources[s->source].set;
    uint32_t sample = clae_data_sample_index(d, (clae_split_kind)k, (uint32_t)v);
    run_dataset_floats(set, sample, 1, out);
    snprintf(what, n, "%s:%lu%s%s", clae_split_name((clae_split_kind)k), v, set->names ? " " : "",
             set->names ? set->names[sample] : "");
    return 0;
}

int run_image_ref(const clae_saved_model *s, clae_data *d, const char *ref, float *out, char *what,
                  size_t n, clae_err *err)
{
    struct stat st;
    if (stat(ref, &st) == 0 && S_ISREG(st.st_mode)) {
        clae_image_opts o = {.image = s->model.input};
        memcpy(o.background, s->cfg.data.background, sizeof o.background);
        size_t len = clae_shape_sample(s->model.input);
        uint8_t *px = malloc(len);
        if (!px) return clae_fail(err, "out of host memory");
        int rc = clae_image_file_sample(ref, &o, px, err);
        for (size_t i = 0; rc == 0 && i < len; i++) out[i] = (float)px[i] * (1.0f / 255.0f);
        free(px);
        snprintf(what, n, "%s", ref);
        return rc;
    }
    bool is_index;
    if (by_index(d, ref, out, what, n, &is_index, err)) return -1;
    return is_index ? 0 : by_name(d, ref, out, what, n, err);
}
