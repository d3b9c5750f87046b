/* NumPy .npy files of float32 matrices: format 1.0 (or 2.0 on reading),
 * '<f4', C order, shape (N, D) or (N,). The header is the Python dict
 * literal numpy writes, padded with spaces to a multiple of 64 bytes and
 * ended by a newline. Written atomically; read back checked against its size. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clae/io.h"

static const char NPY_MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

int clae_npy_write(const char *path, const float *data, size_t rows, size_t cols, clae_err *err)
{
    char dict[128];
    int len = snprintf(dict, sizeof dict,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", rows,
                       cols);
    size_t header = (size_t)len + 1, total = 10 + header;
    size_t pad = (64 - total % 64) % 64;
    header += pad;
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    unsigned char pre[10] = {0x93,
                             'N',
                             'U',
                             'M',
                             'P',
                             'Y',
                             1,
                             0,
                             (unsigned char)(header & 0xFF),
                             (unsigned char)(header >> 8)};
    fwrite(pre, 1, sizeof pre, a.f);
    fwrite(dict, 1, (size_t)len, a.f);
    for (size_t i = 0; i < pad; i++) fputc(' ', a.f);
    fputc('\n', a.f);
    fwrite(data, sizeof(float), rows * cols, a.f); /* the host is little-endian (x86, ARM) */
    return clae_afile_commit(&a, err);
}

/* The value after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *dict, const char *key)
{
    const char *p = strstr(dict, key);
    if (!p) return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == ':') p++;
    return p;
}

/* shape: "(N, D)", "(N, D,)", "(N,)" */
static int parse_shape(const char *p, size_t *rows, size_t *cols)
{
    if (*p++ != '(') return -1;
    size_t dims[3];
    int n = 0;
    while (n < 3) {
        while (*p == ' ') p++;
        if (*p == ')') break;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno || v > (1ull << 40)) return -1;
        dims[n++] = (size_t)v;
        p = end;
        while (*p == ' ') p++;
        if (*p == ',')
            p++;
        else if (*p != ')')
            return -1;
    }
    if (*p != ')' || n < 1 || n > 2) return -1;
    *rows = dims[0];
    *cols = n == 2 ? dims[1] : 1;
    return 0;
}

/* The header text at p up to and with its closing character (a quoted
 * dtype's second quote, a shape's ')'), at most max characters, bytes that
 * are not printable shown as '?': an error line stays one line. */
static const char *header_token(const char *p, char close, size_t max, char out[48])
{
    size_t n = 0;
    for (; p[n] && n < max && n < 47; n++) {
        out[n] = p[n] >= 0x20 && p[n] < 0x7F ? p[n] : '?';
        if (n > 0 && p[n] == close) {
            n++;
            break;
        }
    }
    out[n] = 0;
    return out;
}

static int parse_header(const char *path, const char *dict, size_t *rows, size_t *cols,
                        clae_err *err)
{
    const char *descr = dict_value(dict, "'descr'"), *order = dict_value(dict, "'fortran_order'");
    const char *shape = dict_value(dict, "'shape'");
    if (!descr || !order || !shape)
        return clae_fail(err, "%s: not a .npy header (descr, fortran_order and shape expected)",
                         path);
    char shown[48];
    if (strncmp(descr, "'<f4'", 5) != 0)
        return clae_fail(err, "%s: dtype %s: expected float32 ('<f4'), e.g. np.asarray(z, '<f4')",
                         path, header_token(descr, '\'', 16, shown));
    if (strncmp(order, "False", 5) != 0)
        return clae_fail(err, "%s: Fortran order: expected C order (np.ascontiguousarray)", path);
    if (parse_shape(shape, rows, cols))
        return clae_fail(err, "%s: shape %s: expected (N, D) or (N,)", path,
                         header_token(shape, ')', 40, shown));
    return 0;
}

int clae_npy_read(const char *path, float **data, size_t *rows, size_t *cols, clae_err *err)
{
    *data = NULL;
    FILE *f = clae_open_input(path, "rb", "", 0, err);
    if (!f) return -1;
    unsigned char pre[12];
    char *dict = NULL;
    int rc = -1;
    size_t header = 0, lenbytes = 2;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, NPY_MAGIC, 6) != 0) {
        clae_fail(err, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    } else if (pre[6] != 1 && !(pre[6] == 2 && fread(pre + 10, 1, 2, f) == 2)) {
        clae_fail(err, "%s: .npy format %d.%d: this clae reads 1.0 and 2.0", path, pre[6], pre[7]);
    } else {
        lenbytes = pre[6] == 1 ? 2 : 4;
        for (size_t i = 0; i < lenbytes; i++) header |= (size_t)pre[8 + i] << (8 * i);
        dict = header <= 65536 ? malloc(header + 1) : NULL;
        if (!dict || fread(dict, 1, header, f) != header) {
            clae_fail(err, "%s: truncated or oversized .npy header", path);
        } else {
            dict[header] = 0;
            rc = parse_header(path, dict, rows, cols, err);
        }
    }
    free(dict);
    if (rc == 0) {
        size_t n = *rows * *cols;
        long at = ftell(f);
        rc = fseek(f, 0, SEEK_END) != 0 ? clae_fail(err, "%s: cannot seek", path) : 0;
        double have = rc ? 0 : (double)ftell(f) - (double)at;
        if (rc == 0 && have != 4.0 * (double)n)
            rc = clae_fail(err,
                           "%s: %s: the header says %zu x %zu floats (%.0f bytes) but %.0f follow",
                           path, have < 4.0 * (double)n ? "truncated" : "trailing bytes", *rows,
                           *cols, 4.0 * n, have);
        if (rc == 0 && fseek(f, at, SEEK_SET) != 0) rc = clae_fail(err, "%s: cannot seek", path);
        if (rc == 0 && !(*data = malloc(n * sizeof(float) + 1)))
            rc = clae_fail(err, "%s: out of host memory", path);
        if (rc == 0 && fread(*data, sizeof(float), n, f) != n)
            rc = clae_fail(err, "%s: read error", path);
    }
    fclose(f);
    if (rc) {
        free(*data);
        *data = NULL;
    }
    return rc ? -1 : 0;
}
