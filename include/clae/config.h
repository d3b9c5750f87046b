/* Experiments as INI files. Sections: [model], [data], [train], then one
 * section per layer in order, named by role and a unique name:
 * [encoder.NAME], [latent.NAME], [decoder.NAME], [classifier.NAME]. Every key of the fixed sections
 * has a default, a range and a one-line doc in a table (config.c); overrides
 * `section.key=value` apply last; errors say file:line, key, and what is expected. */
#ifndef CLAE_CONFIG_H
#define CLAE_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "clae/error.h"
#include "clae/nn.h"
#include "clae/optim.h"

typedef struct {
    char name[64];
    clae_init_kind init; /* copied into every layer's spec */
} clae_model_cfg;

/* X(ID, name): the enums of the fixed sections and the names they take */
#define CLAE_FORMAT_LIST(X) \
    X(IDX, idx) X(CSV, csv) X(FOLDER, folder) X(EMOJI, emoji) X(GRAPH, graph)
#define CLAE_X_FORMAT(id, name) CLAE_DATA_##id,
typedef enum { CLAE_FORMAT_LIST(CLAE_X_FORMAT) } clae_data_format;
#undef CLAE_X_FORMAT
/* reconstruction loss: mean over all values, or sum over a sample's values (mean over the batch) */
#define CLAE_REDUCTION_LIST(X) X(MEAN, mean) X(SUM, sum)
#define CLAE_X_REDUCTION(id, name) CLAE_REDUCTION_##id,
typedef enum { CLAE_REDUCTION_LIST(CLAE_X_REDUCTION) } clae_reduction;
#undef CLAE_X_REDUCTION

typedef struct {
    clae_data_format format;
    char train_images[512], train_labels[512], test_images[512], test_labels[512]; /* idx */
    double val_fraction;                                                           /* idx */
    int train_limit, test_limit;
    char path[512];      /* csv file, image folder, or the data folder of emoji ("" = default) */
    char labels[512];    /* folder: optional "file,label" CSV; graph: "node,label" */
    char features[512];  /* graph: optional "node,f1,...,fd" CSV ("": one-hot nodes) */
    clae_shape image;    /* csv, folder, emoji: C x H x W of a sample */
    double scale;        /* csv: value / scale is the pixel in [0, 1] */
    float background[3]; /* folder, emoji: under transparent pixels */
    char vendors[128], filter[128], classes[512]; /* emoji */
    char class_names[512]; /* label names for legends ("" = from classes, or Fashion-MNIST's) */
    /* train and validation keep these labels only (test keeps all): anomaly detection */
    char train_classes[512], exclude_classes[512];
    double split[3]; /* csv, folder, emoji: train, val, test fractions */
    bool stratify, skip_bad;
} clae_data_cfg;

typedef struct {
    int copies; /* each sample of an augmented split appears this many times, each a fixed variant
                 */
    char splits[64];                         /* which splits: "train", "train,val,test", ... */
    double hflip, vflip;                     /* probabilities */
    double rotate;                           /* up to this many degrees either way */
    double brightness, contrast, saturation; /* factors drawn from [1 - x, 1 + x] */
    double crop; /* random resized crop: kept area fraction drawn from [crop, 1] */
    bool redraw; /* training split: variants drawn from (seed, epoch, sample, copy), new every epoch
                  */
} clae_augment_cfg;

typedef struct {
    int epochs, batch_size;
    clae_optim_kind optimizer;
    double lr, weight_decay, momentum, dampening, beta1, beta2, eps;
    bool nesterov;
    clae_loss_kind loss;
    int seed;
    int log_every; /* steps between progress lines and loss reads */
    int grid;      /* test images shown in the reconstruction grid */
    clae_schedule_kind schedule;
    int step_epochs, warmup_steps;
    double gamma, min_lr, clip_norm, clip_value, min_delta;
    int patience;  /* early stopping: epochs without improvement (0: off) */
    int negatives; /* graph: sampled non-edges per edge (0: all node pairs) */
    clae_reduction reduction;
    clae_noise_kind noise; /* denoising corrupts the input, the loss compares with the clean one */
    double noise_level;    /* gaussian sigma, or the probability of salt and pepper / masking */
    double lambda;         /* multitask: weight of the classifier's cross-entropy */
    double latent_l1, latent_kl, latent_rho; /* sparse: penalties on the code, KL toward rho */
    double rate_lambda; /* codec: weight of the code's bits per pixel (terms/rate.c) */
    double autotune;    /* seconds of GEMM tuning on a CPU device without any (0: never) */
    bool sync_bn;       /* mpirun: batch norm statistics over the global batch */
    int bucket_kb;      /* mpirun: gradient allreduce bucket size */
    char devices[256];  /* mpirun: rank-to-device map (entry local rank modulo the count) */
    char out_dir[512];
} clae_train_cfg;

