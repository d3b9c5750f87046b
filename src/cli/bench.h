/* clae bench's measurements, shared with clae tune: GEMM at a shape, one 3x3
 * convolution, and a config's training step on synthetic data. */
#ifndef CLAE_CLI_BENCH_H
#define CLAE_CLI_BENCH_H

#include "clae/job.h"
#include "clae/nn.h"

typedef struct {
    double first_s, gflops;
    int reps;
} bench_gemm_result;

/* C = A B (NN) at m x n x k with the choice clae_gemm makes (ch NULL) or ch,
 * repeated for at least min_s seconds; checks the result. */
int bench_gemm(clae_ctx *ctx, const clae_gemm_choice *ch, size_t m, size_t n, size_t k,
               double min_s, bench_gemm_result *r);

typedef struct {
    char name[64];
    int batch;
    double step_s; /* seconds per training step */
    double images_per_s;
    double flops; /* per training step */
    double gflops;
    double loss; /* the objective's training loss over the timed steps */
} bench_workload_result;

/* A config's model trained for steps steps (after 3 warm-up steps) on a
 * synthetic batch: forward, loss, backward and optimizer, as clae train does. */
int bench_workload(clae_ctx *ctx, const char *config_path, int steps, bench_workload_result *r,
                   clae_err *err);

/* Adds the GEMM shapes of one training step of a config to ctx->gemm->seen. */
int bench_record_shapes(clae_ctx *ctx, const char *config_path, clae_err *err);

/* clae train's tuning without asking (tune.c): clae's own GEMM variants on the
 * shapes of one training step of config_path, within seconds, stored as clae
 * tune stores its results and applied to ctx at once. */
int tune_autotune(clae_ctx *ctx, const char *config_path, double seconds, clae_err *err);

/* NAME -> configs/NAME.ini; a path ending in .ini is used as given. */
int bench_resolve_config(const char *item, char *path, size_t len, clae_err *err);

/* A 3x3, stride 1, padding 1 convolution CxHxW -> COUT at batch 64, forward
 * and backward, with each algo (auto, im2col + GEMM, direct; printed). */
int bench_conv(clae_ctx *ctx, int c, int h, int w, int cout, clae_err *err);

/* Under mpirun: the allreduce of 4 KiB to 64 MiB over the job's ranks, and (bytes > 0) the
 * ring model's time for a gradient of bytes on 8 to 64 GPUs (bench_allreduce.c). */
int bench_allreduce(const clae_job *job, double bytes, clae_err *err);

#endif
