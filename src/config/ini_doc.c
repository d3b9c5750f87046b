/* Reads an INI file through the system inih with a reader of our own. Debian's
 * inih gives the handler no line number and cuts lines at ini_max_line, so
 * the reader counts lines, refuses over-long ones, strips CR, a BOM and leading
 * blanks (no accidental multi-line values), and records section headers, so
 * a repeated section (which inih would silently merge) is an error. */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "clae/afile.h"
#include "clae/config.h"

#define CONFIG_MAX_BYTES (16u << 20) /* a config is text: 16 MiB is far beyond any */
#define INIH_NAME_MAX 49             /* inih cuts section names and keys at 50 - 1 characters */

typedef struct {
    clae_ini_doc *doc;
    FILE *f;
    int line;
    char *buf;
    size_t cap;
    clae_err *err;
    int failed;
} reader_state;

static int add_section(reader_state *st, const char *line)
{
    const char *end = strchr(line, ']');
    if (!end) return 0; /* inih reports the malformed header */
    clae_ini_doc *d = st->doc;
    char name[96];
    size_t n = (size_t)(end - line - 1);
    if (n > INIH_NAME_MAX) {
        st->failed = clae_fail(st->err, "%s:%d: a section name of %zu characters: at most %d",
                               d->path, st->line, n, INIH_NAME_MAX);
        return -1;
    }
    memcpy(name, line + 1, n);
    name[n] = 0;
    for (int i = 0; i < d->n_sections; i++)
        if (strcmp(d->sections[i].name, name) == 0) {
            st->failed = clae_fail(
                st->err,
                "%s:%d: section [%s] repeats (first at line %d): give each section a "
                "unique name",
                d->path, st->line, name, d->sections[i].line);
            return -1;
        }
    if (d->n_sections == d->cap_sections) {
        int cap = d->cap_sections ? 2 * d->cap_sections : 16;
        clae_ini_section *s = realloc(d->sections, (size_t)cap * sizeof *s);
        if (!s) return -1;
        d->sections = s;
        d->cap_sections = cap;
    }
    snprintf(d->sections[d->n_sections].name, sizeof d->sections[0].name, "%s", name);
    d->sections[d->n_sections++].line = st->line;
    return 0;
}

/* A config line is text: no NUL (which would end it silently), no control
 * bytes but tabs and the line end (they would split the error messages). */
static int check_text(reader_state *st, ssize_t n)
{
    for (ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)st->buf[i];
        bool line_end = c == '\n' || (c == '\r' && (i + 1 == n || st->buf[i + 1] == '\n'));
        if ((c < 0x20 && c != '\t' && !line_end) || c == 0x7F) {
            st->failed = clae_fail(st->err,
                                   "%s:%d: byte %zd is 0x%02X, a control character: a config "
                                   "is text",
                                   st->doc->path, st->line, i + 1, c);
            return -1;
        }
    }
    return 0;
}

/* "key = value": a key longer than inih reads would be cut and misreported */
static int check_key(reader_state *st, const char *s)
{
    const char *eq = strpbrk(s, "=:");
    if (s[0] == '[' || s[0] == ';' || s[0] == '#' || !eq) return 0;
    size_t n = (size_t)(eq - s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n <= INIH_NAME_MAX) return 0;
    st->failed = clae_fail(st->err, "%s:%d: a key of %zu characters: at most %d", st->doc->path,
                           st->line, n, INIH_NAME_MAX);
    return -1;
}

static char *reader(char *str, int num, void *stream)
{
    reader_state *st = stream;
    if (st->failed) return NULL;
    ssize_t n = getline(&st->buf, &st->cap, st->f);
    if (n < 0) return NULL;
    st->line++;
    if (check_text(st, n)) return NULL;
    char *s = st->buf;
    if (st->line == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        s += 3;
    while (*s == ' ' || *s == '\t') s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r')) s[--len] = 0;
    if ((int)len + 2 > num) {
        st->failed = clae_fail(
            st->err, "%s:%d: line is %zu characters long; at most %d are read: shorten it",
            st->doc->path, st->line, len, num - 2);
        return NULL;
    }
    if ((s[0] == '[' && add_section(st, s)) || check_key(st, s)) return NULL;
    memcpy(str, s, len);
    str[len] = '\n';
    str[len + 1] = 0;
    return str;
}

static int add_entry(clae_ini_doc *d, const char *section, const char *key, const char *value,
                     int line)
{
    if (d->n_entries == d->cap_entries) {
        int cap = d->cap_entries ? 2 * d->cap_entries : 64;
        clae_ini_entry *e = realloc(d->entries, (size_t)cap * sizeof *e);
        if (!e) return -1;
        d->entries = e;
        d->cap_entries = cap;
    }
    clae_ini_entry *e = &d->entries[d->n_entries++];
    memset(e, 0, sizeof *e);
    snprintf(e->section, sizeof e->section, "%s", section);
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->value, sizeof e->value, "%s", value);
    e->line = line;
    return 0;
}

