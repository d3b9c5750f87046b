#include "clae/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A message is one line whatever it quotes (a file's bytes, a path): control
 * bytes are shown as '?'. */
static void one_line(char *msg)
{
    for (unsigned char *p = (unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p == 0x7F) *p = '?';
}

int clae_fail(clae_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        one_line(err->msg);
    }
    return -1;
}

int clae_wrap(clae_err *err, const char *fmt, ...)
{
    if (!err) return -1;
    char out[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out, sizeof out - 2, fmt, ap);
    va_end(ap);
    size_t used = k < 0 ? 0 : ((size_t)k < sizeof out - 2 ? (size_t)k : sizeof out - 3);
    out[used++] = ':';
    out[used++] = ' ';
    size_t rest = strnlen(err->msg, sizeof err->msg);
    if (rest > sizeof out - 1 - used) rest = sizeof out - 1 - used;
    memcpy(out + used, err->msg, rest);
    out[used + rest] = 0;
    memcpy(err->msg, out, sizeof out);
    one_line(err->msg);
    return -1;
}
