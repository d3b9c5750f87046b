/* Checkpoint file: a fixed header (magic, version, sizes, training position,
 * CRC-32 of the payload), then the parameters and the optimizer state as
 * little-endian float32 arrays. Written atomically. */
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

static uint32_t payload_crc(const float *params, const float *state, const clae_ckpt_meta *m)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32_z(crc, (const Bytef *)params, m->n_params * sizeof(float));
    if (m->n_state) crc = crc32_z(crc, (const Bytef *)state, m->n_state * m->n_params * sizeof(float));
    return (uint32_t)crc;
}

int clae_ckpt_save(const char *path, const clae_ckpt_meta *meta, const float *params, const float *state,
                   clae_err *err)
{
    ckpt_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.version = CLAE_CKPT_VERSION;
    h.header_bytes = sizeof h;
    h.meta = *meta;
    h.crc = payload_crc(params, state, meta);
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    fwrite(&h, sizeof h, 1, a.f);
    fwrite(params, sizeof(float), meta->n_params, a.f);
    if (meta->n_state) fwrite(state, sizeof(float), meta->n_state * meta->n_params, a.f);
    return clae_afile_commit(&a, err);
}

static int read_arrays(FILE *f, const char *path, const ckpt_header *h, float **params, float **state, clae_err *err)
{
    size_t np = h->meta.n_params, ns = (size_t)h->meta.n_state * np;
    *params = malloc(np * sizeof(float) + 1);
    *state = malloc(ns * sizeof(float) + 1);
    if (!*params || !*state) return clae_fail(err, "%s: out of host memory", path);
    if (fread(*params, sizeof(float), np, f) != np || fread(*state, sizeof(float), ns, f) != ns)
        return clae_fail(err, "%s: truncated checkpoint (interrupted copy?)", path);
    if (fgetc(f) != EOF) return clae_fail(err, "%s: trailing bytes after the checkpoint payload", path);
    if (payload_crc(*params, *state, &h->meta) != h->crc)
        return clae_fail(err, "%s: checksum mismatch: the checkpoint is corrupt", path);
    return 0;
}

int clae_ckpt_load(const char *path, clae_ckpt_meta *meta, const clae_ckpt_meta *expect, float **params,
                   float **state, clae_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return clae_fail(err, "%s: cannot open checkpoint", path);
    ckpt_header h;
    int rc = -1;
    float *p = NULL, *s = NULL;
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, MAGIC, 8) != 0) {
        clae_fail(err, "%s: not a clae checkpoint (bad magic or too short)", path);
    } else if (h.version != CLAE_CKPT_VERSION || h.header_bytes != sizeof h) {
        clae_fail(err, "%s: checkpoint version %u, this clae reads version %d. HINT: use the clae that wrote it",
                  path, h.version, CLAE_CKPT_VERSION);
    } else if (expect && (h.meta.model_signature != expect->model_signature || h.meta.n_params != expect->n_params)) {
        clae_fail(err, "%s: the checkpoint holds a different model (%llu parameters) than the config (%llu): "
                       "were layers changed after training?",
                  path, (unsigned long long)h.meta.n_params, (unsigned long long)expect->n_params);
    } else if (!params || read_arrays(f, path, &h, &p, &s, err) == 0) {
        rc = 0;
    }
    fclose(f);
    if (rc == 0) {
        *meta = h.meta;
        if (params) *params = p, *state = s;
    } else {
        free(p);
        free(s);
    }
    return rc;
}
