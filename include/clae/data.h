/* Datasets on the host: IDX files (plain or .gz), splits, shuffles. Pixels stay
 * bytes (0..255) until the device gathers a batch, so a dataset is uploaded once. */
#ifndef CLAE_DATA_H
#define CLAE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clae/error.h"
#include "clae/tensor.h"

/* One IDX file: magic 0x0000TTDD, DD big-endian uint32 dims, then the values. */
typedef struct {
    int type; /* 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64 */
    int ndims;
    uint32_t dims[4];
    size_t count; /* product of dims */
    uint8_t *u8;  /* the values when type is 0x08 */
    float *f32;   /* the values converted to float for every other type */
} clae_idx;

int clae_idx_read(const char *path, clae_idx *out, clae_err *err);
void clae_idx_free(clae_idx *x);

typedef struct {
    clae_shape sample; /* per sample, n = 1 */
    uint32_t count;
    uint8_t *pixels;   /* count * sample values, 0..255 */
    uint8_t *labels;   /* count, or NULL */
    char **names;      /* count source names (files, CSV lines), or NULL: written to split.csv */
    uint32_t skipped;  /* unreadable files skipped (skip_bad) */
    uint32_t unlisted; /* folder: images its labels CSV does not list, given label 0 */
} clae_dataset;

/* How images from files become samples. */
typedef struct {
    clae_shape image;    /* C (1 or 3) x H x W after decoding and resizing */
    float background[3]; /* RGB under transparent pixels */
    bool skip_bad;       /* skip unreadable files (and count them) instead of failing */
    bool exact_size;     /* refuse an image of another height or width instead of resizing it */
} clae_image_opts;

/* CSV table: rows "label,v0,...,vN" (a header line is recognised and skipped);
 * values / scale become pixels in [0, 1]. Errors give file:line and the column. */
int clae_dataset_load_csv(clae_dataset *d, const char *path, clae_shape image, double scale,
                          uint32_t limit, clae_err *err);
/* Every *.png in dir (sorted by name); labels_csv (optional) maps "file,label". */
int clae_dataset_load_folder(clae_dataset *d, const char *dir, const char *labels_csv,
                             const clae_image_opts *o, clae_err *err);
/* Emoji prepared by scripts/prepare_data.sh: dir/emoji/<vendor>/labels.tsv for each
 * vendor of the comma list; names containing filter (case-insensitive; "" = all);
 * classes "happy: grinning smiling; sad: crying" labels by keywords and drops the rest. */
int clae_dataset_load_emoji(clae_dataset *d, const char *dir, const char *vendors,
                            const char *filter, const char *classes, const clae_image_opts *o,
                            clae_err *err);

/* One PNG file as a dataset sample would hold it: decoded over the
 * background, resized to o->image, quantised to bytes (what a folder or
 * emoji set stores). Unreadable is an error naming the file. */
int clae_image_file_sample(const char *path, const clae_image_opts *o, uint8_t *px, clae_err *err);
/* The same, where *bad marks an unreadable file that o->skip_bad forgives. */
int clae_decode_image_file(const char *path, const clae_image_opts *o, uint8_t *px, bool *bad,
                           clae_err *err);

/* Seeded split of a whole dataset by fractions (train, val, test); stratified by
 * label when asked and labels exist. Arrays malloc'ed. */
int clae_split3(const clae_dataset *d, const double fractions[3], bool stratify, uint64_t seed,
                uint32_t *idx[3], uint32_t n[3], clae_err *err);

/* path with a leading ~/ replaced by $HOME's folder, into out. */
void clae_expand_home(const char *path, char *out, size_t n);
/* The default data folder: $CLAE_DATA_DIR, $XDG_CACHE_HOME/clae/data or ~/.cache/clae/data. */
void clae_default_data_dir(char *out, size_t n);

/* Images from an IDX u8 file of shape (N, H, W) or (N, C, H, W); labels optional
 * (NULL or ""). limit > 0 keeps only the first limit samples. */
int clae_dataset_load_idx(clae_dataset *d, const char *images, const char *labels, uint32_t limit,
                          clae_err *err);
void clae_dataset_free(clae_dataset *d);

/* Seeded split of 0..count-1: a shuffled permutation, the last
 * round(count * val_fraction) indices go to validation. Both arrays malloc'ed. */
int clae_split(uint32_t count, double val_fraction, uint64_t seed, uint32_t **train,
               uint32_t *n_train, uint32_t **val, uint32_t *n_val, clae_err *err);

#endif
