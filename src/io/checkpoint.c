/* Checkpoint file: a fixed header (magic, version, sizes, training position,
 * CRC-32 of the sizes, the position and the payload), then the resolved config and the model's
 * description as text, then the parameters, the layer state and the
 * optimizer state as little-endian float32 arrays. Written atomically. */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clae/io.h"

static const char MAGIC[8] = {'C', 'L', 'A', 'E', 'C', 'K', 'P', 'T'};

typedef struct {
    char magic[8];
    uint32_t version, header_bytes;
    clae_ckpt_meta meta;
    uint32_t crc, reserved;
} ckpt_header;

typedef struct {
    void *array;
    size_t bytes;
} payload_part;

#define N_PARTS 5

static void parts_of(const clae_ckpt_meta *m, const clae_ckpt_data *d, payload_part parts[N_PARTS])
{
    parts[0] = (payload_part){d->config, m->config_bytes};
    parts[1] = (payload_part){d->layers, m->layers_bytes};
    parts[2] = (payload_part){d->params, m->n_params * sizeof(float)};
    parts[3] = (payload_part){d->layer, m->n_layer_state * sizeof(float)};
    parts[4] = (payload_part){d->optim, (size_t)m->n_state * m->n_params * sizeof(float)};
}

/* Over the header's meta (sizes and training position are trusted no more
 * than the arrays) and every part. */
static uint32_t payload_crc(const clae_ckpt_meta *m, const clae_ckpt_data *d)
{
    payload_part parts[N_PARTS];
    parts_of(m, d, parts);
    uLong crc = crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)m, sizeof *m);
    for (int i = 0; i < N_PARTS; i++)
        if (parts[i].bytes) crc = crc32_z(crc, (const Bytef *)parts[i].array, parts[i].bytes);
    return (uint32_t)crc;
}

int clae_ckpt_save(const char *path, const clae_ckpt_meta *meta, const clae_ckpt_data *data,
                   clae_err *err)
{
    ckpt_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.version = CLAE_CKPT_VERSION;
    h.header_bytes = sizeof h;
    h.meta = *meta;
    h.meta.config_bytes = data->config ? strlen(data->config) : 0;
    h.meta.layers_bytes = data->layers ? strlen(data->layers) : 0;
    h.crc = payload_crc(&h.meta, data);
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    payload_part parts[N_PARTS];
    parts_of(&h.meta, data, parts);
    bool written = fwrite(&h, sizeof h, 1, a.f) == 1;
    for (int i = 0; written && i < N_PARTS; i++)
        written = !parts[i].bytes ||
                  fwrite(parts[i].array, 1, parts[i].bytes, a.f) == parts[i].bytes;
    if (!written) {
        int saved = errno;
        clae_afile_abort(&a);
        return clae_fail(err, "cannot write %s: %s", path, strerror(saved ? saved : EIO));
    }
    return clae_afile_commit(&a, err);
}

void clae_ckpt_data_free(clae_ckpt_data *d)
{
    free(d->config);
    free(d->layers);
    free(d->params);
    free(d->layer);
    free(d->optim);
    memset(d, 0, sizeof *d);
}

/* The header's sizes are checked against the file's before anything is allocated. */
static int check_sizes(FILE *f, const char *path, const ckpt_header *h, clae_err *err)
{
    const clae_ckpt_meta *m = &h->meta;
    if (m->n_state > 2) /* no optimizer keeps more than two arrays (Adam's m and v) */
        return clae_fail(
            err,
            "%s: the header says %u optimizer state arrays (at most 2): the checkpoint is corrupt",
            path, m->n_state);
    long at = ftell(f);
    if (at < 0 || fseek(f, 0, SEEK_END) != 0)
        return clae_fail(err, "%s: cannot seek in the checkpoint", path);
    double left = (double)ftell(f) - (double)at;
    double want = (double)m->config_bytes + (double)m->layers_bytes +
                  4.0 *
                      ((double)m->n_params * (1.0 + (double)m->n_state) + (double)m->n_layer_state);
    if (fseek(f, at, SEEK_SET) != 0)
        return clae_fail(err, "%s: cannot seek in the checkpoint", path);
    if (want > left) return clae_fail(err, "%s: truncated checkpoint (interrupted copy?)", path);
    if (want < left) return clae_fail(err, "%s: trailing bytes after the checkpoint payload", path);
    return 0;
}

