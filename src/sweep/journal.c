/* The sweep journal (clae/sweep.h): one JSON object per line, flushed as it is
 * written, so a sweep killed at any moment resumes from what it holds:
 *   {"event": "start", "trial": 3, "x": [...], "params": {"train.lr": "0.001", ...}}
 *   {"event": "epoch", "trial": 3, "epoch": 2, "value": 0.0123}
 *   {"event": "end", "trial": 3, "state": "pruned", "epochs": 2, "value": 0.0123,
 *    "seconds": 12.3, "message": "..."} */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/io.h"
#include "clae/sweep.h"

static void number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fprintf(f, "null");
}

void clae_journal_start(FILE *f, const clae_sweep_spec *s, const clae_trial *t)
{
    fprintf(f, "{\"event\": \"start\", \"trial\": %d, \"x\": [", t->id);
    for (int k = 0; k < s->n_params; k++) fprintf(f, "%s%.17g", k ? ", " : "", t->x[k]);
    fprintf(f, "], \"params\": {");
    for (int k = 0; k < s->n_params; k++) {
        char text[128];
        clae_sweep_value_text(&s->params[k], t->x[k], text, sizeof text);
        fprintf(f, "%s", k ? ", " : "");
        clae_json_string(f, s->params[k].key);
        fprintf(f, ": ");
        clae_json_string(f, text);
    }
    fprintf(f, "}}\n");
    fflush(f);
}

void clae_journal_epoch(FILE *f, const clae_trial *t)
{
    fprintf(f, "{\"event\": \"epoch\", \"trial\": %d, \"epoch\": %d, \"value\": ", t->id,
            t->n_values);
    number(f, clae_trial_value(t));
    fprintf(f, "}\n");
    fflush(f);
}

void clae_journal_end(FILE *f, const clae_trial *t, const char *message)
{
    fprintf(f, "{\"event\": \"end\", \"trial\": %d, \"state\": \"%s\", \"epochs\": %d, \"value\": ",
            t->id, clae_trial_state_name(t->state), t->n_values);
    number(f, clae_trial_value(t));
    fprintf(f, ", \"seconds\": %.3f, \"message\": ", t->seconds);
    clae_json_string(f, message ? message : "");
    fprintf(f, "}\n");
    fflush(f);
}

/* The number after "key": in line; NaN for null, false when absent. */
static bool field(const char *line, const char *key, double *v)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(line, pat);
    if (!p) return false;
    p += strlen(pat);
    if (strncmp(p, "null", 4) == 0) return *v = NAN, true;
    char *end;
    *v = strtod(p, &end);
    return end != p;
}

static int apply_start(const clae_sweep_spec *s, clae_trial *t, const char *line)
{
    const char *p = strstr(line, "\"x\": [");
    if (!p) return -1;
    p += 6;
    for (int k = 0; k < s->n_params; k++) {
        char *end;
        t->x[k] = strtod(p, &end);
        if (end == p) return -1;
        p = end + strspn(end, ", ");
    }
    t->state = CLAE_TRIAL_RUNNING;
    t->n_values = 0;
    return *p == ']' ? 0 : -1;
}

static int apply_end(clae_trial *t, const char *line)
{
    static const char *const states[] = {"\"complete\"", "\"pruned\"", "\"failed\""};
    const char *p = strstr(line, "\"state\": ");
    if (!p) return -1;
    for (int k = 0; k < 3; k++)
        if (strncmp(p + 9, states[k], strlen(states[k])) == 0) t->state = (clae_trial_state)(k + 1);
    double v;
    if (field(line, "seconds", &v)) t->seconds = v;
    return t->state == CLAE_TRIAL_RUNNING ? -1 : 0;
}

/* One event into the trials; -1 when the line is not one. */
static int apply_line(const clae_sweep_spec *s, clae_trial *trials, int max, int *n,
                      const char *line)
{
    double id, v, e;
    if (!field(line, "trial", &id) || id < 0 || id >= max || id != floor(id)) return -1;
    int k = (int)id;
    if (strstr(line, "\"event\": \"start\"")) {
        if (k > *n) return -1; /* trials start in order */
        if (k == *n) memset(&trials[(*n)++], 0, sizeof *trials);
        trials[k].id = k;
        return apply_start(s, &trials[k], line);
    }
    if (k >= *n) return -1;
    clae_trial *t = &trials[k];
    if (strstr(line, "\"event\": \"epoch\"")) {
        if (!field(line, "epoch", &e) || !field(line, "value", &v) || e < 1 ||
            e > CLAE_SWEEP_MAX_EPOCHS || e > t->n_values + 1)
            return -1;
        t->n_values = (int)e; /* a resumed trial reports its epochs again */
        t->values[(int)e - 1] = v;
        return 0;
    }
    return strstr(line, "\"event\": \"end\"") ? apply_end(t, line) : -1;
}

int clae_journal_read(const char *path, const clae_sweep_spec *s, clae_trial *trials, int max,
                      int *n, clae_err *err)
{
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? 0 : clae_fail(err, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, lineno = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        if (strchr(line, '\n') == NULL) break; /* a line cut by a kill: ignored, rewritten */
        if (apply_line(s, trials, max, n, line))
            rc = clae_fail(err, "%s:%d: not a journal event of this sweep (%d keys, %d trials)",
                           path, lineno, s->n_params, max);
    }
    free(line);
    fclose(f);
    return rc;
}
