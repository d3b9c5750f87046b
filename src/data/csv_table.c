/* CSV tables of images: "label,v0,...,vN" per line, N + 1 = C*H*W. A first line
 * whose label is not a number is a header. Each value / scale is a pixel in
 * [0, 1], stored as a byte. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/afile.h"
#include "clae/data.h"

#define CSV_MAX_LINE (64 << 20) /* bytes: a row of 16M values */

static int grow(clae_dataset *d, uint32_t *cap, size_t sample)
{
    uint32_t c = *cap ? *cap * 2 : 1024;
    uint8_t *p = realloc(d->pixels, (size_t)c * sample), *l = p ? realloc(d->labels, c) : NULL;
    if (p) d->pixels = p;
    if (l) d->labels = l;
    if (!p || !l) return -1;
    *cap = c;
    return 0;
}

/* The next field of a comma-separated line at *p (empty fields kept, unlike
 * strtok's), its end written as a NUL; NULL after the last. */
static char *next_field(char **p)
{
    if (!*p) return NULL;
    char *field = *p, *comma = strchr(field, ',');
    if (comma)
        *comma = 0, *p = comma + 1;
    else
        field[strcspn(field, "\r\n")] = 0, *p = NULL;
    return field;
}

/* Parses one data line into px[sample] and *label; 0, or -1 with err set. */
static int parse_row(char *line, const char *path, int lineno, size_t sample, double scale,
                     uint8_t *px, uint8_t *label, clae_err *err)
{
    char *rest = line, *tok;
    size_t col = 0;
    for (; (tok = next_field(&rest)); col++) {
        char *end;
        while (*tok == ' ') tok++;
        errno = 0;
        double v = strtod(tok, &end);
        while (*end == ' ') end++;
        bool underflow = errno == ERANGE && fabs(v) < 1; /* 1e-320: as good as 0 */
        if (end == tok || *end || (errno && !underflow) || !isfinite(v))
            return clae_fail(err, "%s:%d: column %zu is %s: '%.40s'", path, lineno, col + 1,
                             *tok ? "not a number" : "empty", tok);
        if (col > sample) continue; /* counted, reported below */
        if (col == 0) {
            if (v < 0 || v > 255 || v != floor(v))
                return clae_fail(err, "%s:%d: label %g is not an integer in [0, 255]", path, lineno,
                                 v);
            *label = (uint8_t)v;
        } else {
            double p = v / scale;
            px[col - 1] = (uint8_t)lrint(255.0 * (p < 0 ? 0 : p > 1 ? 1 : p));
        }
    }
    if (col != sample + 1)
        return clae_fail(
            err, "%s:%d: expected %zu columns (label and %zu values for the image), found %zu",
            path, lineno, sample + 1, sample, col);
    return 0;
}

int clae_dataset_load_csv(clae_dataset *d, const char *path, clae_shape image, double scale,
                          uint32_t limit, clae_err *err)
{
    memset(d, 0, sizeof *d);
    FILE *f = clae_open_input(path, "r", "", 0, err);
    if (!f) return -1;
    d->sample = (clae_shape){1, image.c, image.h, image.w};
    size_t sample = clae_shape_sample(d->sample);
    char *line = NULL;
    size_t cap_line = 0;
    uint32_t cap = 0;
    int lineno = 0, rc = 0;
    ssize_t got;
    while ((got = getline(&line, &cap_line, f)) > 0 && (limit == 0 || d->count < limit)) {
        lineno++;
        if (got > CSV_MAX_LINE) {
            rc = clae_fail(err, "%s:%d: a line of %zd bytes: at most %d", path, lineno, got,
                           CSV_MAX_LINE);
            break;
        }
        char *text = line;
        if (lineno == 1 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) text += 3; /* UTF-8 BOM */
        if (text[strspn(text, " \r\n")] == 0) continue;                     /* blank */
        char *end;
        strtod(text, &end);
        if (lineno == 1 && (end == text || (*end != ',' && *end != ' '))) continue; /* header */
        if (d->count == cap && grow(d, &cap, sample)) {
            rc = clae_fail(err, "%s: out of host memory at line %d", path, lineno);
            break;
        }
        if ((rc = parse_row(text, path, lineno, sample, scale,
                            d->pixels + (size_t)d->count * sample, &d->labels[d->count], err)))
            break;
        d->count++;
    }
    free(line);
    fclose(f);
    if (rc == 0 && d->count == 0) rc = clae_fail(err, "%s: no data rows", path);
    if (rc) clae_dataset_free(d);
    return rc;
}
