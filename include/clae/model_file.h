/* A trained model on its own: saved with its description and config, loaded
 * from a run directory or a checkpoint file on any device, with no dataset
 * and no optimizer. */
#ifndef CLAE_MODEL_FILE_H
#define CLAE_MODEL_FILE_H

#include "clae/config.h"
#include "clae/io.h"
#include "clae/nn.h"
#include "clae/optim.h"

/* "input CxHxW", then one line per layer (clae_config_describe_layer), each
 * ending in '\n'; malloc'ed, NULL when out of memory. */
char *clae_model_describe(const clae_model *m);
/* FNV-1a of a description without its section names. */
uint64_t clae_model_signature(const char *description);

/* FNV-1a (32 bits) of m's parameters and layer state as the device holds them: what names the
 * weights a .clae file was coded with. */
int clae_model_weights_hash(clae_model *m, clae_ctx *ctx, uint32_t *hash, clae_err *err);

/* Writes m's parameters and layer state, its description and cfg's resolved
 * text with meta's training position (optim: n_state * n_params floats or
 * NULL) to path, atomically. */
int clae_model_save(const char *path, clae_model *m, clae_ctx *ctx, const clae_config *cfg,
                    const clae_ckpt_meta *meta, const float *optim, clae_err *err);
/* Reads path, refuses another architecture than m's (naming the first layer
 * that differs), uploads parameters and layer state into m. *data keeps the
 * optimizer state (free with clae_ckpt_data_free). */
int clae_model_read(const char *path, clae_model *m, clae_ctx *ctx, clae_ckpt_meta *meta,
                    clae_ckpt_data *data, clae_err *err);

/* A training checkpoint: the model with the optimizer's state (read from the
 * device) and pos's position (optimizer kind, state count and step filled in here). */
int clae_model_save_training(const char *path, clae_model *m, clae_ctx *ctx, const clae_config *cfg,
                             clae_ckpt_meta pos, clae_optim *opt, clae_err *err);
/* Reads one into m and opt (refusing another optimizer) and its position into *meta;
 * opt->step is restored. */
int clae_model_load_training(const char *path, clae_model *m, clae_ctx *ctx, clae_optim *opt,
                             clae_ckpt_meta *meta, clae_err *err);

typedef struct {
    int max_batch; /* rows a forward may take; 0: the run's train.batch_size */
    bool best;     /* a run directory: its best.bin instead of checkpoint.bin */
    char *const
        *sets; /* "section.key=value" overrides of the config (the layers must still match) */
    int n_sets;
} clae_load_opts;

typedef struct {
    clae_config cfg; /* the config the model was trained with (run directory: its config.ini) */
    clae_model model;
    clae_ckpt_meta meta;   /* the training position saved with it */
    char checkpoint[1100]; /* the file read */
} clae_saved_model;

/* path: a run directory (config.ini and checkpoint.bin or best.bin) or a
 * checkpoint file (the config it holds). o may be NULL. */
int clae_model_load(clae_saved_model *s, clae_ctx *ctx, const char *path, const clae_load_opts *o,
                    clae_err *err);
void clae_saved_model_release(clae_saved_model *s);

#endif