static clae_ini_entry *find_entry(clae_ini_doc *d, const char *section, const char *key)
{
    for (int i = 0; i < d->n_entries; i++)
        if (strcmp(d->entries[i].section, section) == 0 && strcmp(d->entries[i].key, key) == 0)
            return &d->entries[i];
    return NULL;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    reader_state *st = user;
    if (st->failed) return 0;
    clae_ini_entry *prev = find_entry(st->doc, section, key);
    if (prev) {
        st->failed = clae_fail(st->err, "%s:%d: [%s] %s is set twice (first at line %d)",
                               st->doc->path, st->line, section, key, prev->line);
        return 0;
    }
    if (!*section) {
        st->failed = clae_fail(st->err, "%s:%d: key '%s' comes before any [section]", st->doc->path,
                               st->line, key);
        return 0;
    }
    if (add_entry(st->doc, section, key, value, st->line)) {
        st->failed = clae_fail(st->err, "out of host memory reading %s", st->doc->path);
        return 0;
    }
    return 1;
}

int clae_ini_read_stream(clae_ini_doc *doc, const char *path, FILE *f, clae_err *err)
{
    memset(doc, 0, sizeof *doc);
    snprintf(doc->path, sizeof doc->path, "%s", path);
    reader_state st = {.doc = doc, .err = err, .f = f};
    int rc = ini_parse_stream(reader, &st, handler, &st);
    free(st.buf);
    if (st.failed) return -1;
    if (rc > 0)
        return clae_fail(err, "%s:%d: expected 'key = value', '[section]' or a ; comment", path,
                         rc);
    if (rc < 0) return clae_fail(err, "%s: out of memory parsing", path);
    return 0;
}

int clae_ini_read(clae_ini_doc *doc, const char *path, clae_err *err)
{
    memset(doc, 0, sizeof *doc);
    FILE *f = clae_open_input(path, "r", "config", CONFIG_MAX_BYTES, err);
    if (!f) return -1;
    int rc = clae_ini_read_stream(doc, path, f, err);
    fclose(f);
    return rc;
}

int clae_ini_override(clae_ini_doc *doc, const char *assignment, const char *const *fixed,
                      clae_err *err)
{
    for (const char *p = assignment; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            return clae_fail(err,
                             "--set: byte %d is 0x%02X, a control character: expected "
                             "section.key=value text",
                             (int)(p - assignment) + 1, (unsigned char)*p);
    const char *eq = strchr(assignment, '=');
    const char *dot = NULL; /* the last '.' before '=': section names contain dots */
    for (const char *p = assignment; eq && p < eq; p++)
        if (*p == '.') dot = p;
    if (!eq || !dot || dot == assignment || dot + 1 == eq)
        return clae_fail(err, "--set %s: expected section.key=value (e.g. train.lr=3e-4)",
                         assignment);
    char section[96], key[64];
    size_t ns = (size_t)(dot - assignment), nk = (size_t)(eq - dot - 1);
    if (ns >= sizeof section || nk >= sizeof key || strlen(eq + 1) >= sizeof doc->entries[0].value)
        return clae_fail(err, "--set %s: section, key or value too long", assignment);
    memcpy(section, assignment, ns);
    section[ns] = 0;
    memcpy(key, dot + 1, nk);
    key[nk] = 0;
    bool known = false;
    for (int i = 0; i < doc->n_sections && !known; i++)
        known = strcmp(doc->sections[i].name, section) == 0;
    for (int i = 0; fixed[i] && !known; i++) known = strcmp(fixed[i], section) == 0;
    if (!known)
        return clae_fail(err, "--set %s: %s has no section [%s]", assignment, doc->path, section);
    const char *value = eq + 1;
    while (isspace((unsigned char)*value)) value++;
    clae_ini_entry *e = find_entry(doc, section, key);
    if (e) {
        snprintf(e->value, sizeof e->value, "%s", value);
        e->line = 0;
        return 0;
    }
    if (add_entry(doc, section, key, value, 0)) return clae_fail(err, "out of host memory");
    return 0;
}

void clae_ini_free(clae_ini_doc *doc)
{
    free(doc->entries);
    free(doc->sections);
    doc->entries = NULL;
    doc->sections = NULL;
}
