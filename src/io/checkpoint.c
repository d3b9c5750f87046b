/* Checkpoint file: a fixed header (magic, version, sizes, training position,
 * CRC-32 of the payload), then the parameters, the layer state and the
 * optimizer state as little-endian float32 arrays. Written atomically. */
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
    float **array;
    size_t n;
} payload_part;

static void parts_of(const clae_ckpt_meta *m, clae_ckpt_data *d, payload_part parts[3])
{
    parts[0] = (payload_part){&d->params, m->n_params};
    parts[1] = (payload_part){&d->layer, m->n_layer_state};
    parts[2] = (payload_part){&d->optim, (size_t)m->n_state * m->n_params};
}

static uint32_t payload_crc(const clae_ckpt_meta *m, clae_ckpt_data *d)
{
    payload_part parts[3];
    parts_of(m, d, parts);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int i = 0; i < 3; i++)
        if (parts[i].n) crc = crc32_z(crc, (const Bytef *)*parts[i].array, parts[i].n * sizeof(float));
    return (uint32_t)crc;
}

int clae_ckpt_save(const char *path, const clae_ckpt_meta *meta, const clae_ckpt_data *data, clae_err *err)
{
    clae_ckpt_data d = *data;
    ckpt_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.version = CLAE_CKPT_VERSION;
    h.header_bytes = sizeof h;
    h.meta = *meta;
    h.crc = payload_crc(meta, &d);
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    fwrite(&h, sizeof h, 1, a.f);
    payload_part parts[3];
    parts_of(meta, &d, parts);
    for (int i = 0; i < 3; i++)
        if (parts[i].n) fwrite(*parts[i].array, sizeof(float), parts[i].n, a.f);
    return clae_afile_commit(&a, err);
}

void clae_ckpt_data_free(clae_ckpt_data *d)
{
    free(d->params);
    free(d->layer);
    free(d->optim);
    memset(d, 0, sizeof *d);
}

static int read_arrays(FILE *f, const char *path, const ckpt_header *h, clae_ckpt_data *d, clae_err *err)
{
    payload_part parts[3];
    parts_of(&h->meta, d, parts);
    for (int i = 0; i < 3; i++) {
        *parts[i].array = malloc(parts[i].n * sizeof(float) + 1);
        if (!*parts[i].array) return clae_fail(err, "%s: out of host memory", path);
        if (fread(*parts[i].array, sizeof(float), parts[i].n, f) != parts[i].n)
            return clae_fail(err, "%s: truncated checkpoint (interrupted copy?)", path);
    }
    if (fgetc(f) != EOF) return clae_fail(err, "%s: trailing bytes after the checkpoint payload", path);
    if (payload_crc(&h->meta, d) != h->crc) return clae_fail(err, "%s: checksum mismatch: the checkpoint is corrupt", path);
    return 0;
}

int clae_ckpt_load(const char *path, clae_ckpt_meta *meta, const clae_ckpt_meta *expect, clae_ckpt_data *data,
                   clae_err *err)
{
    memset(data, 0, sizeof *data);
    FILE *f = fopen(path, "rb");
    if (!f) return clae_fail(err, "%s: cannot open checkpoint", path);
    ckpt_header h;
    int rc = -1;
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, MAGIC, 8) != 0) {
        clae_fail(err, "%s: not a clae checkpoint (bad magic or too short)", path);
    } else if (h.version != CLAE_CKPT_VERSION || h.header_bytes != sizeof h) {
        clae_fail(err, "%s: checkpoint version %u, this clae reads version %d. HINT: use the clae that wrote it",
                  path, h.version, CLAE_CKPT_VERSION);
    } else if (h.meta.model_signature != expect->model_signature || h.meta.n_params != expect->n_params ||
               h.meta.n_layer_state != expect->n_layer_state) {
        clae_fail(err, "%s: the checkpoint holds a different model (%llu parameters) than the config (%llu): "
                       "were layers changed after training?",
                  path, (unsigned long long)h.meta.n_params, (unsigned long long)expect->n_params);
    } else if (read_arrays(f, path, &h, data, err) == 0) {
        rc = 0;
    }
    fclose(f);
    if (rc == 0) *meta = h.meta;
    else clae_ckpt_data_free(data);
    return rc;
}
