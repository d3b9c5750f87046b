/* The JSON lines of clae train --report (json_lines.h). Every line is
 * flushed as it is written, so a reader sees an epoch when it ends. */
#include "json_lines.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "clae/io.h"

int json_lines_open(const char *spec, FILE **out, clae_err *err)
{
    *out = NULL;
    if (!spec) return 0;
    if (strcmp(spec, "-") == 0) { /* stdout for the lines, stderr for the rest */
        fflush(stdout);
        int fd = dup(STDOUT_FILENO);
        if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0 || !(*out = fdopen(fd, "w")))
            return clae_fail(err, "--report -: cannot set up standard output: %s", strerror(errno));
        return 0;
    }
    if (!(*out = fopen(spec, "w")))
        return clae_fail(err, "--report %s: cannot write: %s", spec, strerror(errno));
    return 0;
}

static void number(FILE *f, const char *key, double v)
{
    if (isfinite(v))
        fprintf(f, ", \"%s\": %.8g", key, v);
    else
        fprintf(f, ", \"%s\": null", key); /* NaN is not JSON */
}

static void position(FILE *f, const char *event, const run_position *t)
{
    fprintf(f, "{\"event\": \"%s\", \"epoch\": %d, \"epochs\": %d, \"step\": %ld", event, t->epoch,
            t->cfg->train.epochs, t->step);
}

void json_lines_epoch(FILE *f, const run_position *t, const clae_metrics *val, double seconds,
                      bool best)
{
    if (!f) return;
    position(f, "epoch", t);
    number(f, "train_loss", t->train->v[CLAE_METRIC_LOSS]);
    number(f, "val_loss", val->v[CLAE_METRIC_LOSS]);
    number(f, "lr", t->lr);
    number(f, "seconds", seconds);
    fprintf(f, ", \"best\": %s, \"train\": ", best ? "true" : "false");
    clae_metrics_write_json(f, t->train);
    fprintf(f, ", \"val\": ");
    clae_metrics_write_json(f, val);
    fprintf(f, "}\n");
    fflush(f);
}

void json_lines_done(FILE *f, const run_position *t, const clae_metrics *test, const char *dir)
{
    if (!f) return;
    position(f, "done", t);
    number(f, "best_val_loss", t->best_val);
    fprintf(f, ", \"run\": ");
    clae_json_string(f, dir);
    fprintf(f, ", \"test\": ");
    clae_metrics_write_json(f, test);
    fprintf(f, "}\n");
    fflush(f);
}

void json_lines_stopped(FILE *f, const run_position *t, const char *event, const char *message)
{
    if (!f) return;
    position(f, event, t);
    fprintf(f, ", \"message\": ");
    clae_json_string(f, message);
    fprintf(f, "}\n");
    fflush(f);
}

void json_lines_close(FILE *f)
{
    if (f) fclose(f);
}
