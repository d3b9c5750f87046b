/* Errors are values: every function below main returns 0 on success or -1 on
 * failure, with one human-readable line in a clae_err that the caller owns. */
#ifndef CLAE_ERROR_H
#define CLAE_ERROR_H

#include <stddef.h>

typedef struct {
    char msg[1024]; /* "what, where, how to fix" — printed by the CLI as is */
} clae_err;

/* Formats the message into err (if non-NULL; control bytes it quotes shown as '?', so it
 * stays one line) and returns -1. */
int clae_fail(clae_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to an existing message, returns -1. */
int clae_wrap(clae_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
