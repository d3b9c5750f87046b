#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clae/afile.h"

int clae_mkdir_p(const char *path, clae_err *err)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1;; p++) {
        if (*p && *p != '/') continue;
        char c = *p;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST)
            return clae_fail(err, "cannot create folder %s: %s", tmp, strerror(errno));
        if (!c) break;
        *p = c;
    }
    return 0;
}

int clae_afile_open(clae_afile *a, const char *path, clae_err *err)
{
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "wb");
    if (!a->f) return clae_fail(err, "cannot write %s: %s", a->tmp, strerror(errno));
    return 0;
}

int clae_afile_commit(clae_afile *a, clae_err *err)
{
    int bad = ferror(a->f) || fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    int saved = errno;
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    if (bad || rename(a->tmp, a->path) != 0) {
        if (!bad) saved = errno;
        remove(a->tmp);
        return clae_fail(err, "cannot write %s: %s", a->path, strerror(saved));
    }
    return 0;
}

void clae_afile_abort(clae_afile *a)
{
    if (a->f) fclose(a->f);
    a->f = NULL;
    remove(a->tmp);
}

void clae_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}
