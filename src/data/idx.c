/* IDX reader (LeCun's MNIST format). zlib's gzread reads plain files too, so
 * one path serves .gz and uncompressed files. Every way a file can be wrong
 * gets its own message: wrong magic, truncated, trailing bytes, corrupt gzip. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clae/afile.h"
#include "clae/data.h"

#define IDX_MAX_BYTES (1ull << 34) /* refuse absurd headers before allocating */

static int type_size(int type)
{
    switch (type) {
    case 0x08:
    case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C:
    case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
    }
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads exactly n bytes, the part of a field of total bytes that starts
 * before bytes in (so that a short file is reported against the whole field);
 * distinguishes a short file from corrupt gzip data. */
static int read_part(gzFile f, const char *path, void *buf, size_t n, const char *what,
                     size_t before, size_t total, clae_err *err)
{
    size_t got = 0;
    while (got < n) {
        unsigned chunk = (unsigned)((n - got) > (1u << 30) ? (1u << 30) : (n - got));
        int r = gzread(f, (char *)buf + got, chunk);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            return clae_fail(err, "%s: corrupt gzip data while reading the %s: %s", path, what,
                             msg);
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    if (got < n) {
        int zerr;
        const char *msg = gzerror(f, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END)
            return clae_fail(err, "%s: corrupt or truncated gzip stream in the %s: %s", path, what,
                             msg);
        return clae_fail(err, "%s: truncated: the %s needs %zu bytes but the file has %zu", path,
                         what, total, before + got);
    }
    return 0;
}

static int read_exact(gzFile f, const char *path, void *buf, size_t n, const char *what,
                      clae_err *err)
{
    return read_part(f, path, buf, n, what, 0, n, err);
}

static void convert_values(clae_idx *x, const unsigned char *raw)
{
    for (size_t i = 0; i < x->count; i++) {
        const unsigned char *p = raw + i * (size_t)type_size(x->type);
        uint32_t u;
        switch (x->type) {
        case 0x09: x->f32[i] = (float)(int8_t)p[0]; break;
        case 0x0B: x->f32[i] = (float)(int16_t)((uint16_t)(p[0] << 8 | p[1])); break;
        case 0x0C: x->f32[i] = (float)(int32_t)be32(p); break;
        case 0x0D:
            u = be32(p);
            memcpy(&x->f32[i], &u, 4);
            break;
        case 0x0E: {
            uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
            double d;
            memcpy(&d, &v, 8);
            x->f32[i] = (float)d;
        } break;
        }
    }
}

static int read_header(gzFile f, const char *path, clae_idx *x, clae_err *err)
{
    unsigned char head[4];
    if (read_exact(f, path, head, 4, "header", err)) return -1;
    x->type = head[2];
    x->ndims = head[3];
    if (head[0] || head[1] || !type_size(x->type) || x->ndims < 1 || x->ndims > 4)
        return clae_fail(
            err,
            "%s: not an IDX file: magic bytes %02x %02x %02x %02x, expected 00 00 TT DD "
            "(TT a type code 08/09/0B/0C/0D/0E, DD 1 to 4 dimensions)",
            path, head[0], head[1], head[2], head[3]);
    unsigned char dims[16];
    if (read_exact(f, path, dims, 4 * (size_t)x->ndims, "dimensions", err)) return -1;
    x->count = 1;
    for (int i = 0; i < x->ndims; i++) {
        x->dims[i] = be32(dims + 4 * i);
        /* checked before the multiply: 2^17 x 2^17 x 2^30 must not wrap to an accepted 0 */
        if (x->dims[i] && x->count > IDX_MAX_BYTES / type_size(x->type) / x->dims[i])
            return clae_fail(err,
                             "%s: header declares more than %llu bytes of data: corrupt header?",
                             path, (unsigned long long)IDX_MAX_BYTES);
        x->count *= x->dims[i];
        if (x->count * (size_t)type_size(x->type) > IDX_MAX_BYTES)
            return clae_fail(err,
                             "%s: header declares more than %llu bytes of data: corrupt header?",
                             path, (unsigned long long)IDX_MAX_BYTES);
    }
    return 0;
}

/* The values, in a buffer that grows as they arrive (doubling from 1 MiB):
 * a short file claiming gigabytes fails as truncated, not as a huge malloc. */
static int read_values(gzFile f, const char *path, size_t bytes, unsigned char **raw, clae_err *err)
{
    size_t cap = bytes < (1u << 20) ? bytes : (1u << 20), got = 0;
    *raw = malloc(cap ? cap : 1);
    while (*raw && got < bytes) {
        if (got == cap) {
            cap = bytes - cap < cap ? bytes : 2 * cap;
            unsigned char *grown = realloc(*raw, cap);
            if (!grown) break;
            *raw = grown;
        }
        if (read_part(f, path, *raw + got, cap - got, "data", got, bytes, err)) return -1;
        got = cap;
    }
    if (!*raw || got < bytes)
        return clae_fail(err, "%s: out of host memory for %zu bytes", path, bytes);
    return 0;
}

int clae_idx_read(const char *path, clae_idx *x, clae_err *err)
{
    memset(x, 0, sizeof *x);
    if (clae_check_input(path, "", 0, err)) return -1;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return clae_fail(err, "%s: cannot open: %s", path,
                         errno ? strerror(errno) : "out of memory");
    size_t bytes = 0;
    unsigned char *raw = NULL;
    if (read_header(f, path, x, err)) goto fail;
    bytes = x->count * (size_t)type_size(x->type);
    if (read_values(f, path, bytes, &raw, err)) goto fail;
    unsigned char extra;
    int r = gzread(f, &extra, 1);
    if (r != 0) {
        int zerr;
        const char *msg = gzerror(f, &zerr);
        if (r < 0)
            clae_fail(err, "%s: corrupt gzip data after the values: %s", path, msg);
        else
            clae_fail(
                err,
                "%s: trailing bytes after the %zu values the header declares: wrong dimensions?",
                path, x->count);
        goto fail;
    }
    gzclose(f);
    if (x->type == 0x08) {
        x->u8 = raw;
        return 0;
    }
    x->f32 = malloc(x->count * sizeof(float) + 1);
    if (!x->f32) {
        free(raw);
        return clae_fail(err, "%s: out of host memory", path);
    }
    convert_values(x, raw);
    free(raw);
    return 0;
fail:
    free(raw);
    gzclose(f);
    return -1;
}

void clae_idx_free(clae_idx *x)
{
    free(x->u8);
    free(x->f32);
    x->u8 = NULL;
    x->f32 = NULL;
}
