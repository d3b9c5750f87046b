/* clae train --report -|FILE: one JSON object per line as training goes, for
 * tools that drive clae (Optuna, shell scripts, a sweep): an "epoch" line per
 * epoch with its metrics, then "done" with the test metrics, "interrupted"
 * (SIGINT/SIGTERM, with where to resume) or "failed" (the error line). With
 * "-" the lines go to standard output and everything else clae prints to
 * standard error, so stdout is the JSON alone. */
#ifndef CLAE_CLI_JSON_LINES_H
#define CLAE_CLI_JSON_LINES_H

#include <stdbool.h>
#include <stdio.h>

#include "run.h"

/* NULL spec: no stream (*out NULL). */
int json_lines_open(const char *spec, FILE **out, clae_err *err);
void json_lines_epoch(FILE *f, const run_position *t, const clae_metrics *val, double seconds,
                      bool best);
void json_lines_done(FILE *f, const run_position *t, const clae_metrics *test, const char *dir);
void json_lines_stopped(FILE *f, const run_position *t, const char *event, const char *message);
void json_lines_close(FILE *f);

#endif
