/* Datasets on the host: IDX files (plain or .gz), splits, shuffles. Pixels stay
 * bytes (0..255) until the device gathers a batch, so a dataset is uploaded once. */
#ifndef CLAE_DATA_H
#define CLAE_DATA_H

#include <stdint.h>

#include "clae/error.h"
#include "clae/tensor.h"

/* One IDX file: magic 0x0000TTDD, DD big-endian uint32 dims, then the values. */
typedef struct {
    int type;          /* 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64 */
    int ndims;
    uint32_t dims[4];
    size_t count;      /* product of dims */
    uint8_t *u8;       /* the values when type is 0x08 */
    float *f32;        /* the values converted to float for every other type */
} clae_idx;

int clae_idx_read(const char *path, clae_idx *out, clae_err *err);
void clae_idx_free(clae_idx *x);

typedef struct {
    clae_shape sample; /* per sample, n = 1 */
    uint32_t count;
    uint8_t *pixels;   /* count * sample values, 0..255 */
    uint8_t *labels;   /* count, or NULL */
} clae_dataset;

/* Images from an IDX u8 file of shape (N, H, W) or (N, C, H, W); labels optional
 * (NULL or ""). limit > 0 keeps only the first limit samples. */
int clae_dataset_load_idx(clae_dataset *d, const char *images, const char *labels, uint32_t limit, clae_err *err);
void clae_dataset_free(clae_dataset *d);

/* Seeded split of 0..count-1: a shuffled permutation, the last
 * round(count * val_fraction) indices go to validation. Both arrays malloc'ed. */
int clae_split(uint32_t count, double val_fraction, uint64_t seed, uint32_t **train, uint32_t *n_train,
               uint32_t **val, uint32_t *n_val, clae_err *err);

#endif
