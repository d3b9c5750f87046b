/* OpenCL runtime: platforms and devices, device choice, one context and
 * in-order queue per run, the kernel program (built once, cached on disk per
 * device, driver, source and options), and OpenCL error names. */
#ifndef CLAE_RUNTIME_H
#define CLAE_RUNTIME_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stdbool.h>
#include <stdio.h>

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001 /* cl_khr_icd: the ICD loader found no platform */
#endif

#include "clae/error.h"

typedef enum { CLAE_DEV_CPU, CLAE_DEV_GPU, CLAE_DEV_IGPU, CLAE_DEV_OTHER } clae_device_kind;

typedef struct {
    int platform_index, device_index; /* "P:D" as `clae devices` prints them */
    cl_platform_id platform;
    cl_device_id device;
    clae_device_kind kind; /* igpu = GPU with host-unified memory */
    char name[256], vendor[256], driver_version[128], device_version[128];
    char cl_c_version[128], platform_name[256], platform_version[256];
    cl_uint compute_units;
    cl_ulong global_mem, local_mem, max_alloc;
    size_t max_work_group;
    bool fp16, fp64;
} clae_device_info;

const char *clae_device_kind_name(clae_device_kind k);

/* Every device of every platform. *out is malloc'ed; free it. Zero devices is
 * not an error here; no platform at all is (the message names the package). */
int clae_list_devices(clae_device_info **out, int *count, clae_err *err);

/* spec: "cpu", "gpu", "igpu", "P:D", or a name substring (case-insensitive).
 * NULL or "" falls back to $CLAE_DEVICE, then to discrete GPU > iGPU > CPU. */
int clae_select_device(const char *spec, clae_device_info *out, clae_err *err);

typedef struct {
    char name[64];
    cl_kernel kernel;
} clae_kernel_entry;

typedef struct {
    char name[64];
    double seconds; /* device time from event timestamps */
    long count;
} clae_prof_entry;

#define CLAE_MAX_PROF 64

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
#define CLAE_MAX_CLBLAST_KERNELS 6 /* Xgemm, XgemmDirect and the copy/pad/transpose kernels around them */

/* One set of CLBlast kernel parameters (CLBlastOverrideParameters). */
typedef struct {
    char kernel[32]; /* "Xgemm", "XgemmDirect" */
    int n;
    char names[CLAE_MAX_CLBLAST_PARAMS][32];
    size_t values[CLAE_MAX_CLBLAST_PARAMS];
} clae_clblast_params;

typedef struct {
    clae_gemm_choice fallback;      /* for shapes the tuning did not see */
    clae_gemm_tuned tuned[CLAE_MAX_TUNED];
    int n_tuned;
    bool forced;                    /* $CLAE_GEMM set: fallback for every shape */
    clae_clblast_params clblast[CLAE_MAX_CLBLAST_KERNELS]; /* tuned CLBlast kernels, applied at context creation */
    int n_clblast;
    char source[1100];              /* "defaults" or the tuning file applied */
    cl_mem scratch;                 /* packed panels of the own kernel */
    size_t scratch_bytes;
    cl_mem operand[2];              /* transient operands (clae_gemm_operand_buffer) */
    size_t operand_bytes[2];
    /* clae tune: shapes seen while recording (m, n, k, trans_a, trans_b) */
    bool recording;
    int n_seen;
    struct { size_t m, n, k; bool ta, tb; } seen[CLAE_MAX_TUNED];
} clae_gemm_state;

typedef struct clae_ctx {
    clae_device_info dev;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    clae_kernel_entry *kernels;
    int n_kernels;
    char build_options[256];
    bool program_from_cache; /* true when the binary came from the disk cache */
    double program_seconds;  /* time to obtain the built program */
    char cache_path[1024];   /* where the program binary is cached ("" if none) */
    bool profiling;          /* CLAE_PROFILE=1: every command timed from its event (synchronously) */
    clae_prof_entry prof[CLAE_MAX_PROF];
    int n_prof;
    clae_gemm_state gemm;    /* which GEMM runs for which shape (src/ops/gemm.c) */
    clae_err err;            /* last error of any op run in this context */
} clae_ctx;

/* Chooses the device (see clae_select_device), creates context and queue and
 * builds (or loads from cache) the kernel program. */
int clae_ctx_create(clae_ctx *ctx, const char *device_spec, clae_err *err);
void clae_ctx_release(clae_ctx *ctx);

/* The kernel called name, or NULL with ctx->err set. */
cl_kernel clae_kernel(clae_ctx *ctx, const char *name);

/* $CLAE_CACHE_DIR/sub, else $XDG_CACHE_HOME/clae/sub, else ~/.cache/clae/sub; "" if none. */
void clae_cache_path(char *out, size_t n, const char *sub);

/* clae tune's results (tuning.c), one file per device and driver in the cache:
 * its path, and loading it into ctx->gemm (at context creation, unless
 * $CLAE_GEMM forces an engine or $CLAE_NO_TUNING is set). A missing file is
 * not an error; a stale or broken one is ignored with a warning on stderr. */
void clae_tuning_path(const clae_device_info *d, char *out, size_t n);
int clae_tuning_load(clae_ctx *ctx);
/* Writes ctx->gemm's tuned table, fallback and CLBlast parameters atomically. */
int clae_tuning_save(const clae_ctx *ctx, const char *path, clae_err *err);
/* Hands a parameter set to CLBlast for ctx's device. */
int clae_clblast_apply(clae_ctx *ctx, const clae_clblast_params *p);

/* Waits for the queue; reports an asynchronous failure by name. */
int clae_finish(clae_ctx *ctx);

/* Profile mode: waits for ev, adds its device time under name, releases it. */
void clae_profile_event(clae_ctx *ctx, const char *name, cl_event ev);
/* Time per kernel family, largest first; steps divides the totals (0: none). */
void clae_profile_print(clae_ctx *ctx, FILE *f, long steps);
void clae_profile_reset(clae_ctx *ctx);

const char *clae_cl_error_name(cl_int code);

/* Records a failed OpenCL call in ctx->err and returns -1. */
int clae_cl_fail(clae_ctx *ctx, cl_int code, const char *what);

#define CLAE_CL_TRY(ctx, call, what)                                      \
    do {                                                                  \
        cl_int clae_rc_ = (call);                                         \
        if (clae_rc_ != CL_SUCCESS) return clae_cl_fail((ctx), clae_rc_, (what)); \
    } while (0)

#endif
