#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clae/data.h"
#include "clae/rng.h"

static int images_shape(const clae_idx *img, const char *path, clae_shape *s, clae_err *err)
{
    if (img->type != 0x08)
        return clae_fail(err, "%s: images must be unsigned bytes (IDX type 08), this file has type %02X", path,
                         img->type);
    if (img->ndims == 3) *s = (clae_shape){1, 1, (int)img->dims[1], (int)img->dims[2]};
    else if (img->ndims == 4) *s = (clae_shape){1, (int)img->dims[1], (int)img->dims[2], (int)img->dims[3]};
    else return clae_fail(err, "%s: images need 3 (N, H, W) or 4 (N, C, H, W) dimensions, not %d", path, img->ndims);
    return 0;
}

static int attach_labels(clae_dataset *d, const char *path, uint32_t n_images, clae_err *err)
{
    clae_idx lab;
    if (clae_idx_read(path, &lab, err)) return -1;
    if (lab.type != 0x08 || lab.ndims != 1 || lab.dims[0] != n_images) {
        clae_idx_free(&lab);
        return clae_fail(err, "%s: labels must be a 1-D unsigned-byte IDX with one entry per image (%u)", path,
                         n_images);
    }
    d->labels = lab.u8;
    lab.u8 = NULL;
    clae_idx_free(&lab);
    return 0;
}

int clae_dataset_load_idx(clae_dataset *d, const char *images, const char *labels, uint32_t limit, clae_err *err)
{
    memset(d, 0, sizeof *d);
    clae_idx img;
    if (clae_idx_read(images, &img, err)) return -1;
    if (images_shape(&img, images, &d->sample, err)) {
        clae_idx_free(&img);
        return -1;
    }
    uint32_t n = img.dims[0];
    d->pixels = img.u8; /* owned now */
    d->count = (limit > 0 && limit < n) ? limit : n;
    if (labels && *labels && attach_labels(d, labels, n, err)) {
        clae_dataset_free(d);
        return -1;
    }
    if (d->count == 0) {
        clae_dataset_free(d);
        return clae_fail(err, "%s: holds no images", images);
    }
    return 0;
}

void clae_dataset_free(clae_dataset *d)
{
    free(d->pixels);
    free(d->labels);
    d->pixels = d->labels = NULL;
}

int clae_split(uint32_t count, double val_fraction, uint64_t seed, uint32_t **train, uint32_t *n_train,
               uint32_t **val, uint32_t *n_val, clae_err *err)
{
    uint32_t nv = (uint32_t)llround(count * val_fraction);
    if (nv >= count) return clae_fail(err, "val_fraction %.3f leaves no training samples of %u", val_fraction, count);
    uint32_t *perm = malloc((size_t)count * sizeof *perm);
    uint32_t *v = malloc((size_t)(nv ? nv : 1) * sizeof *v);
    if (!perm || !v) {
        free(perm);
        free(v);
        return clae_fail(err, "out of host memory splitting %u samples", count);
    }
    for (uint32_t i = 0; i < count; i++) perm[i] = i;
    clae_rng rng;
    clae_rng_seed(&rng, seed, 0x5B117);
    clae_rng_shuffle(&rng, perm, count);
    memcpy(v, perm + (count - nv), (size_t)nv * sizeof *v);
    *train = perm;
    *n_train = count - nv;
    *val = v;
    *n_val = nv;
    return 0;
}
