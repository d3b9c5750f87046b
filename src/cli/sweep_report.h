/* What a finished sweep writes (sweep_report.c). */
#ifndef CLAE_CLI_SWEEP_REPORT_H
#define CLAE_CLI_SWEEP_REPORT_H

#include "clae/sweep.h"

/* The ranked table (printed and sweep.md, with the keys' importance and the epochs
 * pruning saved), best.ini (the best complete trial's resolved config), history.svg and
 * key_KEY.svg per key, in dir. */
int sweep_report(const clae_sweep_spec *s, const char *dir, const clae_trial *trials, int n,
                 clae_err *err);

#endif
