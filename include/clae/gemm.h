/* The GEMM engine of a context: which GEMM runs for which shape (CLBlast or
 * clae's own kernels, cl/gemm.cl), the tuning that decides it (clae tune's
 * file, tuning.c), and the own kernels' scratch buffers. Made after the
 * context (clae_gemm_open, or clae_device_open for both). */
#ifndef CLAE_GEMM_H
#define CLAE_GEMM_H

#include "clae/runtime.h"

/* How one GEMM runs: CLBlast, or clae's own packed-panel kernel (cl/gemm.cl)
 * with an MR x (NV * W) register tile and work-groups of `group` tiles. */
typedef enum { CLAE_GEMM_CLBLAST = 0, CLAE_GEMM_OWN } clae_gemm_engine;
typedef struct {
    clae_gemm_engine engine;
    int mr, nv, w, group;
} clae_gemm_choice;

/* A tuned choice for one shape ("NT 64x784x512": transposes, m x n x k). */
typedef struct {
    char shape[48];
    clae_gemm_choice choice;
} clae_gemm_tuned;

#define CLAE_MAX_TUNED 512
#define CLAE_MAX_CLBLAST_PARAMS 20
#define CLAE_MAX_CLBLAST_KERNELS \
    6 /* Xgemm, XgemmDirect and the copy/pad/transpose kernels around them */

/* One set of CLBlast kernel parameters (CLBlastOverrideParameters). */
typedef struct {
    char kernel[32]; /* "Xgemm", "XgemmDirect" */
    int n;
    char names[CLAE_MAX_CLBLAST_PARAMS][32];
    size_t values[CLAE_MAX_CLBLAST_PARAMS];
} clae_clblast_params;

typedef struct clae_gemm_state {
    clae_gemm_choice fallback; /* for shapes the tuning did not see */
    clae_gemm_tuned tuned[CLAE_MAX_TUNED];
    int n_tuned;
    bool forced; /* one engine forced (CLAE_GEMM): the fallback for every shape */
    clae_clblast_params
        clblast[CLAE_MAX_CLBLAST_KERNELS]; /* tuned CLBlast kernels, applied at context creation */
    int n_clblast;
    char source[1100]; /* "defaults" or the tuning file applied */
    cl_mem scratch;    /* packed panels of the own kernel */
    size_t scratch_bytes;
    cl_mem operand[2]; /* transient operands (clae_gemm_operand_buffer) */
    size_t operand_bytes[2];
    /* clae tune: shapes seen while recording (m, n, k, trans_a, trans_b) */
    bool recording;
    int n_seen;
    struct {
        size_t m, n, k;
        bool ta, tb;
    } seen[CLAE_MAX_TUNED];
} clae_gemm_state;

/* How the engine is chosen; the command line reads CLAE_GEMM and
 * CLAE_NO_TUNING into it once. */
typedef struct {
    const char *force; /* "clblast" or "own[:MRxNVxW[/GROUP]]" for every shape; NULL: per shape */
    bool no_tuning;    /* ignore clae tune's file: measure from the defaults */
} clae_gemm_opts;

/* Defaults (own kernels on CPU devices, CLBlast elsewhere), then the forced
 * engine or the device's tuning file. o may be NULL. */
int clae_gemm_open(clae_ctx *ctx, const clae_gemm_opts *o, clae_err *err);
void clae_gemm_close(clae_ctx *ctx);
/* The engine for shapes the tuning did not see. */
const clae_gemm_choice *clae_gemm_default(const clae_ctx *ctx);

typedef struct {
    clae_ctx_opts ctx;
    clae_gemm_opts gemm;
} clae_device_opts;

/* A context and its GEMM engine: what every command and test opens. */
int clae_device_open(clae_ctx *ctx, const clae_device_opts *o, clae_err *err);
void clae_device_close(clae_ctx *ctx);

/* clae tune's results (tuning.c), one file per device and driver in the cache:
 * its path, and loading it into ctx->gemm (clae_gemm_open does, unless an
 * engine is forced or no_tuning is set). A missing file is not an error; a
 * stale or broken one is ignored with a warning on stderr. */
void clae_tuning_path(const clae_device_info *d, char *out, size_t n);
int clae_tuning_load(clae_ctx *ctx);
/* Writes ctx->gemm's tuned table, fallback and CLBlast parameters atomically. */
int clae_tuning_save(const clae_ctx *ctx, const char *path, clae_err *err);
/* Hands a parameter set to CLBlast for ctx's device. */
int clae_clblast_apply(clae_ctx *ctx, const clae_clblast_params *p);

#endif