static int read_parts(FILE *f, const char *path, const ckpt_header *h, clae_ckpt_data *d,
                      clae_err *err)
{
    if (check_sizes(f, path, h, err)) return -1;
    const clae_ckpt_meta *m = &h->meta;
    d->config = malloc(m->config_bytes + 1);
    d->layers = malloc(m->layers_bytes + 1);
    d->params = malloc(m->n_params * sizeof(float) + 1);
    d->layer = malloc(m->n_layer_state * sizeof(float) + 1);
    d->optim = malloc((size_t)m->n_state * m->n_params * sizeof(float) + 1);
    if (!d->config || !d->layers || !d->params || !d->layer || !d->optim)
        return clae_fail(err, "%s: out of host memory", path);
    payload_part parts[N_PARTS];
    parts_of(m, d, parts);
    for (int i = 0; i < N_PARTS; i++)
        if (fread(parts[i].array, 1, parts[i].bytes, f) != parts[i].bytes)
            return clae_fail(err, "%s: truncated checkpoint (interrupted copy?)", path);
    d->config[m->config_bytes] = d->layers[m->layers_bytes] = '\0';
    if (payload_crc(m, d) != h->crc)
        return clae_fail(err, "%s: checksum mismatch: the checkpoint is corrupt", path);
    /* bounds far past any run, so no counter overflows when training goes on (2^53 steps) */
    if (m->epoch < 0 || m->epoch > 100000000 || m->since_best < 0 || m->since_best > m->epoch ||
        m->optim_step < 0 || m->optim_step > (1LL << 53) || isnan(m->best_val) ||
        m->epoch_step < 0 || m->epoch_step > m->optim_step)
        return clae_fail(
            err, "%s: training position out of range (epoch %d, step %lld, since best %d, best %g)",
            path, m->epoch, (long long)m->optim_step, m->since_best, m->best_val);
    return 0;
}

int clae_ckpt_load(const char *path, clae_ckpt_meta *meta, clae_ckpt_data *data, clae_err *err)
{
    memset(data, 0, sizeof *data);
    FILE *f = clae_open_input(path, "rb", "checkpoint", 0, err);
    if (!f) return -1;
    ckpt_header h;
    int rc = -1;
    if (fread(&h, 1, 16, f) != 16 || memcmp(h.magic, MAGIC, 8) != 0) {
        clae_fail(err, "%s: not a clae checkpoint (bad magic or too short)", path);
    } else if (h.version != CLAE_CKPT_VERSION || h.header_bytes != sizeof h) {
        clae_fail(err,
                  "%s: checkpoint version %u, this clae reads version %d. HINT: use the clae that "
                  "wrote it",
                  path, h.version, CLAE_CKPT_VERSION);
    } else if (fread((char *)&h + 16, 1, sizeof h - 16, f) != sizeof h - 16) {
        clae_fail(err, "%s: truncated checkpoint header", path);
    } else if (read_parts(f, path, &h, data, err) == 0) {
        rc = 0;
    }
    fclose(f);
    if (rc == 0)
        *meta = h.meta;
    else
        clae_ckpt_data_free(data);
    return rc;
}

/* The length of line k of text (lines end at '\n'), its start in *line; -1 past the end. */
static int line_at(const char *text, int k, const char **line)
{
    for (int i = 0; i < k && text; i++) {
        text = strchr(text, '\n');
        if (text) text++;
    }
    if (!text || !*text) return -1;
    *line = text;
    const char *end = strchr(text, '\n');
    return end ? (int)(end - text) : (int)strlen(text);
}

/* A layer line without its "[section] ": the names may differ, the layers not. */
static const char *after_section(const char *line, int *len)
{
    const char *sp = line[0] == '[' ? memchr(line, ' ', (size_t)*len) : NULL;
    if (!sp) return line;
    *len -= (int)(sp + 1 - line);
    return sp + 1;
}

int clae_ckpt_match(const char *path, const clae_ckpt_meta *meta, const clae_ckpt_data *data,
                    const clae_ckpt_meta *expect, const char *layers, clae_err *err)
{
    for (int k = 0;; k++) {
        const char *a = NULL, *b = NULL;
        int la = line_at(data->layers, k, &a), lb = line_at(layers, k, &b);
        if (la < 0 && lb < 0) break;
        int ca = la, cb = lb;
        const char *pa = la < 0 ? "" : after_section(a, &ca),
                   *pb = lb < 0 ? "" : after_section(b, &cb);
        if (la >= 0 && lb >= 0 && ca == cb && memcmp(pa, pb, (size_t)ca) == 0) continue;
        return clae_fail(
            err,
            "%s: the checkpoint holds another model: line %d is \"%.*s\" there but \"%.*s\" in the "
            "config",
            path, k + 1, la < 0 ? 6 : la, la < 0 ? "(none)" : a, lb < 0 ? 6 : lb,
            lb < 0 ? "(none)" : b);
    }
    if (meta->model_signature != expect->model_signature || meta->n_params != expect->n_params ||
        meta->n_layer_state != expect->n_layer_state)
        return clae_fail(
            err,
            "%s: the checkpoint holds a different model (%llu parameters) than the config (%llu)",
            path, (unsigned long long)meta->n_params, (unsigned long long)expect->n_params);
    return 0;
}
