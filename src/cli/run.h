/* The run directory: paths and the files written into it. */
#ifndef CLAE_CLI_RUN_H
#define CLAE_CLI_RUN_H

#include "clae/model_file.h"
#include "clae/train.h"
#include "cli.h"

typedef struct {
    char dir[1024];
    char config[1100], metrics_csv[1100], steps_csv[1100], loss_svg[1100], recon_png[1100];
    char checkpoint[1100], best[1100], summary[1100], eval_json[1100], split_csv[1100],
        samples_png[1100];
    char accuracy_svg[1100];
} run_paths;

/* Where training stands, for the logs every trainer writes (metrics.csv, --report lines). */
typedef struct {
    const clae_config *cfg;
    int epoch; /* completed */
    long step;
    double lr, best_val;
    const clae_metrics *train; /* of the last epoch */
} run_position;

static inline run_position run_position_of(const clae_trainer *t)
{
    return (run_position){t->cfg, t->epoch, t->step, t->lr, t->best_val, &t->train_metrics};
}

void run_set_paths(run_paths *rp, const char *dir);
/* dir given: use it (resume: must hold a checkpoint); else out_dir/name, made unique. */
int run_prepare(run_paths *rp, const clae_config *cfg, const char *dir, bool resume, clae_err *err);
int run_write_config(const run_paths *rp, const clae_config *cfg, clae_err *err);
/* split.csv: which sample went to which split (reproducible from the seed) */
int run_write_split(const run_paths *rp, const clae_trainer *t, clae_err *err);
/* An SVG of metrics.csv's train_col and val_col (either may be NULL) against epoch. */
int run_plot_columns(const char *svg, const run_paths *rp, const char *train_col,
                     const char *val_col, const char *title, const char *ylabel, clae_err *err);
/* summary.json's "device" object and timing of kernel builds, after '"device": '. */
void run_write_device_json(FILE *f, const clae_ctx *c);
/* metrics.csv: the epoch's training metrics, val's, the learning rate and the epoch's seconds */
int run_append_metrics(const run_paths *rp, const run_position *t, const clae_metrics *val,
                       double seconds, clae_err *err);
/* Resume: metrics.csv rows past the checkpoint's epoch and steps.csv rows past its step
 * (written before a kill could rename the checkpoint) are dropped. */
int run_align_logs(const run_paths *rp, int epoch, long step, clae_err *err);
/* Removes NAME.tmp.PID files in the run directory whose process is gone. */
void run_remove_stale_temps(const run_paths *rp);
/* Test metrics, recon.png, loss.svg and summary.json. */
int run_finish(const run_paths *rp, clae_trainer *t, double total_s, clae_metrics *test_out,
               clae_err *err);
void run_print_device(const clae_ctx *ctx);
int run_write_grid(const char *path, clae_trainer *t, clae_err *err);

/* A trained run's model alone: o->positional (a run directory or a
 * checkpoint), --best, --set overrides. */
int run_load_model(clae_ctx *ctx, const clae_cli_opts *o, clae_saved_model *s, clae_err *err);
/* The run's data for its loaded model: the same sample shape and, with a
 * classifier head, labels. */
int run_open_data(clae_ctx *ctx, clae_saved_model *s, clae_data *d, clae_err *err);
/* Opens the device, loads o->positional's model (printing device and model)
 * and runs f on it: the body of the commands that use a trained model. */
int run_with_model(clae_cli_opts *o,
                   int (*f)(clae_ctx *, clae_saved_model *, const clae_cli_opts *, clae_err *),
                   clae_err *err);
/* The whole of a command that takes RUN and works on its model: parses argv (up to
 * max_positional positionals), prints usage for --help (exit 0) or no RUN (exit 2), runs f
 * through run_with_model, and turns an error into its line (exit 1). */
int run_model_command(int argc, char **argv, int max_positional, const char *usage,
                      int (*f)(clae_ctx *, clae_saved_model *, const clae_cli_opts *, clae_err *));
/* The image ref names (refs.c): a PNG file, [SPLIT:]INDEX or a sample's
 * name, into out (the model's input sample); what describes it. */
int run_image_ref(const clae_saved_model *s, clae_data *d, const char *ref, float *out, char *what,
                  size_t n, clae_err *err);
/* Samples first.. first + count - 1 of a dataset as floats in [0, 1], scaled as the device gathers
 * them. */
void run_dataset_floats(const clae_dataset *set, uint32_t first, uint32_t count, float *out);
/* n host images (model input samples) through the encoder into codes (n * code floats). */
int run_encode_images(clae_ctx *ctx, clae_model *m, const float *images, size_t n, float *codes);
/* The codes of split k's first n samples (the plain images, each once) into codes (n * code
 * floats) and, for a VAE when logvar is not NULL, its log-variances (as many); -1 with
 * ctx->err set. */
int run_encode_split(clae_ctx *ctx, clae_model *m, clae_data *d, clae_split_kind k, uint32_t n,
                     float *codes, float *logvar);
/* n host images through the whole autoencoder (no head) into out. */
int run_reconstruct_images(clae_ctx *ctx, clae_model *m, const float *images, size_t n, float *out);
/* n codes through the decoder into images (n * input floats). */
int run_decode_codes(clae_ctx *ctx, clae_model *m, const float *codes, size_t n, float *images);
/* A file beside path: path without its extension, then suffix ("_z.npy", ".csv"). */
void run_sibling(const char *path, const char *suffix, char *out, size_t n);
/* Pixels per image pixel in the pictures: 3 up to 32 rows, 2 up to 64, else 1. */
static inline int run_grid_scale(clae_shape s) { return s.h <= 32 ? 3 : s.h <= 64 ? 2 : 1; }
/* n images of shape s as a PNG grid, 8 a row, the last row filled with white. */
int run_write_images(const char *path, const float *images, size_t n, clae_shape s, clae_err *err);
/* RUN/SUB/NAME for a command's default output (the folder made), or o->out. */
int run_output(const clae_cli_opts *o, const char *sub, const char *name, char *path, size_t n,
               clae_err *err);

#endif