/* [report]: the pictures clae train writes at the end (the commands' own, into RUN/COMMAND/) */
#define CLAE_SWITCH_LIST(X) X(AUTO, auto) X(TRUE, true) X(FALSE, false)
#define CLAE_X_SWITCH(id, name) CLAE_SWITCH_##id,
typedef enum { CLAE_SWITCH_LIST(CLAE_X_SWITCH) } clae_switch;
#undef CLAE_X_SWITCH
#define CLAE_MAP_METHOD_LIST(X) X(TSNE, tsne) X(PCA, pca)
#define CLAE_X_MAP(id, name) CLAE_MAP_##id,
typedef enum { CLAE_MAP_METHOD_LIST(CLAE_X_MAP) } clae_map_method;
#undef CLAE_X_MAP
typedef struct {
    clae_switch latent_map; /* auto: labelled data with at most map_points test images */
    clae_map_method map_method;
    int map_points;
    bool weights;
    clae_switch features; /* auto: models with a convolution */
} clae_report_cfg;

typedef struct {
    char path[512];
    clae_model_cfg model;
    clae_data_cfg data;
    clae_train_cfg train;
    clae_augment_cfg augment;
    clae_report_cfg report;
    clae_layer_spec *layers;
    int n_layers;
} clae_config;

/* Parses path, applies the overrides ("section.key=value"), validates. */
int clae_config_load(clae_config *c, const char *path, char *const *sets, int n_sets,
                     clae_err *err);
/* The same from a config's text (a checkpoint's); name stands for the file in errors. */
int clae_config_load_text(clae_config *c, const char *name, const char *text, char *const *sets,
                          int n_sets, clae_err *err);
void clae_config_free(clae_config *c);
/* Writes every key, defaults included, so the file trains again as it is. */
int clae_config_write(const clae_config *c, FILE *f);
/* "[section] type key=value ...": the layer's keys that define what it
 * computes and holds (not those that only change its training), one line
 * without the newline. A checkpoint records these for every layer. */
int clae_config_describe_layer(FILE *f, const clae_layer_spec *s);
/* Every key with its default and doc, for `clae keys`. */
void clae_config_print_keys(FILE *f);
/* The names of labels 0, 1, ... for legends, into names (max of them, each
 * up to 63 characters): data.class_names, else the data.classes names, else
 * Fashion-MNIST's ten for its default files; the number of names (0: none). */
int clae_config_class_names(const clae_data_cfg *d, char names[][64], int max);
/* A comma list of labels ("0,1,2") into mask (256 entries); -1 when an entry is not 0..255. */
int clae_config_class_mask(const char *list, bool mask[256]);
/* The labels training keeps (data.train_classes, or all but data.exclude_classes) into keep;
 * false, keep untouched, when neither is set. */
bool clae_config_kept_classes(const clae_data_cfg *d, bool keep[256]);
clae_optim_cfg clae_config_optim(const clae_config *c);
clae_schedule clae_config_schedule(const clae_config *c);

/* Raw INI document: entries with their lines, read through inih. */
typedef struct {
    char section[96], key[64], value[256];
    int line; /* 0 for an override */
    bool used;
} clae_ini_entry;

typedef struct {
    char name[96];
    int line;
} clae_ini_section;

typedef struct {
    char path[512];
    clae_ini_entry *entries;
    int n_entries, cap_entries;
    clae_ini_section *sections;
    int n_sections, cap_sections;
} clae_ini_doc;

int clae_ini_read(clae_ini_doc *doc, const char *path, clae_err *err);
int clae_ini_read_stream(clae_ini_doc *doc, const char *path, FILE *f, clae_err *err);
/* "section.key=value": replaces the key's value or adds it; the section must exist
 * in the file unless it is one of fixed[]. */
int clae_ini_override(clae_ini_doc *doc, const char *assignment, const char *const *fixed,
                      clae_err *err);
void clae_ini_free(clae_ini_doc *doc);

#endif
