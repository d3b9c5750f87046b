/* The image codec of a trained run (compress.c), shared by compress, decompress and rd. */
#ifndef CLAE_CLI_CODEC_RUN_H
#define CLAE_CLI_CODEC_RUN_H

#include "clae/codec.h"
#include "run.h"

#define CODEC_MAX_LEVEL_LIST 16

/* The levels a model's codec defaults to: 0 (the integers) when its code comes out of a
 * quantize layer, else 16. */
int codec_default_levels(const clae_model *m);
/* --levels L[,L...] (NULL: the default) into levels (at most max). */
int codec_parse_levels(const clae_model *m, const char *text, int *levels, int *n, int max,
                       clae_err *err);
/* The codec of s's model at levels: the table beside its checkpoint when it was made for these
 * weights, else fitted on the training split's codes and saved there. */
int codec_for_model(clae_ctx *ctx, clae_saved_model *s, int levels, clae_codec *c, clae_err *err);

#endif
