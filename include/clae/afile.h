/* Files written atomically: to a temp name, then renamed into place, so a
 * crash never leaves a partial file passed off as complete. */
#ifndef CLAE_AFILE_H
#define CLAE_AFILE_H

#include <stdio.h>

#include "clae/error.h"

typedef struct {
    FILE *f;
    char path[1024], tmp[1100];
} clae_afile;
int clae_afile_open(clae_afile *a, const char *path, clae_err *err);
/* Flushes, fsyncs, renames into place; on any error removes the temp file. */
int clae_afile_commit(clae_afile *a, clae_err *err);
void clae_afile_abort(clae_afile *a);
/* len bytes as the whole of path, atomically. */
int clae_afile_write_bytes(const char *path, const void *bytes, size_t len, clae_err *err);
int clae_mkdir_p(const char *path, clae_err *err);

/* An input file checked before it is opened: a regular file (a folder, a FIFO
 * or a device is refused, so nothing hangs at open or reads /dev/zero forever)
 * of at most max_bytes (0: any size). what names it in errors ("config",
 * "checkpoint"; "" for none): "PATH: cannot open WHAT: REASON". */
int clae_check_input(const char *path, const char *what, unsigned long long max_bytes,
                     clae_err *err);
/* clae_check_input, then fopen(path, mode); NULL with err set. */
FILE *clae_open_input(const char *path, const char *mode, const char *what,
                      unsigned long long max_bytes, clae_err *err);

/* The whole of an input file of at most max_bytes (clae_check_input's checks) into *out
 * (malloc'ed, *len bytes). */
int clae_read_whole(const char *path, const char *what, unsigned long long max_bytes,
                    unsigned char **out, size_t *len, clae_err *err);

#endif
