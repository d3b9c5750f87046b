#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

/* fsync of the folder holding path, so the rename itself survives a crash */
static void sync_folder(const char *path)
{
    char dir[1024];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
             slash ? path : ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse fsync on folders */
        close(fd);
    }
}

int clae_afile_commit(clae_afile *a, clae_err *err)
{
    int saved = 0; /* the errno of the first step that failed */
    if (ferror(a->f))
        saved = EIO;
    else if (fflush(a->f) != 0 || fsync(fileno(a->f)) != 0)
        saved = errno;
    if (fclose(a->f) != 0 && !saved) saved = errno;
    a->f = NULL;
    if (!saved && rename(a->tmp, a->path) != 0) saved = errno;
    if (saved) {
        remove(a->tmp);
        return clae_fail(err, "cannot write %s: %s", a->path, strerror(saved));
    }
    sync_folder(a->path);
    return 0;
}

int clae_afile_write_bytes(const char *path, const void *bytes, size_t len, clae_err *err)
{
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    fwrite(bytes, 1, len, a.f); /* a short write sets the stream's error, which commit reports */
    return clae_afile_commit(&a, err);
}

int clae_check_input(const char *path, const char *what, unsigned long long max_bytes,
                     clae_err *err)
{
    struct stat st;
    const char *sep = what && *what ? " " : "";
    if (!what) what = "";
    if (stat(path, &st) != 0)
        return clae_fail(err, "%s: cannot open%s%s: %s", path, sep, what, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return clae_fail(err, "%s: is a folder, not a%s%s file", path, sep, what);
    if (!S_ISREG(st.st_mode))
        return clae_fail(err,
                         "%s: not a regular file (a FIFO, socket or device): expected a%s%s "
                         "file",
                         path, sep, what);
    if (max_bytes && (unsigned long long)st.st_size > max_bytes)
        return clae_fail(err, "%s: %llu bytes, more than the %llu a%s%s file may have", path,
                         (unsigned long long)st.st_size, max_bytes, sep, what);
    return 0;
}

FILE *clae_open_input(const char *path, const char *mode, const char *what,
                      unsigned long long max_bytes, clae_err *err)
{
    if (clae_check_input(path, what, max_bytes, err)) return NULL;
    FILE *f = fopen(path, mode);
    if (!f)
        clae_fail(err, "%s: cannot open%s%s: %s", path, what && *what ? " " : "", what ? what : "",
                  strerror(errno));
    return f;
}

int clae_read_whole(const char *path, const char *what, unsigned long long max_bytes,
                    unsigned char **out, size_t *len, clae_err *err)
{
    FILE *f = clae_open_input(path, "rb", what, max_bytes, err);
    if (!f) return -1;
    struct stat st;
    size_t size = fstat(fileno(f), &st) == 0 ? (size_t)st.st_size : 0;
    unsigned char *b = malloc(size + 1);
    size_t n = b ? fread(b, 1, size + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!b) return clae_fail(err, "out of host memory reading %s (%zu bytes)", path, size);
    if (bad || n != size) {
        free(b);
        return clae_fail(err, "%s: read error (%zu of %zu bytes)", path, n, size);
    }
    *out = b, *len = n;
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
