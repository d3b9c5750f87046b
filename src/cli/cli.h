/* Shared by the subcommands: option parsing and the run directory layout. */
#ifndef CLAE_CLI_H
#define CLAE_CLI_H

#include <stdbool.h>

#include "clae/error.h"
#include "clae/gemm.h"

#define CLAE_MAX_SETS 64
#define CLAE_MAX_MORE 4096

typedef struct {
    const char *positional;  /* CONFIG or RUN */
    const char *device;      /* --device */
    const char *run_dir;     /* --run */
    const char *resume;      /* --resume */
    const char *json;        /* --json FILE (bench, tune) */
    const char *seconds;     /* --seconds S (tune's budget) */
    const char *steps;       /* --steps N (bench) */
    const char *split;       /* --split S (encode) */
    const char *n;           /* --n N (sample) */
    const char *temperature; /* --temperature T (sample) */
    const char *input, *baseline, *featured, *alpha, *attribute, *target; /* arith */
    bool slerp;                                                           /* interp --slerp */
    const char *noise;                      /* denoise --noise KIND:LEVEL */
    bool each;                              /* decode --each */
    bool logvar;                            /* encode --logvar (a VAE's log-variance too) */
    const char *method, *perplexity, *seed; /* latent-map */
    const char *score;                      /* anomaly --score */
    const char *report;                     /* train --report -|FILE: JSON lines */
    const char *devices;                    /* compare --devices all|LIST */
    const char *levels;                     /* compress, rd: --levels L[,L...] */
    const char *qualities;                  /* rd: --jpeg-q / --webp-q lists */
    bool resize;                            /* compress: resize images of another size */
    bool jpeg, webp;                        /* rd: measure these codecs too */
    bool peak;                              /* devices: measure each one's FMA peak */
    bool no_autotune;                       /* train: no tuning on an untuned device */
    const char *out;                        /* -o FILE, --out FILE (encode, decode) */
    const char *more[CLAE_MAX_MORE];        /* positionals after the first (clae_cli_parse_n) */
    int n_more;
    char *sets[CLAE_MAX_SETS];
    int n_sets;
    bool help, best, profile;
    bool dry_run;         /* sweep --dry-run */
    clae_device_opts dev; /* --device, --profile and the environment, read once by clae_cli_parse */
} clae_cli_opts;

/* --seconds and --steps as positive numbers (def when absent); -1 with err set otherwise. */
int clae_cli_number(const char *opt, const char *text, double def, double *out, clae_err *err);

/* Parses argv[first..]; errors name the option and what it takes. The
 * environment is read here, once: CLAE_GEMM (an engine for every shape),
 * CLAE_NO_TUNING, CLAE_PROFILE and CLAE_CL_OPTIONS go into o->dev. */
int clae_cli_parse(int argc, char **argv, int first, clae_cli_opts *o, clae_err *err);
/* The same taking up to max_positional positionals (the first in o->positional). */
int clae_cli_parse_n(int argc, char **argv, int first, int max_positional, clae_cli_opts *o,
                     clae_err *err);

int cmd_devices(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_interp(int argc, char **argv);
int cmd_recon(int argc, char **argv);
int cmd_weights(int argc, char **argv);
int cmd_denoise(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_arith(int argc, char **argv);
int cmd_latent_map(int argc, char **argv);
int cmd_anomaly(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_decompress(int argc, char **argv);
int cmd_rd(int argc, char **argv);

/* Prints "clae: <msg>" on stderr and returns the exit status 1. */
int clae_cli_error(const clae_err *err);

#endif
