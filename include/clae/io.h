/* Files a run writes: every one goes to a temp name and is renamed into place,
 * so a crash never leaves a partial file passed off as complete. */
#ifndef CLAE_IO_H
#define CLAE_IO_H

#include <stdint.h>
#include <stdio.h>

#include "clae/afile.h"
#include "clae/error.h"
#include "clae/tensor.h"

/* ---- checkpoints ---- */
/* Version 2 holds the model's description and the resolved config, so a
 * checkpoint alone rebuilds its model; version 1 files are refused. */
#define CLAE_CKPT_VERSION 2
typedef struct {
    uint64_t
        model_signature; /* hash of the layer descriptions: refuses a checkpoint of another model */
    uint64_t n_params;
    uint64_t n_layer_state;       /* non-trained layer state (batch norm running statistics) */
    uint32_t optim_kind, n_state; /* optimizer state arrays of n_params floats each */
    int64_t optim_step;
    int32_t epoch;      /* completed epochs */
    int32_t since_best; /* epochs since the best validation loss (early stopping) */
    double best_val;
    int32_t input_c, input_h, input_w; /* the model's input sample */
    int32_t epoch_step; /* steps done of epoch + 1 when training was interrupted (0: none) */
    uint64_t config_bytes, layers_bytes; /* texts before the arrays */
} clae_ckpt_meta;

/* What a checkpoint holds after its header: the resolved config and the
 * model's description (texts, NUL-terminated here), then params (n_params),
 * layer (n_layer_state) and optimizer state (n_state * n_params floats). */
typedef struct {
    char *config, *layers;
    float *params, *layer, *optim;
} clae_ckpt_data;

int clae_ckpt_save(const char *path, const clae_ckpt_meta *meta, const clae_ckpt_data *data,
                   clae_err *err);
/* Reads and checks (magic, version, sizes, checksum) a checkpoint; its
 * arrays and texts are malloc'ed into *data: free with clae_ckpt_data_free. */
int clae_ckpt_load(const char *path, clae_ckpt_meta *meta, clae_ckpt_data *data, clae_err *err);
/* Refuses a checkpoint of another model than layers (its description, one
 * line a layer, "[section] ..." first) and signature, naming the first line
 * that differs with both versions. */
int clae_ckpt_match(const char *path, const clae_ckpt_meta *meta, const clae_ckpt_data *data,
                    const clae_ckpt_meta *expect, const char *layers, clae_err *err);
void clae_ckpt_data_free(clae_ckpt_data *data);

/* ---- NumPy .npy (npy.c) ---- */
/* rows x cols float32 as format 1.0, '<f4', C order, shape (rows, cols); atomically. */
int clae_npy_write(const char *path, const float *data, size_t rows, size_t cols, clae_err *err);
/* A float32 .npy of shape (N, D) or (N,) (cols 1); *data malloc'ed. Other
 * dtypes, Fortran order, other ranks, truncated or longer files are one-line errors. */
int clae_npy_read(const char *path, float **data, size_t *rows, size_t *cols, clae_err *err);

/* ---- pictures ---- */
/* rows[r] holds n_cols samples of shape sample (C,H,W) with values in [0,1];
 * writes them as a grid (gray for C = 1, RGB for C = 3), each pixel scale x scale. */
int clae_png_grid(const char *path, const float *const *rows, int n_rows, int n_cols,
                  clae_shape sample, int scale, clae_err *err);

/* One image (C x H x W, values in [0, 1]) as the bytes of a picture: H x W x C interleaved,
 * each value rounded to the nearest of 0..255 (NaN: 0). */
void clae_planar_to_bytes(const float *planar, clae_shape s, unsigned char *hwc);
/* One image at its own size (no gutter, no scaling) as a PNG, atomically. */
int clae_png_image(const char *path, const float *planar, clae_shape s, clae_err *err);

/* An 8-bit picture (width x height x channels, 1 gray or 3 RGB), atomically. */
int clae_png_write(const char *path, const unsigned char *img, int width, int height, int channels,
                   clae_err *err);

/* A 2-D scatter of n points coloured by label (-1 or labels NULL: one colour),
 * as SVG with axes and a legend of names (names[label], NULL: the numbers),
 * and as PNG (the legend's swatches numbered). scatter.c. */
typedef struct {
    const float *xy; /* n x 2 */
    const int *labels;
    size_t n;
    const char *const *names; /* n_classes names, or NULL */
    int n_classes;
    const char *title;
    const char *const *point_names; /* n, shown on hovering a point in the SVG; or NULL */
} clae_scatter;
int clae_svg_scatter(const char *path, const clae_scatter *s, clae_err *err);
int clae_png_scatter(const char *path, const clae_scatter *s, clae_err *err);

typedef struct {
    const char *label, *color;
    const double *x, *y;
    int n;
} clae_series;
int clae_svg_plot(const char *path, const char *title, const char *xlabel, const char *ylabel,
                  const clae_series *series, int n_series, clae_err *err);
/* s as SVG/XML text: <, > and & escaped (and ' for attribute values), control bytes left out. */
void clae_svg_text(FILE *f, const char *s);
/* n labelled bars of values (non-negative), each with its value written above it. */
int clae_svg_bars(const char *path, const char *title, const char *const *labels,
                  const double *values, int n, clae_err *err);

/* ---- JSON ---- */
void clae_json_string(FILE *f, const char *s);

#endif
