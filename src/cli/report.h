/* The pictures of a trained model, as the commands write them and as
 * clae train writes them at the end ([report] in the config). */
#ifndef CLAE_CLI_REPORT_H
#define CLAE_CLI_REPORT_H

#include "run.h"

int report_latent_map(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err);
int report_weights(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err);
int report_features(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err);
/* After training: loads the run's model alone and writes what cfg->report asks for into
 * RUN/latent-map/, RUN/weights/, RUN/features/ (auto: a latent map when the data is labelled
 * and its test split holds 4 to map_points images; feature maps for a model with a
 * convolution). */
int report_after_training(clae_ctx *ctx, const char *run_dir, const clae_config *cfg,
                          uint32_t test_images, bool labelled, clae_err *err);

#endif
