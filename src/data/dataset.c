#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "clae/data.h"
#include "clae/rng.h"

#define MAX_SIDE 65536 /* pixels along a side: far above any image a grid or a layer takes */

static int images_shape(const clae_idx *img, const char *path, clae_shape *s, clae_err *err)
{
    if (img->type != 0x08)
        return clae_fail(err,
                         "%s: images must be unsigned bytes (IDX type 08), this file has type %02X",
                         path, img->type);
    if (img->ndims != 3 && img->ndims != 4)
        return clae_fail(err, "%s: images need 3 (N, H, W) or 4 (N, C, H, W) dimensions, not %d",
                         path, img->ndims);
    for (int i = 1; i < img->ndims; i++)
        if (img->dims[i] == 0 || img->dims[i] > MAX_SIDE)
            return clae_fail(err, "%s: dimension %d is %u: expected 1 to %d", path, i, img->dims[i],
                             MAX_SIDE);
    uint32_t c = img->ndims == 4 ? img->dims[1] : 1;
    if (c != 1 && c != 3)
        return clae_fail(err, "%s: images of %u channels: expected 1 (gray) or 3 (RGB)", path, c);
    *s = img->ndims == 3 ? (clae_shape){1, 1, (int)img->dims[1], (int)img->dims[2]}
                         : (clae_shape){1, (int)c, (int)img->dims[2], (int)img->dims[3]};
    return 0;
}

static int attach_labels(clae_dataset *d, const char *path, uint32_t n_images, clae_err *err)
{
    clae_idx lab;
    if (clae_idx_read(path, &lab, err)) return -1;
    if (lab.type != 0x08 || lab.ndims != 1 || lab.dims[0] != n_images) {
        clae_idx_free(&lab);
        return clae_fail(err,
                         "%s: labels must be a 1-D unsigned-byte IDX with one entry per image (%u)",
                         path, n_images);
    }
    d->labels = lab.u8;
    lab.u8 = NULL;
    clae_idx_free(&lab);
    return 0;
}

int clae_dataset_load_idx(clae_dataset *d, const char *images, const char *labels, uint32_t limit,
                          clae_err *err)
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
    if (d->names)
        for (uint32_t i = 0; i < d->count; i++) free(d->names[i]);
    free(d->names);
    free(d->pixels);
    free(d->labels);
    d->pixels = d->labels = NULL;
    d->names = NULL;
}

void clae_expand_home(const char *path, char *out, size_t n)
{
    const char *home = getenv("HOME");
    if (strncmp(path, "~/", 2) == 0 && home)
        snprintf(out, n, "%s/%s", home, path + 2);
    else
        snprintf(out, n, "%s", path);
}

void clae_default_data_dir(char *out, size_t n)
{
    const char *v;
    if ((v = getenv("CLAE_DATA_DIR")) && *v)
        snprintf(out, n, "%s", v);
    else if ((v = getenv("XDG_CACHE_HOME")) && *v)
        snprintf(out, n, "%s/clae/data", v);
    else
        snprintf(out, n, "%s/.cache/clae/data", (v = getenv("HOME")) ? v : ".");
}

/* Shuffled members of one group (all samples, or one class), cut by fractions. */
static void split_group(uint32_t *members, uint32_t m, const double f[3], clae_rng *rng,
                        uint32_t *idx[3], uint32_t n[3])
{
    clae_rng_shuffle(rng, members, m);
    uint32_t n_train = (uint32_t)llround(m * f[0]), n_val = (uint32_t)llround(m * f[1]);
    if (n_train + n_val > m) n_val = m - n_train;
    for (uint32_t i = 0; i < m; i++) {
        int s = i < n_train ? 0 : i < n_train + n_val ? 1 : 2;
        idx[s][n[s]++] = members[i];
    }
}

int clae_split3(const clae_dataset *d, const double f[3], bool stratify, uint64_t seed,
                uint32_t *idx[3], uint32_t n[3], clae_err *err)
{
    uint32_t *members = malloc((size_t)d->count * sizeof *members + 4);
    for (int s = 0; s < 3; s++) idx[s] = malloc((size_t)d->count * sizeof(uint32_t) + 4), n[s] = 0;
    if (!members || !idx[0] || !idx[1] || !idx[2]) {
        free(members);
        for (int s = 0; s < 3; s++) free(idx[s]);
        return clae_fail(err, "out of host memory splitting %u samples", d->count);
    }
    clae_rng rng;
    clae_rng_seed(&rng, seed, 0x5B117);
    if (stratify && d->labels) {
        for (int label = 0; label < 256; label++) {
            uint32_t m = 0;
            for (uint32_t i = 0; i < d->count; i++)
                if (d->labels[i] == label) members[m++] = i;
            if (m) split_group(members, m, f, &rng, idx, n);
        }
    } else {
        for (uint32_t i = 0; i < d->count; i++) members[i] = i;
        split_group(members, d->count, f, &rng, idx, n);
    }
    free(members);
    return 0; /* the caller checks that each split has a sample, naming the key */
}

int clae_split(uint32_t count, double val_fraction, uint64_t seed, uint32_t **train,
               uint32_t *n_train, uint32_t **val, uint32_t *n_val, clae_err *err)
{
    uint32_t nv = (uint32_t)llround(count * val_fraction);
    if (nv >= count)
        return clae_fail(err, "val_fraction %.3f leaves no training samples of %u", val_fraction,
                         count);
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
